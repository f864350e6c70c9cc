use super::*;
use crate::intel::{IocEntry, import};
use socfed_proto::vocab::IndicatorKind;

fn ind(kind: IndicatorKind, v: &str) -> Indicator {
    Indicator::new(kind, v).expect("valid test indicator")
}

/// A two-site incident with hostile text from a site, AMBER, one indicator marked GREEN.
pub(crate) fn two_site_incident() -> ExportInput {
    let ip = ind(IndicatorKind::Ipv4, "198.51.100.7");
    let domain = ind(IndicatorKind::Domain, "c2.evil.example");
    let cve = ind(IndicatorKind::Cve, "CVE-2024-3400");
    ExportInput {
        id: "01JCJ0000000000000000000AB".into(),
        title: "Beacon \"quoted\"\nline\u{1b}[31m".into(),
        status: "containment".into(),
        severity: Severity::High,
        priority: "P1".into(),
        tlp: Tlp::Amber,
        ir_lead: Some("alice".into()),
        resolution: String::new(),
        techniques: vec![Technique::parse("T1071").expect("valid")],
        created_at_ms: 1_780_000_000_000,
        updated_at_ms: 1_780_000_600_000,
        indicators: vec![
            MarkedIndicator {
                indicator: ip.clone(),
                tlp: Tlp::Green,
            },
            MarkedIndicator {
                indicator: domain.clone(),
                tlp: Tlp::Amber,
            },
            MarkedIndicator {
                indicator: cve.clone(),
                tlp: Tlp::Amber,
            },
        ],
        sites: vec![
            SiteSighting {
                site: "paris".into(),
                first_seen_ms: 1_780_000_000_000,
                last_seen_ms: 1_780_000_300_000,
                count: 2,
                indicators: vec![ip.clone(), domain.clone(), cve],
            },
            SiteSighting {
                site: "lyon".into(),
                first_seen_ms: 1_780_000_100_000,
                last_seen_ms: 1_780_000_200_000,
                count: 1,
                indicators: vec![ip],
            },
        ],
        notes: vec![
            ExportNote {
                author: "nora".into(),
                at_ms: 1_780_000_400_000,
                text: "Blocked at the proxy".into(),
                tlp: Tlp::Green,
            },
            ExportNote {
                author: "nora".into(),
                at_ms: 1_780_000_500_000,
                text: "Insider suspected \"bob\"\nsee HR".into(),
                tlp: Tlp::Amber,
            },
        ],
    }
}

fn all_formats(input: &ExportInput, tlp_max: Tlp) -> Vec<Export> {
    Format::ALL
        .into_iter()
        .map(|f| incident(input, f, tlp_max, &Producer::default()))
        .collect()
}

#[test]
fn nothing_above_the_audience_tlp_leaves_in_any_format() {
    let input = two_site_incident();
    for e in all_formats(&input, Tlp::Green) {
        let text = e.to_json();
        assert_eq!(e.label, Tlp::Green);
        for secret in [
            "Insider suspected",
            "c2.evil.example",
            "CVE-2024-3400",
            "Beacon",
            "paris",
            "lyon",
            "alice",
            "T1071",
        ] {
            assert!(!text.contains(secret), "{:?} carries {secret}", e.format);
        }
        assert!(
            text.contains("198.51.100.7"),
            "{:?} lost the GREEN indicator",
            e.format
        );
        assert!(
            !text.to_ascii_lowercase().contains("amber"),
            "{:?} marked amber",
            e.format
        );
        assert_eq!(e.withheld.len(), 3, "{:?}", e.withheld);
    }
    for e in all_formats(&input, Tlp::Amber) {
        let text = e.to_json();
        for fact in [
            "c2.evil.example",
            "CVE-2024-3400",
            "paris",
            "lyon",
            "T1071",
            "Insider suspected",
        ] {
            assert!(text.contains(fact), "{:?} lacks {fact}", e.format);
        }
        // STIX's incident object has no assignee; OCSF and MISP name the IR lead.
        assert_eq!(
            text.contains("alice"),
            e.format == Format::Ocsf,
            "{:?}",
            e.format
        );
        assert!(e.withheld.is_empty());
    }
    let clear = redact(&input, Tlp::Clear);
    assert!(clear.input.indicators.is_empty());
    assert!(clear.input.sites.iter().all(|s| s.indicators.is_empty()));
}

