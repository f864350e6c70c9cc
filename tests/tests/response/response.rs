//! Coordinated response end to end: the hub sends directives and tasks over the federation
//! stream, agents run them through their playbooks (real processes writing to a file the test
//! reads) and report back. Hub and agents run in-process over real mutual TLS, each with its
//! own sled store in a temp dir.

use socfed_proto::pb::{self, response_client::ResponseClient};
use socfed_tests::{clients, eventually, fixture::Org, pki::TestPki};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use tonic::transport::Channel;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n";

/// Playbooks that append their arguments, one line per run, to `log`.
fn playbooks(log: &Path, extra: &str) -> String {
    let log = log.display();
    format!(
        r#"[response]
{extra}
[[response.playbooks]]
kind = "block_indicator"
command = ["/bin/sh", "-c", 'echo "block $1 $2" >> "$0"', "{log}", "{{indicator}}", "{{directive_id}}"]
# The values are positional arguments of the fixed script, never part of it.
allow_shell_templates = true
[[response.playbooks]]
kind = "isolate_host"
command = ["/bin/sh", "-c", 'echo "isolate $1 $2" >> "$0"', "{log}", "{{host}}", "{{directive_id}}"]
allow_shell_templates = true
destructive = true
"#
    )
}

fn issue(
    incident: &str,
    site: &str,
    kind: &str,
    params: &[(&str, &str)],
) -> pb::IssueDirectiveRequest {
    pb::IssueDirectiveRequest {
        incident_id: incident.into(),
        sites: vec![site.into()],
        kind: kind.into(),
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        expires_in_s: 0,
    }
}

fn state(d: &pb::DirectiveStatus) -> pb::DirectiveState {
    pb::DirectiveState::try_from(d.state).unwrap_or(pb::DirectiveState::Unspecified)
}

/// Waits until the hub shows `id` in `wanted`.
async fn hub_state(
    client: &ResponseClient<Channel>,
    incident: &str,
    id: &str,
    wanted: pb::DirectiveState,
) -> anyhow::Result<pb::DirectiveStatus> {
    eventually(
        &format!("directive {id} to be {wanted:?} at the hub"),
        Duration::from_secs(20),
        || {
            let mut client = client.clone();
            let request = pb::ListDirectivesRequest {
                incident_id: incident.into(),
                ..Default::default()
            };
            async move {
                let list = client.list_directives(request).await.ok()?.into_inner();
                list.directives
                    .into_iter()
                    .find(|d| d.directive.as_ref().is_some_and(|w| w.directive_id == id))
                    .filter(|d| state(d) == wanted)
            }
        },
    )
    .await
}

fn id_of(list: pb::DirectiveList) -> anyhow::Result<String> {
    let first = list
        .directives
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no directive issued"))?;
    Ok(first.directive.unwrap_or_default().directive_id)
}

