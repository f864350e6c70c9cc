//! The normalised alert: what every intake format becomes.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};
use std::net::IpAddr;

/// Where an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Native,
    Ocsf,
    SuricataEve,
    Wazuh,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Ocsf => "ocsf",
            Format::SuricataEve => "suricata-eve",
            Format::Wazuh => "wazuh",
        }
    }
}

/// Hosts, users and IP addresses an alert is about. Sorted and de-duplicated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    pub hosts: Vec<String>,
    pub users: Vec<String>,
    pub ips: Vec<IpAddr>,
}

impl Entities {
    /// Sorts and de-duplicates every list (hosts and users lower-cased).
    pub fn normalise(&mut self) {
        for list in [&mut self.hosts, &mut self.users] {
            for item in list.iter_mut() {
                *item = item.trim().to_ascii_lowercase();
            }
            list.retain(|s| !s.is_empty());
            list.sort();
            list.dedup();
        }
        self.ips.sort();
        self.ips.dedup();
    }
}

/// One alert, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// When the sensor saw it.
    pub observed_at_ms: UnixMillis,
    /// When this agent received it (set at intake).
    pub received_at_ms: UnixMillis,
    pub format: Format,
    /// Product that produced it, e.g. "Suricata", "Wazuh", "Prowler".
    pub product: String,
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    /// Validated ATT&CK ids, sorted and de-duplicated.
    pub techniques: Vec<Technique>,
    pub entities: Entities,
    /// Normalised, sorted and de-duplicated.
    pub indicators: Vec<Indicator>,
    pub tlp: Tlp,
    /// The original record, cut to the configured bound (see `raw_truncated`), for evidence.
    pub raw: String,
    pub raw_truncated: bool,
    /// BLAKE3 of what names this event at its source (see `parse`), for de-duplication at
    /// intake; `None` when the record carries nothing that does (native lines without `id`).
    /// Not stored with the group's sample: it matters only while the alert is taken in.
    #[serde(skip)]
    pub source_id: Option<[u8; 32]>,
}

/// Bounds applied while parsing.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Longest accepted input line, in bytes.
    pub max_line_bytes: usize,
    /// Raw evidence kept per alert, in bytes (cut at a char boundary).
    pub max_raw_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: 1024 * 1024,
            max_raw_bytes: 16 * 1024,
        }
    }
}

/// `raw` cut to at most `max` bytes at a char boundary, and whether it was cut.
pub fn bounded_raw(raw: &str, max: usize) -> (String, bool) {
    if raw.len() <= max {
        return (raw.to_string(), false);
    }
    let mut end = max;
    while end > 0 && !raw.is_char_boundary(end) {
        end -= 1;
    }
    (raw[..end].to_string(), true)
}
