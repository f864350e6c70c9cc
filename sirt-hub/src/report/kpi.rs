//! Response KPIs overall and per site: median time from opening to triage (acknowledged by
//! the SIRT), containment and closure.
//!
//! What counts: an incident closed as a duplicate of another (merged away) is not counted at
//! all: the survivor carries that threat. Triage and containment are measured on the first
//! pass; closure on the final one: a reopened incident counts as resolved only once it is
//! closed again, at its last closure (the API's `closed_at_ms` is that), and an incident
//! reopened and still open has no time to resolve.

use socfed_proto::pb;
use std::collections::BTreeMap;

/// Median times from opening to triage, containment and closure, over the incidents that got
/// there.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Kpi {
    pub incidents: usize,
    pub to_triage_ms: Option<i64>,
    pub to_contain_ms: Option<i64>,
    pub to_resolve_ms: Option<i64>,
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}

fn kpi<'a>(incidents: impl Iterator<Item = &'a pb::HubIncident>) -> Kpi {
    let (mut n, mut triage, mut contain, mut resolve) = (0, Vec::new(), Vec::new(), Vec::new());
    for i in incidents.filter(|i| !is_duplicate(i)) {
        n += 1;
        for (at, list) in [
            (i.triage_at_ms, &mut triage),
            (i.contained_at_ms, &mut contain),
            (i.closed_at_ms, &mut resolve),
        ] {
            if at > 0 {
                list.push((at - i.created_at_ms).max(0));
            }
        }
    }
    Kpi {
        incidents: n,
        to_triage_ms: median(triage),
        to_contain_ms: median(contain),
        to_resolve_ms: median(resolve),
    }
}

/// Closed as a duplicate of another incident (merged away).
fn is_duplicate(i: &pb::HubIncident) -> bool {
    i.resolution.starts_with("duplicate of")
}

/// KPIs overall and per site (an incident counts for every site that saw it).
pub fn kpis(incidents: &[pb::HubIncident]) -> (Kpi, BTreeMap<String, Kpi>) {
    let mut sites: BTreeMap<String, Vec<&pb::HubIncident>> = BTreeMap::new();
    for i in incidents {
        for s in &i.sightings {
            sites.entry(s.site_id.clone()).or_default().push(i);
        }
    }
    (
        kpi(incidents.iter()),
        sites
            .into_iter()
            .map(|(site, list)| (site, kpi(list.into_iter())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(
        site: &str,
        created: i64,
        triage: i64,
        contained: i64,
        closed: i64,
    ) -> pb::HubIncident {
        pb::HubIncident {
            id: "01J".into(),
            title: "<script>alert(1)</script> | pipe".into(),
            created_at_ms: created,
            triage_at_ms: triage,
            contained_at_ms: contained,
            closed_at_ms: closed,
            sightings: vec![pb::Sighting {
                site_id: site.into(),
                joined_because: "rule a|b".into(),
                ..Default::default()
            }],
            timeline: vec![pb::TimelineEntry {
                at_ms: created,
                actor: "site paris".into(),
                text: "escalated".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn kpis_are_medians_over_incidents_that_reached_each_phase() {
        let list = vec![
            incident("paris", 0, 10, 100, 1_000),
            incident("paris", 0, 30, 0, 0),
            incident("lyon", 0, 20, 300, 0),
        ];
        let (overall, per_site) = kpis(&list);
        assert_eq!(
            overall,
            Kpi {
                incidents: 3,
                to_triage_ms: Some(20),
                to_contain_ms: Some(200),
                to_resolve_ms: Some(1_000)
            }
        );
        assert_eq!(
            per_site["paris"],
            Kpi {
                incidents: 2,
                to_triage_ms: Some(20),
                to_contain_ms: Some(100),
                to_resolve_ms: Some(1_000)
            }
        );
        assert_eq!(per_site["lyon"].to_resolve_ms, None);
    }

    #[test]
    fn duplicates_are_not_counted() {
        let mut duplicate = incident("paris", 0, 5, 0, 7);
        duplicate.resolution = "duplicate of 01J".into();
        let (overall, _) = kpis(&[incident("paris", 0, 10, 100, 1_000), duplicate]);
        assert_eq!(overall.incidents, 1);
        assert_eq!(overall.to_resolve_ms, Some(1_000));
        assert_eq!(overall.to_triage_ms, Some(10));
    }
}
