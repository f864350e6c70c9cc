//! Response KPIs overall and per site: median time from opening to triage (acknowledged by
//! the SIRT), containment and closure.

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
    for i in incidents {
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
}
