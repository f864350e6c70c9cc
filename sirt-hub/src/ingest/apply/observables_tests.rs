//! Observables through the writer on a real store: a split moves the split site's share into
//! the new incident (and the index names both), an analyst's observable stays, and a merge
//! moves every observable into the survivor with the index following.

use super::tests::{WINDOW_MS, escalation, escalation_of, open_store, stored_in};
use super::{Item, Merge, ObservableChange, Split, apply};
use crate::observable::{Edit, Flag, Origin};
use socfed_proto::vocab::{Indicator, SiteId};

const T0: i64 = 1_700_000_000_000;

fn domain(value: &str) -> Indicator {
    Indicator::parse_typed(&format!("domain:{value}")).expect("indicator")
}

fn sites_of(store: &crate::store::HubStore, incident: ulid::Ulid, value: &str) -> Vec<String> {
    store
        .observable(incident, &domain(value))
        .expect("read")
        .map(|o| o.sites.iter().map(|s| s.site.to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn a_split_moves_the_sites_share_and_an_analysts_observable_stays() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let x = stored_in(&store, escalation("paris", 1, "P-1", 1), T0);
    assert_eq!(
        stored_in(&store, escalation("lyon", 1, "L-1", 1), T0 + 1),
        x
    );
    let add = Item::Observable(Box::new(ObservableChange {
        incident: x,
        indicator: domain("analyst.example"),
        edit: Edit::Add {
            flags: vec![Flag::Ioc],
        },
        actor: "tara".into(),
        actor_cert: String::new(),
    }));
    apply(&store, &[add], T0 + 2, WINDOW_MS).expect("add");
    assert_eq!(sites_of(&store, x, "c2.example"), vec!["paris", "lyon"]);
    let split = Item::Split(Box::new(Split {
        incident: x,
        site: SiteId::parse("lyon").expect("site"),
        reason: String::new(),
        actor: "ines".into(),
        actor_cert: String::new(),
    }));
    apply(&store, &[split], T0 + 3, WINDOW_MS).expect("split");
    let ids = store
        .observable_incidents(&domain("c2.example"), 10)
        .expect("index");
    assert_eq!(ids.len(), 2, "{ids:?}");
    let y = ids
        .into_iter()
        .find(|id| *id != x)
        .expect("the new incident");
    assert_eq!(sites_of(&store, x, "c2.example"), vec!["paris"]);
    assert_eq!(sites_of(&store, y, "c2.example"), vec!["lyon"]);
    let kept = store
        .observable(x, &domain("analyst.example"))
        .expect("read")
        .expect("the analyst's stays");
    assert_eq!(kept.added_by, Origin::Analyst("tara".into()));
    assert!(
        store
            .observable(y, &domain("analyst.example"))
            .expect("read")
            .is_none()
    );
}

#[test]
fn a_merge_moves_every_observable_and_the_index_follows() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let a = stored_in(&store, escalation_of("paris", 1, "P-1", 1, "a.example"), T0);
    let b = stored_in(
        &store,
        escalation_of("lyon", 1, "L-1", 1, "b.example"),
        T0 + 1,
    );
    assert_ne!(a, b);
    let merge = Item::Merge(Box::new(Merge {
        survivor: a,
        other: b,
        reason: String::new(),
        actor: "ines".into(),
        actor_cert: String::new(),
    }));
    apply(&store, &[merge], T0 + 2, WINDOW_MS).expect("merge");
    assert_eq!(sites_of(&store, a, "b.example"), vec!["lyon"]);
    assert!(store.observables(b).expect("read").is_empty());
    assert_eq!(
        store
            .observable_incidents(&domain("b.example"), 10)
            .expect("index"),
        vec![a]
    );
    assert_eq!(store.observables(a).expect("read").len(), 2);
}
