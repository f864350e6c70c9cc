//! Upgrades a hub store written by an older build, at open, before anything reads it.
//!
//! Version 1 → 2: the listing indexes (`site_incidents` values, `status_incidents`) are built
//! from the incident records. The step is idempotent: it starts by clearing what it builds,
//! and the new version is recorded only after it finished, so a crash part-way leaves a
//! version 1 store that the next open upgrades again. A version 1 build refuses the upgraded
//! store (its schema version is newer), so no build that does not keep the indexes can write
//! to it.
//!
//! Version 2 → 3: nothing is rewritten at open. Incident records of record version 1 kept
//! copies of the lifecycle's status, severity and TLP, and the sites' techniques apart from the
//! operators'; they are read through [`incident_v1`] (`schema::decode_incident`) and written
//! back as version 2 the next time the incident changes. Schema 3 makes an older build, which
//! cannot read version 2 records, refuse the store at open.
//!
//! Version 3 → 4: incident records of version 2 and escalation records of version 1 are read
//! through `legacy.rs` like version 1 records above. The per-site incident-state log
//! (`site_states`, `site_state_log`) is built from `local_refs`, one entry per local incident
//! a site escalated, so every site is sent the hub's state of what it escalated before; the
//! step clears what it builds first, so a crash part-way repeats it.
//!
//! Version 4 → 5: nothing is rewritten. Incident records of version 3 are read through
//! `legacy.rs` (no indicator dropped yet); schema 5 makes an older build refuse the store.
//!
//! Version 5 → 6: every escalation record of version 1 or 2 has its report moved into the
//! journal (`journal/`) and is rewritten as version 3, which holds the journal id. A crash
//! part-way repeats the step: records already rewritten are skipped, and whatever an
//! interrupted run appended to the journal is marked applied first (a schema 5 store has no
//! other journal entries), so no replay takes it for a new escalation.
//!
//! Version 6 → 7: `fingerprints` keys gain their generation in front (`fingerprint_gens.rs`):
//! each 32-byte key is written again under the generation of its `last_seen_ms` and removed.
//! Only 32-byte keys are taken, so a crash part-way repeats the step for what is left.
//!
//! Version 7 → 8: `escalations` packed in runs (`upgrade_runs.rs`).
//!
//! Version 8 → 9: nothing is rewritten; the `events` tree starts empty and the first event
//! appended is sequence 1. Schema 9 makes an older build, which would change incidents
//! without logging them, refuse the store.
//!
//! Version 9 → 10: nothing is rewritten; `observables` and `observable_index` start empty
//! (observables accrue from the next reports and analysts' edits). Schema 10 makes an older
//! build, which would change incidents without keeping them, refuse the store.
//!
//! Version 9 → 10: nothing is rewritten; `runbooks`, `runbook_versions` and `runbook_log`
//! start empty.
//!
//! Version 9 → 10: nothing is rewritten; the hunt library's trees start empty.
//!
//! Version 10 → 11: nothing is rewritten; `enrolled_sites` starts empty and the hub seeds it
//! from the config's `[[sites]]` at start (`crate::enrolment::seed`).

use super::journal::{Journal, JournalEntry, JournaledOffer};
use super::{StoreError, Trees, legacy, schema};
use prost::Message;
use socfed_proto::vocab::SiteId;
use socfed_runtime::store_kit::kv;
use std::collections::HashMap;

#[path = "upgrade_runs.rs"]
mod runs;

/// Escalations moved into the journal per append (and sync).
const MOVED_PER_APPEND: usize = 1024;

/// Brings a store of version `found` to [`schema::SCHEMA_VERSION`].
pub(super) fn upgrade(
    trees: &Trees,
    (escalations, fingerprints): (&kv::Tree, &kv::Tree),
    journal: &Journal,
    found: u32,
) -> Result<(), StoreError> {
    if found < 2 {
        build_listing_indexes(trees)?;
    }
    // 2 → 3: incident records are upgraded when read (module docs).
    if found < 4 {
        build_site_state_log(trees)?;
    }
    if found < 6 {
        move_reports_to_journal(trees, escalations, journal)?;
    }
    if found < 7 {
        key_fingerprints_by_generation(fingerprints)?;
    }
    if found < 8 {
        runs::pack_escalation_runs(escalations)?;
    }
    // 9 → 10: `incident_notes` is opened empty with the other trees; only the version.
    // 10 → 11: `enrolled_sites` likewise (seeded from the config at start, not here).
    // The indexes are durable before the version that says they exist (flushes every tree).
    trees.meta.flush()?;
    trees.meta.insert(
        schema::SCHEMA_VERSION_KEY,
        schema::SCHEMA_VERSION.to_be_bytes(),
    )?;
    Ok(())
}

