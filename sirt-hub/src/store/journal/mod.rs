//! The hub's escalation journal: every escalation as received, appended before the unit that
//! indexes it, and durable (fdatasync in `Durability::Fsync` mode) before that unit is even
//! applied, so whatever sled writes in the background never refers to a journal entry the disk
//! does not hold.
//!
//! Layout: `DIR/journal/<first id, 20 digits>.log`, a set of append-only segments of
//! length+CRC frames (`frame.rs`) holding entries (`entry.rs`). An entry's id is its offset in
//! the concatenation of all segments: monotonic, and read back with one positioned read
//! without an index. A segment is closed at [`SEGMENT_BYTES`]; the next starts at the next id
//! (or further on: ids may skip, never repeat).
//!
//! At open the newest segment is scanned: a torn append (a crash during an append: a frame cut
//! short, zeroed bytes, a frame that does not check at or past the applied mark) is cut off
//! with everything after it; a frame that does not check before the mark is damage, reported
//! with file and offset. The index (`meta` key `journal_applied`) records below which id everything is applied;
//! entries from there on are re-applied at start-up (`crate::ingest::replay`).

mod entry;
mod frame;

pub use entry::{JournalEntry, JournaledOffer};

use socfed_runtime::config::Durability;
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Size at which a segment is closed and the next begins.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

/// The journal's directory inside the store directory.
pub const DIR: &str = "journal";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("journal file {path} is damaged at offset {offset}: {reason}")]
    Damaged {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("journal entry: {0}")]
    Codec(String),
    #[error("journal entry {0} is not in the journal")]
    Missing(u64),
}

impl JournalError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        JournalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The newest segment, where appends go.
struct Tail {
    start: u64,
    file: Arc<File>,
    path: PathBuf,
    /// Bytes in the segment; the next id is `start + len`.
    len: u64,
}

pub struct Journal {
    dir: PathBuf,
    durability: Durability,
    /// Every segment by its first id, for reads.
    segments: RwLock<BTreeMap<u64, (PathBuf, Arc<File>)>>,
    tail: Mutex<Tail>,
    /// [`SEGMENT_BYTES`]; smaller in tests.
    segment_bytes: u64,
}

fn segment_path(dir: &Path, start: u64) -> PathBuf {
    dir.join(format!("{start:020}.log"))
}

fn open_rw(path: &Path) -> Result<File, JournalError> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| JournalError::io(path, e))
}

impl Journal {
    /// Opens (or creates) the journal of the store in `store_dir`; cuts a torn tail. `floor` is
    /// the lowest id the next append may take (the index's applied mark: an id it already
    /// names is never given to another entry, whatever the disk lost).
    pub fn open(
        store_dir: &Path,
        durability: Durability,
        floor: u64,
    ) -> Result<Self, JournalError> {
        let dir = store_dir.join(DIR);
        socfed_runtime::store_files::private_dir(&dir).map_err(|e| JournalError::io(&dir, e))?;
        let mut segments = BTreeMap::new();
        for item in std::fs::read_dir(&dir).map_err(|e| JournalError::io(&dir, e))? {
            let item = item.map_err(|e| JournalError::io(&dir, e))?;
            let name = item.file_name();
            let Some(start) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let path = item.path();
            let file = Arc::new(open_rw(&path)?);
            segments.insert(start, (path, file));
        }
        let tail = match segments.last_key_value() {
            Some((&start, (path, file))) => {
                let reader = std::io::BufReader::new(file.as_ref());
                let newest = frame::Segment::Newest {
                    floor: floor.saturating_sub(start),
                };
                let scan = frame::scan(path, reader, 0, newest, |_| false)?;
                if scan.torn {
                    let size = file
                        .metadata()
                        .map_err(|e| JournalError::io(path, e))?
                        .len();
                    tracing::warn!(
                        file = %path.display(),
                        at = scan.valid_len,
                        cut_bytes = size.saturating_sub(scan.valid_len),
                        "the journal ended in a torn append (a crash while it was written, \
                         nothing of it indexed); cut it off"
                    );
                    file.set_len(scan.valid_len)
                        .and_then(|()| file.sync_all())
                        .map_err(|e| JournalError::io(path, e))?;
                }
                Tail {
                    start,
                    file: file.clone(),
                    path: path.clone(),
                    len: scan.valid_len,
                }
            }
            None => new_segment(&dir, 0, &mut segments)?,
        };
        let journal = Self {
            dir,
            durability,
            segments: RwLock::new(segments),
            tail: Mutex::new(tail),
            segment_bytes: SEGMENT_BYTES,
        };
        if journal.next_id() < floor {
            // The disk lost entries the index had applied (only possible without fsync): new
            // entries start past every id the index may name.
            tracing::warn!(
                end = journal.next_id(),
                applied = floor,
                "the journal is shorter than the index says it applied; continuing after it"
            );
            journal.roll(floor)?;
        }
        metrics::gauge!("socfed_hub_journal_bytes").set(journal.bytes() as f64);
        Ok(journal)
    }

    /// The id the next entry will get.
    pub fn next_id(&self) -> u64 {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        tail.start + tail.len
    }

