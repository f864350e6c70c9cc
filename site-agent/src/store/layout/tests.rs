//! The agent store's layout snapshot: a small scenario through the real SOC service, the
//! `SiteLocal` use case, the directive engine and the store (intake of alerts, triage, a local
//! incident escalated to the outbox, an incident raised by hand, a task directive, a hub
//! state), then the whole store rendered and compared with `snapshot.txt`.
//!
//! A failure means the stored layout changed: bump `SCHEMA_VERSION` in `store/schema.rs`
//! (with an upgrade step in `store/upgrade.rs` for stores already written), then rewrite the
//! snapshot with `SOCFED_BLESS=1 cargo test -p site-agent --lib store::layout` and commit both.

use crate::response::{ResponseConfig, ResponseEngine};
use crate::service::link::RaiseIncident;
use crate::service::{Actor, Clock, ManualClock, SocService, SocSettings};
use crate::soc::alert::{Format, ParseLimits};
use crate::soc::incident::EscalationPolicy;
use crate::soc::roster::Analyst;
use crate::soc::sla::SlaPolicy;
use crate::soc::triage::Action;
use crate::soc::{Role, Tier};
use crate::store::cap::OnFull;
use crate::store::{AgentStore, Durability, GroupFilter};
use socfed_proto::pb;
use socfed_proto::vocab::{HubPhase, IncidentState, ReportLimits, SiteId};
use socfed_runtime::store_kit::snapshot;
use std::path::Path;
use std::sync::Arc;

const START_MS: i64 = 1_700_000_000_000;

fn alert(rule: &str, host: &str, at_ms: i64, id: &str) -> String {
    format!(
        r#"{{"id":"{id}","observed_at":{at_ms},"product":"edr","rule_id":"{rule}","severity":"high","hosts":["{host}"],"users":["alice"],"indicators":["domain:c2.bad.example"]}}"#
    )
}

fn service(store: Arc<AgentStore>, clock: Arc<ManualClock>) -> anyhow::Result<SocService> {
    Ok(SocService {
        store,
        settings: SocSettings {
            site: SiteId::parse("site-a")?,
            sla: SlaPolicy::default(),
            // Nothing escalates by itself: the scenario escalates by hand.
            escalation: EscalationPolicy {
                min_severity: None,
                min_hosts: None,
                decision_tier: None,
            },
            aggregation_window_ms: 600_000,
            duplicate_window_ms: 86_400_000,
            parse_limits: ParseLimits::default(),
            report_limits: ReportLimits::default(),
            outbox_cap: 100,
            on_full: OnFull::RefuseNew,
            managers: vec!["mona".into()],
            rotation: None,
        },
        clock,
        group_tap: None,
        console_refusals: Default::default(),
        revoked: Default::default(),
    })
}

