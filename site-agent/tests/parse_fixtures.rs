//! Parses the generated fixtures (`tests/fixtures/`, see `generate.py`) line by line and
//! checks the exact counts, rejected line numbers and rejected fields in `expected.json`;
//! then parses the real sample records in `../shared/samples/` when that directory exists.

use site_agent::soc::alert::{Alert, Format, ParseLimits};
use site_agent::soc::parse::{Parsed, parse_line, split_json_array};
use socfed_proto::vocab::Severity;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const RECEIVED_AT: i64 = 1_800_000_000_000;

#[derive(Debug, serde::Deserialize)]
struct Expected {
    max_line_bytes: usize,
    files: BTreeMap<String, FileExpectation>,
}

#[derive(Debug, serde::Deserialize)]
struct FileExpectation {
    format: Format,
    lines: usize,
    alerts: usize,
    rejected: usize,
    skipped: usize,
    rejected_lines: Vec<usize>,
    rejected_fields: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct Tally {
    lines: usize,
    alerts: Vec<Alert>,
    skipped: Vec<String>,
    /// (1-based line number, reason)
    rejected: Vec<(usize, String)>,
}

fn tally<'a>(format: Format, lines: impl Iterator<Item = &'a str>, limits: &ParseLimits) -> Tally {
    let mut t = Tally::default();
    for (i, line) in lines.enumerate() {
        t.lines += 1;
        match parse_line(format, line, RECEIVED_AT, limits) {
            Ok(Parsed::Alert(a)) => t.alerts.push(*a),
            Ok(Parsed::Skipped(why)) => t.skipped.push(why),
            Err(e) => t.rejected.push((i + 1, e.0)),
        }
    }
    t
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn fixtures_parse_to_the_expected_counts() {
    let expected: Expected =
        serde_json::from_str(&read(&fixtures().join("expected.json"))).expect("expected.json");
    assert_eq!(expected.files.len(), 4, "one fixture per format");
    let limits = ParseLimits {
        max_line_bytes: expected.max_line_bytes,
        ..ParseLimits::default()
    };
    for (name, want) in &expected.files {
        let text = read(&fixtures().join(name));
        let got = tally(want.format, text.lines(), &limits);
        let rejected_lines: Vec<usize> = got.rejected.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            (
                got.lines,
                got.alerts.len(),
                got.rejected.len(),
                got.skipped.len()
            ),
            (want.lines, want.alerts, want.rejected, want.skipped),
            "{name}: (lines, alerts, rejected, skipped); rejections: {:#?}",
            got.rejected
        );
        assert_eq!(
            rejected_lines, want.rejected_lines,
            "{name}: rejected line numbers"
        );
        for (line, reason) in &got.rejected {
            assert!(
                !reason.trim().is_empty(),
                "{name}:{line}: empty rejection reason"
            );
            let field = want
                .rejected_fields
                .get(&line.to_string())
                .unwrap_or_else(|| panic!("{name}:{line}: no expected field"));
            assert!(
                reason.starts_with(&format!("{field}: ")),
                "{name}:{line}: {reason:?} does not name {field}"
            );
        }
        for alert in &got.alerts {
            assert_eq!(alert.format, want.format);
            assert_eq!(alert.received_at_ms, RECEIVED_AT);
            assert!(!alert.rule_id.is_empty() && !alert.rule_name.is_empty());
            assert!(
                alert.observed_at_ms > 1_700_000_000_000,
                "{name}: {alert:?}"
            );
            assert!(!alert.raw_truncated || alert.raw.len() <= limits.max_raw_bytes);
        }
        // Deliberate repeats: some rule fires more than once on the same entities.
        let mut seen = BTreeSet::new();
        let repeats = got
            .alerts
            .iter()
            .filter(|a| {
                !seen.insert((
                    a.rule_id.clone(),
                    a.entities.clone().hosts,
                    a.entities.ips.clone(),
                ))
            })
            .count();
        assert!(
            repeats >= 20,
            "{name}: only {repeats} repeats for aggregation"
        );
        if want.format == Format::SuricataEve {
            assert!(got.skipped.iter().all(|why| why.starts_with("event_type ")));
        }
    }
}

/// `../shared/samples` beside the repository (`SOCFED_SAMPLES` names another directory with
/// the same files).
fn samples_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SOCFED_SAMPLES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: sample directory {} does not exist (it is not part of the repository)",
            dir.display()
        );
        None
    }
}

