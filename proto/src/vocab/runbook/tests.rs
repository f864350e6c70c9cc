//! Runbooks: parsing, bounds, versions, matching order and hostile Markdown.

use super::*;
use crate::vocab::Technique;

const BODY: &str = "# Encoded PowerShell\n\nCheck the host first.\n\n- [ ] Isolate the host\n- [x] Pull the **process tree**\n- a note, not a step\n\n1. [ ] Reset the user's password\n";

fn criteria(rules: &[&str], techniques: &[&str], kinds: &[&str], min: Option<&str>) -> Criteria {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let min = min.map(|w| min_severity(w).expect("severity"));
    Criteria::parse(&s(rules), &s(techniques), &s(kinds), min).expect("criteria")
}

fn runbook(n: u128, c: Criteria) -> Runbook {
    let draft = Draft::from_markdown(BODY, c).expect("draft");
    Runbook::first(Ulid::from(n), Origin::Hub, draft, "erin", 1)
}

#[test]
fn steps_are_checklist_items_numbered_in_order() {
    assert_eq!(
        steps(BODY),
        vec![
            "Isolate the host",
            "Pull the process tree",
            "Reset the user's password"
        ]
    );
    let blocks = render(BODY);
    assert!(blocks.contains(&Block::Item {
        spans: vec![Span {
            text: "a note, not a step".into(),
            style: SpanStyle::Plain,
            href: None
        }]
    }));
    let draft = Draft::from_markdown(BODY, criteria(&["r1"], &[], &[], None)).expect("draft");
    assert_eq!(draft.title, "Encoded PowerShell");
}

#[test]
fn bounds_are_refused_not_clamped() {
    let c = || criteria(&["r1"], &[], &[], None);
    assert!(Draft::from_markdown("no title line\n- [ ] x", c()).is_err());
    let long = format!("# t\n{}", "x".repeat(MAX_BODY_BYTES));
    assert!(Draft::from_markdown(&long, c()).is_err());
    let many = format!("# t\n{}", "- [ ] s\n".repeat(MAX_STEPS + 1));
    assert_eq!(
        Draft::from_markdown(&many, c()).expect_err("steps").field,
        "body"
    );
    let escape = "# t\n- [ ] run \x1b]52;c;aWQ=\x07 now";
    let err = Draft::from_markdown(escape, c()).expect_err("terminal escape");
    assert!(!err.to_string().contains('\x1b'));
    assert!(
        Criteria::parse(&[], &[], &[], None).is_err(),
        "names something"
    );
    for bad in [
        "",
        "*",
        "a*b*",
        "two words",
        &"r".repeat(MAX_RULE_BYTES + 1),
    ] {
        assert!(RulePattern::parse(bad).is_err(), "{bad:?}");
    }
    let too_many: Vec<String> = (0..=MAX_CRITERIA).map(|i| format!("r{i}")).collect();
    assert!(Criteria::parse(&too_many, &[], &[], None).is_err());
    assert!(Criteria::parse(&[], &["T99".into()], &[], None).is_err());
    assert!(Criteria::parse(&[], &[], &["ransomware".into()], None).is_err());
    assert!(min_severity("severe").is_err());
    let floor = Criteria::parse(&[], &[], &[], Some(Severity::High)).expect("a floor alone");
    let wire = Runbook::first(
        Ulid::from(9u128),
        Origin::Hub,
        Draft::from_markdown(BODY, floor).expect("d"),
        "erin",
        2,
    );
    assert_eq!(Runbook::from_wire(wire.to_wire()), Ok(wire.clone()));
    let mut hostile = wire.to_wire();
    hostile.title = "x\x1b[2J".into();
    assert!(Runbook::from_wire(hostile).is_err());
    let mut hostile = wire.to_wire();
    hostile.author = "<b>".into();
    assert!(Runbook::from_wire(hostile).is_err());
}

#[test]
fn every_edit_is_a_new_version_and_retired_takes_no_more() {
    let first = runbook(1, criteria(&["r1"], &[], &[], None));
    let draft =
        Draft::from_markdown("# Two\n- [ ] a", criteria(&["r2"], &[], &[], None)).expect("draft");
    let second = first.edited(draft.clone(), "fay", 5).expect("edit");
    assert_eq!((second.version, second.title.as_str()), (2, "Two"));
    assert_eq!((second.id, second.author.as_str()), (first.id, "fay"));
    let retired = second.retire("fay", 6).expect("retire");
    assert_eq!((retired.version, retired.retired), (3, true));
    assert_eq!(
        retired.edited(draft, "fay", 7),
        Err(Refusal::Retired(first.id))
    );
    assert!(retired.check().is_ok());
    let mut last = first.clone();
    last.version = MAX_VERSIONS;
    assert!(matches!(
        last.retire("fay", 8),
        Err(Refusal::TooManyVersions(_))
    ));
}

