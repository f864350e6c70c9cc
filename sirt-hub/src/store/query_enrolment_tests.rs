//! The enrolled sites on a real store: the schema 10 → 11 upgrade, and the seed rule (a site
//! the store never held is enrolled once; a removed one stays removed).

use crate::events::tests::{T0, WINDOW_MS, first_incident, incident_of};
use crate::ingest::apply::{EnrolmentAction, EnrolmentChange, Item, Outcome, apply};
use crate::store::schema;
use socfed_proto::vocab::SiteId;

fn open(dir: &std::path::Path) -> crate::store::HubStore {
    crate::store::query_states::tests::store(dir)
}

fn change(site: &str, action: EnrolmentAction, actor: &str) -> Item {
    Item::Enrolment(Box::new(EnrolmentChange {
        site: SiteId::parse(site).expect("site"),
        action,
        actor: actor.into(),
        actor_cert: String::new(),
    }))
}

fn seed(site: &str) -> Item {
    let action = EnrolmentAction::Enrol {
        name: String::new(),
        reason: "seeded from config".into(),
        seed: true,
    };
    change(site, action, "hub")
}

fn site_changes(store: &crate::store::HubStore) -> Vec<String> {
    (store.audit_entries().expect("audit").into_iter())
        .filter(|e| e.draft.action.starts_with("site."))
        .map(|e| format!("{} {}", e.draft.action, e.draft.target))
        .collect()
}

/// A store written by a schema 10 build has no enrolled sites: at open it is upgraded to 11,
/// its incidents kept, the tree empty.
#[test]
fn a_schema_10_store_opens_with_no_enrolled_sites() {
    if crate::store::postgres::testing_on_postgres() {
        // What only a sled store has (its files, a legacy format, a raw tree).
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let incident = {
        let store = open(dir.path());
        let applied = first_incident(&store);
        store
            .sled_db()
            .drop_tree(schema::ENROLLED_SITES)
            .expect("as a schema 10 build left it");
        let meta = &store.trees.meta;
        meta.insert(schema::SCHEMA_VERSION_KEY, 10u32.to_be_bytes())
            .expect("version");
        store.sled_db().flush().expect("flush");
        incident_of(&applied.outcomes)
    };
    let store = open(dir.path());
    let version = (store.trees.meta.get(schema::SCHEMA_VERSION_KEY))
        .expect("reads")
        .expect("set");
    assert_eq!(version.as_ref(), &schema::SCHEMA_VERSION.to_be_bytes());
    assert!(store.incident(incident).expect("reads").is_some());
    assert!(store.enrolments().expect("reads").is_empty());
}

/// The seed enrols a site once, audited; seeding again writes nothing; a removed site is not
/// brought back by the seed, and an operator's enrolment of an enrolled site is refused.
#[test]
fn the_seed_adds_a_site_once_and_never_brings_a_removed_one_back() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(dir.path());
    apply(&store, &[seed("paris")], T0, WINDOW_MS).expect("seed");
    apply(&store, &[seed("paris")], T0 + 1, WINDOW_MS).expect("seed again");
    assert_eq!(site_changes(&store), ["site.enrol site paris"]);
    let removal = change("paris", EnrolmentAction::Remove, "ada");
    apply(&store, &[removal], T0 + 2, WINDOW_MS).expect("remove");
    apply(&store, &[seed("paris")], T0 + 3, WINDOW_MS).expect("seed after removal");
    let paris = SiteId::parse("paris").expect("site");
    let held = store.enrolment(&paris).expect("reads").expect("kept");
    assert!(!held.is_enrolled(), "the seed brought a removed site back");
    assert_eq!(
        site_changes(&store),
        ["site.enrol site paris", "site.remove site paris"]
    );
    let enrol = |actor: &str| {
        let action = EnrolmentAction::Enrol {
            name: "Paris".into(),
            reason: "enrolled by an operator".into(),
            seed: false,
        };
        change("paris", action, actor)
    };
    apply(&store, &[enrol("ada")], T0 + 4, WINDOW_MS).expect("enrol again");
    let again = apply(&store, &[enrol("carl")], T0 + 5, WINDOW_MS).expect("applies");
    assert!(
        matches!(
            again.outcomes.as_slice(),
            [Outcome::Response(crate::ingest::apply::ResponseOutcome::Rejected(why))] if why.contains("already enrolled")
        ),
        "{:?}",
        again.outcomes
    );
    let held = store.enrolment(&paris).expect("reads").expect("kept");
    assert_eq!(
        (held.enrolled_by.as_str(), held.is_enrolled()),
        ("ada", true)
    );
}
