//! Criterion benchmarks of the hub's hot pure functions along the path of one escalation, each
//! group with a baseline measured in the same run so results read as ratios (see "Hot
//! functions (criterion)" in `docs/PERFORMANCE.md`):
//!
//! - `report/validate`: wire → domain conversion (`IncidentReport::from_wire`) against the
//!   prost decode that precedes it;
//! - `report/digest`: `IncidentReport::content_hash` against `blake3::hash` of the same bytes;
//! - `idempotency_key`: `schema::escalation_key` against a copy of a key of the same length;
//! - `correlate`: fingerprints and matching against `blake3::hash` of the same input bytes;
//! - `record`: postcard encoding of stored values against a copy of the same number of bytes;
//! - `access`: the permission check against one comparison of roles.
//!
//! Inputs: `typical` is what a site sends for an incident built from the genuine Suricata
//! sample records (signature, addresses, URL and CVE of the CVE-2021-41773 alerts in the
//! shared samples), as the site agent builds its report; `wide` is a campaign report with
//! 3 techniques and 32 indicators, to show how the costs grow. Run with
//! `cargo bench -p sirt-hub`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use sirt_hub::access::{self, Api};
use sirt_hub::correlate::{self, PriorMatch};
use sirt_hub::incident;
use sirt_hub::lifecycle::{HubRole, Tier};
use sirt_hub::store::records::{EscalationRecord, EscalationRun};
use sirt_hub::store::schema;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};
use std::hint::black_box;
use std::time::Duration;
use ulid::Ulid;

const NOW: i64 = 1_717_400_000_000;
const WINDOW_MS: i64 = 7 * 24 * 3_600_000;

fn indicator(kind: pb::IndicatorKind, value: &str) -> pb::Indicator {
    pb::Indicator {
        kind: kind as i32,
        value: value.to_string(),
    }
}

/// The report a site sends for the CVE-2021-41773 alerts of the Suricata sample.
fn typical() -> pb::IncidentReport {
    use pb::IndicatorKind as K;
    pb::IncidentReport {
        local_incident_id: "INC-01J0XQ7ZK4M2B3C4D5E6F7G8H9".into(),
        revision: 1,
        title: "ET EXPLOIT Apache HTTP Server 2.4.49 - Path Traversal Attempt (CVE-2021-41773) M2"
            .into(),
        description: "2 alert group(s) at this site; status open; hosts: none recorded".into(),
        severity: pb::Severity::High as i32,
        tlp: pb::Tlp::Amber as i32,
        rule_id: "1:2034125".into(),
        techniques: vec!["T1190".into(), "T1083".into()],
        indicators: vec![
            indicator(K::Ipv4, "1.2.3.7"),
            indicator(K::Ipv4, "1.2.3.5"),
            indicator(
                K::Url,
                "http://34.245.178.108/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
            ),
            indicator(K::Cve, "cve-2021-41773"),
        ],
        observed_at_ms: NOW - 60_000,
        local_owner: "alice".into(),
        local_status: pb::LocalStatus::Open as i32,
    }
}

/// A campaign report: 3 techniques × 32 indicators of mixed kinds, written as sites write them
/// (mixed case, trailing dots) so normalisation has work to do.
fn wide() -> pb::IncidentReport {
    use pb::IndicatorKind as K;
    let mut indicators = Vec::new();
    for i in 0..8 {
        indicators.push(indicator(K::Ipv4, &format!("203.0.113.{}", 10 + i)));
        indicators.push(indicator(K::Domain, &format!("Cdn-{i}.Relay.Example.")));
        indicators.push(indicator(
            K::Sha256,
            &format!("{:064X}", 0xA11CE_u64 * (i + 1)),
        ));
        indicators.push(indicator(
            K::Url,
            &format!("HTTPS://Cdn-{i}.Relay.Example/gate.php?id={i}"),
        ));
    }
    pb::IncidentReport {
        title: "Coordinated web exploitation and C2 beaconing".into(),
        description:
            "14 alert group(s) at this site; status contained; hosts: web-01, web-02, web-03".into(),
        severity: pb::Severity::Critical as i32,
        rule_id: "1:2034125".into(),
        techniques: vec!["t1190".into(), "T1071.001".into(), "T1105".into()],
        indicators,
        ..typical()
    }
}

fn inputs() -> Vec<(&'static str, pb::IncidentReport)> {
    vec![("typical", typical()), ("wide", wide())]
}

fn valid(wire: &pb::IncidentReport) -> IncidentReport {
    IncidentReport::from_wire(wire.clone(), &ReportLimits::default()).expect("a valid report")
}

