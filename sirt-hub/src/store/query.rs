//! Read paths for operator queries. Reads never block the ingest writer (sled readers are
//! lock-free) and see only committed batches' effects or newer.

use super::records::{ReviewRecord, SiteRecord};
use super::{HubStore, StoreError};
use super::{query_index, schema};
use crate::incident::{IncidentRecord, IncidentStatus};
use socfed_proto::vocab::{Severity, SiteId};
use ulid::Ulid;

/// Filters of `ListIncidents`; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub site: Option<SiteId>,
    pub status: Option<IncidentStatus>,
    pub min_severity: Option<Severity>,
}

impl IncidentFilter {
    fn matches(&self, record: &IncidentRecord) -> bool {
        self.status.is_none_or(|s| record.status() == s)
            && self.min_severity.is_none_or(|s| record.severity() >= s)
    }
}

/// One page of incidents, newest first, and the cursor of the next page.
#[derive(Debug, Default)]
pub struct IncidentPage {
    pub incidents: Vec<IncidentRecord>,
    pub next: Option<Ulid>,
}

/// How many records one page may examine before it returns what it has with a cursor, so an
/// unselective filter costs bounded work per call.
const SCAN_BUDGET: usize = 50_000;

impl HubStore {
    pub fn incident(&self, id: Ulid) -> Result<Option<IncidentRecord>, StoreError> {
        match self.trees.incidents.get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode_incident(&raw)?)),
            None => Ok(None),
        }
    }

    /// Newest first. `before` is the cursor returned by the previous page: the page holds
    /// matching incidents older than it. A page stops at `limit` results or after examining
    /// [`SCAN_BUDGET`] index positions, and then names the last position examined as the next
    /// cursor. The indexes choose what to read (`query_index.rs`); the record has the last
    /// word, so a listing racing a change never shows an incident that does not match.
    ///
    /// `readable` is the caller's TLP:RED rule, applied inside the scan: a page is full of
    /// rows the caller may read, and the cursor names only a position the caller may read
    /// (a cursor is an incident id: naming a RED incident would tell it exists). Past the
    /// budget the walk goes on to the first such position, so the extra work is bounded by
    /// a run of incidents hidden from the caller.
    pub fn list_incidents(
        &self,
        filter: &IncidentFilter,
        before: Option<Ulid>,
        limit: usize,
        mut readable: impl FnMut(&IncidentRecord) -> bool,
    ) -> Result<IncidentPage, StoreError> {
        let mut page = IncidentPage::default();
        let mut scanned = 0usize;
        for step in query_index::walk(&self.trees, filter, before) {
            let step = step?;
            scanned += 1;
            let over_budget = scanned >= SCAN_BUDGET;
            // A passed position's record is read only when it may become the cursor, so the
            // index keeps skipping what cannot match without reading it.
            let record = match step {
                query_index::Step::Candidate(id) => self.incident(id)?,
                query_index::Step::Passed(id) if over_budget => self.incident(id)?,
                query_index::Step::Passed(_) => None,
            };
            // An id with no record names nothing: safe as a cursor.
            let may_read = record.as_ref().is_none_or(&mut readable);
            if let query_index::Step::Candidate(_) = step
                && may_read
                && let Some(record) = record
                && filter.matches(&record)
            {
                page.incidents.push(record);
            }
            if may_read && (page.incidents.len() >= limit || over_budget) {
                page.next = Some(step.id());
                break;
            }
        }
        Ok(page)
    }

    pub fn sites(&self) -> Result<Vec<(SiteId, SiteRecord)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.trees.sites.iter() {
            let (key, raw) = entry?;
            let Ok(site) = SiteId::parse(&String::from_utf8_lossy(&key)) else {
                continue;
            };
            out.push((site, schema::decode(schema::TreeId::Sites, &raw)?));
        }
        Ok(out)
    }

    /// Up to `limit` offers kept for review, of `site` or of every site, after the key
    /// `after` (a page token); the key to pass for the next page if there is one.
    pub fn reviews(
        &self,
        site: Option<&SiteId>,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<(Vec<ReviewRecord>, Option<Vec<u8>>), StoreError> {
        let prefix = site.map(schema::site_prefix).unwrap_or_default();
        // A token from another filter may point before this site's keys: start at them.
        let start = match after {
            Some(key) if key >= prefix.as_slice() => std::ops::Bound::Excluded(key.to_vec()),
            _ => std::ops::Bound::Included(prefix.clone()),
        };
        let mut page = Vec::new();
        let mut last_key = None;
        for entry in self
            .trees
            .reviews
            .range((start, std::ops::Bound::Unbounded))
        {
            let (key, raw) = entry?;
            if !key.starts_with(&prefix) {
                break;
            }
            if page.len() == limit {
                return Ok((page, last_key));
            }
            page.push(schema::decode(schema::TreeId::Reviews, &raw)?);
            last_key = Some(key.to_vec());
        }
        Ok((page, None))
    }
}

