//! Older store layouts brought up to [`schema::SCHEMA_VERSION`] at open, before anything
//! reads them. Each step is idempotent and the version is written last, so a crash part way
//! through repeats the step at the next start.

use super::StoreError;
use super::samples::SampleJournal;
use super::schema::{self, TreeId};
use socfed_runtime::store_kit::Trees;

/// Upgrades the store from the version it records (a new store records none: nothing to do).
pub(super) fn run(
    db: &sled::Db,
    trees: &Trees<TreeId>,
    samples: &SampleJournal,
) -> Result<(), StoreError> {
    let meta = trees.tree(TreeId::Meta);
    let Some(raw) = meta.get(schema::SCHEMA_VERSION_KEY)? else {
        return Ok(());
    };
    let found = schema::u32_of(TreeId::Meta, &raw)?;
    if found < 2 {
        to_v2(db, trees)?;
        meta.insert(schema::SCHEMA_VERSION_KEY, &2u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!("store upgraded to schema 2: alert groups indexed by fingerprint and time");
    }
    if found < 3 {
        // Schema 3 packs `seen_by_time` and `idx_indicator`; a schema 2 entry is a pack of
        // one, so nothing is rewritten: the version keeps older builds out (see `schema`).
        meta.insert(schema::SCHEMA_VERSION_KEY, &3u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!("store upgraded to schema 3: packed intake indexes");
    }
    if found < 4 {
        let pending = super::revisions::index_existing(trees)?;
        meta.insert(schema::SCHEMA_VERSION_KEY, &4u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!(
            pending,
            "store upgraded to schema 4: local incidents with a deferred revision indexed"
        );
    }
    if found < 5 {
        // Schema 5 keys `requests` by caller; records keyed by the id alone cannot be
        // re-keyed (they do not name their caller), so they stay and are looked up after a
        // miss for as long as the store holds them.
        if !trees.tree(TreeId::Requests).is_empty() {
            meta.insert(schema::LEGACY_REQUEST_KEYS, Vec::<u8>::new())?;
        }
        meta.insert(schema::SCHEMA_VERSION_KEY, &5u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!("store upgraded to schema 5: request ids kept per caller");
    }
    if found < 6 {
        // The queue and the agenda are built from `groups` at open now (`agenda.rs`); the
        // old policy record is a hash, which the start replaces by the policy itself.
        for tree in schema::LEGACY_INDEX_TREES {
            db.drop_tree(tree)?;
        }
        meta.remove(schema::SLA_POLICY)?;
        meta.insert(schema::SCHEMA_VERSION_KEY, &6u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!("store upgraded to schema 6: triage queue and SLA agenda kept in memory");
    }
    if found < 7 {
        let (runs, escalations) = super::upgrade_outbox::pack_outbox(trees.tree(TreeId::Outbox))?;
        meta.insert(schema::SCHEMA_VERSION_KEY, &7u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!(
            runs,
            escalations,
            "store upgraded to schema 7: outbox packed in runs"
        );
    }
    if found < 8 {
        let moved = to_v8(trees, samples)?;
        meta.insert(schema::SCHEMA_VERSION_KEY, &8u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!(
            moved,
            "store upgraded to schema 8: alert samples moved to the sample journal"
        );
    }
    if found < 9 {
        // `api_tokens` and `web_sessions` (the SOC console's sign-ins) open empty with the
        // other trees; the version keeps an older build, which would not know them, out.
        super::tokens::upgrade_to_v9(db, meta)?;
    }
    if found < 10 {
        // `incident_notes`, `runbooks`, `runbook_versions` and `runbook_progress` open empty
        // with the other trees; existing alert groups are indexed for search first, and the
        // version that says the index exists is written after it (sled keeps writes in order,
        // so a crash part way leaves schema 9 and the step is done again).
        let indexed = super::search::index_existing(trees)?;
        meta.insert(schema::SCHEMA_VERSION_KEY, &10u32.to_be_bytes())?;
        db.flush()?;
        tracing::info!(
            indexed,
            "store upgraded to schema 10: incident notes, runbooks, alert groups indexed for search"
        );
    }
    Ok(())
}

/// Groups moved per sample block by the upgrade to 8.
const UPGRADE_BLOCK_GROUPS: usize = 500;

/// Schema 8: every group whose record still holds its raw sample (value version 1) has it
/// appended to the sample journal (durable first, as at intake) and its record rewritten
/// with the reference, a block of groups at a time. A crash part way leaves the rest as they
/// were and at most an unreferenced block: the step goes on from there at the next start.
fn to_v8(trees: &Trees<TreeId>, samples: &SampleJournal) -> Result<u64, StoreError> {
    let mut moved = 0u64;
    let mut waiting = Vec::new();
    for value in trees.tree(TreeId::Groups).iter().values() {
        let (group, _) = schema::decode_group_any(&value?)?;
        if group.sample_ref.is_none() {
            waiting.push(group);
        }
        if waiting.len() >= UPGRADE_BLOCK_GROUPS {
            moved += move_samples(trees, samples, std::mem::take(&mut waiting))?;
        }
    }
    // A version 1 record names no sample: every one is rewritten as version 2 here.
    moved += move_samples(trees, samples, waiting)?;
    Ok(moved)
}

/// Appends the samples of `waiting` as one block, then rewrites their records.
fn move_samples(
    trees: &Trees<TreeId>,
    samples: &SampleJournal,
    mut waiting: Vec<crate::soc::group::AlertGroup>,
) -> Result<u64, StoreError> {
    if waiting.is_empty() {
        return Ok(0);
    }
    let raws: Vec<String> = waiting
        .iter_mut()
        .map(|g| std::mem::take(&mut g.sample.raw))
        .collect();
    let refs = samples.append(&raws.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut batch = sled::Batch::default();
    for (group, at) in waiting.iter_mut().zip(refs) {
        group.sample_ref = Some(at);
        batch.insert(
            group.id.to_bytes().to_vec(),
            schema::encode(TreeId::Groups, &*group)?,
        );
    }
    // The meta end and the records are two trees: the end first, so a record never names a
    // block past the floor of the next open.
    trees
        .tree(TreeId::Meta)
        .insert(schema::SAMPLES_END, &samples.end().to_be_bytes())?;
    trees.tree(TreeId::Groups).apply_batch(batch)?;
    Ok(waiting.len() as u64)
}

/// Schema 2: `group_span` (every group of a fingerprint, by last seen) replaces `group_fp`
/// (the latest group only), so late alerts find the group their time belongs to.
fn to_v2(db: &sled::Db, trees: &Trees<TreeId>) -> Result<(), StoreError> {
    let spans = trees.tree(TreeId::GroupSpan);
    let mut batch = sled::Batch::default();
    for value in trees.tree(TreeId::Groups).iter().values() {
        let (group, _) = schema::decode_group_any(&value?)?;
        batch.insert(
            schema::span_key(&group.fingerprint, group.last_seen_ms, group.id),
            &(group.first_seen_ms.max(0) as u64).to_be_bytes(),
        );
    }
    spans.apply_batch(batch)?;
    db.drop_tree(schema::LEGACY_GROUP_FP)?;
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::{AgentStore, Durability};
    use super::*;
    use crate::soc::alert::{Format, ParseLimits};
    use crate::soc::group::AlertGroup;
    use crate::soc::parse::{Parsed, parse_line};
    use socfed_runtime::store_kit::TreeSet;

    /// The store's sled database, opened raw. sled releases its file lock once the last
    /// handle of a dropped store is gone, which its threads may still hold for a moment.
    pub(crate) fn raw_db(dir: &std::path::Path) -> anyhow::Result<sled::Db> {
        Ok(socfed_runtime::store_files::open_when_released(
            dir,
            std::time::Duration::from_secs(10),
        )?)
    }

    /// The store at `dir`, opened once the raw handle a test used has let go of sled's lock.
    pub(crate) fn reopen(dir: &std::path::Path) -> anyhow::Result<AgentStore> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match AgentStore::open(
                dir,
                Durability::Flush,
                8 << 20,
                socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
            ) {
                Err(StoreError::Open { error, .. })
                    if socfed_runtime::store_files::lock_busy(&error)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return Ok(other?),
            }
        }
    }

    /// A schema 1 store (groups, `group_fp`) opens as schema 2 with every group's span.
    #[test]
    fn a_schema_1_store_gets_its_spans_and_loses_group_fp() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let line = r#"{"observed_at":1700000000000,"rule_id":"r","severity":"low","hosts":["h"]}"#;
        let Parsed::Alert(alert) = parse_line(Format::Native, line, 0, &ParseLimits::default())?
        else {
            anyhow::bail!("expected an alert");
        };
        let fingerprint = crate::soc::aggregate::fingerprint(&alert);
        let mut group = AlertGroup::open(ulid::Ulid::new(), fingerprint, *alert, 5);
        group.last_seen_ms = 1_700_000_600_000;
        {
            let db = raw_db(dir.path())?;
            db.open_tree(TreeId::Meta.name())?
                .insert(schema::SCHEMA_VERSION_KEY, &1u32.to_be_bytes())?;
            db.open_tree(TreeId::Groups.name())?
                .insert(group.id.to_bytes(), schema::encode(TreeId::Groups, &group)?)?;
            db.open_tree(schema::LEGACY_GROUP_FP)?
                .insert(fingerprint, b"old".to_vec())?;
            db.drop_tree(TreeId::GroupSpan.name())?;
            db.flush()?;
        }
        {
            let store = reopen(dir.path())?;
            let spans = store
                .raw_tree(TreeId::GroupSpan.name())
                .ok_or_else(|| anyhow::anyhow!("no group_span"))?;
            let key = schema::span_key(&fingerprint, group.last_seen_ms, group.id);
            assert_eq!(
                spans.get(key)?.map(|v| v.to_vec()),
                Some((group.first_seen_ms as u64).to_be_bytes().to_vec())
            );
            assert_eq!(spans.len(), 1);
        }
        let db = raw_db(dir.path())?;
        assert!(
            !db.tree_names()
                .iter()
                .any(|n| n.as_ref() == schema::LEGACY_GROUP_FP.as_bytes())
        );
        assert_eq!(
            db.open_tree(TreeId::Meta.name())?
                .get(schema::SCHEMA_VERSION_KEY)?
                .map(|v| v.to_vec()),
            Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
        );
        Ok(())
    }

    /// A schema 2 store's unpacked intake index entries (empty values) are packs of one:
    /// it opens as schema 3 (and on), hunts find its groups and pruning forgets its events.
    #[test]
    fn a_schema_2_store_opens_as_3_and_its_unpacked_entries_still_count() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let (event, group) = ([9u8; 32], ulid::Ulid::from_parts(1_700_000_000_000, 5));
        {
            let db = raw_db(dir.path())?;
            let tree = |t: TreeId| db.open_tree(t.name());
            tree(TreeId::Meta)?.insert(schema::SCHEMA_VERSION_KEY, &2u32.to_be_bytes())?;
            tree(TreeId::SeenEvents)?.insert(event, &1_000u64.to_be_bytes())?;
            tree(TreeId::SeenByTime)?.insert(schema::seen_key(1_000, &event), Vec::new())?;
            tree(TreeId::IdxIndicator)?
                .insert(schema::named_key("domain:old.example", group), Vec::new())?;
            db.flush()?;
        }
        let store = reopen(dir.path())?;
        let meta = store
            .raw_tree(TreeId::Meta.name())
            .ok_or_else(|| anyhow::anyhow!("no meta"))?;
        assert_eq!(
            meta.get(schema::SCHEMA_VERSION_KEY)?.map(|v| v.to_vec()),
            Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
        );
        assert_eq!(
            store.groups_with_indicator("domain:old.example")?,
            vec![group]
        );
        let forgotten = store.unit(|u| u.prune_seen(2_000, 10))?;
        assert_eq!(forgotten, 1);
        for tree in [TreeId::SeenEvents, TreeId::SeenByTime] {
            let tree = store
                .raw_tree(tree.name())
                .ok_or_else(|| anyhow::anyhow!("no {}", tree.name()))?;
            assert!(tree.is_empty(), "{tree:?} pruned");
        }
        Ok(())
    }

    /// A schema 3 store kept only the flag: the upgrade indexes its deferred revisions.
    #[test]
    fn a_schema_3_store_gets_its_deferred_revisions_indexed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let mut waiting = crate::soc::incident::tests::sample("LI-WAITING");
        waiting.revision_pending = true;
        let settled = crate::soc::incident::tests::sample("LI-SETTLED");
        {
            let db = raw_db(dir.path())?;
            let tree = |t: TreeId| db.open_tree(t.name());
            tree(TreeId::Meta)?.insert(schema::SCHEMA_VERSION_KEY, &3u32.to_be_bytes())?;
            for incident in [&waiting, &settled] {
                tree(TreeId::Incidents)?.insert(
                    incident.id.as_bytes(),
                    schema::encode(TreeId::Incidents, incident)?,
                )?;
            }
            db.flush()?;
        }
        let store = reopen(dir.path())?;
        assert_eq!(
            store.pending_revision_ids(10)?,
            vec!["LI-WAITING".to_string()]
        );
        Ok(())
    }

    /// A schema 4 store kept request records by the id alone: after the upgrade a retry with
    /// that id is still answered from its record, and new records are kept per caller.
    #[test]
    fn a_schema_4_stores_request_records_still_answer_retries() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let record = crate::store::RequestRecord {
            local_incident_id: "INC-OLD".into(),
            seq: 7,
            at_ms: 1,
        };
        {
            let db = raw_db(dir.path())?;
            let tree = |t: TreeId| db.open_tree(t.name());
            tree(TreeId::Meta)?.insert(schema::SCHEMA_VERSION_KEY, &4u32.to_be_bytes())?;
            tree(TreeId::Requests)?.insert("req-9", schema::encode(TreeId::Requests, &record)?)?;
            db.flush()?;
        }
        let store = reopen(dir.path())?;
        let found = store.unit(|u| u.request("anyone", "req-9"))?;
        assert_eq!(found.map(|r| r.seq), Some(7));
        let fresh = tempfile::tempdir()?;
        let new_store = reopen(fresh.path())?;
        new_store.unit(|u| u.put_request("ann", "req-9", &record))?;
        assert!(new_store.unit(|u| u.request("bob", "req-9"))?.is_none());
        Ok(())
    }

    /// A schema 5 store kept the queue and the SLA agenda in sled: it opens as schema 6
    /// without those trees and lists and schedules its groups from memory.
    #[test]
    fn a_schema_5_stores_queue_and_agenda_are_built_in_memory() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let line = r#"{"observed_at":1700000000000,"rule_id":"r","severity":"low","hosts":["h"]}"#;
        let Parsed::Alert(alert) = parse_line(Format::Native, line, 0, &ParseLimits::default())?
        else {
            anyhow::bail!("expected an alert");
        };
        let fingerprint = crate::soc::aggregate::fingerprint(&alert);
        let group = AlertGroup::open(ulid::Ulid::new(), fingerprint, *alert, 5);
        let policy = crate::soc::sla::SlaPolicy::default();
        let due = crate::soc::sla::deadline(&policy, &group.state, group.severity)
            .ok_or_else(|| anyhow::anyhow!("a new group has a deadline"))?;
        {
            let db = raw_db(dir.path())?;
            let tree = |name: &str| db.open_tree(name);
            tree(TreeId::Meta.name())?.insert(schema::SCHEMA_VERSION_KEY, &5u32.to_be_bytes())?;
            tree(TreeId::Meta.name())?.insert(schema::SLA_POLICY, &[3u8; 32])?;
            tree(TreeId::Groups.name())?
                .insert(group.id.to_bytes(), schema::encode(TreeId::Groups, &group)?)?;
            tree("idx_queue")?.insert(super::super::agenda::queue_key(&group), Vec::new())?;
            tree("sla_due")?.insert(schema::time_key(due.due_ms, group.id), Vec::new())?;
            db.flush()?;
        }
        {
            let store = reopen(dir.path())?;
            let listed = store.list_groups(&crate::store::GroupFilter {
                limit: 10,
                ..Default::default()
            })?;
            assert_eq!(
                listed.iter().map(|g| g.id).collect::<Vec<_>>(),
                vec![group.id]
            );
            // The old record is a hash, not a policy: the start builds the agenda.
            assert!(store.rebuild_sla_agenda_if_changed(&policy)?);
            assert_eq!(
                store.groups_due(i64::MAX, 10)?,
                vec![(due.due_ms, group.id)]
            );
            store.close()?;
        }
        {
            // Reopened, the agenda is built under the policy recorded at that start.
            let store = reopen(dir.path())?;
            assert_eq!(
                store.groups_due(i64::MAX, 10)?,
                vec![(due.due_ms, group.id)]
            );
            assert!(!store.rebuild_sla_agenda_if_changed(&policy)?);
        }
        let db = raw_db(dir.path())?;
        for legacy in schema::LEGACY_INDEX_TREES {
            assert!(
                !db.tree_names()
                    .iter()
                    .any(|n| n.as_ref() == legacy.as_bytes()),
                "{legacy} dropped"
            );
        }
        assert_eq!(
            db.open_tree(TreeId::Meta.name())?
                .get(schema::SCHEMA_VERSION_KEY)?
                .map(|v| v.to_vec()),
            Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
        );
        Ok(())
    }
}