fn report(c: &mut Criterion) {
    let limits = ReportLimits::default();
    for (name, wire) in inputs() {
        let bytes = wire.encode_to_vec();
        let domain = valid(&wire);
        let canonical = domain.to_wire().encode_to_vec();
        eprintln!(
            "input {name}: wire {} bytes, canonical {} bytes, {} techniques, {} indicators",
            bytes.len(),
            canonical.len(),
            domain.techniques.len(),
            domain.indicators.len()
        );
        let mut group = c.benchmark_group(format!("report/validate/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("baseline: prost decode", |b| {
            b.iter(|| black_box(pb::IncidentReport::decode(black_box(bytes.as_slice())).is_ok()))
        });
        group.bench_function("wire.clone()", |b| {
            b.iter(|| black_box(black_box(&wire).clone()))
        });
        group.bench_function("from_wire", |b| {
            b.iter_batched(
                || wire.clone(),
                |w| black_box(IncidentReport::from_wire(w, &limits).is_ok()),
                BatchSize::SmallInput,
            )
        });
        group.finish();

        let mut group = c.benchmark_group(format!("report/digest/{name}"));
        group.throughput(Throughput::Bytes(canonical.len() as u64));
        group.bench_function("baseline: blake3::hash of the encoding", |b| {
            b.iter(|| black_box(blake3::hash(black_box(canonical.as_slice()))))
        });
        group.bench_function("to_wire + prost encode", |b| {
            b.iter(|| black_box(black_box(&domain).to_wire().encode_to_vec()))
        });
        group.bench_function("content_hash", |b| {
            b.iter(|| black_box(black_box(&domain).content_hash()))
        });
        group.finish();
    }
}

fn idempotency_key(c: &mut Criterion) {
    let site = SiteId::parse("paris-dc2").expect("site id");
    let epoch = Ulid::from_parts(1_717_000_000_000, 42);
    let key = schema::escalation_key(&site, epoch, 12_345);
    eprintln!("idempotency key: {} bytes", key.len());
    let mut group = c.benchmark_group("idempotency_key");
    group.bench_function("baseline: copy of a key of the same length", |b| {
        b.iter(|| black_box(black_box(key.as_slice()).to_vec()))
    });
    group.bench_function("escalation_key", |b| {
        b.iter(|| {
            black_box(schema::escalation_key(
                black_box(&site),
                epoch,
                black_box(12_345),
            ))
        })
    });
    group.finish();
}

fn correlation(c: &mut Criterion) {
    for (name, wire) in inputs() {
        let domain = valid(&wire);
        let fps = correlate::fingerprints(&domain);
        // The exact byte stream each fingerprint hashes (domain separation, length-prefixed
        // anchor, indicator text), built once, for the baseline.
        let mut anchors: Vec<String> = domain
            .techniques
            .iter()
            .map(|t| format!("technique {t}"))
            .collect();
        anchors.push(format!("rule {}", domain.rule_id));
        let hashed: Vec<Vec<u8>> = anchors
            .iter()
            .flat_map(|a| {
                domain.indicators.iter().map(move |i| {
                    let mut stream = b"socfed.fingerprint.v1\0".to_vec();
                    stream.extend_from_slice(&(a.len() as u64).to_be_bytes());
                    stream.extend_from_slice(a.as_bytes());
                    stream.extend_from_slice(i.to_string().as_bytes());
                    stream
                })
            })
            .collect();
        for (stream, fp) in hashed.iter().zip(&fps) {
            assert_eq!(
                *blake3::hash(stream).as_bytes(),
                fp.key,
                "the baseline hashes exactly the fingerprint's bytes"
            );
        }
        assert_eq!(
            hashed.len(),
            fps.len(),
            "one fingerprint per anchor × indicator"
        );
        // Half the fingerprints seen before, on three incidents, one outside the window.
        let candidates: Vec<_> = fps
            .iter()
            .enumerate()
            .map(|(i, fp)| {
                let prior = (i % 2 == 0).then(|| PriorMatch {
                    incident: Ulid::from_parts(1_717_000_000_000 + (i % 3) as u64, 7),
                    last_seen_ms: if i % 3 == 2 {
                        NOW - 2 * WINDOW_MS
                    } else {
                        NOW - 1_000
                    },
                });
                (fp.clone(), prior)
            })
            .collect();
        let mut group = c.benchmark_group(format!("correlate/{name}"));
        group.throughput(Throughput::Elements(fps.len() as u64));
        group.bench_function("baseline: blake3::hash of the same bytes", |b| {
            b.iter(|| {
                for h in &hashed {
                    black_box(blake3::hash(black_box(h)));
                }
            })
        });
        group.bench_function("fingerprints", |b| {
            b.iter(|| black_box(correlate::fingerprints(black_box(&domain))))
        });
        group.bench_function("matches", |b| {
            b.iter(|| black_box(correlate::matches(black_box(&candidates), NOW, WINDOW_MS)))
        });
        group.finish();
    }
}

