//! A unit of work on a PostgreSQL store that hub replicas share (`store::postgres`): the
//! transaction that holds the unit lock from the unit's start to its commit, and what the unit
//! writes beside the trees in it: the escalations' journal entries, their idempotency keys
//! (a primary key: storing one twice fails the unit) and the wake the other replicas get
//! when it commits (`crate::replicas`).

use super::super::postgres::{Shared, kv};
use super::super::schema::{self, TreeId};
use super::super::{StoreError, marks};
use super::Touched;
use crate::store::wake::{CHANNEL, StreamLease, Wake};
use socfed_runtime::store_kit::TreeSet;
use socfed_runtime::store_kit::pg::{PgUnit, TreeWrite};
use socfed_runtime::store_kit::unit::Write;

pub(super) struct SharedUnit<'a> {
    shared: &'a Shared,
    tx: PgUnit,
    /// Journal entries of the escalations this unit indexes: (id, encoded entry).
    journal: Vec<(i64, Vec<u8>)>,
    /// Idempotency keys of the escalations this unit stores: (site, epoch, seq, journal id).
    keys: Vec<(String, Vec<u8>, i64, i64)>,
    /// The store's commit counter, read under the unit lock: nobody else commits before this
    /// unit does, so its commit needs no second read.
    commits: u64,
}

impl<'a> SharedUnit<'a> {
    /// Begins the unit's transaction (waits for the unit lock). Also says whether another
    /// replica committed since this replica's last unit: what this replica holds in memory
    /// about the trees must then be read again.
    pub(super) fn begin(shared: &'a Shared) -> Result<(Self, bool), StoreError> {
        let mut tx = shared.pg.begin_unit().map_err(kv)?;
        let commits = match tx
            .get(TreeId::Meta.name(), schema::COMMITS.as_bytes())
            .map_err(kv)?
        {
            Some(raw) => schema::u64_value(schema::META, &raw)?,
            None => 0,
        };
        let stale = shared.others_committed(commits);
        let unit = Self {
            shared,
            tx,
            journal: Vec::new(),
            keys: Vec::new(),
            commits,
        };
        Ok((unit, stale))
    }

    /// The store's commit counter as this unit began (under the lock).
    pub(super) fn commits(&self) -> u64 {
        self.commits
    }

    /// Takes the journal entries of `ids` (appended before this unit) to write with it.
    pub(super) fn take_journal(&mut self, ids: &[u64]) -> Result<(), StoreError> {
        self.journal.extend(self.shared.take_journal(ids)?);
        Ok(())
    }

    /// Notes the idempotency keys of escalations stored under `key`.
    pub(super) fn note_keys(
        &mut self,
        (site, epoch): &marks::Key,
        stored: &[(u64, crate::store::records::EscalationRecord)],
    ) -> Result<(), StoreError> {
        for (seq, record) in stored {
            // bigint is signed: a sequence is kept as the same 64 bits (one to one, so the key
            // is as unique as the sequence; the wire checks keep real ones far below 2^63).
            let seq = i64::from_be_bytes(seq.to_be_bytes());
            let journal = i64::from_be_bytes(record.journal.to_be_bytes());
            self.keys
                .push((site.to_string(), epoch.to_bytes().to_vec(), seq, journal));
        }
        Ok(())
    }

    /// Writes everything and commits; `commits` is the counter the writes leave.
    pub(super) fn commit(
        mut self,
        writes: Vec<Write<TreeId>>,
        touched: &Touched,
        commits: u64,
    ) -> Result<(), StoreError> {
        let shared = self.shared;
        let wake = wake_of(&shared.replica, touched, &writes);
        let result = self
            .write(writes, &wake)
            .and_then(|()| self.tx.commit().map_err(kv));
        match result {
            Ok(()) => {
                shared.committed(commits);
                Ok(())
            }
            Err(e) => {
                // A commit whose answer was lost may have committed: read everything again.
                shared.forget_commits();
                Err(e)
            }
        }
    }

    fn write(&mut self, writes: Vec<Write<TreeId>>, wake: &Wake) -> Result<(), StoreError> {
        let writes: Vec<TreeWrite> = writes
            .into_iter()
            .map(|(id, key, value)| (id.name().to_string(), key, value))
            .collect();
        self.tx.apply(&writes).map_err(kv)?;
        if !self.journal.is_empty() {
            let (ids, entries): (Vec<i64>, Vec<Vec<u8>>) =
                std::mem::take(&mut self.journal).into_iter().unzip();
            self.tx
                .execute(
                    "INSERT INTO escalation_journal (id, entry) \
                     SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                    &[&ids, &entries],
                )
                .map_err(kv)?;
        }
        if !self.keys.is_empty() {
            let mut sites = Vec::with_capacity(self.keys.len());
            let mut epochs = Vec::with_capacity(self.keys.len());
            let mut seqs = Vec::with_capacity(self.keys.len());
            let mut journal = Vec::with_capacity(self.keys.len());
            for (site, epoch, seq, id) in std::mem::take(&mut self.keys) {
                sites.push(site);
                epochs.push(epoch);
                seqs.push(seq);
                journal.push(id);
            }
            // No ON CONFLICT: a key stored before makes this unit fail as a whole.
            self.tx
                .execute(
                    "INSERT INTO escalation_keys (site, epoch, seq, journal) \
                     SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[])",
                    &[&sites, &epochs, &seqs, &journal],
                )
                .map_err(kv)?;
        }
        if !wake.is_empty() {
            self.tx.notify(CHANNEL, &wake.encode()).map_err(kv)?;
        }
        Ok(())
    }
}

/// What the other replicas must hear of a unit that wrote `writes`.
fn wake_of(replica: &str, touched: &Touched, writes: &[Write<TreeId>]) -> Wake {
    let roster = writes.iter().any(|(id, key, _)| {
        *id == TreeId::Operators || (*id == TreeId::Meta && key.starts_with(schema::MEMBERS_PREFIX))
    });
    Wake {
        replica: replica.to_string(),
        directive_sites: touched.directive_sites.clone(),
        state_sites: touched.state_sites.clone(),
        every_site: false,
        runbooks: touched.runbooks,
        first_event: touched.first_event,
        last_event: touched.last_event,
        roster,
        stream: touched
            .stream
            .as_ref()
            .map(|(site, generation)| StreamLease {
                site: site.clone(),
                generation: *generation,
            }),
    }
}
