//! The stable-toolchain smoke of the fuzz targets under `fuzz/`: the same target bodies
//! (plain library functions) run over every committed corpus file and over a few thousand
//! proptest-generated inputs (corpus files mutated byte by byte, and arbitrary bytes). The
//! long coverage-guided run needs nightly flags and is documented in docs/SECURITY.md.
//!
//! `cargo test -p socfed-tests --test security -- --ignored fuzz_smoke::write_seed_corpus` rewrites
//! the generated seeds (synthetic records written here, no third-party data).

use proptest::prelude::*;
use prost::Message;
use socfed_proto::pb;
use std::path::PathBuf;

/// A fuzz target body.
type Body = fn(&[u8]);

/// Every fuzz target: its name under `fuzz/fuzz_targets/` and its body.
const TARGETS: [(&str, Body); 8] = [
    ("alert_native", site_agent::soc::parse::fuzzing::native),
    ("alert_ocsf", site_agent::soc::parse::fuzzing::ocsf),
    ("alert_suricata", site_agent::soc::parse::fuzzing::suricata),
    ("alert_wazuh", site_agent::soc::parse::fuzzing::wazuh),
    (
        "incident_report",
        socfed_proto::vocab::fuzzing::incident_report,
    ),
    (
        "site_message",
        sirt_hub::grpc::federation::wire::site_message,
    ),
    ("stix_bundle", sirt_hub::intel::fuzzing::stix_bundle),
    ("misp_event", sirt_hub::intel::fuzzing::misp_event),
];

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The committed corpus of `target`, sorted by file name.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

#[test]
fn every_target_has_a_fuzz_binary_and_a_corpus() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} missing from fuzz/Cargo.toml"
        );
        assert!(fuzz_dir().join(format!("fuzz_targets/{name}.rs")).is_file());
        assert!(!corpus(name).is_empty(), "{name} has no corpus");
    }
}

#[test]
fn every_corpus_file_runs_clean() {
    for (name, body) in TARGETS {
        for input in corpus(name) {
            body(&input);
        }
    }
}

/// One byte-level edit, in the spirit of libFuzzer's mutators.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    /// Repeats a slice of the input, which grows nesting and repeated fields.
    Duplicate(usize, usize),
}

fn apply(input: &mut Vec<u8>, edit: &Edit) {
    let len = input.len();
    match *edit {
        Edit::Flip(at, mask) if len > 0 => input[at % len] ^= mask,
        Edit::Insert(at, byte) => input.insert(at % (len + 1), byte),
        Edit::Remove(at) if len > 0 => {
            input.remove(at % len);
        }
        Edit::Truncate(at) => input.truncate(at % (len + 1)),
        Edit::Duplicate(at, n) if len > 0 => {
            let start = at % len;
            let end = (start + 1 + n % 64).min(len);
            let copy = input[start..end].to_vec();
            input.splice(start..start, copy);
        }
        _ => {}
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(a, m)| Edit::Flip(a, m)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Insert(a, b)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Edit::Duplicate(a, n)),
    ]
}

proptest! {
    // 8 targets × 500 cases of each kind: 8,000 generated inputs per run.
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn mutated_corpus_files_run_clean(
        pick in any::<usize>(),
        edits in proptest::collection::vec(edit(), 1..8),
    ) {
        for (name, body) in TARGETS {
            let files = corpus(name);
            let mut input = files[pick % files.len()].clone();
            for e in &edits {
                apply(&mut input, e);
            }
            body(&input);
        }
    }

    #[test]
    fn arbitrary_bytes_run_clean(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        for (_, body) in TARGETS {
            body(&input);
        }
    }
}

/// Numbers a hostile site would pick: the edges where arithmetic breaks, and anything.
fn number() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just((1u64 << 53) - 1),
        Just(1u64 << 53),
        Just(i64::MAX as u64),
        0u64..8,
        any::<u64>(),
    ]
}

fn time() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(-1),
        Just(0),
        Just(253_402_300_799_999),
        Just(253_402_300_800_000),
        Just(i64::MAX),
        any::<i64>(),
    ]
}

