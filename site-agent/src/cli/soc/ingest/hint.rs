//! When many lines are rejected, the likely reason is a wrong `--format`: the first lines of
//! the input are kept and, after the summary, looked at to say which format they look like
//! ("these look like Suricata EVE records: try --format suricata-eve").

use super::IngestFormat;
use serde_json::Value;

/// Lines kept to guess from.
const SAMPLE_LINES: usize = 16;
/// Longer lines are not kept (a guess needs only a typical record).
const SAMPLE_LINE_BYTES: usize = 64 * 1024;
/// Rejections before a hint is worth giving (a stray bad line is not a wrong format).
pub(super) const HINT_AFTER_REJECTIONS: u64 = 3;

/// The first non-blank lines of the input.
#[derive(Debug, Default)]
pub(super) struct Sample {
    lines: Vec<String>,
    /// The first non-blank line starts with `[`: one JSON array over many lines.
    starts_with_array: Option<bool>,
}

impl Sample {
    pub(super) fn note(&mut self, line: &str) {
        let trimmed = line.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() || self.lines.len() >= SAMPLE_LINES {
            return;
        }
        self.starts_with_array
            .get_or_insert(trimmed.starts_with('['));
        if trimmed.len() <= SAMPLE_LINE_BYTES {
            self.lines.push(trimmed.to_string());
        }
    }
}

/// What one record looks like, by the keys each format cannot do without.
fn guess(line: &str) -> Option<IngestFormat> {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(line) else {
        return None;
    };
    let obj = match obj.get("_source") {
        Some(Value::Object(inner)) => inner,
        _ => &obj,
    };
    let has = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    if has("class_uid") && (has("finding_info") || has("severity_id")) {
        Some(IngestFormat::Ocsf)
    } else if has("event_type") && (has("flow_id") || has("src_ip") || has("alert")) {
        Some(IngestFormat::SuricataEve)
    } else if obj.get("rule").is_some_and(|r| r.get("level").is_some())
        && (has("agent") || has("manager") || has("decoder"))
    {
        Some(IngestFormat::Wazuh)
    } else if has("observed_at") && (has("rule_id") || has("rule_name")) {
        Some(IngestFormat::Native)
    } else {
        None
    }
}

fn describe(format: IngestFormat) -> (&'static str, &'static str) {
    match format {
        IngestFormat::Native => ("socfed native alerts", "native"),
        IngestFormat::Ocsf => ("OCSF findings", "ocsf"),
        IngestFormat::SuricataEve => ("Suricata EVE records", "suricata-eve"),
        IngestFormat::Wazuh => ("Wazuh alerts", "wazuh"),
    }
}

/// A next step when `rejected` lines suggest the input is not in `format`, or `None`.
pub(super) fn hint(format: IngestFormat, sample: &Sample, rejected: u64) -> Option<String> {
    if rejected < HINT_AFTER_REJECTIONS || sample.lines.is_empty() {
        return None;
    }
    if sample.starts_with_array == Some(true) && format != IngestFormat::Ocsf {
        return Some(
            "hint: the input is one JSON array spread over many lines (an OCSF export?): \
             try --format ocsf, or convert it to one JSON object per line"
                .to_string(),
        );
    }
    let guesses: Vec<Option<IngestFormat>> = sample.lines.iter().map(|l| guess(l)).collect();
    let json_objects = sample
        .lines
        .iter()
        .filter(|l| matches!(serde_json::from_str::<Value>(l), Ok(Value::Object(_))))
        .count();
    if json_objects * 2 < sample.lines.len() {
        return Some(
            "hint: most lines are not JSON objects: ingest takes one JSON record per line \
             (for a syslog or CSV feed, convert it first)"
                .to_string(),
        );
    }
    let best = [
        IngestFormat::Native,
        IngestFormat::Ocsf,
        IngestFormat::SuricataEve,
        IngestFormat::Wazuh,
    ]
    .into_iter()
    .map(|f| (guesses.iter().filter(|g| **g == Some(f)).count(), f))
    .max_by_key(|(n, _)| *n)?;
    let (votes, likely) = best;
    // A clear majority of the kept lines, and not what was asked for.
    if likely == format || votes * 2 <= sample.lines.len() {
        return None;
    }
    let (name, flag) = describe(likely);
    Some(format!("hint: these look like {name}: try --format {flag}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(lines: &[&str]) -> Sample {
        let mut s = Sample::default();
        for l in lines {
            s.note(l);
        }
        s
    }

    const EVE: &str = r#"{"timestamp":"2024-05-28T09:39:37.034492+0000","flow_id":1,"event_type":"alert","src_ip":"192.0.2.1","alert":{"signature_id":1}}"#;
    const EVE_FLOW: &str =
        r#"{"timestamp":"2024-05-28T09:39:37.034492+0000","flow_id":1,"event_type":"flow"}"#;
    const WAZUH: &str = r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"level":3,"id":"5501"},"agent":{"name":"a"},"id":"1.2"}"#;
    const WAZUH_WRAPPED: &str =
        r#"{"@version":"1","_source":{"rule":{"level":3,"id":"5501"},"manager":{"name":"m"}}}"#;
    const OCSF: &str = r#"{"class_uid":2004,"severity_id":3,"finding_info":{"uid":"u"}}"#;
    const NATIVE: &str = r#"{"observed_at":1,"rule_id":"r","severity":"low"}"#;

    #[test]
    fn each_format_is_recognised_and_a_wrong_flag_gets_a_hint() {
        let cases = [
            (EVE, IngestFormat::SuricataEve, "--format suricata-eve"),
            (WAZUH, IngestFormat::Wazuh, "--format wazuh"),
            (WAZUH_WRAPPED, IngestFormat::Wazuh, "--format wazuh"),
            (OCSF, IngestFormat::Ocsf, "--format ocsf"),
            (NATIVE, IngestFormat::Native, "--format native"),
        ];
        for (line, format, flag) in cases {
            assert_eq!(guess(line), Some(format), "{line}");
            let s = sample(&[line, line, line, "", EVE_FLOW]);
            let wrong = if format == IngestFormat::Native {
                IngestFormat::Wazuh
            } else {
                IngestFormat::Native
            };
            let said = hint(wrong, &s, 10).unwrap_or_default();
            assert!(said.ends_with(flag), "{said}");
            assert_eq!(hint(format, &s, 10), None, "the right format needs no hint");
            assert_eq!(hint(wrong, &s, 2), None, "a stray bad line needs no hint");
        }
    }

    #[test]
    fn arrays_and_non_json_get_their_own_hint() {
        let s = sample(&["[", "  {", "    \"class_uid\": 2004,"]);
        assert!(
            hint(IngestFormat::SuricataEve, &s, 50)
                .unwrap_or_default()
                .contains("try --format ocsf")
        );
        let s = sample(&["Feb 15 16:07:34 host sshd[1]: Accepted", "a,b,c", "x"]);
        assert!(
            hint(IngestFormat::Wazuh, &s, 3)
                .unwrap_or_default()
                .contains("not JSON objects")
        );
        // No majority: no guess.
        let s = sample(&[EVE, WAZUH, OCSF, NATIVE]);
        assert_eq!(hint(IngestFormat::Native, &s, 4), None);
    }
}
