//! Outbound event webhooks from a site: an HTTPS receiver (a certificate of the test PKI, its
//! CA given to the sink as a corporate CA) checks every signature and the auth header read
//! from a secret file, fails the first deliveries (HTTP 500, a stall past the sink's
//! timeout), and sees each subscribed event taken once, in order, across a restart of the
//! agent; an event that cannot be delivered within `max_age` is given up and audited, and the
//! next one follows; SLA breaches are sent and kinds the sink does not take are not.

use site_agent::service::ManualClock;
use site_agent::store::schema::{TreeId, decode};
use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
use socfed_runtime::audit::AuditEntry;
use socfed_runtime::tls::{ExpectedServer, TlsFiles};
use socfed_tests::webhook_receiver::{Answer, Receiver};
use socfed_tests::{clients, eventually, fixture::Org, free_port, pki::TestPki};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Channel;

const SECRET: &str = "6f1c2d3e4a5b69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const AUTH: &str = "Bearer siem-token-7c1d";

/// The agent's config with one sink: `unassigned-critical` and `sla-breach` to `receiver`.
fn sink_config(
    dir: &Path,
    pki: &TestPki,
    receiver: &Receiver,
    max_age: &str,
) -> anyhow::Result<String> {
    let secret = dir.join("siem-hmac");
    let auth = dir.join("siem-auth");
    // Editors end files with a newline: it is not part of the secret.
    std::fs::write(&secret, format!("{SECRET}\n"))?;
    std::fs::write(&auth, format!("{AUTH}\n"))?;
    Ok(format!(
        "[[webhooks]]\nname = \"siem\"\nurl = \"{}\"\nevents = [\"unassigned-critical\", \"sla-breach\"]\n\
         secret_file = {secret:?}\nca_file = {:?}\nheaders = {{ Authorization = {auth:?} }}\n\
         timeout = \"500ms\"\nmax_age = \"{max_age}\"\nbackoff_initial = \"50ms\"\nbackoff_max = \"200ms\"\n",
        receiver.url(),
        pki.ca(),
    ))
}

/// A PKI, a receiver answering `script` first, and the agent config of a sink to it whose
/// events expire after `max_age`; the hub address has nothing listening (a site works without
/// its hub).
async fn scene(
    script: Vec<Answer>,
    max_age: &str,
) -> anyhow::Result<(Org, Receiver, String, SocketAddr)> {
    let org = Org::new()?;
    let receiver = Receiver::start(&org.pki.hub(), SECRET.as_bytes(), AUTH, script).await?;
    let extra = sink_config(org.tmp.path(), &org.pki, &receiver, max_age)?;
    let hub: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    Ok((org, receiver, extra, hub))
}

async fn start_agent(
    dir: &Path,
    pki: &TestPki,
    hub: SocketAddr,
    extra: &str,
) -> anyhow::Result<site_agent::app::RunningAgent> {
    socfed_tests::inproc::agent(dir, pki, "paris", hub, extra).await
}

fn soc(pki: &TestPki, agent: SocketAddr) -> anyhow::Result<SiteSocClient<Channel>> {
    let files: TlsFiles = pki.operator("tester")?;
    Ok(SiteSocClient::new(clients::channel(
        agent,
        &files,
        &pki.domain,
        ExpectedServer::AnySite,
    )?))
}

/// Submits one alert a rule (nobody is on shift: each opens an unassigned group).
async fn alerts(client: &mut SiteSocClient<Channel>, rules: &[(&str, &str)]) -> anyhow::Result<()> {
    let lines = rules
        .iter()
        .enumerate()
        .map(|(i, (rule, severity))| pb::RawLine {
            line_no: i as u64 + 1,
            text: format!(
                r#"{{"observed_at": "2026-03-02T09:58:00Z", "product": "EDR", "rule_id": "{rule}", "rule_name": "rule {rule}", "severity": "{severity}", "hosts": ["host-{rule}"]}}"#
            ),
        })
        .collect();
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines,
    };
    let summary = client
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner();
    anyhow::ensure!(summary.accepted == rules.len() as u64, "{summary:?}");
    Ok(())
}

