//! The agent's durable state: the escalation outbox, its sequence numbers and store epoch,
//! and the answers to callers' request ids. The only module that touches sled.
//!
//! Invariant: an escalation is in the outbox and flushed before `enqueue` returns, and the
//! uplink only ever sends what is in the outbox, so nothing is sent that is not durable here.

pub mod cap;
pub mod schema;

use cap::{Admission, OnFull};
use schema::{CodecError, OutboxEntry, RequestRecord};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use socfed_proto::UnixMillis;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use ulid::Ulid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store at {path}: {source}; if another site-agent uses this data_dir, stop it first")]
    Open { path: PathBuf, source: sled::Error },
    #[error("store schema version {0} is newer than this build understands; upgrade socfed")]
    SchemaVersion(u32),
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    #[error("storage sync: {0}")]
    Sync(#[from] std::io::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error(
        "the outbox is full ({len} of {cap} escalations waiting for the hub, oldest {oldest_age_s} s old) and on_full = \"refuse-new\"; restore the hub connection or raise outbox.max_entries"
    )]
    OutboxFull {
        len: u64,
        cap: u64,
        oldest_age_s: u64,
    },
}

pub use socfed_proto::config::Durability;

/// What `enqueue` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub local_incident_id: String,
    pub seq: u64,
    /// The request id was seen before; nothing new was queued.
    pub replayed: bool,
    /// Oldest entries dropped to make room (drop-oldest policy).
    pub dropped: Vec<u64>,
}

/// Counters kept in `meta`, read together for status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub next_seq: u64,
    pub acked_through: u64,
    pub refused_total: u64,
    pub dropped_total: u64,
    pub conflicts_reported: u64,
    pub rejected_reported: u64,
}

pub struct AgentStore {
    db: sled::Db,
    meta: sled::Tree,
    outbox: sled::Tree,
    requests: sled::Tree,
    epoch: Ulid,
    data_file: Option<File>,
    /// Serialises writers so sequence assignment and the length count stay exact.
    write_lock: Mutex<()>,
    outbox_len: AtomicU64,
    /// Wakes the uplink when something was enqueued.
    pub enqueued: tokio::sync::Notify,
}

type TxError = ConflictableTransactionError<CodecError>;

fn get_u64(tree: &TransactionalTree, key: &str) -> Result<u64, TxError> {
    match tree.get(key)? {
        Some(raw) => {
            schema::u64_of(schema::META, &raw).map_err(ConflictableTransactionError::Abort)
        }
        None => Ok(0),
    }
}

fn tx_result<T>(result: Result<T, TransactionError<CodecError>>) -> Result<T, StoreError> {
    result.map_err(|e| match e {
        TransactionError::Abort(codec) => StoreError::Codec(codec),
        TransactionError::Storage(sled) => StoreError::Sled(sled),
    })
}