impl HubStore {
    /// The high-water mark acknowledged for `(site, epoch)`.
    pub fn acked_through_for(&self, site: &SiteId, epoch: Ulid) -> Result<u64, StoreError> {
        match self.trees.epochs.get(schema::epoch_key(site, epoch))? {
            Some(raw) => Ok(schema::u64_value(schema::EPOCHS, &raw)?),
            None => Ok(0),
        }
    }

    /// `site`'s stream lease generation: its newest stream's (`crate::replicas`).
    pub fn stream_lease(&self, site: &SiteId) -> Result<u64, StoreError> {
        match self.trees.meta.get(schema::stream_lease_key(site))? {
            Some(raw) => Ok(schema::u64_value(schema::META, &raw)?),
            None => Ok(0),
        }
    }
}

/// Why a lazy walk of the audit chain stopped early.
enum Walk {
    Store(StoreError),
    Unreadable(String),
}

impl HubStore {
    /// Walks the audit chain against its recorded head: (entries, problem if any). Streams:
    /// one entry decoded at a time, so a long chain is checked in bounded memory.
    pub fn verify_audit(&self) -> Result<(u64, Option<String>), StoreError> {
        let head: Option<schema::AuditHead> = match self.trees.meta.get(schema::AUDIT_HEAD)? {
            Some(raw) => Some(schema::decode(schema::TreeId::Meta, &raw)?),
            None => None,
        };
        let keyed_from = match self.trees.meta.get(schema::AUDIT_KEYED_FROM)? {
            Some(raw) => Some(schema::decode(schema::TreeId::Meta, &raw)?),
            None => None,
        };
        let keying = match socfed_runtime::audit::Keying::new(self.audit_key.clone(), keyed_from) {
            Ok(keying) => keying,
            Err(tamper) => return Ok((self.trees.audit.len()? as u64, Some(tamper.to_string()))),
        };
        let mut walk = socfed_runtime::audit_walk::LazyEntries::new(
            self.trees.audit.iter().values().map(|value| match value {
                Err(e) => Err(Walk::Store(e.into())),
                Ok(raw) => {
                    schema::decode::<socfed_runtime::audit::AuditEntry>(schema::TreeId::Audit, &raw)
                        .map_err(|e| Walk::Unreadable(format!("an entry cannot be read: {e}")))
                }
            }),
        );
        let verdict =
            socfed_runtime::audit::verify(&mut walk, head.map(|h| (h.seq, h.hash)), &keying);
        match (walk.failure(), verdict) {
            (Some(Walk::Store(e)), _) => Err(e),
            (Some(Walk::Unreadable(problem)), _) => Ok((walk.walked(), Some(problem))),
            (None, Ok(n)) => Ok((n, None)),
            // Reported with the chain's length, as before the walk was lazy.
            (None, Err(tamper)) => {
                let len = walk.walked() + walk.by_ref().count() as u64;
                Ok((len, Some(tamper.to_string())))
            }
        }
    }
}

impl HubStore {
    /// Incidents that carry at least one regulatory flag.
    pub fn regulated_incidents(&self) -> Result<Vec<IncidentRecord>, StoreError> {
        let mut out = Vec::new();
        for key in self.trees.meta.scan_prefix(schema::REGULATED_PREFIX).keys() {
            let key = key?;
            let id = schema::ulid_from_key(schema::META, &key[schema::REGULATED_PREFIX.len()..])?;
            if let Some(record) = self.incident(id)? {
                out.push(record);
            }
        }
        Ok(out)
    }
}
