//! The journal on disk: ids, reads, segments, a torn tail cut at open, damage named.

use super::*;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

fn entry(seq: u64) -> JournalEntry {
    JournalEntry {
        site: SiteId::parse("paris").expect("site id"),
        epoch: Ulid::from_parts(1, 2),
        seq,
        dropped_before: 0,
        enqueued_at_ms: 10,
        received_at_ms: 20,
        offer: JournaledOffer::Invalid {
            wire: vec![seq as u8; 40],
            reason: format!("entry {seq}"),
        },
    }
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(DIR))
        .expect("journal dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn entries_read_back_by_id_and_from_a_mark_across_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("opens");
    journal.inner.set_segment_bytes(100);
    let mut ids = Vec::new();
    for seq in 1..=5 {
        ids.extend(journal.append(&[entry(seq)]).expect("appends"));
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(segment_files(dir.path()).len() > 1, "segments rolled");
    for (seq, id) in (1..=5).zip(&ids) {
        assert_eq!(journal.get(*id).expect("reads"), entry(seq));
    }
    drop(journal);
    let journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("reopens");
    let from: Vec<u64> = journal
        .entries_from(ids[2])
        .expect("scans")
        .into_iter()
        .map(|(id, e)| {
            assert_eq!(journal.get(id).expect("reads"), e);
            e.seq
        })
        .collect();
    assert_eq!(from, vec![3, 4, 5]);
    // Segments follow each other without a gap: ids are offsets in their concatenation.
    assert_eq!(journal.next_id(), journal.bytes());
}

#[test]
fn a_torn_last_entry_is_cut_off_at_open_and_the_next_append_takes_its_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("opens");
    let ids = journal.append(&[entry(1), entry(2)]).expect("appends");
    let end = journal.next_id();
    drop(journal);
    let file = segment_files(dir.path()).pop().expect("a segment");
    // Half of a third entry: a crash in the middle of its write.
    let mut torn = Vec::new();
    frame::encode(&entry(3).encode().expect("encodes"), &mut torn);
    let mut bytes = std::fs::read(&file).expect("reads");
    bytes.extend_from_slice(&torn[..torn.len() / 2]);
    std::fs::write(&file, &bytes).expect("writes");

    let journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("a torn tail opens");
    assert_eq!(journal.next_id(), end);
    assert_eq!(std::fs::metadata(&file).expect("stat").len(), end);
    let all: Vec<u64> = journal
        .entries_from(0)
        .expect("scans")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(all, ids);
    let next = journal.append(&[entry(3)]).expect("appends");
    assert_eq!(next, vec![end]);
    assert_eq!(journal.get(end).expect("reads"), entry(3));
}

#[test]
fn a_changed_entry_before_the_applied_mark_is_an_error_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("opens");
    let ids = journal
        .append(&[entry(1), entry(2), entry(3)])
        .expect("appends");
    let applied = journal.next_id();
    drop(journal);
    let file = segment_files(dir.path()).pop().expect("a segment");
    let mut bytes = std::fs::read(&file).expect("reads");
    let at = usize::try_from(ids[1]).expect("small") + frame::HEADER + 3;
    bytes[at] ^= 0x55;
    std::fs::write(&file, &bytes).expect("writes");

    // Everything was indexed: the bytes changed after they were durable.
    let Err(err) = Journal::open(dir.path(), Durability::Fsync, applied) else {
        panic!("a damaged journal opened");
    };
    let shown = err.to_string();
    let name = file.file_name().and_then(|n| n.to_str()).expect("name");
    assert!(
        shown.contains(name) && shown.contains(&format!("offset {}", ids[1])),
        "{shown}"
    );
}

#[test]
fn ids_the_index_already_names_are_never_given_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), Durability::Flush, 0).expect("opens");
    journal.append(&[entry(1)]).expect("appends");
    drop(journal);
    // The index says it applied up to 10,000: entries there were lost with the disk's cache.
    let journal = Journal::open(dir.path(), Durability::Flush, 10_000).expect("opens");
    let id = journal.append(&[entry(2)]).expect("appends")[0];
    assert!(id >= 10_000, "{id}");
    assert!(matches!(
        journal.get(5_000),
        Err(JournalError::Missing(5_000))
    ));
    assert_eq!(journal.get(id).expect("reads"), entry(2));
}

/// Appends three entries in one batch, then changes a byte of the second: what a crash before
/// the batch's sync leaves when the disk kept the third's page and lost the second's.
fn torn_batch(dir: &Path) -> (Vec<u64>, PathBuf) {
    let journal = Journal::open(dir, Durability::Fsync, 0).expect("opens");
    let ids = journal
        .append(&[entry(1), entry(2), entry(3)])
        .expect("appends");
    drop(journal);
    let file = segment_files(dir).pop().expect("a segment");
    let mut bytes = std::fs::read(&file).expect("reads");
    let at = usize::try_from(ids[1]).expect("small") + frame::HEADER + 3;
    bytes[at] ^= 0x55;
    std::fs::write(&file, &bytes).expect("writes");
    (ids, file)
}

#[test]
fn a_torn_batch_past_the_applied_mark_is_cut_at_its_first_bad_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ids, file) = torn_batch(dir.path());
    // The index applied the first entry only: the second and third were never acknowledged.
    let journal = Journal::open(dir.path(), Durability::Fsync, ids[1]).expect("a torn batch opens");
    assert_eq!(journal.next_id(), ids[1]);
    assert_eq!(std::fs::metadata(&file).expect("stat").len(), ids[1]);
    let left: Vec<u64> = journal
        .entries_from(0)
        .expect("scans")
        .into_iter()
        .map(|(_, e)| e.seq)
        .collect();
    assert_eq!(left, vec![1]);
    assert_eq!(journal.append(&[entry(2)]).expect("appends"), vec![ids[1]]);
    assert_eq!(journal.get(ids[1]).expect("reads"), entry(2));
}

/// A power loss can leave the newest segment extended with zeros (its size updated, its
/// pages not): zeroed bytes are not empty entries, they are cut.
#[test]
fn zeros_after_the_last_entry_are_cut_at_open_and_appends_go_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("opens");
    let ids = journal.append(&[entry(1), entry(2)]).expect("appends");
    let end = journal.next_id();
    drop(journal);
    let file = segment_files(dir.path()).pop().expect("a segment");
    let extended = std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("opens");
    extended.set_len(end + 64 * 1024).expect("extends");
    drop(extended);

    let journal = Journal::open(dir.path(), Durability::Fsync, 0).expect("zeros are cut");
    assert_eq!(journal.next_id(), end);
    assert_eq!(std::fs::metadata(&file).expect("stat").len(), end);
    let all: Vec<u64> = journal
        .entries_from(0)
        .expect("scans")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(all, ids);
    assert_eq!(journal.append(&[entry(3)]).expect("appends"), vec![end]);
    assert_eq!(journal.get(end).expect("reads"), entry(3));
    // Zeros where an entry should be, in a read by id, are not an entry.
    assert!(journal.get(end + 4).is_err());
}
