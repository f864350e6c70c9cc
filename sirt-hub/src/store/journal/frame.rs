//! The journal's framing: `len (u32 LE) ++ crc32 of the payload (u32 LE) ++ payload`.
//!
//! Only the last segment can end in a torn frame (a crash while it was appended): a header or
//! payload cut short, or a last frame whose CRC does not match its bytes. The scan at open
//! reports where the last whole frame ends so the tail is cut there. A frame that does not
//! check anywhere else is damage, reported with the file and offset.

use super::JournalError;
use std::io::Read;
use std::path::Path;

/// Bytes before each payload.
pub const HEADER: usize = 8;

/// The largest payload a frame may carry: far above the largest report the hub takes
/// (`ReportLimits`), so a length above it can only be garbage.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// Appends one frame holding `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    // The hub never journals a payload near 4 GiB (`MAX_PAYLOAD`); saturate rather than wrap.
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

/// Reads every frame of `reader` (the segment `path`, for errors), starting at segment offset
/// `from`. With `last` (the newest segment), a torn tail ends the scan; elsewhere it is damage.
/// `keep` decides, by offset, which payloads are kept (the others are only checked).
pub fn scan(
    path: &Path,
    mut reader: impl Read,
    from: u64,
    last: bool,
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
        let torn = |what: String| -> Result<Scan, JournalError> {
            if last {
                Ok(Scan {
                    frames: Vec::new(),
                    valid_len: offset,
                    torn: true,
                })
            } else {
                Err(JournalError::Damaged {
                    path: path.to_path_buf(),
                    offset,
                    reason: what,
                })
            }
        };
        if got < HEADER {
            return torn(format!("a frame header cut short after {got} bytes"))
                .map(|s| Scan { frames, ..s });
        }
        let (len, crc) = header(&head);
        if len > MAX_PAYLOAD {
            return torn(format!("a frame length of {len} bytes")).map(|s| Scan { frames, ..s });
        }
        let mut payload = vec![0u8; len];
        let got = read_full(&mut reader, &mut payload).map_err(|e| JournalError::io(path, e))?;
        if got < len {
            return torn(format!("a frame of {len} bytes cut short after {got}"))
                .map(|s| Scan { frames, ..s });
        }
        if !checks(&payload, crc) {
            // A bad CRC on the very last frame is a write torn by a crash; anywhere before it,
            // bytes changed after they were written.
            let mut probe = [0u8; 1];
            let more = read_full(&mut reader, &mut probe).map_err(|e| JournalError::io(path, e))?;
            if last && more == 0 {
                return torn(String::new()).map(|s| Scan { frames, ..s });
            }
            return Err(JournalError::Damaged {
                path: path.to_path_buf(),
                offset,
                reason: "the frame's CRC does not match its bytes".into(),
            });
        }
        if keep(offset) {
            frames.push((offset, payload));
        }
        offset += (HEADER + len) as u64;
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

    fn scan_all(bytes: &[u8], last: bool) -> Result<Scan, JournalError> {
        scan(Path::new("seg"), bytes, 0, last, |_| true)
    }

    #[test]
    fn whole_frames_read_back_in_order_with_their_offsets() {
        let bytes = frames(&[b"one", b"", b"three"]);
        let scan = scan_all(&bytes, true).expect("scans");
        assert_eq!(
            scan.frames,
            vec![
                (0, b"one".to_vec()),
                (11, Vec::new()),
                (19, b"three".to_vec())
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
        let err = scan(Path::new("journal/seg"), bytes.as_slice(), 0, true, |_| {
            true
        })
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
}