/// The ids of the notifications that are `unassigned-critical` events, oldest first.
async fn expected_ids(client: &mut SiteSocClient<Channel>) -> anyhow::Result<Vec<String>> {
    let notes = client
        .list_notifications(pb::ListNotificationsRequest { limit: 1000 })
        .await?
        .into_inner()
        .notifications;
    let mut ids = Vec::new();
    for note in notes.iter().filter(|n| n.kind == "unassigned") {
        let group = client
            .get_alert(pb::GetAlertRequest {
                id: note.alert_group_id.clone(),
            })
            .await?
            .into_inner();
        if group.severity == pb::Severity::Critical as i32 {
            ids.push(note.id.clone());
        }
    }
    ids.sort();
    Ok(ids)
}

#[tokio::test]
async fn each_event_is_taken_once_in_order_through_failures_a_timeout_and_a_restart()
-> anyhow::Result<()> {
    let (org, receiver, extra, hub) = scene(
        vec![
            Answer::Status(500),
            Answer::Status(500),
            Answer::Stall(Duration::from_secs(2)),
            Answer::Status(502),
        ],
        "1h",
    )
    .await?;
    let (dir, pki) = (org.tmp.path(), &org.pki);
    let agent = start_agent(dir, pki, hub, &extra).await?;
    let mut client = soc(pki, agent.local_addr)?;
    alerts(
        &mut client,
        &[
            ("c1", "critical"),
            ("h1", "high"),
            ("c2", "critical"),
            ("m1", "medium"),
            ("c3", "critical"),
        ],
    )
    .await?;
    // The third attempt is stalled past the sink's timeout: stop the agent there, with
    // nothing delivered yet.
    eventually("three attempts", Duration::from_secs(20), || async {
        (receiver.attempts() >= 3).then_some(())
    })
    .await?;
    agent.stop().await?;
    assert!(
        receiver.taken_ids().is_empty(),
        "{:?}",
        receiver.taken_ids()
    );

    let agent = start_agent(dir, pki, hub, &extra).await?;
    let mut client = soc(pki, agent.local_addr)?;
    eventually("the first event taken", Duration::from_secs(20), || async {
        (!receiver.taken_ids().is_empty()).then_some(())
    })
    .await?;
    alerts(
        &mut client,
        &[("c4", "critical"), ("h2", "high"), ("c5", "critical")],
    )
    .await?;
    let expected = expected_ids(&mut client).await?;
    assert_eq!(
        expected.len(),
        5,
        "five critical groups, five notifications"
    );
    eventually("every event taken", Duration::from_secs(30), || async {
        (receiver.taken_ids().len() >= expected.len()).then_some(())
    })
    .await?;
    // Each id once, in the order the notifications were made; nothing else (the high and
    // medium groups are not subscribed), and every delivery verified.
    assert_eq!(receiver.taken_ids(), expected);
    assert_eq!(receiver.refused(), Vec::<String>::new());
    assert!(
        receiver.attempts() >= 5 + 4,
        "retries: {}",
        receiver.attempts()
    );
    for (id, body) in receiver.taken() {
        assert_eq!(body["kind"], "unassigned-critical", "{body}");
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["data"]["site"], "paris");
        assert_eq!(body["data"]["group"]["severity"], "critical", "{body}");
    }
    agent.stop().await?;
    Ok(())
}

#[tokio::test]
async fn an_event_not_delivered_within_max_age_is_given_up_audited_and_the_next_follows()
-> anyhow::Result<()> {
    // Refused long enough for the first event to reach its max_age (1 s) and be given up.
    let (org, receiver, extra, hub) = scene(vec![Answer::Status(503); 200], "1s").await?;
    let (dir, pki) = (org.tmp.path(), &org.pki);
    let agent = start_agent(dir, pki, hub, &extra).await?;
    let mut client = soc(pki, agent.local_addr)?;
    alerts(&mut client, &[("lost", "critical")]).await?;
    let first = expected_ids(&mut client).await?;
    let audit = agent
        .store
        .raw_tree("audit")
        .ok_or_else(|| anyhow::anyhow!("no audit tree"))?
        .clone();
    let gave_up = eventually("the give-up audited", Duration::from_secs(20), || {
        let audit = audit.clone();
        async move {
            audit
                .iter()
                .values()
                .filter_map(|v| v.ok())
                .filter_map(|v| decode::<AuditEntry>(TreeId::Audit, &v).ok())
                .find(|e| e.draft.action == "webhook.gave-up")
        }
    })
    .await?;
    assert_eq!(gave_up.draft.actor, "webhook");
    assert_eq!(gave_up.draft.target, "webhook siem");
    let before = gave_up.draft.before.clone().unwrap_or_default();
    assert!(before.contains(&first[0]), "{before}");
    let after = gave_up.draft.after.clone().unwrap_or_default();
    assert!(after.contains("HTTP 503"), "{after}");

    // The receiver takes events again: the next one arrives, the given-up one never does.
    receiver.clear_script();
    alerts(&mut client, &[("next", "critical")]).await?;
    let all = expected_ids(&mut client).await?;
    let next = all
        .iter()
        .find(|id| **id != first[0])
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no second event"))?;
    eventually("the next event taken", Duration::from_secs(60), || async {
        (!receiver.taken_ids().is_empty()).then_some(())
    })
    .await?;
    assert_eq!(receiver.taken_ids(), vec![next]);
    agent.stop().await?;
    Ok(())
}

