//! Reading the audit chain's entries in order (verification is in `query.rs`). Read-only.

use super::{HubStore, StoreError, schema};
use socfed_runtime::audit::AuditEntry;

impl HubStore {
    /// Every audit entry, oldest first.
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        for value in self.trees.audit.iter().values() {
            out.push(schema::decode(schema::TreeId::Audit, &value?)?);
        }
        Ok(out)
    }
}
