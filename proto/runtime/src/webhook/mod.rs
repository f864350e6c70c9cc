//! Outbound event webhooks, the same in both services: a service names a durable source of
//! events ([`EventSource`]) and where each sink's cursor is kept ([`Ledger`]); [`run`] sends
//! each event a sink subscribes to, in order, signed ([`sign`]), retried with
//! [`crate::backoff`] until a 2xx answer or until the event is `max_age` old (then given up:
//! logged, counted, audited through the ledger). The cursor moves only after the answer, so a
//! restart sends again at most the event in flight: delivery is at least once, and the event id
//! (header `Socfed-Event-Id`, `id` in the body) lets the receiver drop a repeat.
//!
//! - `config.rs`: `[[webhooks]]` entries and their validation, the commented example.
//! - `sign.rs`: the `Socfed-Signature` header, its signing and its verification.
//! - `client.rs`: the one outbound HTTPS client builder (corporate CA, no redirects) and capped
//!   reads, shared with the agent's playbooks and the hub's communications.
//! - `sink.rs`: a sink with its secrets read from files, and one delivery attempt.
//! - `deliver.rs`: the delivery loop of one sink.

pub mod client;
pub mod config;
mod deliver;
pub mod sign;
pub mod sink;

pub use config::WebhookConfig;
pub use deliver::{LoopSettings, prepare, run, start_all};
pub use sign::{SigningKey, VerifyError};
pub use sink::{Sink, SinkError, load_all};

use serde::Serialize;

/// One event to deliver: `id` orders the source (the cursor is the last id a sink is done
/// with) and de-duplicates at the receiver.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: String,
    pub kind: String,
    /// When it happened (Unix milliseconds): its age decides when it is given up.
    pub at_ms: i64,
    /// What the service tells about it (its own fields per kind).
    pub data: serde_json::Value,
}

impl Event {
    /// The delivered body: `{"id", "kind", "at_ms", "data"}`.
    pub fn body(&self) -> Vec<u8> {
        // A struct of strings, a number and a JSON value always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Why a source or a ledger could not answer (the store failed); the loop waits and retries.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// The kind of an event the service withholds from every sink (at the hub, one about a
/// TLP:RED incident): the source still returns it, with no data, so the loop moves each
/// sink's cursor past it without sending anything. No service lists it among its kinds, so
/// no sink can take it ([`Sink::wants`]).
pub const WITHHELD: &str = "withheld";

/// A durable, ordered source of events. Called on the blocking pool.
pub trait EventSource: Send + Sync + 'static {
    /// Events with ids after `cursor` (from the first when `None`), in id order, at most
    /// `limit`. Only durable events: one sent must not vanish in a crash. Never empty while
    /// events follow `cursor`: one not to be sent is returned as [`WITHHELD`].
    fn after(&self, cursor: Option<&str>, limit: usize) -> Result<Vec<Event>, SourceError>;
    /// The id of the newest event, where a new sink starts (it is not sent the history).
    fn newest(&self) -> Result<Option<String>, SourceError>;
}

/// An event given up after `max_age`, for the ledger's audit entry.
#[derive(Debug, Clone)]
pub struct GaveUp<'a> {
    pub event: &'a Event,
    pub attempts: u32,
    pub last_error: &'a str,
}

/// The audit chain's actor of a give-up.
pub const GAVE_UP_ACTOR: &str = "webhook";
/// The audit chain's action of a give-up.
pub const GAVE_UP_ACTION: &str = "webhook.gave-up";

impl GaveUp<'_> {
    /// The audit record of this give-up at sink `sink`, at `at_ms`: both services write it.
    pub fn audit_draft(&self, sink: &str, at_ms: i64) -> crate::audit::AuditDraft {
        crate::audit::AuditDraft {
            at_ms,
            actor: GAVE_UP_ACTOR.into(),
            actor_cert: String::new(),
            action: GAVE_UP_ACTION.into(),
            target: format!("webhook {sink}"),
            before: Some(format!("event {} ({})", self.event.id, self.event.kind)),
            after: Some(format!(
                "given up after {} attempts: {}",
                self.attempts, self.last_error
            )),
        }
    }
}

/// Where each sink's cursor is kept. Called on the blocking pool.
pub trait Ledger: Send + Sync + 'static {
    fn cursor(&self, sink: &str) -> Result<Option<String>, SourceError>;
    /// Durably moves `sink`'s cursor to `to`; with `gave_up`, in the same write, an audit
    /// entry saying which event was given up and why.
    fn advance(&self, sink: &str, to: &str, gave_up: Option<GaveUp<'_>>)
    -> Result<(), SourceError>;
}
