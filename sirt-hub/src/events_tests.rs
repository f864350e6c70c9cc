//! The event log through the writer's items and a real store: appended in the unit of the
//! change, sequences never reused, pruned from the oldest end, and a schema 8 store upgraded
//! (`store/query_events.rs`).

use crate::events::EventKind;
use crate::ingest::apply::tests::escalation_of;
use crate::ingest::apply::{EscalationOutcome, Item, Outcome, PruneEvents, Transition, apply};
use crate::store::HubStore;

pub(crate) const T0: i64 = 1_700_000_000_000;
pub(crate) const WINDOW_MS: i64 = 86_400_000;

fn open(dir: &std::path::Path) -> HubStore {
    crate::store::query_states::tests::store(dir)
}

pub(crate) fn incident_of(outcomes: &[Outcome]) -> ulid::Ulid {
    match outcomes {
        [
            Outcome::Escalation {
                outcome: EscalationOutcome::Applied { incident },
                ..
            },
        ] => *incident,
        other => panic!("not applied: {other:?}"),
    }
}

pub(crate) fn triage(incident: ulid::Ulid) -> Item {
    Item::Transition(Box::new(Transition {
        incident,
        command: crate::lifecycle::Command::StartTriage,
        role: crate::lifecycle::HubRole::IrLead,
        actor: "ines".into(),
        actor_cert: String::new(),
    }))
}

/// The first escalation of the tests: paris's P-1, a new incident (event 1).
pub(crate) fn first_incident(store: &HubStore) -> crate::ingest::apply::Applied {
    apply(
        store,
        &[escalation_of("paris", 1, "P-1", 1, "a.example")],
        T0,
        WINDOW_MS,
    )
    .expect("applied")
}

fn all(store: &HubStore) -> Vec<(u64, crate::events::HubEvent)> {
    let last = store.last_event_seq().expect("reads");
    store.events_after(0, last, usize::MAX).expect("reads")
}

