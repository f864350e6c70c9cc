//! The `web_sessions` tree: the SOC console's one-time sign-in links and its sessions, each
//! under `kind ++ BLAKE3 of its secret` (`socfed_runtime::web::session`), so the store alone
//! signs nobody in. Written by `service/sessions.rs`, read on every console request.

use super::schema::TreeId;
use super::unit::Unit;
use super::{AgentStore, StoreError, schema};
use socfed_proto::UnixMillis;
use socfed_runtime::web::session::{Grant, grant_key};

impl AgentStore {
    /// The link (`KIND_LINK`) or session (`KIND_SESSION`) stored under `hash`.
    pub fn web_grant(&self, kind: u8, hash: &[u8; 32]) -> Result<Option<Grant>, StoreError> {
        match self.tree(TreeId::WebSessions).get(grant_key(kind, hash))? {
            Some(raw) => Ok(Some(schema::decode(TreeId::WebSessions, &raw)?)),
            None => Ok(None),
        }
    }

    /// Keys of at most `limit` links and sessions expired at `now` (for the purge).
    pub fn expired_web_keys(
        &self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut keys = Vec::new();
        for entry in self.tree(TreeId::WebSessions).iter() {
            let (key, value) = entry?;
            let grant: Grant = schema::decode(TreeId::WebSessions, &value)?;
            if now >= grant.expires_ms {
                keys.push(key.to_vec());
                if keys.len() >= limit {
                    break;
                }
            }
        }
        Ok(keys)
    }
}

impl Unit<'_> {
    /// The grant under a full `web_sessions` key.
    pub fn web_grant(&self, key: &[u8]) -> Result<Option<Grant>, StoreError> {
        Ok(self.get(TreeId::WebSessions, key)?)
    }

    pub fn put_web_grant(&mut self, key: &[u8], grant: &Grant) -> Result<(), StoreError> {
        self.put(TreeId::WebSessions, key.to_vec(), grant)?;
        Ok(())
    }

    pub fn remove_web_grant(&mut self, key: &[u8]) {
        self.remove(TreeId::WebSessions, key.to_vec());
    }
}

impl AgentStore {
    /// Every later change of the `groups` tree (the console's live queue).
    pub fn watch_groups(&self) -> sled::Subscriber {
        self.tree(TreeId::Groups).watch_prefix(Vec::<u8>::new())
    }
}

#[cfg(test)]
mod tests {
    use super::super::upgrade::tests::{raw_db, reopen};
    use super::*;
    use socfed_runtime::store_kit::TreeSet;
    use socfed_runtime::web::session::{KIND_SESSION, Secret};

    fn grant(expires_ms: i64) -> Grant {
        Grant {
            operator: "ana".into(),
            cert_serial: "0a".into(),
            cert_not_after_ms: i64::MAX,
            issued_ms: 0,
            expires_ms,
        }
    }

    /// A schema 8 store (written before the console: no `web_sessions`) opens as schema 9,
    /// its records untouched, and keeps console sessions from then on.
    #[test]
    fn a_schema_8_store_opens_as_9_and_keeps_console_sessions() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        {
            let db = raw_db(dir.path())?;
            db.open_tree(TreeId::Meta.name())?
                .insert(schema::SCHEMA_VERSION_KEY, &8u32.to_be_bytes())?;
            db.drop_tree(TreeId::WebSessions.name())?;
            db.flush()?;
        }
        let session = Secret::from_bytes([3; 32]).key();
        {
            let store = reopen(dir.path())?;
            assert_eq!(
                store
                    .tree(TreeId::Meta)
                    .get(schema::SCHEMA_VERSION_KEY)?
                    .map(|v| v.to_vec()),
                Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
            );
            store.unit(|unit| {
                unit.put_web_grant(&grant_key(KIND_SESSION, &session), &grant(1_000))
            })?;
            assert_eq!(store.expired_web_keys(999, 10)?.len(), 0);
            assert_eq!(store.expired_web_keys(1_000, 10)?.len(), 1);
        }
        let store = reopen(dir.path())?;
        assert_eq!(store.web_grant(KIND_SESSION, &session)?, Some(grant(1_000)));
        Ok(())
    }
}
