//! The hub's webhook cursors through the writer, and the event log as their source, on a
//! real store.

use super::*;
use crate::ingest::apply::{Item, apply};
use socfed_runtime::audit::AuditDraft;
use socfed_runtime::webhook::GAVE_UP_ACTOR;

#[test]
fn the_writer_moves_a_cursor_and_audits_a_give_up_in_the_same_unit() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = crate::store::query_states::tests::store(dir.path());
    assert_eq!(store.webhook_cursor("soar").expect("read"), None);
    let moved = Item::WebhookCursor(Box::new(WebhookCursor {
        sink: "soar".into(),
        to: "01J0000000000000000000000A".into(),
        gave_up: None,
    }));
    apply(&store, &[moved], 1_000, 86_400_000).expect("applied");
    let before = store.audit_entries().expect("audit").len();
    let given_up = Item::WebhookCursor(Box::new(WebhookCursor {
        sink: "soar".into(),
        to: "01J0000000000000000000000B".into(),
        gave_up: Some(AuditDraft {
            at_ms: 2_000,
            actor: GAVE_UP_ACTOR.into(),
            actor_cert: String::new(),
            action: "webhook.gave-up".into(),
            target: "webhook soar".into(),
            before: Some("event 01J0000000000000000000000B (hunt-hit)".into()),
            after: Some("given up after 9 attempts: HTTP 500".into()),
        }),
    }));
    apply(&store, &[given_up], 2_000, 86_400_000).expect("applied");
    assert_eq!(
        store.webhook_cursor("soar").expect("read").as_deref(),
        Some("01J0000000000000000000000B")
    );
    assert_eq!(store.webhook_cursor("chat").expect("read"), None);
    let entries = store.audit_entries().expect("audit");
    assert_eq!(entries.len(), before + 1);
    assert_eq!(
        entries.last().map(|e| e.draft.action.as_str()),
        Some("webhook.gave-up")
    );
    assert_eq!(store.verify_audit().expect("verify").1, None);
}

fn tlp(incident: ulid::Ulid, to: socfed_proto::vocab::Tlp) -> Item {
    Item::Transition(Box::new(crate::ingest::apply::Transition {
        incident,
        command: crate::lifecycle::Command::SetTlp(to),
        role: crate::lifecycle::HubRole::IrLead,
        actor: "ines".into(),
        actor_cert: String::new(),
    }))
}

#[test]
fn the_log_is_the_source_in_sequence_in_the_api_shape_with_red_incidents_withheld() {
    use crate::events::tests::{T0, WINDOW_MS, first_incident, incident_of, triage};
    use crate::ingest::apply::tests::escalation_of;
    use socfed_proto::vocab::Tlp;
    use socfed_runtime::webhook::{EventSource, WITHHELD};
    let dir = tempfile::tempdir().expect("tmp");
    let store = Arc::new(crate::store::query_states::tests::store(dir.path()));
    // 1 created, 2 changed: amber; 3 created (amber, RED when read), 4 changed to RED,
    // 5 changed while RED.
    let open = incident_of(&first_incident(&store).outcomes);
    apply(&store, &[triage(open)], T0 + 1, WINDOW_MS).expect("triage");
    let second = apply(
        &store,
        &[escalation_of("lyon", 1, "L-1", 1, "b.example")],
        T0 + 2,
        WINDOW_MS,
    )
    .expect("applied");
    let red = incident_of(&second.outcomes);
    apply(&store, &[tlp(red, Tlp::Red)], T0 + 3, WINDOW_MS).expect("red");
    apply(&store, &[triage(red)], T0 + 4, WINDOW_MS).expect("triage");
    let last = store.last_event_seq().expect("reads");
    assert_eq!(last, 5);
    let (_tx, durable) = tokio::sync::watch::channel(last);
    let log = crate::events::EventLog::new(store.clone(), durable);
    let source = HubEventSource { log: log.clone() };

    let events = source.after(None, 10).expect("reads");
    let shown: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.id.as_str(), e.kind.as_str()))
        .collect();
    assert_eq!(
        shown,
        [
            ("1", "incident-created"),
            ("2", "incident-changed"),
            ("3", WITHHELD),
            ("4", WITHHELD),
            ("5", WITHHELD)
        ]
    );
    assert!(events[2..].iter().all(|e| e.data.is_null()));
    // `data` is what `/api/v1/events` carries for the same event.
    let logged = store.events_after(0, last, 2).expect("reads");
    for (event, (seq, hub)) in events.iter().zip(&logged) {
        let api = serde_json::to_value(crate::events::EventJson::of(*seq, hub)).expect("json");
        assert_eq!(event.data, api);
        assert_eq!(event.at_ms, hub.at_ms);
        assert_eq!(event.kind, kind_name(&hub.kind));
    }
    assert!(KINDS.iter().all(|k| *k != WITHHELD));
    assert_eq!(source.newest().expect("newest").as_deref(), Some("5"));
    assert_eq!(source.after(Some("4"), 10).expect("reads").len(), 1);
    assert_eq!(
        source.after(Some(""), 1).expect("reads"),
        events[..1].to_vec()
    );
    assert!(source.after(Some("not-a-seq"), 1).is_err());

    // Loosened by the IR lead: what follows may leave, what was said while RED still not.
    apply(&store, &[tlp(red, Tlp::Amber)], T0 + 5, WINDOW_MS).expect("amber");
    let (_tx, durable) = tokio::sync::watch::channel(6);
    let source = HubEventSource {
        log: crate::events::EventLog::new(store.clone(), durable),
    };
    let kinds: Vec<String> = source
        .after(Some("2"), 10)
        .expect("reads")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        ["incident-created", WITHHELD, WITHHELD, "incident-changed"]
    );

    // Nothing past what the writer announced durable.
    let (_tx, durable) = tokio::sync::watch::channel(2);
    let bounded = HubEventSource {
        log: crate::events::EventLog::new(store.clone(), durable),
    };
    assert_eq!(bounded.after(Some("1"), 10).expect("reads").len(), 1);
    assert_eq!(bounded.newest().expect("newest").as_deref(), Some("2"));

    // A cursor the prune job passed continues from the oldest kept event.
    let prune = Item::PruneEvents(Box::new(crate::ingest::apply::PruneEvents {
        retention_ms: i64::MAX,
        keep: 2,
    }));
    apply(&store, &[prune], T0 + 6, WINDOW_MS).expect("pruned");
    let resumed = source.after(Some("1"), 10).expect("reads");
    let ids: Vec<&str> = resumed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["5", "6"]);
}