/// One structured site message with hostile numbers and times (the byte-level mutations
/// above rarely produce a well-formed message with such values).
fn site_message() -> impl Strategy<Value = pb::SiteMessage> {
    use pb::site_message::Body;
    let report = |n: u64| pb::IncidentReport {
        local_incident_id: format!("inc-{}", n % 5),
        revision: 1,
        title: "hostile".into(),
        severity: pb::Severity::High as i32,
        ..Default::default()
    };
    prop_oneof![
        number().prop_map(|next_seq| Body::Hello(pb::Hello {
            site_id: "paris".into(),
            store_epoch: vec![9; 16],
            next_seq,
            agent_version: String::new(),
            incident_states_after: None,
            runbooks_after: None,
        })),
        (number(), number(), time(), time()).prop_map(move |(seq, dropped, at, observed)| {
            let mut r = report(seq);
            r.observed_at_ms = observed;
            Body::Escalation(pb::Escalation {
                seq,
                dropped_before: dropped,
                enqueued_at_ms: at,
                report: Some(r),
            })
        }),
        // Small sequences too, so that marks catch up over what was stored out of order.
        (1u64..6, 0u64..6).prop_map(move |(seq, dropped)| Body::Escalation(pb::Escalation {
            seq,
            dropped_before: dropped,
            enqueued_at_ms: 1,
            report: Some(report(seq)),
        })),
        (number(), number(), number(), number()).prop_map(|(b, a, r, d)| Body::Status(
            pb::SiteStatus {
                backlog: b,
                oldest_unsent_age_ms: a,
                refused_total: r,
                dropped_total: d,
            }
        )),
        (time(), time(), number()).prop_map(|(first, last, count)| Body::DirectiveUpdate(
            pb::DirectiveUpdate {
                directive_id: ulid::Ulid::from_parts(1, 3).to_string(),
                state: pb::DirectiveState::Running as i32,
                hits: vec![pb::HuntHit {
                    indicator: "ipv4:203.0.113.7".into(),
                    title: "hit".into(),
                    alert_count: count,
                    first_seen_ms: first,
                    last_seen_ms: last,
                    ..Default::default()
                }],
                ..Default::default()
            }
        )),
    ]
    .prop_map(|body| pb::SiteMessage { body: Some(body) })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Streams of hostile messages through the `site_message` body: checked as the stream
    /// checks them, then applied to a real hub store by the writer's transaction (the store
    /// lives on across cases, so later messages meet what earlier ones stored).
    #[test]
    fn hostile_site_streams_never_break_the_hub_writer(
        messages in proptest::collection::vec(site_message(), 1..24),
    ) {
        for message in messages {
            sirt_hub::grpc::federation::wire::site_message(&message.encode_to_vec());
        }
    }
}

