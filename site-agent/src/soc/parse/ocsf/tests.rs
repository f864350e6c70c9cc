//! The OCSF mapping, field by field, and every rejection.

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
    assert_eq!(
        a.entities.ips.len(),
        3,
        "device, resource and the observed address"
    );
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
        (format!(r#"{{"class_uid":2001,{ok_rest}}}"#), "class_uid: 2001 (Security Finding) is not a Detection Finding"),
        (format!(r#"{{"class_uid":2005,{ok_rest}}}"#), "class_uid: 2005 (Incident Finding) is a whole incident"),
        (format!(r#"{{"class_uid":4001,{ok_rest}}}"#), "class_uid: 4001 is not a Detection Finding"),
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

fn alert(line: &str) -> Box<crate::soc::alert::Alert> {
    match parse(line) {
        Ok(Parsed::Alert(a)) => a,
        other => panic!("expected an alert: {other:?}\n{line}"),
    }
}

#[test]
fn findings_that_are_over_are_skipped_with_the_reason() {
    let base =
        r#""class_uid":2004,"time":1717222500000,"severity_id":3,"finding_info":{"uid":"u"}"#;
    for (extra, why) in [
        (r#""activity_id":3"#, "activity_id 3 (Close)"),
        (r#""status_id":3"#, "status_id 3 (Suppressed)"),
        (r#""status_id":4"#, "status_id 4 (Resolved)"),
        (r#""status_id":5"#, "status_id 5 (Archived)"),
        (r#""status_id":6"#, "status_id 6 (Deleted)"),
        (r#""status_code":"PASS""#, "status_code PASS"),
    ] {
        let line = format!("{{{base},{extra}}}");
        match parse(&line) {
            Ok(Parsed::Skipped(reason)) => assert!(reason.starts_with(why), "{reason}"),
            other => panic!("{line}: {other:?}"),
        }
    }
    for extra in [
        r#""activity_id":1,"status_id":1"#,
        r#""activity_id":2,"status_id":2"#,
        r#""status_code":"FAIL""#,
        r#""status_id":99"#,
    ] {
        alert(&format!("{{{base},{extra}}}"));
    }
    let err = parse(&format!(r#"{{{base},"status_id":"4"}}"#)).expect_err("text status");
    assert!(err.0.starts_with("status_id: expected an integer"), "{err}");
}

#[test]
fn evidences_map_to_entities_and_indicators() {
    let line = r#"{"class_uid":2004,"time":1717222500000,"severity_id":4,"finding_info":{"uid":"u"},"evidences":[{"src_endpoint":{"ip":"203.0.113.9","hostname":"c2.bad.example"},"dst_endpoint":{"ip":"192.0.2.14","domain":"corp.example"},"device":{"hostname":"WS-7","ip":"192.0.2.7"},"actor":{"user":{"name":"Alice"}},"process":{"file":{"hashes":[{"algorithm_id":3,"value":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}]}},"file":{"hashes":[{"value":"3172ac7e2b55cbb81f04a6e65855a628"}]},"url":{"url_string":"https://c2.bad.example/p"},"query":{"hostname":"dns.bad.example"},"email":{"from":"x@phish.example"}},{"user":{"name":"bob"}}],"observables":[{"name":"device.hostname","type_id":1,"value":"ws-9"},{"name":"device.ip","type_id":2,"value":"192.0.2.9"},{"name":"src_endpoint.ip","type_id":2,"value":"198.51.100.7"}]}"#;
    let a = alert(line);
    assert_eq!(a.entities.hosts, ["ws-7", "ws-9"]);
    assert_eq!(a.entities.users, ["alice", "bob"]);
    let ips: Vec<String> = a.entities.ips.iter().map(|i| i.to_string()).collect();
    assert_eq!(
        ips,
        [
            "192.0.2.7",
            "192.0.2.9",
            "192.0.2.14",
            "198.51.100.7",
            "203.0.113.9"
        ]
    );
    let i: Vec<_> = a.indicators.iter().map(|i| i.to_string()).collect();
    assert_eq!(
        i,
        [
            "ipv4:192.0.2.14",
            "ipv4:198.51.100.7",
            "ipv4:203.0.113.9",
            "domain:c2.bad.example",
            "domain:corp.example",
            "domain:dns.bad.example",
            "url:https://c2.bad.example/p",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "md5:3172ac7e2b55cbb81f04a6e65855a628",
            "email:x@phish.example",
        ]
    );
}

/// A cloud posture finding as Prowler writes it: the affected resources are the assets.
#[test]
fn cloud_resources_are_the_assets() {
    let line = r#"{"class_uid":2004,"activity_id":1,"status_id":1,"status_code":"FAIL","time":1739539623,"severity_id":2,"metadata":{"event_code":"iam_root_mfa","product":{"name":"Prowler"}},"finding_info":{"uid":"prowler-aws-iam_root_mfa-123456789012","title":"Root MFA"},"cloud":{"account":{"uid":"123456789012"},"region":"eu-west-1"},"resources":[{"uid":"arn:aws:iam::123456789012:root","name":"123456789012"},{"uid":"arn:aws:iam::123456789012:user/ops/carol"},{"uid":"arn:aws:s3:::audit-logs","name":"audit-logs"},{"name":"i-0abc"}]}"#;
    let a = alert(line);
    assert_eq!(a.entities.hosts, ["arn:aws:s3:::audit-logs", "i-0abc"]);
    assert_eq!(a.entities.users, ["carol", "root"]);
}

#[test]
fn identity_is_the_event_uid_else_the_finding_at_its_time_and_state() {
    let id = |line: &str| alert(line).source_id;
    let base = r#"{"class_uid":2004,"time":1717222500000,"severity_id":3,"activity_id":1,"metadata":{"event_code":"chk"},"finding_info":{"uid":"f-1"}}"#;
    assert!(id(base).is_some());
    assert_eq!(
        id(base),
        id(&base.replace(r#""severity_id":3"#, r#""severity_id":4"#))
    );
    for (from, to) in [
        ("f-1", "f-2"),
        ("1717222500000", "1717222600000"),
        (r#""activity_id":1"#, r#""activity_id":2"#),
        (r#""event_code":"chk""#, r#""event_code":"chk2""#),
    ] {
        assert_ne!(id(base), id(&base.replace(from, to)), "{to}");
    }
    let with_uid = base.replace(
        r#""event_code":"chk""#,
        r#""event_code":"chk","uid":"evt-9""#,
    );
    assert_eq!(
        id(&with_uid),
        id(&with_uid.replace("1717222500000", "1717222600000")),
        "metadata.uid alone names the event"
    );
}
