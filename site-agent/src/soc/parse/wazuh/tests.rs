//! The Wazuh mapping, field by field, and every rejection.

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

/// Sysmon network and process events, a GuardDuty finding (port probe as a list, API
/// call as an object), CloudTrail and file integrity monitoring: the fields that carry
/// indicators become indicators.
#[test]
fn indicator_fields_of_sysmon_cloud_and_fim_alerts_are_read() {
    let cases = [
        (
            r#""data":{"win":{"system":{"computer":"WS-1"},"eventdata":{"image":"C:\\Temp\\x.exe","hashes":"SHA1=0F2B6C4D8E9A1B3C5D7E9F1A2B3C4D5E6F7A8B9C,MD5=3172AC7E2B55CBB81F04A6E65855A628,SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,IMPHASH=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","destinationIp":"203.0.113.9","sourceIp":"192.0.2.14","destinationHostname":"c2.bad.example","user":"CORP\\alice"}}}"#,
            vec![
                "ipv4:192.0.2.14",
                "ipv4:203.0.113.9",
                "domain:c2.bad.example",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "sha1:0f2b6c4d8e9a1b3c5d7e9f1a2b3c4d5e6f7a8b9c",
                "md5:3172ac7e2b55cbb81f04a6e65855a628",
            ],
            vec!["corp\\alice"],
        ),
        (
            r#""data":{"win":{"eventdata":{"queryName":"Paste-Drop.Example","hash":"SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}}}"#,
            vec![
                "domain:paste-drop.example",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ],
            vec![],
        ),
        (
            r#""data":{"aws":{"resource":{"accessKeyDetails":{"userName":"ec2-user"}},"service":{"action":{"portProbeAction":{"portProbeDetails":[{"remoteIpDetails":{"ipAddressV4":"198.51.100.7"}},{"remoteIpDetails":{"ipAddressV4":"198.51.100.8"}}]},"awsApiCallAction":{"remoteIpDetails":{"ipAddressV4":"203.0.113.77"}},"networkConnectionAction":{"localIpDetails":{"ipAddressV4":"10.0.2.2"}}}}}}"#,
            vec![
                "ipv4:198.51.100.7",
                "ipv4:198.51.100.8",
                "ipv4:203.0.113.77",
            ],
            vec!["ec2-user"],
        ),
        (
            r#""data":{"aws":{"sourceIPAddress":"203.0.113.200"},"office365":{"ClientIP":"198.51.100.66"}}"#,
            vec!["ipv4:198.51.100.66", "ipv4:203.0.113.200"],
            vec![],
        ),
        (
            r#""syscheck":{"path":"/etc/passwd","md5_after":"896a6493ad8dd456f9a9d919d9c74a5e","sha1_after":"42b103c8ccf0f552e931159fdccf2072f1444842","sha256_after":"6cadaacded787afb101f14c9b404daed8c8800f19199a31024ce91ea1f26"}"#,
            vec![
                "sha1:42b103c8ccf0f552e931159fdccf2072f1444842",
                "md5:896a6493ad8dd456f9a9d919d9c74a5e",
            ],
            vec![],
        ),
    ];
    for (fields, want, users) in cases {
        let line = format!(
            r#"{{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{{"id":"1","level":5}},{fields}}}"#
        );
        let Ok(Parsed::Alert(a)) = parse(&line) else {
            panic!("expected an alert: {line}");
        };
        let got: Vec<_> = a.indicators.iter().map(|i| i.to_string()).collect();
        assert_eq!(got, want, "{line}");
        assert_eq!(a.entities.users, users, "{line}");
    }
}

#[test]
fn identity_is_manager_and_alert_id() {
    let id = |line: &str| match parse(line) {
        Ok(Parsed::Alert(a)) => a.source_id,
        other => panic!("expected an alert: {other:?}"),
    };
    let with_id = GOOD.replace(r#""location""#, r#""id":"1707399327.1234","location""#);
    assert_eq!(
        id(&with_id),
        id(&with_id.replace("/var/log/auth.log", "/var/log/secure")),
        "the id names the alert"
    );
    assert_ne!(id(&with_id), id(&with_id.replace("1234", "1235")));
    assert_ne!(id(&with_id), id(&with_id.replace("wazuh-manager", "other")));
    // Without an id the record itself names the event.
    assert_ne!(
        id(GOOD),
        id(&GOOD.replace("/var/log/auth.log", "/var/log/secure"))
    );
    assert_eq!(id(GOOD), id(GOOD));
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
        (16, Severity::Critical),
    ] {
        let line =
            format!(r#"{{"timestamp":"2024-02-08T13:35:27Z","rule":{{"id":1,"level":{level}}}}}"#);
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
            "rule.level: expected an integer 0-16",
        ),
        (
            r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"id":"1","level":17}}"#.into(),
            "rule.level: expected an integer 0-16",
        ),
        (
            r#"{"timestamp":"2024-02-08T13:35:27.535+0000","rule":{"id":"1","level":"high"}}"#
                .into(),
            "rule.level: expected an integer 0-16",
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
