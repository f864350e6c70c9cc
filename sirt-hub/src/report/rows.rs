//! The rows of the incident tables that the report and the dashboard both show, as plain
//! text: each surface escapes them its own way (the report's Markdown and HTML, the
//! dashboard's templates).

use crate::view::words;
use socfed_proto::pb;
use socfed_proto::vocab::DirectiveState;
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

/// One row per regulatory deadline (obligation, due, status).
pub fn clock_rows(i: &pb::HubIncident) -> Vec<Vec<String>> {
    i.deadlines
        .iter()
        .map(|d| {
            vec![
                format!("{} ({})", d.kind, d.citation),
                format_millis(d.due_ms),
                words::deadline_status(d.status),
            ]
        })
        .collect()
}

/// One row per task (site, task, due, state, by, note): directives with a title.
pub fn task_rows(directives: &[pb::DirectiveStatus]) -> Vec<Vec<String>> {
    directives
        .iter()
        .filter(|d| !d.task_title.is_empty())
        .map(|d| {
            let mut state = DirectiveState::word(d.state).to_string();
            if d.overdue {
                state.push_str(" (overdue)");
            }
            vec![
                d.site_id.clone(),
                d.task_title.clone(),
                if d.due_ms > 0 {
                    format_millis(d.due_ms)
                } else {
                    "-".into()
                },
                state,
                d.actor.clone(),
                d.detail.clone(),
            ]
        })
        .collect()
}

/// One row per directive (site, kind, issued by, state, exit, result): those without a title.
pub fn directive_rows(directives: &[pb::DirectiveStatus]) -> Vec<Vec<String>> {
    directives
        .iter()
        .filter(|d| d.task_title.is_empty())
        .map(|d| {
            let wire = d.directive.clone().unwrap_or_default();
            vec![
                d.site_id.clone(),
                wire.kind,
                wire.issued_by,
                DirectiveState::word(d.state).to_string(),
                d.exit_code.map_or("-".into(), |c| c.to_string()),
                d.detail.clone(),
            ]
        })
        .collect()
}
