//! The incident search over `incident_search` (`socfed_proto::search`): a leapfrog join of
//! the query's postings, newest incident first, paged below a cursor; incidents the reader may
//! not read are skipped by the join's visibility check, so they are neither shown nor counted.
//! Built for a store of schema 9 by [`index_existing`].

use super::query_directives::Visibility;
use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use crate::incident::IncidentRecord;
use crate::incident::search::incident_terms;
use socfed_proto::search::{self, Page, Query};
use socfed_runtime::store_kit::kv;
use socfed_runtime::store_kit::{TreeSet, postings};
use ulid::Ulid;

impl HubStore {
    /// The incidents matching every term of `query` that `visible` lets the caller read,
    /// newest first, below `before`, at most `limit`, and the next page's cursor.
    pub fn search_incidents(
        &self,
        query: &Query,
        before: Option<Ulid>,
        limit: usize,
        mut visible: Visibility<'_>,
    ) -> Result<(Vec<IncidentRecord>, Option<Ulid>), StoreError> {
        let tree = self.registry.tree(TreeId::IncidentSearch);
        let Page { ids, next } = search::intersect(
            query,
            before.map(|id| id.to_bytes()),
            limit,
            |term, below| {
                postings::seek::<StoreError>(tree, TreeId::IncidentSearch.name(), term, below)
            },
            |id| visible.shows_all([Some(Ulid::from_bytes(id))]),
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.incident(Ulid::from_bytes(id))? {
                out.push(record);
            }
        }
        Ok((out, next.map(Ulid::from_bytes)))
    }
}

/// Incidents indexed per batch by the upgrade to schema 10 (bounded memory).
const UPGRADE_BLOCK: usize = 500;

/// Schema 10: every stored incident's postings (sources: the record). Idempotent, so a crash
/// part way repeats it at the next open; returns the incidents indexed.
pub(super) fn index_existing(incidents: &kv::Tree, postings: &kv::Tree) -> Result<u64, StoreError> {
    let mut batch = kv::Batch::default();
    let (mut in_batch, mut indexed) = (0usize, 0u64);
    for entry in incidents.iter() {
        let (_, raw) = entry?;
        let record = schema::decode_incident(&raw)?;
        for term in incident_terms(&record) {
            batch.insert(term.key(record.id.to_bytes()), [1u8]);
        }
        in_batch += 1;
        indexed += 1;
        if in_batch >= UPGRADE_BLOCK {
            postings.apply_batch(std::mem::take(&mut batch))?;
            in_batch = 0;
        }
    }
    postings.apply_batch(batch)?;
    Ok(indexed)
}

#[cfg(test)]
#[path = "query_search_tests.rs"]
mod tests;
