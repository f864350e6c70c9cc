//! Reads of the hub event log (`events`, appended and pruned by `unit/events.rs`): what the
//! event log reader (the crate's `events` module) serves; and of the API tokens
//! (`api_tokens`).

use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use crate::store::records::HubEvent;

impl HubStore {
    /// The last event sequence ever appended (0: none), pruned or not.
    pub fn last_event_seq(&self) -> Result<u64, StoreError> {
        match self.trees.meta.get(schema::EVENT_SEQ)? {
            Some(raw) => Ok(schema::u64_value(schema::META, &raw)?),
            None => Ok(0),
        }
    }

    /// The oldest sequence still kept, if any.
    pub fn oldest_event(&self) -> Result<Option<u64>, StoreError> {
        match self.registry.tree(TreeId::Events).first()? {
            Some((key, _)) => Ok(Some(schema::u64_value(schema::EVENTS, &key)?)),
            None => Ok(None),
        }
    }

    /// At most `limit` events with a sequence in `(after, upto]`, oldest first.
    pub fn events_after(
        &self,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Vec<(u64, HubEvent)>, StoreError> {
        if after >= upto {
            return Ok(Vec::new());
        }
        let (from, to) = (after.saturating_add(1), upto);
        let tree = self.registry.tree(TreeId::Events);
        let mut out = Vec::new();
        for entry in tree
            .range(from.to_be_bytes().to_vec()..=to.to_be_bytes().to_vec())
            .take(limit)
        {
            let (key, raw) = entry?;
            let seq = schema::u64_value(schema::EVENTS, &key)?;
            out.push((seq, schema::decode(TreeId::Events, &raw)?));
        }
        Ok(out)
    }
}

impl HubStore {
    /// The API token `id`, if the store has it (revoked and expired ones included).
    pub fn api_token(
        &self,
        id: ulid::Ulid,
    ) -> Result<Option<socfed_runtime::api_token::TokenRecord>, StoreError> {
        match self.registry.tree(TreeId::ApiTokens).get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::ApiTokens, &raw)?)),
            None => Ok(None),
        }
    }

    /// Every API token, oldest first (a handful: tokens are minted by people).
    pub fn api_tokens(&self) -> Result<Vec<socfed_runtime::api_token::TokenRecord>, StoreError> {
        let mut out = Vec::new();
        for entry in self.registry.tree(TreeId::ApiTokens).iter() {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::ApiTokens, &raw)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "query_events_tests.rs"]
mod tests;
