//! Who is calling an operator API: the certificate check, the caller's hub role, and the
//! helpers every operator-facing service shares.

use crate::error::HubError;
use crate::lifecycle::HubRole;
use crate::store::HubStore;
use socfed_runtime::peer::{caller, require_role};
use std::sync::Arc;
use tonic::{Request, Status};
use ulid::Ulid;

/// Operator name → role at the hub: the live roster.
pub type Roles = Arc<crate::access::roster::RosterCache>;

pub fn authorize<T>(request: &Request<T>, api: &str) -> Result<(), Status> {
    let peer = caller(request)?;
    require_role(&peer, "operator", api).inspect_err(|status| {
        tracing::warn!(caller = %peer.uri, api, reason = status.message(), "operator api refused");
    })
}

/// Runs a blocking store read off the async workers.
pub async fn read<T: Send + 'static>(
    store: &Arc<HubStore>,
    f: impl FnOnce(&HubStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, HubError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|_| HubError::internal("store read task failed"))?
        .map_err(|e| HubError::storage(&e))
}

/// An operator making a change at the hub: who, with which role, from which certificate.
pub struct Acting {
    pub name: String,
    pub role: Option<HubRole>,
    pub cert: String,
}

impl Acting {
    /// The caller of a change API: an operator certificate, and its role from `[[operators]]`.
    pub fn of<T>(roles: &Roles, request: &Request<T>, api: &str) -> Result<Self, Status> {
        authorize(request, api)?;
        let peer = caller(request)?;
        let socfed_proto::identity::Identity::Operator(name) = peer.identity else {
            return Err(HubError::denied(format!("{api} needs an operator certificate")).into());
        };
        Ok(Acting {
            role: roles.get(&name),
            cert: format!("{} ({})", peer.uri, peer.fingerprint),
            name,
        })
    }

    /// Refuses unless the permission matrix ([`crate::access`]) lets this caller call `api`.
    pub fn may(&self, api: crate::access::Api) -> Result<(), Status> {
        crate::access::check(&self.name, self.role, api).map_err(|denied| {
            tracing::warn!(operator = %self.name, api = ?api, reason = %denied, "operator call refused");
            HubError::denied(denied.to_string())
        }).map_err(Status::from)
    }
}

/// An operator reading incident data: every read of an incident, or of what carries its data
/// (communications, directives, hunts), asks here ([`crate::access::incident`]). The role is
/// read from the live roster at each check, so a long watch follows role changes.
#[derive(Clone)]
pub struct Reader {
    pub name: String,
    roles: Roles,
}

impl Reader {
    /// The caller of a read API: an operator certificate (its name; the role comes later).
    pub fn of<T>(roles: &Roles, request: &Request<T>, api: &str) -> Result<Self, Status> {
        authorize(request, api)?;
        let peer = caller(request)?;
        let socfed_proto::identity::Identity::Operator(name) = peer.identity else {
            return Err(HubError::denied(format!("{api} needs an operator certificate")).into());
        };
        Ok(Self {
            name,
            roles: roles.clone(),
        })
    }

    /// A reader known by name (a dashboard session).
    pub fn named(name: &str, roles: &Roles) -> Self {
        Self {
            name: name.to_string(),
            roles: roles.clone(),
        }
    }

    /// The operator making a change, as a reader of what it changes.
    pub fn acting(acting: &Acting, roles: &Roles) -> Self {
        Self {
            name: acting.name.clone(),
            roles: roles.clone(),
        }
    }

    /// `PERMISSION_DENIED` naming what is needed when this operator may not read `record`.
    pub fn may_read(&self, record: &crate::incident::IncidentRecord) -> Result<(), Status> {
        crate::access::incident::may_read(
            &self.name,
            self.roles.get(&self.name),
            self.facts(record),
        )
        .map_err(|denied| {
            tracing::warn!(operator = %self.name, incident = %record.id, "TLP:RED read refused");
            HubError::denied(denied.to_string())
        })
        .map_err(Status::from)
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
    pub async fn may_read_id(&self, store: &Arc<HubStore>, id: Ulid) -> Result<(), Status> {
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
    ) -> Result<Vec<crate::response::DirectiveRecord>, Status> {
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

pub fn incident_id(raw: &str) -> Result<Ulid, Status> {
    Ulid::from_string(raw)
        .map_err(|_| {
            HubError::invalid(format!("{raw:?} is not an incident id (26-character ULID)"))
        })
        .map_err(Status::from)
}
