//! Range checks of site messages, and the writer they protect, driven with a real store.

use super::*;
use crate::ingest::apply::{Item, Outcome};

fn escalation_with(seq: u64, dropped_before: u64) -> pb::Escalation {
    pb::Escalation {
        seq,
        dropped_before,
        enqueued_at_ms: 1,
        report: None,
    }
}

#[test]
fn numbers_out_of_range_are_refused_with_the_field_named() {
    let limits = ReportLimits::default();
    for (seq, dropped) in [(u64::MAX, u64::MAX - 1), (bounds::MAX_SEQ + 1, 0)] {
        let refused = escalation(escalation_with(seq, dropped), &limits).expect_err("range");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("escalation.seq"), "{refused:?}");
    }
    assert!(
        escalation(
            escalation_with(bounds::MAX_SEQ, bounds::MAX_SEQ - 1),
            &limits
        )
        .is_ok()
    );
    let mut far = escalation_with(1, 0);
    far.enqueued_at_ms = i64::MIN;
    assert!(escalation(far, &limits).is_err());
    let huge = pb::SiteStatus {
        refused_total: u64::MAX,
        ..Default::default()
    };
    let refused = status(huge).expect_err("count");
    assert!(
        refused.message().contains("status.refused_total"),
        "{refused:?}"
    );
    let age = pb::SiteStatus {
        oldest_unsent_age_ms: u64::MAX,
        ..Default::default()
    };
    assert!(status(age).is_err());
}

#[test]
fn a_hello_names_the_last_incident_state_within_the_sequence_range() {
    let site = SiteId::parse("paris").expect("site");
    let hello_with = |after: Option<u64>| {
        Some(pb::SiteMessage {
            body: Some(site_message::Body::Hello(pb::Hello {
                site_id: "paris".into(),
                store_epoch: vec![7; 16],
                next_seq: 1,
                agent_version: String::new(),
                incident_states_after: after,
                runbooks_after: after,
            })),
        })
    };
    for after in [None, Some(0), Some(1), Some(bounds::MAX_SEQ)] {
        let checked = hello(hello_with(after), &site).expect("accepted");
        assert_eq!(checked.incident_states_after, after);
        assert_eq!(checked.runbooks_after, after);
    }
    let refused = hello(hello_with(Some(u64::MAX)), &site).expect_err("range");
    assert!(
        refused.message().contains("hello.incident_states_after"),
        "{refused:?}"
    );
}

#[test]
fn the_writer_itself_never_overflows_even_on_unchecked_input() {
    // Defence in depth: the checks above keep such a sequence out, but the writer's own
    // arithmetic must hold without them (this used to panic in the catch-up).
    let dir = tempfile::tempdir().expect("temp dir");
    let store = crate::store::HubStore::open(
        dir.path(),
        crate::store::Durability::Flush,
        socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
    )
    .expect("store");
    let item = Item::Escalation {
        site: SiteId::parse("paris").expect("site"),
        epoch: Ulid::from_parts(1, 1),
        seq: u64::MAX,
        dropped_before: u64::MAX - 1,
        enqueued_at_ms: 1,
        offered: Offered::Invalid {
            wire: pb::IncidentReport::default(),
            reason: "test".into(),
        },
    };
    let applied = crate::ingest::apply::apply(&store, &[item], 1, 1).expect("applied");
    assert!(matches!(
        applied.outcomes.as_slice(),
        [Outcome::Escalation {
            acked_through: u64::MAX,
            ..
        }]
    ));
}

#[test]
fn the_writer_never_wraps_the_acknowledgement_mark() {
    // Drives the real store: the highest sequence, declaring every one before it dropped.
    let hello = pb::SiteMessage {
        body: Some(site_message::Body::Hello(pb::Hello {
            site_id: "paris".into(),
            store_epoch: vec![7; 16],
            next_seq: 1,
            agent_version: String::new(),
            incident_states_after: None,
            runbooks_after: None,
        })),
    };
    site_message(&hello.encode_to_vec());
    for (seq, dropped) in [
        (bounds::MAX_SEQ, bounds::MAX_SEQ - 1),
        (u64::MAX, u64::MAX - 1),
    ] {
        let top = pb::SiteMessage {
            body: Some(site_message::Body::Escalation(pb::Escalation {
                seq,
                dropped_before: dropped,
                enqueued_at_ms: 1,
                report: Some(pb::IncidentReport {
                    local_incident_id: "top".into(),
                    revision: 1,
                    title: "top".into(),
                    severity: pb::Severity::High as i32,
                    ..Default::default()
                }),
            })),
        };
        site_message(&top.encode_to_vec());
    }
}

#[test]
fn a_batch_is_judged_escalation_by_escalation_with_its_own_count_and_order_checks() {
    let limits = ReportLimits::default();
    let of = |escalations: Vec<pb::Escalation>| pb::EscalationBatch { escalations };
    let judged = batch(
        of(vec![escalation_with(3, 0), escalation_with(5, 1)]),
        4,
        &limits,
    )
    .expect("a well-formed batch");
    assert_eq!(
        judged.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 5],
        "in order, nothing dropped"
    );
    // A report missing is quarantined for review, as alone.
    assert!(matches!(judged[0].offered, Offered::Invalid { .. }));

    let refused = |b, cap| batch(b, cap, &limits).expect_err("refused");
    assert!(refused(of(vec![]), 4).message().contains("at least one"));
    let over = refused(of((1..=5).map(|s| escalation_with(s, 0)).collect()), 4);
    assert!(over.message().contains("at most 4"), "{over:?}");
    assert!(
        refused(of(vec![escalation_with(1, 0)]), 0)
            .message()
            .contains("at most 0")
    );
    let order = refused(of(vec![escalation_with(2, 0), escalation_with(2, 0)]), 4);
    assert!(
        order.message().contains("sequence 2 follows 2"),
        "{order:?}"
    );
    // The same status as the escalation alone.
    let alone = escalation(escalation_with(3, 3), &limits).expect_err("framing");
    let inside = refused(of(vec![escalation_with(1, 0), escalation_with(3, 3)]), 4);
    assert_eq!(
        (inside.code(), inside.message()),
        (alone.code(), alone.message())
    );
}
