//! Wazuh manager alerts (`alerts.json` lines), bare or inside a Logstash/OpenSearch
//! envelope `{"_source": {…}}`, which is unwrapped first.
//!
//! Mapping:
//! - time from `timestamp` (`2024-02-08T13:35:27.535+0000`), else `@timestamp`; template
//!   placeholders such as the events generator's literal `{timestamp}` reject the line;
//! - rule id `rule.id` (string or integer), rule name `rule.description`; either alone
//!   suffices;
//! - severity from `rule.level` (an integer 0-15, anything else rejects):
//!   0-3 informational, 4-6 low, 7-10 medium, 11-13 high, 14-15 critical;
//! - techniques from `rule.mitre.id[]`, invalid ids ignored;
//! - entities: host `agent.name`; users `data.srcuser`, `data.dstuser`,
//!   `data.win.eventdata.targetUserName` (a trailing `(uid=…)` as written by PAM is cut,
//!   `-` is ignored); IPs `agent.ip`, `data.srcip`, `data.dstip`;
//! - indicators: `data.srcip` and `data.dstip` (not `agent.ip`, which is our own host;
//!   addresses that cannot name a remote party are left out), and `data.vulnerability.cve`;
//! - product `Wazuh`, TLP amber.

use super::LineError;
use super::fields::{self, Draft, Object, Step, fail};
use crate::soc::alert::Entities;
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind, Severity, Tlp};

pub(super) fn parse(outer: &Object) -> Result<Step, LineError> {
    let obj = match outer.get("_source") {
        Some(Value::Object(inner)) => inner,
        Some(other) => {
            return Err(fail(
                "_source",
                format!("expected an object, found {}", fields::kind_name(other)),
            ));
        }
        None => outer,
    };
    let observed_at_ms = observed_at(obj)?;
    let (rule_id, rule_name) = fields::rule(
        fields::text_or_int(obj, "rule.id"),
        fields::text(obj, "rule.description").map(str::to_string),
        "rule.id: missing (and no rule.description)",
    )?;
    let severity = match fields::lookup(obj, "rule.level").and_then(Value::as_i64) {
        Some(0..=3) => Severity::Informational,
        Some(4..=6) => Severity::Low,
        Some(7..=10) => Severity::Medium,
        Some(11..=13) => Severity::High,
        Some(14..=15) => Severity::Critical,
        _ => return Err(fail("rule.level", "expected an integer 0-15")),
    };

    let mut entities = Entities::default();
    let mut indicators = Vec::new();
    entities
        .hosts
        .extend(fields::text(obj, "agent.name").map(str::to_string));
    for key in [
        "data.srcuser",
        "data.dstuser",
        "data.win.eventdata.targetUserName",
    ] {
        entities
            .users
            .extend(fields::text(obj, key).and_then(user_name));
    }
    entities
        .ips
        .extend(fields::text(obj, "agent.ip").and_then(fields::ip));
    for key in ["data.srcip", "data.dstip"] {
        if let Some(ip) = fields::text(obj, key).and_then(fields::ip) {
            entities.ips.push(ip);
            indicators.extend(fields::ip_indicator(ip));
        }
    }
    if let Some(cve) = fields::text(obj, "data.vulnerability.cve") {
        indicators.extend(Indicator::new(IndicatorKind::Cve, cve).ok());
    }

    Ok(Step::Alert(Box::new(Draft {
        observed_at_ms,
        product: "Wazuh".to_string(),
        rule_id,
        rule_name,
        severity,
        techniques: fields::lenient_techniques(fields::strings(obj, "rule.mitre.id")),
        entities,
        indicators,
        tlp: Tlp::Amber,
    })))
}

fn observed_at(obj: &Object) -> Result<i64, LineError> {
    for field in ["timestamp", "@timestamp"] {
        match obj.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return fields::time_text(s, field),
            Some(other) => {
                return Err(fail(
                    field,
                    format!("expected a string, found {}", fields::kind_name(other)),
                ));
            }
        }
    }
    Err(fail("timestamp", "missing (and no @timestamp)"))
}

