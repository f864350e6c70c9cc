//! The `settings` tree: round-robin cursors per tier, the mute of the "unassigned"
//! notification and the webhook sinks' delivery cursors (the process groups of running
//! actions are in `directives.rs`).

use super::StoreError;
use super::schema::{self, TreeId};
use super::unit::Unit;
use crate::soc::Tier;
use crate::soc::notify::UnassignedMute;

impl Unit<'_> {
    /// The analyst last given a new group at `tier` (round-robin cursor).
    pub fn round_robin_cursor(&self, tier: Tier) -> Result<Option<String>, StoreError> {
        Ok(self.get(TreeId::Settings, &schema::round_robin_key(tier.number()))?)
    }

    pub fn set_round_robin_cursor(&mut self, tier: Tier, name: &str) -> Result<(), StoreError> {
        Ok(self.put(
            TreeId::Settings,
            schema::round_robin_key(tier.number()),
            &name.to_string(),
        )?)
    }

    /// The mute of the "unassigned" notification (default: nothing held).
    pub fn unassigned_mute(&self) -> Result<UnassignedMute, StoreError> {
        Ok(self
            .get(TreeId::Settings, schema::UNASSIGNED_MUTE.as_bytes())?
            .unwrap_or_default())
    }

    pub fn put_unassigned_mute(&mut self, mute: &UnassignedMute) -> Result<(), StoreError> {
        Ok(self.put(
            TreeId::Settings,
            schema::UNASSIGNED_MUTE.as_bytes().to_vec(),
            mute,
        )?)
    }

    /// Webhook sink `sink`'s delivery cursor (`webhooks.rs`), if it ever ran.
    pub fn webhook_cursor(&self, sink: &str) -> Result<Option<String>, StoreError> {
        Ok(self.get(TreeId::Settings, &schema::webhook_cursor_key(sink))?)
    }

    pub fn set_webhook_cursor(&mut self, sink: &str, cursor: &str) -> Result<(), StoreError> {
        Ok(self.put(
            TreeId::Settings,
            schema::webhook_cursor_key(sink),
            &cursor.to_string(),
        )?)
    }
}
