//! The JSON posted to a chat incoming webhook for a communication.
//!
//! Slack, Mattermost and Rocket.Chat all read a top-level `"text"` and ignore fields they do
//! not know, so one payload fits them: the subject and the body go in `"text"`, and the
//! identifiers a bot or an archive may want go under `"socfed"`. Nothing is taken from the
//! incident beyond what the record already holds (its body is redacted) and the title, which
//! redaction never withholds.

use super::CommRecord;
use super::template::tlp_label;
use serde_json::{Value, json};

/// The webhook body for `record`. It does not check the state: the delivery layer posts only
/// records that [need delivery](CommRecord::needs_delivery).
pub fn payload(record: &CommRecord, incident_title: &str) -> Value {
    json!({
        "text": format!("{}\n\n{}", record.subject, record.body),
        "socfed": {
            "communication_id": record.id.to_string(),
            "incident_id": record.incident.to_string(),
            "incident_title": incident_title,
            "audience": record.audience.as_str(),
            "tlp": tlp_label(record.tlp),
        },
    })
}