#[test]
fn matching_needs_every_named_dimension_and_orders_most_specific_first() {
    let t = |s: &str| Technique::parse(s).expect("technique");
    let exact = runbook(5, criteria(&["hunt:42"], &[], &[], None));
    let prefix = runbook(4, criteria(&["hunt:*"], &[], &[], None));
    let technique = runbook(3, criteria(&[], &["T1059"], &[], None));
    let sub_exact = runbook(2, criteria(&[], &["T1059.001"], &[], None));
    let severe = runbook(1, criteria(&[], &[], &[], Some("high")));
    let incidents_only = runbook(6, criteria(&["hunt:*"], &[], &["local-incident"], None));
    let mut retired = runbook(7, criteria(&["hunt:42"], &[], &[], None));
    retired.retired = true;
    let all = [
        &severe,
        &sub_exact,
        &technique,
        &prefix,
        &exact,
        &incidents_only,
        &retired,
    ];
    let rules = vec!["hunt:42".to_string()];
    let techniques = vec![t("T1059.001")];
    let subject = Subject {
        kind: SubjectKind::AlertGroup,
        rule_ids: &rules,
        techniques: &techniques,
        severity: Severity::High,
    };
    let ids: Vec<u128> = matching(all, &subject).iter().map(|r| r.id.0).collect();
    assert_eq!(ids, vec![5, 4, 2, 3, 1]);
    // A local incident also gets the incidents-only runbook; a low one loses the floor.
    let low = Subject {
        kind: SubjectKind::LocalIncident,
        severity: Severity::Low,
        ..subject
    };
    let ids: Vec<u128> = matching(all, &low).iter().map(|r| r.id.0).collect();
    assert_eq!(ids, vec![5, 6, 4, 2, 3]);
    // A parent technique's runbook does not match a different sub-technique's sibling id.
    let other = [t("T1059"), t("T1058.001")];
    let none = Subject {
        rule_ids: &[],
        techniques: &other[1..],
        ..subject
    };
    assert!(matching([&technique, &sub_exact], &none).is_empty());
    let parent = Subject {
        rule_ids: &[],
        techniques: &other[..1],
        ..subject
    };
    assert_eq!(matching([&technique, &sub_exact], &parent).len(), 1);
}

#[test]
fn hostile_markdown_keeps_no_markup_no_script_link_no_image() {
    let hostile = "# t\n<script>alert(1)</script>\n\n- [ ] see [docs](javascript:alert(1)) and [ok](https://wiki.example/ir)\n- [ ] ![x](https://evil.example/p.png) <img src=x onerror=alert(1)>\n\n[raw](HTTPS://wiki.example/a b)\n";
    let blocks = render(hostile);
    let spans: Vec<&Span> = blocks
        .iter()
        .flat_map(|b| match b {
            Block::Heading { spans, .. }
            | Block::Paragraph { spans }
            | Block::Item { spans }
            | Block::Step { spans, .. } => spans.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect();
    let hrefs: Vec<&str> = spans.iter().filter_map(|s| s.href.as_deref()).collect();
    assert_eq!(hrefs, vec!["https://wiki.example/ir"]);
    // Raw HTML survives only as text (the surfaces escape it).
    assert!(
        spans.iter().any(|s| s.text.contains("<script>")),
        "{blocks:?}"
    );
    assert_eq!(
        steps(hostile),
        vec![
            "see docs and ok <https://wiki.example/ir>",
            "x <img src=x onerror=alert(1)>"
        ]
    );
}

#[test]
fn progress_counts_ticks_within_the_checklist() {
    let mut p = Progress::default();
    p.set(3, true, 7).expect("tick");
    p.set(1, true, 7).expect("tick");
    p.set(1, true, 7).expect("again");
    assert_eq!(p.done, vec![1, 3]);
    assert_eq!(p.summary(7), "2/7");
    p.set(3, false, 7).expect("untick");
    assert_eq!(p.summary(7), "1/7");
    assert!(p.set(8, true, 7).is_err());
    assert!(p.set(0, true, 7).is_err());
    p.set(7, true, 7).expect("tick");
    assert_eq!(
        p.summary(3),
        "1/3",
        "ticks past a shorter version do not count"
    );
    let lines = text_lines(&render(BODY), |n| p.is_done(n));
    assert!(
        lines.contains(&"  [x] 1. Isolate the host".to_string()),
        "{lines:?}"
    );
}
