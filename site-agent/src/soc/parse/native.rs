//! socfed's own alert line: the format scripts and in-house detections write directly.
//! Strict: unknown keys, wrong types and invalid explicit values reject the line.
//!
//! One JSON object per line:
//!
//! | key           | type                                     | required | notes |
//! |---------------|------------------------------------------|----------|-------|
//! | `observed_at` | RFC 3339 string with offset, or Unix ms integer | yes | 1970..9999 |
//! | `rule_id`     | string                                   | one of the two | copied from `rule_name` when absent |
//! | `rule_name`   | string                                   | one of the two | copied from `rule_id` when absent |
//! | `severity`    | `informational` `low` `medium` `high` `critical` (any case, `info` too), or OCSF id 1-5 | yes | |
//! | `product`     | string                                   | no | default `unknown` |
//! | `techniques`  | array of ATT&CK ids (`T1059`, `T1059.001`) | no | each must be valid |
//! | `hosts`       | array of strings                         | no | lower-cased |
//! | `users`       | array of strings                         | no | lower-cased |
//! | `ips`         | array of IP address strings              | no | each must be valid |
//! | `indicators`  | array of `TYPE:VALUE` strings (`ip:`, `domain:`, `url:`, `sha256:`, `sha1:`, `md5:`, `email:`, `cve:`) | no | each must be valid |
//! | `tlp`         | `clear` `green` `amber` `amber+strict` `red` | no | default `amber` |
//! | `id`          | string, at most 256 bytes                | no | the event's own id at its source: a line whose product and `id` were taken before is a duplicate (see `service::intake`); without it every line is a new event |
//!
//! `null` is the same as an absent key. Example:
//! `{"observed_at":"2024-06-01T08:15:00Z","product":"edr","rule_id":"EDR-17","rule_name":"Encoded PowerShell","severity":"high","techniques":["T1059.001"],"hosts":["ws-014"],"users":["alice"],"ips":["192.0.2.14"],"indicators":["domain:c2.bad.example"],"tlp":"amber"}`

use super::LineError;
use super::fields::{self, Draft, Identity, Object, Step, fail, shown};
use crate::soc::alert::Entities;
use serde_json::Value;
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};

/// Longest accepted `id`.
const MAX_ID_BYTES: usize = 256;

const KEYS: [&str; 12] = [
    "id",
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
];

pub(super) fn parse(obj: &Object) -> Result<Step, LineError> {
    check_keys(obj)?;
    let observed_at_ms = match obj.get("observed_at") {
        None | Some(Value::Null) => return Err(fail("observed_at", "missing")),
        Some(Value::String(s)) => fields::time_text(s, "observed_at")?,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(ms) => fields::millis(ms, "observed_at")?,
            None => return Err(fail("observed_at", "expected whole Unix milliseconds")),
        },
        Some(other) => {
            return Err(fail(
                "observed_at",
                format!(
                    "expected an RFC 3339 string or Unix milliseconds, found {}",
                    fields::kind_name(other)
                ),
            ));
        }
    };
    let (rule_id, rule_name) = fields::rule(
        optional_text(obj, "rule_id")?,
        optional_text(obj, "rule_name")?,
        "rule_id: missing (give rule_id or rule_name)",
    )?;
    let severity = severity(obj.get("severity"))?;
    let product = optional_text(obj, "product")?.unwrap_or_else(|| "unknown".to_string());
    let tlp = match optional_text(obj, "tlp")? {
        None => Tlp::Amber,
        Some(s) => s.parse::<Tlp>().map_err(|e| fail("tlp", e.problem))?,
    };
    let techniques = string_list(obj, "techniques")?
        .into_iter()
        .enumerate()
        .map(|(i, s)| Technique::parse(s).map_err(|e| fail(&format!("techniques[{i}]"), e.problem)))
        .collect::<Result<Vec<_>, _>>()?;
    let indicators = string_list(obj, "indicators")?
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Indicator::parse_typed(s).map_err(|e| fail(&format!("indicators[{i}]"), e.problem))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ips = string_list(obj, "ips")?
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            fields::ip(s).ok_or_else(|| {
                fail(
                    &format!("ips[{i}]"),
                    format!("{} is not an IP address", shown(s)),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let entities = Entities {
        hosts: owned(string_list(obj, "hosts")?),
        users: owned(string_list(obj, "users")?),
        ips,
    };
    let identity = match optional_text(obj, "id")? {
        Some(id) if id.len() > MAX_ID_BYTES => {
            return Err(fail(
                "id",
                format!("{} bytes is over the limit of {MAX_ID_BYTES}", id.len()),
            ));
        }
        Some(id) => Identity::Fields(vec![product.clone(), id]),
        None => Identity::None,
    };
    Ok(Step::Alert(Box::new(Draft {
        observed_at_ms,
        product,
        rule_id,
        rule_name,
        severity,
        techniques,
        entities,
        indicators,
        tlp,
        identity,
    })))
}

fn check_keys(obj: &Object) -> Result<(), LineError> {
    let unknown: Vec<String> = obj
        .keys()
        .filter(|k| !KEYS.contains(&k.as_str()))
        .map(|k| shown(k))
        .collect();
    match unknown.as_slice() {
        [] => Ok(()),
        [first, ..] => {
            let mut listed = unknown
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if unknown.len() > 5 {
                listed.push_str(&format!(" and {} more", unknown.len() - 5));
            }
            Err(LineError(format!(
                "{}: unknown field{} {listed} (expected {})",
                first.trim_matches('"'),
                if unknown.len() == 1 { "" } else { "s" },
                KEYS.join(", ")
            )))
        }
    }
}

fn optional_text(obj: &Object, key: &str) -> Result<Option<String>, LineError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(other) => Err(fail(
            key,
            format!("expected a string, found {}", fields::kind_name(other)),
        )),
    }
}

