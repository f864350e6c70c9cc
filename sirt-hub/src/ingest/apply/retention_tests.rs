//! The directive prune step through [`apply`] on a real store, at chosen times: what goes,
//! what stays, and what the incident and the hunts keep.

use super::tests::{escalation_of, open_store, stored_in};
use super::{
    DirectiveUpdate, Issue, Item, Outcome, PruneDirectives, Pruned, ResponseOutcome, apply,
};
use crate::response::directive::{KIND_SWEEP, SiteReport};
use crate::response::{DirectiveRecord, DirectiveState, HuntRecord};
use crate::store::HubStore;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

const WINDOW_MS: i64 = 86_400_000;
const DAY: i64 = 86_400_000;
const T0: i64 = 1_700_000_000_000;

fn paris() -> SiteId {
    SiteId::parse("paris").expect("site")
}

/// A directive of `incident` at paris, issued at `T0` (its id carries the time).
fn directive(n: u128, incident: Ulid) -> DirectiveRecord {
    DirectiveRecord {
        id: Ulid::from_parts(T0 as u64, n),
        incident: Some(incident),
        ..DirectiveRecord::queued(&paris(), "block_indicator", "ines", T0)
    }
}

fn issue(store: &HubStore, directives: Vec<DirectiveRecord>, hunt: Option<HuntRecord>) {
    let item = Item::Issue(Box::new(Issue {
        directives,
        hunt,
        incident: None,
        action: "directive.issue",
        text: String::new(),
        actor: "ines".into(),
        actor_cert: String::new(),
    }));
    apply(store, &[item], T0, WINDOW_MS).expect("issued");
}

fn finish(store: &HubStore, id: Ulid, state: DirectiveState, at_ms: i64) {
    let report = SiteReport {
        state,
        detail: "done".into(),
        exit_code: Some(0),
        output: String::new(),
        actor: String::new(),
        hits: Vec::new(),
    };
    let item = Item::DirectiveUpdate(Box::new(DirectiveUpdate {
        site: paris(),
        directive: id,
        report,
    }));
    apply(store, &[item], at_ms, WINDOW_MS).expect("updated");
}

fn prune(store: &HubStore, from: Option<Ulid>, now: i64) -> Pruned {
    let item = Item::PruneDirectives(Box::new(PruneDirectives {
        retention_ms: 90 * DAY,
        from,
    }));
    let applied = apply(store, &[item], now, WINDOW_MS).expect("pruned");
    match applied.outcomes.as_slice() {
        [Outcome::Response(ResponseOutcome::Pruned(pruned))] => pruned.clone(),
        other => panic!("not a prune step: {other:?}"),
    }
}

fn ids(list: Vec<DirectiveRecord>) -> Vec<Ulid> {
    list.into_iter().map(|d| d.id).collect()
}

#[test]
fn finished_directives_past_retention_go_with_their_indexes_and_the_rest_stays() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let incident = stored_in(
        &store,
        escalation_of("paris", 1, "P-1", 1, "c2.example"),
        T0,
    );
    let (old, open, late) = (
        directive(1, incident),
        directive(2, incident),
        directive(3, incident),
    );
    let hunt = HuntRecord {
        id: Ulid::from_parts(T0 as u64, 100),
        incident: None,
        indicators: Vec::new(),
        sites: vec![paris()],
        lookback_ms: DAY,
        duration_ms: 0,
        started_at_ms: T0,
        started_by: "ines".into(),
        attached_to: None,
        directives: vec![Ulid::from_parts(T0 as u64, 4)],
    };
    let sweep = DirectiveRecord {
        id: hunt.directives[0],
        hunt: Some(hunt.id),
        kind: KIND_SWEEP.into(),
        ..DirectiveRecord::queued(&paris(), KIND_SWEEP, "ines", T0)
    };
    issue(&store, vec![old.clone(), open.clone(), late.clone()], None);
    issue(&store, vec![sweep.clone()], Some(hunt.clone()));
    finish(&store, old.id, DirectiveState::Succeeded, T0 + DAY);
    finish(&store, sweep.id, DirectiveState::Succeeded, T0 + DAY);
    // Finished after the cutoff of the first prune: inside the retention.
    finish(&store, late.id, DirectiveState::Failed, T0 + 2 * DAY);
    let timeline = store
        .incident(incident)
        .expect("read")
        .expect("incident")
        .timeline;
    let audit = store.audit_entries().expect("audit").len();

    let pruned = prune(&store, None, T0 + 91 * DAY + DAY / 2);
    assert_eq!(
        pruned,
        Pruned {
            removed: 1,
            resume_from: None
        }
    );

    assert_eq!(store.directive(old.id).expect("read"), None);
    let kept = vec![open.id, late.id, sweep.id];
    assert_eq!(ids(store.site_directives(&paris()).expect("site")), kept);
    assert_eq!(
        ids(store.incident_directives(incident).expect("incident")),
        vec![open.id, late.id]
    );
    assert_eq!(
        ids(store.open_directives(&paris()).expect("open")),
        vec![open.id]
    );
    let listed = store
        .directives_page(
            &crate::store::DirectiveFilter::default(),
            None,
            10,
            crate::store::Visibility::All,
        )
        .expect("all");
    assert_eq!((ids(listed.directives), listed.total), (kept.clone(), 3));
    // The hunt still reads its sweep, so its progress and counts do not change.
    let (_, sweeps) = store.hunt(hunt.id).expect("read").expect("hunt");
    assert_eq!(ids(sweeps), vec![sweep.id]);
    // The incident and the audit chain keep what they recorded.
    let after = store
        .incident(incident)
        .expect("read")
        .expect("incident")
        .timeline;
    assert_eq!(after, timeline);
    assert_eq!(store.audit_entries().expect("audit").len(), audit);

    // A day later the late one is past retention too; the open one never goes.
    assert_eq!(prune(&store, None, T0 + 93 * DAY).removed, 1);
    assert_eq!(
        ids(store.site_directives(&paris()).expect("site")),
        vec![open.id, sweep.id]
    );
}

