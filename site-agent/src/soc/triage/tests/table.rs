//! The state × action table: every status, every action, at Tier 1 and Tier 4.

use super::*;

type Outcome = Option<(StatusKind, u8)>;
const fn ok(status: StatusKind, tier: u8) -> Outcome {
    Some((status, tier))
}
const ERR: Outcome = None;

/// Every status × every action, for a group at Tier 1 and at Tier 4: the resulting status and
/// tier, or `ERR`. Written out by hand; the test checks it covers every pair exactly once.
#[rustfmt::skip]
const TABLE: &[(StatusKind, ActionKind, [Outcome; 2])] = {
    use ActionKind::*;
    use StatusKind::*;
    &[
        //                            at Tier 1              at Tier 4
        (New,          Acknowledge, [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (New,          Assign,      [ok(New, 1),          ok(New, 4)]),
        (New,          Unassign,    [ok(New, 1),          ok(New, 4)]),
        (New,          Comment,     [ok(New, 1),          ok(New, 4)]),
        (New,          Escalate,    [ok(New, 2),          ok(New, 4)]),
        (New,          SlaBreach,   [ok(New, 2),          ok(New, 4)]),
        (New,          Close,       [ok(Closed, 1),       ok(Closed, 4)]),
        (New,          Promote,     [ok(Promoted, 1),     ok(Promoted, 4)]),
        (New,          Reopen,      [ERR,                 ERR]),
        (Acknowledged, Acknowledge, [ERR,                 ERR]),
        (Acknowledged, Assign,      [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Acknowledged, Unassign,    [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Acknowledged, Comment,     [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Acknowledged, Escalate,    [ok(New, 2),          ok(Acknowledged, 4)]),
        (Acknowledged, SlaBreach,   [ok(New, 2),          ok(Acknowledged, 4)]),
        (Acknowledged, Close,       [ok(Closed, 1),       ok(Closed, 4)]),
        (Acknowledged, Promote,     [ok(Promoted, 1),     ok(Promoted, 4)]),
        (Acknowledged, Reopen,      [ERR,                 ERR]),
        (Closed,       Acknowledge, [ERR,                 ERR]),
        (Closed,       Assign,      [ERR,                 ERR]),
        (Closed,       Unassign,    [ERR,                 ERR]),
        (Closed,       Comment,     [ok(Closed, 1),       ok(Closed, 4)]),
        (Closed,       Escalate,    [ERR,                 ERR]),
        (Closed,       SlaBreach,   [ERR,                 ERR]),
        (Closed,       Close,       [ERR,                 ERR]),
        (Closed,       Promote,     [ERR,                 ERR]),
        (Closed,       Reopen,      [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Promoted,     Acknowledge, [ERR,                 ERR]),
        (Promoted,     Assign,      [ERR,                 ERR]),
        (Promoted,     Unassign,    [ERR,                 ERR]),
        (Promoted,     Comment,     [ok(Promoted, 1),     ok(Promoted, 4)]),
        (Promoted,     Escalate,    [ERR,                 ERR]),
        (Promoted,     SlaBreach,   [ERR,                 ERR]),
        (Promoted,     Close,       [ERR,                 ERR]),
        (Promoted,     Promote,     [ERR,                 ERR]),
        (Promoted,     Reopen,      [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
    ]
};

#[test]
fn every_status_and_action_at_tiers_1_and_4_matches_the_table() {
    let now = T0 + 60_000;
    for status in StatusKind::ALL {
        for action_kind in ActionKind::ALL {
            let rows: Vec<_> = TABLE
                .iter()
                .filter(|(s, a, _)| *s == status && *a == action_kind)
                .collect();
            assert_eq!(rows.len(), 1, "table rows for {status:?} × {action_kind:?}");
            for (column, tier) in [1u8, 4].into_iter().enumerate() {
                let expected = rows[0].2[column];
                let state = sample_state(status, tier);
                let action = sample_action(action_kind);
                let case = format!("{status:?} × {action_kind:?} at tier {tier}");
                match (apply(&state, &action, now), expected) {
                    (Ok((next, _)), Some((want_status, want_tier))) => {
                        assert_eq!(next.status.kind(), want_status, "{case}");
                        assert_eq!(next.tier.number(), want_tier, "{case}");
                    }
                    (Err(err), None) => {
                        let message = err.to_string();
                        assert!(
                            message.contains(&format!("cannot {action_kind}")),
                            "{case}: {message}"
                        );
                        assert!(message.contains(&status.to_string()), "{case}: {message}");
                    }
                    (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
                }
            }
        }
    }
    assert_eq!(TABLE.len(), StatusKind::ALL.len() * ActionKind::ALL.len());
}

#[test]
fn kind_lists_name_every_variant_once() {
    // The exhaustive matches make a new variant a compile error here until it is listed.
    fn status_index(kind: StatusKind) -> usize {
        match kind {
            StatusKind::New => 0,
            StatusKind::Acknowledged => 1,
            StatusKind::Closed => 2,
            StatusKind::Promoted => 3,
        }
    }
    fn action_index(kind: ActionKind) -> usize {
        match kind {
            ActionKind::Acknowledge => 0,
            ActionKind::Assign => 1,
            ActionKind::Unassign => 2,
            ActionKind::Comment => 3,
            ActionKind::Escalate => 4,
            ActionKind::SlaBreach => 5,
            ActionKind::Close => 6,
            ActionKind::Promote => 7,
            ActionKind::Reopen => 8,
        }
    }
    for (i, kind) in StatusKind::ALL.into_iter().enumerate() {
        assert_eq!(status_index(kind), i);
    }
    for (i, kind) in ActionKind::ALL.into_iter().enumerate() {
        assert_eq!(action_index(kind), i);
        assert_eq!(sample_action(kind).kind(), kind);
    }
}