/// Runs the scenario; every write goes through the service layer or the store's own API.
fn scenario(store: &Arc<AgentStore>) -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START_MS));
    let soc = Arc::new(service(store.clone(), clock.clone())?);
    store.rebuild_sla_agenda_if_changed(&soc.settings.sla)?;
    let manager = Actor {
        name: "mona".into(),
        role: Role::SocManager,
        cert: "spiffe://example.org/operator/mona (sha256:00)".into(),
    };
    soc.add_analyst(
        &manager,
        Analyst {
            name: "ana".into(),
            display_name: "Ana".into(),
            role: Role::Analyst(Tier::T2),
            shifts: Vec::new(),
        },
    )?;
    // Two rules, and one alert sent twice (a duplicate of its source event).
    let lines: Vec<(u64, String)> = [
        alert("EDR-17", "ws-014", START_MS - 60_000, "evt-1"),
        alert("EDR-17", "ws-014", START_MS - 30_000, "evt-2"),
        alert("EDR-17", "ws-014", START_MS - 30_000, "evt-2"),
        alert("NET-4", "fw-1", START_MS - 10_000, "evt-3"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, line)| (i as u64 + 1, line))
    .collect();
    let intake = soc.submit(&manager, Format::Native, &lines)?;
    anyhow::ensure!(intake.rejected == 0, "{:?}", intake.rejections);
    let open = soc.list_groups(
        &manager,
        &GroupFilter {
            limit: 10,
            ..GroupFilter::default()
        },
    )?;
    let edr = open
        .iter()
        .find(|g| g.rule_id == "EDR-17")
        .ok_or_else(|| anyhow::anyhow!("no EDR group"))?;
    let net = open
        .iter()
        .find(|g| g.rule_id == "NET-4")
        .ok_or_else(|| anyhow::anyhow!("no NET group"))?;
    clock.advance(std::time::Duration::from_secs(60));
    soc.act(&manager, edr.id, Action::Acknowledge)?;
    soc.act(
        &manager,
        edr.id,
        Action::Assign {
            analyst: "ana".into(),
        },
    )?;
    let incident = soc.promote(&manager, &[net.id], Some("Beacon from fw-1".into()))?;
    soc.escalate_incident(&manager, &incident.id)?;
    // The raise goes through the raise committer, as the `SiteLocal` service sends it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (link, task) = crate::service::incidents_tests::link_service(&soc);
        link.raise_incident(
            manager.clone(),
            RaiseIncident {
                request_id: "req-1".into(),
                title: "Phishing wave".into(),
                severity: pb::Severity::Medium as i32,
                tlp: pb::Tlp::Green as i32,
                rule_id: "manual".into(),
                ..RaiseIncident::default()
            },
        )
        .await?;
        drop(link);
        task.await?;
        anyhow::Ok(())
    })?;
    store.record_hub_states(
        vec![IncidentState {
            seq: 1,
            local_incident_id: incident.id.clone(),
            hub_incident: ulid::Ulid::new(),
            phase: HubPhase::Triage,
            resolution: String::new(),
            ir_lead: Some("ines".into()),
            updated_at_ms: START_MS,
        }],
        clock.now_ms(),
    )?;
    let (engine, _updates) = ResponseEngine::new(
        store.clone(),
        ResponseConfig::default(),
        soc.settings.site.clone(),
        clock.clone(),
    );
    engine.receive(pb::Directive {
        directive_id: ulid::Ulid::new().to_string(),
        incident_id: ulid::Ulid::new().to_string(),
        kind: crate::response::KIND_TASK.into(),
        params: [("title".to_string(), "Collect proxy logs".to_string())].into(),
        issued_at_ms: START_MS,
        expires_at_ms: 0,
        issued_by: "ines".into(),
    });
    anyhow::ensure!(store.directives(10, |_| true)?.len() == 1, "directive kept");
    // An API token for a log shipper (schema 9), then one revoked.
    let scopes = [socfed_runtime::api_token::Scope::Intake];
    soc.create_api_token(&manager, "0a", "vector-paris", &scopes, 30 * 86_400_000)?;
    let old = soc.create_api_token(&manager, "0a", "old-shipper", &scopes, 86_400_000)?;
    soc.revoke_api_token(&manager, old.record.id)?;
    // A console sign-in: one link exchanged for a session, one link left unused.
    let peer = socfed_proto::identity::PeerIdentity {
        identity: socfed_proto::identity::Identity::Operator("mona".into()),
        uri: "spiffe://example.org/operator/mona".into(),
        not_after_ms: START_MS + 86_400_000,
        fingerprint: "00".into(),
        serial: "0a".into(),
    };
    let (link, _) = soc.issue_console_link(&manager, &peer)?;
    drop(soc.issue_console_link(&manager, &peer)?);
    let session = socfed_runtime::web::session::Secret::from_bytes([9; 32]);
    soc.console_sign_in(link.key(), session.key(), 3_600_000)?
        .map_err(|r| anyhow::anyhow!("{r:?}"))?;
    Ok(())
}

#[test]
fn the_stored_layout_is_the_committed_snapshot() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(AgentStore::open(
        dir.path(),
        Durability::Flush,
        8 << 20,
        socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
    )?);
    scenario(&store)?;
    let actual = store.layout()?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/layout/snapshot.txt");
    // The failure says what changed and how to bless it (see the module docs).
    snapshot::check(
        &path,
        &actual,
        "site-agent/src/store/schema.rs (SCHEMA_VERSION)",
        "cargo test -p site-agent --lib store::layout",
    )
    .map_err(anyhow::Error::msg)?;
    Ok(())
}
