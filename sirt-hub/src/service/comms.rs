//! Communications as an operator changes them, on every transport (the gRPC `Communications`
//! service, the dashboard): a draft from the incident's facts and a template, the decision of
//! a second person (the writer's comms rule refuses the drafter's own approval unless
//! `[comms] allow_self_approval`), a delivery recorded by hand. Each checks the access matrix
//! and the read rule for the operator, then runs [`Commands::change_comms`]; an approval
//! wakes the delivery task.

use super::Commands;
use crate::access::Api;
use crate::access::acting::Acting;
use crate::access::reader::{Reader, Roles};
use crate::comms::{self, Audience, CommRecord, CommState};
use crate::error::HubError;
use crate::ingest::apply::{CommEdit, CommsChange};
use crate::store::HubStore;
use std::sync::Arc;
use tokio::sync::Notify;
use ulid::Ulid;

/// The longest note an operator adds to a draft.
pub const MAX_NOTE_BYTES: usize = 4000;
/// The longest delivery channel recorded by hand.
pub const MAX_CHANNEL_BYTES: usize = 200;

/// What the communications commands need of the running hub.
pub struct CommsDesk<'a> {
    pub store: &'a Arc<HubStore>,
    pub roles: &'a Roles,
    /// Wakes the delivery task after an approval.
    pub deliver: &'a Notify,
    /// `[comms] allow_self_approval`.
    pub allow_self_approval: bool,
}

impl Commands<'_> {
    /// A draft for `audience` (a word of [`Audience`]) on `incident`, with `note` if any.
    pub async fn draft_comm(
        self,
        desk: &CommsDesk<'_>,
        acting: &Acting,
        incident: Ulid,
        audience: &str,
        note: &str,
    ) -> Result<CommRecord, HubError> {
        acting.may(Api::DraftCommunication)?;
        let audience: Audience = audience
            .parse()
            .map_err(|e: comms::UnknownAudience| HubError::invalid(e.to_string()))?;
        if note.len() > MAX_NOTE_BYTES {
            return Err(HubError::invalid("the note is at most 4000 bytes"));
        }
        let Some(record) = crate::view::read(desk.store, move |s| s.incident(incident)).await?
        else {
            return Err(HubError::not_found(format!(
                "no incident {incident}; list incidents to see valid ids"
            )));
        };
        let now = socfed_proto::now_millis();
        let facts = comms::facts::of_incident(&record, now);
        let note = (!note.trim().is_empty()).then_some(note);
        let text = comms::draft(audience, &facts, note);
        let draft = CommRecord::new(Ulid::new(), incident, audience, text, &acting.name, now);
        self.comm_change(desk, acting, incident, CommEdit::Draft(Box::new(draft)))
            .await
    }

    /// Communication `comm` of `incident` approved, or rejected for `reason`.
    pub async fn decide_comm(
        self,
        desk: &CommsDesk<'_>,
        acting: &Acting,
        incident: Ulid,
        comm: Ulid,
        approve: bool,
        reason: String,
    ) -> Result<CommRecord, HubError> {
        acting.may(Api::DecideCommunication)?;
        let edit = if approve {
            CommEdit::Approve {
                comm,
                allow_self_approval: desk.allow_self_approval,
            }
        } else {
            CommEdit::Reject { comm, reason }
        };
        self.comm_change(desk, acting, incident, edit).await
    }

    /// Communication `comm` of `incident` delivered by hand through `channel`.
    pub async fn record_delivery(
        self,
        desk: &CommsDesk<'_>,
        acting: &Acting,
        incident: Ulid,
        comm: Ulid,
        channel: &str,
    ) -> Result<CommRecord, HubError> {
        acting.may(Api::RecordDelivery)?;
        let channel = channel.trim().to_string();
        if channel.is_empty() || channel.len() > MAX_CHANNEL_BYTES {
            return Err(HubError::invalid(
                "say how it was delivered (--channel, up to 200 bytes)",
            ));
        }
        let edit = CommEdit::Delivered { comm, channel };
        self.comm_change(desk, acting, incident, edit).await
    }

    async fn comm_change(
        self,
        desk: &CommsDesk<'_>,
        acting: &Acting,
        incident: Ulid,
        edit: CommEdit,
    ) -> Result<CommRecord, HubError> {
        Reader::named(&acting.name, desk.roles)
            .may_read_id(desk.store, incident)
            .await?;
        let change = CommsChange {
            incident,
            edit,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
            role: acting.role,
        };
        let record = self.change_comms(change).await?;
        if matches!(record.state, CommState::Approved { .. }) {
            desk.deliver.notify_one();
        }
        Ok(record)
    }
}
