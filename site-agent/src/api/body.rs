//! An intake request's body: read under a size cap, gunzipped under a second cap (a gzip
//! bomb stops at the cap: 413), and split into numbered records the way `site-agent ingest`
//! reads its input: a body whose first non-blank character is `[` is one JSON array (an
//! OCSF export, Logstash's `json_batch`), numbered by element; anything else is JSON lines
//! (Vector's and Fluent Bit's newline-delimited JSON), numbered by line, blank lines counted
//! as skipped. Parsing each record is the service's (`SocService::parse_batch`).

use crate::error::AgentError;
use crate::soc::parse::{self, SplitError, split_json_array_at_most};
use axum::body::Body;
use futures_util::StreamExt;
use std::io::Read;

/// The caps on one intake request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Bytes of body as sent (compressed or not).
    pub max_body_bytes: usize,
    /// Bytes of body once decompressed.
    pub max_decoded_bytes: usize,
    /// Records (lines or array elements) in one request.
    pub max_records: usize,
    /// Bytes of one array element, checked before it is parsed (the intake's line cap,
    /// `soc.max_line_bytes`, which a JSON line meets the same way).
    pub max_record_bytes: usize,
}

impl Default for IntakeLimits {
    /// 16 MiB decoded (a shipper's batch is a few MiB at most; Vector's default is 10 MB),
    /// 100,000 records; 8 MiB sent.
    fn default() -> Self {
        Self {
            max_body_bytes: 8 << 20,
            max_decoded_bytes: 16 << 20,
            max_records: 100_000,
            max_record_bytes: crate::soc::alert::ParseLimits::default().max_line_bytes,
        }
    }
}

/// The whole body, refused past `max` bytes. The rest of a refused body is read and dropped
/// (up to `max` more bytes, held nowhere) so that the client, still sending, reads the 413
/// instead of a reset connection; past that the connection is given up.
pub async fn read_capped(body: Body, max: usize) -> Result<Vec<u8>, AgentError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut dropped = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AgentError::invalid(format!("reading the body: {e}")))?;
        if dropped == 0 && bytes.len() + chunk.len() <= max {
            bytes.extend_from_slice(&chunk);
            continue;
        }
        bytes = Vec::new();
        dropped = dropped.saturating_add(chunk.len());
        if dropped > max {
            break;
        }
    }
    if dropped > 0 {
        return Err(AgentError::TooLarge(format!(
            "the body is over {max} bytes: send smaller batches (the shipper's batch size)"
        )));
    }
    Ok(bytes)
}

