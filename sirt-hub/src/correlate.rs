//! Cross-site correlation, first cut: which hub incident an incoming report joins.
//!
//! Pure: no storage, no clock. A report's *fingerprints* pair each anchor (its detection rule
//! and each ATT&CK technique) with each normalised indicator. Two reports that share a
//! fingerprint describe the same threat; within the correlation window they join one incident.
//! Reports without indicators never correlate: a technique alone is too common to merge on.

use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, Indicator, Technique};
use ulid::Ulid;

/// A correlation fingerprint and the human reason it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub key: [u8; 32],
    pub reason: String,
}

/// Every fingerprint of `report`, each once.
pub fn fingerprints(report: &IncidentReport) -> Vec<Fingerprint> {
    let mut anchors: Vec<String> = report
        .techniques
        .iter()
        .map(|t| format!("technique {t}"))
        .collect();
    if !report.rule_id.is_empty() {
        anchors.push(format!("rule {}", report.rule_id));
    }
    cross(&anchors, &report.indicators)
}

/// The fingerprints an operator's added technique gives an incident: the technique × each of
/// the incident's indicators, exactly as a report carrying that technique would have.
pub fn technique_fingerprints(technique: &Technique, indicators: &[Indicator]) -> Vec<Fingerprint> {
    cross(&[format!("technique {technique}")], indicators)
}

/// Every anchor × every indicator.
fn cross(anchors: &[String], indicators: &[Indicator]) -> Vec<Fingerprint> {
    let mut out = Vec::with_capacity(anchors.len() * indicators.len());
    for anchor in anchors {
        for indicator in indicators {
            let mut hasher = blake3::Hasher::new();
            // Domain-separated and length-delimited so ("ab","c") never equals ("a","bc").
            hasher.update(b"socfed.fingerprint.v1\0");
            hasher.update(&(anchor.len() as u64).to_be_bytes());
            hasher.update(anchor.as_bytes());
            // The indicator's text `kind:value`, fed in parts: the same bytes as its Display,
            // without an allocation per anchor × indicator.
            hasher.update(indicator.kind().as_str().as_bytes());
            hasher.update(b":");
            hasher.update(indicator.value().as_bytes());
            out.push(Fingerprint {
                key: *hasher.finalize().as_bytes(),
                reason: format!("{anchor} with indicator {indicator}"),
            });
        }
    }
    out
}

/// A previous sighting of a fingerprint, as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorMatch {
    pub incident: Ulid,
    pub last_seen_ms: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Join an existing incident because of `reason`.
    Join { incident: Ulid, reason: String },
    /// Open a new incident.
    Open,
}

/// Every distinct incident matched within `window_ms` of `now`, oldest incident first, each
/// with the reason of its first matching fingerprint. A report that matches several incidents
/// proves they are one threat: the caller merges them into the oldest, so the outcome does not
/// depend on the order reports arrive in.
pub fn matches(
    candidates: &[(Fingerprint, Option<PriorMatch>)],
    now: UnixMillis,
    window_ms: i64,
) -> Vec<(Ulid, String)> {
    let mut out: Vec<(Ulid, String)> = Vec::new();
    for (fp, prior) in candidates {
        let Some(p) = prior else { continue };
        if !within_window(p.last_seen_ms, now, window_ms)
            || out.iter().any(|(id, _)| *id == p.incident)
        {
            continue;
        }
        out.push((p.incident, fp.reason.clone()));
    }
    out.sort_by_key(|(id, _)| *id);
    out
}

/// Whether a fingerprint last seen at `last_seen_ms` still counts at `now`: for matching a
/// report, and for keeping the fingerprint with its incident when another incident is indexed
/// with it (`ingest/apply/fingerprints.rs`). One rule for both, so a fingerprint that can no
/// longer match cannot block a newer incident from taking it either.
pub fn within_window(last_seen_ms: UnixMillis, now: UnixMillis, window_ms: i64) -> bool {
    now.saturating_sub(last_seen_ms) <= window_ms
}

/// How stale a fingerprint's `last_seen` may grow before a sighting of the same incident
/// rewrites it, as a fraction of the window: 1/64 (22.5 minutes of the default 24 hours).
pub const REFRESH_DIVISOR: i64 = 64;

/// Whether a sighting at `now` of the incident a fingerprint already leads to rewrites the
/// fingerprint's `last_seen`. Rewriting on every sighting made a revision with twelve
/// fingerprints cost twelve writes; refreshing only once `last_seen` is older than
/// 1/[`REFRESH_DIVISOR`] of the window keeps the match within the window short by at most that
/// much.
pub fn needs_refresh(last_seen_ms: UnixMillis, now: UnixMillis, window_ms: i64) -> bool {
    now.saturating_sub(last_seen_ms) >= (window_ms / REFRESH_DIVISOR).max(1)
}

