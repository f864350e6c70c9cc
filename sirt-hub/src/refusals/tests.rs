use super::*;

fn refusal(who: &str, api: &str) -> Refusal {
    Refusal {
        action: crate::refusals::ACTION,
        who: who.into(),
        cert: String::new(),
        peer_ip: "192.0.2.7".parse().ok(),
        api: api.into(),
        reason: "no client certificate".into(),
    }
}

fn count(d: &AuditDraft) -> u64 {
    let after: serde_json::Value =
        serde_json::from_str(d.after.as_deref().unwrap_or("{}")).unwrap_or_default();
    after["count"].as_u64().unwrap_or(0)
}

#[test]
fn identical_refusals_are_one_record_then_one_count() {
    let mut c = Coalescer::default();
    let first = c
        .note(refusal("anonymous", "/a"), 1)
        .pop()
        .expect("first is recorded");
    assert_eq!(
        (first.action.as_str(), first.target.as_str(), count(&first)),
        (ACTION, "/a", 1)
    );
    for _ in 0..999 {
        assert!(c.note(refusal("anonymous", "/a"), 2).is_empty());
    }
    let end = c.end_window(3);
    assert_eq!(end.len(), 1);
    assert_eq!(count(&end[0]), 999);
    // A new window records the first again, and a quiet window writes nothing.
    assert!(!c.note(refusal("anonymous", "/a"), 4).is_empty());
    assert!(c.end_window(5).is_empty());
    assert!(c.end_window(6).is_empty());
}

#[test]
fn distinct_keys_are_bounded_per_window_and_summarised() {
    let mut c = Coalescer::default();
    let written = (0..1000)
        .filter(|i| !c.note(refusal(&format!("who-{i}"), "/a"), 1).is_empty())
        .count();
    assert_eq!(written, MAX_RECORDS_PER_WINDOW);
    let end = c.end_window(2);
    assert_eq!(end.len(), 1, "only the summary: {end:?}");
    assert_eq!(count(&end[0]), 900);
    assert_eq!(end[0].actor, "various");
}
