//! The hub store's layout snapshot: a small scenario through the hub's writer items
//! (`ingest::apply`, what the single writer runs, at fixed times): two sites say hello and
//! escalate local incidents that correlate into one hub incident, an operator is added to the
//! roster, the incident goes to triage, a task is issued to one site and a communication is
//! drafted; then the whole store rendered and compared with `snapshot.txt`.
//!
//! A failure means the stored layout changed: bump `SCHEMA_VERSION` in `store/schema.rs`
//! (with an upgrade step in `store/upgrade.rs` for stores already written), then rewrite the
//! snapshot with `SOCFED_BLESS=1 cargo test -p sirt-hub --lib store::layout` and commit both.

use crate::comms::{Audience, CommRecord};
use crate::ingest::apply::{
    CommEdit, CommsChange, EnrolmentAction, EnrolmentChange, EscalationOutcome, Issue, Item,
    Offered, Outcome, RosterChange, Transition,
};
use crate::lifecycle::{Command, HubRole, Tier};
use crate::response::order::TaskOrder;
use crate::store::{Durability, HubStore};
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};
use socfed_runtime::store_kit::snapshot;
use std::path::Path;
use ulid::Ulid;

const NOW: i64 = 1_700_000_000_000;
/// The correlation window of the scenario's batches.
const WINDOW_MS: i64 = 3_600_000;

fn site(name: &str) -> anyhow::Result<SiteId> {
    Ok(SiteId::parse(name)?)
}

fn hello(name: &str) -> anyhow::Result<Item> {
    Ok(Item::Hello {
        site: site(name)?,
        epoch: Ulid::from_parts(1, 1),
        next_seq: 1,
        cert_not_after_ms: NOW + 86_400_000,
    })
}

/// A local incident of `name` seen beaconing to the scenario's one domain.
fn escalation(name: &str, local: &str) -> anyhow::Result<Item> {
    let wire = pb::IncidentReport {
        local_incident_id: local.into(),
        revision: 1,
        title: format!("Beacon seen at {name}"),
        severity: pb::Severity::High as i32,
        tlp: pb::Tlp::Amber as i32,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: "c2.bad.example".into(),
        }],
        rule_id: "NET-4".into(),
        observed_at_ms: NOW - 60_000,
        local_owner: "mona".into(),
        ..Default::default()
    };
    Ok(Item::Escalation {
        site: site(name)?,
        epoch: Ulid::from_parts(1, 1),
        seq: 1,
        dropped_before: 0,
        enqueued_at_ms: NOW - 30_000,
        offered: Offered::Valid(IncidentReport::from_wire(wire, &ReportLimits::default())?),
    })
}

fn applied(store: &HubStore, item: Item, at_ms: i64) -> anyhow::Result<Outcome> {
    let mut applied = crate::ingest::apply::apply(store, &[item], at_ms, WINDOW_MS)?;
    anyhow::ensure!(applied.outcomes.len() == 1, "one outcome per item");
    Ok(applied.outcomes.remove(0))
}

/// The incident an escalation was applied to.
fn stored_in(outcome: Outcome) -> anyhow::Result<Ulid> {
    match outcome {
        Outcome::Escalation {
            outcome: EscalationOutcome::Applied { incident },
            ..
        } => Ok(incident),
        other => anyhow::bail!("not applied: {other:?}"),
    }
}

