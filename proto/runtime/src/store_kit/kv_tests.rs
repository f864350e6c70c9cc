//! The storage interface over sled: what a tree reads, scans and applies (`kv.rs`).

use super::*;

fn tree() -> Result<(sled::Db, Tree), KvError> {
    let db = sled::Config::new().temporary(true).open()?;
    let tree = Tree::from(db.open_tree("items")?);
    Ok((db, tree))
}

fn keys(
    iter: impl Iterator<Item = Result<(IVec, IVec), KvError>>,
) -> Result<Vec<Vec<u8>>, KvError> {
    iter.map(|e| e.map(|(k, _)| k.to_vec())).collect()
}

#[test]
fn a_tree_reads_what_was_written_and_forgets_what_was_removed() -> Result<(), KvError> {
    let (_db, tree) = tree()?;
    assert_eq!(tree.name(), "items");
    assert!(tree.is_empty()?);
    assert_eq!(tree.first()?, None);
    tree.insert(b"b", b"2")?;
    tree.insert(b"a", b"1")?;
    tree.insert(b"a", b"one")?;
    assert_eq!(tree.get(b"a")?.as_deref(), Some(&b"one"[..]));
    assert!(tree.contains_key(b"b")?);
    assert!(!tree.contains_key(b"c")?);
    assert_eq!(tree.len()?, 2);
    let first = tree.first()?.map(|(k, v)| (k.to_vec(), v.to_vec()));
    assert_eq!(first, Some((b"a".to_vec(), b"one".to_vec())));
    let last = tree.last()?.map(|(k, _)| k.to_vec());
    assert_eq!(last, Some(b"b".to_vec()));
    tree.remove(b"a")?;
    // Removing what is not there is no error.
    tree.remove(b"a")?;
    assert_eq!(tree.get(b"a")?, None);
    assert_eq!(tree.len()?, 1);
    tree.clear()?;
    assert!(tree.is_empty()?);
    tree.flush()?;
    Ok(())
}

#[test]
fn scans_are_in_key_order_from_either_end_and_bounded() -> Result<(), KvError> {
    let (_db, tree) = tree()?;
    for key in [&b"p/2"[..], b"p/1", b"q/1", b"p/3", b"o/9"] {
        tree.insert(key, key)?;
    }
    assert_eq!(
        keys(tree.iter())?,
        [&b"o/9"[..], b"p/1", b"p/2", b"p/3", b"q/1"]
    );
    assert_eq!(
        keys(tree.scan_prefix(b"p/"))?,
        [&b"p/1"[..], b"p/2", b"p/3"]
    );
    assert_eq!(
        keys(tree.range(b"p/2".to_vec()..b"q/1".to_vec()))?,
        [&b"p/2"[..], b"p/3"]
    );
    assert_eq!(
        keys(tree.range(b"p/2".to_vec()..=b"q/1".to_vec()))?,
        [&b"p/2"[..], b"p/3", b"q/1"]
    );
    assert_eq!(keys(tree.range(..b"p/1".to_vec()))?, [&b"o/9"[..]]);
    let back: Vec<Vec<u8>> = tree
        .scan_prefix(b"p/")
        .rev()
        .map(|e| e.map(|(k, _)| k.to_vec()))
        .collect::<Result<_, _>>()?;
    assert_eq!(back, [&b"p/3"[..], b"p/2", b"p/1"]);
    let values: Vec<Vec<u8>> = tree
        .range(b"q".to_vec()..)
        .values()
        .map(|v| v.map(|v| v.to_vec()))
        .collect::<Result<_, _>>()?;
    assert_eq!(values, [b"q/1".to_vec()]);
    let last_key = tree.iter().keys().next_back().transpose()?;
    assert_eq!(last_key.as_deref(), Some(&b"q/1"[..]));
    Ok(())
}

#[test]
fn a_batch_applies_its_writes_in_order() -> Result<(), KvError> {
    let (_db, tree) = tree()?;
    tree.insert(b"gone", b"x")?;
    let mut batch = Batch::default();
    batch.insert(b"a", b"1");
    batch.insert(b"b", b"2");
    batch.remove(b"a");
    batch.remove(b"gone");
    batch.insert(b"c", b"3");
    assert_eq!(
        batch.writes(),
        [
            (b"a".to_vec(), Some(b"1".to_vec())),
            (b"b".to_vec(), Some(b"2".to_vec())),
            (b"a".to_vec(), None),
            (b"gone".to_vec(), None),
            (b"c".to_vec(), Some(b"3".to_vec())),
        ]
    );
    tree.apply_batch(batch)?;
    assert_eq!(keys(tree.iter())?, [&b"b"[..], b"c"]);
    Ok(())
}

#[test]
fn a_raw_sled_tree_and_a_kv_tree_read_alike() -> Result<(), KvError> {
    let (db, tree) = tree()?;
    tree.insert(b"k1", b"v1")?;
    tree.insert(b"k2", b"v2")?;
    tree.insert(b"l1", b"w1")?;
    let raw = db.open_tree("items")?;
    let from = || (Bound::Included(b"k2".to_vec()), Bound::Unbounded);
    let by_kv = keys(ReadTree::<KvError>::read_range(&tree, from()))?;
    let by_sled = keys(ReadTree::<KvError>::read_range(&raw, from()))?;
    assert_eq!(by_kv, [b"k2".to_vec(), b"l1".to_vec()]);
    assert_eq!(by_kv, by_sled);
    let prefix_kv = keys(ReadTree::<KvError>::read_prefix(&tree, b"k"))?;
    let prefix_sled = keys(ReadTree::<KvError>::read_prefix(&raw, b"k"))?;
    assert_eq!(prefix_kv, [b"k1".to_vec(), b"k2".to_vec()]);
    assert_eq!(prefix_kv, prefix_sled);
    let got: Option<IVec> = ReadTree::<KvError>::read(&tree, b"l1")?;
    assert_eq!(got.as_deref(), Some(&b"w1"[..]));
    Ok(())
}

#[test]
fn the_kv_types_cross_threads() {
    fn send<T: Send + Sync>() {}
    fn send_only<T: Send>() {}
    send::<Tree>();
    send::<Batch>();
    send::<KvError>();
    send_only::<Iter>();
}
