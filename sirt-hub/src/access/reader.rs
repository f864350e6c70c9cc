//! Who may read what at the hub, for every surface that reads (gRPC, the dashboard): a
//! [`Reader`] is an operator by name, checked against the live roster and the TLP:RED rule
//! ([`super::incident`]) at each read. Transports make one (`grpc::acting` from a request's
//! certificate, the dashboard from its session); neither owns the rule.

use crate::error::HubError;
use crate::store::HubStore;
use crate::view::read;
use std::sync::Arc;
use ulid::Ulid;

/// Operator name → role at the hub: the live roster.
pub type Roles = Arc<super::roster::RosterCache>;

/// An operator reading incident data: every read of an incident, or of what carries its data
/// (communications, directives, hunts), asks here ([`crate::access::incident`]). The role is
/// read from the live roster at each check, so a long watch follows role changes.
#[derive(Clone)]
pub struct Reader {
    pub name: String,
    pub(crate) roles: Roles,
}

impl Reader {
    /// A reader known by name (a dashboard session).
    pub fn named(name: &str, roles: &Roles) -> Self {
        Self {
            name: name.to_string(),
            roles: roles.clone(),
        }
    }

    /// `PERMISSION_DENIED` naming what is needed when this operator may not read `record`.
    pub fn may_read(&self, record: &crate::incident::IncidentRecord) -> Result<(), HubError> {
        crate::access::incident::may_read(
            &self.name,
            self.roles.get(&self.name),
            self.facts(record),
        )
        .map_err(|denied| {
            tracing::warn!(operator = %self.name, incident = %record.id, "TLP:RED read refused");
            HubError::denied(denied.to_string())
        })
    }

    /// For listings, which omit what the caller may not read.
    pub fn can_read(&self, record: &crate::incident::IncidentRecord) -> bool {
        crate::access::incident::may_read(
            &self.name,
            self.roles.get(&self.name),
            self.facts(record),
        )
        .is_ok()
    }

    /// Refuses unless this operator may read incident `id` (an unknown id is not refused
    /// here: the caller answers for it).
    pub async fn may_read_id(&self, store: &Arc<HubStore>, id: Ulid) -> Result<(), HubError> {
        match read(store, move |s| s.incident(id)).await? {
            Some(record) => self.may_read(&record),
            None => Ok(()),
        }
    }

    /// Which of `ids` this operator may not read (unknown ids are not in it).
    pub async fn unreadable(
        &self,
        store: &Arc<HubStore>,
        ids: Vec<Ulid>,
    ) -> Result<std::collections::HashSet<Ulid>, HubError> {
        let records = read(store, move |s| {
            ids.into_iter()
                .map(|id| s.incident(id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
        Ok(records
            .into_iter()
            .flatten()
            .filter(|r| !self.can_read(r))
            .map(|r| r.id)
            .collect())
    }
}

impl Reader {
    /// `directives` without those of incidents this operator may not read.
    pub async fn readable_directives(
        &self,
        store: &Arc<HubStore>,
        mut directives: Vec<crate::response::DirectiveRecord>,
    ) -> Result<Vec<crate::response::DirectiveRecord>, HubError> {
        let ids = directives.iter().filter_map(|d| d.incident).collect();
        let hidden = self.unreadable(store, ids).await?;
        directives.retain(|d| d.incident.is_none_or(|i| !hidden.contains(&i)));
        Ok(directives)
    }

    /// `hunts` without those started from, or attached to, an incident this operator may not
    /// read (their indicators and hits are that incident's data).
    pub async fn readable_hunts<S>(
        &self,
        store: &Arc<HubStore>,
        mut hunts: Vec<(crate::response::HuntRecord, S)>,
    ) -> Result<Vec<(crate::response::HuntRecord, S)>, HubError> {
        let ids = hunts
            .iter()
            .flat_map(|(h, _)| [h.incident, h.attached_to])
            .flatten()
            .collect();
        let hidden = self.unreadable(store, ids).await?;
        hunts.retain(|(h, _)| {
            [h.incident, h.attached_to]
                .into_iter()
                .flatten()
                .all(|i| !hidden.contains(&i))
        });
        Ok(hunts)
    }
}

impl Reader {
    /// The facts of an incident the TLP:RED rule looks at, for this reader.
    fn facts<'a>(
        &self,
        record: &'a crate::incident::IncidentRecord,
    ) -> crate::access::incident::IncidentAccess<'a> {
        crate::access::incident::IncidentAccess {
            id: record.id,
            tlp: record.tlp(),
            ir_lead: record.lifecycle.ir_lead.as_deref(),
            member: self.roles.is_member(record.id, &self.name),
        }
    }
}
