use super::directive::{self, SiteReport};
use super::*;
use socfed_proto::vocab::SiteId;
use std::collections::BTreeMap;
use ulid::Ulid;

fn queued() -> DirectiveRecord {
    DirectiveRecord {
        id: Ulid::from_parts(1, 1),
        expires_at_ms: 5_000,
        ..DirectiveRecord::queued(
            &SiteId::parse("paris").expect("valid"),
            "block_indicator",
            "ir-lead",
            1_000,
        )
    }
}

fn report(state: DirectiveState) -> SiteReport {
    SiteReport {
        state,
        detail: state.to_string(),
        exit_code: None,
        output: String::new(),
        actor: String::new(),
        hits: Vec::new(),
    }
}

#[test]
fn reports_only_move_forward_and_final_states_stick() {
    let mut d = queued();
    assert!(d.apply(report(DirectiveState::Running), 2_000));
    assert!(
        !d.apply(report(DirectiveState::Received), 2_100),
        "late update ignored"
    );
    assert_eq!(d.state, DirectiveState::Running);
    assert!(d.apply(report(DirectiveState::Succeeded), 2_200));
    assert!(
        !d.apply(report(DirectiveState::Failed), 2_300),
        "final is final"
    );
    assert!(
        !d.apply(report(DirectiveState::Succeeded), 2_400),
        "replay changes nothing"
    );
    assert_eq!(d.state, DirectiveState::Succeeded);
    assert_eq!(d.updated_at_ms, 2_200);
}

#[test]
fn queued_directives_past_expiry_show_expired_and_are_sent_until_a_final_report() {
    let mut d = queued();
    assert_eq!(d.effective_state(4_999), DirectiveState::Queued);
    assert_eq!(d.effective_state(5_001), DirectiveState::Expired);
    // Still sent: the site records it as expired (never runs it) and says so.
    assert!(d.needs_sending());
    d.apply(report(DirectiveState::Expired), 6_000);
    assert!(!d.needs_sending());
}

#[test]
fn hunt_progress_tells_offline_from_pending() {
    let mut d = queued();
    d.expires_at_ms = 0;
    assert_eq!(SiteProgress::of(&d, true, 10), SiteProgress::Pending);
    assert_eq!(SiteProgress::of(&d, false, 10), SiteProgress::Offline);
    d.apply(report(DirectiveState::Running), 20);
    assert_eq!(SiteProgress::of(&d, false, 30), SiteProgress::Running);
    d.apply(report(DirectiveState::Succeeded), 40);
    assert_eq!(SiteProgress::of(&d, false, 50), SiteProgress::Done);
}

#[test]
fn operator_kinds_and_params_are_checked() {
    assert!(directive::validate_kind("block_indicator").is_ok());
    for bad in ["", "Block", "rm -rf", "a".repeat(49).as_str()] {
        assert!(
            matches!(directive::validate_kind(bad), Err(ResponseError::Kind(_))),
            "{bad}"
        );
    }
    for reserved in ["task", "ioc_sweep", "incident_relinked"] {
        assert!(matches!(
            directive::validate_kind(reserved),
            Err(ResponseError::ReservedKind(_))
        ));
    }
    let ok: BTreeMap<String, String> = [("indicator".into(), "203.0.113.7".into())].into();
    assert!(directive::validate_params(&ok).is_ok());
    for (name, value) in [
        ("indicator", "--delete-everything"),
        ("indicator", "a\nb"),
        ("Bad-Name", "x"),
    ] {
        let params: BTreeMap<String, String> = [(name.to_string(), value.to_string())].into();
        assert!(
            directive::validate_params(&params).is_err(),
            "{name}={value:?}"
        );
    }
}

#[test]
fn tasks_are_overdue_only_while_unfinished() {
    let mut d = queued();
    d.expires_at_ms = 0;
    d.task = Some(TaskSpec {
        title: "collect logs".into(),
        details: String::new(),
        due_ms: 100,
    });
    assert!(!d.overdue(50));
    assert!(d.overdue(150));
    d.apply(report(DirectiveState::Succeeded), 160);
    assert!(!d.overdue(200));
}
