//! `Operator.SetIncidentMember`: the incident's IR lead or the CISO adds an operator of the
//! roster to an incident (or removes one); members may read it when it is TLP:RED
//! (`access::incident`). Written through the ingest writer and audited; the live copy in the
//! roster cache is reloaded so the change applies to the next read.

use super::acting::{Acting, Roles, incident_id, read};
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::ingest::apply::MemberChange;
use crate::lifecycle::HubRole;
use crate::store::HubStore;
use socfed_proto::pb;
use std::sync::Arc;
use tonic::{Request, Response, Status};

pub async fn set_member(
    store: &Arc<HubStore>,
    roles: &Roles,
    ingest: &IngestHandle,
    request: Request<pb::SetIncidentMemberRequest>,
) -> Result<Response<pb::IncidentMembers>, Status> {
    let acting = Acting::of(roles, &request, "SetIncidentMember")?;
    let pb::SetIncidentMemberRequest { id, name, remove } = request.into_inner();
    let incident = incident_id(&id)?;
    let name = socfed_proto::identity::parse_operator_name(&name)
        .map_err(|e| HubError::invalid(e.to_string()))?;
    let Some(record) = read(store, move |s| s.incident(incident)).await? else {
        return Err(HubError::not_found(format!(
            "no incident {incident}; list incidents to see valid ids"
        ))
        .into());
    };
    let lead = record.lifecycle.ir_lead.as_deref();
    if acting.role != Some(HubRole::Ciso) && lead != Some(acting.name.as_str()) {
        tracing::warn!(operator = %acting.name, %incident, "incident member change refused");
        return Err(HubError::denied(format!(
            "changing the members of incident {incident} needs its IR lead ({}) or the CISO; operator {:?} is neither",
            lead.unwrap_or("none assigned: `sirt-hub incidents assign` first"),
            acting.name
        )).into());
    }
    if !remove && roles.get(&name).is_none() {
        return Err(HubError::invalid(format!(
            "operator {name:?} is not in the hub roster, and TLP:RED needs a role; add them first with `sirt-hub operators add`"
        )).into());
    }
    let change = MemberChange {
        incident,
        name,
        remove,
        actor: acting.name.clone(),
        actor_role: acting.role,
        actor_cert: acting.cert.clone(),
    };
    crate::service::Commands::on(ingest)
        .change_members(change)
        .await?;
    roles.replace_members(read(store, |s| s.incident_members()).await?);
    Ok(Response::new(pb::IncidentMembers {
        id: incident.to_string(),
        names: roles.members_of(incident),
    }))
}
