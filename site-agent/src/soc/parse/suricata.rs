//! Suricata EVE JSON lines. Only `event_type: "alert"` records are alerts; every other
//! event type (flow, dns, stats, …) is skipped, not rejected.
//!
//! Mapping:
//! - time from `timestamp` (`2024-05-28T09:39:37.034492+0000`; `-0000` and RFC 3339 too);
//! - rule id `"{gid}:{sid}"` from `alert.gid` (default 1) and `alert.signature_id`, the
//!   way Suricata and Snort name rules (the revision is left out so that a rule update
//!   does not split aggregation); rule name `alert.signature`; either alone suffices;
//! - severity from `alert.severity` (the classtype priority, 1-255 in Suricata): 1 high,
//!   2 medium, 3 low, 4-255 informational (rules may set any priority; above 4 is the
//!   lowest); anything else rejects the line. Nothing in EVE maps to critical;
//! - techniques from `alert.metadata.mitre_technique_id` (ET rules write a list), invalid
//!   ids ignored;
//! - entities: `src_ip` and `dest_ip`. The sensor (`host`) is not an entity;
//! - indicators: `src_ip` and `dest_ip` (either side may be the attacker; addresses that
//!   cannot name a remote party are left out, see the module above), `http.hostname` as a
//!   domain (IP literals skipped), `http.url` as a URL — absolute URLs as they are, paths
//!   joined to `http.hostname` (and a non-80 `http_port`) as `http://host[:port]/path`,
//!   `tls.sni`, DNS names from `dns.rrname`, `dns.query[].rrname` (EVE v1) and
//!   `dns.queries[].rrname` (EVE v3), and `md5`/`sha1`/`sha256` of `fileinfo` and
//!   `files[]`;
//! - product `Suricata`, TLP amber;
//! - identity (for de-duplication): `flow_id`, `tx_id`, the rule id and the `timestamp` as
//!   written, which together name one alert of one flow; without `flow_id`, the whole record.

use super::LineError;
use super::fields::{self, Draft, Identity, Object, Step, fail, shown};
use crate::soc::alert::Entities;
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind, Severity, Tlp};

pub(super) fn parse(obj: &Object) -> Result<Step, LineError> {
    let event_type = match fields::lookup(obj, "event_type") {
        None => return Err(fail("event_type", "missing")),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(fail(
                "event_type",
                format!("expected a string, found {}", fields::kind_name(other)),
            ));
        }
    };
    if event_type != "alert" {
        return Ok(Step::Skip(format!(
            "event_type {} is not an alert",
            shown(event_type).trim_matches('"')
        )));
    }
    let observed_at_ms = match fields::lookup(obj, "timestamp") {
        None => return Err(fail("timestamp", "missing")),
        Some(Value::String(s)) => fields::time_text(s, "timestamp")?,
        Some(other) => {
            return Err(fail(
                "timestamp",
                format!("expected a string, found {}", fields::kind_name(other)),
            ));
        }
    };
    if !matches!(fields::lookup(obj, "alert"), Some(Value::Object(_))) {
        return Err(fail(
            "alert",
            "missing (an alert event needs an alert object)",
        ));
    }
    let sid = fields::int(obj, "alert.signature_id")?;
    let gid = fields::int(obj, "alert.gid")?.unwrap_or(1);
    let (rule_id, rule_name) = fields::rule(
        sid.map(|sid| format!("{gid}:{sid}")),
        fields::text(obj, "alert.signature").map(str::to_string),
        "alert.signature_id: missing (and no alert.signature)",
    )?;
    let severity = match fields::lookup(obj, "alert.severity").and_then(Value::as_i64) {
        Some(1) => Severity::High,
        Some(2) => Severity::Medium,
        Some(3) => Severity::Low,
        Some(4..=255) => Severity::Informational,
        _ => return Err(fail("alert.severity", "expected an integer 1-255")),
    };
    let identity = match fields::text_or_int(obj, "flow_id") {
        Some(flow) => Identity::Fields(vec![
            flow,
            fields::text_or_int(obj, "tx_id").unwrap_or_default(),
            rule_id.clone(),
            fields::text(obj, "timestamp")
                .unwrap_or_default()
                .to_string(),
        ]),
        None => Identity::WholeRecord,
    };

    let mut entities = Entities::default();
    let mut indicators = Vec::new();
    for key in ["src_ip", "dest_ip"] {
        if let Some(ip) = fields::text(obj, key).and_then(fields::ip) {
            entities.ips.push(ip);
            indicators.extend(fields::ip_indicator(ip));
        }
    }
    let hostname = fields::text(obj, "http.hostname");
    indicators.extend(hostname.and_then(fields::domain_indicator));
    if let Some(url) = fields::text(obj, "http.url") {
        indicators.extend(url_indicator(
            url,
            hostname,
            fields::int(obj, "http.http_port").ok().flatten(),
        ));
    }
    let mut names: Vec<&str> = Vec::new();
    names.extend(fields::text(obj, "tls.sni"));
    names.extend(fields::text(obj, "dns.rrname"));
    for key in ["dns.query", "dns.queries"] {
        names.extend(fields::objects(obj, key).filter_map(|q| fields::text(q, "rrname")));
    }
    indicators.extend(names.into_iter().filter_map(fields::domain_indicator));
    let files = fields::lookup(obj, "fileinfo")
        .and_then(Value::as_object)
        .into_iter()
        .chain(fields::objects(obj, "files"));
    for file in files {
        for key in ["md5", "sha1", "sha256"] {
            indicators.extend(fields::text(file, key).and_then(fields::hash_indicator));
        }
    }

    Ok(Step::Alert(Box::new(Draft {
        observed_at_ms,
        product: "Suricata".to_string(),
        rule_id,
        rule_name,
        severity,
        techniques: fields::lenient_techniques(fields::strings(
            obj,
            "alert.metadata.mitre_technique_id",
        )),
        entities,
        indicators,
        tlp: Tlp::Amber,
        identity,
    })))
}

