//! Dashboard links and sessions: issuing a link, exchanging it for a session (once: the link
//! is removed in the same unit that writes the session), signing out, and purging expired
//! entries. Sign-ins and sign-outs are audited.

use super::Batch;
use crate::session::{Grant, Refused, session_from};
use crate::store::StoreError;
use crate::store::unit::GrantKey;
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

impl Batch<'_, '_> {
    fn web_audit(&mut self, now: UnixMillis, g: &Grant, action: &str) -> Result<(), StoreError> {
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: g.operator.clone(),
            actor_cert: crate::session::cert_identity(g),
            action: action.into(),
            target: "dashboard".into(),
            before: None,
            after: None,
        })
    }

    pub(super) fn web(&mut self, change: &WebChange) -> Result<WebOutcome, StoreError> {
        let now = self.now;
        match change {
            WebChange::IssueLink {
                link,
                grant,
                actor_cert,
            } => {
                self.unit.put_grant(GrantKey::Link(link), grant)?;
                self.unit.audit(socfed_runtime::audit::AuditDraft {
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
                let Some(found) = self.unit.grant(GrantKey::Link(link))? else {
                    return Ok(WebOutcome::Refused(Refused::UnknownLink));
                };
                // Used or not, an expired link is gone; a good one is spent by this exchange.
                self.unit.remove_grant(GrantKey::Link(link));
                match session_from(&found, now, *session_ttl_ms) {
                    Ok(grant) => {
                        self.unit.put_grant(GrantKey::Session(session), &grant)?;
                        self.web_audit(now, &grant, "dashboard.sign-in")?;
                        Ok(WebOutcome::SignedIn(grant))
                    }
                    Err(refused) => Ok(WebOutcome::Refused(refused)),
                }
            }
            WebChange::SignOut { session } => {
                let Some(grant) = self.unit.grant(GrantKey::Session(session))? else {
                    return Ok(WebOutcome::SignedOut(false));
                };
                self.unit.remove_grant(GrantKey::Session(session));
                self.web_audit(now, &grant, "dashboard.sign-out")?;
                Ok(WebOutcome::SignedOut(true))
            }
            WebChange::Purge { keys } => {
                let mut purged = 0;
                for key in keys {
                    let key = GrantKey::Listed(key);
                    if self.unit.grant(key)?.is_some_and(|g| now >= g.expires_ms) {
                        self.unit.remove_grant(key);
                        purged += 1;
                    }
                }
                Ok(WebOutcome::Purged(purged))
            }
        }
    }
}
