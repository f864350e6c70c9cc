//! What the case work adds to an export's input, as the caller's reads answered it: the
//! incident's observables (each site's sighting lists the indicators that site reported,
//! an observable's own marking is kept, an analyst's additions join) and the work log's
//! notes (a note redacted for the caller stays out).

use super::{ExportInput, ExportNote, MarkedIndicator};
use socfed_proto::pb;
use socfed_proto::vocab::{Indicator, Tlp};
use std::collections::BTreeMap;

impl ExportInput {
    /// The incident's observables. Without any (an incident older than them), each site keeps
    /// the incident's indicators, as [`ExportInput::from_incident`] listed them.
    #[must_use]
    pub fn with_observables(mut self, observables: &[pb::Observable]) -> Self {
        let mut per_site: BTreeMap<&str, Vec<Indicator>> = BTreeMap::new();
        for observable in observables {
            let Some(indicator) = observable
                .indicator
                .clone()
                .and_then(|w| Indicator::try_from(w).ok())
            else {
                continue;
            };
            // Unmarked, it follows the incident; an unknown marking is read as RED.
            let tlp = Tlp::optional_from_wire(observable.tlp, "tlp")
                .unwrap_or(Some(Tlp::Red))
                .unwrap_or(self.tlp);
            match self
                .indicators
                .iter_mut()
                .find(|m| m.indicator == indicator)
            {
                Some(known) => known.tlp = tlp,
                None => self.indicators.push(MarkedIndicator {
                    indicator: indicator.clone(),
                    tlp,
                }),
            }
            for site in &observable.sites {
                per_site
                    .entry(site.site.as_str())
                    .or_default()
                    .push(indicator.clone());
            }
        }
        for sighting in &mut self.sites {
            if let Some(reported) = per_site.remove(sighting.site.as_str()) {
                sighting.indicators = reported;
            }
        }
        self
    }

    /// The work log's notes the caller may read (redacted ones are left out, not blanked).
    #[must_use]
    pub fn with_notes(mut self, notes: &[pb::IncidentNote]) -> Self {
        self.notes = notes
            .iter()
            .filter(|n| n.redacted.is_empty() && !n.text.is_empty())
            .map(|n| ExportNote {
                author: n.author.clone(),
                at_ms: n.at_ms,
                text: n.text.clone(),
                tlp: Tlp::optional_from_wire(n.tlp, "tlp")
                    .unwrap_or(Some(Tlp::Red))
                    .unwrap_or(self.tlp),
            })
            .collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> pb::HubIncident {
        pb::HubIncident {
            id: "01J00000000000000000000000".into(),
            title: "DNS tunnel".into(),
            tlp: pb::Tlp::Amber as i32,
            indicators: vec![
                Indicator::parse_typed("domain:a.example")
                    .expect("valid")
                    .to_wire(),
                Indicator::parse_typed("domain:b.example")
                    .expect("valid")
                    .to_wire(),
            ],
            sightings: vec![
                pb::Sighting {
                    site_id: "paris".into(),
                    ..Default::default()
                },
                pb::Sighting {
                    site_id: "lyon".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn observable(value: &str, sites: &[&str], tlp: pb::Tlp) -> pb::Observable {
        pb::Observable {
            indicator: Some(Indicator::parse_typed(value).expect("valid").to_wire()),
            tlp: tlp as i32,
            sites: sites
                .iter()
                .map(|s| pb::ObservableSite {
                    site: (*s).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn each_site_lists_what_it_reported_and_an_observables_marking_is_kept() {
        let input = ExportInput::from_incident(&incident()).with_observables(&[
            observable("domain:a.example", &["paris", "lyon"], pb::Tlp::Unspecified),
            observable("domain:b.example", &["lyon"], pb::Tlp::Red),
            observable("domain:c.example", &[], pb::Tlp::Green),
        ]);
        let site = |name: &str| {
            input.sites.iter().find(|s| s.site == name).map(|s| {
                s.indicators
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(site("paris"), Some(vec!["domain:a.example".to_string()]));
        assert_eq!(
            site("lyon"),
            Some(vec![
                "domain:a.example".to_string(),
                "domain:b.example".to_string()
            ])
        );
        let marks: Vec<(String, Tlp)> = input
            .indicators
            .iter()
            .map(|m| (m.indicator.to_string(), m.tlp))
            .collect();
        assert_eq!(
            marks,
            vec![
                ("domain:a.example".into(), Tlp::Amber),
                ("domain:b.example".into(), Tlp::Red),
                ("domain:c.example".into(), Tlp::Green),
            ]
        );
    }

    #[test]
    fn redacted_notes_stay_out_and_an_unmarked_one_follows_the_incident() {
        let note = |text: &str, redacted: &str, tlp: pb::Tlp| pb::IncidentNote {
            author: "ines".into(),
            text: text.into(),
            redacted: redacted.into(),
            tlp: tlp as i32,
            ..Default::default()
        };
        let input = ExportInput::from_incident(&incident()).with_notes(&[
            note("sinkholed", "", pb::Tlp::Unspecified),
            note("", "TLP:RED, for the IR lead and members", pb::Tlp::Red),
            note("legal hold", "", pb::Tlp::Red),
        ]);
        let notes: Vec<(&str, Tlp)> = input
            .notes
            .iter()
            .map(|n| (n.text.as_str(), n.tlp))
            .collect();
        assert_eq!(
            notes,
            vec![("sinkholed", Tlp::Amber), ("legal hold", Tlp::Red)]
        );
    }
}
