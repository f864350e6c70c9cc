//! The sample journal through real intake and real stores in temp dirs: one block per commit,
//! records that keep only a reference, a crash between block and unit, damage and hostile
//! blocks.

use super::*;
use crate::service::intake::tests::{manager, open, service};
use crate::service::{ManualClock, SocService};
use crate::soc::alert::Format;
use crate::store::GroupFilter;
use std::sync::Arc;

const START_MS: i64 = 1_700_000_000_000;

fn line(host: u32, id: u32) -> String {
    format!(
        r#"{{"id":"evt-{id}","observed_at":{START_MS},"product":"edr","rule_id":"R-{host}","severity":"medium","hosts":["ws-{host}"]}}"#
    )
}

fn submit(soc: &SocService, lines: &[String]) -> anyhow::Result<()> {
    let numbered: Vec<(u64, String)> = (1..).zip(lines.iter().cloned()).collect();
    let result = soc.submit(&manager(), Format::Native, &numbered)?;
    anyhow::ensure!(result.rejected == 0, "{result:?}");
    Ok(())
}

fn groups(store: &AgentStore) -> anyhow::Result<Vec<AlertGroup>> {
    let mut all = store.list_groups(&GroupFilter {
        limit: 1000,
        statuses: GroupFilter::status_codes(&crate::soc::triage::StatusKind::ALL),
        ..Default::default()
    })?;
    all.sort_by_key(|g| g.rule_id.clone());
    Ok(all)
}

fn segment(dir: &Path) -> std::path::PathBuf {
    dir.join(DIR).join(format!("{:020}.log", 0))
}

/// The raw records of `groups`, read from the journal.
fn read(store: &AgentStore, groups: &[AlertGroup]) -> Vec<Result<String, String>> {
    store.group_samples(groups)
}

/// Every group's raw record, in rule order, each one read; then the check finds none
/// unavailable.
fn read_all(store: &AgentStore) -> anyhow::Result<Vec<String>> {
    let read: Vec<String> = read(store, &groups(store)?)
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    anyhow::ensure!(store.unavailable_samples()?.is_empty());
    Ok(read)
}

#[test]
fn a_commit_journals_one_block_and_its_groups_keep_only_a_reference() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let lines: Vec<String> = (0..3).map(|h| line(h, h)).collect();
    {
        let store = open(dir.path())?;
        let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
        submit(&soc, &lines)?;
        // A repeat of the first group's alert: absorbed, the sample stays the first one.
        submit(&soc, &[line(0, 99)])?;
        let all = groups(&store)?;
        assert_eq!(all.len(), 3);
        let refs: Vec<SampleRef> = all.iter().filter_map(|g| g.sample_ref).collect();
        assert_eq!(refs.len(), 3, "every group names its sample");
        assert!(refs.iter().all(|r| r.block == refs[0].block), "{refs:?}");
        for (group, value) in all.iter().zip(
            all.iter()
                .map(|g| store.tree(TreeId::Groups).get(g.id.to_bytes())),
        ) {
            let value = value?.ok_or_else(|| anyhow::anyhow!("stored"))?;
            assert!(group.sample.raw.is_empty());
            // The raw record's keys appear nowhere but in the raw record.
            assert!(
                !value.windows(11).any(|w| w == b"observed_at"),
                "the record holds no raw sample"
            );
        }
        store.close()?;
    }
    let store = open(dir.path())?;
    assert_eq!(read_all(&store)?, lines);
    Ok(())
}

/// A listing naming groups of several blocks in any order gets each group's own record in
/// the order asked, though it holds one block at a time (read in block order).
#[test]
fn groups_of_several_blocks_in_any_order_get_their_own_records() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
    let (first, second): (Vec<String>, Vec<String>) = (
        (0..2).map(|h| line(h, h)).collect(),
        (2..4).map(|h| line(h, h)).collect(),
    );
    submit(&soc, &first)?;
    submit(&soc, &second)?;
    let by_rule = groups(&store)?;
    let blocks: std::collections::BTreeSet<u64> = by_rule
        .iter()
        .filter_map(|g| g.sample_ref.map(|r| r.block))
        .collect();
    assert_eq!(blocks.len(), 2, "one block per commit");
    // Interleaved: second block, first, second, first.
    let asked = [&by_rule[2], &by_rule[0], &by_rule[3], &by_rule[1]].map(|g| (*g).clone());
    let read: Vec<String> = read(&store, &asked)
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    assert_eq!(
        read,
        [&second[0], &first[0], &second[1], &first[1]].map(|s| s.clone())
    );
    Ok(())
}

