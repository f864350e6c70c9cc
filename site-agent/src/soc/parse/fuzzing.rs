//! Fuzz target bodies for every alert ingest parser, one plain function per target. The
//! cargo-fuzz targets under `fuzz/` and the stable-toolchain smoke test in the `tests` crate
//! call these same functions, so what the long fuzz run exercises is exactly what the
//! default test suite runs over the corpus.
//!
//! Each body panics only when a parser breaks a promise: a panic inside a parser, or an
//! alert that violates the model's invariants (empty rule, unsorted or duplicated indicators
//! or techniques, raw evidence over its bound).

use super::{Parsed, parse_line, split_json_array};
use crate::soc::alert::{Format, ParseLimits};

/// Native JSON lines (`site-agent ingest --format native`).
pub fn native(data: &[u8]) {
    line(Format::Native, data);
}

/// OCSF: one record per line, or a whole JSON array export split into records.
pub fn ocsf(data: &[u8]) {
    line(Format::Ocsf, data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(items) = split_json_array(text)
    {
        for item in items {
            line(Format::Ocsf, item.as_bytes());
        }
    }
}

/// Suricata EVE JSON lines.
pub fn suricata(data: &[u8]) {
    line(Format::SuricataEve, data);
}

/// Wazuh alerts.json lines, bare or inside a Logstash `{"_source": …}` envelope.
pub fn wazuh(data: &[u8]) {
    line(Format::Wazuh, data);
}

/// Parses `data` as one line of `format` with the default limits and checks the result.
fn line(format: Format, data: &[u8]) {
    // Ingest reads text; bytes that are not UTF-8 never reach a parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = ParseLimits::default();
    let Ok(Parsed::Alert(alert)) = parse_line(format, text, 7, &limits) else {
        return;
    };
    assert!(!alert.rule_id.is_empty(), "alert without a rule id");
    assert!(!alert.rule_name.is_empty(), "alert without a rule name");
    assert!(alert.observed_at_ms >= 0, "negative observation time");
    assert_eq!(alert.received_at_ms, 7);
    assert_eq!(alert.format, format);
    assert!(
        alert.indicators.windows(2).all(|w| w[0] < w[1]),
        "indicators not sorted and unique"
    );
    assert!(
        alert.techniques.windows(2).all(|w| w[0] < w[1]),
        "techniques not sorted and unique"
    );
    assert!(
        alert.raw.len() <= limits.max_raw_bytes,
        "raw over its bound"
    );
}
