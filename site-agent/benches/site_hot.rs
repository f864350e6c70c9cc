//! Criterion benchmarks of the site's hot pure functions, each group with a baseline measured
//! in the same run so results read as ratios (see "Hot functions (criterion)" in
//! `docs/PERFORMANCE.md`):
//!
//! - `parse/<format>`: one sensor line to a normalised alert, per intake format, against
//!   `serde_json::from_str::<Value>` of the same lines (the parsers read JSON that way first);
//! - `aggregate`: the alert-group fingerprint and the fold of a repeat into its group, against
//!   `blake3::hash` of the same field bytes;
//! - `outbox`: a local incident to its report, and the report to the outbox entry the store
//!   writes (prost, then postcard), against a copy of the same number of bytes.
//!
//! Inputs are the genuine records in the shared sample directory beside the repository
//! (`../shared/samples`, provenance in its README) when it exists, else the generated fixtures
//! in `tests/fixtures/`; the native format has no third-party sample and always uses the
//! fixture. Run with `cargo bench -p site-agent`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use site_agent::soc::aggregate;
use site_agent::soc::alert::{Alert, Format, ParseLimits};
use site_agent::soc::group::AlertGroup;
use site_agent::soc::incident::LocalIncident;
use site_agent::soc::parse::{Parsed, parse_line, split_json_array};
use site_agent::store::schema::{self, OutboxEntry, OutboxRun, TreeId};
use socfed_proto::vocab::ReportLimits;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

const RECEIVED_AT: i64 = 1_800_000_000_000;

