//! The `api_tokens` tree (schema 9): the HTTP API's tokens for integrations, one
//! `socfed_runtime::api_token::TokenRecord` per token id. Records hold the secret's hash,
//! never the secret; a revoked token keeps its record (so its id is never reused and the
//! audit log's mentions of it stay readable).

use super::schema::{self, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use socfed_runtime::api_token::TokenRecord;
use ulid::Ulid;

/// Tokens listed at most: a site has a handful of integrations, not thousands.
pub const MAX_TOKENS_LISTED: usize = 1_000;

impl AgentStore {
    pub fn api_token(&self, id: Ulid) -> Result<Option<TokenRecord>, StoreError> {
        match self.tree(TreeId::ApiTokens).get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::ApiTokens, &raw)?)),
            None => Ok(None),
        }
    }

    /// Every token, oldest first (ids are ULIDs made when minted), at most
    /// [`MAX_TOKENS_LISTED`].
    pub fn api_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.tree(TreeId::ApiTokens)
            .iter()
            .values()
            .take(MAX_TOKENS_LISTED)
            .map(|v| Ok(schema::decode(TreeId::ApiTokens, &v?)?))
            .collect()
    }
}

impl Unit<'_> {
    pub fn put_api_token(&mut self, record: &TokenRecord) -> Result<(), StoreError> {
        self.put(TreeId::ApiTokens, record.id.to_bytes().to_vec(), record)?;
        Ok(())
    }

    pub fn api_token(&self, id: Ulid) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self.get(TreeId::ApiTokens, &id.to_bytes())?)
    }
}

/// Schema 8 → 9: `api_tokens` is opened (empty) with the other trees; only the version is
/// recorded, so an older build refuses the store rather than ignore its tokens. Kept here,
/// whole, so that renumbering it against another schema bump is one line in `upgrade.rs`.
pub(super) fn upgrade_to_v9(db: &sled::Db, meta: &sled::Tree) -> Result<(), StoreError> {
    meta.insert(schema::SCHEMA_VERSION_KEY, &9u32.to_be_bytes())?;
    db.flush()?;
    tracing::info!("store upgraded to schema 9: API tokens and SOC console sessions");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::TreeSet as _;
    use crate::store::upgrade::tests::{raw_db, reopen as open};
    use socfed_runtime::api_token::{self, Scope};

    /// A store written as schema 8 (no `api_tokens`) opens as 9, keeps what it held, and
    /// takes tokens.
    #[test]
    fn a_schema_8_store_opens_as_9_and_takes_tokens() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let epoch = {
            let store = open(dir.path())?;
            store.epoch()
        };
        {
            let db = raw_db(dir.path())?;
            db.open_tree(TreeId::Meta.name())?
                .insert(schema::SCHEMA_VERSION_KEY, &8u32.to_be_bytes())?;
            db.drop_tree(TreeId::ApiTokens.name())?;
            db.flush()?;
        }
        let store = open(dir.path())?;
        assert_eq!(store.epoch(), epoch);
        assert!(store.api_tokens()?.is_empty());
        let minted = api_token::mint("vector", &[Scope::Intake], 3_600_000, "mona", "0a", 1_000)?;
        store.unit(|unit| unit.put_api_token(&minted.record))?;
        assert_eq!(store.api_token(minted.record.id)?, Some(minted.record));
        drop(store);
        let db = raw_db(dir.path())?;
        assert_eq!(
            db.open_tree(TreeId::Meta.name())?
                .get(schema::SCHEMA_VERSION_KEY)?
                .map(|v| v.to_vec()),
            Some(schema::SCHEMA_VERSION.to_be_bytes().to_vec())
        );
        Ok(())
    }
}
