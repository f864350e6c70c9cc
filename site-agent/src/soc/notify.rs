//! Notifications for the SOC manager: things a person must look at (nobody on shift to take a
//! new alert group, an SLA breach, a case that climbed to the SIRT). Stored, logged, listed.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::Severity;
use ulid::Ulid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationKind {
    Unassigned,
    SlaBreach,
    EscalatedToSirt,
    /// Directives from the hub: an incident relinked after a merge or split, an action waiting
    /// for approval.
    FromHub,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Unassigned => "unassigned",
            NotificationKind::SlaBreach => "sla-breach",
            NotificationKind::EscalatedToSirt => "escalated-to-sirt",
            NotificationKind::FromHub => "from-hub",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Ulid,
    pub at_ms: UnixMillis,
    pub kind: NotificationKind,
    pub message: String,
    pub group: Option<Ulid>,
}

/// How long the "unassigned" notification for groups below high severity stays quiet after one
/// went out.
pub const UNASSIGNED_QUIET_MS: UnixMillis = 5 * 60 * 1000;

/// A group that intake opened and could not assign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnassigned {
    pub id: Ulid,
    pub title: String,
    pub severity: Severity,
}

/// A notification to write: its text and the group it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub message: String,
    pub group: Option<Ulid>,
}

/// The mute of the "unassigned" notification, kept in the store between batches.
///
/// Critical and high groups are never muted: each one is notified at once, since a person must
/// take it now. Lower groups in a burst while nobody is on shift would bury the manager in
/// identical messages, so they are counted and notified at most once per
/// [`UNASSIGNED_QUIET_MS`]; the count is exact: every group held back is in the next
/// notification, which goes out with the next batch or, without one, at the first SLA tick after
/// the quiet period ([`UnassignedMute::flush`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignedMute {
    /// When the last notification for lower groups went out (0 = never).
    pub last_sent_ms: UnixMillis,
    /// Lower groups held back since then, in no notification yet.
    pub held: u64,
    /// The first of them.
    pub first_held: Option<Ulid>,
}

impl UnassignedMute {
    fn quiet(&self, now_ms: UnixMillis) -> bool {
        self.last_sent_ms > 0 && now_ms < self.last_sent_ms.saturating_add(UNASSIGNED_QUIET_MS)
    }

    /// The notifications for the unassigned groups of one batch (in order), updating the mute.
    pub fn on_new(&mut self, groups: &[NewUnassigned], now_ms: UnixMillis) -> Vec<Draft> {
        let mut drafts: Vec<Draft> = groups
            .iter()
            .filter(|g| g.severity >= Severity::High)
            .map(|g| Draft {
                message: format!(
                    "{} alert group {} ({}) is unassigned: nobody of tier 1 is on shift; assign it (`site-agent alerts assign {} NAME`)",
                    g.severity.as_str(),
                    g.id,
                    g.title,
                    g.id
                ),
                group: Some(g.id),
            })
            .collect();
        let lower: Vec<&NewUnassigned> = groups
            .iter()
            .filter(|g| g.severity < Severity::High)
            .collect();
        let Some(first) = lower.first() else {
            return drafts;
        };
        self.first_held.get_or_insert(first.id);
        self.held = self.held.saturating_add(lower.len() as u64);
        if !self.quiet(now_ms) {
            drafts.extend(self.send(now_ms, Some(&first.title)));
        }
        drafts
    }

    /// At a tick: what was held, once the quiet period is over.
    pub fn flush(&mut self, now_ms: UnixMillis) -> Option<Draft> {
        if self.held == 0 || self.quiet(now_ms) {
            return None;
        }
        self.send(now_ms, None)
    }

    fn send(&mut self, now_ms: UnixMillis, title: Option<&str>) -> Option<Draft> {
        let first_id = self.first_held.take()?;
        let held = std::mem::take(&mut self.held);
        self.last_sent_ms = now_ms;
        let first = match title {
            Some(title) if held == 1 => format!("{first_id}, {title}"),
            _ => first_id.to_string(),
        };
        Some(Draft {
            message: format!(
                "{held} new alert group{} below high severity unassigned since the last such notice: nobody of tier 1 is on shift (first: {first}); `site-agent alerts list --status new` shows them",
                if held == 1 { "" } else { "s" }
            ),
            group: Some(first_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(n: u64, severity: Severity) -> NewUnassigned {
        NewUnassigned {
            id: Ulid::from_parts(n, 0),
            title: format!("g{n}"),
            severity,
        }
    }

    #[test]
    fn critical_and_high_are_never_muted() {
        let mut mute = UnassignedMute::default();
        let t0 = 1_000_000;
        for round in 0..3 {
            let drafts = mute.on_new(
                &[
                    group(round, Severity::Critical),
                    group(10 + round, Severity::High),
                ],
                t0 + round as i64 * 1000,
            );
            assert_eq!(drafts.len(), 2, "round {round}: {drafts:?}");
            assert!(drafts[0].message.starts_with("critical alert group"));
        }
    }

    #[test]
    fn muted_groups_are_counted_exactly_and_sent_later() {
        let mut mute = UnassignedMute::default();
        let t0 = 1_000_000;
        let first = mute.on_new(&[group(1, Severity::Low)], t0);
        assert_eq!(first.len(), 1);
        assert!(first[0].message.starts_with("1 new alert group below"));
        // Inside the quiet period: held, not sent.
        assert!(
            mute.on_new(
                &[group(2, Severity::Medium), group(3, Severity::Low)],
                t0 + 1000
            )
            .is_empty()
        );
        assert!(
            mute.on_new(&[group(4, Severity::Informational)], t0 + 2000)
                .is_empty()
        );
        assert_eq!(mute.flush(t0 + UNASSIGNED_QUIET_MS - 1), None);
        let later = mute
            .flush(t0 + UNASSIGNED_QUIET_MS)
            .expect("sent after the quiet period");
        assert!(
            later.message.starts_with("3 new alert groups"),
            "{}",
            later.message
        );
        assert!(later.message.contains(&Ulid::from_parts(2, 0).to_string()));
        assert_eq!(
            mute.flush(t0 + 10 * UNASSIGNED_QUIET_MS),
            None,
            "nothing held twice"
        );
    }
}
