//! Alert groups: the unit analysts triage. A group is opened by an alert and absorbs its
//! repeats (see [`super::aggregate`]); it carries the triage state and the union of what its
//! alerts were about, bounded so a noisy rule cannot grow a record without limit.

use super::alert::{Alert, Entities, Format};
use super::triage::GroupState;
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};
use ulid::Ulid;

/// Most hosts, users, IPs, indicators or techniques one group remembers; beyond that alerts
/// are still counted, their extra values are not kept.
pub const MAX_UNION: usize = 256;
/// Most comments kept on a group.
pub const MAX_COMMENTS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub at_ms: UnixMillis,
    pub author: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroup {
    pub id: Ulid,
    pub fingerprint: [u8; 32],
    pub title: String,
    pub rule_id: String,
    pub product: String,
    pub format: Format,
    pub severity: Severity,
    pub tlp: Tlp,
    pub state: GroupState,
    pub count: u64,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    pub entities: Entities,
    pub indicators: Vec<Indicator>,
    pub techniques: Vec<Technique>,
    pub comments: Vec<Comment>,
    /// The first alert, as evidence. Its bounded raw record is in the sample journal once
    /// the group is stored (`store::samples`): `raw` is empty there and `sample_ref` says
    /// where it is. A group not yet written (or read from before schema 8) carries `raw`.
    pub sample: Alert,
    pub sample_ref: Option<crate::store::samples::SampleRef>,
}

fn union<T: Ord + Clone>(into: &mut Vec<T>, from: &[T]) {
    for item in from {
        if into.len() >= MAX_UNION {
            break;
        }
        if let Err(pos) = into.binary_search(item) {
            into.insert(pos, item.clone());
        }
    }
}

impl AlertGroup {
    /// A new group opened by `alert` at `now_ms`.
    pub fn open(id: Ulid, fingerprint: [u8; 32], alert: Alert, now_ms: UnixMillis) -> Self {
        let title = if alert.rule_name.is_empty() {
            alert.rule_id.clone()
        } else {
            alert.rule_name.clone()
        };
        Self {
            id,
            fingerprint,
            title,
            rule_id: alert.rule_id.clone(),
            product: alert.product.clone(),
            format: alert.format,
            severity: alert.severity,
            tlp: alert.tlp,
            state: GroupState::new(now_ms),
            count: 1,
            first_seen_ms: alert.observed_at_ms,
            last_seen_ms: alert.observed_at_ms,
            entities: alert.entities.clone(),
            indicators: alert.indicators.clone(),
            techniques: alert.techniques.clone(),
            comments: Vec::new(),
            sample: alert,
            sample_ref: None,
        }
    }

    /// Counts a repeat. Returns true when it added something new (an indicator, technique,
    /// host, user or IP, or a higher severity), which matters to an escalated incident.
    pub fn absorb(&mut self, alert: &Alert) -> bool {
        self.count += 1;
        self.first_seen_ms = self.first_seen_ms.min(alert.observed_at_ms);
        self.last_seen_ms = self.last_seen_ms.max(alert.observed_at_ms);
        let before = (
            self.indicators.len(),
            self.techniques.len(),
            self.entities.hosts.len(),
            self.entities.users.len(),
            self.entities.ips.len(),
            self.severity,
        );
        self.severity = self.severity.max(alert.severity);
        self.tlp = self.tlp.max(alert.tlp);
        union(&mut self.indicators, &alert.indicators);
        union(&mut self.techniques, &alert.techniques);
        union(&mut self.entities.hosts, &alert.entities.hosts);
        union(&mut self.entities.users, &alert.entities.users);
        union(&mut self.entities.ips, &alert.entities.ips);
        before
            != (
                self.indicators.len(),
                self.techniques.len(),
                self.entities.hosts.len(),
                self.entities.users.len(),
                self.entities.ips.len(),
                self.severity,
            )
    }

    pub fn add_comment(&mut self, comment: Comment) {
        if self.comments.len() >= MAX_COMMENTS {
            self.comments.remove(0);
        }
        self.comments.push(comment);
    }
}
