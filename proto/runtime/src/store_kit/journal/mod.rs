//! An append-only journal beside sled, shared by both stores (the hub's escalations, the
//! agent's alert samples): payloads in length+CRC frames (`frame.rs`) in a set of segments,
//! each payload's id its offset in the concatenation of all segments, read back with one
//! positioned read and no index. What a payload holds is the store's business.
//!
//! Layout: `JOURNAL DIR/<first id, 20 digits>.log`. A segment is closed at
//! [`SEGMENT_BYTES`]; the next starts at the next id (or further on: ids may skip, never
//! repeat). [`Journal::append`] writes a batch with one write and, in `Durability::Fsync`
//! mode, one fdatasync before it returns: a store appends, then applies the sled unit that
//! refers to the ids, so sled's background flushes never persist a reference to bytes the
//! disk does not hold (a crash between the two leaves an unreferenced payload, harmless).
//!
//! At open the newest segment is scanned: a torn append (a crash during an append: a frame cut
//! short, zeroed bytes, a frame that does not check at or past the store's `floor`) is cut
//! off with everything after it; a frame that does not check before the floor is damage,
//! reported with file and offset. The floor is where the store's index says the journal
//! ended when it last committed: ids below it may be named by the index and are never given
//! to another payload.

pub mod frame;

use crate::config::Durability;
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// The highest id a segment may start at (its file name).
const MAX_SEGMENT_START: u64 = 1 << 62;

