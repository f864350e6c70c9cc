//! The hub event log inside a unit (`events`, its last sequence in `meta`): appended in the
//! unit of the change each event describes, so both are durable together or not at all; and
//! the API tokens the `/api/v1` endpoints accept (`api_tokens`), written with their audit entry.

use super::StoreUnit;
use crate::store::StoreError;
use crate::store::records::HubEvent;
use crate::store::schema::{self, TreeId};

impl StoreUnit<'_> {
    /// Appends `events` in order under the next sequences; the last one, if any.
    pub fn append_events(&mut self, events: &[HubEvent]) -> Result<Option<u64>, StoreError> {
        if events.is_empty() {
            return Ok(None);
        }
        let mut seq = self
            .work
            .get_u64(TreeId::Meta, schema::EVENT_SEQ.as_bytes())?;
        self.touched.first_event = self.touched.first_event.or(Some(seq.saturating_add(1)));
        for event in events {
            seq = seq.saturating_add(1);
            self.work
                .put(TreeId::Events, seq.to_be_bytes().to_vec(), event)?;
        }
        self.work
            .put_u64(TreeId::Meta, schema::EVENT_SEQ.as_bytes(), seq);
        self.touched.last_event = Some(seq);
        Ok(Some(seq))
    }

    /// Removes up to `limit` of the oldest events: those beyond the newest `keep` and those
    /// before `before_ms`. Returns how many went. The log is pruned only from its oldest
    /// end, so the sequences kept are contiguous and their count is `last - oldest + 1`.
    pub fn prune_events(
        &mut self,
        before_ms: socfed_proto::UnixMillis,
        keep: u64,
        limit: usize,
    ) -> Result<usize, StoreError> {
        let last = self
            .work
            .get_u64(TreeId::Meta, schema::EVENT_SEQ.as_bytes())?;
        let oldest = self.work.entries_from(TreeId::Events, &[], &[], limit)?;
        let Some(first) = oldest.first() else {
            return Ok(0);
        };
        let first = schema::u64_value(schema::EVENTS, &first.0)?;
        let mut over = (last.saturating_sub(first).saturating_add(1)).saturating_sub(keep);
        let mut removed = 0;
        for (key, raw) in oldest {
            if over > 0 {
                over -= 1;
            } else {
                // An event that does not decode is old enough to go: it can be served to no one.
                let event: Result<HubEvent, _> = schema::decode(TreeId::Events, &raw);
                if event.is_ok_and(|e| e.at_ms >= before_ms) {
                    break;
                }
            }
            self.work.remove(TreeId::Events, key.to_vec());
            removed += 1;
        }
        Ok(removed)
    }
}

impl StoreUnit<'_> {
    /// The API token `id`, as this unit sees it.
    pub fn api_token(
        &self,
        id: ulid::Ulid,
    ) -> Result<Option<socfed_runtime::api_token::TokenRecord>, StoreError> {
        Ok(self.work.get(TreeId::ApiTokens, &id.to_bytes())?)
    }

    pub fn put_api_token(
        &mut self,
        record: &socfed_runtime::api_token::TokenRecord,
    ) -> Result<(), StoreError> {
        self.work
            .put(TreeId::ApiTokens, record.id.to_bytes().to_vec(), record)?;
        Ok(())
    }
}
