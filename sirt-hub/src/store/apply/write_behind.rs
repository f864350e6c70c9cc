//! Per-transaction write-behind for the small records every escalation rewrites: the site's
//! counters, its epoch's high-water mark, and its incident-state sequence (`site_states.rs`). Within one transaction they are read and
//! changed in memory and written once at its end, instead of once per escalation: with many
//! escalations from few sites per transaction, that removes two of the tree writes each
//! escalation cost (each write copies a sled leaf).
//!
//! Only this module reads or writes the `sites` and `epochs` trees and the `meta` state
//! sequences inside a transaction, so nothing can see a stale value. A re-run of the transaction closure starts a fresh `Tx` and
//! so a fresh cache.

use super::{Tx, TxError, codec};
use crate::store::records::SiteRecord;
use crate::store::schema;
use socfed_proto::vocab::SiteId;
use std::cell::RefCell;
use std::collections::HashMap;
use ulid::Ulid;

#[derive(Default)]
pub(super) struct WriteBehind {
    sites: RefCell<HashMap<SiteId, SiteRecord>>,
    epochs: RefCell<HashMap<Vec<u8>, u64>>,
    state_seqs: RefCell<HashMap<SiteId, u64>>,
}

impl Tx<'_> {
    pub(super) fn site(&self, site: &SiteId) -> Result<SiteRecord, TxError> {
        if let Some(record) = self.write_behind.sites.borrow().get(site) {
            return Ok(record.clone());
        }
        match self.sites.get(site.as_str())? {
            Some(raw) => codec(schema::decode(schema::TreeId::Sites, &raw)),
            None => Ok(SiteRecord::default()),
        }
    }

    pub(super) fn put_site(&self, site: &SiteId, record: &SiteRecord) -> Result<(), TxError> {
        self.write_behind
            .sites
            .borrow_mut()
            .insert(site.clone(), record.clone());
        Ok(())
    }

    pub(super) fn acked_through(&self, site: &SiteId, epoch: Ulid) -> Result<u64, TxError> {
        let key = schema::epoch_key(site, epoch);
        if let Some(value) = self.write_behind.epochs.borrow().get(&key) {
            return Ok(*value);
        }
        match self.epochs.get(key)? {
            Some(raw) => codec(schema::u64_value(schema::EPOCHS, &raw)),
            None => Ok(0),
        }
    }

    pub(super) fn set_acked_through(&self, site: &SiteId, epoch: Ulid, through: u64) {
        self.write_behind
            .epochs
            .borrow_mut()
            .insert(schema::epoch_key(site, epoch), through);
    }

    /// The next incident-state sequence of `site` (see `site_states.rs`), taken.
    pub(super) fn next_state_seq(&self, site: &SiteId) -> Result<u64, TxError> {
        let known = self.write_behind.state_seqs.borrow().get(site).copied();
        let last = match known {
            Some(last) => last,
            None => match self.meta.get(schema::state_seq_key(site))? {
                Some(raw) => codec(schema::u64_value(schema::META, &raw))?,
                None => 0,
            },
        };
        let next = last.saturating_add(1);
        self.write_behind
            .state_seqs
            .borrow_mut()
            .insert(site.clone(), next);
        Ok(next)
    }

    /// Writes what was deferred; the last step of every transaction.
    pub(super) fn write_behind(&self) -> Result<(), TxError> {
        for (site, record) in self.write_behind.sites.borrow_mut().drain() {
            self.sites.insert(
                site.as_str(),
                codec(schema::encode(schema::TreeId::Sites, &record))?,
            )?;
        }
        for (key, through) in self.write_behind.epochs.borrow_mut().drain() {
            self.epochs.insert(key, &through.to_be_bytes())?;
        }
        for (site, seq) in self.write_behind.state_seqs.borrow_mut().drain() {
            self.meta
                .insert(schema::state_seq_key(&site), &seq.to_be_bytes())?;
        }
        Ok(())
    }
}
