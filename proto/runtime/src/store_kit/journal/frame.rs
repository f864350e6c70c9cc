//! The journal's framing: `len (u32 LE) ++ crc32 of the payload (u32 LE) ++ payload`.
//!
//! Only the newest segment can end in a torn frame (a crash while it was appended): a header or
//! payload cut short, a frame of length 0 (zeroed bytes), or a frame whose CRC does not match
//! its bytes at or past the index's applied mark or followed only by zeros. The scan at open
//! reports where the last whole frame ends so the tail is cut there. A frame that does not
//! check anywhere else is damage, reported with the file and offset.

use super::JournalError;
use std::io::Read;
use std::path::Path;

/// Bytes before each payload.
pub const HEADER: usize = 8;

/// The largest payload a frame may carry: far above the largest record either service
/// journals (the hub's largest report, `ReportLimits`; the agent's largest sample block), so
/// a length above it can only be garbage.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// Appends one frame holding `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    // Nothing journals a payload near 4 GiB (`MAX_PAYLOAD`); saturate rather than wrap.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The payload length a header announces, checked against [`MAX_PAYLOAD`].
pub fn header(bytes: &[u8; HEADER]) -> (usize, u32) {
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let crc = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    (len, crc)
}

/// Whether `payload` matches the CRC its header carries.
pub fn checks(payload: &[u8], crc: u32) -> bool {
    crc32fast::hash(payload) == crc
}

/// What a scan of one segment found.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan {
    /// Offsets (within the segment) and payloads of the whole frames, in order.
    pub frames: Vec<(u64, Vec<u8>)>,
    /// Where the last whole frame ends: the segment's valid length.
    pub valid_len: u64,
    /// Whether bytes after `valid_len` were a torn frame (to be cut off).
    pub torn: bool,
}

/// Which segment a scan reads, and so where a frame that does not check may be cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// A closed segment: nothing in it may be cut; a bad frame is damage.
    Sealed,
    /// The newest segment, where appends go. `floor` is the segment offset from which nothing
    /// was indexed (the index's applied mark): a bad frame there is an append a crash tore
    /// (one write of a batch, then one sync: the disk may keep a later page and lose an
    /// earlier one) and is cut with everything after it. Before `floor` a bad frame is damage,
    /// unless nothing but zeros follows it (the end of the file, lost with the disk's cache).
    Newest { floor: u64 },
}

/// Reads every frame of `reader` (the segment `path`, for errors), starting at segment offset
/// `from`. In the newest segment a torn tail ends the scan (see [`Segment`]); elsewhere it is
/// damage. `keep` decides, by offset, which payloads are kept (the others are only checked).
///
/// A frame of length 0 never checks: every payload has at least its version byte, and a run of
/// zeroed bytes (a file extended by a crash, a dump with holes) would otherwise read as a
/// chain of empty frames whose CRC (that of no bytes) is 0.
pub fn scan(
    path: &Path,
    mut reader: impl Read,
    from: u64,
    segment: Segment,
    keep: impl Fn(u64) -> bool,
) -> Result<Scan, JournalError> {
    let mut frames = Vec::new();
    let mut offset = from;
    loop {
        let mut head = [0u8; HEADER];
        let got = read_full(&mut reader, &mut head).map_err(|e| JournalError::io(path, e))?;
        if got == 0 {
            return Ok(Scan {
                frames,
                valid_len: offset,
                torn: false,
            });
        }
        // The file ends inside this frame: a torn append if the segment is the newest.
        let cut_short = |reason: String, frames: Vec<(u64, Vec<u8>)>| match segment {
            Segment::Newest { .. } => Ok(Scan {
                frames,
                valid_len: offset,
                torn: true,
            }),
            Segment::Sealed => Err(JournalError::Damaged {
                path: path.to_path_buf(),
                offset,
                reason,
            }),
        };
        if got < HEADER {
            return cut_short(
                format!("a frame header cut short after {got} bytes"),
                frames,
            );
        }
        let (len, crc) = header(&head);
        if len == 0 || len > MAX_PAYLOAD {
            let reason = if len == 0 {
                "an empty frame (zeroed bytes)".to_string()
            } else {
                format!("a frame length of {len} bytes")
            };
            return bad_frame(path, &mut reader, offset, segment, reason, frames);
        }
        let mut payload = vec![0u8; len];
        let got = read_full(&mut reader, &mut payload).map_err(|e| JournalError::io(path, e))?;
        if got < len {
            return cut_short(
                format!("a frame of {len} bytes cut short after {got}"),
                frames,
            );
        }
        if !checks(&payload, crc) {
            let reason = "the frame's CRC does not match its bytes".to_string();
            return bad_frame(path, &mut reader, offset, segment, reason, frames);
        }
        if keep(offset) {
            frames.push((offset, payload));
        }
        offset += (HEADER + len) as u64;
    }
}

/// A frame at `offset` that does not check, `reader` just past it: cut there (a torn append,
/// see [`Segment::Newest`]) or damage.
fn bad_frame(
    path: &Path,
    reader: &mut impl Read,
    offset: u64,
    segment: Segment,
    reason: String,
    frames: Vec<(u64, Vec<u8>)>,
) -> Result<Scan, JournalError> {
    let torn = match segment {
        Segment::Sealed => false,
        Segment::Newest { floor } => {
            offset >= floor || only_zeros(reader).map_err(|e| JournalError::io(path, e))?
        }
    };
    if torn {
        return Ok(Scan {
            frames,
            valid_len: offset,
            torn: true,
        });
    }
    Err(JournalError::Damaged {
        path: path.to_path_buf(),
        offset,
        reason,
    })
}

