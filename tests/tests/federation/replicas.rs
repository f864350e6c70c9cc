//! Two hub replicas over one PostgreSQL schema, in this process through the same `app::start`
//! as the binary: one store (what one replica stores the other serves), directives issued at
//! one replica delivered by the replica that holds the site's stream (woken through the
//! database), a roster change at one replica enforced at the other at once, and the newest
//! stream of a site winning across replicas. The process-level fault tests (replicas killed,
//! the database restarted) are in `tests/tests/faults/`.

use socfed_proto::pb;
use socfed_tests::fixture::Org;
use socfed_tests::{eventually, inproc};
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"root\"\nrole = \"admin\"\n[[operators]]\nname = \"marc\"\nrole = \"ir-lead\"\n";

/// The `[store]` table of a replica on `db`'s schema (the URL in a file, as in production).
fn store_section(org: &Org, db: &socfed_tests::postgres::TestDatabase) -> anyhow::Result<String> {
    let url_file = org.dir().join("database-url");
    std::fs::write(&url_file, format!("{}\n", db.url()))?;
    let ca = db
        .ca_file()
        .map(|ca| format!("ca_file = {:?}\n", ca))
        .unwrap_or_default();
    Ok(format!(
        "[store]\nkind = \"postgres\"\nurl_file = {:?}\nschema = \"{}\"\n{ca}",
        url_file,
        db.schema()
    ))
}

async fn replica(org: &Org, name: &str, extra: &str) -> anyhow::Result<sirt_hub::app::RunningHub> {
    let dir = org.dir().join(name);
    std::fs::create_dir_all(&dir)?;
    inproc::hub(&dir, &org.pki, &["paris"], extra).await
}

/// Replicas A and B on a fresh schema of the test database (`None`: no test database, skipped
/// unless `SOCFED_REQUIRE_PG=1`). The database handle drops the schema when the test ends.
async fn two_replicas() -> anyhow::Result<
    Option<(
        socfed_tests::postgres::TestDatabase,
        Org,
        sirt_hub::app::RunningHub,
        sirt_hub::app::RunningHub,
    )>,
