use super::directive::{DirectiveRecord, DirectiveState, KIND_SWEEP};
use super::retention::{Selection, cutoff, prunable, select};
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

const DAY: i64 = 86_400_000;

/// A directive issued at `issued` (its id carries that time), last updated at `updated`.
fn directive(issued: i64, n: u128, state: DirectiveState, updated: i64) -> DirectiveRecord {
    DirectiveRecord {
        id: Ulid::from_parts(u64::try_from(issued).expect("positive"), n),
        state,
        updated_at_ms: updated,
        ..DirectiveRecord::queued(
            &SiteId::parse("paris").expect("valid"),
            "block_indicator",
            "ines",
            issued,
        )
    }
}

#[test]
fn only_final_directives_finished_by_the_cutoff_go() {
    let cut = cutoff(100 * DAY, 90 * DAY);
    assert_eq!(cut, 10 * DAY);
    for state in [
        DirectiveState::Succeeded,
        DirectiveState::Failed,
        DirectiveState::Refused,
        DirectiveState::Expired,
        DirectiveState::Interrupted,
        DirectiveState::DryRun,
    ] {
        assert!(prunable(&directive(DAY, 1, state, cut), cut), "{state}");
        assert!(
            !prunable(&directive(DAY, 1, state, cut + 1), cut),
            "{state}"
        );
    }
    for state in [
        DirectiveState::Queued,
        DirectiveState::Received,
        DirectiveState::Acknowledged,
        DirectiveState::AwaitingApproval,
        DirectiveState::Running,
    ] {
        assert!(!prunable(&directive(DAY, 1, state, DAY), cut), "{state}");
    }
}

#[test]
fn a_hunts_sweep_stays_but_a_task_from_a_hunt_goes() {
    let cut = 10 * DAY;
    let sweep = DirectiveRecord {
        kind: KIND_SWEEP.into(),
        hunt: Some(Ulid::from_parts(1, 9)),
        ..directive(DAY, 1, DirectiveState::Succeeded, DAY)
    };
    assert!(!prunable(&sweep, cut));
    let task = DirectiveRecord {
        hunt: Some(Ulid::from_parts(1, 9)),
        ..directive(DAY, 2, DirectiveState::Succeeded, DAY)
    };
    assert!(prunable(&task, cut));
}

#[test]
fn the_walk_stops_at_the_first_directive_issued_after_the_cutoff() {
    let cut = 10 * DAY;
    let window = [
        directive(DAY, 1, DirectiveState::Succeeded, 2 * DAY),
        directive(2 * DAY, 1, DirectiveState::Running, 2 * DAY),
        // Issued before the cutoff, finished after it: kept, the walk goes on.
        directive(3 * DAY, 1, DirectiveState::Failed, 11 * DAY),
        directive(4 * DAY, 1, DirectiveState::Expired, 5 * DAY),
        directive(11 * DAY, 1, DirectiveState::Succeeded, 11 * DAY),
        directive(12 * DAY, 1, DirectiveState::Succeeded, 12 * DAY),
    ];
    let later = Some(Ulid::from_parts(13 * DAY as u64, 1));
    assert_eq!(
        select(&window, later, cut, 100),
        Selection {
            prune: vec![window[0].id, window[3].id],
            resume_from: None,
        }
    );
}

#[test]
fn a_full_step_resumes_where_it_stopped() {
    let cut = 10 * DAY;
    let window: Vec<_> = (1..=5)
        .map(|n| directive(DAY, n, DirectiveState::Succeeded, DAY))
        .collect();
    assert_eq!(
        select(&window, None, cut, 2),
        Selection {
            prune: vec![window[0].id, window[1].id],
            resume_from: Some(window[2].id),
        }
    );
    // The window ended before the cutoff and the tree holds more: go on from there.
    let next = Ulid::from_parts(2 * DAY as u64, 1);
    assert_eq!(
        select(&window, Some(next), cut, 100).resume_from,
        Some(next)
    );
    // The next one is past the cutoff, or there is none: the pass is done.
    let past = Ulid::from_parts(11 * DAY as u64, 1);
    assert_eq!(select(&window, Some(past), cut, 100).resume_from, None);
    assert_eq!(select(&window, None, cut, 100).resume_from, None);
    assert_eq!(select(&[], None, cut, 100), Selection::default());
}
