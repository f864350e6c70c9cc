//! `db check`: every record of a stopped store read and checked with the tool's own check
//! (the one `db import` applies to a dump, [`crate::dump::Check`]), then the tool's checks of
//! what lives beside sled (the hub's journal, the agent's alert samples), on one opening of the
//! store ([`crate::dump`]'s, which refuses a store in use). Nothing is rewritten or upgraded by
//! the record pass.

use crate::dump::{Check, DumpError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Problems listed at most; the rest are counted.
pub const MAX_LISTED: usize = 100;

/// What `db check` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreCheck {
    /// Records per tree.
    pub trees: BTreeMap<String, u64>,
    pub entries: u64,
    /// The first [`MAX_LISTED`] problems, each naming its tree and key.
    pub problems: Vec<String>,
    pub problems_total: u64,
}

impl StoreCheck {
    /// Records one more problem.
    pub fn problem(&mut self, what: String) {
        self.problems_total += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(what);
        }
    }
}

/// Opens the stopped store in `dir` for `db check`: refuses a directory that holds no store
/// (sled would create one) and a store in use.
pub fn open(dir: &Path) -> Result<sled::Db, DumpError> {
    if !dir.join("conf").exists() && !dir.join("db").exists() {
        return Err(DumpError::Format(format!(
            "no store at {}: check the config's data_dir",
            dir.display()
        )));
    }
    crate::dump::open(dir)
}

/// Reads every record of `db` through `check`; `progress` is called with the count so far.
pub fn check_records(
    db: &sled::Db,
    check: Check<'_>,
    progress: &dyn Fn(u64),
) -> Result<StoreCheck, DumpError> {
    let mut found = StoreCheck::default();
    for name in db.tree_names() {
        let tree_name = String::from_utf8_lossy(&name).into_owned();
        let tree = db.open_tree(&name)?;
        let mut count = 0u64;
        for entry in tree.iter() {
            let (key, value) = entry?;
            count += 1;
            found.entries += 1;
            if let Err(why) = check(&tree_name, &key, &value) {
                found.problem(format!(
                    "tree {tree_name}, key {}: {why}",
                    socfed_proto::hex::encode(&key)
                ));
            }
            if found.entries.is_multiple_of(4096) {
                progress(found.entries);
            }
        }
        found.trees.insert(tree_name, count);
    }
    progress(found.entries);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse_bad(_tree: &str, _key: &[u8], value: &[u8]) -> Result<(), String> {
        if value == b"bad" {
            Err("not a record".into())
        } else {
            Ok(())
        }
    }

    #[test]
    fn every_record_is_checked_and_problems_name_tree_and_key() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let db = crate::store_files::sled_config(dir.path())
                .expect("config")
                .open()
                .expect("db");
            let t = db.open_tree("things").expect("tree");
            t.insert(b"a", &b"good"[..]).expect("insert");
            t.insert(b"b", &b"bad"[..]).expect("insert");
            db.flush().expect("flush");
        }
        let db = open(dir.path()).expect("opened");
        let found = check_records(&db, &refuse_bad, &|_| {}).expect("checked");
        assert_eq!(found.trees.get("things"), Some(&2));
        assert_eq!(found.problems_total, 1);
        assert_eq!(found.problems, ["tree things, key 62: not a record"]);
    }

    #[test]
    fn a_directory_without_a_store_is_refused_and_left_empty() {
        let dir = tempfile::tempdir().expect("dir");
        let Err(refused) = open(dir.path()) else {
            panic!("a directory without a store was opened");
        };
        assert!(refused.to_string().contains("no store"), "{refused}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("read").count(), 0);
    }
}