/// Size at which a segment is closed and the next begins.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;

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
    pub fn io(path: &Path, source: std::io::Error) -> Self {
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

type Segments = BTreeMap<u64, (PathBuf, Arc<File>)>;

pub struct Journal {
    dir: PathBuf,
    durability: Durability,
    /// Every segment by its first id, for reads.
    segments: RwLock<Segments>,
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
    /// Opens (or creates) the journal in `dir` (created private); cuts a torn tail. `floor`
    /// is the lowest id the next append may take (see the module doc). Damage in the newest
    /// segment is an error: the store does not open.
    pub fn open(dir: &Path, durability: Durability, floor: u64) -> Result<Self, JournalError> {
        Self::open_with(dir, durability, floor, false)
    }

    /// [`Self::open`] for a journal whose payloads are evidence kept aside rather than state
    /// the store needs (the agent's samples): damage in the newest segment is logged and the
    /// segment left as it is, sealed (its whole frames still read, the damaged one reads as
    /// [`JournalError::Damaged`]); appends go on in a new segment past all its bytes.
    pub fn open_sealing_damage(
        dir: &Path,
        durability: Durability,
        floor: u64,
    ) -> Result<Self, JournalError> {
        Self::open_with(dir, durability, floor, true)
    }

    fn open_with(
        dir: &Path,
        durability: Durability,
        floor: u64,
        seal_damage: bool,
    ) -> Result<Self, JournalError> {
        crate::store_files::private_dir(dir).map_err(|e| JournalError::io(dir, e))?;
        let mut segments = BTreeMap::new();
        for item in std::fs::read_dir(dir).map_err(|e| JournalError::io(dir, e))? {
            let item = item.map_err(|e| JournalError::io(dir, e))?;
            let name = item.file_name();
            let Some(start) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let path = item.path();
            // Ids are byte offsets: no journal reaches 2^62 bytes, and ids computed from a
            // segment named past that could overflow. A name like that is damage (or a
            // crafted dump), refused here rather than a panic later.
            if start > MAX_SEGMENT_START {
                return Err(JournalError::Damaged {
                    path,
                    offset: 0,
                    reason: format!("a segment cannot start at id {start}"),
                });
            }
            let file = Arc::new(open_rw(&path)?);
            segments.insert(start, (path, file));
        }
        let mut sealed_end = None;
        let tail = match segments.last_key_value() {
            Some((&start, (path, file))) => {
                let reader = std::io::BufReader::new(file.as_ref());
                let newest = frame::Segment::Newest {
                    floor: floor.saturating_sub(start),
                };
                let scan = match frame::scan(path, reader, 0, newest, |_| false) {
                    Err(JournalError::Damaged {
                        path,
                        offset,
                        reason,
                    }) if seal_damage => {
                        let size = file
                            .metadata()
                            .map_err(|e| JournalError::io(&path, e))?
                            .len();
                        tracing::error!(
                            file = %path.display(),
                            offset,
                            %reason,
                            "the journal is damaged; its segment is kept as it is and new \
                             entries go to a new one"
                        );
                        sealed_end = Some(start + size);
                        frame::Scan {
                            frames: Vec::new(),
                            valid_len: size,
                            torn: false,
                        }
                    }
                    other => other?,
                };
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
            None => new_segment(dir, 0, &mut segments)?,
        };
        let journal = Self {
            dir: dir.to_path_buf(),
            durability,
            segments: RwLock::new(segments),
            tail: Mutex::new(tail),
            segment_bytes: SEGMENT_BYTES,
        };
        if let Some(end) = sealed_end {
            journal.roll(end.max(floor))?;
        }
        if journal.next_id() < floor {
            // The disk lost payloads the index had named (only possible without fsync): new
            // ones start past every id the index may name.
            tracing::warn!(
                dir = %dir.display(),
                end = journal.next_id(),
                floor,
                "the journal is shorter than the store's index says; continuing after it"
            );
            journal.roll(floor)?;
        }
        Ok(journal)
    }

    /// Closes segments at `bytes` instead of [`SEGMENT_BYTES`] (tests roll segments with it).
    pub fn set_segment_bytes(&mut self, bytes: u64) {
        self.segment_bytes = bytes;
    }

    /// The id the next payload will get.
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

    /// Appends `payloads` in order with one write and makes them durable (fdatasync in
    /// `Durability::Fsync` mode); returns their ids.
    pub fn append(&self, payloads: &[Vec<u8>]) -> Result<Vec<u64>, JournalError> {
        if payloads.is_empty() {
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
        let mut ids = Vec::with_capacity(payloads.len());
        for payload in payloads {
            ids.push(tail.start + tail.len + buf.len() as u64);
            frame::encode(payload, &mut buf);
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
        Ok(ids)
    }

    /// The payload with id `id`: [`JournalError::Missing`] where no whole frame starts there,
    /// [`JournalError::Damaged`] where its CRC does not match.
    pub fn get(&self, id: u64) -> Result<Vec<u8>, JournalError> {
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
        Ok(payload)
    }

    /// Every payload with an id of at least `from`, in order, each frame checked.
    pub fn payloads_from(&self, from: u64) -> Result<Vec<(u64, Vec<u8>)>, JournalError> {
        let mut out = Vec::new();
        self.visit_from(from, |frames| {
            out.extend(frames);
            Ok::<_, JournalError>(())
        })?;
        Ok(out)
    }

    /// Every payload with an id of at least `from`, in order, each frame checked, handed to
    /// `visit` one segment at a time: a copy of the whole journal (`sirt-hub db migrate`)
    /// holds at most one segment in memory.
    pub fn visit_from<E: From<JournalError>>(
        &self,
        from: u64,
        mut visit: impl FnMut(Vec<(u64, Vec<u8>)>) -> Result<(), E>,
    ) -> Result<(), E> {
        let segments: Vec<(u64, PathBuf, Arc<File>)> = {
            let segments = self.segments.read().unwrap_or_else(|p| p.into_inner());
            segments
                .iter()
                .map(|(start, (path, file))| (*start, path.clone(), file.clone()))
                .collect()
        };
        let end = self.next_id();
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
            visit(
                scan.frames
                    .into_iter()
                    .map(|(at, p)| (start + at, p))
                    .collect(),
            )?;
        }
        Ok(())
    }
}

/// Creates the segment starting at `start` and makes its name durable.
fn new_segment(dir: &Path, start: u64, segments: &mut Segments) -> Result<Tail, JournalError> {
    let path = segment_path(dir, start);
    let file = crate::store_files::create_private(&path).map_err(|e| JournalError::io(&path, e))?;
    drop(file);
    let file = Arc::new(open_rw(&path)?);
    crate::store_files::sync_dir(dir).map_err(|e| JournalError::io(dir, e))?;
    segments.insert(start, (path.clone(), file.clone()));
    Ok(Tail {
        start,
        file,
        path,
        len: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_named_past_any_real_journal_is_refused_not_a_panic() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(format!("{}.log", u64::MAX)), b"").expect("segment");
        let refused = Journal::open(dir.path(), Durability::Flush, 0)
            .err()
            .expect("refused");
        assert!(matches!(refused, JournalError::Damaged { .. }), "{refused}");
    }
}
