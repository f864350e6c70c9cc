//! Copying a stopped hub's sled store into a PostgreSQL schema (`sirt-hub db migrate`), and
//! counting both sides to verify the copy.
//!
//! What moves: every tree of the registry ([`TreeId::ALL`]) as rows of the kit's `kv` table,
//! the escalation journal as it is (same ids, same bytes) into `escalation_journal`, and one
//! `escalation_keys` row per stored escalation (what a PostgreSQL store's units insert as they
//! store one: `store/unit/shared.rs`). Rows go in chunks of [`CHUNK_ROWS`], one transaction
//! each, so memory stays bounded (the journal is read one segment at a time) and a copy of
//! millions of rows makes steady progress.
//!
//! `meta` is copied last: a copy that stopped half way has no schema version, and the
//! schema it left is refused by the next migrate (it holds rows) until dropped.

use super::postgres::kv;
use super::schema::{self, TreeId};
use super::{Backend, HubStore, StoreError};
use socfed_runtime::store_kit::TreeSet;
use socfed_runtime::store_kit::pg::{PgStore, TreeWrite};

/// Rows per transaction of the copy.
pub const CHUNK_ROWS: usize = 4096;

/// What one side holds, per part of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Entries per tree, in registry order.
    pub trees: Vec<(String, u64)>,
    /// Escalation journal entries.
    pub journal: u64,
    /// Stored escalations (sled: records in the `escalations` runs; PostgreSQL: rows of
    /// `escalation_keys`).
    pub escalations: u64,
}

/// The rows a schema's `kv`, `escalation_journal` and `escalation_keys` hold (a migrate target
/// must hold none).
pub fn rows_in(pg: &PgStore) -> Result<u64, StoreError> {
    let rows = pg
        .query(
            "SELECT (SELECT count(*) FROM kv) + (SELECT count(*) FROM escalation_journal) \
                  + (SELECT count(*) FROM escalation_keys)",
            &[],
        )
        .map_err(kv)?;
    Ok(rows
        .first()
        .map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or_default()))
}

/// What the PostgreSQL schema holds, counted by the database.
pub fn counts_in(pg: &PgStore) -> Result<Counts, StoreError> {
    let per_tree = pg
        .query("SELECT tree, count(*) FROM kv GROUP BY tree", &[])
        .map_err(kv)?;
    let found: std::collections::HashMap<String, i64> = per_tree
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
        .collect();
    let count = |sql: &str| -> Result<u64, StoreError> {
        let rows = pg.query(sql, &[]).map_err(kv)?;
        Ok(rows
            .first()
            .map_or(0, |r| u64::try_from(r.get::<_, i64>(0)).unwrap_or_default()))
    };
    Ok(Counts {
        trees: TreeId::ALL
            .iter()
            .map(|id| {
                let n = found.get(id.name()).copied().unwrap_or_default();
                (id.name().to_string(), u64::try_from(n).unwrap_or_default())
            })
            .collect(),
        journal: count("SELECT count(*) FROM escalation_journal")?,
        escalations: count("SELECT count(*) FROM escalation_keys")?,
    })
}

/// Rows waiting for their transaction.
struct Chunk<'a> {
    pg: &'a PgStore,
    writes: Vec<TreeWrite>,
    keys: Vec<(String, Vec<u8>, i64, i64)>,
    /// Called with the rows written so far after each transaction.
    progress: &'a dyn Fn(u64),
    written: u64,
}