/// `http.url` is usually a path; join it to the Host header when there is one.
fn url_indicator(url: &str, hostname: Option<&str>, port: Option<i64>) -> Option<Indicator> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Indicator::new(IndicatorKind::Url, url).ok();
    }
    let host = hostname?;
    if !url.starts_with('/') || host.contains(['/', ' ']) {
        return None;
    }
    let host = match fields::ip(host) {
        Some(std::net::IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_string(),
    };
    let full = match port {
        Some(p) if p != 80 && p > 0 && p < 65536 => format!("http://{host}:{p}{url}"),
        _ => format!("http://{host}{url}"),
    };
    Indicator::new(IndicatorKind::Url, &full).ok()
}

#[cfg(test)]
mod tests {
    use super::super::{Parsed, parse_line};
    use crate::soc::alert::{Format, ParseLimits};
    use socfed_proto::vocab::Severity;

    fn parse(line: &str) -> Result<Parsed, super::LineError> {
        parse_line(Format::SuricataEve, line, 0, &ParseLimits::default())
    }

    const GOOD: &str = r#"{"timestamp":"2024-05-28T09:39:37.034492+0000","flow_id":1,"in_iface":"eth0","event_type":"alert","src_ip":"203.0.113.50","src_port":51514,"dest_ip":"192.0.2.10","dest_port":8080,"proto":"TCP","host":"sensor-1","alert":{"action":"allowed","gid":1,"signature_id":2034125,"rev":4,"signature":"ET EXPLOIT Apache HTTP Server 2.4.49 - Path Traversal Attempt (CVE-2021-41773) M2","category":"Attempted Administrator Privilege Gain","severity":1,"metadata":{"mitre_technique_id":["T1190","nonsense"]}},"http":{"hostname":"Portal.Corp.Example","http_port":8080,"url":"/cgi-bin/.%2e/.%2e/bin/sh"},"tls":{"sni":"203.0.113.50"},"dns":{"queries":[{"rrname":"c2.bad.example"}]},"fileinfo":{"md5":"3172ac7e2b55cbb81f04a6e65855a628","sha256":"bad"}}"#;