#[tokio::test]
async fn config_check_reads_the_sink_files_and_a_missing_one_is_a_configuration_error()
-> anyhow::Result<()> {
    let (org, receiver, extra, hub) = scene(Vec::new(), "1h").await?;
    let (dir, pki) = (org.tmp.path(), &org.pki);
    let listen: SocketAddr = "127.0.0.1:0".parse()?;
    let config = socfed_tests::procs::write_agent_config(dir, pki, "paris", hub, listen, &extra)?;
    let check = |config: &Path| -> anyhow::Result<std::process::Output> {
        Ok(
            std::process::Command::new(socfed_tests::procs::binary("site-agent")?)
                .args(["config", "check", &config.display().to_string()])
                .output()?,
        )
    };
    let fine = check(&config)?;
    assert!(fine.status.success(), "{fine:?}");
    std::fs::remove_file(dir.join("siem-auth"))?;
    let missing = check(&config)?;
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("[[webhooks]]") && stderr.contains("siem-auth"),
        "{stderr}"
    );
    // The secret's value is never shown, only the file's name.
    assert!(!stderr.contains(AUTH), "{stderr}");
    drop(receiver);
    Ok(())
}

#[tokio::test]
async fn sla_breaches_are_sent_and_kinds_the_sink_does_not_take_are_not() -> anyhow::Result<()> {
    let (org, receiver, extra, hub) = scene(Vec::new(), "1h").await?;
    let (dir, pki) = (org.tmp.path(), &org.pki);
    let listen: SocketAddr = "127.0.0.1:0".parse()?;
    let config = socfed_tests::procs::write_agent_config(dir, pki, "paris", hub, listen, &extra)?;
    let clock = Arc::new(ManualClock::new(socfed_proto::now_millis()));
    let agent = site_agent::app::start_with_clock(
        site_agent::config::AgentConfig::load(&config)?,
        clock.clone(),
    )
    .await?;
    let mut client = soc(pki, agent.local_addr)?;
    // A medium group: its "unassigned" notification is not a kind the sink takes.
    alerts(&mut client, &[("slow", "medium")]).await?;
    clock.advance(Duration::from_secs(2 * 86_400));
    anyhow::ensure!(!agent.soc.sla_tick()?.is_empty(), "no breach");
    let notes = client
        .list_notifications(pb::ListNotificationsRequest { limit: 100 })
        .await?
        .into_inner()
        .notifications;
    let mut breaches: Vec<String> = notes
        .iter()
        .filter(|n| n.kind == "sla-breach")
        .map(|n| n.id.clone())
        .collect();
    breaches.sort();
    assert!(!breaches.is_empty(), "{notes:?}");
    assert!(notes.iter().any(|n| n.kind == "unassigned"), "{notes:?}");
    eventually("the breaches taken", Duration::from_secs(20), || async {
        (receiver.taken_ids().len() >= breaches.len()).then_some(())
    })
    .await?;
    assert_eq!(receiver.taken_ids(), breaches);
    for (_, body) in receiver.taken() {
        assert_eq!(body["kind"], "sla-breach", "{body}");
        assert_eq!(body["data"]["group"]["title"], "rule slow", "{body}");
    }
    agent.stop().await?;
    Ok(())
}
