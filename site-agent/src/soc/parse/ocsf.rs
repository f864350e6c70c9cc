//! OCSF Detection Finding records (class_uid 2004), one JSON object per line; use
//! [`super::split_json_array`] first for exports written as one array.
//!
//! Mapping:
//! - other classes are rejected, naming `class_uid`;
//! - time: `time`, else `finding_info.created_time`. OCSF says milliseconds, but some
//!   producers (Prowler among them) write seconds, so a value below 10^11 (which as
//!   milliseconds would be before 1973-03-04) is read as seconds;
//! - severity from `severity_id`: 1 informational, 2 low, 3 medium, 4 high, 5 critical,
//!   6 (Fatal) critical; 99 (Other) uses the `severity` caption when it is one of those five
//!   names; 0 (Unknown), other numbers and an absent id reject the line;
//! - rule id: `finding_info.analytic.uid`, else `metadata.event_code`, else
//!   `finding_info.uid` (last because it names one finding, not the detection);
//!   rule name: `finding_info.analytic.name`, else `finding_info.title`; a missing half
//!   is copied from the other;
//! - product: `metadata.product.name`, else `metadata.product.vendor_name`, else `unknown`;
//! - techniques: `technique.uid` and `sub_technique.uid` of `finding_info.attacks[]` (and of
//!   the OCSF 1.0 top-level `attacks[]`); invalid ids are ignored;
//! - entities: hosts from `device.hostname`, `resources[].hostname`; IPs from `device.ip`,
//!   `resources[].ip`; users from `actor.user.name` and User Name observables;
//! - indicators from `observables[]` by `type_id`: 1 Hostname → domain (IP literals
//!   skipped), 2 IP Address → ip, 5 Email Address → email, 6 URL String → url, 8 Hash →
//!   md5/sha1/sha256 by length; plus `vulnerabilities[].cve.uid` → cve. Own-device
//!   addresses (`device.ip`) are entities, not indicators.

use super::LineError;
use super::fields::{self, Draft, Object, Step, fail};
use crate::soc::alert::Entities;
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind, Severity, Tlp};

const DETECTION_FINDING: i64 = 2004;
/// Below this, an OCSF time is taken to be in seconds.
const SECONDS_BELOW: i64 = 100_000_000_000;

pub(super) fn parse(obj: &Object) -> Result<Step, LineError> {
    match fields::int(obj, "class_uid")? {
        Some(DETECTION_FINDING) => {}
        Some(other) => {
            return Err(fail(
                "class_uid",
                format!("{other} is not a Detection Finding ({DETECTION_FINDING})"),
            ));
        }
        None => {
            return Err(fail(
                "class_uid",
                format!("missing (only Detection Finding, {DETECTION_FINDING}, is accepted)"),
            ));
        }
    }
    let observed_at_ms = observed_at(obj)?;
    let severity = severity(obj)?;
    let (rule_id, rule_name) = fields::rule(
        fields::text_or_int(obj, "finding_info.analytic.uid")
            .or_else(|| fields::text_or_int(obj, "metadata.event_code"))
            .or_else(|| fields::text_or_int(obj, "finding_info.uid")),
        fields::text(obj, "finding_info.analytic.name")
            .or_else(|| fields::text(obj, "finding_info.title"))
            .map(str::to_string),
        "finding_info.uid: missing (no finding_info.analytic.uid, metadata.event_code, \
         finding_info.uid or finding_info.title names the rule)",
    )?;
    let product = fields::text(obj, "metadata.product.name")
        .or_else(|| fields::text(obj, "metadata.product.vendor_name"))
        .unwrap_or("unknown")
        .to_string();

    let mut technique_ids = Vec::new();
    for attack in
        fields::objects(obj, "finding_info.attacks").chain(fields::objects(obj, "attacks"))
    {
        technique_ids.extend(fields::text(attack, "technique.uid"));
        technique_ids.extend(fields::text(attack, "sub_technique.uid"));
    }

    let mut entities = Entities::default();
    let mut indicators = Vec::new();
    entities
        .hosts
        .extend(fields::text(obj, "device.hostname").map(str::to_string));
    entities
        .ips
        .extend(fields::text(obj, "device.ip").and_then(fields::ip));
    entities
        .users
        .extend(fields::text(obj, "actor.user.name").map(str::to_string));
    for resource in fields::objects(obj, "resources") {
        entities
            .hosts
            .extend(fields::text(resource, "hostname").map(str::to_string));
        entities
            .ips
            .extend(fields::text(resource, "ip").and_then(fields::ip));
    }
    for observable in fields::objects(obj, "observables") {
        let Some(value) = fields::text(observable, "value") else {
            continue;
        };
        match observable.get("type_id").and_then(Value::as_i64) {
            Some(1) => indicators.extend(fields::domain_indicator(value)),
            Some(2) => indicators.extend(fields::ip(value).and_then(fields::ip_indicator)),
            Some(4) => entities.users.push(value.to_string()),
            Some(5) => indicators.extend(Indicator::new(IndicatorKind::Email, value).ok()),
            Some(6) => indicators.extend(Indicator::new(IndicatorKind::Url, value).ok()),
            Some(8) => indicators.extend(fields::hash_indicator(value)),
            _ => {}
        }
    }
    for vulnerability in fields::objects(obj, "vulnerabilities") {
        if let Some(cve) = fields::text(vulnerability, "cve.uid") {
            indicators.extend(Indicator::new(IndicatorKind::Cve, cve).ok());
        }
    }

    Ok(Step::Alert(Box::new(Draft {
        observed_at_ms,
        product,
        rule_id,
        rule_name,
        severity,
        techniques: fields::lenient_techniques(technique_ids),
        entities,
        indicators,
        tlp: Tlp::Amber,
    })))
}