    #[test]
    fn an_alert_is_mapped() {
        let Ok(Parsed::Alert(a)) = parse(GOOD) else {
            panic!("expected an alert: {:?}", parse(GOOD));
        };
        assert_eq!(a.observed_at_ms, 1_716_889_177_034);
        assert_eq!(a.rule_id, "1:2034125");
        assert!(a.rule_name.starts_with("ET EXPLOIT Apache"));
        assert_eq!(
            (a.severity, a.product.as_str()),
            (Severity::High, "Suricata")
        );
        let t: Vec<_> = a.techniques.iter().map(|t| t.as_str()).collect();
        assert_eq!(t, ["T1190"]);
        assert_eq!(a.entities.ips.len(), 2);
        assert!(a.entities.hosts.is_empty());
        let i: Vec<_> = a.indicators.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            i,
            [
                "ipv4:192.0.2.10",
                "ipv4:203.0.113.50",
                "domain:c2.bad.example",
                "domain:portal.corp.example",
                "url:http://portal.corp.example:8080/cgi-bin/.%2e/.%2e/bin/sh",
                "md5:3172ac7e2b55cbb81f04a6e65855a628",
            ]
        );
    }

    #[test]
    fn identity_is_flow_transaction_rule_and_time() {
        let id = |line: &str| match parse(line) {
            Ok(Parsed::Alert(a)) => a.source_id,
            other => panic!("expected an alert: {other:?}"),
        };
        let same = GOOD.replace(r#""in_iface":"eth0""#, r#""in_iface":"eth1""#);
        assert!(id(GOOD).is_some());
        assert_eq!(id(GOOD), id(&same), "other fields do not name the event");
        for (from, to) in [
            (r#""flow_id":1"#, r#""flow_id":2"#),
            ("09:39:37.034492", "09:39:37.034493"),
            (r#""signature_id":2034125"#, r#""signature_id":2034126"#),
            (r#""flow_id":1,"#, r#""flow_id":1,"tx_id":3,"#),
        ] {
            assert_ne!(id(GOOD), id(&GOOD.replace(from, to)), "{to}");
        }
        // Without a flow id the record itself names the event.
        let bare = GOOD.replace(r#""flow_id":1,"#, "");
        assert_eq!(id(&bare), id(&bare.clone()));
        assert_ne!(id(&bare), id(&bare.replace("eth0", "eth1")));
    }

    #[test]
    fn other_event_types_are_skipped() {
        for t in ["flow", "dns", "stats", "anomaly"] {
            let line = format!(r#"{{"timestamp":"bad","event_type":"{t}"}}"#);
            assert_eq!(
                parse(&line),
                Ok(Parsed::Skipped(format!("event_type {t} is not an alert")))
            );
        }
    }

    #[test]
    fn severity_table_and_signature_only_rules() {
        for (n, want) in [
            (1, Severity::High),
            (2, Severity::Medium),
            (3, Severity::Low),
            (4, Severity::Informational),
            (5, Severity::Informational),
            (255, Severity::Informational),
        ] {
            let line = format!(
                r#"{{"timestamp":"2024-05-28T09:39:37.0-0000","event_type":"alert","alert":{{"signature":"S","severity":{n}}}}}"#
            );
            let Ok(Parsed::Alert(a)) = parse(&line) else {
                panic!("expected an alert for {n}");
            };
            assert_eq!((a.severity, a.rule_id.as_str()), (want, "S"));
        }
    }

    #[test]
    fn each_rejection_names_its_field() {
        let ts = r#""timestamp":"2024-05-28T09:39:37.034492+0000""#;
        let cases = [
            (r#"{"src_ip":"192.0.2.1"}"#.to_string(), "event_type: missing"),
            (format!(r#"{{{ts},"event_type":7}}"#), "event_type: expected a string"),
            (r#"{"event_type":"alert","alert":{"signature_id":1,"severity":1}}"#.into(), "timestamp: missing"),
            (r#"{"timestamp":"28/05/2024","event_type":"alert","alert":{"signature_id":1,"severity":1}}"#.into(), "timestamp: "),
            (format!(r#"{{{ts},"event_type":"alert"}}"#), "alert: missing"),
            (format!(r#"{{{ts},"event_type":"alert","alert":{{"severity":1}}}}"#), "alert.signature_id: missing"),
            (format!(r#"{{{ts},"event_type":"alert","alert":{{"signature_id":"x","severity":1}}}}"#), "alert.signature_id: expected an integer"),
            (format!(r#"{{{ts},"event_type":"alert","alert":{{"signature_id":1}}}}"#), "alert.severity: expected an integer 1-255"),
            (format!(r#"{{{ts},"event_type":"alert","alert":{{"signature_id":1,"severity":0}}}}"#), "alert.severity: expected an integer 1-255"),
            (format!(r#"{{{ts},"event_type":"alert","alert":{{"signature_id":1,"severity":256}}}}"#), "alert.severity: expected an integer 1-255"),
            (format!(r#"{{{ts},"event_type":"alert","alert":{{"signature_id":1,"severity":"high"}}}}"#), "alert.severity: expected an integer 1-255"),
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
