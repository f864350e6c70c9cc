//! Property tests: no input makes any parser panic, and whatever comes out as an alert
//! satisfies the model's invariants. Arbitrary text, arbitrary JSON built from the field
//! names the parsers look at, and valid records of each format with random fields replaced
//! or removed.

use super::{Parsed, parse_line, split_json_array};
use crate::soc::alert::{Format, ParseLimits};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

const FORMATS: [Format; 4] = [
    Format::Native,
    Format::Ocsf,
    Format::SuricataEve,
    Format::Wazuh,
];

const BASES: [(Format, &str); 4] = [
    (
        Format::Native,
        r#"{"observed_at":"2024-06-01T08:15:00Z","product":"edr","rule_id":"EDR-17","rule_name":"n","severity":"high","techniques":["T1059.001"],"hosts":["ws-014"],"users":["alice"],"ips":["192.0.2.14"],"indicators":["domain:c2.bad.example","cve:CVE-2024-3400"],"tlp":"red"}"#,
    ),
    (
        Format::Ocsf,
        r#"{"class_uid":2004,"time":1717222500000,"severity_id":4,"severity":"High","metadata":{"product":{"name":"P"},"event_code":"e"},"finding_info":{"uid":"f","title":"t","created_time":1717222500,"analytic":{"uid":"a","name":"n"},"attacks":[{"technique":{"uid":"T1003"},"sub_technique":{"uid":"T1003.001"}}]},"device":{"hostname":"h","ip":"192.0.2.1"},"actor":{"user":{"name":"u"}},"resources":[{"hostname":"r","ip":"192.0.2.2"}],"observables":[{"type_id":1,"value":"a.example"},{"type_id":2,"value":"198.51.100.1"},{"type_id":4,"value":"bob"},{"type_id":5,"value":"x@y.example"},{"type_id":6,"value":"http://a.example/"},{"type_id":8,"value":"3172ac7e2b55cbb81f04a6e65855a628"}],"vulnerabilities":[{"cve":{"uid":"CVE-2024-1234"}}]}"#,
    ),
    (
        Format::SuricataEve,
        r#"{"timestamp":"2024-05-28T09:39:37.034492+0000","event_type":"alert","src_ip":"203.0.113.50","dest_ip":"192.0.2.10","alert":{"gid":1,"signature_id":2034125,"signature":"s","severity":1,"metadata":{"mitre_technique_id":["T1190"]}},"http":{"hostname":"a.example","http_port":8080,"url":"/x"},"tls":{"sni":"b.example"},"dns":{"rrname":"c.example","query":[{"rrname":"d.example"}],"queries":[{"rrname":"e.example"}]},"fileinfo":{"md5":"3172ac7e2b55cbb81f04a6e65855a628"},"files":[{"sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}]}"#,
    ),
    (
        Format::Wazuh,
        r#"{"_source":{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"level":10,"description":"d","id":"5763","mitre":{"id":["T1110"]}},"agent":{"name":"web-01","ip":"192.0.2.21"},"data":{"srcip":"203.0.113.77","dstip":"192.0.2.21","srcuser":"a","dstuser":"root(uid=0)","win":{"eventdata":{"targetUserName":"Bob"}},"vulnerability":{"cve":"CVE-2024-6387"}}}}"#,
    ),
];

const KEYS: [&str; 40] = [
    "observed_at",
    "product",
    "rule_id",
    "rule_name",
    "severity",
    "techniques",
    "hosts",
    "users",
    "ips",
    "indicators",
    "tlp",
    "class_uid",
    "time",
    "severity_id",
    "finding_info",
    "uid",
    "title",
    "analytic",
    "attacks",
    "technique",
    "observables",
    "type_id",
    "value",
    "event_type",
    "timestamp",
    "alert",
    "signature_id",
    "gid",
    "signature",
    "http",
    "url",
    "hostname",
    "_source",
    "rule",
    "level",
    "id",
    "mitre",
    "data",
    "agent",
    "ip",
];

const STRINGS: [&str; 16] = [
    "alert",
    "flow",
    "2024-05-28T09:39:37.034492+0000",
    "2024-06-01T08:15:00Z",
    "{timestamp}",
    "T1059.001",
    "T99999",
    "192.0.2.1",
    "::ffff:192.0.2.1",
    "fe80::1",
    "bad.example",
    "/x/../y",
    "ip:192.0.2.1",
    "domain:",
    "high",
    "\u{feff}é\u{0}",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-3i64..20).prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(&STRINGS[..]).prop_map(Value::from),
        "\\PC{0,24}".prop_map(Value::from),
    ]
}

pub(super) fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((proptest::sample::select(&KEYS[..]), inner), 0..5).prop_map(
                |pairs| Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>()
                )
            ),
        ]
    })
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                prefix.push(Seg::Key(k.clone()));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(Seg::Index(i));
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// Replaces (or, with `remove`, deletes) the value at `path`.
fn mutate(root: &mut Value, path: &[Seg], replacement: Value, remove: bool) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = root;
    for seg in parents {
        let next = match seg {
            Seg::Key(k) => node.get_mut(k.as_str()),
            Seg::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match (last, node) {
        (Seg::Key(k), Value::Object(map)) if remove => {
            map.remove(k);
        }
        (Seg::Key(k), Value::Object(map)) => {
            map.insert(k.clone(), replacement);
        }
        (Seg::Index(i), Value::Array(items)) if *i < items.len() => {
            if remove {
                items.remove(*i);
            } else if let Some(slot) = items.get_mut(*i) {
                *slot = replacement;
            }
        }
        _ => {}
    }
}

fn check_every_format(line: &str) -> Result<(), TestCaseError> {
    for format in FORMATS {
        if let Ok(Parsed::Alert(a)) = parse_line(format, line, 5, &ParseLimits::default()) {
            prop_assert!(!a.rule_id.is_empty() && !a.rule_name.is_empty());
            prop_assert!(a.observed_at_ms >= 0);
            prop_assert_eq!(a.received_at_ms, 5);
            prop_assert!(a.indicators.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(a.techniques.windows(2).all(|w| w[0] < w[1]));
        }
    }
    Ok(())
}

#[test]
fn every_base_record_is_an_alert() {
    for (format, line) in BASES {
        let parsed = parse_line(format, line, 0, &ParseLimits::default());
        assert!(
            matches!(parsed, Ok(Parsed::Alert(_))),
            "{format:?}: {parsed:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(line in "\\PC{0,200}") {
        check_every_format(&line)?;
        let _ = split_json_array(&line);
    }

    #[test]
    fn arbitrary_json_never_panics(v in value()) {
        let line = v.to_string();
        check_every_format(&line)?;
        let _ = split_json_array(&line);
        let _ = split_json_array(&format!("[{line},{line}]"));
    }

    #[test]
    fn mutated_records_never_panic(
        base in 0usize..BASES.len(),
        edits in proptest::collection::vec((any::<usize>(), value(), any::<bool>()), 1..5),
        cut in any::<usize>(),
    ) {
        let Some((_, text)) = BASES.get(base) else {
            return Ok(());
        };
        let mut record: Value = serde_json::from_str(text).expect("base records are JSON");
        for (pick, replacement, remove) in edits {
            let mut all = Vec::new();
            paths(&record, &mut Vec::new(), &mut all);
            if let Some(path) = all.get(pick % all.len().max(1)) {
                mutate(&mut record, path, replacement, remove);
            }
        }
        let line = record.to_string();
        check_every_format(&line)?;
        // And every prefix-truncation of it, at a char boundary.
        let mut end = cut % (line.len() + 1);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        check_every_format(line.get(..end).unwrap_or_default())?;
    }
}