/// A crash after the block is durable and before the unit that names it is applied: an
/// orphan block and a torn append after it. Nothing acknowledged is lost, nothing names a
/// block that is not there, and intake goes on past both.
#[test]
fn a_crash_between_block_and_unit_loses_nothing_and_reuses_no_id() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first: Vec<String> = (0..2).map(|h| line(h, h)).collect();
    let orphan_id;
    {
        let store = open(dir.path())?;
        let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
        submit(&soc, &first)?;
        // The unit appends its block, then fails before it commits: what a crash there leaves.
        let failed = store.unit(|u| {
            let refs = u.journal_samples(&["orphan record"])?;
            Err::<u64, StoreError>(StoreError::Damaged {
                dir: dir.path().to_path_buf(),
                reason: format!("crash after block {}", refs[0].block),
            })
        });
        assert!(failed.is_err());
        orphan_id = store.samples.end();
        store.close()?;
    }
    // Half a frame after the orphan: a crash in the middle of the next append.
    let mut bytes = std::fs::read(segment(dir.path()))?;
    bytes.extend_from_slice(&[200, 1, 0, 0, 9, 9]);
    std::fs::write(segment(dir.path()), &bytes)?;

    let store = open(dir.path())?;
    assert_eq!(store.samples.end(), orphan_id, "the torn append is cut");
    let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
    submit(&soc, &[line(7, 7)])?;
    let all = groups(&store)?;
    let late = all
        .iter()
        .find(|g| g.rule_id == "R-7")
        .and_then(|g| g.sample_ref)
        .ok_or_else(|| anyhow::anyhow!("the new group"))?;
    assert!(
        late.block >= orphan_id,
        "{late:?} after the orphan at {orphan_id}"
    );
    let mut expected = first.clone();
    expected.push(line(7, 7));
    assert_eq!(read_all(&store)?, expected);
    Ok(())
}

/// A changed byte in a block: the agent still opens, that block's groups show why their
/// sample is unavailable, the check lists them, other blocks read, intake goes on.
#[test]
fn a_damaged_block_is_named_for_its_groups_and_the_agent_goes_on() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first_block;
    {
        let store = open(dir.path())?;
        let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
        submit(&soc, &[line(0, 0), line(1, 1)])?;
        first_block = store.samples.end();
        submit(&soc, &[line(2, 2)])?;
        store.close()?;
    }
    let mut bytes = std::fs::read(segment(dir.path()))?;
    // Inside the first block's payload (its frame starts at 0, the header is 8 bytes).
    bytes[12] ^= 0x5a;
    std::fs::write(segment(dir.path()), &bytes)?;

    let store = open(dir.path())?;
    let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
    let all = groups(&store)?;
    let shown = soc.group_samples(&all);
    for (group, text) in all.iter().zip(&shown) {
        let damaged = group.sample_ref.is_some_and(|r| r.block < first_block);
        assert_eq!(
            text.starts_with(crate::service::UNAVAILABLE),
            damaged,
            "{}: {text}",
            group.rule_id
        );
        if damaged {
            assert!(text.contains("damaged"), "{text}");
        }
    }
    let unavailable = store.unavailable_samples()?;
    assert_eq!(unavailable.len(), 2, "{unavailable:?}");
    submit(&soc, &[line(3, 3)])?;
    let fresh = groups(&store)?
        .into_iter()
        .find(|g| g.rule_id == "R-3")
        .ok_or_else(|| anyhow::anyhow!("the new group"))?;
    assert_eq!(read(&store, &[fresh]), vec![Ok(line(3, 3))]);
    Ok(())
}

#[test]
fn blocks_that_this_build_did_not_write_are_errors_not_panics_or_huge_allocations() {
    let good = encode_block(&["one", "two"]).expect("encodes");
    assert_eq!(decode_block(&good).expect("decodes"), vec!["one", "two"]);
    let mut huge = good.clone();
    huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut other_version = good.clone();
    other_version[0] = 9;
    let mut garbled = good.clone();
    let last = garbled.len() - 1;
    garbled[last] ^= 0xff;
    let mut longer = good.clone();
    longer[1..5].copy_from_slice(&(MAX_BLOCK_RAW as u32).to_le_bytes());
    for (name, payload) in [
        ("empty", Vec::new()),
        ("cut header", good[..3].to_vec()),
        ("cut body", good[..good.len() - 2].to_vec()),
        ("huge size", huge),
        ("version", other_version),
        ("garbled", garbled),
        ("announced larger than it is", longer),
    ] {
        assert!(decode_block(&payload).is_err(), "{name}");
    }
}

