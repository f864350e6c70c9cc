//! The workbench's communications, on the incident page: draft one for an audience (with a
//! note), approve or reject a draft, record a delivery made by hand. Each handler is an
//! adapter: the checks every form passes are `forms.rs`; it runs the same command as the gRPC
//! `Communications` service (`service::comms`: the access matrix, the read rule, and the
//! writer's comms rule that a second person approves, never the drafter unless
//! `[comms] allow_self_approval`). [`Comms`] says which forms the page offers, asked of the
//! same access matrix; a delivery's state shows in the communications table.

use super::WebState;
use super::forms::{self, IncidentForm};
use crate::access::{Api, check};
use crate::comms::Audience;
use crate::error::HubError;
use crate::lifecycle::HubRole;
use crate::service::Commands;
use crate::service::comms::CommsDesk;
use axum::extract::{Path, State};
use axum::response::Response;
use socfed_proto::pb;

/// One communication with the decisions the viewer may make on it now.
pub struct CommForm {
    pub id: String,
    pub audience: String,
    pub subject: String,
    pub body: String,
    pub drafted_by: String,
    pub state: String,
    pub decide: bool,
    pub record: bool,
}

/// The communications forms the incident page offers its viewer.
pub struct Comms {
    pub csrf: String,
    pub draft: bool,
    pub audiences: Vec<&'static str>,
    /// Drafts to decide and approved ones to record a delivery of.
    pub open: Vec<CommForm>,
}

impl Comms {
    /// What `role` may do with `comms`, by the access matrix; none when nothing.
    pub fn offered(
        name: &str,
        role: HubRole,
        csrf: String,
        comms: &[pb::Communication],
    ) -> Option<Self> {
        let may = |api| check(name, Some(role), api).is_ok();
        let (decide, record) = (may(Api::DecideCommunication), may(Api::RecordDelivery));
        let open: Vec<CommForm> = comms
            .iter()
            .filter_map(|c| {
                let state = pb::CommState::try_from(c.state).ok()?;
                let decide = decide && state == pb::CommState::Draft;
                let record = record
                    && matches!(
                        state,
                        pb::CommState::Approved | pb::CommState::DeliveryFailed
                    );
                (decide || record).then(|| CommForm {
                    id: c.communication_id.clone(),
                    audience: c.audience.clone(),
                    subject: c.subject.clone(),
                    body: c.body.clone(),
                    drafted_by: c.drafted_by.clone(),
                    state: crate::view::words::comm_state(c.state),
                    decide,
                    record,
                })
            })
            .collect();
        let comms = Self {
            csrf,
            draft: may(Api::DraftCommunication),
            audiences: Audience::ALL.iter().map(|a| a.as_str()).collect(),
            open,
        };
        (comms.draft || !comms.open.is_empty()).then_some(comms)
    }
}

fn desk(state: &WebState) -> CommsDesk<'_> {
    CommsDesk {
        store: &state.store,
        roles: &state.roles,
        deliver: &state.deliver,
        allow_self_approval: state.allow_self_approval,
    }
}

/// `POST /incidents/{id}/comms` with `audience` and `note`: a new draft.
pub async fn draft(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let result = Commands::on(&state.ingest)
        .draft_comm(
            &desk(&state),
            &posted.acting,
            incident,
            posted.one("audience"),
            posted.one("note"),
        )
        .await;
    forms::finish(&state, &viewer, &id, result)
}

/// `POST /incidents/{id}/comms/{comm}` with `decision` (`approve`, `reject`, `delivered`),
/// and `reason` (a rejection's) or `channel` (a delivery's).
pub async fn decide(
    State(state): State<WebState>,
    Path((_, comm)): Path<(String, String)>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let Ok(comm) = ulid::Ulid::from_string(&comm) else {
        let error = HubError::not_found("No such communication.");
        return forms::refused_page(&viewer, &id, &error);
    };
    let commands = Commands::on(&state.ingest);
    let desk = desk(&state);
    let result = match posted.one("decision") {
        "approve" => {
            commands
                .decide_comm(&desk, &posted.acting, incident, comm, true, String::new())
                .await
        }
        "reject" => {
            let reason = posted.one("reason").to_string();
            commands
                .decide_comm(&desk, &posted.acting, incident, comm, false, reason)
                .await
        }
        "delivered" => {
            commands
                .record_delivery(&desk, &posted.acting, incident, comm, posted.one("channel"))
                .await
        }
        other => Err(HubError::invalid(format!(
            "{other:?} is not a decision; use approve, reject or delivered"
        ))),
    };
    forms::finish(&state, &viewer, &id, result)
}