/// Schema 7: every fingerprint under its generation (module docs).
fn key_fingerprints_by_generation(tree: &kv::Tree) -> Result<(), StoreError> {
    let generations = super::fingerprint_gens::Generations::default();
    let mut batch = kv::Batch::default();
    let (mut pending, mut moved) = (0, 0u64);
    for entry in tree.iter() {
        let (key, raw) = entry?;
        let Ok(fingerprint) = <[u8; 32]>::try_from(key.as_ref()) else {
            continue;
        };
        let record: super::records::FingerprintRecord =
            schema::decode(schema::TreeId::Fingerprints, &raw)?;
        let generation = generations.generation(record.last_seen_ms);
        batch.insert(schema::fingerprint_key(generation, &fingerprint), raw);
        batch.remove(key);
        pending += 1;
        moved += 1;
        if pending == MOVED_PER_APPEND {
            tree.apply_batch(std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    tree.apply_batch(batch)?;
    tracing::info!(
        moved,
        "correlation fingerprints keyed by generation (store schema 6 to 7)"
    );
    Ok(())
}

/// Writes every incident's `status_incidents` key and its `site_incidents` values.
pub(super) fn build_listing_indexes(trees: &Trees) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    tracing::info!("building the incident listing indexes (store schema 1 to 2)");
    trees.status_incidents.clear()?;
    let mut count = 0u64;
    for entry in trees.incidents.iter() {
        let (_, raw) = entry?;
        let record = schema::decode_incident(&raw)?;
        let pair = schema::listing_value(record.status(), record.severity());
        trees
            .status_incidents
            .insert(schema::status_incident_key(pair, record.id), [])?;
        for sighting in &record.sightings {
            trees
                .site_incidents
                .insert(schema::site_incident_key(&sighting.site, record.id), pair)?;
        }
        count += 1;
    }
    tracing::info!(
        incidents = count,
        seconds = started.elapsed().as_secs_f64(),
        "incident listing indexes built"
    );
    Ok(())
}

/// Queues one incident state per escalated local incident (`local_refs`) for its site.
pub(super) fn build_site_state_log(trees: &Trees) -> Result<(), StoreError> {
    tracing::info!("queueing the hub's incident states for the sites (store schema 3 to 4)");
    trees.site_states.clear()?;
    trees.site_state_log.clear()?;
    let mut last: HashMap<SiteId, u64> = HashMap::new();
    for entry in trees.local_refs.iter() {
        let (key, _) = entry?;
        // site ++ 0x00 ++ local incident id; site ids never contain 0x00.
        let Some(split) = key.iter().position(|b| *b == 0) else {
            continue;
        };
        let (site, local) = (&key[..split], &key[split + 1..]);
        let Ok(site) = SiteId::parse(&String::from_utf8_lossy(site)) else {
            continue;
        };
        let seq = last.entry(site.clone()).or_insert(0);
        *seq += 1;
        trees
            .site_state_log
            .insert(schema::state_log_key(&site, *seq), local)?;
        trees.site_states.insert(&key, seq.to_be_bytes())?;
    }
    for (site, seq) in &last {
        trees
            .meta
            .insert(schema::state_seq_key(site), seq.to_be_bytes())?;
    }
    tracing::info!(sites = last.len(), "incident states queued");
    Ok(())
}

/// Moves every pre-journal escalation record's report into the journal (module docs).
fn move_reports_to_journal(
    trees: &Trees,
    escalations: &kv::Tree,
    journal: &Journal,
) -> Result<(), StoreError> {
    tracing::info!("moving escalation reports into the journal (store schema 5 to 6)");
    let mark = |below: u64| {
        trees
            .meta
            .insert(schema::JOURNAL_APPLIED, below.to_be_bytes())
    };
    mark(journal.next_id())?;
    let mut pending: Vec<(kv::IVec, legacy::BeforeJournal, JournalEntry)> = Vec::new();
    let mut moved = 0u64;
    for item in escalations.iter() {
        let (key, raw) = item?;
        // Version 3 (moved by an interrupted run of this step) or later: nothing to move.
        if raw.first().is_some_and(|v| *v >= 3) {
            continue;
        }
        let old = legacy::escalation_before_journal(&raw)?;
        let Some((site, epoch, seq)) = schema::escalation_key_parts(&key) else {
            return Err(StoreError::Codec(schema::key_length(
                schema::ESCALATIONS,
                key.len(),
            )));
        };
        let offer = match &old.report {
            Some(report) => JournaledOffer::Valid {
                wire: report.to_wire().encode_to_vec(),
            },
            // The offer of a rejected escalation is kept in `reviews`.
            None => JournaledOffer::Invalid {
                wire: Vec::new(),
                reason: "rejected before the hub kept a journal; the offer is in its review".into(),
            },
        };
        let entry = JournalEntry {
            site,
            epoch,
            seq,
            dropped_before: 0,
            enqueued_at_ms: old.enqueued_at_ms,
            received_at_ms: old.received_at_ms,
            offer,
        };
        pending.push((key, old, entry));
        if pending.len() == MOVED_PER_APPEND {
            moved += move_batch(trees, escalations, journal, &mut pending)?;
        }
    }
    moved += move_batch(trees, escalations, journal, &mut pending)?;
    mark(journal.next_id())?;
    tracing::info!(
        escalations = moved,
        "escalation reports moved into the journal"
    );
    Ok(())
}

/// Appends the entries (durably), then points each record at its entry.
fn move_batch(
    trees: &Trees,
    escalations: &kv::Tree,
    journal: &Journal,
    pending: &mut Vec<(kv::IVec, legacy::BeforeJournal, JournalEntry)>,
) -> Result<u64, StoreError> {
    let entries: Vec<JournalEntry> = pending.iter().map(|(.., e)| e.clone()).collect();
    let ids = journal.append(&entries)?;
    // Each a run of one (`schema.rs`), under the key it had: the 7 → 8 step leaves runs as
    // they are.
    for ((key, old, entry), id) in pending.drain(..).zip(&ids) {
        let run = super::records::EscalationRun {
            first: entry.seq,
            records: vec![old.record(*id)],
        };
        escalations.insert(key, schema::encode_escalation_run(&run)?)?;
    }
    if let Some(last) = ids.last() {
        trees
            .meta
            .insert(schema::JOURNAL_APPLIED, (last + 1).to_be_bytes())?;
    }
    Ok(ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::super::HubStore;
    use super::super::legacy::{EscalationRecordV2, IncidentReportV2};
    use super::*;
    use crate::ingest::apply::tests::escalation_of;

    /// The store in `dir`, retried while a dropped one's threads still hold sled's lock.
    fn open(dir: &std::path::Path) -> HubStore {
        super::super::query_states::tests::store(dir)
    }

    fn v2(report: socfed_proto::vocab::IncidentReport) -> IncidentReportV2 {
        IncidentReportV2 {
            local_incident_id: report.local_incident_id,
            revision: report.revision,
            title: report.title,
            description: report.description,
            severity: report.severity,
            tlp: report.tlp,
            rule_id: report.rule_id,
            techniques: report.techniques,
            indicators: report.indicators,
            observed_at_ms: report.observed_at_ms,
            local_owner: report.local_owner,
            local_status: report.local_status,
        }
    }

    /// A schema 5 store kept each report inside its escalation record; at open they move into
    /// the journal, the records keep the rest, and nothing is taken for a new escalation.
    #[test]
    fn a_schema_5_store_moves_its_reports_into_the_journal() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let mut before = Vec::new();
        {
            let store = open(dir.path());
            for (seq, local, domain) in [(1, "P-1", "a.example"), (2, "P-2", "b.example")] {
                crate::ingest::apply::apply(
                    &store,
                    &[escalation_of("paris", seq, local, 1, domain)],
                    10,
                    1000,
                )
                .expect("applied");
            }
            // Rewrite the store as a schema 5 build left it: reports inside, no journal.
            let tree = store.registry.tree(schema::TreeId::Escalations).clone();
            for item in tree.iter() {
                let (key, raw) = item.expect("reads");
                let run = schema::decode_escalation_run(&raw).expect("decodes");
                let record = run.records[0].clone();
                let report = store
                    .journal_entry(record.journal)
                    .expect("entry")
                    .report()
                    .expect("valid")
                    .expect("decodes");
                let old = EscalationRecordV2 {
                    content_hash: record.content_hash,
                    received_at_ms: record.received_at_ms,
                    enqueued_at_ms: record.enqueued_at_ms,
                    hub_incident: record.hub_incident,
                    report: Some(v2(report.clone())),
                };
                let mut bytes = vec![2u8];
                bytes.extend(postcard::to_allocvec(&old).expect("encodes"));
                tree.insert(&key, bytes).expect("writes");
                before.push((key.to_vec(), record, report));
            }
            store
                .trees
                .meta
                .remove(schema::JOURNAL_APPLIED)
                .expect("rm");
            store
                .trees
                .meta
                .insert(schema::SCHEMA_VERSION_KEY, 5u32.to_be_bytes())
                .expect("version");
            store.sled_db().flush().expect("flush");
            std::fs::remove_dir_all(dir.path().join(super::super::journal::DIR)).expect("rm");
        }
        for _ in 0..2 {
            let store = open(dir.path());
            let tree = store.registry.tree(schema::TreeId::Escalations).clone();
            for (key, was, report) in &before {
                let raw = tree.get(key).expect("reads").expect("kept");
                let run = schema::decode_escalation_run_at(key, &raw).expect("a run");
                let now = run.get(run.first).expect("of one").clone();
                assert_eq!(
                    (now.content_hash, now.hub_incident, now.received_at_ms),
                    (was.content_hash, was.hub_incident, was.received_at_ms)
                );
                let entry = store.journal_entry(now.journal).expect("journaled");
                assert_eq!(entry.report().expect("valid").as_ref(), Ok(report));
                assert_eq!(report.content_hash(), now.content_hash);
            }
            assert!(store.unapplied_journal().expect("reads").is_empty());
        }
    }

    /// A schema 6 store keyed fingerprints by the fingerprint alone: at open each moves under
    /// its generation, and a report with it still joins the incident it leads to.
    #[test]
    fn a_schema_6_store_keys_its_fingerprints_by_generation() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let t0 = 1_700_000_000_000;
        let first = {
            let store = open(dir.path());
            let applied = crate::ingest::apply::apply(
                &store,
                &[escalation_of("paris", 1, "P-1", 1, "a.example")],
                t0,
                86_400_000,
            )
            .expect("applied");
            let tree = store.registry.tree(schema::TreeId::Fingerprints).clone();
            for item in tree.iter() {
                let (key, raw) = item.expect("reads");
                let (_, fingerprint) = schema::fingerprint_key_parts(&key).expect("key");
                tree.remove(&key).expect("rm");
                tree.insert(fingerprint, raw).expect("old key");
            }
            store
                .trees
                .meta
                .insert(schema::SCHEMA_VERSION_KEY, 6u32.to_be_bytes())
                .expect("version");
            store.sled_db().flush().expect("flush");
            applied.outcomes
        };
        let store = open(dir.path());
        let tree = store.registry.tree(schema::TreeId::Fingerprints).clone();
        assert_eq!(tree.len().expect("len"), 1);
        for key in tree.iter().keys() {
            assert_eq!(key.expect("reads").len(), 40, "generation ++ fingerprint");
        }
        let joined = crate::ingest::apply::apply(
            &store,
            &[escalation_of("lyon", 1, "L-1", 1, "a.example")],
            t0 + 1_000,
            86_400_000,
        )
        .expect("applied");
        let incident = |outcomes: &[crate::ingest::apply::Outcome]| match outcomes {
            [
                crate::ingest::apply::Outcome::Escalation {
                    outcome: crate::ingest::apply::EscalationOutcome::Applied { incident },
                    ..
                },
            ] => *incident,
            other => panic!("not applied: {other:?}"),
        };
        assert_eq!(incident(&joined.outcomes), incident(&first));
    }
}
