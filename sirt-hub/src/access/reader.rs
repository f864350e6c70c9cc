//! Who may read what at the hub, for every surface that reads (gRPC, the dashboard): a
//! [`Reader`] is an operator by name, checked against the live roster and the TLP:RED rule
//! ([`super::incident`]) at each read. Transports make one (`grpc::acting` from a request's
//! certificate, the dashboard from its session); neither owns the rule.

use crate::error::HubError;
use crate::store::{DirectiveFilter, DirectivesPage, HubStore, HuntsPage, StoreError, Visibility};
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

    /// Whether this operator may read a hunt library entry marked `tlp`: a TLP:RED one (a
    /// feed shared under RED, say) only the library's keepers, who may change it anyway.
    pub fn may_read_library(&self, tlp: socfed_proto::vocab::Tlp) -> bool {
        tlp < socfed_proto::vocab::Tlp::Red
            || super::check(
                &self.name,
                self.roles.get(&self.name),
                super::Api::KeepHuntLibrary,
            )
            .is_ok()
    }

    /// Whether this operator may read data of `record` marked `tlp` (an observable's own
    /// marking counts when it is stricter than the incident's).
    pub fn can_read_marked(
        &self,
        record: &crate::incident::IncidentRecord,
        tlp: socfed_proto::vocab::Tlp,
    ) -> bool {
        let mut facts = self.facts(record);
        facts.tlp = facts.tlp.max(tlp);
        crate::access::incident::may_read(&self.name, self.roles.get(&self.name), facts).is_ok()
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
    /// A page of directives as [`HubStore::directives_page`], without those of incidents
    /// this operator may not read, in the page and in its total. Runs on the store's side.
    pub fn directives_page(
        &self,
        store: &HubStore,
        filter: &DirectiveFilter,
        after: Option<Ulid>,
        limit: usize,
    ) -> Result<DirectivesPage, StoreError> {
        self.walk(store, |visible| {
            store.directives_page(filter, after, limit, visible)
        })
    }

    /// A page of hunts as [`HubStore::hunts_page`], without those started from or attached
    /// to an incident this operator may not read (their indicators and hits are that
    /// incident's data), in the page and in its total. Runs on the store's side.
    pub fn hunts_page(
        &self,
        store: &HubStore,
        before: Option<Ulid>,
        limit: usize,
    ) -> Result<HuntsPage, StoreError> {
        self.walk(store, |visible| store.hunts_page(before, limit, visible))
    }

    /// Incidents matching `query` that this operator may read, newest first, below `before`
    /// (`crate::store::HubStore::search_incidents`).
    pub fn search_incidents(
        &self,
        store: &HubStore,
        query: &socfed_proto::search::Query,
        before: Option<Ulid>,
        limit: usize,
    ) -> Result<(Vec<crate::incident::IncidentRecord>, Option<Ulid>), StoreError> {
        self.walk(store, |visible| {
            store.search_incidents(query, before, limit, visible)
        })
    }

    /// Runs `listing` with what this operator may see: everything for the CISO (no incident
    /// need be read), else each incident asked once per walk (an unknown id is readable:
    /// the caller answers for it).
    fn walk<T>(
        &self,
        store: &HubStore,
        listing: impl FnOnce(Visibility<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.roles.get(&self.name) == Some(crate::lifecycle::HubRole::Ciso) {
            return listing(Visibility::All);
        }
        let mut known = std::collections::HashMap::new();
        let mut may_read = |id: Ulid| {
            if let Some(readable) = known.get(&id) {
                return Ok(*readable);
            }
            let readable = store.incident(id)?.is_none_or(|r| self.can_read(&r));
            known.insert(id, readable);
            Ok(readable)
        };
        listing(Visibility::Incident(&mut may_read))
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