/// `root(uid=0)` → `root`; `-` (Windows' "none") → nothing.
fn user_name(raw: &str) -> Option<String> {
    let name = match raw.split_once("(uid=") {
        Some((name, _)) => name,
        None => raw,
    };
    let name = name.trim();
    (!name.is_empty() && name != "-").then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::{Parsed, parse_line};
    use crate::soc::alert::{Format, ParseLimits};
    use socfed_proto::vocab::Severity;

    fn parse(line: &str) -> Result<Parsed, super::LineError> {
        parse_line(Format::Wazuh, line, 0, &ParseLimits::default())
    }

    const GOOD: &str = r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"level":10,"description":"sshd: brute force trying to get access to the system. Authentication failed.","id":"5763","mitre":{"id":["T1110","x"],"tactic":["Credential Access"]},"groups":["syslog","sshd"]},"agent":{"id":"004","name":"Web-01","ip":"192.0.2.21"},"manager":{"name":"wazuh-manager"},"data":{"srcip":"203.0.113.77","dstuser":"root(uid=0)","srcuser":"-","win":{"eventdata":{"targetUserName":"Bob"}},"vulnerability":{"cve":"cve-2024-6387"}},"location":"/var/log/auth.log"}"#;

    #[test]
    fn an_alert_is_mapped() {
        let Ok(Parsed::Alert(a)) = parse(GOOD) else {
            panic!("expected an alert: {:?}", parse(GOOD));
        };
        assert_eq!(a.observed_at_ms, 1_707_399_327_535);
        assert_eq!(a.rule_id, "5763");
        assert!(a.rule_name.starts_with("sshd: brute force"));
        assert_eq!(
            (a.severity, a.product.as_str()),
            (Severity::Medium, "Wazuh")
        );
        let t: Vec<_> = a.techniques.iter().map(|t| t.as_str()).collect();
        assert_eq!(t, ["T1110"]);
        assert_eq!(a.entities.hosts, ["web-01"]);
        assert_eq!(a.entities.users, ["bob", "root"]);
        assert_eq!(a.entities.ips.len(), 2);
        let i: Vec<_> = a.indicators.iter().map(|i| i.to_string()).collect();
        assert_eq!(i, ["ipv4:203.0.113.77", "cve:CVE-2024-6387"]);
    }

    #[test]
    fn logstash_envelope_is_unwrapped() {
        let wrapped =
            format!(r#"{{"@version":"1","_source":{GOOD},"@timestamp":"2024-02-08T13:36:00Z"}}"#);
        let Ok(Parsed::Alert(a)) = parse(&wrapped) else {
            panic!("expected an alert");
        };
        assert_eq!(
            (a.rule_id.as_str(), a.observed_at_ms),
            ("5763", 1_707_399_327_535)
        );
        assert_eq!(a.raw, wrapped);
    }

    #[test]
    fn level_table() {
        for (level, want) in [
            (0, Severity::Informational),
            (3, Severity::Informational),
            (4, Severity::Low),
            (6, Severity::Low),
            (7, Severity::Medium),
            (10, Severity::Medium),
            (11, Severity::High),
            (13, Severity::High),
            (14, Severity::Critical),
            (15, Severity::Critical),
        ] {
            let line = format!(
                r#"{{"timestamp":"2024-02-08T13:35:27Z","rule":{{"id":1,"level":{level}}}}}"#
            );
            let Ok(Parsed::Alert(a)) = parse(&line) else {
                panic!("expected an alert for {level}");
            };
            assert_eq!((a.severity, a.rule_name.as_str()), (want, "1"));
        }
    }

    #[test]
    fn each_rejection_names_its_field() {
        let rule = r#""rule":{"id":"5501","level":3,"description":"PAM: Login session opened."}"#;
        let cases = [
            (
                format!(r#"{{"timestamp":"{{timestamp}}","@timestamp":"{{timestamp}}",{rule}}}"#),
                "timestamp: \"{timestamp}\" is a template placeholder",
            ),
            (
                format!(r#"{{"timestamp":"Feb 15 16:07:34",{rule}}}"#),
                "timestamp: ",
            ),
            (
                format!(r#"{{"timestamp":17,{rule}}}"#),
                "timestamp: expected a string",
            ),
            (format!(r#"{{{rule}}}"#), "timestamp: missing"),
            (
                r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"level":3}}"#.into(),
                "rule.id: missing",
            ),
            (
                r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"id":"1"}}"#.into(),
                "rule.level: expected an integer 0-15",
            ),
            (
                r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"id":"1","level":16}}"#
                    .into(),
                "rule.level: expected an integer 0-15",
            ),
            (
                r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"id":"1","level":"high"}}"#
                    .into(),
                "rule.level: expected an integer 0-15",
            ),
            (r#"{"_source":[1]}"#.into(), "_source: expected an object"),
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
