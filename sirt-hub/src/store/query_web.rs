//! Reads of dashboard links and sessions (`web_sessions`), of incident members (who may
//! read a TLP:RED incident) and of the webhook sinks' cursors.

use super::schema::{self, web_key};
use super::{HubStore, StoreError};
use crate::session::Grant;
use socfed_proto::UnixMillis;

impl HubStore {
    /// The link (`schema::WEB_LINK`) or session (`schema::WEB_SESSION`) stored under `hash`.
    pub fn web_grant(&self, kind: u8, hash: &[u8; 32]) -> Result<Option<Grant>, StoreError> {
        match self.trees.web_sessions.get(web_key(kind, hash))? {
            Some(raw) => Ok(Some(schema::decode(schema::TreeId::WebSessions, &raw)?)),
            None => Ok(None),
        }
    }

    /// Keys of up to `max` links and sessions expired at `now`, for the writer to purge.
    pub fn expired_web_keys(
        &self,
        now: UnixMillis,
        max: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = Vec::new();
        for entry in self.trees.web_sessions.iter() {
            let (key, value) = entry?;
            let grant: Grant = schema::decode(schema::TreeId::WebSessions, &value)?;
            if now >= grant.expires_ms {
                out.push(key.to_vec());
                if out.len() >= max {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every (incident, operator) membership.
    pub fn incident_members(&self) -> Result<Vec<(ulid::Ulid, String)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.trees.meta.scan_prefix(schema::MEMBERS_PREFIX) {
            let (key, _) = entry?;
            let rest = &key[schema::MEMBERS_PREFIX.len()..];
            let Some((id, name)) = rest.split_first_chunk::<16>() else {
                return Err(schema::key_length(schema::META, key.len()).into());
            };
            out.push((
                ulid::Ulid::from_bytes(*id),
                String::from_utf8_lossy(name).into_owned(),
            ));
        }
        Ok(out)
    }

    /// Webhook sink `sink`'s delivery cursor, if it ever ran (`crate::webhooks`).
    pub fn webhook_cursor(&self, sink: &str) -> Result<Option<String>, StoreError> {
        match self.trees.meta.get(schema::webhook_cursor_key(sink))? {
            Some(raw) => Ok(Some(schema::decode(schema::TreeId::Meta, &raw)?)),
            None => Ok(None),
        }
    }
}
