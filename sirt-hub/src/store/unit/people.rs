//! People inside a unit: the roster (`operators`, and in `meta` how many operators may manage
//! it), incident members, dashboard links and sessions (`web_sessions`), and the audit chain
//! every operator action is sealed into (`audit`, its head in `meta`), and the webhook sinks'
//! cursors (in `meta`), whose give-ups are sealed into it.

use super::StoreUnit;
use crate::access::roster::OperatorRecord;
use crate::session::Grant;
use crate::store::StoreError;
use crate::store::schema::{self, TreeId, WEB_LINK, WEB_SESSION, web_key};
use ulid::Ulid;

/// A dashboard grant's key: a sign-in link or a session, by the hash of its secret.
#[derive(Debug, Clone, Copy)]
pub enum GrantKey<'k> {
    Link(&'k [u8; 32]),
    Session(&'k [u8; 32]),
    /// A full key as a store query listed it (`HubStore::expired_web_keys`).
    Listed(&'k [u8]),
}

impl GrantKey<'_> {
    fn bytes(self) -> Vec<u8> {
        match self {
            GrantKey::Link(hash) => web_key(WEB_LINK, hash).to_vec(),
            GrantKey::Session(hash) => web_key(WEB_SESSION, hash).to_vec(),
            GrantKey::Listed(key) => key.to_vec(),
        }
    }
}

impl StoreUnit<'_> {
    pub fn operator(&self, name: &str) -> Result<Option<OperatorRecord>, StoreError> {
        Ok(self.work.get(TreeId::Operators, name.as_bytes())?)
    }

    pub fn put_operator(&mut self, name: &str, record: &OperatorRecord) -> Result<(), StoreError> {
        self.work
            .put(TreeId::Operators, name.as_bytes().to_vec(), record)?;
        Ok(())
    }

    pub fn remove_operator(&mut self, name: &str) {
        self.work
            .remove(TreeId::Operators, name.as_bytes().to_vec());
    }

    /// Moves webhook sink `sink`'s delivery cursor to event `to` (`crate::webhooks`).
    pub fn set_webhook_cursor(&mut self, sink: &str, to: &str) -> Result<(), StoreError> {
        self.work.put(
            TreeId::Meta,
            schema::webhook_cursor_key(sink),
            &to.to_string(),
        )?;
        Ok(())
    }

    /// How many operators may manage the roster.
    pub fn roster_keepers(&self) -> Result<u64, StoreError> {
        Ok(self
            .work
            .get_u64(TreeId::Meta, schema::ROSTER_KEEPERS.as_bytes())?)
    }

    pub fn set_roster_keepers(&mut self, keepers: u64) {
        self.work
            .put_u64(TreeId::Meta, schema::ROSTER_KEEPERS.as_bytes(), keepers);
    }

    pub fn is_member(&self, incident: Ulid, name: &str) -> Result<bool, StoreError> {
        let key = schema::member_key(incident, name);
        Ok(self.work.get_raw(TreeId::Meta, &key)?.is_some())
    }

    pub fn set_member(&mut self, incident: Ulid, name: &str, member: bool) {
        let key = schema::member_key(incident, name);
        if member {
            self.work.put_raw(TreeId::Meta, key, Vec::new());
        } else {
            self.work.remove(TreeId::Meta, key);
        }
    }

    pub fn grant(&self, key: GrantKey<'_>) -> Result<Option<Grant>, StoreError> {
        Ok(self.work.get(TreeId::WebSessions, &key.bytes())?)
    }

    pub fn put_grant(&mut self, key: GrantKey<'_>, grant: &Grant) -> Result<(), StoreError> {
        self.work.put(TreeId::WebSessions, key.bytes(), grant)?;
        Ok(())
    }

    pub fn remove_grant(&mut self, key: GrantKey<'_>) {
        self.work.remove(TreeId::WebSessions, key.bytes());
    }

    /// Seals `draft` as the next entry of the audit chain.
    pub fn audit(&mut self, draft: socfed_runtime::audit::AuditDraft) -> Result<(), StoreError> {
        let head: Option<schema::AuditHead> =
            self.work.get(TreeId::Meta, schema::AUDIT_HEAD.as_bytes())?;
        let (seq, prev) = head.map_or((1, socfed_runtime::audit::GENESIS), |h| (h.seq + 1, h.hash));
        let entry = socfed_runtime::audit::seal(draft, seq, prev, self.audit_key);
        self.work
            .put(TreeId::Audit, seq.to_be_bytes().to_vec(), &entry)?;
        self.work.put(
            TreeId::Meta,
            schema::AUDIT_HEAD.as_bytes().to_vec(),
            &schema::AuditHead {
                seq,
                hash: entry.hash,
            },
        )?;
        Ok(())
    }
}
