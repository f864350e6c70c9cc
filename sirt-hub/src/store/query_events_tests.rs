//! The schema 8 → 9 upgrade of the event log, on a real store.

use crate::events::tests::{T0, WINDOW_MS, first_incident, incident_of, triage};
use crate::ingest::apply::apply;
use crate::store::schema;

fn open(dir: &std::path::Path) -> crate::store::HubStore {
    crate::store::query_states::tests::store(dir)
}

/// A store written by a schema 8 build has no event log: at open it is upgraded to 9, its
/// incidents kept, and the first change logs sequence 1.
#[test]
fn a_schema_8_store_opens_with_an_empty_event_log() {
    if crate::store::postgres::testing_on_postgres() {
        // What only a sled store has (its files, a legacy format, a raw tree).
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let incident = {
        let store = open(dir.path());
        let applied = first_incident(&store);
        // As a schema 8 build left it: no `events` entries, no `event_seq`.
        store
            .registry
            .tree(schema::TreeId::Events)
            .clear()
            .expect("clear");
        store.trees.meta.remove(schema::EVENT_SEQ).expect("rm");
        store
            .trees
            .meta
            .insert(schema::SCHEMA_VERSION_KEY, 8u32.to_be_bytes())
            .expect("version");
        store.sled_db().flush().expect("flush");
        incident_of(&applied.outcomes)
    };
    let store = open(dir.path());
    let version = store
        .trees
        .meta
        .get(schema::SCHEMA_VERSION_KEY)
        .expect("reads")
        .expect("set");
    assert_eq!(version.as_ref(), &schema::SCHEMA_VERSION.to_be_bytes());
    assert!(store.incident(incident).expect("reads").is_some());
    assert_eq!(store.last_event_seq().expect("reads"), 0);
    let changed = apply(&store, &[triage(incident)], T0 + 1, WINDOW_MS).expect("triage");
    assert_eq!(changed.last_event, Some(1));
}
