//! Deferred revisions: a revision the outbox had no room for waits in `idx_revision_pending`
//! and the SLA clock queues it once there is room.

use super::intake::tests::{manager, open, service};
use crate::service::ManualClock;
use crate::soc::incident::IncidentStatus;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits};
use std::sync::Arc;

fn report(title: &str) -> anyhow::Result<IncidentReport> {
    Ok(IncidentReport::from_wire(
        pb::IncidentReport {
            local_incident_id: "pending".into(),
            revision: 1,
            title: title.into(),
            severity: pb::Severity::High as i32,
            observed_at_ms: 1_700_000_000_000,
            ..Default::default()
        },
        &ReportLimits::default(),
    )?)
}

#[test]
fn a_revision_deferred_at_the_outbox_cap_is_sent_by_the_sla_clock_once_there_is_room()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut soc = service(store.clone(), clock)?;
    soc.settings.outbox_cap = 1;
    let actor = manager();

    let raised = soc.raise(&actor, None, report("beaconing")?)?;
    let other = soc.raise(&actor, None, report("other")?);
    assert!(other.is_err(), "the outbox holds one escalation");
    // The outbox is full: the revision this change causes waits.
    let updated = soc.update_incident(
        &actor,
        &raised.local_incident_id,
        Some(IncidentStatus::Contained),
        None,
    )?;
    assert!(updated.revision_pending);
    assert_eq!(
        store.pending_revision_ids(10)?,
        vec![raised.local_incident_id.clone()]
    );

    // Nothing to retry into while the outbox is still full.
    soc.sla_tick()?;
    assert_eq!(store.pending_revision_ids(10)?.len(), 1);

    // The hub acknowledges the first escalation: the next tick queues the revision.
    store.acknowledge(raised.seq)?;
    soc.sla_tick()?;
    assert!(store.pending_revision_ids(10)?.is_empty());
    let queued = store.pending_from(raised.seq + 1, 10)?;
    assert_eq!(queued.len(), 1, "the revision is in the outbox");
    let incident = soc.store.incident(&raised.local_incident_id)?;
    assert_eq!(
        incident.map(|i| (i.revision, i.revision_pending)),
        Some((2, false))
    );
    Ok(())
}
