//! The hub's webhook cursors through the writer, on a real store.

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
