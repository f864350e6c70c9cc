//! A communication as the CLI, the API and the dashboard show it.

use super::wire::{COMM_STATES, Word};
use crate::comms::CommRecord;
use socfed_proto::pb;

/// A communication's view: its text as stored (already redacted), state and history.
pub fn communication(r: &CommRecord) -> pb::Communication {
    pb::Communication {
        communication_id: r.id.to_string(),
        incident_id: r.incident.to_string(),
        audience: r.audience.to_string(),
        subject: r.subject.clone(),
        body: r.body.clone(),
        tlp: r.tlp.to_wire().into(),
        redactions: r.redactions.iter().map(|x| x.reason.clone()).collect(),
        drafted_by: r.drafted_by.clone(),
        drafted_at_ms: r.drafted_at_ms,
        state: COMM_STATES.to_wire(Word(r.state.name())).into(),
        counts_as_sent: r.counts_as_sent(),
        history: r
            .history
            .iter()
            .map(|e| pb::CommunicationEvent {
                at_ms: e.at_ms,
                actor: e.actor.clone(),
                text: e.text.clone(),
            })
            .collect(),
    }
}
