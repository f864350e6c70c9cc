//! What the sites committed versus what the hub stored. The [`Ledger`] records every escalation
//! an agent accepted (its RaiseIncident call returned OK: committed to the outbox); after the
//! hub is stopped, [`read_stopped_hub`] reads every escalation record from the hub's sled store
//! (and its report from the hub's journal),
//! and [`check_exactly_once`] compares the two: none lost, none stored twice, each stored under
//! the sequence the agent gave it, with the payload the caller sent.

use sirt_hub::store::records::EscalationRecord;
use sirt_hub::store::schema;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

/// One escalation an agent accepted.
#[derive(Debug, Clone)]
pub struct Committed {
    pub site: String,
    /// The caller's number for it (the request id is `SITE-INDEX`).
    pub index: usize,
    pub local_incident_id: String,
    pub seq: u64,
    /// The agent answered a retried request from its record (committed by an earlier call).
    pub replayed: bool,
    pub payload_hash: [u8; 32],
}

#[derive(Debug, Default)]
pub struct Ledger(Mutex<Vec<Committed>>);

impl Ledger {
    pub fn record(&self, committed: Committed) {
        if let Ok(mut all) = self.0.lock() {
            all.push(committed);
        }
    }

    pub fn entries(&self) -> Vec<Committed> {
        self.0.lock().map(|all| all.clone()).unwrap_or_default()
    }

    /// The highest sequence committed at `site` so far (0 if none).
    pub fn max_seq(&self, site: &str) -> u64 {
        self.0
            .lock()
            .map(|all| {
                all.iter()
                    .filter(|c| c.site == site)
                    .map(|c| c.seq)
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0)
    }
}

/// The hash the tests compare: what the caller chose to send (title, description, severity).
pub fn payload_hash(title: &str, description: &str, severity: i32) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(title.as_bytes());
    hasher.update(&[0]);
    hasher.update(description.as_bytes());
    hasher.update(&[0]);
    hasher.update(&severity.to_be_bytes());
    *hasher.finalize().as_bytes()
}

/// One record of the hub's `escalations` tree.
#[derive(Debug, Clone)]
pub struct StoredEscalation {
    pub site: String,
    pub epoch: ulid::Ulid,
    pub seq: u64,
    pub record: EscalationRecord,
    /// The report as received, from the journal; `None` when it was rejected.
    pub report: Option<socfed_proto::vocab::IncidentReport>,
}

/// Every escalation record of a stopped hub's store (the hub must not be running: sled locks
/// its directory).
pub fn read_stopped_hub(data_dir: &Path) -> anyhow::Result<Vec<StoredEscalation>> {
    let db = socfed_runtime::store_files::sled_config(data_dir)?.open()?;
    let tree = db.open_tree(schema::ESCALATIONS)?;
    let journal = sirt_hub::store::journal::Journal::open(
        data_dir,
        socfed_runtime::config::Durability::Flush,
        0,
    )?;
    let items = tree.iter().map(|item| item.map_err(anyhow::Error::from));
    escalations(items, |id| Ok(journal.get(id)?))
}

/// The escalation records of the `escalations` tree's `items`, each with its report from the
/// journal (`entry` reads one by id).
fn escalations(
    items: impl Iterator<Item = anyhow::Result<(sled::IVec, sled::IVec)>>,
    entry: impl Fn(u64) -> anyhow::Result<sirt_hub::store::journal::JournalEntry>,
) -> anyhow::Result<Vec<StoredEscalation>> {
    let mut out = Vec::new();
    for item in items {
        let (key, value) = item?;
        // site ++ 0x00 ++ epoch (16) ++ last seq (8): a run (`schema::escalation_key`).
        let (site, epoch, _) = schema::escalation_key_parts(&key)
            .ok_or_else(|| anyhow::anyhow!("escalation key of {} bytes", key.len()))?;
        let run = schema::decode_escalation_run_at(&key, &value)?;
        for (seq, record) in run.iter() {
            let report = entry(record.journal)?
                .report()
                .transpose()
                .map_err(|e| anyhow::anyhow!("seq {seq}: journaled report unreadable: {e}"))?;
            out.push(StoredEscalation {
                site: site.as_str().to_string(),
                epoch,
                seq,
                record: record.clone(),
                report,
            });
        }
    }
    Ok(out)
}

