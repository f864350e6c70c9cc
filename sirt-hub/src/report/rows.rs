//! The rows of the incident tables that the report and the dashboard both show, as plain
//! text: each surface escapes them its own way (the report's Markdown and HTML, the
//! dashboard's templates).

use crate::view::words;
use socfed_proto::pb;
use socfed_runtime::cli::format_millis;

/// One row per site that reported the incident (site, local ids, the site's status and owner of
/// each, severity, first and last seen, why it joined): the report's and the dashboard's
/// "Sites" table.
pub fn sighting_rows(i: &pb::HubIncident) -> Vec<Vec<String>> {
    i.sightings
        .iter()
        .map(|s| {
            vec![
                s.site_id.clone(),
                s.local_incident_ids.join(", "),
                words::local_statuses(s),
                words::local_owners(s),
                words::severity(s.local_severity).to_string(),
                format_millis(s.first_seen_ms),
                format_millis(s.last_seen_ms),
                s.joined_because.clone(),
            ]
        })
        .collect()
}

/// One row per communication (audience, marking, state, sent, subject): the report's and the
/// dashboard's "Communications" table.
pub fn communication_rows(comms: &[pb::Communication]) -> Vec<Vec<String>> {
    comms
        .iter()
        .map(|c| {
            vec![
                c.audience.clone(),
                words::marking(c.tlp),
                words::comm_state(c.state),
                if c.counts_as_sent { "yes" } else { "no" }.into(),
                c.subject.clone(),
            ]
        })
        .collect()
}

/// One row per timeline entry (at, who, what): the report's and the dashboard's "Timeline".
pub fn timeline_rows(i: &pb::HubIncident) -> Vec<Vec<String>> {
    i.timeline
        .iter()
        .map(|t| vec![format_millis(t.at_ms), t.actor.clone(), t.text.clone()])
        .collect()
}