#[test]
fn each_unit_appends_the_events_of_its_changes_with_growing_sequences() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(dir.path());
    let applied = first_incident(&store);
    assert_eq!(applied.last_event, Some(1));
    let incident = incident_of(&applied.outcomes);
    let changed = apply(&store, &[triage(incident)], T0 + 1, WINDOW_MS).expect("triage");
    assert_eq!(changed.last_event, Some(2));
    let events = all(&store);
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], (1, e) if e.incident == Some(incident)
        && matches!(e.kind, EventKind::IncidentCreated { .. })));
    match &events[1] {
        (2, e) => match &e.kind {
            EventKind::IncidentChanged { phase, .. } => assert_eq!(phase, "triage"),
            other => panic!("not a change: {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
    // A read bounded by what is durable sees nothing past it.
    assert_eq!(store.events_after(0, 1, 10).expect("reads").len(), 1);
    assert!(store.events_after(2, 2, 10).expect("reads").is_empty());
    // A refused change appends nothing.
    let refused = apply(&store, &[triage(ulid::Ulid::new())], T0 + 2, WINDOW_MS).expect("ok");
    assert_eq!(refused.last_event, None);
}

#[test]
fn pruning_removes_the_oldest_and_never_reuses_a_sequence() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(dir.path());
    for seq in 1..=5u64 {
        let local = format!("P-{seq}");
        let domain = format!("d{seq}.example");
        apply(
            &store,
            &[escalation_of("paris", seq, &local, 1, &domain)],
            T0 + seq as i64,
            WINDOW_MS,
        )
        .expect("applied");
    }
    assert_eq!(store.last_event_seq().expect("reads"), 5);
    // Keep the newest 3, whatever their age.
    let prune = Item::PruneEvents(Box::new(PruneEvents {
        retention_ms: i64::MAX,
        keep: 3,
    }));
    apply(&store, &[prune], T0 + 10, WINDOW_MS).expect("pruned");
    let kept: Vec<u64> = all(&store).into_iter().map(|(s, _)| s).collect();
    assert_eq!(kept, vec![3, 4, 5]);
    assert_eq!(store.oldest_event().expect("reads"), Some(3));
    // By age: everything older than a day at a clock two days on.
    let prune = Item::PruneEvents(Box::new(PruneEvents {
        retention_ms: WINDOW_MS,
        keep: 100,
    }));
    apply(&store, &[prune], T0 + 2 * WINDOW_MS, WINDOW_MS).expect("pruned");
    assert!(all(&store).is_empty());
    // The next event still follows the last one ever handed out.
    let next = apply(
        &store,
        &[escalation_of("lyon", 1, "L-1", 1, "new.example")],
        T0 + 2 * WINDOW_MS,
        WINDOW_MS,
    )
    .expect("applied");
    assert_eq!(next.last_event, Some(6));
}

fn site_report(
    state: crate::response::DirectiveState,
    hits: Vec<crate::response::directive::HuntHit>,
) -> crate::response::directive::SiteReport {
    crate::response::directive::SiteReport {
        state,
        detail: "playbook exited 3".into(),
        exit_code: Some(3),
        output: String::new(),
        actor: String::new(),
        hits,
    }
}

/// A site's report that a directive failed, and a sweep that found hits, are logged with the
/// incident they belong to; a report that changes nothing logs nothing.
#[test]
fn failed_directives_and_hunt_hits_are_logged() {
    use crate::ingest::apply::{DirectiveUpdate, Issue};
    use crate::response::directive::{HuntHit, KIND_SWEEP};
    use crate::response::{DirectiveRecord, DirectiveState};
    let dir = tempfile::tempdir().expect("dir");
    let store = open(dir.path());
    let incident = incident_of(&first_incident(&store).outcomes);
    let paris = socfed_proto::vocab::SiteId::parse("paris").expect("site");
    let block = DirectiveRecord {
        incident: Some(incident),
        ..DirectiveRecord::queued(&paris, "block_indicator", "ines", T0)
    };
    let sweep = DirectiveRecord {
        incident: Some(incident),
        hunt: Some(ulid::Ulid::new()),
        ..DirectiveRecord::queued(&paris, KIND_SWEEP, "ines", T0)
    };
    let issue = Item::Issue(Box::new(Issue {
        directives: vec![block.clone(), sweep.clone()],
        hunt: None,
        incident: Some(incident),
        action: "directive.issue",
        text: "sent".into(),
        actor: "ines".into(),
        actor_cert: String::new(),
    }));
    apply(&store, &[issue], T0 + 1, WINDOW_MS).expect("issued");
    let update = |id, report| {
        Item::DirectiveUpdate(Box::new(DirectiveUpdate {
            site: paris.clone(),
            directive: id,
            report,
        }))
    };
    let hit = HuntHit {
        indicator: "domain:a.example".into(),
        group_id: "G1".into(),
        title: "beacon".into(),
        alert_count: 2,
        first_seen_ms: T0,
        last_seen_ms: T0,
        local_incident_id: String::new(),
    };
    let before = store.last_event_seq().expect("reads");
    apply(
        &store,
        &[
            update(block.id, site_report(DirectiveState::Failed, Vec::new())),
            update(sweep.id, site_report(DirectiveState::Succeeded, vec![hit])),
        ],
        T0 + 2,
        WINDOW_MS,
    )
    .expect("reported");
    let last = store.last_event_seq().expect("reads");
    let events = store.events_after(before, last, 100).expect("reads");
    let kinds: Vec<&str> = events.iter().map(|(_, e)| e.kind.name()).collect();
    assert!(kinds.contains(&"directive_failed"), "{kinds:?}");
    assert!(kinds.contains(&"hunt_hit"), "{kinds:?}");
    assert!(events.iter().all(|(_, e)| e.incident == Some(incident)));
    // The same failure reported again changes nothing, and logs nothing.
    let again = apply(
        &store,
        &[update(
            block.id,
            site_report(DirectiveState::Failed, Vec::new()),
        )],
        T0 + 3,
        WINDOW_MS,
    )
    .expect("reported");
    assert_eq!(again.last_event, None);
}

/// A reader sees only what the writer announced durable: an event applied but not yet
/// flushed is not served, and a wait for it ends when it is announced.
#[tokio::test]
async fn the_reader_serves_nothing_past_the_durable_mark() {
    let dir = tempfile::tempdir().expect("dir");
    let store = std::sync::Arc::new(open(dir.path()));
    let incident = incident_of(&first_incident(&store).outcomes);
    apply(&store, &[triage(incident)], T0 + 1, WINDOW_MS).expect("triage");
    let (durable, rx) = tokio::sync::watch::channel(1u64);
    let mut log = crate::events::EventLog::new(store.clone(), rx);
    let seen: Vec<u64> = log
        .read_after(0, 10)
        .await
        .expect("reads")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    assert_eq!(seen, vec![1], "event 2 is applied but not announced");
    let waiter = tokio::spawn(async move { log.wait_after(1).await });
    durable.send_replace(2);
    assert_eq!(waiter.await.expect("joins"), Some(2));
}
