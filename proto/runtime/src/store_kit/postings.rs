//! Search postings in a tree (a raw sled tree or a [`super::kv::Tree`]) (`socfed_proto::search`): keys `term ++ record id (16)`,
//! read by one seek per step of the join. Both stores' search indexes (the site's alert
//! groups, the hub's incidents) read through this.

use super::CodecError;
use super::kv::ReadTree;
use socfed_proto::search::Term;
use std::ops::Bound;

/// The largest record id among `term`'s postings in `tree` (named `name`) strictly below
/// `below` (`None`: any); a key too short to end in an id is a malformed record.
pub fn seek<E: From<CodecError>>(
    tree: &impl ReadTree<E>,
    name: &'static str,
    term: &Term,
    below: Option<[u8; 16]>,
) -> Result<Option<[u8; 16]>, E> {
    let prefix = term.key_prefix();
    let end = match below {
        Some(id) => term.key(id),
        // The prefix ends in 0x00: every key of the term sorts below it with 0x01 instead.
        None => {
            let mut end = prefix.clone();
            if let Some(last) = end.last_mut() {
                *last = 1;
            }
            end
        }
    };
    let Some(entry) = tree
        .read_range((Bound::Included(prefix), Bound::Excluded(end)))
        .next_back()
    else {
        return Ok(None);
    };
    let (key, _) = entry?;
    let start = key
        .len()
        .checked_sub(16)
        .ok_or_else(|| CodecError::Malformed {
            tree: name,
            detail: "a search posting key shorter than a record id".into(),
        })?;
    let mut id = [0u8; 16];
    id.copy_from_slice(&key[start..]);
    Ok(Some(id))
}
