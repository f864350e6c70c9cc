//! What a replica's committed unit of work tells the other replicas: the payload of a
//! PostgreSQL `NOTIFY` on [`CHANNEL`], sent inside the unit's transaction so it is delivered
//! only if, and only after, the unit committed.
//!
//! A replica acts on what it holds in memory or serves live: the streams of the sites it
//! holds (directives and incident states to send, runbook versions, a stream superseded at
//! another replica), event-log readers (the durable event mark) and the roster it checks
//! every call against. Everything else is read from the database when asked.
//!
//! Plain data with its codec: no I/O.

use serde::{Deserialize, Serialize};
use socfed_proto::vocab::SiteId;

/// The notification channel every replica listens on.
pub const CHANNEL: &str = "socfed_hub";

/// PostgreSQL refuses a payload of 8000 bytes or more; a wake that would not fit names no
/// sites and wakes every stream instead ([`Wake::every_site`]).
pub const MAX_PAYLOAD: usize = 7_900;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wake {
    /// The replica that committed (its own wakes are already handled locally).
    pub replica: String,
    /// Sites with new directives to send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directive_sites: Vec<SiteId>,
    /// Sites with new incident states to send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_sites: Vec<SiteId>,
    /// Too many sites to name: every stream looks for directives and states.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_site: bool,
    /// A hub runbook version was written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub runbooks: bool,
    /// The first event-log sequence the unit appended: with `last_event`, the events other
    /// replicas announce to their incident watchers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event: Option<u64>,
    /// The last event-log sequence the unit appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<u64>,
    /// The operator roster or incident membership changed: reload them before the next call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub roster: bool,
    /// A site's stream opened at `replica` under this lease generation: any other replica
    /// holding an older stream of the site ends it (newest stream wins across replicas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamLease>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamLease {
    pub site: SiteId,
    pub generation: u64,
}

impl Wake {
    /// Whether any other replica has something to do on it.
    pub fn is_empty(&self) -> bool {
        self.directive_sites.is_empty()
            && self.state_sites.is_empty()
            && !self.every_site
            && !self.runbooks
            && self.last_event.is_none()
            && !self.roster
            && self.stream.is_none()
    }

    /// The payload: JSON under [`MAX_PAYLOAD`] bytes, whatever the number of sites.
    pub fn encode(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        if text.len() < MAX_PAYLOAD {
            return text;
        }
        let coarse = Wake {
            directive_sites: Vec::new(),
            state_sites: Vec::new(),
            every_site: true,
            ..self.clone()
        };
        serde_json::to_string(&coarse).unwrap_or_default()
    }

    /// A payload from the channel; `None` for one this build does not read (a newer
    /// replica's, or not ours), which the listener logs and treats as "rescan".
    pub fn decode(payload: &str) -> Option<Wake> {
        serde_json::from_str(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str) -> SiteId {
        SiteId::parse(name).expect("site")
    }

    #[test]
    fn a_wake_round_trips_and_an_empty_one_says_so() {
        let wake = Wake {
            replica: "hub-a".into(),
            directive_sites: vec![site("paris")],
            last_event: Some(42),
            stream: Some(StreamLease {
                site: site("lyon"),
                generation: 7,
            }),
            ..Wake::default()
        };
        assert!(!wake.is_empty());
        assert_eq!(Wake::decode(&wake.encode()), Some(wake));
        assert!(
            Wake {
                replica: "hub-a".into(),
                ..Wake::default()
            }
            .is_empty()
        );
        assert_eq!(Wake::decode("{not json"), None);
    }

    #[test]
    fn too_many_sites_to_name_wake_every_stream_within_the_payload_limit() {
        let many: Vec<SiteId> = (0..2_000).map(|i| site(&format!("site-{i:05}"))).collect();
        let wake = Wake {
            replica: "hub-b".into(),
            directive_sites: many.clone(),
            state_sites: many,
            runbooks: true,
            ..Wake::default()
        };
        let payload = wake.encode();
        assert!(payload.len() < MAX_PAYLOAD, "{}", payload.len());
        let read = Wake::decode(&payload).expect("decodes");
        assert!(read.every_site && read.directive_sites.is_empty() && read.runbooks);
    }
}
