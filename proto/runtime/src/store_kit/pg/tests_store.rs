//! Tests of [`PgTree`] and [`PgIter`] against a real PostgreSQL: every method, scans over
//! several pages from either end and from both, batches (atomic, last write wins).

use std::ops::Bound;

use super::tests::test_db;
use super::*;

fn key(i: u32) -> Vec<u8> {
    format!("k{i:05}").into_bytes()
}

fn keys(iter: impl Iterator<Item = Result<(sled::IVec, sled::IVec), PgError>>) -> Vec<Vec<u8>> {
    iter.map(|r| r.expect("row").0.to_vec()).collect()
}

#[test]
fn every_tree_method() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let (a, b) = (store.tree("a"), store.tree("b"));
    assert_eq!(a.name(), "a");
    assert!(a.is_empty().expect("empty"));
    assert_eq!(a.first().expect("first"), None);
    a.insert(b"x", b"1").expect("insert");
    a.insert(b"x", b"2").expect("overwrite");
    a.insert([0u8, 255], [0u8]).expect("insert binary");
    b.insert(b"x", b"other tree").expect("insert");
    assert_eq!(a.get(b"x").expect("get").as_deref(), Some(&b"2"[..]));
    assert!(a.contains_key(b"x").expect("contains"));
    assert!(!a.contains_key(b"y").expect("contains"));
    assert_eq!(a.len().expect("len"), 2);
    assert_eq!(
        a.first().expect("first").map(|(k, _)| k.to_vec()),
        Some(vec![0u8, 255])
    );
    assert_eq!(
        a.last()
            .expect("last")
            .map(|(k, v)| (k.to_vec(), v.to_vec())),
        Some((b"x".to_vec(), b"2".to_vec()))
    );
    a.remove(b"x").expect("remove");
    a.remove(b"absent").expect("remove absent");
    assert_eq!(a.get(b"x").expect("get"), None);
    a.flush().expect("flush");
    a.clear().expect("clear");
    assert!(a.is_empty().expect("empty"));
    assert_eq!(b.len().expect("len"), 1, "clear touched only its tree");
}

#[test]
fn scans_page_through_ranges_prefixes_and_both_ends() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let tree = store.tree("big");
    let n = 700u32; // more than two pages of 256
    let writes: Vec<_> = (0..n)
        .map(|i| (key(i), Some(i.to_be_bytes().to_vec())))
        .collect();
    tree.apply_batch(&writes).expect("batch");
    store
        .tree("big2")
        .insert(b"k00001", b"other")
        .expect("insert");
    let all: Vec<Vec<u8>> = (0..n).map(key).collect();
    assert_eq!(keys(tree.iter()), all);
    let mut rev = all.clone();
    rev.reverse();
    assert_eq!(keys(tree.iter().rev()), rev);
    assert_eq!(keys(tree.range(key(100)..key(650))), all[100..650].to_vec());
    assert_eq!(
        keys(tree.range(key(100)..=key(650)).rev()),
        all[100..=650].iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(keys(tree.range(..key(3))), all[..3].to_vec());
    assert_eq!(
        keys(tree.range((Bound::Excluded(key(690)), Bound::Unbounded))),
        all[691..].to_vec()
    );
    assert_eq!(keys(tree.scan_prefix(b"k003")), all[300..400].to_vec());
    assert_eq!(keys(tree.scan_prefix(b"k003").rev()).len(), 100);
    assert_eq!(tree.scan_prefix(b"z").count(), 0);
    // Both ends, each crossing page boundaries, meeting in the middle: every entry once.
    for front_first in [300usize, 1, 699, 700] {
        let mut it = tree.iter();
        let front: Vec<_> = it
            .by_ref()
            .take(front_first)
            .map(|r| r.expect("row").0.to_vec())
            .collect();
        let mut back = Vec::new();
        while let Some(r) = it.next_back() {
            back.push(r.expect("row").0.to_vec());
        }
        back.reverse();
        let mut seen = front;
        seen.extend(back);
        assert_eq!(seen, all, "front first {front_first}");
        assert!(it.next().is_none());
    }
    let mut it = tree.range(key(10)..key(600));
    let mut seen = Vec::new();
    let mut tail = Vec::new();
    loop {
        let f = it.next().map(|r| r.expect("row").0.to_vec());
        let b = it.next_back().map(|r| r.expect("row").0.to_vec());
        if f.is_none() && b.is_none() {
            break;
        }
        seen.extend(f);
        tail.extend(b);
    }
    tail.reverse();
    seen.extend(tail);
    assert_eq!(seen, all[10..600].to_vec(), "alternating ends");
    let values: Vec<u32> = tree
        .iter()
        .values()
        .map(|v| u32::from_be_bytes(v.expect("value").as_ref().try_into().expect("4 bytes")))
        .collect();
    assert_eq!(values, (0..n).collect::<Vec<_>>());
    assert_eq!(
        tree.iter()
            .keys()
            .next_back()
            .and_then(Result::ok)
            .map(|k| k.to_vec()),
        Some(key(n - 1))
    );
}

#[test]
fn a_prefix_of_ff_bytes_has_no_upper_bound() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let tree = store.tree("ff");
    for k in [
        vec![0xfe, 0xff],
        vec![0xff],
        vec![0xff, 0xff, 0],
        vec![0xff, 0xff, 0xff],
    ] {
        tree.insert(&k, b"v").expect("insert");
    }
    assert_eq!(
        keys(tree.scan_prefix([0xff, 0xff])),
        vec![vec![0xff, 0xff, 0], vec![0xff, 0xff, 0xff]]
    );
    assert_eq!(keys(tree.scan_prefix([0xfe])), vec![vec![0xfe, 0xff]]);
}

#[test]
fn a_batch_is_atomic_and_its_last_write_of_a_key_wins() {
    let Some(db) = test_db() else { return };
    let store = db.store(&[]);
    let tree = store.tree("t");
    tree.insert(b"keep", b"1").expect("insert");
    tree.apply_batch(&[
        (b"a".to_vec(), Some(b"1".to_vec())),
        (b"a".to_vec(), Some(b"2".to_vec())),
        (b"b".to_vec(), Some(b"1".to_vec())),
        (b"b".to_vec(), None),
    ])
    .expect("batch");
    assert_eq!(tree.get(b"a").expect("get").as_deref(), Some(&b"2"[..]));
    assert_eq!(tree.get(b"b").expect("get"), None);
    // A batch one of whose writes the database refuses leaves nothing of it behind.
    store
        .execute(
            "ALTER TABLE kv ADD CONSTRAINT small CHECK (length(value) < 100)",
            &[],
        )
        .expect("constraint");
    let refused = tree.apply_batch(&[
        (b"keep".to_vec(), None),
        (b"c".to_vec(), Some(b"1".to_vec())),
        (b"d".to_vec(), Some(vec![0; 200])),
    ]);
    assert!(matches!(refused, Err(PgError::Database(_))), "{refused:?}");
    assert_eq!(keys(tree.iter()), vec![b"a".to_vec(), b"keep".to_vec()]);
}

#[test]
fn the_handles_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<PgStore>();
    send_sync::<PgTree>();
    send::<PgIter>();
    send::<PgUnit>();
}
