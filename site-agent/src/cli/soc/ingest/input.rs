//! Reading the input: JSON lines one at a time in bounded memory, or an OCSF document that
//! is one JSON array, read whole and split into records.

use super::IngestFormat;
use anyhow::Context as _;
use std::io::{BufRead, BufReader, Read};

/// How far into the input to look for the first non-blank byte.
const SNIFF_MAX_BYTES: usize = 64 * 1024;

/// The input, ready to send.
pub(super) enum Input {
    /// JSON lines, read as they are sent.
    Lines(Box<dyn BufRead + Send>),
    /// The elements of an OCSF JSON array document, numbered 1..n.
    Array(Vec<String>),
}

/// For OCSF, an input whose first non-blank character is `[` is one JSON array, read whole
/// and split; everything else is read line by line.
pub(super) fn prepare(
    reader: Box<dyn Read + Send>,
    format: IngestFormat,
    name: &str,
) -> anyhow::Result<Input> {
    if format != IngestFormat::Ocsf {
        return Ok(Input::Lines(Box::new(BufReader::new(reader))));
    }
    let (prefix, reader) = sniff(reader).with_context(|| format!("cannot read {name}"))?;
    if first_significant_byte(&prefix) != Some(b'[') {
        return Ok(Input::Lines(Box::new(BufReader::new(
            std::io::Cursor::new(prefix).chain(reader),
        ))));
    }
    let mut bytes = prefix;
    let mut reader = reader;
    reader
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{name} starts with '[' but is not valid UTF-8 ({})",
            e.utf8_error()
        )
    })?;
    let records = crate::soc::parse::split_json_array(&text)
        .map_err(|e| anyhow::anyhow!("{name} starts with '[' but is not a JSON array: {e}"))?;
    Ok(Input::Array(records))
}

/// Reads from `reader` until the first byte that is not blank (or [`SNIFF_MAX_BYTES`], or
/// the end); returns what was read and the rest of the input.
fn sniff<R: Read>(mut reader: R) -> std::io::Result<(Vec<u8>, R)> {
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 4096];
    while first_significant_byte(&prefix).is_none() && prefix.len() < SNIFF_MAX_BYTES {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        prefix.extend_from_slice(&chunk[..n]);
    }
    Ok((prefix, reader))
}

pub(super) use crate::soc::parse::first_significant_byte;

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Line {
    Text(String),
    /// Longer than the limit: `bytes` long without its line ending.
    TooLong {
        bytes: usize,
    },
    NotUtf8 {
        valid_up_to: usize,
    },
}

/// Reads one line without its `\n` / `\r\n`, holding at most `max` (+2) bytes of it in
/// memory; returns it with the number of bytes consumed, or `None` at the end.
pub(super) fn read_line<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<(Line, usize)>> {
    buf.clear();
    let keep = max.saturating_add(2);
    let mut consumed = 0usize;
    let mut last_two = [0u8; 2];
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (chunk, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let n = chunk.len();
        if buf.len() < keep {
            let room = keep - buf.len();
            buf.extend_from_slice(&chunk[..n.min(room)]);
        }
        if n >= 2 {
            last_two = [chunk[n - 2], chunk[n - 1]];
        } else {
            last_two = [last_two[1], chunk[0]];
        }
        consumed += n;
        reader.consume(n);
        if ended {
            break;
        }
    }
    if consumed == 0 {
        return Ok(None);
    }
    let ending = match last_two {
        [b'\r', b'\n'] => 2,
        [_, b'\n'] => 1,
        _ => 0,
    };
    let bytes = consumed - ending;
    if bytes > max {
        return Ok(Some((Line::TooLong { bytes }, consumed)));
    }
    buf.truncate(bytes);
    let line = match String::from_utf8(std::mem::take(buf)) {
        Ok(text) => Line::Text(text),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            *buf = e.into_bytes();
            Line::NotUtf8 { valid_up_to }
        }
    };
    Ok(Some((line, consumed)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read_all(input: &[u8], max: usize) -> Vec<(Line, usize)> {
        let mut reader = BufReader::with_capacity(3, Cursor::new(input.to_vec()));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut reader, &mut buf, max).ok().flatten() {
            out.push(line);
        }
        out
    }

    fn text(s: &str) -> Line {
        Line::Text(s.to_string())
    }

    #[test]
    fn lines_lose_their_endings_and_keep_their_numbers() {
        assert_eq!(
            read_all(b"{\"a\":1}\r\n\n{\"b\":2}", 100),
            vec![
                (text("{\"a\":1}"), 9),
                (text(""), 1),
                (text("{\"b\":2}"), 7)
            ]
        );
        assert!(read_all(b"", 100).is_empty());
        assert_eq!(read_all(b"x\n", 100), vec![(text("x"), 2)]);
    }

    #[test]
    fn long_lines_are_measured_not_kept() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\r\nok\n");
        let lines = read_all(&input, 10);
        assert_eq!(
            lines,
            vec![(Line::TooLong { bytes: 50 }, 52), (text("ok"), 3)]
        );
        // Exactly at the limit is fine, with either line ending.
        assert_eq!(
            read_all(b"0123456789\r\n", 10),
            vec![(text("0123456789"), 12)]
        );
        assert_eq!(
            read_all(b"01234567890", 10),
            vec![(Line::TooLong { bytes: 11 }, 11)]
        );
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_position() {
        assert_eq!(
            read_all(b"ab\xFFc\nd\n", 100),
            vec![(Line::NotUtf8 { valid_up_to: 2 }, 5), (text("d"), 2)]
        );
    }

    #[test]
    fn ocsf_array_detection_skips_blanks_and_a_bom() {
        assert_eq!(first_significant_byte(b"  \n\t[{}]"), Some(b'['));
        assert_eq!(first_significant_byte(b"\xEF\xBB\xBF[]"), Some(b'['));
        assert_eq!(first_significant_byte(b"{\"a\":[1]}"), Some(b'{'));
        assert_eq!(first_significant_byte(b" \r\n "), None);
    }

    /// A reader that hands out one byte per read, like a slow pipe.
    struct Trickle(Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let end = buf.len().min(1);
            self.0.read(&mut buf[..end])
        }
    }

    #[test]
    fn sniffing_a_slow_pipe_reads_only_up_to_the_first_character() -> anyhow::Result<()> {
        let (prefix, mut rest) = sniff(Trickle(Cursor::new(b"\n\n  [1, 2]".to_vec())))?;
        assert_eq!(prefix, b"\n\n  [");
        let mut tail = String::new();
        rest.read_to_string(&mut tail)?;
        assert_eq!(tail, "1, 2]");
        Ok(())
    }

    #[test]
    fn a_broken_ocsf_array_fails_before_anything_is_sent() {
        let doc = b"[{\"a\":1},".to_vec();
        let error = prepare(Box::new(Cursor::new(doc)), IngestFormat::Ocsf, "input")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("not a JSON array"), "{error}");
    }
}