/// Whether the rest of `reader` holds no byte but zero (or nothing).
fn only_zeros(reader: &mut impl Read) -> std::io::Result<bool> {
    let mut buf = [0u8; 8192];
    loop {
        let got = read_full(reader, &mut buf)?;
        if buf[..got].iter().any(|b| *b != 0) {
            return Ok(false);
        }
        if got < buf.len() {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            encode(p, &mut out);
        }
        out
    }

    /// The newest segment with everything in `bytes` indexed, or a sealed one.
    fn scan_all(bytes: &[u8], last: bool) -> Result<Scan, JournalError> {
        let segment = if last {
            Segment::Newest {
                floor: bytes.len() as u64,
            }
        } else {
            Segment::Sealed
        };
        scan(Path::new("seg"), bytes, 0, segment, |_| true)
    }

    #[test]
    fn whole_frames_read_back_in_order_with_their_offsets() {
        let bytes = frames(&[b"one", b"2", b"three"]);
        let scan = scan_all(&bytes, true).expect("scans");
        assert_eq!(
            scan.frames,
            vec![
                (0, b"one".to_vec()),
                (11, b"2".to_vec()),
                (20, b"three".to_vec())
            ]
        );
        assert_eq!(scan.valid_len, bytes.len() as u64);
        assert!(!scan.torn);
    }

    #[test]
    fn a_torn_tail_of_the_last_segment_is_cut_at_the_last_whole_frame() {
        let whole = frames(&[b"one", b"two"]);
        let next = frames(&[b"three"]);
        for cut in 1..next.len() {
            let mut bytes = whole.clone();
            bytes.extend_from_slice(&next[..cut]);
            let scan = scan_all(&bytes, true).expect("a torn tail is not an error");
            assert_eq!(scan.frames.len(), 2, "cut after {cut} bytes");
            assert_eq!(scan.valid_len, whole.len() as u64);
            assert!(scan.torn);
        }
        // Whole length, wrong bytes: the write was torn inside the payload.
        let mut bytes = whole.clone();
        let mut last = next.clone();
        let end = last.len() - 1;
        last[end] ^= 0xff;
        bytes.extend_from_slice(&last);
        let scan = scan_all(&bytes, true).expect("torn");
        assert_eq!((scan.frames.len(), scan.torn), (2, true));
    }

    #[test]
    fn a_crc_mismatch_before_the_last_frame_names_the_file_and_offset() {
        let mut bytes = frames(&[b"one", b"two", b"three"]);
        // The second frame starts at 11; its payload at 19.
        bytes[19] ^= 0x01;
        let floor = bytes.len() as u64;
        let err = scan(
            Path::new("journal/seg"),
            bytes.as_slice(),
            0,
            Segment::Newest { floor },
            |_| true,
        )
        .expect_err("damage");
        match &err {
            JournalError::Damaged { path, offset, .. } => {
                assert_eq!(path, Path::new("journal/seg"));
                assert_eq!(*offset, 11);
            }
            other => panic!("unexpected {other:?}"),
        }
        let shown = err.to_string();
        assert!(
            shown.contains("journal/seg") && shown.contains("11"),
            "{shown}"
        );
    }

    #[test]
    fn a_torn_frame_in_an_older_segment_is_damage() {
        let mut bytes = frames(&[b"one"]);
        bytes.extend_from_slice(&[1, 0]);
        assert!(matches!(
            scan_all(&bytes, false),
            Err(JournalError::Damaged { offset: 11, .. })
        ));
    }

    /// Zeroed bytes are never frames: the header of an empty payload would be all zeros and
    /// check (the CRC of no bytes is 0).
    #[test]
    fn a_run_of_zeros_is_a_torn_tail_of_the_newest_segment_and_damage_elsewhere() {
        let whole = frames(&[b"one", b"two"]);
        let mut bytes = whole.clone();
        bytes.extend_from_slice(&[0u8; 4096]);
        let scan = scan_all(&bytes, true).expect("zeros at the end are cut");
        assert_eq!((scan.frames.len(), scan.torn), (2, true));
        assert_eq!(scan.valid_len, whole.len() as u64);
        assert!(matches!(
            scan_all(&bytes, false),
            Err(JournalError::Damaged { offset: 22, .. })
        ));
        // Zeros with a frame after them, before everything was indexed: damage.
        let mut holed = whole.clone();
        holed.extend_from_slice(&[0u8; 16]);
        holed.extend_from_slice(&frames(&[b"three"]));
        assert!(matches!(
            scan_all(&holed, true),
            Err(JournalError::Damaged { offset: 22, .. })
        ));
    }

    /// One write, then one sync: a crash can keep a later page of a batch and lose an earlier
    /// one. Past the applied mark nothing was indexed or acknowledged, so the rest is cut.
    #[test]
    fn a_bad_frame_past_the_applied_mark_is_cut_with_what_follows_it() {
        let mut bytes = frames(&[b"one", b"two", b"three"]);
        bytes[19] ^= 0x01;
        let scan = scan(
            Path::new("seg"),
            bytes.as_slice(),
            0,
            Segment::Newest { floor: 11 },
            |_| true,
        )
        .expect("an unindexed torn batch is cut");
        assert_eq!(scan.frames, vec![(0, b"one".to_vec())]);
        assert_eq!((scan.valid_len, scan.torn), (11, true));
    }
}