/// Every escalation record of a hub store in PostgreSQL (the schema every replica shares; the
/// replicas may still run: each read is of committed rows), each with its report from the
/// store's journal table. Also checks that the database holds one idempotency key per record.
pub fn read_postgres_hub(
    config: &socfed_runtime::store_kit::pg::PgConfig,
) -> anyhow::Result<Vec<StoredEscalation>> {
    let pg = socfed_runtime::store_kit::pg::PgStore::connect(
        config,
        sirt_hub::store::postgres::MIGRATIONS,
    )?;
    // The journal in one read (one query per record would dominate the check).
    let journal: HashMap<i64, Vec<u8>> = pg
        .query("SELECT id, entry FROM escalation_journal", &[])?
        .iter()
        .map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1)))
        .collect();
    let items = pg
        .tree(schema::ESCALATIONS)
        .iter()
        .map(|item| item.map_err(anyhow::Error::from));
    let out = escalations(items, |id| {
        let id = i64::try_from(id)?;
        let raw = journal
            .get(&id)
            .ok_or_else(|| anyhow::anyhow!("no journal entry {id}"))?;
        Ok(sirt_hub::store::journal::JournalEntry::decode(raw)?)
    })?;
    let keys = pg.query("SELECT count(*) FROM escalation_keys", &[])?;
    let keys = keys.first().map_or(0, |row| row.get::<_, i64>(0));
    anyhow::ensure!(
        usize::try_from(keys)? == out.len(),
        "{keys} idempotency keys for {} stored escalations",
        out.len()
    );
    Ok(out)
}

/// What [`check_exactly_once`] found, for the test's report.
#[derive(Debug, Default)]
pub struct Verdict {
    pub stored: usize,
    pub per_site: BTreeMap<String, usize>,
    /// Requests answered from the agent's record after a retry.
    pub replayed: usize,
}

/// The hub stored exactly the committed escalations: each once, under its (site, sequence),
/// with its payload; every stored record's hash matches its report; and per site the hub
/// stored the sequences in ascending order (receive times never go backwards), under one
/// store epoch.
pub fn check_exactly_once(
    committed: &[Committed],
    stored: &[StoredEscalation],
) -> anyhow::Result<Verdict> {
    let mut by_local: HashMap<(&str, &str), Vec<&StoredEscalation>> = HashMap::new();
    for s in stored {
        let report = s
            .report
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("{} seq {} was rejected, not stored", s.site, s.seq))?;
        anyhow::ensure!(
            s.record.content_hash == report.content_hash(),
            "{} seq {}: stored hash does not match the stored report",
            s.site,
            s.seq
        );
        by_local
            .entry((s.site.as_str(), report.local_incident_id.as_str()))
            .or_default()
            .push(s);
    }
    let mut verdict = Verdict {
        stored: stored.len(),
        ..Verdict::default()
    };
    let mut lost = Vec::new();
    for c in committed {
        let Some(found) = by_local.get(&(c.site.as_str(), c.local_incident_id.as_str())) else {
            lost.push(format!("{} #{} ({})", c.site, c.index, c.local_incident_id));
            continue;
        };
        anyhow::ensure!(
            found.len() == 1,
            "{} {} stored {} times",
            c.site,
            c.local_incident_id,
            found.len()
        );
        let s = found[0];
        anyhow::ensure!(
            s.seq == c.seq,
            "{} {}: committed as seq {}, stored as {}",
            c.site,
            c.local_incident_id,
            c.seq,
            s.seq
        );
        let wire = s.report.as_ref().map(|r| r.to_wire()).unwrap_or_default();
        anyhow::ensure!(
            payload_hash(&wire.title, &wire.description, wire.severity) == c.payload_hash,
            "{} seq {}: the stored payload differs from what was sent",
            c.site,
            c.seq
        );
        *verdict.per_site.entry(c.site.clone()).or_default() += 1;
        verdict.replayed += usize::from(c.replayed);
    }
    anyhow::ensure!(
        lost.is_empty(),
        "{} committed escalations lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );
    // Every committed one was found once; anything else stored was never committed.
    anyhow::ensure!(
        stored.len() == committed.len(),
        "the hub stored {} escalations, the sites committed {}",
        stored.len(),
        committed.len()
    );
    check_order(stored)?;
    Ok(verdict)
}

/// Per site: one store epoch, and receive times non-decreasing in sequence order.
fn check_order(stored: &[StoredEscalation]) -> anyhow::Result<()> {
    let mut by_site: BTreeMap<&str, Vec<&StoredEscalation>> = BTreeMap::new();
    for s in stored {
        by_site.entry(s.site.as_str()).or_default().push(s);
    }
    for (site, mut records) in by_site {
        records.sort_by_key(|s| s.seq);
        let epochs: std::collections::BTreeSet<_> = records.iter().map(|s| s.epoch).collect();
        anyhow::ensure!(epochs.len() == 1, "{site}: {} store epochs", epochs.len());
        for pair in records.windows(2) {
            anyhow::ensure!(
                pair[0].record.received_at_ms <= pair[1].record.received_at_ms,
                "{site}: seq {} was stored after seq {}",
                pair[0].seq,
                pair[1].seq
            );
        }
    }
    Ok(())
}
