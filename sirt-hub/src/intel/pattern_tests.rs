use super::*;
use socfed_proto::vocab::{Indicator, IndicatorKind};

fn ind(kind: IndicatorKind, v: &str) -> Indicator {
    Indicator::new(kind, v).expect("valid test indicator")
}

#[test]
fn or_joined_comparisons_are_several_indicators() {
    let got = comparisons(
        "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'Evil.Example'] OR ([file:hashes.'SHA-256' = 'AB' ])",
    )
    .expect("parses");
    assert_eq!(
        got,
        vec![
            ("ipv4-addr:value".into(), "198.51.100.7".into()),
            ("domain-name:value".into(), "Evil.Example".into()),
            ("file:hashes.'SHA-256'".into(), "AB".into()),
        ]
    );
}

#[test]
fn what_one_indicator_cannot_say_is_refused_with_the_reason() {
    for (pattern, says) in [
        (
            "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']",
            "AND",
        ),
        (
            "[ipv4-addr:value = '1.2.3.4'] AND [url:value = 'http://a.example/']",
            "AND",
        ),
        (
            "[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [url:value = 'http://a.example/']",
            "FOLLOWEDBY",
        ),
        ("[ipv4-addr:value != '1.2.3.4']", "!="),
        ("[domain-name:value LIKE '%.example']", "LIKE"),
        ("[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS", "WITHIN"),
        ("[ipv4-addr:value = 1]", "quoted"),
        ("[ipv4-addr:value = '1.2.3.4'", "expected ]"),
        ("[ipv4-addr:value = 'unterminated]", "not closed"),
        ("ipv4-addr:value = '1.2.3.4'", "observation"),
        ("[ipv4-addr:value = '1.2.3.4'] trailing", "after"),
    ] {
        let err = comparisons(pattern).expect_err(pattern);
        assert!(err.contains(says), "{pattern}: {err}");
    }
    let deep = format!(
        "{}[url:value = 'http://a.example/']{}",
        "(".repeat(40),
        ")".repeat(40)
    );
    assert!(comparisons(&deep).expect_err("deep").contains("nested"));
}

#[test]
fn paths_map_to_the_vocabulary_and_values_are_normalised() {
    assert_eq!(
        indicator("ipv4-addr:value", "198.51.100.7/32"),
        Ok(ind(IndicatorKind::Ipv4, "198.51.100.7"))
    );
    assert_eq!(
        indicator("file:hashes.MD5", &"A".repeat(32)),
        Ok(ind(IndicatorKind::Md5, &"a".repeat(32)))
    );
    assert_eq!(
        indicator("file:hashes.'SHA-1'", &"b".repeat(40)),
        Ok(ind(IndicatorKind::Sha1, &"b".repeat(40)))
    );
    let cidr = indicator("ipv4-addr:value", "198.51.100.0/24").expect_err("a range");
    assert!(cidr.contains("not an IP address"), "{cidr}");
    for path in [
        "user-account:user_id",
        "process:name",
        "file:name",
        "file:hashes.'SHA-512'",
    ] {
        let err = indicator(path, "x").expect_err(path);
        assert!(err.contains("vocabulary"), "{path}: {err}");
    }
}

#[test]
fn every_written_pattern_reads_back_as_its_indicator() {
    for i in [
        ind(IndicatorKind::Ipv4, "203.0.113.9"),
        ind(IndicatorKind::Ipv6, "2001:db8::1"),
        ind(IndicatorKind::Domain, "evil.example"),
        ind(IndicatorKind::Url, "https://evil.example/a'b\\c"),
        ind(IndicatorKind::Email, "x@evil.example"),
        ind(IndicatorKind::Md5, &"c".repeat(32)),
        ind(IndicatorKind::Sha1, &"d".repeat(40)),
        ind(IndicatorKind::Sha256, &"e".repeat(64)),
    ] {
        let p = for_indicator(&i).expect("a pattern");
        let got = comparisons(&p).expect("parses");
        assert_eq!(got.len(), 1, "{p}");
        assert_eq!(indicator(&got[0].0, &got[0].1), Ok(i), "{p}");
    }
    assert_eq!(
        for_indicator(&ind(IndicatorKind::Cve, "CVE-2024-3400")),
        None
    );
}

proptest::proptest! {
    #[test]
    fn any_text_parses_or_is_refused_without_panicking(p in "[\\[\\]()' =a-zA-Z0-9:.\\\\-]{0,80}") {
        let _ = comparisons(&p);
    }
}
