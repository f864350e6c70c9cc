//! Turns one input line of a supported format into a normalised [`Alert`], a deliberate
//! skip, or a [`LineError`] naming the offending field. Pure: no I/O, no clock.
//!
//! This module owns the public API ([`parse_line`], [`split_json_array`], streamed by
//! `array.rs`), the line-level
//! rules shared by every format, and the final normalisation; one submodule per format
//! ([`native`], [`ocsf`], [`suricata`], [`wazuh`]) maps records, [`fields`] holds helpers;
//! [`fuzzing`] holds the fuzz target bodies shared by `fuzz/` and the stable smoke test.
//!
//! Line-level rules:
//! - a line longer than [`ParseLimits::max_line_bytes`] is rejected before it is read;
//! - a blank line is `Skipped("blank line")`;
//! - a trailing `\r`/`\n` and a leading byte-order mark are ignored;
//! - `raw` is the line (without its line ending) cut by [`bounded_raw`] to
//!   [`ParseLimits::max_raw_bytes`];
//! - techniques, indicators and entities come out sorted and de-duplicated;
//! - `source_id` is the BLAKE3 of what names the event at its source (each format module
//!   says what that is; a vendor record without it is named by its exact text, a native line
//!   without `id` by nothing), which intake uses to recognise a resent event.
//!
//! Shared choices for the vendor formats: every missing or malformed optional value
//! (hostname, URL, hash, technique id…) is dropped silently, and an IP address becomes an
//! indicator only if it can name a remote party (not loopback, unspecified, multicast,
//! link-local or broadcast; private ranges are kept, since they matter at the site). TLP is
//! AMBER, the cautious default for incident data.

mod array;
pub mod native;
pub mod ocsf;
pub mod suricata;
pub mod wazuh;

mod fields;
#[cfg(test)]
mod fuzz;
pub mod fuzzing;

use crate::soc::alert::{Alert, Format, ParseLimits, bounded_raw};
pub use array::{SplitError, split_json_array, split_json_array_at_most};
use fields::{Draft, Identity, Step, fail};

/// The outcome of one line that is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Alert(Box<Alert>),
    /// Why the line carries no alert, e.g. `event_type flow is not an alert`.
    Skipped(String),
}

/// Why a line was rejected: a lowercase reason naming the field, e.g.
/// `alert.severity: expected an integer 1-4`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LineError(pub String);

/// Parses one line of `format`. `received_at_ms` is copied into the alert.
pub fn parse_line(
    format: Format,
    line: &str,
    received_at_ms: i64,
    limits: &ParseLimits,
) -> Result<Parsed, LineError> {
    if line.len() > limits.max_line_bytes {
        return Err(fail(
            "line",
            format!(
                "{} bytes is over the limit of {} bytes",
                line.len(),
                limits.max_line_bytes
            ),
        ));
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    if line.trim().is_empty() {
        return Ok(Parsed::Skipped("blank line".to_string()));
    }
    let record = fields::parse_object(line)?;
    let step = match format {
        Format::Native => native::parse(&record)?,
        Format::Ocsf => ocsf::parse(&record)?,
        Format::SuricataEve => suricata::parse(&record)?,
        Format::Wazuh => wazuh::parse(&record)?,
    };
    Ok(match step {
        Step::Skip(why) => Parsed::Skipped(why),
        Step::Alert(draft) => Parsed::Alert(Box::new(finish(
            *draft,
            format,
            line,
            received_at_ms,
            limits,
        ))),
    })
}

/// Why a line that is not UTF-8 was refused (`valid_up_to`: the bytes before the first bad
/// one): the CLI's reader and the HTTP intake say it alike.
pub fn not_utf8(valid_up_to: usize) -> String {
    format!("line: not valid UTF-8 (at byte {})", valid_up_to + 1)
}

/// The first byte after an optional UTF-8 byte-order mark and JSON whitespace: `[` opens one
/// JSON array document (the CLI's and the HTTP intake's test for it).
pub fn first_significant_byte(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn finish(
    mut draft: Draft,
    format: Format,
    line: &str,
    received_at_ms: i64,
    limits: &ParseLimits,
) -> Alert {
    draft.techniques.sort();
    draft.techniques.dedup();
    draft.indicators.sort();
    draft.indicators.dedup();
    draft.entities.normalise();
    let (raw, raw_truncated) = bounded_raw(line, limits.max_raw_bytes);
    let source_id = source_id(format, &draft.identity, line);
    Alert {
        observed_at_ms: draft.observed_at_ms,
        received_at_ms,
        format,
        product: draft.product,
        rule_id: draft.rule_id,
        rule_name: draft.rule_name,
        severity: draft.severity,
        techniques: draft.techniques,
        entities: draft.entities,
        indicators: draft.indicators,
        tlp: draft.tlp,
        raw,
        raw_truncated,
        source_id,
    }
}

/// BLAKE3 over the format and what names the event, domain-separated and length-prefixed
/// (so that `["ab","c"]` and `["a","bc"]` differ); `line` is the record without its line
/// ending, used when the record itself is its identity.
fn source_id(format: Format, identity: &Identity, line: &str) -> Option<[u8; 32]> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"socfed.source-event.v1\0");
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(format.as_str().as_bytes());
    match identity {
        Identity::None => return None,
        Identity::WholeRecord => {
            field(b"record");
            field(line.as_bytes());
        }
        Identity::Fields(parts) => {
            field(b"fields");
            for part in parts {
                field(part.as_bytes());
            }
        }
    }
    Some(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMATS: [Format; 4] = [
        Format::Native,
        Format::Ocsf,
        Format::SuricataEve,
        Format::Wazuh,
    ];

    #[test]
    fn line_level_rules_apply_to_every_format() {
        let limits = ParseLimits {
            max_line_bytes: 64,
            max_raw_bytes: 8,
        };
        for format in FORMATS {
            assert_eq!(
                parse_line(format, "  \r\n", 0, &limits),
                Ok(Parsed::Skipped("blank line".into()))
            );
            let long = format!("{{\"x\":\"{}\"}}", "a".repeat(100));
            let err = parse_line(format, &long, 0, &limits).expect_err("long");
            assert!(err.0.contains("over the limit"), "{err}");
            for bad in ["{\"a\":", "[1,2]", "42", "nope"] {
                let err = parse_line(format, bad, 0, &limits).expect_err(bad);
                assert!(err.0.starts_with("line: "), "{err}");
            }
        }
    }

    #[test]
    fn raw_is_bounded_and_received_time_copied() {
        let line = r#"{"observed_at":1700000000000,"rule_id":"r1","severity":"low"}"#;
        let limits = ParseLimits {
            max_line_bytes: 1024,
            max_raw_bytes: 10,
        };
        let Ok(Parsed::Alert(alert)) = parse_line(Format::Native, line, 42, &limits) else {
            panic!("expected an alert");
        };
        assert_eq!(alert.received_at_ms, 42);
        assert_eq!(alert.raw, &line[..10]);
        assert!(alert.raw_truncated);
        assert_eq!(alert.format, Format::Native);
    }

    #[test]
    fn splits_arrays_compactly() {
        let parts = split_json_array("[\n {\"a\": 1},\n {\"b\": [1, 2]}\n]").expect("array");
        assert_eq!(parts, vec![r#"{"a":1}"#, r#"{"b":[1,2]}"#]);
        assert_eq!(split_json_array("[]"), Ok(Vec::new()));
        assert!(split_json_array("{}").is_err());
        assert!(split_json_array("[1,").is_err());
    }
}
