//! The local SOC at a site, end to end over the real API: roles, triage, SLA clocks with a
//! manual clock (no sleeping), the audit chain, restarts, and an alert burst that becomes a
//! hub incident.

use site_agent::service::ManualClock;
use site_agent::wire::{ALERT_STATUSES, ROLES, VERDICTS};
use socfed_proto::pb::{self, act_on_alert_request::Action as Act, site_soc_client::SiteSocClient};
use socfed_runtime::tls::{ExpectedServer, TlsFiles};
use socfed_tests::{clients, eventually, fixture::Org, pki::TestPki};
use std::sync::Arc;
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;

/// Monday 2026-03-02 10:00 UTC: a working day, inside the day shifts used below.
const MONDAY_10_UTC: i64 = 1_772_445_600_000;

struct Site {
    tmp: tempfile::TempDir,
    pki: TestPki,
    hub: sirt_hub::app::RunningHub,
    agent: Option<site_agent::app::RunningAgent>,
    clock: Arc<ManualClock>,
}

const SOC_CONFIG: &str = "[soc]\nmanagers = [\"carol\"]\nsla_check_interval = \"1h\"\n[soc.escalation]\nmin_severity = \"critical\"\ndecision_tier = 3\n\
[soc.rotation]\nmembers = [\"ann\", \"bob\"]\nperiod_days = 7\nstarts_on = \"2026-03-02\"\ntz = \"UTC\"\nsirt_seats = 1\n";

impl Site {
    async fn start() -> anyhow::Result<Self> {
        let org = Org::new()?;
        let hub = org.hub(&["paris"], "").await?;
        let clock = Arc::new(ManualClock::new(MONDAY_10_UTC));
        let mut site = Self {
            tmp: org.tmp,
            pki: org.pki,
            hub,
            agent: None,
            clock,
        };
        site.start_agent().await?;
        Ok(site)
    }

    async fn start_agent(&mut self) -> anyhow::Result<()> {
        let listen = "127.0.0.1:0".parse()?;
        let path = socfed_tests::procs::write_agent_config(
            self.tmp.path(),
            &self.pki,
            "paris",
            self.hub.addr,
            listen,
            SOC_CONFIG,
        )?;
        let config = site_agent::config::AgentConfig::load(&path)?;
        self.agent = Some(site_agent::app::start_with_clock(config, self.clock.clone()).await?);
        Ok(())
    }

    fn agent(&self) -> &site_agent::app::RunningAgent {
        self.agent.as_ref().expect("agent running")
    }

    fn soc_as(&self, operator: &str) -> anyhow::Result<SiteSocClient<Channel>> {
        let files: TlsFiles = self.pki.operator(operator)?;
        Ok(SiteSocClient::new(clients::channel(
            self.agent().local_addr,
            &files,
            &self.pki.domain,
            ExpectedServer::AnySite,
        )?))
    }

    async fn add(&self, name: &str, role: &str, shifts: &[&str]) -> anyhow::Result<()> {
        let analyst = pb::Analyst {
            legacy_role: String::new(),
            name: name.into(),
            display_name: String::new(),
            role: ROLES
                .to_wire(role.parse().map_err(anyhow::Error::msg)?)
                .into(),
            shifts: shifts.iter().map(|s| s.to_string()).collect(),
        };
        self.soc_as("carol")?
            .add_analyst(pb::AddAnalystRequest {
                analyst: Some(analyst),
            })
            .await?;
        Ok(())
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(agent) = self.agent.take() {
            agent.stop().await?;
        }
        self.hub.stop().await?;
        Ok(())
    }
}

fn native(rule: &str, host: &str, severity: &str, extra: &str) -> String {
    format!(
        r#"{{"observed_at": "2026-03-02T09:58:00Z", "product": "EDR", "rule_id": "{rule}", "rule_name": "rule {rule}", "severity": "{severity}", "hosts": ["{host}"]{extra}}}"#
    )
}

async fn submit(
    client: &mut SiteSocClient<Channel>,
    lines: Vec<String>,
) -> Result<pb::IntakeSummary, tonic::Status> {
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: lines
            .into_iter()
            .enumerate()
            .map(|(i, text)| pb::RawLine {
                line_no: i as u64 + 1,
                text,
            })
            .collect(),
    };
    Ok(client
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner())
}