#[test]
fn hostile_text_from_a_site_stays_escaped_json() {
    for e in all_formats(&two_site_incident(), Tlp::Red) {
        let text = e.to_json();
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, e.document);
        assert!(!text.contains('\u{1b}'), "{:?}: a raw escape", e.format);
        assert!(
            text.contains("\\\"quoted\\\"\\nline\\u001b[31m"),
            "{:?}",
            e.format
        );
    }
}

#[test]
fn re_exports_name_every_object_the_same() {
    let input = two_site_incident();
    for f in Format::ALL {
        let a = incident(&input, f, Tlp::Amber, &Producer::default());
        let b = incident(&input, f, Tlp::Amber, &Producer::default());
        assert_eq!(a.document, b.document, "{f:?}");
    }
    let doc = incident(&input, Format::Stix, Tlp::Amber, &Producer::default()).document;
    let objects = doc["objects"].as_array().expect("objects");
    let count = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
    assert_eq!(count("identity"), 3, "the SIRT and two sites");
    assert_eq!(count("incident"), 1);
    assert_eq!(count("indicator"), 2);
    assert_eq!(count("vulnerability"), 1);
    assert_eq!(count("observed-data"), 2);
    assert_eq!(count("sighting"), 4, "paris: 3, lyon: 1");
    assert_eq!(count("marking-definition"), 2, "green and amber");
    assert_eq!(count("note"), 2);
    let ids: std::collections::BTreeSet<&str> =
        objects.iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!(ids.len(), objects.len(), "ids are unique");
}

#[test]
fn an_ioc_set_exported_as_stix_imports_back_whole() {
    let entries: Vec<IocEntry> = [
        (ind(IndicatorKind::Ipv4, "203.0.113.9"), Some(Tlp::Green)),
        (ind(IndicatorKind::Ipv6, "2001:db8::5"), None),
        (
            ind(IndicatorKind::Domain, "x.evil.example"),
            Some(Tlp::AmberStrict),
        ),
        (
            ind(IndicatorKind::Url, "https://evil.example/a'b"),
            Some(Tlp::Red),
        ),
        (
            ind(IndicatorKind::Email, "a@evil.example"),
            Some(Tlp::Clear),
        ),
        (ind(IndicatorKind::Md5, &"1".repeat(32)), Some(Tlp::Amber)),
        (ind(IndicatorKind::Sha1, &"2".repeat(40)), Some(Tlp::Amber)),
        (
            ind(IndicatorKind::Sha256, &"3".repeat(64)),
            Some(Tlp::Amber),
        ),
        (ind(IndicatorKind::Cve, "CVE-2024-3400"), Some(Tlp::Amber)),
    ]
    .into_iter()
    .map(|(indicator, tlp)| IocEntry {
        name: if indicator.kind() == IndicatorKind::Cve {
            indicator.value().to_string()
        } else {
            format!("hunt {indicator}")
        },
        description: "line one\nline \"two\"".into(),
        techniques: vec![Technique::parse("T1566.001").expect("valid")],
        tlp,
        to_ids: true,
        source_ref: String::new(),
        indicator,
    })
    .collect();
    let bundle = ioc_set_bundle(
        "hunt-7",
        &entries,
        Tlp::Amber,
        1_780_000_000_000,
        &Producer::default(),
    );
    let set = import::stix_bundle(bundle.to_string().as_bytes()).expect("imports");
    assert!(set.refused.is_empty(), "{:?}", set.refused);
    assert_eq!(set.entries.len(), entries.len());
    for (back, sent) in set.entries.iter().zip(&entries) {
        assert_eq!(back.indicator, sent.indicator);
        assert_eq!(back.name, sent.name);
        assert_eq!(back.description, sent.description);
        assert_eq!(back.techniques, sent.techniques);
        assert_eq!(
            back.tlp,
            Some(sent.tlp.unwrap_or(Tlp::Amber)),
            "{}",
            sent.indicator
        );
    }
}

#[test]
fn a_misp_export_imports_back_as_its_indicators() {
    let input = two_site_incident();
    let e = incident(&input, Format::Misp, Tlp::Amber, &Producer::default());
    let set = import::misp_event(e.to_json().as_bytes()).expect("imports");
    let got: Vec<&Indicator> = set.entries.iter().map(|e| &e.indicator).collect();
    let want: Vec<&Indicator> = input.indicators.iter().map(|m| &m.indicator).collect();
    assert_eq!(got, want);
    assert_eq!(set.entries[0].tlp, Some(Tlp::Green));
    assert_eq!(set.entries[1].techniques, input.techniques);
}
