//! The operator roster as the services see it: an in-memory copy of the `operators` tree,
//! replaced after every committed change, so a role change applies to the next call without
//! a restart.

use crate::lifecycle::HubRole;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

/// One roster entry, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRecord {
    pub role: HubRole,
    pub since_ms: i64,
    /// An operator name, or "config".
    pub set_by: String,
}

#[derive(Debug, Default)]
pub struct RosterCache {
    roles: RwLock<HashMap<String, HubRole>>,
    /// Operators added to incidents (`sirt-hub incidents members`), who may read them at
    /// TLP:RED; replaced after every change like the roles.
    members: RwLock<HashMap<ulid::Ulid, BTreeSet<String>>>,
}

impl RosterCache {
    pub fn get(&self, name: &str) -> Option<HubRole> {
        self.roles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()
    }

    /// The names of operators whose role `keep`s, sorted (the dashboard's IR lead picker).
    pub fn names_where(&self, keep: impl Fn(HubRole) -> bool) -> Vec<String> {
        let mut names: Vec<String> = self
            .roles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, role)| keep(**role))
            .map(|(name, _)| name.clone())
            .collect();
        names.sort();
        names
    }

    pub fn replace(&self, entries: &[(String, OperatorRecord)]) {
        let map = entries.iter().map(|(n, r)| (n.clone(), r.role)).collect();
        *self.roles.write().unwrap_or_else(|p| p.into_inner()) = map;
    }

    pub fn is_member(&self, incident: ulid::Ulid, name: &str) -> bool {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&incident)
            .is_some_and(|names| names.contains(name))
    }

    pub fn members_of(&self, incident: ulid::Ulid) -> Vec<String> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&incident)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn replace_members(&self, entries: Vec<(ulid::Ulid, String)>) {
        let mut map: HashMap<ulid::Ulid, BTreeSet<String>> = HashMap::new();
        for (incident, name) in entries {
            map.entry(incident).or_default().insert(name);
        }
        *self.members.write().unwrap_or_else(|p| p.into_inner()) = map;
    }
}
