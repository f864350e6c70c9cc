//! The operator roster as the services see it: an in-memory copy of the `operators` tree,
//! replaced after every committed change, so a role change applies to the next call without
//! a restart.

use crate::lifecycle::HubRole;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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
}

impl RosterCache {
    pub fn get(&self, name: &str) -> Option<HubRole> {
        self.roles
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()
    }

    pub fn replace(&self, entries: &[(String, OperatorRecord)]) {
        let map = entries.iter().map(|(n, r)| (n.clone(), r.role)).collect();
        *self.roles.write().unwrap_or_else(|p| p.into_inner()) = map;
    }
}