/// Synthetic seeds: one small, valid record of each shape, plus a few near misses.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let text = |s: &str| s.as_bytes().to_vec();
    let native = r#"{"observed_at":"2024-06-01T08:15:00Z","product":"edr","rule_id":"EDR-17","rule_name":"powershell download cradle","severity":"high","techniques":["T1059.001"],"hosts":["ws-014"],"users":["alice"],"ips":["192.0.2.14"],"indicators":["domain:c2.bad.example","cve:CVE-2024-3400"],"tlp":"amber"}"#;
    let ocsf = r#"{"class_uid":2004,"time":1717222500000,"severity_id":4,"metadata":{"product":{"name":"posture"},"event_code":"iam-1"},"finding_info":{"uid":"f-1","title":"access analyzer disabled","analytic":{"uid":"a-1","name":"iam check"},"attacks":[{"technique":{"uid":"T1078"}}]},"resources":[{"hostname":"acct-1","ip":"192.0.2.2"}],"observables":[{"type_id":1,"value":"a.example"},{"type_id":2,"value":"198.51.100.1"}]}"#;
    let suricata = r#"{"timestamp":"2024-05-28T09:39:37.034492+0000","event_type":"alert","src_ip":"203.0.113.50","src_port":40000,"dest_ip":"192.0.2.10","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2034125,"rev":2,"signature":"ET EXPLOIT path traversal","category":"Web Application Attack","severity":1,"metadata":{"mitre_technique_id":["T1190"]}},"http":{"hostname":"a.example","url":"/cgi-bin/.%2e/.%2e/etc/passwd","http_method":"GET","status":400}}"#;
    let flow = r#"{"timestamp":"2024-05-28T09:39:38.000000+0000","event_type":"flow","src_ip":"203.0.113.50","dest_ip":"192.0.2.10","flow":{"pkts_toserver":3,"alerted":true}}"#;
    let wazuh = r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"level":10,"description":"sshd: authentication success","id":"5715","mitre":{"id":["T1078"]},"groups":["syslog","sshd"]},"agent":{"id":"001","name":"web-01","ip":"192.0.2.21"},"manager":{"name":"manager-1"},"data":{"srcip":"203.0.113.77","dstuser":"root"},"location":"/var/log/auth.log"}"#;
    let envelope =
        format!(r#"{{"@version":"1","_source":{wazuh},"@timestamp":"2024-02-08T13:36:00Z"}}"#);
    let report = pb::IncidentReport {
        local_incident_id: "inc-1".into(),
        revision: 1,
        title: "ransomware staging".into(),
        description: "shadow copies deleted on ws-014".into(),
        severity: pb::Severity::High as i32,
        tlp: pb::Tlp::Amber as i32,
        rule_id: "EDR-17".into(),
        techniques: vec!["T1490".into(), "T1059.001".into()],
        indicators: vec![
            pb::Indicator {
                kind: pb::IndicatorKind::Domain as i32,
                value: "C2.Bad.Example".into(),
            },
            pb::Indicator {
                kind: pb::IndicatorKind::Ipv4 as i32,
                value: "198.51.100.7".into(),
            },
        ],
        observed_at_ms: 1_717_222_500_000,
        local_owner: "alice".into(),
        local_status: pb::LocalStatus::Contained as i32,
    };
    let message = |body| pb::SiteMessage { body: Some(body) }.encode_to_vec();
    use pb::site_message::Body;
    let stix = r#"{"type":"bundle","id":"bundle--0b6b4a3c-0d5d-4d43-9b0e-0d7b0e7c2f11","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--2f2a6f0e-3c41-4f0e-9b7a-5f8f1b0d9c01","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"C2","pattern":"[ipv4-addr:value = '198.51.100.7' OR file:hashes.'SHA-256' = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"external_references":[{"source_name":"mitre-attack","external_id":"T1071"}]},{"type":"vulnerability","spec_version":"2.1","id":"vulnerability--1","name":"CVE-2024-3400"}]}"#;
    let misp = r#"{"Event":{"info":"phishing","Tag":[{"name":"tlp:amber"},{"name":"misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\""}],"Attribute":[{"type":"ip-dst","value":"198.51.100.9","to_ids":true},{"type":"filename|md5","value":"a.exe|cccccccccccccccccccccccccccccccc"},{"type":"domain|ip","value":"evil.example|203.0.113.4"}],"Object":[{"Attribute":[{"type":"url","value":"https://evil.example/x"}]}]}}"#;
    vec![
        ("stix_bundle", "bundle.json", text(stix)),
        ("misp_event", "event.json", text(misp)),
        ("alert_native", "record.json", text(native)),
        ("alert_native", "not-an-object.json", text("[1,2,3]")),
        ("alert_ocsf", "record.json", text(ocsf)),
        (
            "alert_ocsf",
            "array.json",
            format!("[\n {ocsf},\n {ocsf}\n]").into_bytes(),
        ),
        ("alert_suricata", "alert.json", text(suricata)),
        ("alert_suricata", "flow.json", text(flow)),
        ("alert_wazuh", "alert.json", text(wazuh)),
        (
            "alert_wazuh",
            "logstash-envelope.json",
            envelope.into_bytes(),
        ),
        ("incident_report", "report.pb", report.encode_to_vec()),
        ("incident_report", "empty.pb", Vec::new()),
        (
            "site_message",
            "hello.pb",
            message(Body::Hello(pb::Hello {
                site_id: "paris".into(),
                store_epoch: ulid::Ulid::from_parts(1, 2).to_bytes().to_vec(),
                next_seq: 1,
                agent_version: "0.1.0".into(),
                incident_states_after: Some(0),
                runbooks_after: None,
            })),
        ),
        (
            "site_message",
            "escalation.pb",
            message(Body::Escalation(pb::Escalation {
                seq: 3,
                report: Some(report),
                enqueued_at_ms: 1_717_222_500_100,
                dropped_before: 1,
            })),
        ),
        (
            "site_message",
            "directive-update.pb",
            message(Body::DirectiveUpdate(pb::DirectiveUpdate {
                directive_id: ulid::Ulid::from_parts(1, 3).to_string(),
                state: pb::DirectiveState::Succeeded as i32,
                detail: "host isolated".into(),
                exit_code: Some(0),
                output: "ok".into(),
                at_ms: 1_717_222_600_000,
                actor: "bob".into(),
                hits: Vec::new(),
            })),
        ),
        (
            "site_message",
            "status.pb",
            message(Body::Status(pb::SiteStatus {
                backlog: 4,
                oldest_unsent_age_ms: 1200,
                refused_total: 0,
                dropped_total: 0,
            })),
        ),
        // The message that once stopped the hub: the last sequence, all before it dropped.
        (
            "site_message",
            "escalation-top-of-range.pb",
            message(Body::Escalation(pb::Escalation {
                seq: u64::MAX,
                report: Some(pb::IncidentReport {
                    local_incident_id: "inc-max".into(),
                    revision: 1,
                    title: "top of the range".into(),
                    severity: pb::Severity::High as i32,
                    ..Default::default()
                }),
                enqueued_at_ms: 1,
                dropped_before: u64::MAX - 1,
            })),
        ),
        (
            "site_message",
            "status-huge.pb",
            message(Body::Status(pb::SiteStatus {
                backlog: u64::MAX,
                oldest_unsent_age_ms: u64::MAX,
                refused_total: u64::MAX,
                dropped_total: u64::MAX,
            })),
        ),
    ]
}

#[test]
#[ignore = "rewrites fuzz/corpus seeds; run by hand"]
fn write_seed_corpus() {
    for (target, file, bytes) in seeds() {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        std::fs::write(dir.join(file), bytes).expect("seed written");
    }
}