/// How the body is encoded (`Content-Encoding`): identity or gzip; anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    pub fn of(header: Option<&str>) -> Result<Self, AgentError> {
        match header.map(|h| h.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("identity") => Ok(Self::Identity),
            Some("gzip") | Some("x-gzip") => Ok(Self::Gzip),
            Some(other) => Err(AgentError::invalid(format!(
                "Content-Encoding {:?} is not accepted: send gzip or nothing",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }
}

/// Checks the body's `Content-Type`: JSON lines (`application/x-ndjson`) or JSON
/// (`application/json`, an array or lines alike). Anything else is 415: a browser form
/// (`text/plain`, urlencoded) cannot smuggle a JSON line into intake.
pub fn check_content_type(header: Option<&str>) -> Result<(), AgentError> {
    let media = header
        .and_then(|h| h.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/json") | Some("application/x-ndjson") => Ok(()),
        other => Err(AgentError::UnsupportedMediaType(format!(
            "Content-Type {:?} is not accepted: send application/x-ndjson (JSON lines) or application/json",
            other.unwrap_or("").chars().take(48).collect::<String>()
        ))),
    }
}

/// `raw` decoded: gunzipped (every member) into at most `max` bytes.
pub fn decode(raw: Vec<u8>, encoding: Encoding, max: usize) -> Result<Vec<u8>, AgentError> {
    if encoding == Encoding::Identity {
        return Ok(raw);
    }
    let mut out = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| AgentError::invalid(format!("the gzip body cannot be decompressed: {e}")))?;
    if out.len() > max {
        return Err(AgentError::TooLarge(format!(
            "the body decompresses to over {max} bytes: send smaller batches"
        )));
    }
    Ok(out)
}

/// The body's records.
#[derive(Debug, Default)]
pub struct Records {
    /// `(number, text)` for every record that is text.
    pub records: Vec<(u64, String)>,
    /// Records refused before parsing (a line that is not UTF-8), as the CLI refuses them.
    pub rejections: Vec<(u64, String)>,
    /// The records were a JSON array's elements ("records"), not lines.
    pub array: bool,
}

impl Records {
    pub fn count(&self) -> usize {
        self.records.len() + self.rejections.len()
    }
}

/// Splits a decoded body into numbered records (at most `max_records`: 413 past it; an array
/// element over `max_record_bytes`: 413 before it is parsed).
pub fn records(
    body: &[u8],
    max_records: usize,
    max_record_bytes: usize,
) -> Result<Records, AgentError> {
    let too_many = || {
        AgentError::TooLarge(format!(
            "the body holds over {max_records} records: send smaller batches"
        ))
    };
    if parse::first_significant_byte(body) == Some(b'[') {
        let text = std::str::from_utf8(body).map_err(|e| {
            AgentError::invalid(format!(
                "the body starts with '[' but is not valid UTF-8 (at byte {})",
                e.valid_up_to() + 1
            ))
        })?;
        // Streamed: refused at element `max_records + 1`, holding only the elements' text.
        let elements = split_json_array_at_most(text, max_records, max_record_bytes).map_err(|e| match e {
            SplitError::TooMany => too_many(),
            SplitError::TooLarge => AgentError::TooLarge(format!(
                "an element of the array is over {max_record_bytes} bytes: send it as smaller records"
            )),
            SplitError::Invalid(e) => AgentError::invalid(format!(
                "the body starts with '[' but is not a JSON array: {e}"
            )),
        })?;
        return Ok(Records {
            records: (1u64..).zip(elements).collect(),
            rejections: Vec::new(),
            array: true,
        });
    }
    let mut out = Records::default();
    let mut lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    // A final newline ends the last line; it does not start another.
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    if lines.len() > max_records {
        return Err(too_many());
    }
    for (number, line) in (1u64..).zip(lines) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match std::str::from_utf8(line) {
            Ok(text) => out.records.push((number, text.to_owned())),
            Err(e) => out
                .rejections
                .push((number, parse::not_utf8(e.valid_up_to()))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = encoder.write_all(bytes);
        encoder.finish().unwrap_or_default()
    }

    #[test]
    fn a_gzip_body_decodes_and_a_bomb_stops_at_the_cap() {
        let body = gzip(b"{\"a\":1}\n{\"b\":2}\n");
        let decoded = decode(body, Encoding::Gzip, 1024).ok();
        assert_eq!(decoded.as_deref(), Some(&b"{\"a\":1}\n{\"b\":2}\n"[..]));
        // 64 MiB of zeros compress to about 64 KiB.
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 1 << 20);
        let refused = decode(bomb, Encoding::Gzip, 1 << 20);
        assert!(
            matches!(refused, Err(AgentError::TooLarge(_))),
            "{refused:?}"
        );
        assert!(decode(b"not gzip".to_vec(), Encoding::Gzip, 1024).is_err());
    }

    #[test]
    fn lines_and_arrays_are_numbered_as_the_cli_numbers_them() -> anyhow::Result<()> {
        let lines = records(b"{\"a\":1}\r\n\n\xff\xfe\n{\"b\":2}\n", 10, 1 << 20)?;
        assert_eq!(
            lines.records,
            vec![
                (1, "{\"a\":1}".to_owned()),
                (2, String::new()),
                (4, "{\"b\":2}".to_owned())
            ]
        );
        assert_eq!(lines.rejections, vec![(3, parse::not_utf8(0))]);
        assert!(!lines.array);
        let array = records(b"  [ {\"a\": 1}, {\"b\": 2} ]", 10, 1 << 20)?;
        assert!(array.array);
        assert_eq!(array.records.len(), 2);
        assert!(matches!(
            records(b"1\n2\n3\n", 2, 1 << 20),
            Err(AgentError::TooLarge(_))
        ));
        Ok(())
    }
}