> {
    let Some(db) = socfed_tests::postgres::test_database() else {
        return Ok(None);
    };
    let org = Org::new()?;
    let extra = format!("{}{OPERATORS}", store_section(&org, &db)?);
    let a = replica(&org, "a", &extra).await?;
    let b = replica(&org, "b", &extra).await?;
    Ok(Some((db, org, a, b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_one_store_and_wake_each_other_through_the_database() -> anyhow::Result<()> {
    let Some((_db, org, a, b)) = two_replicas().await? else {
        return Ok(());
    };

    // The site streams to replica A only.
    let log = org.dir().join("actions.log");
    let playbook = format!(
        "[response]\n[[response.playbooks]]\nkind = \"collect_evidence\"\ncommand = [\"/bin/sh\", \"-c\", 'echo \"$1\" >> \"$0\"', \"{}\", \"{{directive_id}}\"]\n",
        log.display()
    );
    let paris = org.agent("paris", a.addr, &playbook).await?;
    // An operator watching at B sees what A stores.
    let mut watch_b = org
        .operator(b.addr, "ines")?
        .watch_incidents(pb::WatchIncidentsRequest {})
        .await?
        .into_inner();
    let incident = org
        .raise_at_site(paris.local_addr, a.addr, "credential phishing")
        .await?;
    let watched = tokio::time::timeout(Duration::from_secs(10), watch_b.message())
        .await
        .map_err(|_| anyhow::anyhow!("no incident event at B within 10 s"))??
        .and_then(|event| event.incident)
        .map(|i| i.id);
    assert_eq!(
        watched,
        Some(incident.clone()),
        "B's watcher sees A's new incident"
    );

    // What A stored, B serves.
    let mut ines_b = org.operator(b.addr, "ines")?;
    let seen = ines_b
        .get_incident(pb::GetIncidentRequest {
            id: incident.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        seen.id, incident,
        "replica B reads the incident replica A stored"
    );

    // A directive issued at B: the site's stream is at A, which is woken through the
    // database, sends it, and records the site's report; B sees the final state.
    let issued = org
        .response(b.addr, "ines")?
        .issue_directive(pb::IssueDirectiveRequest {
            incident_id: incident.clone(),
            sites: vec!["paris".into()],
            kind: "collect_evidence".into(),
            params: [("item".to_string(), "mailbox".to_string())].into(),
            expires_in_s: 0,
        })
        .await?
        .into_inner();
    let directive = issued
        .directives
        .into_iter()
        .find_map(|d| d.directive.map(|w| w.directive_id))
        .ok_or_else(|| anyhow::anyhow!("no directive issued"))?;
    let response_b = org.response(b.addr, "ines")?;
    eventually(
        "the directive issued at B to run at the site streaming to A and report",
        Duration::from_secs(30),
        || {
            let mut response_b = response_b.clone();
            let incident = incident.clone();
            let directive = directive.clone();
            async move {
                let list = response_b
                    .list_directives(pb::ListDirectivesRequest {
                        incident_id: incident,
                        ..Default::default()
                    })
                    .await
                    .ok()?
                    .into_inner()
                    .directives;
                list.into_iter().find(|d| {
                    d.directive.as_ref().map(|w| w.directive_id.as_str()) == Some(&directive)
                        && socfed_proto::vocab::DirectiveState::from_wire(d.state)
                            == Some(socfed_proto::vocab::DirectiveState::Succeeded)
                })
            }
        },
    )
    .await?;
    let ran = std::fs::read_to_string(&log)?;
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        vec![directive.as_str()],
        "ran once"
    );

    // A roster change at B applies at A on the next call: marc, an IR lead, becomes tier 1.
    let marc_at_a = org.response(a.addr, "marc")?;
    let directive_by_marc = || {
        let mut marc = marc_at_a.clone();
        let incident = incident.clone();
        async move {
            marc.issue_directive(pb::IssueDirectiveRequest {
                incident_id: incident,
                sites: vec!["paris".into()],
                kind: "collect_evidence".into(),
                params: [("item".to_string(), "browser".to_string())].into(),
                expires_in_s: 0,
            })
            .await
            .map(|_| ())
        }
    };
    directive_by_marc().await?;
    let out = org
        .hub_cli(b.addr, "root")?
        .run(&["operators", "add", "marc", "--role", "tier1"])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = eventually(
        "replica A to enforce the role set at B",
        Duration::from_secs(10),
        || {
            let directive_by_marc = &directive_by_marc;
            async move { directive_by_marc().await.err() }
        },
    )
    .await?;
    assert_eq!(refused.code(), tonic::Code::PermissionDenied, "{refused}");

    paris.stop().await?;
    a.stop().await?;
    b.stop().await?;
    Ok(())
}

/// The stream of `site` on `open` ended (not merely quiet for the wait).
async fn assert_ended(open: &mut socfed_tests::clients::RawStream, why: &str) {
    let ended = open.next_ack().await.expect_err(why);
    assert_ne!(
        ended.code(),
        tonic::Code::DeadlineExceeded,
        "{why}: still open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_stream_wins_across_replicas_and_a_removal_at_one_ends_the_stream_at_the_other()
-> anyhow::Result<()> {
    use socfed_tests::clients::{RawStream, hello};
    let Some((_db, org, a, b)) = two_replicas().await? else {
        return Ok(());
    };
    let epoch = ulid::Ulid::new();

    // paris streams to A, then opens a newer stream at B: A's ends.
    let (mut at_a, _) =
        RawStream::open_welcomed(org.site_channel(a.addr, "paris")?, hello("paris", epoch, 1))
            .await?;
    let (mut at_b, _) =
        RawStream::open_welcomed(org.site_channel(b.addr, "paris")?, hello("paris", epoch, 1))
            .await?;
    assert_ended(&mut at_a, "the older stream, at the other replica").await;

    // Back to A: B's ends in turn.
    let (mut again_at_a, _) =
        RawStream::open_welcomed(org.site_channel(a.addr, "paris")?, hello("paris", epoch, 1))
            .await?;
    assert_ended(&mut at_b, "the older stream, at B").await;

    // The site is removed at B while its stream is at A: A ends it.
    org.hub_cli(b.addr, "root")?
        .ok(&["sites", "remove", "paris"])?;
    assert_ended(
        &mut again_at_a,
        "the removed site's stream at the other replica",
    )
    .await;
    a.stop().await?;
    b.stop().await?;
    Ok(())
}
