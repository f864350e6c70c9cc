//! Dashboard links and sessions inside the ingest transaction: issuing a link, exchanging it
//! for a session (once: the link is removed in the same transaction that writes the session),
//! signing out, and purging expired entries. Sign-ins and sign-outs are audited.

use super::{Tx, TxError, codec};
use crate::session::{Grant, Refused, session_from};
use crate::store::schema::{self, WEB_LINK, WEB_SESSION, web_key};
use socfed_proto::UnixMillis;

#[derive(Debug, Clone)]
pub enum WebChange {
    /// A link for `grant.operator`, stored under the hash of its secret.
    IssueLink {
        link: [u8; 32],
        grant: Grant,
        actor_cert: String,
    },
    /// The link `link` exchanged for a session stored under `session`.
    SignIn {
        link: [u8; 32],
        session: [u8; 32],
        session_ttl_ms: i64,
    },
    SignOut {
        session: [u8; 32],
    },
    /// Removes these entries (full keys) if they are still expired at `now`.
    Purge {
        keys: Vec<Vec<u8>>,
    },
}

#[derive(Debug, Clone)]
pub enum WebOutcome {
    Issued,
    SignedIn(Grant),
    Refused(Refused),
    /// Whether there was a session to end.
    SignedOut(bool),
    Purged(usize),
}

impl Tx<'_> {
    fn grant(&self, key: &[u8]) -> Result<Option<Grant>, TxError> {
        match self.web_sessions.get(key)? {
            Some(raw) => Ok(Some(codec(schema::decode(
                schema::TreeId::WebSessions,
                &raw,
            ))?)),
            None => Ok(None),
        }
    }

    fn put_grant(&self, key: &[u8], grant: &Grant) -> Result<(), TxError> {
        self.web_sessions.insert(
            key,
            codec(schema::encode(schema::TreeId::WebSessions, grant))?,
        )?;
        Ok(())
    }

    fn web_audit(&self, now: UnixMillis, g: &Grant, action: &str) -> Result<(), TxError> {
        self.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: g.operator.clone(),
            actor_cert: format!("serial {}", g.cert_serial),
            action: action.into(),
            target: "dashboard".into(),
            before: None,
            after: None,
        })
    }

    pub(super) fn web(&self, change: &WebChange, now: UnixMillis) -> Result<WebOutcome, TxError> {
        match change {
            WebChange::IssueLink {
                link,
                grant,
                actor_cert,
            } => {
                self.put_grant(&web_key(WEB_LINK, link), grant)?;
                self.audit(socfed_runtime::audit::AuditDraft {
                    at_ms: now,
                    actor: grant.operator.clone(),
                    actor_cert: actor_cert.clone(),
                    action: "dashboard.link".into(),
                    target: "dashboard".into(),
                    before: None,
                    after: None,
                })?;
                Ok(WebOutcome::Issued)
            }
            WebChange::SignIn {
                link,
                session,
                session_ttl_ms,
            } => {
                let link_key = web_key(WEB_LINK, link);
                let Some(found) = self.grant(&link_key)? else {
                    return Ok(WebOutcome::Refused(Refused::UnknownLink));
                };
                // Used or not, an expired link is gone; a good one is spent by this exchange.
                self.web_sessions.remove(&link_key[..])?;
                match session_from(&found, now, *session_ttl_ms) {
                    Ok(grant) => {
                        self.put_grant(&web_key(WEB_SESSION, session), &grant)?;
                        self.web_audit(now, &grant, "dashboard.sign-in")?;
                        Ok(WebOutcome::SignedIn(grant))
                    }
                    Err(refused) => Ok(WebOutcome::Refused(refused)),
                }
            }
            WebChange::SignOut { session } => {
                let key = web_key(WEB_SESSION, session);
                let Some(grant) = self.grant(&key)? else {
                    return Ok(WebOutcome::SignedOut(false));
                };
                self.web_sessions.remove(&key[..])?;
                self.web_audit(now, &grant, "dashboard.sign-out")?;
                Ok(WebOutcome::SignedOut(true))
            }
            WebChange::Purge { keys } => {
                let mut purged = 0;
                for key in keys {
                    if self.grant(key)?.is_some_and(|g| now >= g.expires_ms) {
                        self.web_sessions.remove(&key[..])?;
                        purged += 1;
                    }
                }
                Ok(WebOutcome::Purged(purged))
            }
        }
    }
}