/// Runs the scenario; every write goes through the writer items (`ingest::apply`).
fn scenario(store: &HubStore) -> anyhow::Result<()> {
    applied(store, hello("paris")?, NOW)?;
    applied(store, hello("berlin")?, NOW)?;
    let paris = stored_in(applied(store, escalation("paris", "INC-P1")?, NOW)?)?;
    let berlin = stored_in(applied(
        store,
        escalation("berlin", "INC-B7")?,
        NOW + 1_000,
    )?)?;
    anyhow::ensure!(paris == berlin, "the two sites' reports correlate");
    let incident = paris;
    let roster = RosterChange {
        name: "ines".into(),
        role: Some(HubRole::IrLead),
        actor: "root".into(),
        actor_cert: "spiffe://example.org/operator/root (sha256:00)".into(),
    };
    applied(store, Item::Roster(Box::new(roster)), NOW + 2_000)?;
    let analyst = RosterChange {
        name: "ana".into(),
        role: Some(HubRole::Analyst(Tier::T2)),
        actor: "ines".into(),
        actor_cert: "spiffe://example.org/operator/ines (sha256:00)".into(),
    };
    applied(store, Item::Roster(Box::new(analyst)), NOW + 2_000)?;
    let triage = Transition {
        incident,
        command: Command::StartTriage,
        role: HubRole::IrLead,
        actor: "ines".into(),
        actor_cert: "spiffe://example.org/operator/ines (sha256:00)".into(),
    };
    applied(store, Item::Transition(Box::new(triage)), NOW + 3_000)?;
    let task = TaskOrder {
        incident,
        sites: vec!["paris".into()],
        title: "Collect proxy logs".into(),
        details: "Last 24 hours".into(),
        due_in_s: 0,
    }
    .plan(&[site("paris")?, site("berlin")?], "ines", NOW + 4_000)?;
    let issue = Issue {
        directives: task.directives,
        hunt: None,
        incident: Some(incident),
        action: "task.issue",
        text: task.text,
        actor: "ines".into(),
        actor_cert: "spiffe://example.org/operator/ines (sha256:00)".into(),
    };
    applied(store, Item::Issue(Box::new(issue)), NOW + 4_000)?;
    let record = store
        .incident(incident)?
        .ok_or_else(|| anyhow::anyhow!("the incident is stored"))?;
    let facts = crate::comms::facts::of_incident(&record, NOW + 5_000);
    let text = crate::comms::draft(Audience::Executives, &facts, None);
    let draft = CommRecord::new(
        Ulid::new(),
        incident,
        Audience::Executives,
        text,
        "ines",
        NOW + 5_000,
    );
    let comms = CommsChange {
        incident,
        edit: CommEdit::Draft(Box::new(draft)),
        actor: "ines".into(),
        actor_cert: "spiffe://example.org/operator/ines (sha256:00)".into(),
        role: Some(HubRole::IrLead),
    };
    applied(store, Item::Comms(Box::new(comms)), NOW + 5_000)?;
    // Enrolled sites: one seeded from the config, one enrolled and removed by an operator.
    let enrolment = |name: &str, action, actor: &str| -> anyhow::Result<Item> {
        Ok(Item::Enrolment(Box::new(EnrolmentChange {
            site: site(name)?,
            action,
            actor: actor.into(),
            actor_cert: String::new(),
        })))
    };
    let enrol = |seed| EnrolmentAction::Enrol {
        name: "Paris data centre".into(),
        reason: "seeded from config".into(),
        seed,
    };
    applied(store, enrolment("paris", enrol(true), "hub")?, NOW + 6_000)?;
    applied(
        store,
        enrolment("berlin", enrol(false), "root")?,
        NOW + 6_000,
    )?;
    let remove = enrolment("berlin", EnrolmentAction::Remove, "root")?;
    applied(store, remove, NOW + 7_000)?;
    Ok(())
}

#[test]
fn the_stored_layout_is_the_committed_snapshot() -> anyhow::Result<()> {
    if crate::store::postgres::testing_on_postgres() {
        // What only a sled store has (its files, a legacy format, a raw tree).
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let store = HubStore::open(
        dir.path(),
        Durability::Flush,
        socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
    )?;
    scenario(&store)?;
    let actual = store.layout()?;
    // A key or value the import check does not know ("!!") would make every dump of such a
    // store refused as damaged: never bless one.
    let unknown: Vec<&str> = actual.lines().filter(|l| l.starts_with("!!")).collect();
    assert!(unknown.is_empty(), "not known to `db import`: {unknown:#?}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/layout/snapshot.txt");
    // The failure says what changed and how to bless it (see the module docs).
    snapshot::check(
        &path,
        &actual,
        "sirt-hub/src/store/schema.rs (SCHEMA_VERSION)",
        "cargo test -p sirt-hub --lib store::layout",
    )
    .map_err(anyhow::Error::msg)?;
    Ok(())
}