impl AgentStore {
    /// Opens (or creates, with a fresh epoch) the store in `dir`.
    pub fn open(dir: &Path, durability: Durability, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|source| StoreError::Open {
                path: dir.to_path_buf(),
                source,
            })?;
        let meta = db.open_tree(schema::META)?;
        let outbox = db.open_tree(schema::OUTBOX)?;
        let requests = db.open_tree(schema::REQUESTS)?;
        if let Some(raw) = meta.get("schema_version")? {
            let found = raw
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .unwrap_or(u32::MAX);
            if found > schema::SCHEMA_VERSION {
                return Err(StoreError::SchemaVersion(found));
            }
        }
        let epoch = match meta.get(schema::EPOCH)? {
            Some(raw) => {
                let bytes: [u8; 16] = raw.as_ref().try_into().map_err(|_| CodecError::Corrupt {
                    tree: schema::META,
                    detail: "epoch is not 16 bytes".into(),
                })?;
                Ulid::from_bytes(bytes)
            }
            None => {
                // A new store is a new epoch: the hub keys everything by (site, epoch, seq), so
                // sequence numbers of a recreated store never collide with the old ones.
                let epoch = Ulid::new();
                meta.insert("schema_version", &schema::SCHEMA_VERSION.to_be_bytes())?;
                meta.insert(schema::NEXT_SEQ, &1u64.to_be_bytes())?;
                meta.insert(schema::EPOCH, &epoch.to_bytes())?;
                epoch
            }
        };
        db.flush()?;
        let data_file = match durability {
            Durability::Fsync => Some(File::open(dir.join("db"))?),
            Durability::Flush => None,
        };
        // One scan at start; afterwards the count is maintained by every writer.
        let len = outbox.len() as u64;
        Ok(Self {
            db,
            meta,
            outbox,
            requests,
            epoch,
            data_file,
            write_lock: Mutex::new(()),
            outbox_len: AtomicU64::new(len),
            enqueued: tokio::sync::Notify::new(),
        })
    }

    pub fn epoch(&self) -> Ulid {
        self.epoch
    }

    pub fn outbox_len(&self) -> u64 {
        self.outbox_len.load(Ordering::Relaxed)
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        if let Some(file) = &self.data_file {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Queues a report (already validated and encoded) for the hub and makes it durable.
    /// `report_for` builds the report bytes once the local incident id is known.
    pub fn enqueue(
        &self,
        request_id: Option<&str>,
        cap: u64,
        on_full: OnFull,
        now: UnixMillis,
        report_for: impl Fn(&str) -> Vec<u8>,
    ) -> Result<Enqueued, StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(id) = request_id
            && let Some(raw) = self.requests.get(id)?
        {
            let previous: RequestRecord = schema::decode(schema::REQUESTS, &raw)?;
            return Ok(Enqueued {
                local_incident_id: previous.local_incident_id,
                seq: previous.seq,
                replayed: true,
                dropped: vec![],
            });
        }
        let len = self.outbox_len();
        let drop_count = match cap::admit(len, cap, on_full) {
            Admission::Admit => 0,
            Admission::AdmitDroppingOldest(n) => n,
            Admission::Refuse => {
                self.bump(schema::REFUSED_TOTAL, 1)?;
                self.sync()?;
                let oldest_age_s = self
                    .oldest_enqueued_at()?
                    .map_or(0, |t| (now - t).max(0) as u64 / 1000);
                return Err(StoreError::OutboxFull {
                    len,
                    cap,
                    oldest_age_s,
                });
            }
        };
        let dropped: Vec<u64> = self
            .outbox
            .iter()
            .keys()
            .take(drop_count as usize)
            .map(|k| {
                k.map_err(StoreError::from)
                    .and_then(|k| Ok(schema::u64_of(schema::OUTBOX, &k)?))
            })
            .collect::<Result<_, _>>()?;
        let local_incident_id = format!(
            "INC-{}",
            Ulid::from_parts(now.max(0) as u64, rand::random())
        );
        let report = report_for(&local_incident_id);
        let entry = schema::encode(
            schema::OUTBOX,
            &OutboxEntry {
                enqueued_at_ms: now,
                report,
            },
        )?;
        let seq = tx_result((&self.meta, &self.outbox, &self.requests).transaction(
            |(meta, outbox, requests)| {
                let seq = get_u64(meta, schema::NEXT_SEQ)?.max(1);
                meta.insert(schema::NEXT_SEQ, &(seq + 1).to_be_bytes())?;
                outbox.insert(&seq.to_be_bytes(), entry.clone())?;
                for old in &dropped {
                    outbox.remove(&old.to_be_bytes())?;
                }
                if !dropped.is_empty() {
                    let total = get_u64(meta, schema::DROPPED_TOTAL)? + dropped.len() as u64;
                    meta.insert(schema::DROPPED_TOTAL, &total.to_be_bytes())?;
                }
                if let Some(id) = request_id {
                    let record = RequestRecord {
                        local_incident_id: local_incident_id.clone(),
                        seq,
                        at_ms: now,
                    };
                    requests.insert(
                        id,
                        schema::encode(schema::REQUESTS, &record)
                            .map_err(ConflictableTransactionError::Abort)?,
                    )?;
                }
                Ok(seq)
            },
        ))?;
        self.sync()?;
        self.outbox_len
            .store(len + 1 - dropped.len() as u64, Ordering::Relaxed);
        self.enqueued.notify_one();
        Ok(Enqueued {
            local_incident_id,
            seq,
            replayed: false,
            dropped,
        })
    }

    /// Removes every entry the hub acknowledged. Not flushed: losing a removal only causes a
    /// resend, which the hub recognises as a duplicate.
    pub fn acknowledge(&self, acked_through: u64) -> Result<u64, StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut batch = sled::Batch::default();
        let mut removed = 0u64;
        for key in self.outbox.range(..=acked_through.to_be_bytes()).keys() {
            batch.remove(key?);
            removed += 1;
        }
        self.outbox.apply_batch(batch)?;
        let previous = self.counter(schema::ACKED_THROUGH)?;
        if acked_through > previous {
            self.meta
                .insert(schema::ACKED_THROUGH, &acked_through.to_be_bytes())?;
        }
        let len = self.outbox_len().saturating_sub(removed);
        self.outbox_len.store(len, Ordering::Relaxed);
        Ok(removed)
    }

    /// Entries with `seq >= from`, in order, at most `limit`.
    pub fn pending_from(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, OutboxEntry)>, StoreError> {
        self.outbox
            .range(from.to_be_bytes()..)
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                Ok((
                    schema::u64_of(schema::OUTBOX, &key)?,
                    schema::decode(schema::OUTBOX, &value)?,
                ))
            })
            .collect()
    }

    pub fn oldest_enqueued_at(&self) -> Result<Option<UnixMillis>, StoreError> {
        match self.outbox.first()? {
            Some((_, value)) => Ok(Some(
                schema::decode::<OutboxEntry>(schema::OUTBOX, &value)?.enqueued_at_ms,
            )),
            None => Ok(None),
        }
    }

    pub fn counters(&self) -> Result<Counters, StoreError> {
        Ok(Counters {
            next_seq: self.counter(schema::NEXT_SEQ)?,
            acked_through: self.counter(schema::ACKED_THROUGH)?,
            refused_total: self.counter(schema::REFUSED_TOTAL)?,
            dropped_total: self.counter(schema::DROPPED_TOTAL)?,
            conflicts_reported: self.counter(schema::CONFLICTS_REPORTED)?,
            rejected_reported: self.counter(schema::REJECTED_REPORTED)?,
        })
    }

    /// Counts a hub notice about one of our escalations (conflict or rejection).
    pub fn count_notice(&self, key: &'static str) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.bump(key, 1)
    }

    fn counter(&self, key: &str) -> Result<u64, StoreError> {
        match self.meta.get(key)? {
            Some(raw) => Ok(schema::u64_of(schema::META, &raw)?),
            None => Ok(0),
        }
    }

    fn bump(&self, key: &str, by: u64) -> Result<(), StoreError> {
        let value = self.counter(key)? + by;
        self.meta.insert(key, &value.to_be_bytes())?;
        Ok(())
    }

    /// Flushes everything (used at shutdown).
    pub fn close(&self) -> Result<(), StoreError> {
        self.sync()
    }
}