#[test]
fn a_large_backlog_goes_in_bounded_steps() {
    use crate::response::retention::PRUNE_PER_ITEM;
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let incident = stored_in(
        &store,
        escalation_of("paris", 1, "P-1", 1, "c2.example"),
        T0,
    );
    let all: Vec<_> = (1..=PRUNE_PER_ITEM as u128 + 1)
        .map(|n| directive(n, incident))
        .collect();
    issue(&store, all.clone(), None);
    for d in &all {
        finish(&store, d.id, DirectiveState::Succeeded, T0 + DAY);
    }
    let first = prune(&store, None, T0 + 100 * DAY);
    assert_eq!(first.removed, PRUNE_PER_ITEM);
    assert_eq!(first.resume_from, Some(all[PRUNE_PER_ITEM].id));
    assert_eq!(
        prune(&store, first.resume_from, T0 + 100 * DAY),
        Pruned {
            removed: 1,
            resume_from: None
        }
    );
    assert!(
        store
            .incident_directives(incident)
            .expect("read")
            .is_empty()
    );
    assert!(store.site_directives(&paris()).expect("read").is_empty());
}

/// One directive record the hub cannot decode (a damaged disk, a record of a later version)
/// is stepped over: the prune step still removes the others and the writer batch it runs in
/// is not failed by it (`db check` is where damage is reported).
#[test]
fn a_damaged_directive_record_is_stepped_over_and_the_rest_still_goes() {
    if crate::store::postgres::testing_on_postgres() {
        // What only a sled store has (its files, a legacy format, a raw tree).
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let incident;
    let all: Vec<_>;
    {
        let store = open_store(dir.path());
        incident = stored_in(
            &store,
            escalation_of("paris", 1, "P-1", 1, "c2.example"),
            T0,
        );
        all = (1..=3).map(|n| directive(n, incident)).collect();
        issue(&store, all.clone(), None);
        for d in &all {
            finish(&store, d.id, DirectiveState::Succeeded, T0 + DAY);
        }
        let point = store.sync_point().expect("point");
        store.commit(&point).expect("durable");
    }
    {
        let db = socfed_runtime::store_files::open_when_released(
            dir.path(),
            std::time::Duration::from_secs(10),
        )
        .expect("raw sled");
        let tree = db
            .open_tree(crate::store::schema::DIRECTIVES)
            .expect("tree");
        tree.insert(all[1].id.to_bytes(), &b"\xffnot a record"[..])
            .expect("damaged");
        db.flush().expect("flushed");
    }
    let store = open_store(dir.path());
    let pruned = prune(&store, None, T0 + 100 * DAY);
    assert_eq!(
        pruned,
        Pruned {
            removed: 2,
            resume_from: None
        }
    );
    assert_eq!(store.directive(all[0].id).expect("read"), None);
    assert_eq!(store.directive(all[2].id).expect("read"), None);
}