fn string_list<'a>(obj: &'a Object, key: &str) -> Result<Vec<&'a str>, LineError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str().ok_or_else(|| {
                    fail(
                        &format!("{key}[{i}]"),
                        format!("expected a string, found {}", fields::kind_name(item)),
                    )
                })
            })
            .collect(),
        Some(other) => Err(fail(
            key,
            format!(
                "expected an array of strings, found {}",
                fields::kind_name(other)
            ),
        )),
    }
}

fn owned(items: Vec<&str>) -> Vec<String> {
    items.into_iter().map(str::to_string).collect()
}

fn severity(value: Option<&Value>) -> Result<Severity, LineError> {
    const EXPECTED: &str = "expected informational, low, medium, high, critical or an OCSF id 1-5";
    match value {
        None | Some(Value::Null) => Err(fail("severity", "missing")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<Severity>()
            .map_err(|_| fail("severity", format!("{} is not valid; {EXPECTED}", shown(s)))),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|id| id.checked_sub(1))
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| Severity::ALL.get(i).copied())
            .ok_or_else(|| fail("severity", format!("{n} is not valid; {EXPECTED}"))),
        Some(other) => Err(fail(
            "severity",
            format!("found {}; {EXPECTED}", fields::kind_name(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Parsed, parse_line};
    use crate::soc::alert::{Format, ParseLimits};
    use socfed_proto::vocab::{Severity, Tlp};

    fn parse(line: &str) -> Result<Parsed, super::LineError> {
        parse_line(Format::Native, line, 7, &ParseLimits::default())
    }

    const GOOD: &str = r#"{"observed_at":"2024-06-01T08:15:00+02:00","product":"edr","rule_id":"EDR-17","rule_name":"Encoded PowerShell","severity":"High","techniques":["t1059.001","T1059.001","T1027"],"hosts":["WS-014","ws-014"],"users":["Alice"],"ips":["192.0.2.14","::ffff:192.0.2.14"],"indicators":["domain:C2.Bad.Example.","ip:203.0.113.9","sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],"tlp":"green"}"#;

    #[test]
    fn a_full_record_is_normalised() {
        let Ok(Parsed::Alert(a)) = parse(GOOD) else {
            panic!("expected an alert: {:?}", parse(GOOD));
        };
        assert_eq!(a.observed_at_ms, 1_717_222_500_000);
        assert_eq!(a.received_at_ms, 7);
        assert_eq!((a.product.as_str(), a.rule_id.as_str()), ("edr", "EDR-17"));
        assert_eq!(a.rule_name, "Encoded PowerShell");
        assert_eq!(a.severity, Severity::High);
        assert_eq!(a.tlp, Tlp::Green);
        let techniques: Vec<_> = a.techniques.iter().map(|t| t.as_str()).collect();
        assert_eq!(techniques, ["T1027", "T1059.001"]);
        assert_eq!(a.entities.hosts, ["ws-014"]);
        assert_eq!(a.entities.users, ["alice"]);
        assert_eq!(a.entities.ips.len(), 1);
        let indicators: Vec<_> = a.indicators.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            indicators,
            [
                "ipv4:203.0.113.9",
                "domain:c2.bad.example",
                "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            ]
        );
        assert_eq!(a.raw, GOOD);
    }

    #[test]
    fn an_id_names_the_event_and_without_one_nothing_does() {
        let id = |line: &str| match parse(line) {
            Ok(Parsed::Alert(a)) => a.source_id,
            other => panic!("expected an alert: {other:?}"),
        };
        let line =
            r#"{"id":"evt-1","observed_at":1,"rule_id":"x","severity":"low","product":"edr"}"#;
        assert!(id(line).is_some());
        assert_eq!(id(line), id(&line.replace(r#""low""#, r#""high""#)));
        assert_ne!(id(line), id(&line.replace("evt-1", "evt-2")));
        assert_ne!(
            id(line),
            id(&line.replace(r#""edr""#, r#""ids""#)),
            "ids are per product"
        );
        assert_eq!(id(&line.replace(r#""id":"evt-1","#, "")), None);
        let long = line.replace("evt-1", &"x".repeat(257));
        assert!(
            parse(&long)
                .expect_err("long id")
                .0
                .starts_with("id: 257 bytes")
        );
    }

    #[test]
    fn minimal_record_gets_defaults() {
        let Ok(Parsed::Alert(a)) =
            parse(r#"{"observed_at":1717222500000,"rule_name":"x","severity":3}"#)
        else {
            panic!("expected an alert");
        };
        assert_eq!((a.rule_id.as_str(), a.product.as_str()), ("x", "unknown"));
        assert_eq!((a.severity, a.tlp), (Severity::Medium, Tlp::Amber));
    }

    #[test]
    fn each_rejection_names_its_field() {
        let base = r#""observed_at":1717222500000,"rule_id":"r","severity":"low""#;
        let cases = [
            (
                r#"{"rule_id":"r","severity":"low"}"#.to_string(),
                "observed_at: missing",
            ),
            (
                r#"{"observed_at":"2024-06-01 08:15","rule_id":"r","severity":"low"}"#.into(),
                "observed_at:",
            ),
            (
                r#"{"observed_at":-5,"rule_id":"r","severity":"low"}"#.into(),
                "observed_at:",
            ),
            (
                r#"{"observed_at":1.5,"rule_id":"r","severity":"low"}"#.into(),
                "observed_at:",
            ),
            (
                r#"{"observed_at":true,"rule_id":"r","severity":"low"}"#.into(),
                "observed_at:",
            ),
            (
                r#"{"observed_at":1717222500000,"severity":"low"}"#.into(),
                "rule_id: missing",
            ),
            (
                r#"{"observed_at":1717222500000,"rule_id":" ","severity":"low"}"#.into(),
                "rule_id: missing",
            ),
            (
                r#"{"observed_at":1717222500000,"rule_id":5,"severity":"low"}"#.into(),
                "rule_id: expected a string",
            ),
            (
                r#"{"observed_at":1717222500000,"rule_id":"r"}"#.into(),
                "severity: missing",
            ),
            (
                r#"{"observed_at":1717222500000,"rule_id":"r","severity":"urgent"}"#.into(),
                "severity:",
            ),
            (
                r#"{"observed_at":1717222500000,"rule_id":"r","severity":0}"#.into(),
                "severity:",
            ),
            (
                r#"{"observed_at":1717222500000,"rule_id":"r","severity":6}"#.into(),
                "severity:",
            ),
            (format!(r#"{{{base},"tlp":"purple"}}"#), "tlp:"),
            (
                format!(r#"{{{base},"techniques":["T1059","TA0001"]}}"#),
                "techniques[1]:",
            ),
            (
                format!(r#"{{{base},"techniques":"T1059"}}"#),
                "techniques: expected an array",
            ),
            (
                format!(r#"{{{base},"indicators":["ip:300.1.1.1"]}}"#),
                "indicators[0]:",
            ),
            (
                format!(r#"{{{base},"indicators":["evil.example"]}}"#),
                "indicators[0]:",
            ),
            (
                format!(r#"{{{base},"ips":["192.0.2.1","host-7"]}}"#),
                "ips[1]:",
            ),
            (
                format!(r#"{{{base},"hosts":["a",3]}}"#),
                "hosts[1]: expected a string",
            ),
            (
                format!(r#"{{{base},"users":{{}}}}"#),
                "users: expected an array",
            ),
            (
                format!(r#"{{{base},"sev":1,"zzz":2}}"#),
                "sev: unknown fields \"sev\", \"zzz\"",
            ),
        ];
        for (line, want) in cases {
            let err = parse(&line).expect_err(&line);
            assert!(
                err.0.starts_with(want),
                "{line}\n  got: {err}\n  want: {want}"
            );
        }
    }
}