impl Chunk<'_> {
    fn push(&mut self, write: TreeWrite) -> Result<(), StoreError> {
        self.writes.push(write);
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<(), StoreError> {
        if self.writes.len() + self.keys.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the rows held in one unit transaction.
    fn flush(&mut self) -> Result<(), StoreError> {
        if self.writes.is_empty() && self.keys.is_empty() {
            return Ok(());
        }
        let mut unit = self.pg.begin_unit().map_err(kv)?;
        unit.apply(&self.writes).map_err(kv)?;
        if !self.keys.is_empty() {
            let mut columns = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (site, epoch, seq, journal) in self.keys.drain(..) {
                columns.0.push(site);
                columns.1.push(epoch);
                columns.2.push(seq);
                columns.3.push(journal);
            }
            unit.execute(
                "INSERT INTO escalation_keys (site, epoch, seq, journal) \
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[], $4::bigint[])",
                &[&columns.0, &columns.1, &columns.2, &columns.3],
            )
            .map_err(kv)?;
            self.written += columns.0.len() as u64;
        }
        unit.commit().map_err(kv)?;
        self.written += self.writes.len() as u64;
        self.writes.clear();
        (self.progress)(self.written);
        Ok(())
    }
}

/// A `u64` as the `bigint` with the same 64 bits (as `store/unit/shared.rs` keeps them).
fn same_bits(n: u64) -> i64 {
    i64::from_be_bytes(n.to_be_bytes())
}

impl HubStore {
    /// What this (sled) store holds, counted: entries per tree, journal entries and stored
    /// escalations.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let mut trees = Vec::with_capacity(TreeId::ALL.len());
        for id in TreeId::ALL {
            trees.push((id.name().to_string(), self.registry.tree(*id).len()? as u64));
        }
        let mut escalations = 0u64;
        for entry in self.registry.tree(TreeId::Escalations).iter() {
            let (key, value) = entry?;
            escalations += schema::decode_escalation_run_at(&key, &value)?
                .records
                .len() as u64;
        }
        let mut journal = 0u64;
        if let Backend::Sled { journal: j, .. } = &self.backend {
            j.visit_encoded(|frames| {
                journal += frames.len() as u64;
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(Counts {
            trees,
            journal,
            escalations,
        })
    }

    /// Copies this sled store into `pg` (a schema holding nothing: [`rows_in`]); `progress`
    /// hears the rows written so far. Returns the rows written.
    pub fn copy_to_postgres(
        &self,
        pg: &PgStore,
        progress: &dyn Fn(u64),
    ) -> Result<u64, StoreError> {
        let Backend::Sled { journal, .. } = &self.backend else {
            return Err(StoreError::Damaged {
                dir: self.dir.clone(),
                reason: "the store to copy from is already in PostgreSQL".into(),
            });
        };
        let mut chunk = Chunk {
            pg,
            writes: Vec::with_capacity(CHUNK_ROWS),
            keys: Vec::new(),
            progress,
            written: 0,
        };
        // The journal first: every escalation record names an entry of it.
        journal.visit_encoded(|frames| {
            for rows in frames.chunks(CHUNK_ROWS) {
                let (ids, entries): (Vec<i64>, Vec<&[u8]>) = rows
                    .iter()
                    .map(|(id, entry)| (same_bits(*id), entry.as_slice()))
                    .unzip();
                pg.execute(
                    "INSERT INTO escalation_journal (id, entry) \
                     SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                    &[&ids, &entries],
                )
                .map_err(kv)?;
                chunk.written += ids.len() as u64;
                progress(chunk.written);
            }
            Ok::<_, StoreError>(())
        })?;
        // New journal ids continue after the copied ones.
        pg.execute(
            "SELECT setval('escalation_journal_ids', max(id)) FROM escalation_journal",
            &[],
        )
        .map_err(kv)?;
        let order = TreeId::ALL
            .iter()
            .filter(|id| **id != TreeId::Meta)
            .chain(std::iter::once(&TreeId::Meta));
        for id in order {
            let name = id.name().to_string();
            let mut version = None;
            for entry in self.registry.tree(*id).iter() {
                let (key, value) = entry?;
                if *id == TreeId::Escalations {
                    note_keys(&mut chunk.keys, &key, &value)?;
                }
                if *id == TreeId::Meta && key.as_ref() == schema::SCHEMA_VERSION_KEY.as_bytes() {
                    // Written last of all: only a complete copy is a store.
                    version = Some(value.to_vec());
                    continue;
                }
                chunk.push((name.clone(), key.to_vec(), Some(value.to_vec())))?;
            }
            if let Some(version) = version {
                chunk.flush()?;
                chunk.push((
                    name,
                    schema::SCHEMA_VERSION_KEY.as_bytes().to_vec(),
                    Some(version),
                ))?;
            }
        }
        chunk.flush()?;
        Ok(chunk.written)
    }
}

/// The idempotency keys of the escalations of one `escalations` run.
fn note_keys(
    keys: &mut Vec<(String, Vec<u8>, i64, i64)>,
    key: &[u8],
    value: &[u8],
) -> Result<(), StoreError> {
    let run = schema::decode_escalation_run_at(key, value)?;
    let (site, epoch, _) = schema::escalation_key_parts(key)
        .ok_or_else(|| schema::key_length(schema::ESCALATIONS, key.len()))?;
    for (seq, record) in run.iter() {
        keys.push((
            site.to_string(),
            epoch.to_bytes().to_vec(),
            same_bits(seq),
            same_bits(record.journal),
        ));
    }
    Ok(())
}