async fn act(
    client: &mut SiteSocClient<Channel>,
    id: &str,
    action: Act,
) -> Result<pb::AlertGroup, tonic::Status> {
    Ok(client
        .act_on_alert(pb::ActOnAlertRequest {
            id: id.into(),
            action: Some(action),
        })
        .await?
        .into_inner())
}

#[tokio::test]
async fn roles_decide_who_may_do_what_and_refusals_name_the_role_needed() -> anyhow::Result<()> {
    let site = Site::start().await?;
    site.add("ann", "tier1", &["mon-sun 00:00-24:00 UTC"])
        .await?;
    site.add("sam", "sensor", &[]).await?;

    // An operator of the organisation who is not on this site's roster.
    let status = site
        .soc_as("stranger")?
        .list_alerts(pb::ListAlertsRequest::default())
        .await
        .expect_err("not in roster");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("roster add stranger"),
        "{}",
        status.message()
    );

    // Only the SOC manager edits the roster.
    let status = site
        .soc_as("ann")?
        .remove_analyst(pb::RemoveAnalystRequest { name: "sam".into() })
        .await
        .expect_err("tier 1 edits roster");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("SOC manager"),
        "{}",
        status.message()
    );

    // A sensor submits alerts but cannot triage them.
    let summary = submit(
        &mut site.soc_as("sam")?,
        vec![native("R1", "ws-1", "high", "")],
    )
    .await?;
    assert_eq!(summary.accepted, 1);
    let status = site
        .soc_as("sam")?
        .list_alerts(pb::ListAlertsRequest::default())
        .await
        .expect_err("sensor reads queue");
    assert_eq!(status.code(), Code::PermissionDenied);

    // Tier 1 cannot close a case that climbed to tier 3.
    let group = site
        .soc_as("ann")?
        .list_alerts(pb::ListAlertsRequest::default())
        .await?
        .into_inner()
        .groups
        .remove(0);
    assert_eq!(
        group.assignee, "ann",
        "new groups go round-robin to tier 1 on shift"
    );
    let mut carol = site.soc_as("carol")?;
    act(&mut carol, &group.id, Act::Escalate(pb::Empty {})).await?;
    let at_tier3 = act(&mut carol, &group.id, Act::Escalate(pb::Empty {})).await?;
    assert_eq!(at_tier3.tier, 3);
    let status = act(
        &mut site.soc_as("ann")?,
        &group.id,
        Act::Close(pb::Verdict::FalsePositive.into()),
    )
    .await
    .expect_err("tier 1 closes tier 3");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("tier 3 analyst or above"),
        "{}",
        status.message()
    );
    let closed = act(
        &mut carol,
        &group.id,
        Act::Close(pb::Verdict::FalsePositive.into()),
    )
    .await?;
    assert_eq!(
        (
            ALERT_STATUSES.show(closed.status).as_str(),
            VERDICTS.show(closed.verdict).as_str()
        ),
        ("closed", "false-positive")
    );
    // Removing an analyst hands back their open groups (nobody else on shift: unassigned).
    submit(
        &mut site.soc_as("sam")?,
        vec![native("R2", "ws-2", "low", "")],
    )
    .await?;
    let mine = carol
        .list_alerts(pb::ListAlertsRequest {
            assignee: "ann".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .groups;
    assert_eq!(mine.len(), 1);
    carol
        .remove_analyst(pb::RemoveAnalystRequest { name: "ann".into() })
        .await?;
    let after = carol
        .get_alert(pb::GetAlertRequest {
            id: mine[0].id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(after.assignee, "");
    // The original record, read back from the agent's sample journal (outside the record).
    assert_eq!(after.sample_raw, native("R2", "ws-2", "low", ""));
    assert_eq!(mine[0].sample_raw, after.sample_raw);
    assert!(
        carol
            .list_alerts(pb::ListAlertsRequest {
                assignee: "ann".into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .groups
            .is_empty()
    );
    site.stop().await
}

#[tokio::test]
async fn an_sla_breach_climbs_the_ladder_notifies_the_manager_and_finally_reaches_the_hub()
-> anyhow::Result<()> {
    let site = Site::start().await?;
    site.add("ann", "tier1", &["mon-fri 08:00-18:00 UTC"])
        .await?;
    site.add("bob", "tier2", &["mon-fri 08:00-18:00 UTC"])
        .await?;
    let mut carol = site.soc_as("carol")?;
    let extra = r#", "techniques": ["T1486"], "indicators": ["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]"#;
    submit(
        &mut carol,
        vec![native("RANSOM-1", "fs-01", "critical", extra)],
    )
    .await?;
    let group = carol
        .list_alerts(pb::ListAlertsRequest::default())
        .await?
        .into_inner()
        .groups
        .remove(0);
    assert_eq!(
        (
            group.tier,
            group.assignee.as_str(),
            group.sla_clock.as_str()
        ),
        (1, "ann", "acknowledge")
    );
    assert_eq!(
        group.sla_due_ms,
        MONDAY_10_UTC + 15 * 60_000,
        "critical: acknowledge within 15 minutes"
    );

    let soc = site.agent().soc.clone();
    site.clock.advance(Duration::from_secs(14 * 60 + 59));
    assert!(soc.sla_tick()?.is_empty(), "not breached one second early");
    site.clock.advance(Duration::from_secs(1));
    assert_eq!(soc.sla_tick()?.len(), 1);
    let group = carol
        .get_alert(pb::GetAlertRequest {
            id: group.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        (
            group.tier,
            ALERT_STATUSES.show(group.status).as_str(),
            group.assignee.as_str()
        ),
        (2, "new", "bob"),
        "tier 2 on shift takes it"
    );
    let notes = carol
        .list_notifications(pb::ListNotificationsRequest::default())
        .await?
        .into_inner()
        .notifications;
    assert!(
        notes
            .iter()
            .any(|n| n.kind == "sla-breach" && n.alert_group_id == group.id),
        "{notes:?}"
    );

    // Nobody answers at tier 2; tiers 3 and 4 have nobody on shift, so the ladder does not
    // wait a window at each: the breach at tier 2 goes straight to the SIRT.
    site.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        soc.sla_tick()?.len(),
        1,
        "the breach at tier 2 skips the empty tiers 3 and 4 and goes to the SIRT"
    );
    let notes = carol
        .list_notifications(pb::ListNotificationsRequest::default())
        .await?
        .into_inner()
        .notifications;
    assert!(
        notes
            .iter()
            .any(|n| n.kind == "sla-breach" && n.message.contains("nobody of tier 3")),
        "{notes:?}"
    );
    let g = carol
        .get_alert(pb::GetAlertRequest {
            id: group.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(ALERT_STATUSES.show(g.status), "promoted");
    let incident = carol
        .get_local_incident(pb::GetLocalIncidentRequest {
            id: g.incident_id.clone(),
        })
        .await?
        .into_inner();
    assert!(incident.escalated && incident.revision == 1, "{incident:?}");

    let mut op = clients::operator(
        site.hub.addr,
        &site.pki.operator("auditor")?,
        &site.pki.domain,
    )?;
    let hub_incident = eventually("the incident at the hub", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move {
            clients::all_incidents(&mut op)
                .await
                .ok()?
                .into_iter()
                .next()
        }
    })
    .await?;
    assert_eq!(hub_incident.techniques, ["T1486"]);
    assert_eq!(
        hub_incident.sightings[0].local_incident_ids,
        std::slice::from_ref(&incident.id)
    );
    assert_eq!(hub_incident.severity, pb::Severity::Critical as i32);
    let _ = &mut op;
    site.stop().await
}

#[tokio::test]
async fn an_alert_burst_becomes_one_group_then_an_incident_at_the_hub_with_its_indicators()
-> anyhow::Result<()> {
    let site = Site::start().await?;
    site.add("tina", "tier3", &["mon-sun 00:00-24:00 UTC"])
        .await?;
    let mut carol = site.soc_as("carol")?;
    let lines: Vec<String> = (0..40)
        .map(|i| {
            let extra = format!(r#", "techniques": ["T1071.001"], "ips": ["198.51.100.{}"], "indicators": ["domain:c2.bad.example", "ip:203.0.113.9"]"#, 10 + i % 2);
            native("BEACON-7", "ws-42", "high", &extra)
        })
        .chain(std::iter::once("{not json".to_string()))
        .collect();
    let summary = submit(&mut carol, lines).await?;
    assert_eq!(
        (summary.accepted, summary.aggregated, summary.rejected),
        (2, 38, 1),
        "two IP variants make two groups; one bad line"
    );
    assert_eq!(summary.rejections[0].line_no, 41);

    let groups = carol
        .list_alerts(pb::ListAlertsRequest::default())
        .await?
        .into_inner()
        .groups;
    assert_eq!(
        groups.iter().map(|g| g.count).sum::<u64>(),
        40,
        "nothing dropped without being counted"
    );
    let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    // The by-indicator index (for hunts) finds both groups; an unseen indicator finds none.
    let mut hunted: Vec<String> = site
        .agent()
        .store
        .groups_with_indicator("domain:c2.bad.example")?
        .iter()
        .map(|u| u.to_string())
        .collect();
    hunted.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(hunted, expected);
    assert!(
        site.agent()
            .store
            .groups_with_indicator("domain:elsewhere.example")?
            .is_empty()
    );
    // A tier 3 analyst promotes: the policy escalates tier 3 decisions to the hub.
    let incident = site
        .soc_as("tina")?
        .promote_alerts(pb::PromoteAlertsRequest {
            alert_group_ids: ids,
            title: "Beaconing to c2.bad.example".into(),
        })
        .await?
        .into_inner();
    assert!(incident.escalated, "{incident:?}");
    assert!(
        incident.escalation_reason.contains("tier 3"),
        "{}",
        incident.escalation_reason
    );

    let mut op = clients::operator(
        site.hub.addr,
        &site.pki.operator("auditor")?,
        &site.pki.domain,
    )?;
    let hub_incident = eventually("the incident at the hub", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move {
            clients::all_incidents(&mut op)
                .await
                .ok()?
                .into_iter()
                .next()
        }
    })
    .await?;
    assert_eq!(hub_incident.title, "Beaconing to c2.bad.example");
    assert_eq!(hub_incident.techniques, ["T1071.001"]);
    let indicators: Vec<String> = hub_incident
        .indicators
        .iter()
        .map(|i| i.value.clone())
        .collect();
    assert_eq!(indicators, ["203.0.113.9", "c2.bad.example"]);

    // An owner outside the site roster is refused, naming what to do.
    let stranger = carol
        .update_local_incident(pb::UpdateLocalIncidentRequest {
            legacy_status: String::new(),
            id: incident.id.clone(),
            status: pb::LocalStatus::Unspecified.into(),
            owner: "mallory".into(),
        })
        .await
        .expect_err("an owner outside the roster");
    assert_eq!(stranger.code(), tonic::Code::InvalidArgument);
    assert!(
        stranger.message().contains("not in this site's roster"),
        "{}",
        stranger.message()
    );

    // A client older than the status enum sends the status as a word in its old field: refused
    // with a way out, not taken as "unchanged" (which would leave the incident open while the
    // analyst believes it closed).
    let older = carol
        .update_local_incident(pb::UpdateLocalIncidentRequest {
            legacy_status: "closed".into(),
            id: incident.id.clone(),
            status: pb::LocalStatus::Unspecified.into(),
            owner: String::new(),
        })
        .await
        .expect_err("a status sent as a word");
    assert_eq!(older.code(), tonic::Code::InvalidArgument);
    assert!(
        older.message().contains("upgrade the client"),
        "{}",
        older.message()
    );
    let listed = carol
        .list_alerts(pb::ListAlertsRequest {
            legacy_status: "all".into(),
            ..Default::default()
        })
        .await
        .expect_err("a status filter sent as a word");
    assert_eq!(listed.code(), tonic::Code::InvalidArgument);

    // A later change to the escalated incident reaches the hub as a revision of the same one.
    carol
        .update_local_incident(pb::UpdateLocalIncidentRequest {
            legacy_status: String::new(),
            id: incident.id.clone(),
            status: pb::LocalStatus::Contained.into(),
            owner: String::new(),
        })
        .await?;
    eventually("revision 2 at the hub", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move {
            let all = clients::all_incidents(&mut op).await.ok()?;
            (all.len() == 1 && all[0].sightings[0].revision == 2).then_some(())
        }
    })
    .await?;
    let _ = &mut op;
    site.stop().await
}

#[tokio::test]
async fn the_audit_chain_detects_an_edited_entry_and_state_survives_a_restart() -> anyhow::Result<()>
{
    let mut site = Site::start().await?;
    site.add("ann", "tier1", &["mon-sun 00:00-24:00 UTC"])
        .await?;
    let mut carol = site.soc_as("carol")?;
    submit(&mut carol, vec![native("R9", "db-1", "medium", "")]).await?;
    let group = carol
        .list_alerts(pb::ListAlertsRequest::default())
        .await?
        .into_inner()
        .groups
        .remove(0);
    act(
        &mut site.soc_as("ann")?,
        &group.id,
        Act::Acknowledge(pb::Empty {}),
    )
    .await?;
    act(
        &mut site.soc_as("ann")?,
        &group.id,
        Act::Comment("looks like the nightly backup".into()),
    )
    .await?;
    let report = carol
        .verify_audit(pb::VerifyAuditRequest {})
        .await?
        .into_inner();
    assert!(report.intact && report.entries == 4, "{report:?}");

    // State survives an agent restart on the same store.
    let agent = site.agent.take().expect("running");
    agent.stop().await?;
    site.start_agent().await?;
    let mut carol = site.soc_as("carol")?;
    let again = carol
        .get_alert(pb::GetAlertRequest {
            id: group.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        (
            ALERT_STATUSES.show(again.status).as_str(),
            again.comments.len()
        ),
        ("acknowledged", 1)
    );
    assert_eq!(
        carol
            .list_roster(pb::ListRosterRequest {})
            .await?
            .into_inner()
            .analysts
            .len(),
        1
    );
    assert!(
        carol
            .verify_audit(pb::VerifyAuditRequest {})
            .await?
            .into_inner()
            .intact
    );

    // Someone edits the third entry (ann's acknowledgement) on disk: verification names it.
    let audit = site.agent().store.raw_tree("audit").expect("audit tree");
    let key = 3u64.to_be_bytes();
    let mut bytes = audit.get(key)?.expect("entry 3").to_vec();
    let pos = bytes
        .windows(3)
        .position(|w| w == b"ann")
        .expect("actor name in the entry");
    bytes[pos..pos + 3].copy_from_slice(b"eve");
    audit.insert(key, bytes)?;
    let report = carol
        .verify_audit(pb::VerifyAuditRequest {})
        .await?
        .into_inner();
    assert!(!report.intact);
    assert!(report.problem.contains("entry 3"), "{}", report.problem);
    site.stop().await
}

#[tokio::test]
async fn shifts_now_shows_who_is_on_duty_the_coverage_gaps_and_the_rotation() -> anyhow::Result<()>
{
    let site = Site::start().await?;
    site.add("ann", "tier1", &["mon-fri 08:00-18:00 UTC"])
        .await?;
    site.add("bob", "tier1", &["mon-fri 17:00-01:00 Europe/Paris"])
        .await?;
    let view = site
        .soc_as("carol")?
        .shifts_now(pb::ShiftsNowRequest { horizon_hours: 24 })
        .await?
        .into_inner();
    let tier1 = view
        .tiers
        .iter()
        .find(|t| t.tier == 1)
        .expect("tier 1 listed");
    assert_eq!(
        tier1.on_shift,
        ["ann"],
        "Monday 10:00 UTC: only ann's day shift"
    );
    // Bob covers 16:00-00:00 UTC (Paris is UTC+1 in March before the change), ann until 18:00:
    // the only gap in the next 24 h is 00:00-08:00 UTC on Tuesday.
    let hour = 3_600_000;
    let gaps: Vec<(i64, i64)> = tier1.gaps.iter().map(|g| (g.from_ms, g.to_ms)).collect();
    assert_eq!(
        gaps,
        [(MONDAY_10_UTC + 14 * hour, MONDAY_10_UTC + 22 * hour)]
    );
    let tier3 = view
        .tiers
        .iter()
        .find(|t| t.tier == 3)
        .expect("tier 3 listed");
    assert_eq!(
        tier3.gaps.len(),
        1,
        "nobody at tier 3: the whole horizon is one gap"
    );
    let duty = |list: &[pb::DutyAssignment], who: &str| {
        list.iter().find(|d| d.name == who).map(|d| d.duty.clone())
    };
    assert_eq!(duty(&view.duty_now, "ann").as_deref(), Some("sirt-duty"));
    assert_eq!(
        duty(&view.duty_now, "bob").as_deref(),
        Some("tier1-monitoring")
    );
    assert_eq!(duty(&view.duty_next, "bob").as_deref(), Some("sirt-duty"));
    assert_eq!(
        view.duty_changes_at_ms,
        MONDAY_10_UTC - 10 * hour + 7 * 24 * hour
    );
    site.stop().await
}

#[tokio::test]
async fn a_full_outbox_never_costs_alerts_and_deferred_revisions_go_out_once_the_hub_is_back()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: std::net::SocketAddr =
        format!("127.0.0.1:{}", socfed_tests::free_port()?).parse()?;
    let clock = Arc::new(ManualClock::new(MONDAY_10_UTC));
    let listen = "127.0.0.1:0".parse()?;
    let extra = format!("{SOC_CONFIG}[outbox]\nmax_entries = 1\n");
    let path = socfed_tests::procs::write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub_addr,
        listen,
        &extra,
    )?;
    let agent =
        site_agent::app::start_with_clock(site_agent::config::AgentConfig::load(&path)?, clock)
            .await?;
    let soc = |name: &str| -> anyhow::Result<SiteSocClient<Channel>> {
        Ok(SiteSocClient::new(clients::channel(
            agent.local_addr,
            &org.pki.operator(name)?,
            &org.pki.domain,
            ExpectedServer::AnySite,
        )?))
    };
    let mut carol = soc("carol")?;
    carol
        .add_analyst(pb::AddAnalystRequest {
            analyst: Some(pb::Analyst {
                legacy_role: String::new(),
                name: "tina".into(),
                display_name: String::new(),
                role: pb::SiteRole::Tier3.into(),
                shifts: vec![],
            }),
        })
        .await?;
    // The hub is down; one escalation fills the outbox.
    let mut local = org.local(agent.local_addr, "carol")?;
    local
        .raise_incident(pb::RaiseIncidentRequest {
            title: "first".into(),
            severity: pb::Severity::High as i32,
            ..Default::default()
        })
        .await?;
    submit(
        &mut carol,
        vec![native(
            "C2",
            "ws-9",
            "high",
            r#", "indicators": ["domain:a.bad.example"]"#,
        )],
    )
    .await?;
    let group = carol
        .list_alerts(pb::ListAlertsRequest::default())
        .await?
        .into_inner()
        .groups
        .remove(0);
    // A tier 3 promotion is escalated by policy; the outbox is full, so it waits.
    let incident = soc("tina")?
        .promote_alerts(pb::PromoteAlertsRequest {
            alert_group_ids: vec![group.id.clone()],
            title: String::new(),
        })
        .await?
        .into_inner();
    assert!(incident.escalated && incident.revision == 0, "{incident:?}");
    // A repeat with a new indicator plus five new alerts: the whole batch is stored.
    let mut lines = vec![native(
        "C2",
        "ws-9",
        "high",
        r#", "indicators": ["domain:b.bad.example"]"#,
    )];
    lines.extend((0..5).map(|i| native("OTHER", &format!("h-{i}"), "low", "")));
    let summary = submit(&mut carol, lines).await?;
    assert_eq!(
        (summary.accepted, summary.aggregated, summary.rejected),
        (5, 1, 0)
    );

    // The hub comes back: the first escalation drains, then the SLA tick sends the deferred one.
    let hub = org.hub_on(hub_addr, &["paris"], "").await?;
    let op = org.operator(hub_addr, "auditor")?;
    eventually(
        "the first escalation at the hub",
        Duration::from_secs(20),
        || {
            let mut op = op.clone();
            async move { (clients::all_incidents(&mut op).await.ok()?.len() == 1).then_some(()) }
        },
    )
    .await?;
    eventually("the outbox drained", Duration::from_secs(20), || async {
        (agent.store.outbox_len() == 0).then_some(())
    })
    .await?;
    agent.soc.sla_tick()?;
    let hub_incident = eventually(
        "the deferred escalation at the hub",
        Duration::from_secs(20),
        || {
            let mut op = op.clone();
            let id = incident.id.clone();
            async move {
                clients::all_incidents(&mut op)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|i| i.sightings[0].local_incident_ids.contains(&id))
            }
        },
    )
    .await?;
    let indicators: Vec<String> = hub_incident
        .indicators
        .iter()
        .map(|i| i.value.clone())
        .collect();
    assert_eq!(
        indicators,
        ["a.bad.example", "b.bad.example"],
        "the deferred revision carries what arrived meanwhile"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
