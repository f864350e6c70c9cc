//! Local aggregation: repeats of the same detection about the same things fold into one
//! alert group. The fingerprint covers the rule and the key entities (hosts, users, IPs), so
//! the same rule firing on another host is a different group.
//!
//! Pure: the store keeps `fingerprint → (group, last seen)`; this module decides.

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

/// The group a fingerprint last pointed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenGroup {
    pub group: ulid::Ulid,
    pub last_seen_ms: UnixMillis,
    /// Closed groups stop absorbing repeats: a new occurrence deserves new eyes. Promoted
    /// groups keep absorbing, so their incident learns of new indicators and hosts.
    pub open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Count it in this existing group.
    Into(ulid::Ulid),
    /// Start a new group.
    NewGroup,
}

/// Folds into the previous group when it is still open and was last seen within `window_ms`
/// of this alert's observation time (alerts may arrive out of order: distance either way).
pub fn decide(previous: Option<OpenGroup>, observed_at_ms: UnixMillis, window_ms: i64) -> Fold {
    match previous {
        Some(p) if p.open && (observed_at_ms - p.last_seen_ms).abs() <= window_ms => {
            Fold::Into(p.group)
        }
        _ => Fold::NewGroup,
    }
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

    #[test]
    fn folds_only_into_open_groups_inside_the_window() {
        let g = ulid::Ulid::from_parts(1, 1);
        let open = OpenGroup {
            group: g,
            last_seen_ms: 10_000,
            open: true,
        };
        assert_eq!(decide(Some(open), 15_000, 10_000), Fold::Into(g));
        assert_eq!(
            decide(Some(open), 5_000, 10_000),
            Fold::Into(g),
            "late arrivals fold too"
        );
        assert_eq!(decide(Some(open), 30_001, 20_000), Fold::NewGroup);
        assert_eq!(
            decide(
                Some(OpenGroup {
                    open: false,
                    ..open
                }),
                10_000,
                10_000
            ),
            Fold::NewGroup
        );
        assert_eq!(decide(None, 0, 10_000), Fold::NewGroup);
    }
}
