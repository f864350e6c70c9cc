//! Local aggregation: repeats of the same detection about the same things fold into one
//! alert group. The fingerprint covers the rule and the key entities (hosts, users, IPs), so
//! the same rule firing on another host is a different group.
//!
//! A group spans the time from its first to its last alert. An alert folds into an open
//! group of its fingerprint whose span, widened by the aggregation window on both sides,
//! holds the alert's time, whatever order alerts arrive in: an alert older than the group's
//! first one still folds into it (first and last seen are the minimum and maximum). Only
//! when no such group exists does it open a new one.
//!
//! Pure: the store keeps every group's span by fingerprint; this module decides.

use super::alert::Alert;
use socfed_proto::UnixMillis;

/// BLAKE3 over the rule and the normalised key entities, domain-separated and length-prefixed.
pub fn fingerprint(alert: &Alert) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    fingerprint_input(alert, &mut |bytes| {
        hasher.update(bytes);
    });
    *hasher.finalize().as_bytes()
}

/// The byte stream [`fingerprint`] hashes, fed in pieces to `sink` (the benchmarks hash the
/// same bytes in one piece as their baseline).
pub fn fingerprint_input(alert: &Alert, sink: &mut dyn FnMut(&[u8])) {
    sink(b"socfed.alert-group.v1\0");
    let mut field = |bytes: &[u8]| {
        sink(&(bytes.len() as u64).to_be_bytes());
        sink(bytes);
    };
    field(alert.format.as_str().as_bytes());
    field(alert.rule_id.as_bytes());
    if alert.rule_id.is_empty() {
        field(alert.rule_name.as_bytes());
    }
    for host in &alert.entities.hosts {
        field(host.as_bytes());
    }
    field(b"|users");
    for user in &alert.entities.users {
        field(user.as_bytes());
    }
    field(b"|ips");
    for ip in &alert.entities.ips {
        field(ip.to_string().as_bytes());
    }
}

/// One group of a fingerprint, as the store's span index and the group's state give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub group: ulid::Ulid,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    /// Closed groups stop absorbing repeats: a new occurrence deserves new eyes. Promoted
    /// groups keep absorbing, so their incident learns of new indicators and hosts.
    pub open: bool,
}

impl Span {
    /// Whether an alert observed at `t` is close enough to fold in (if the group is open).
    pub fn reaches(&self, t: UnixMillis, window_ms: i64) -> bool {
        self.distance(t) <= window_ms
    }

    /// How far `t` lies outside the span (0 inside it).
    fn distance(&self, t: UnixMillis) -> i64 {
        if t < self.first_seen_ms {
            self.first_seen_ms.saturating_sub(t)
        } else {
            t.saturating_sub(self.last_seen_ms).max(0)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Count it in this existing group.
    Into(ulid::Ulid),
    /// Start a new group.
    NewGroup,
}

/// Folds into the open group whose span lies within `window_ms` of the alert's observation
/// time, the nearest one if several do (then the earliest), else opens a new group.
pub fn decide(spans: &[Span], observed_at_ms: UnixMillis, window_ms: i64) -> Fold {
    spans
        .iter()
        .filter(|s| s.open && s.reaches(observed_at_ms, window_ms))
        .min_by_key(|s| (s.distance(observed_at_ms), s.first_seen_ms, s.group))
        .map_or(Fold::NewGroup, |s| Fold::Into(s.group))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soc::alert::{Entities, Format};
    use socfed_proto::vocab::{Severity, Tlp};

    fn alert(rule: &str, host: &str) -> Alert {
        let mut entities = Entities {
            hosts: vec![host.into()],
            users: vec![],
            ips: vec![],
        };
        entities.normalise();
        Alert {
            observed_at_ms: 0,
            received_at_ms: 0,
            format: Format::Native,
            product: "p".into(),
            rule_id: rule.into(),
            rule_name: String::new(),
            severity: Severity::High,
            techniques: vec![],
            entities,
            indicators: vec![],
            tlp: Tlp::Amber,
            raw: String::new(),
            raw_truncated: false,
            source_id: None,
        }
    }

    #[test]
    fn same_rule_same_host_share_a_fingerprint_other_hosts_do_not() {
        assert_eq!(
            fingerprint(&alert("r1", "WS-1")),
            fingerprint(&alert("r1", "ws-1"))
        );
        assert_ne!(
            fingerprint(&alert("r1", "ws-1")),
            fingerprint(&alert("r1", "ws-2"))
        );
        assert_ne!(
            fingerprint(&alert("r1", "ws-1")),
            fingerprint(&alert("r2", "ws-1"))
        );
    }

    fn span(n: u64, first: i64, last: i64) -> Span {
        Span {
            group: ulid::Ulid::from_parts(n, 1),
            first_seen_ms: first,
            last_seen_ms: last,
            open: true,
        }
    }

    #[test]
    fn folds_only_into_open_groups_inside_the_window() {
        let g = span(1, 10_000, 10_000);
        assert_eq!(decide(&[g], 15_000, 10_000), Fold::Into(g.group));
        assert_eq!(
            decide(&[g], 5_000, 10_000),
            Fold::Into(g.group),
            "late arrivals fold too"
        );
        assert_eq!(decide(&[g], 30_001, 20_000), Fold::NewGroup);
        assert_eq!(
            decide(&[Span { open: false, ..g }], 10_000, 10_000),
            Fold::NewGroup
        );
        assert_eq!(decide(&[], 0, 10_000), Fold::NewGroup);
    }

    #[test]
    fn an_alert_older_than_its_group_and_far_from_its_last_still_folds() {
        // The group ran from 10:00 to 10:08; an alert of 09:52 arrives late (window 10 min):
        // 16 minutes before the last alert, 8 before the first.
        let minute = 60_000;
        let g = span(1, 600 * minute, 608 * minute);
        assert_eq!(decide(&[g], 592 * minute, 10 * minute), Fold::Into(g.group));
        assert_eq!(decide(&[g], 589 * minute, 10 * minute), Fold::NewGroup);
    }

    #[test]
    fn the_group_the_time_belongs_to_wins_not_the_latest() {
        let day = 86_400_000;
        let monday = span(1, day, day + 60_000);
        let tuesday = span(2, 2 * day, 2 * day + 60_000);
        let spans = [monday, tuesday];
        assert_eq!(
            decide(&spans, day + 30_000, 600_000),
            Fold::Into(monday.group)
        );
        assert_eq!(
            decide(&spans, 2 * day - 1, 600_000),
            Fold::Into(tuesday.group)
        );
        // Both near (overlapping windows): the nearer, then the earlier.
        let a = span(3, 0, 1_000);
        let b = span(4, 5_000, 6_000);
        assert_eq!(decide(&[b, a], 4_000, 10_000), Fold::Into(b.group));
        assert_eq!(decide(&[b, a], 3_000, 10_000), Fold::Into(a.group));
    }
}