fn observed_at(obj: &Object) -> Result<i64, LineError> {
    let (field, value) = match fields::int(obj, "time")? {
        Some(t) => ("time", t),
        None => match fields::int(obj, "finding_info.created_time")? {
            Some(t) => ("finding_info.created_time", t),
            None => return Err(fail("time", "missing (and no finding_info.created_time)")),
        },
    };
    let ms = if (0..SECONDS_BELOW).contains(&value) {
        value.saturating_mul(1000)
    } else {
        value
    };
    fields::millis(ms, field)
}

fn severity(obj: &Object) -> Result<Severity, LineError> {
    match fields::int(obj, "severity_id")? {
        None => Err(fail("severity_id", "missing")),
        Some(id @ 1..=5) => usize::try_from(id - 1)
            .ok()
            .and_then(|i| Severity::ALL.get(i).copied())
            .ok_or_else(|| fail("severity_id", "out of range")),
        Some(6) => Ok(Severity::Critical),
        Some(0) => Err(fail("severity_id", "0 (Unknown) gives no severity")),
        Some(99) => fields::text(obj, "severity")
            .and_then(|s| s.parse::<Severity>().ok())
            .ok_or_else(|| {
                fail(
                    "severity_id",
                    "99 (Other) needs a severity caption of informational, low, medium, high or critical",
                )
            }),
        Some(other) => Err(fail(
            "severity_id",
            format!("{other} is not an OCSF severity (expected 1-6 or 99)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Parsed, parse_line};
    use crate::soc::alert::{Format, ParseLimits};
    use socfed_proto::vocab::Severity;

    fn parse(line: &str) -> Result<Parsed, super::LineError> {
        parse_line(Format::Ocsf, line, 0, &ParseLimits::default())
    }

    const GOOD: &str = r#"{"class_uid":2004,"category_uid":2,"type_uid":200401,"time":1717222500000,"severity_id":4,"severity":"High","metadata":{"product":{"name":"Falcon","vendor_name":"CrowdStrike"},"event_code":"ignored-when-analytic-present","version":"1.4.0"},"finding_info":{"uid":"f-123","title":"Credential dumping","analytic":{"uid":"AN-9","name":"LSASS access"},"attacks":[{"technique":{"uid":"T1003","name":"OS Credential Dumping"},"sub_technique":{"uid":"T1003.001"}},{"technique":{"uid":"bogus"}}]},"device":{"hostname":"WS-014","ip":"192.0.2.14"},"actor":{"user":{"name":"Alice"}},"resources":[{"hostname":"db-02","ip":"192.0.2.30"}],"observables":[{"type_id":1,"value":"c2.bad.example"},{"type_id":1,"value":"203.0.113.5"},{"type_id":2,"value":"203.0.113.5"},{"type_id":4,"value":"bob"},{"type_id":5,"value":"Phish@Mail.Example"},{"type_id":6,"value":"https://c2.bad.example/x"},{"type_id":8,"value":"SHA-256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},{"type_id":8,"value":"short"},{"type_id":7,"value":"a.exe"}],"vulnerabilities":[{"cve":{"uid":"cve-2024-3400"}}]}"#;

    #[test]
    fn a_detection_finding_is_mapped() {
        let Ok(Parsed::Alert(a)) = parse(GOOD) else {
            panic!("expected an alert: {:?}", parse(GOOD));
        };
        assert_eq!(a.observed_at_ms, 1_717_222_500_000);
        assert_eq!(
            (a.rule_id.as_str(), a.rule_name.as_str()),
            ("AN-9", "LSASS access")
        );
        assert_eq!((a.product.as_str(), a.severity), ("Falcon", Severity::High));
        let t: Vec<_> = a.techniques.iter().map(|t| t.as_str()).collect();
        assert_eq!(t, ["T1003", "T1003.001"]);
        assert_eq!(a.entities.hosts, ["db-02", "ws-014"]);
        assert_eq!(a.entities.users, ["alice", "bob"]);
        assert_eq!(a.entities.ips.len(), 2);
        let i: Vec<_> = a.indicators.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            i,
            [
                "ipv4:203.0.113.5",
                "domain:c2.bad.example",
                "url:https://c2.bad.example/x",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "email:phish@mail.example",
                "cve:CVE-2024-3400",
            ]
        );
    }

    #[test]
    fn seconds_fallbacks_and_severity_edge_cases() {
        let line = r#"{"class_uid":2004,"finding_info":{"created_time":1739539623,"title":"Check"},"severity_id":99,"severity":"Medium","metadata":{"event_code":"chk_1"}}"#;
        let Ok(Parsed::Alert(a)) = parse(line) else {
            panic!("expected an alert");
        };
        assert_eq!(a.observed_at_ms, 1_739_539_623_000);
        assert_eq!(
            (a.rule_id.as_str(), a.rule_name.as_str()),
            ("chk_1", "Check")
        );
        assert_eq!(
            (a.severity, a.product.as_str()),
            (Severity::Medium, "unknown")
        );
        let fatal =
            r#"{"class_uid":2004,"time":1739539623000,"severity_id":6,"finding_info":{"uid":"u"}}"#;
        let Ok(Parsed::Alert(a)) = parse(fatal) else {
            panic!("expected an alert");
        };
        assert_eq!(
            (a.severity, a.rule_name.as_str()),
            (Severity::Critical, "u")
        );
    }

    #[test]
    fn each_rejection_names_its_field() {
        let ok_rest = r#""time":1717222500000,"severity_id":3,"finding_info":{"uid":"u"}"#;
        let cases = [
            (format!(r#"{{"class_uid":2001,{ok_rest}}}"#), "class_uid: 2001 is not a Detection Finding"),
            (format!(r#"{{{ok_rest}}}"#), "class_uid: missing"),
            (format!(r#"{{"class_uid":"2004",{ok_rest}}}"#), "class_uid: expected an integer"),
            (r#"{"class_uid":2004,"severity_id":3,"finding_info":{"uid":"u"}}"#.into(), "time: missing"),
            (r#"{"class_uid":2004,"time":"now","severity_id":3,"finding_info":{"uid":"u"}}"#.into(), "time: expected an integer"),
            (r#"{"class_uid":2004,"time":-1717222500000,"severity_id":3,"finding_info":{"uid":"u"}}"#.into(), "time: "),
            (r#"{"class_uid":2004,"time":1717222500000,"finding_info":{"uid":"u"}}"#.into(), "severity_id: missing"),
            (r#"{"class_uid":2004,"time":1717222500000,"severity_id":0,"finding_info":{"uid":"u"}}"#.into(), "severity_id: 0 (Unknown)"),
            (r#"{"class_uid":2004,"time":1717222500000,"severity_id":99,"finding_info":{"uid":"u"}}"#.into(), "severity_id: 99 (Other)"),
            (r#"{"class_uid":2004,"time":1717222500000,"severity_id":7,"finding_info":{"uid":"u"}}"#.into(), "severity_id: 7 is not"),
            (r#"{"class_uid":2004,"time":1717222500000,"severity_id":3,"finding_info":{}}"#.into(), "finding_info.uid: missing"),
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