/// The lines of one format and where they came from.
struct Input {
    format: Format,
    source: String,
    lines: Vec<String>,
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn samples_dir() -> Option<PathBuf> {
    let dir = crate_dir().join("../../shared/samples");
    dir.is_dir().then_some(dir)
}

/// Genuine samples per format when present, else the repository's fixture for it.
fn inputs() -> Vec<Input> {
    let fixture = |format: Format, name: &str| {
        let path = crate_dir().join("tests/fixtures").join(name);
        Input {
            format,
            source: format!("tests/fixtures/{name}"),
            lines: read(&path).lines().map(str::to_string).collect(),
        }
    };
    let mut out = vec![fixture(Format::Native, "native.jsonl")];
    match samples_dir() {
        Some(dir) => {
            let lines = |names: &[&str]| -> Vec<String> {
                names
                    .iter()
                    .flat_map(|n| {
                        read(&dir.join(n))
                            .lines()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .collect()
            };
            let ocsf =
                split_json_array(&read(&dir.join("ocsf-detection-finding-prowler-aws.json")))
                    .expect("the OCSF sample is one JSON array");
            out.push(Input {
                format: Format::Ocsf,
                source: "samples/ocsf-detection-finding-prowler-aws.json".into(),
                lines: ocsf,
            });
            out.push(Input {
                format: Format::SuricataEve,
                source: "samples/suricata-eve-{crowdsec-hub,ldap-alerts}.json".into(),
                lines: lines(&[
                    "suricata-eve-crowdsec-hub.json",
                    "suricata-eve-ldap-alerts.json",
                ]),
            });
            out.push(Input {
                format: Format::Wazuh,
                source: "samples/wazuh-alerts-logstash-wrapped.json".into(),
                lines: lines(&["wazuh-alerts-logstash-wrapped.json"]),
            });
        }
        None => {
            out.push(fixture(Format::Ocsf, "ocsf.jsonl"));
            out.push(fixture(Format::SuricataEve, "suricata-eve.jsonl"));
            out.push(fixture(Format::Wazuh, "wazuh.jsonl"));
        }
    }
    for input in &out {
        let bytes: usize = input.lines.iter().map(String::len).sum();
        eprintln!(
            "input {}: {} lines, {bytes} bytes, from {}",
            input.format.as_str(),
            input.lines.len(),
            input.source
        );
    }
    out
}

fn alerts_of(input: &Input) -> Vec<Alert> {
    let limits = ParseLimits::default();
    input
        .lines
        .iter()
        .filter_map(
            |l| match parse_line(input.format, l, RECEIVED_AT, &limits) {
                Ok(Parsed::Alert(a)) => Some(*a),
                _ => None,
            },
        )
        .collect()
}

fn parse(c: &mut Criterion, inputs: &[Input]) {
    let limits = ParseLimits::default();
    for input in inputs {
        let mut group = c.benchmark_group(format!("parse/{}", input.format.as_str()));
        group.throughput(Throughput::Elements(input.lines.len() as u64));
        group.bench_function("baseline: serde_json Value", |b| {
            b.iter(|| {
                for line in &input.lines {
                    black_box(serde_json::from_str::<serde_json::Value>(black_box(line)).is_ok());
                }
            })
        });
        group.bench_function("parse_line", |b| {
            b.iter(|| {
                for line in &input.lines {
                    let parsed = parse_line(input.format, black_box(line), RECEIVED_AT, &limits);
                    black_box(parsed.is_ok());
                }
            })
        });
        group.finish();
    }
}

/// The exact byte stream the group fingerprint hashes, built once, for the baseline.
fn fingerprint_bytes(alert: &Alert) -> Vec<u8> {
    let mut out = Vec::new();
    site_agent::soc::aggregate::fingerprint_input(alert, &mut |bytes| out.extend_from_slice(bytes));
    out
}

fn aggregate(c: &mut Criterion, alerts: &[Alert]) {
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(alerts.len() as u64));
    let bytes: Vec<Vec<u8>> = alerts.iter().map(fingerprint_bytes).collect();
    for (alert, stream) in alerts.iter().zip(&bytes) {
        assert_eq!(
            *blake3::hash(stream).as_bytes(),
            aggregate::fingerprint(alert),
            "the baseline hashes exactly the fingerprint's bytes"
        );
    }
    group.bench_function("baseline: blake3::hash of the same bytes", |b| {
        b.iter(|| {
            for field in &bytes {
                black_box(blake3::hash(black_box(field)));
            }
        })
    });
    group.bench_function("fingerprint", |b| {
        b.iter(|| {
            for alert in alerts {
                black_box(aggregate::fingerprint(black_box(alert)));
            }
        })
    });
    // Each alert folded into a group opened by itself: the repeat path of intake.
    let groups: Vec<AlertGroup> = alerts
        .iter()
        .map(|a| {
            AlertGroup::open(
                ulid::Ulid::from_parts(1, 1),
                [0; 32],
                a.clone(),
                RECEIVED_AT,
            )
        })
        .collect();
    group.bench_function("absorb (repeat into its group)", |b| {
        b.iter_batched_ref(
            || groups.clone(),
            |groups| {
                for (g, alert) in groups.iter_mut().zip(alerts) {
                    black_box(g.absorb(black_box(alert)));
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn outbox(c: &mut Criterion, alerts: &[Alert]) {
    let limits = ReportLimits::default();
    let groups: Vec<AlertGroup> = alerts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            AlertGroup::open(
                ulid::Ulid::from_parts(1, i as u128),
                aggregate::fingerprint(a),
                a.clone(),
                RECEIVED_AT,
            )
        })
        .collect();
    let refs: Vec<&AlertGroup> = groups.iter().collect();
    let mut incident = LocalIncident::from_groups(
        "INC-01J0BENCH".into(),
        None,
        &refs,
        Some("alice".into()),
        RECEIVED_AT,
    )
    .expect("at least one alert group");
    incident.revision = 1;
    let report = incident.report(&limits).expect("a valid report");
    let wire_bytes = report.to_wire().encode_to_vec();
    let entry = OutboxEntry {
        enqueued_at_ms: RECEIVED_AT,
        report: wire_bytes.clone(),
    };
    // As a unit of one raise stores it: a run of one.
    let run = OutboxRun {
        first: 1,
        records: vec![entry.clone()],
    };
    let stored = schema::encode(TreeId::Outbox, &run).expect("encodes");
    eprintln!(
        "outbox input: one incident of {} alert groups, {} indicators; report {} bytes, entry {} bytes",
        groups.len(),
        report.indicators.len(),
        wire_bytes.len(),
        stored.len()
    );
    let mut group = c.benchmark_group("outbox");
    group.throughput(Throughput::Bytes(stored.len() as u64));
    group.bench_function("baseline: copy of the entry's bytes", |b| {
        b.iter(|| black_box(black_box(stored.as_slice()).to_vec()))
    });
    group.bench_function("incident.report (wire + validation)", |b| {
        b.iter(|| black_box(black_box(&incident).report(&limits).is_ok()))
    });
    group.bench_function("report to_wire + prost encode", |b| {
        b.iter(|| black_box(black_box(&report).to_wire().encode_to_vec()))
    });
    group.bench_function("schema::encode OutboxRun of one (postcard)", |b| {
        b.iter(|| black_box(schema::encode(TreeId::Outbox, black_box(&run)).is_ok()))
    });
    // Not what the store does: the same bytes with the report serialised in one piece
    // (serde's `Vec<u8>` is a sequence, which postcard writes one byte per call) into a
    // buffer sized up front. Measured to size that cost.
    let what_if = |entry: &OutboxEntry| {
        let mut out = Vec::with_capacity(entry.report.len() + 16);
        out.push(stored[0]);
        postcard::to_extend(
            &RunAsBytes {
                first: 1,
                records: vec![EntryAsBytes {
                    enqueued_at_ms: entry.enqueued_at_ms,
                    report: AsBytes(&entry.report),
                }],
            },
            out,
        )
    };
    assert_eq!(
        what_if(&entry).expect("encodes"),
        stored,
        "the same bytes as the store's encoding"
    );
    group.bench_function("what-if: postcard, report as bytes, pre-sized", |b| {
        b.iter(|| black_box(what_if(black_box(&entry)).is_ok()))
    });
    group.bench_function("entry: to_wire + prost + postcard", |b| {
        b.iter(|| {
            let run = OutboxRun {
                first: 1,
                records: vec![OutboxEntry {
                    enqueued_at_ms: RECEIVED_AT,
                    report: black_box(&report).to_wire().encode_to_vec(),
                }],
            };
            black_box(schema::encode(TreeId::Outbox, &run).is_ok())
        })
    });
    group.finish();
}

/// Serialises as one byte string (postcard: length, then the bytes, as for a `Vec<u8>`).
struct AsBytes<'a>(&'a [u8]);

impl serde::Serialize for AsBytes<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// `OutboxEntry` with its report as [`AsBytes`].
#[derive(serde::Serialize)]
struct EntryAsBytes<'a> {
    enqueued_at_ms: i64,
    report: AsBytes<'a>,
}

/// `OutboxRun` of [`EntryAsBytes`].
#[derive(serde::Serialize)]
struct RunAsBytes<'a> {
    first: u64,
    records: Vec<EntryAsBytes<'a>>,
}

fn benches(c: &mut Criterion) {
    let inputs = inputs();
    parse(c, &inputs);
    let alerts: Vec<Alert> = inputs.iter().flat_map(alerts_of).collect();
    assert!(!alerts.is_empty(), "the inputs hold alerts");
    aggregate(c, &alerts);
    let vendor: Vec<Alert> = alerts
        .iter()
        .filter(|a| a.format == Format::SuricataEve)
        .cloned()
        .collect();
    outbox(c, if vendor.is_empty() { &alerts } else { &vendor });
}

fn config() -> Criterion {
    // Quick and steady: the whole set (all three crates) runs in a few minutes on 2 cores.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = site;
    config = config();
    targets = benches
}
criterion_main!(site);