fn runs(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playbooks_run_allow_listed_actions_refuse_unknown_kinds_and_wait_for_approval()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let log = org.dir().join("actions.log");
    let agent = org.agent("paris", hub.addr, &playbooks(&log, "")).await?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "beaconing to C2")
        .await?;
    let ines = org.response(hub.addr, "ines")?;

    // An allow-listed command runs once, with its templated arguments.
    let block = id_of(
        ines.clone()
            .issue_directive(issue(
                &incident,
                "paris",
                "block_indicator",
                &[("indicator", "203.0.113.7")],
            ))
            .await?
            .into_inner(),
    )?;
    let done = hub_state(&ines, &incident, &block, pb::DirectiveState::Succeeded).await?;
    assert_eq!(done.exit_code, Some(0));
    assert_eq!(runs(&log), [format!("block 203.0.113.7 {block}")]);

    // A kind without a playbook is refused, and the hub hears why.
    let wipe = id_of(
        ines.clone()
            .issue_directive(issue(&incident, "paris", "wipe_disk", &[]))
            .await?
            .into_inner(),
    )?;
    let refused = hub_state(&ines, &incident, &wipe, pb::DirectiveState::Refused).await?;
    assert!(
        refused.detail.contains("no playbook for \"wipe_disk\""),
        "{}",
        refused.detail
    );

    // A parameter the playbook needs and the directive lacks refuses it too.
    let bare = id_of(
        ines.clone()
            .issue_directive(issue(&incident, "paris", "block_indicator", &[]))
            .await?
            .into_inner(),
    )?;
    let refused = hub_state(&ines, &incident, &bare, pb::DirectiveState::Refused).await?;
    assert!(
        refused.detail.contains("missing parameter \"indicator\""),
        "{}",
        refused.detail
    );

    // A destructive action waits for a local approval and runs only after it.
    let isolate = id_of(
        ines.clone()
            .issue_directive(issue(
                &incident,
                "paris",
                "isolate_host",
                &[("host", "ws-17")],
            ))
            .await?
            .into_inner(),
    )?;
    hub_state(
        &ines,
        &incident,
        &isolate,
        pb::DirectiveState::AwaitingApproval,
    )
    .await?;
    assert_eq!(runs(&log).len(), 1, "nothing ran before approval");
    let mut site = org.site_response(agent.local_addr, "tester")?;
    let approved = site
        .decide_directive(pb::DecideDirectiveRequest {
            directive_id: isolate.clone(),
            approve: true,
            reason: String::new(),
        })
        .await?
        .into_inner();
    assert!(
        approved
            .status
            .unwrap_or_default()
            .detail
            .contains("approved by tester")
    );
    hub_state(&ines, &incident, &isolate, pb::DirectiveState::Succeeded).await?;
    assert_eq!(runs(&log)[1], format!("isolate ws-17 {isolate}"));
    // Approving twice runs nothing more.
    let again = site
        .decide_directive(pb::DecideDirectiveRequest {
            directive_id: isolate.clone(),
            approve: true,
            reason: String::new(),
        })
        .await
        .expect_err("already ran");
    assert_eq!(again.code(), tonic::Code::InvalidArgument);
    assert_eq!(runs(&log).len(), 2);

    // Only the IR lead (or CISO) issues directives; the refusal names who may.
    let mut tom = org.response(hub.addr, "tom")?;
    let denied = tom
        .issue_directive(issue(
            &incident,
            "paris",
            "block_indicator",
            &[("indicator", "198.51.100.1")],
        ))
        .await
        .expect_err("a tier 1 analyst may not");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    assert!(denied.message().contains("IR lead"), "{}", denied.message());
    // Parameters that could become command-line options never reach a site.
    let injected = ines
        .clone()
        .issue_directive(issue(
            &incident,
            "paris",
            "block_indicator",
            &[("indicator", "--flush-all")],
        ))
        .await
        .expect_err("option-like value");
    assert_eq!(injected.code(), tonic::Code::InvalidArgument);

    // The results are in the incident's timeline.
    let mut op = org.operator(hub.addr, "ines")?;
    let record = op
        .get_incident(pb::GetIncidentRequest {
            id: incident.clone(),
        })
        .await?
        .into_inner();
    let timeline: Vec<String> = record.timeline.iter().map(|t| t.text.clone()).collect();
    assert!(
        timeline
            .iter()
            .any(|t| t.contains("directive block_indicator at paris: succeeded (exit 0)")),
        "{timeline:#?}"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_records_what_would_run_and_runs_nothing() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["lyon"], OPERATORS).await?;
    let log = org.dir().join("actions.log");
    let agent = org
        .agent("lyon", hub.addr, &playbooks(&log, "dry_run = true"))
        .await?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "phishing wave")
        .await?;
    let ines = org.response(hub.addr, "ines")?;
    let id = id_of(
        ines.clone()
            .issue_directive(issue(
                &incident,
                "lyon",
                "block_indicator",
                &[("indicator", "evil.example")],
            ))
            .await?
            .into_inner(),
    )?;
    let dry = hub_state(&ines, &incident, &id, pb::DirectiveState::DryRun).await?;
    assert!(
        dry.detail.contains("would run") && dry.detail.contains("evil.example"),
        "{}",
        dry.detail
    );
    assert!(!log.exists(), "a dry run must not run anything");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_site_gets_its_directives_on_reconnect_and_expired_ones_never_run()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["berlin"], OPERATORS).await?;
    let log = org.dir().join("actions.log");
    let config = playbooks(&log, "");
    let agent = org.agent("berlin", hub.addr, &config).await?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "ransomware note")
        .await?;
    agent.stop().await?;

    let ines = org.response(hub.addr, "ines")?;
    let lasting = id_of(
        ines.clone()
            .issue_directive(issue(
                &incident,
                "berlin",
                "block_indicator",
                &[("indicator", "192.0.2.10")],
            ))
            .await?
            .into_inner(),
    )?;
    let mut short = issue(
        &incident,
        "berlin",
        "block_indicator",
        &[("indicator", "192.0.2.99")],
    );
    short.expires_in_s = 1;
    let fleeting = id_of(ines.clone().issue_directive(short).await?.into_inner())?;
    hub_state(&ines, &incident, &lasting, pb::DirectiveState::Queued).await?;
    // The short one expires while the site is away.
    hub_state(&ines, &incident, &fleeting, pb::DirectiveState::Expired).await?;

    let agent = org.agent("berlin", hub.addr, &config).await?;
    hub_state(&ines, &incident, &lasting, pb::DirectiveState::Succeeded).await?;
    assert_eq!(runs(&log), [format!("block 192.0.2.10 {lasting}")]);
    let mut site = org.site_response(agent.local_addr, "tester")?;
    // The site records the expired one as expired, without running it, and says so: the hub
    // then holds a final state for it instead of an unconfirmed one.
    let expired = hub_state(&ines, &incident, &fleeting, pb::DirectiveState::Expired).await?;
    assert!(expired.detail.contains("expiry"), "{}", expired.detail);
    let held = site
        .get_directive(pb::GetSiteDirectiveRequest {
            directive_id: fleeting.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        held.status.map(|s| s.state),
        Some(pb::DirectiveState::Expired as i32)
    );
    assert_eq!(runs(&log).len(), 1, "the expired directive never ran");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_acknowledge_work_and_complete_tasks_and_overdue_ones_are_flagged()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "data exfiltration")
        .await?;
    let mut ines = org.response(hub.addr, "ines")?;
    let tasks = ines
        .assign_task(pb::AssignTaskRequest {
            incident_id: incident.clone(),
            sites: vec!["paris".into(), "lyon".into()],
            title: "collect proxy logs for the last 7 days".into(),
            details: "export to the evidence share".into(),
            due_in_s: 1,
        })
        .await?
        .into_inner()
        .directives;
    let by_site: HashMap<String, String> = tasks
        .iter()
        .map(|t| {
            (
                t.site_id.clone(),
                t.directive.clone().unwrap_or_default().directive_id,
            )
        })
        .collect();
    assert_eq!(by_site.len(), 2);
    for (site, agent) in [("paris", &paris), ("lyon", &lyon)] {
        hub_state(
            &ines,
            &incident,
            &by_site[site],
            pb::DirectiveState::Received,
        )
        .await?;
        let mut local = org.site_response(agent.local_addr, "alice")?;
        let listed = local
            .list_directives(pb::ListSiteDirectivesRequest {
                tasks_only: true,
                ..Default::default()
            })
            .await?
            .into_inner()
            .directives;
        assert_eq!(listed.len(), 1, "{site} sees its task");
    }
    let mut paris_local = org.site_response(paris.local_addr, "alice")?;
    for (step, note) in [
        (pb::work_task_request::Step::Acknowledge, ""),
        (pb::work_task_request::Step::Start, ""),
        (
            pb::work_task_request::Step::Complete,
            "logs exported: 14 GB",
        ),
    ] {
        paris_local
            .work_task(pb::WorkTaskRequest {
                directive_id: by_site["paris"].clone(),
                step: step as i32,
                note: note.into(),
            })
            .await?;
    }
    let done = hub_state(
        &ines,
        &incident,
        &by_site["paris"],
        pb::DirectiveState::Succeeded,
    )
    .await?;
    assert!(done.detail.contains("logs exported"), "{}", done.detail);
    assert_eq!(done.actor, "alice");
    assert!(!done.overdue);
    // Lyon never started: past its due time it shows as overdue.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let lyon_task = ines
        .list_directives(pb::ListDirectivesRequest {
            incident_id: incident.clone(),
            site_id: "lyon".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .directives;
    assert!(
        lyon_task.len() == 1 && lyon_task[0].overdue,
        "{lyon_task:?}"
    );
    paris.stop().await?;
    lyon.stop().await?;
    hub.stop().await?;
    Ok(())
}

/// The relink directives `site` holds, as (hub incident now, detail).
async fn relinks(
    agent: std::net::SocketAddr,
    pki: &TestPki,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut site = clients::site_response(agent, &pki.operator("tester")?, &pki.domain)?;
    Ok(site
        .list_directives(pb::ListSiteDirectivesRequest::default())
        .await?
        .into_inner()
        .directives
        .into_iter()
        .filter_map(|d| {
            let wire = d.directive?;
            (wire.kind == "incident_relinked")
                .then(|| (wire.incident_id, d.status.unwrap_or_default().detail))
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_are_told_the_new_hub_incident_after_a_merge_and_a_split() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    let first = org
        .raise_at_site(paris.local_addr, hub.addr, "wiper at Paris")
        .await?;
    let second = org
        .raise_at_site(lyon.local_addr, hub.addr, "wiper at Lyon")
        .await?;
    assert_ne!(first, second);
    let mut op = org.operator(hub.addr, "ines")?;
    op.merge_incidents(pb::MergeIncidentsRequest {
        survivor_id: first.clone(),
        other_id: second.clone(),
        reason: "same wiper hash".into(),
    })
    .await?;
    let seen = eventually("lyon to hear of the merge", Duration::from_secs(20), || {
        let org = &org;
        async move {
            let found = relinks(lyon.local_addr, &org.pki).await.ok()?;
            (found.len() == 1).then_some(found)
        }
    })
    .await?;
    assert_eq!(seen[0].0, first);
    assert!(
        seen[0].1.contains(&second) && seen[0].1.contains("same wiper hash"),
        "{}",
        seen[0].1
    );
    assert!(
        relinks(paris.local_addr, &org.pki).await?.is_empty(),
        "paris's incident id did not change"
    );

    let split = op
        .split_sighting(pb::SplitSightingRequest {
            id: first.clone(),
            site_id: "lyon".into(),
            reason: "different wiper after all".into(),
        })
        .await?
        .into_inner();
    eventually("lyon to hear of the split", Duration::from_secs(20), || {
        let org = &org;
        let split = split.id.clone();
        async move {
            let found = relinks(lyon.local_addr, &org.pki).await.ok()?;
            found.iter().any(|(now, _)| *now == split).then_some(())
        }
    })
    .await?;
    paris.stop().await?;
    lyon.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_playbooks_post_their_templated_body_and_sites_cannot_report_for_others()
-> anyhow::Result<()> {
    use socfed_proto::pb::{hub_message, site_message};
    let org = Org::new()?;
    let (sink, hook) = socfed_tests::sink::Sink::start().await?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let playbook = format!(
        "[response]\n[[response.playbooks]]\nkind = \"disable_account\"\nwebhook = \"http://{hook}/hook/iam\"\nbody = {{ account = \"{{account}}\", ticket = \"{{directive_id}}\", tags = [\"socfed\", \"{{site}}\"] }}\n"
    );
    let paris = org.agent("paris", hub.addr, &playbook).await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "account takeover")
        .await?;
    let ines = org.response(hub.addr, "ines")?;
    let id = id_of(
        ines.clone()
            .issue_directive(issue(
                &incident,
                "paris",
                "disable_account",
                &[("account", "j.doe")],
            ))
            .await?
            .into_inner(),
    )?;
    let done = hub_state(&ines, &incident, &id, pb::DirectiveState::Succeeded).await?;
    assert!(done.detail.contains("HTTP 200"), "{}", done.detail);
    assert_eq!(
        sink.received(),
        [serde_json::json!({"account": "j.doe", "ticket": id, "tags": ["socfed", "paris"]})]
    );

    // Lyon, on its own authenticated stream, claims paris's open task is done: ignored.
    let task = ines
        .clone()
        .assign_task(pb::AssignTaskRequest {
            incident_id: incident.clone(),
            sites: vec!["paris".into()],
            title: "reset j.doe's MFA".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let task_id = id_of(task)?;
    hub_state(&ines, &incident, &task_id, pb::DirectiveState::Received).await?;
    let channel = org.site_channel(hub.addr, "lyon")?;
    let (mut lyon, _) =
        clients::RawStream::open_welcomed(channel, clients::hello("lyon", ulid::Ulid::new(), 1))
            .await?;
    lyon.tx
        .send(pb::SiteMessage {
            body: Some(site_message::Body::DirectiveUpdate(pb::DirectiveUpdate {
                directive_id: task_id.clone(),
                state: pb::DirectiveState::Succeeded as i32,
                detail: "forged".into(),
                ..Default::default()
            })),
        })
        .await?;
    // The stream stays usable (a bad report does not close it); the writer handles items in
    // order, so once this escalation is acknowledged the forged report was processed.
    lyon.send(1, clients::report("l-1", "unrelated")).await?;
    lyon.ack_through(1).await?;
    let after = hub_state(&ines, &incident, &task_id, pb::DirectiveState::Received).await?;
    assert_ne!(after.detail, "forged");
    // Lyon never receives paris's directives.
    let leaked = tokio::time::timeout(Duration::from_millis(300), lyon.inbound.message()).await;
    assert!(
        !matches!(
            leaked,
            Ok(Ok(Some(pb::HubMessage {
                body: Some(hub_message::Body::Directive(_))
            })))
        ),
        "{leaked:?}"
    );
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directives_issued_concurrently_all_reach_a_connected_site_without_a_reconnect()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "worm")
        .await?;
    let ines = org.response(hub.addr, "ines")?;
    // Ids are minted by concurrent handlers and commit in no particular order.
    let calls = (0..40).map(|n| {
        let mut ines = ines.clone();
        let incident = incident.clone();
        async move {
            ines.assign_task(pb::AssignTaskRequest {
                incident_id: incident,
                sites: vec!["paris".into()],
                title: format!("check host {n}"),
                ..Default::default()
            })
            .await
        }
    });
    for reply in futures_util::future::join_all(calls).await {
        reply?;
    }
    eventually(
        "all 40 tasks received at paris",
        Duration::from_secs(20),
        || {
            let mut ines = ines.clone();
            let incident = incident.clone();
            async move {
                let list = ines
                    .list_directives(pb::ListDirectivesRequest {
                        incident_id: incident,
                        ..Default::default()
                    })
                    .await
                    .ok()?
                    .into_inner()
                    .directives;
                (list.len() == 40
                    && list
                        .iter()
                        .all(|d| state(d) == pb::DirectiveState::Received))
                .then_some(())
            }
        },
    )
    .await?;
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
