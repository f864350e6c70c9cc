//! The words for wire values, one set for every surface: the CLI's tables and JSON, the
//! dashboard's pages and the report. Values from sites reach terminals and HTML through the
//! surface's own escaping (`terminal::clean`, the dashboard's templates, `report::escape_html`),
//! never from here.

use socfed_proto::pb;

/// The vocabulary's word for a wire severity (`unknown` for a number it does not know).
pub fn severity(n: i32) -> &'static str {
    socfed_proto::vocab::Severity::from_wire(n, "severity")
        .map_or("unknown", socfed_proto::vocab::Severity::as_str)
}

pub fn status(n: i32) -> &'static str {
    match pb::IncidentStatus::try_from(n) {
        Ok(pb::IncidentStatus::New) => "new",
        Ok(pb::IncidentStatus::Triage) => "triage",
        Ok(pb::IncidentStatus::Containment) => "containment",
        Ok(pb::IncidentStatus::Eradication) => "eradication",
        Ok(pb::IncidentStatus::Recovery) => "recovery",
        Ok(pb::IncidentStatus::PostIncident) => "post-incident",
        Ok(pb::IncidentStatus::Closed) => "closed",
        _ => "unknown",
    }
}

/// A site's status of its local incident; `None` when the site has not said.
pub fn local_status(n: i32) -> Option<&'static str> {
    match pb::LocalStatus::try_from(n) {
        Ok(pb::LocalStatus::Open) => Some("open"),
        Ok(pb::LocalStatus::Contained) => Some("contained"),
        Ok(pb::LocalStatus::Resolved) => Some("resolved"),
        Ok(pb::LocalStatus::Closed) => Some("closed"),
        Ok(pb::LocalStatus::Unspecified) | Err(_) => None,
    }
}

/// The local statuses of a sighting's local incidents, in their order ("contained, open").
pub fn local_statuses(s: &pb::Sighting) -> String {
    s.locals
        .iter()
        .map(|l| local_status(l.status).unwrap_or("not reported"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The local owners of a sighting's local incidents, in their order ("ann, -").
pub fn local_owners(s: &pb::Sighting) -> String {
    s.locals
        .iter()
        .map(|l| {
            if l.owner.is_empty() {
                "-"
            } else {
                l.owner.as_str()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The vocabulary's word for a wire TLP.
pub fn tlp(n: i32) -> &'static str {
    socfed_proto::vocab::Tlp::from_wire(n, "tlp")
        .map_or("unknown", socfed_proto::vocab::Tlp::as_str)
}

/// `kind:value` (`socfed_proto::vocab::indicator_text`, one formatting for both binaries).
pub fn indicator(i: &pb::Indicator) -> String {
    socfed_proto::vocab::indicator_text(i)
}

pub fn sites_of(incident: &pb::HubIncident) -> String {
    incident
        .sightings
        .iter()
        .map(|s| s.site_id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Says how many indicators the incident no longer lists (its record reached its size limit),
/// for every surface that lists them.
pub fn indicators_elided(i: &pb::HubIncident) -> Option<String> {
    (i.indicators_elided > 0).then(|| {
        format!(
            "… and {} more not listed (the incident reached its size limit; every report is kept whole in the escalations)",
            i.indicators_elided
        )
    })
}

/// An operator's role at the hub (`tier1` … `admin`).
pub fn role(n: i32) -> String {
    super::wire::ROLES.show(n)
}

/// A communication's state (`draft` … `delivery-failed`).
pub fn comm_state(n: i32) -> String {
    super::wire::COMM_STATES.show(n)
}

/// A regulatory deadline's status (`pending`, `due_soon`, `overdue`, `met`, `met_late`).
pub fn deadline_status(n: i32) -> String {
    super::wire::DEADLINES.show(n)
}

/// A communication's marking as its text carries it (`TLP:AMBER`).
pub fn marking(n: i32) -> String {
    socfed_proto::vocab::Tlp::from_wire(n, "tlp")
        .map_or_else(|_| "unknown".to_string(), crate::comms::tlp_label)
}

/// What looks wrong with a site's stream, one phrase each (the CLI's and the dashboard's
/// "warnings" column).
pub fn site_warnings(s: &pb::SiteSummary) -> Vec<String> {
    let mut warnings = Vec::new();
    if s.sequence_regression {
        warnings.push("store went backwards".to_string());
    }
    if s.epoch_changes > 0 {
        warnings.push(format!("{} epoch change(s)", s.epoch_changes));
    }
    if s.sequence_gaps > 0 {
        warnings.push(format!("{} sequences never received", s.sequence_gaps));
    }
    if s.refused_total.saturating_add(s.dropped_total) > 0 {
        warnings.push(format!(
            "outbox cap: {} refused, {} dropped",
            s.refused_total, s.dropped_total
        ));
    }
    warnings
}