proptest::proptest! {
    #[test]
    fn any_bytes_decode_without_a_panic(bytes in proptest::collection::vec(0u8..=255, 0..512)) {
        let mut payload = vec![BLOCK_VERSION];
        payload.extend_from_slice(&bytes);
        let _ = decode_block(&payload);
    }
}

/// A schema 6 store holds each group's raw sample in its record (value version 1): the
/// upgrade to 8 moves every sample into the journal, rewrites the records as version 2 with
/// a reference, and the samples read back as they were.
#[test]
fn a_schema_6_stores_samples_move_into_the_journal() -> anyhow::Result<()> {
    use crate::store::upgrade::tests::{raw_db, reopen};
    use socfed_runtime::store_kit::TreeSet;
    let dir = tempfile::tempdir()?;
    drop(reopen(dir.path())?);
    let lines: Vec<String> = (0..3).map(|h| line(h, h)).collect();
    let mut old = Vec::new();
    for text in &lines {
        let crate::soc::parse::Parsed::Alert(alert) = crate::soc::parse::parse_line(
            Format::Native,
            text,
            0,
            &crate::soc::alert::ParseLimits::default(),
        )?
        else {
            anyhow::bail!("expected an alert");
        };
        let fingerprint = crate::soc::aggregate::fingerprint(&alert);
        old.push(AlertGroup::open(ulid::Ulid::new(), fingerprint, *alert, 5));
    }
    {
        let db = raw_db(dir.path())?;
        let tree = |t: TreeId| db.open_tree(t.name());
        tree(TreeId::Meta)?.insert(schema::SCHEMA_VERSION_KEY, &6u32.to_be_bytes())?;
        for group in &old {
            // The version 1 record: version 2's body without its trailing `sample_ref`.
            let mut body = postcard::to_allocvec(group)?;
            anyhow::ensure!(body.pop() == Some(0), "sample_ref None is one 0 byte");
            let mut value = vec![1u8];
            value.extend_from_slice(&body);
            tree(TreeId::Groups)?.insert(group.id.to_bytes(), value)?;
        }
        db.flush()?;
    }
    let store = reopen(dir.path())?;
    for group in &old {
        let value = store
            .tree(TreeId::Groups)
            .get(group.id.to_bytes())?
            .ok_or_else(|| anyhow::anyhow!("kept"))?;
        assert_eq!(value.first(), Some(&2), "rewritten as version 2");
        let stored: AlertGroup = schema::decode(TreeId::Groups, &value)?;
        assert!(stored.sample.raw.is_empty() && stored.sample_ref.is_some());
        assert_eq!(
            store.group_samples(&[stored]),
            vec![Ok(group.sample.raw.clone())]
        );
    }
    assert!(store.unavailable_samples()?.is_empty());
    let meta = store.tree(TreeId::Meta);
    assert_eq!(
        meta.get(schema::SCHEMA_VERSION_KEY)?.map(|v| v.to_vec()),
        Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
    );
    assert_eq!(
        meta.get(schema::SAMPLES_END)?.map(|v| v.to_vec()),
        Some(store.samples.end().to_be_bytes().to_vec())
    );
    Ok(())
}

/// `db export` / `db import` (the dump functions both run): the samples travel with the
/// store, checked as the import checks every record, and read back from the restored one.
#[test]
fn a_dump_carries_the_samples_and_the_restored_store_reads_them() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let src = dir.path().join("src");
    let lines: Vec<String> = (0..4).map(|h| line(h, h)).collect();
    {
        let store = open(&src)?;
        let soc = service(store.clone(), Arc::new(ManualClock::new(START_MS)))?;
        submit(&soc, &lines[..2])?;
        submit(&soc, &lines[2..])?;
        store.close()?;
    }
    let mut dump = Vec::new();
    // sled lets go of its lock once the store's threads are done with it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while let Err(e) = socfed_runtime::dump::export(&src, "site-agent", &mut dump, &|_| {}) {
        anyhow::ensure!(std::time::Instant::now() < deadline, "{e}");
        dump.clear();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let restored = dir.path().join("restored");
    socfed_runtime::dump::import(
        &restored,
        "site-agent",
        dump.as_slice(),
        &crate::store::check::record,
        &|_| {},
    )?;
    assert!(segment(&restored).is_file());
    let store = open(&restored)?;
    assert_eq!(read_all(&store)?, lines);
    Ok(())
}
