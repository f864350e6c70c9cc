//! The alert search's postings (`idx_search`): one empty-valued key per term and group
//! (`field tag ++ token ++ 0x00 ++ group ULID`), written in the unit that writes the group
//! (only the terms that changed), built for existing groups by the upgrade to schema 10,
//! and read by seeks only: a query is a leapfrog join over its terms' postings
//! (`socfed_proto::search::intersect`), newest group first.

use super::schema::{self, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::group::AlertGroup;
use crate::soc::search::group_terms;
use socfed_proto::search::{self, Page, Query};
use socfed_runtime::store_kit::postings;
use socfed_runtime::store_kit::{TreeSet, Trees};
use ulid::Ulid;

impl Unit<'_> {
    /// Keeps `group`'s postings in step with what changed since `old` (none: all new).
    pub(super) fn index_search(&mut self, old: Option<&AlertGroup>, group: &AlertGroup) {
        let new_terms = group_terms(group);
        let old_terms = old.map(group_terms).unwrap_or_default();
        let id = group.id.to_bytes();
        for gone in old_terms.difference(&new_terms) {
            self.remove(TreeId::IdxSearch, gone.key(id));
        }
        for added in new_terms.difference(&old_terms) {
            self.put_raw(TreeId::IdxSearch, added.key(id), Vec::new());
        }
    }
}

impl AgentStore {
    /// The groups matching every term of `query`, newest first, below `before`, at most
    /// `limit`, with the cursor of the next page.
    pub fn search_groups(
        &self,
        query: &Query,
        before: Option<Ulid>,
        limit: usize,
    ) -> Result<(Vec<AlertGroup>, Option<Ulid>), StoreError> {
        let tree = self.tree(TreeId::IdxSearch);
        let Page { ids, next } = search::intersect(
            query,
            before.map(|id| id.to_bytes()),
            limit,
            |term, below| postings::seek::<StoreError>(tree, TreeId::IdxSearch.name(), term, below),
            |_| Ok(true),
        )?;
        let mut groups = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(group) = self.group(Ulid::from_bytes(id))? {
                groups.push(group);
            }
        }
        Ok((groups, next.map(Ulid::from_bytes)))
    }
}

/// Groups indexed per batch by the upgrade to schema 10: bounded memory whatever the store
/// holds.
const UPGRADE_BLOCK_GROUPS: usize = 500;

/// Schema 10: every stored group's postings, a block of groups per batch. Idempotent (a
/// posting is an empty value under a key made of the group's content), so a crash part way
/// repeats it from the start at the next open. Returns the groups indexed.
pub(super) fn index_existing(trees: &Trees<TreeId>) -> Result<u64, StoreError> {
    let postings = trees.tree(TreeId::IdxSearch);
    let mut batch = sled::Batch::default();
    let (mut in_batch, mut indexed) = (0usize, 0u64);
    for value in trees.tree(TreeId::Groups).iter().values() {
        let (group, _) = schema::decode_group_any(&value?)?;
        for term in group_terms(&group) {
            batch.insert(term.key(group.id.to_bytes()), Vec::new());
        }
        in_batch += 1;
        indexed += 1;
        if in_batch >= UPGRADE_BLOCK_GROUPS {
            postings.apply_batch(std::mem::take(&mut batch))?;
            in_batch = 0;
        }
    }
    postings.apply_batch(batch)?;
    Ok(indexed)
}