/// Picks the incident to join: among fingerprints seen within `window_ms` of `now`, the one
/// seen most recently (ties: the lowest incident id, so the choice is deterministic).
pub fn decide(
    candidates: &[(Fingerprint, Option<PriorMatch>)],
    now: UnixMillis,
    window_ms: i64,
) -> Decision {
    candidates
        .iter()
        .filter_map(|(fp, prior)| prior.map(|p| (fp, p)))
        .filter(|(_, p)| within_window(p.last_seen_ms, now, window_ms))
        .max_by(|(_, a), (_, b)| {
            a.last_seen_ms
                .cmp(&b.last_seen_ms)
                .then_with(|| b.incident.cmp(&a.incident))
        })
        .map_or(Decision::Open, |(fp, p)| Decision::Join {
            incident: p.incident,
            reason: fp.reason.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use socfed_proto::pb;
    use socfed_proto::vocab::ReportLimits;

    fn report(rule: &str, techniques: &[&str], indicators: &[&str]) -> IncidentReport {
        let wire = pb::IncidentReport {
            local_incident_id: "x".into(),
            revision: 1,
            title: "t".into(),
            severity: pb::Severity::High as i32,
            rule_id: rule.into(),
            techniques: techniques.iter().map(|t| t.to_string()).collect(),
            indicators: indicators
                .iter()
                .map(|v| pb::Indicator {
                    kind: pb::IndicatorKind::Domain as i32,
                    value: v.to_string(),
                })
                .collect(),
            ..Default::default()
        };
        IncidentReport::from_wire(wire, &ReportLimits::default()).expect("valid")
    }

    #[test]
    fn a_fingerprint_is_refreshed_once_a_64th_of_the_window_old() {
        let day = 86_400_000;
        let step = day / REFRESH_DIVISOR;
        for (last_seen, now, window, refresh) in [
            (0, 0, day, false),
            (0, step - 1, day, false),
            (0, step, day, true),
            (0, day * 2, day, true),
            // A window under 64 ms still refreshes once a millisecond has passed.
            (5, 5, 10, false),
            (5, 6, 10, true),
            // A clock that went back: the stored sighting is newer, nothing to refresh.
            (1_000, 10, day, false),
            (i64::MIN, i64::MAX, i64::MAX, true),
        ] {
            assert_eq!(
                needs_refresh(last_seen, now, window),
                refresh,
                "last seen {last_seen}, now {now}, window {window}"
            );
        }
    }

    #[test]
    fn same_technique_and_indicator_share_a_fingerprint_across_spellings() {
        let a = fingerprints(&report("", &["T1071"], &["C2.example"]));
        let b = fingerprints(&report("other-rule", &["t1071"], &["c2.example."]));
        assert!(a.iter().any(|fp| b.contains(fp)));
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 2);
    }

    #[test]
    fn fingerprint_bytes_are_the_anchor_and_the_indicator_text() {
        // Stored fingerprints must keep matching: the key is fixed by this byte layout.
        let r = report("", &["T1071"], &["c2.example"]);
        let mut stream = b"socfed.fingerprint.v1\0".to_vec();
        stream.extend_from_slice(&("technique T1071".len() as u64).to_be_bytes());
        stream.extend_from_slice(b"technique T1071domain:c2.example");
        assert_eq!(fingerprints(&r)[0].key, *blake3::hash(&stream).as_bytes());
    }

    #[test]
    fn technique_without_indicator_never_correlates() {
        assert!(fingerprints(&report("r", &["T1059"], &[])).is_empty());
    }

    #[test]
    fn joins_the_most_recent_match_inside_the_window_only() {
        let fp = |n: u8| Fingerprint {
            key: [n; 32],
            reason: format!("fp{n}"),
        };
        let old = PriorMatch {
            incident: Ulid::from_parts(1, 1),
            last_seen_ms: 1_000,
        };
        let recent = PriorMatch {
            incident: Ulid::from_parts(2, 2),
            last_seen_ms: 9_000,
        };
        let candidates = vec![(fp(1), Some(old)), (fp(2), Some(recent)), (fp(3), None)];
        assert_eq!(
            decide(&candidates, 10_000, 60_000),
            Decision::Join {
                incident: recent.incident,
                reason: "fp2".into()
            }
        );
        assert_eq!(decide(&candidates, 10_000, 500), Decision::Open);
        assert_eq!(decide(&[], 0, 1), Decision::Open);
    }

    #[test]
    fn matches_lists_every_incident_in_the_window_oldest_first_once() {
        let fp = |n: u8| Fingerprint {
            key: [n; 32],
            reason: format!("fp{n}"),
        };
        let a = PriorMatch {
            incident: Ulid::from_parts(5, 1),
            last_seen_ms: 9_000,
        };
        let b = PriorMatch {
            incident: Ulid::from_parts(1, 1),
            last_seen_ms: 8_000,
        };
        let stale = PriorMatch {
            incident: Ulid::from_parts(0, 9),
            last_seen_ms: 0,
        };
        let candidates = vec![
            (fp(1), Some(a)),
            (fp(2), Some(b)),
            (fp(3), Some(a)),
            (fp(4), Some(stale)),
            (fp(5), None),
        ];
        let found = matches(&candidates, 10_000, 5_000);
        assert_eq!(
            found,
            vec![
                (b.incident, "fp2".to_string()),
                (a.incident, "fp1".to_string())
            ]
        );
    }
}
