//! The `directives` tree: one record per directive id the hub ever sent. Its presence is what
//! makes a resent directive a no-op.

use super::schema::{self, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::directive::{ActionGroup, DirectiveRecord};
use ulid::Ulid;

impl AgentStore {
    pub fn directive(&self, id: Ulid) -> Result<Option<DirectiveRecord>, StoreError> {
        match self.tree(TreeId::Directives).get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Directives, &raw)?)),
            None => Ok(None),
        }
    }

    /// Newest first, the first `limit` that are `wanted`.
    pub fn directives(
        &self,
        limit: usize,
        wanted: impl Fn(&DirectiveRecord) -> bool,
    ) -> Result<Vec<DirectiveRecord>, StoreError> {
        let mut out = Vec::new();
        for value in self.tree(TreeId::Directives).iter().values().rev() {
            let record: DirectiveRecord = schema::decode(TreeId::Directives, &value?)?;
            if wanted(&record) {
                out.push(record);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every directive not in a final state (read at start-up).
    pub fn unfinished_directives(&self) -> Result<Vec<DirectiveRecord>, StoreError> {
        let mut out = Vec::new();
        for value in self.tree(TreeId::Directives).iter().values() {
            let record: DirectiveRecord = schema::decode(TreeId::Directives, &value?)?;
            if !record.state.is_final() {
                out.push(record);
            }
        }
        Ok(out)
    }
}

impl AgentStore {
    /// The process group recorded for a directive's running action, if any.
    pub fn action_group(&self, id: Ulid) -> Result<Option<ActionGroup>, StoreError> {
        match self
            .tree(TreeId::Settings)
            .get(schema::action_group_key(id))?
        {
            Some(raw) => Ok(Some(schema::decode(TreeId::Settings, &raw)?)),
            None => Ok(None),
        }
    }
}

impl Unit<'_> {
    pub fn put_action_group(&mut self, id: Ulid, group: &ActionGroup) -> Result<(), StoreError> {
        self.put(TreeId::Settings, schema::action_group_key(id), group)?;
        Ok(())
    }

    pub fn remove_action_group(&mut self, id: Ulid) {
        self.remove(TreeId::Settings, schema::action_group_key(id));
    }

    pub fn put_directive(&mut self, record: &DirectiveRecord) -> Result<(), StoreError> {
        self.put(TreeId::Directives, record.id.to_bytes().to_vec(), record)?;
        Ok(())
    }

    pub fn directive(&self, id: Ulid) -> Result<Option<DirectiveRecord>, StoreError> {
        Ok(self.get(TreeId::Directives, &id.to_bytes())?)
    }
}
