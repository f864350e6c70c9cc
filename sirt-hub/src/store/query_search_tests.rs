//! The schema 9 → 10 upgrade of the incident search, on a real store: incidents stored before
//! the index existed are found once the store opens as 10, and later changes keep their
//! postings.

use super::super::query_directives::Visibility;
use crate::events::tests::{T0, WINDOW_MS, first_incident, incident_of};
use crate::ingest::apply::apply;
use crate::ingest::apply::tests::escalation_of;
use crate::store::schema;
use socfed_proto::search::{Query, RawQuery};

fn open(dir: &std::path::Path) -> crate::store::HubStore {
    crate::store::query_states::tests::store(dir)
}

fn found(store: &crate::store::HubStore, raw: RawQuery) -> Vec<ulid::Ulid> {
    let query = Query::parse(&raw).expect("a valid query");
    let (records, _) = store
        .search_incidents(&query, None, 50, Visibility::All)
        .expect("searched");
    records.iter().map(|r| r.id).collect()
}

fn indicator(value: &str) -> RawQuery {
    RawQuery {
        indicators: vec![value.into()],
        ..Default::default()
    }
}

#[test]
fn a_schema_9_stores_incidents_become_searchable() {
    if crate::store::postgres::testing_on_postgres() {
        // What only a sled store has (its files, a legacy format, a raw tree).
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let incident = {
        let store = open(dir.path());
        let applied = first_incident(&store);
        // As a schema 9 build left it: no postings.
        store
            .registry
            .tree(schema::TreeId::IncidentSearch)
            .clear()
            .expect("clear");
        store
            .trees
            .meta
            .insert(schema::SCHEMA_VERSION_KEY, 9u32.to_be_bytes())
            .expect("version");
        store.sled_db().flush().expect("flush");
        incident_of(&applied.outcomes)
    };
    let store = open(dir.path());
    assert_eq!(found(&store, indicator("domain:a.example")), [incident]);
    let words = RawQuery {
        text: Some("p-1 r1".into()),
        ..Default::default()
    };
    assert_eq!(found(&store, words), [incident]);
    // A later revision from the site adds an indicator: found by it too, in the same unit.
    apply(
        &store,
        &[escalation_of("paris", 2, "P-1", 2, "b.example")],
        T0 + 1,
        WINDOW_MS,
    )
    .expect("revision");
    assert_eq!(found(&store, indicator("domain:b.example")), [incident]);
    assert_eq!(found(&store, indicator("domain:a.example")), [incident]);
}