#[test]
fn shared_samples_parse_sensibly() {
    let Some(dir) = samples_dir() else {
        return;
    };
    let limits = ParseLimits::default();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("samples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    let mut checked = 0;
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = read(&path);
        if name.starts_with("suricata-eve") {
            let t = tally(Format::SuricataEve, text.lines(), &limits);
            assert_eq!(t.alerts.len(), 4, "{name}: {:?}", t.rejected);
            assert_eq!(
                (t.rejected.len(), t.skipped.len()),
                (0, t.lines - 4),
                "{name}"
            );
            assert!(
                t.alerts
                    .iter()
                    .all(|a| a.product == "Suricata" && a.rule_id.starts_with("1:"))
            );
            checked += 1;
        } else if name == "wazuh-alerts-logstash-wrapped.json" {
            let t = tally(Format::Wazuh, text.lines(), &limits);
            assert_eq!(
                (t.alerts.len(), t.rejected.len()),
                (6, 0),
                "{name}: {:?}",
                t.rejected
            );
            let rules: BTreeSet<&str> = t.alerts.iter().map(|a| a.rule_id.as_str()).collect();
            assert_eq!(rules, BTreeSet::from(["23502", "5501", "5715"]));
            assert!(
                t.alerts
                    .iter()
                    .all(|a| a.severity == Severity::Informational)
            );
            let cves = t
                .alerts
                .iter()
                .flat_map(|a| &a.indicators)
                .filter(|i| i.value() == "CVE-2007-4559");
            assert_eq!(cves.count(), 2);
            let root_logins = t
                .alerts
                .iter()
                .filter(|a| a.entities.users == ["root"])
                .count();
            assert_eq!(root_logins, 4, "dstuser root and root(uid=0)");
            // Lines 1 and 2 are the same alert (same manager and alert id): one event.
            let ids: BTreeSet<_> = t.alerts.iter().map(|a| a.source_id).collect();
            assert_eq!(ids.len(), 5, "{name}: the repeated alert is recognised");
            assert!(t.alerts.iter().all(|a| a.source_id.is_some()));
            checked += 1;
        } else if name == "wazuh-alerts-events-generator.json" {
            let t = tally(Format::Wazuh, text.lines(), &limits);
            assert!(
                t.lines > 0 && t.alerts.is_empty() && t.skipped.is_empty(),
                "{name}"
            );
            assert_eq!(t.rejected.len(), t.lines, "{name}");
            for (line, reason) in &t.rejected {
                assert!(reason.contains("placeholder"), "{name}:{line}: {reason}");
            }
            // With the placeholders filled in, the records show the field coverage: file
            // integrity hashes and the cloud module's attacker addresses are indicators.
            let filled = text.replace("{timestamp}", "2024-02-15T16:05:11.486-0300");
            let t = tally(Format::Wazuh, filled.lines(), &limits);
            assert_eq!(t.rejected, Vec::new(), "{name} filled in");
            let with = |prefix: &str| {
                t.alerts
                    .iter()
                    .filter(|a| {
                        a.indicators
                            .iter()
                            .any(|i| i.to_string().starts_with(prefix))
                    })
                    .count()
            };
            let fim = t
                .alerts
                .iter()
                .filter(|a| a.raw.contains("\"sha1_after\""))
                .count();
            assert!(fim > 0, "{name}: file integrity records");
            assert_eq!(with("sha1:"), fim, "{name}: every FIM record's sha1_after");
            let aws_remote = t
                .alerts
                .iter()
                .filter(|a| a.raw.contains("remoteIpDetails"))
                .collect::<Vec<_>>();
            assert!(!aws_remote.is_empty(), "{name}: GuardDuty records");
            for a in &aws_remote {
                assert!(
                    a.indicators
                        .iter()
                        .any(|i| i.to_string().starts_with("ipv4:")),
                    "{name}: the attacker's address of {}",
                    a.raw
                );
            }
            checked += 1;
        } else if name.starts_with("ocsf-") {
            let records = split_json_array(&text).expect("OCSF sample is one JSON array");
            let t = tally(Format::Ocsf, records.iter().map(String::as_str), &limits);
            assert_eq!(
                (t.alerts.len(), t.rejected.len()),
                (5, 0),
                "{name}: {:?}",
                t.rejected
            );
            for a in &t.alerts {
                assert_eq!(a.product, "Prowler");
                assert_eq!(
                    a.observed_at_ms, 1_739_539_623_000,
                    "seconds read as seconds"
                );
                assert!(matches!(a.severity, Severity::Low | Severity::Medium));
            }
            assert!(
                t.alerts
                    .iter()
                    .any(|a| a.rule_id == "accessanalyzer_enabled")
            );
            // Each finding is about its resource: a host (the resource id) or, for the
            // account root, the user root.
            for a in &t.alerts {
                let about = if a.rule_id == "accessanalyzer_enabled" {
                    (vec!["<resource_uid>".to_string()], Vec::new())
                } else {
                    (Vec::new(), vec!["root".to_string()])
                };
                assert_eq!(
                    (a.entities.hosts.clone(), a.entities.users.clone()),
                    about,
                    "{name}: {}",
                    a.rule_id
                );
            }
            let ids: BTreeSet<_> = t.alerts.iter().map(|a| a.source_id).collect();
            assert_eq!(ids.len(), 5, "{name}: five findings, five identities");
            checked += 1;
        } else {
            eprintln!("{name}: no expectations for this sample; not checked");
        }
    }
    assert!(
        checked >= 5,
        "expected the five known samples, checked {checked}"
    );
}
