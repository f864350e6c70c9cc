use super::*;
use socfed_proto::vocab::IndicatorKind;

#[test]
fn clean_text_removes_controls_and_bounds_length() {
    assert_eq!(
        clean_text(" a\u{1b}[31mb\r\nc\u{202e} ", 100, false),
        "a [31mb  c"
    );
    assert_eq!(clean_text("a\nb\tc\u{7}", 100, true), "a\nb\tc");
    assert_eq!(clean_text(&"é".repeat(500), 10, false).chars().count(), 10);
}

#[test]
fn a_repeated_indicator_is_one_entry_with_both_techniques() {
    let entry = |t: &str, tlp| IocEntry {
        indicator: Indicator::new(IndicatorKind::Domain, "evil.example").expect("valid"),
        name: String::new(),
        description: String::new(),
        techniques: vec![Technique::parse(t).expect("valid")],
        tlp,
        to_ids: false,
        source_ref: String::new(),
    };
    let mut set = IocSet::default();
    set.push(entry("T1071", Some(Tlp::Green)));
    set.push(entry("T1059", Some(Tlp::Amber)));
    assert_eq!(set.entries.len(), 1);
    assert_eq!(set.entries[0].techniques.len(), 2);
    assert_eq!(set.max_tlp(), Some(Tlp::Amber));
}