    /// Bytes held in every segment.
    pub fn bytes(&self) -> u64 {
        let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let sealed: u64 = segments
            .iter()
            .filter(|(start, _)| **start != tail.start)
            .filter_map(|(_, (_, file))| file.metadata().ok().map(|m| m.len()))
            .sum();
        sealed + tail.len
    }

    /// Starts a new segment at `start` (at least the current end).
    fn roll(&self, start: u64) -> Result<(), JournalError> {
        let mut segments = self.segments.write().unwrap_or_else(|p| p.into_inner());
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let start = start.max(tail.start + tail.len);
        if tail.len == 0 && start == tail.start {
            return Ok(());
        }
        *tail = new_segment(&self.dir, start, &mut segments)?;
        Ok(())
    }

    /// Appends `entries` in order and makes them durable; returns their ids.
    pub fn append(&self, entries: &[JournalEntry]) -> Result<Vec<u64>, JournalError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let full = {
            let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
            tail.len >= self.segment_bytes
        };
        if full {
            self.roll(0)?;
        }
        let mut tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        let mut buf = Vec::new();
        let mut ids = Vec::with_capacity(entries.len());
        for entry in entries {
            ids.push(tail.start + tail.len + buf.len() as u64);
            frame::encode(&entry.encode()?, &mut buf);
        }
        let written = tail
            .file
            .write_all_at(&buf, tail.len)
            .and_then(|()| match self.durability {
                Durability::Fsync => tail.file.sync_data(),
                Durability::Flush => Ok(()),
            });
        if let Err(e) = written {
            // Cut what may have been written, so the next append starts on a frame boundary.
            let _ = tail.file.set_len(tail.len);
            return Err(JournalError::io(&tail.path, e));
        }
        tail.len += buf.len() as u64;
        metrics::counter!("socfed_hub_journal_appends_total").increment(entries.len() as u64);
        metrics::gauge!("socfed_hub_journal_bytes").increment(buf.len() as f64);
        Ok(ids)
    }

    /// The entry with id `id`.
    pub fn get(&self, id: u64) -> Result<JournalEntry, JournalError> {
        let (start, path, file) = {
            let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
            let (start, (path, file)) = segments
                .range(..=id)
                .next_back()
                .ok_or(JournalError::Missing(id))?;
            (*start, path.clone(), file.clone())
        };
        let at = id - start;
        let mut head = [0u8; frame::HEADER];
        file.read_exact_at(&mut head, at)
            .map_err(|_| JournalError::Missing(id))?;
        let (len, crc) = frame::header(&head);
        if len == 0 || len > frame::MAX_PAYLOAD {
            return Err(JournalError::Missing(id));
        }
        let mut payload = vec![0u8; len];
        file.read_exact_at(&mut payload, at + frame::HEADER as u64)
            .map_err(|_| JournalError::Missing(id))?;
        if !frame::checks(&payload, crc) {
            return Err(JournalError::Damaged {
                path,
                offset: at,
                reason: "the frame's CRC does not match its bytes".into(),
            });
        }
        JournalEntry::decode(&payload)
    }

    /// Every entry with an id of at least `from`, in order: what a replay applies.
    pub fn entries_from(&self, from: u64) -> Result<Vec<(u64, JournalEntry)>, JournalError> {
        let segments: Vec<(u64, PathBuf, Arc<File>)> = {
            let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
            segments
                .iter()
                .map(|(start, (path, file))| (*start, path.clone(), file.clone()))
                .collect()
        };
        let end = self.next_id();
        let mut out = Vec::new();
        for (i, (start, path, file)) in segments.iter().enumerate() {
            let next = segments.get(i + 1).map_or(end, |(s, ..)| *s);
            if next <= from {
                continue;
            }
            let skip = from.saturating_sub(*start);
            let limit = if i + 1 == segments.len() {
                end - start
            } else {
                u64::MAX
            };
            let mut reader = std::io::BufReader::new(file.as_ref());
            std::io::Seek::seek(&mut reader, std::io::SeekFrom::Start(0))
                .map_err(|e| JournalError::io(path, e))?;
            let reader = std::io::Read::take(reader, limit);
            let scan = frame::scan(path, reader, 0, frame::Segment::Sealed, |at| at >= skip)?;
            for (at, payload) in scan.frames {
                out.push((start + at, JournalEntry::decode(&payload)?));
            }
        }
        Ok(out)
    }
}

/// Creates the segment starting at `start` and makes its name durable.
fn new_segment(
    dir: &Path,
    start: u64,
    segments: &mut BTreeMap<u64, (PathBuf, Arc<File>)>,
) -> Result<Tail, JournalError> {
    let path = segment_path(dir, start);
    let file = socfed_runtime::store_files::create_private(&path)
        .map_err(|e| JournalError::io(&path, e))?;
    drop(file);
    let file = Arc::new(open_rw(&path)?);
    socfed_runtime::store_files::sync_dir(dir).map_err(|e| JournalError::io(dir, e))?;
    segments.insert(start, (path.clone(), file.clone()));
    Ok(Tail {
        start,
        file,
        path,
        len: 0,
    })
}

#[cfg(test)]
mod tests;