fn record(c: &mut Criterion) {
    let domain = valid(&typical());
    let sites: Vec<SiteId> = ["paris-dc2", "lyon", "berlin-hq"]
        .iter()
        .map(|s| SiteId::parse(s).expect("site id"))
        .collect();
    // An incident three sites reported, as the incidents tree holds it.
    let mut incident_record =
        incident::open(Ulid::from_parts(NOW as u64, 1), &sites[0], &domain, NOW);
    for site in &sites[1..] {
        incident::merge(
            &mut incident_record,
            site,
            &domain,
            "rule 1:2034125 with indicator ipv4:1.2.3.7",
            NOW,
        );
    }
    let fps = correlate::fingerprints(&domain);
    incident::remember_fingerprints(&mut incident_record, fps.iter().map(|fp| fp.key));
    let escalation = EscalationRecord {
        content_hash: domain.content_hash(),
        received_at_ms: NOW,
        enqueued_at_ms: NOW - 5,
        hub_incident: Some(incident_record.id),
        journal: 1 << 20,
    };
    // A unit's run of one site's escalations (`schema.rs`): 64, as a full writer unit.
    let run = EscalationRun {
        first: 1,
        records: vec![escalation; 64],
    };
    type Encode<'a> = Box<dyn Fn() -> bool + 'a>;
    type Presized<'a> = Box<dyn Fn(usize) -> Vec<u8> + 'a>;
    fn presized<T: serde::Serialize>(value: &T, size: usize, version: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(size);
        out.push(version);
        postcard::to_extend(black_box(value), out).expect("encodes")
    }
    let cases: [(&str, Vec<u8>, Encode, Presized); 2] = [
        (
            "incident (3 sightings)",
            schema::encode_incident(&incident_record).expect("encodes"),
            Box::new(|| schema::encode_incident(black_box(&incident_record)).is_ok()),
            Box::new(|size| presized(&incident_record, size, schema::INCIDENT_RECORD_VERSION)),
        ),
        (
            "escalation run (64)",
            schema::encode_escalation_run(&run).expect("encodes"),
            Box::new(|| schema::encode_escalation_run(black_box(&run)).is_ok()),
            Box::new(|size| presized(&run, size, schema::ESCALATION_RECORD_VERSION)),
        ),
    ];
    for (name, bytes, encode, presized_bytes) in cases {
        eprintln!("record {name}: {} bytes", bytes.len());
        let mut group = c.benchmark_group(format!("record/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("baseline: copy of the encoded bytes", |b| {
            b.iter(|| black_box(black_box(bytes.as_slice()).to_vec()))
        });
        group.bench_function("schema::encode (postcard)", |b| {
            b.iter(|| black_box(encode()))
        });
        // Not what the store does: the same encoding into a buffer sized up front, measured to
        // size the cost of growing the buffer from one byte.
        let size = bytes.len();
        assert_eq!(
            presized_bytes(size),
            bytes,
            "the same bytes as the store's encoding"
        );
        group.bench_function("what-if: postcard into a pre-sized buffer", |b| {
            b.iter(|| black_box(presized_bytes(size).len()))
        });
        group.finish();
    }
}

fn access_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("access");
    let lead = Some(HubRole::IrLead);
    group.bench_function("baseline: one role comparison", |b| {
        b.iter(|| black_box(black_box(lead) == Some(HubRole::Ciso)))
    });
    group.bench_function("check allowed (read)", |b| {
        b.iter(|| black_box(access::check(black_box("tom"), black_box(lead), Api::Read).is_ok()))
    });
    group.bench_function("check allowed (start hunt)", |b| {
        b.iter(|| {
            black_box(access::check(black_box("tom"), black_box(lead), Api::StartHunt).is_ok())
        })
    });
    let analyst = Some(HubRole::Analyst(Tier::T1));
    group.bench_function("check refused (issue directive)", |b| {
        b.iter(|| {
            black_box(
                access::check(black_box("tom"), black_box(analyst), Api::IssueDirective).is_err(),
            )
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    report(c);
    idempotency_key(c);
    correlation(c);
    record(c);
    access_check(c);
}

fn config() -> Criterion {
    // Quick and steady: the whole set (all crates) runs in a few minutes on 2 cores.
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = hub;
    config = config();
    targets = benches
}
criterion_main!(hub);
