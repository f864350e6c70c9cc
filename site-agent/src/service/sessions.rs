//! The SOC console's sign-in as commands: a one-time link issued to an operator of the site
//! (over gRPC, by certificate: `site-agent login`), the link exchanged once for a session, a
//! sign-out, the purge of expired grants, and the console's refusals, each audited in the
//! site's audit log. Refusals are coalesced (`socfed_runtime::audit_coalesce`, as the hub
//! folds its own): the first of a (who, request, reason) in a window is written at once, the
//! identical ones after it as one count when the window ends, at most
//! [`MAX_REFUSAL_RECORDS`] records a window, so a looping client cannot grow the chain
//! without bound. The rules of a grant are `socfed_runtime::web::session`'s, shared with the
//! hub's dashboard; the store keeps them in `web_sessions` (`store/web.rs`).

use super::{Actor, SocService};
use crate::error::AgentError;
use socfed_proto::identity::PeerIdentity;
use socfed_runtime::audit_coalesce::{Coalescer, Due};
use socfed_runtime::web::session::{
    Grant, KIND_LINK, KIND_SESSION, Refused, Secret, Surface, grant_key, new_secret, session_from,
};

/// How the console words a refused sign-in.
pub const SURFACE: Surface = Surface {
    login: "site-agent login",
    roster: "this site's roster; ask the SOC manager (`site-agent roster`)",
};

/// The audit target of every console sign-in record.
const CONSOLE: &str = "console";

/// How long identical console refusals are folded into one record.
pub const REFUSAL_WINDOW_MS: i64 = 10_000;
/// Console refusal records written per window at most.
pub const MAX_REFUSAL_RECORDS: usize = 100;

/// A console refusal as coalesced: who (name, certificate), the request, why.
pub type RefusalKey = (String, String, String, String);

/// The console's refusals of the current window.
pub struct ConsoleRefusals(std::sync::Mutex<Coalescer<RefusalKey>>);

impl Default for ConsoleRefusals {
    fn default() -> Self {
        Self(std::sync::Mutex::new(Coalescer::new(
            REFUSAL_WINDOW_MS,
            MAX_REFUSAL_RECORDS,
        )))
    }
}

impl ConsoleRefusals {
    fn with<T>(&self, f: impl FnOnce(&mut Coalescer<RefusalKey>) -> T) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl SocService {
    /// A one-time sign-in link for `actor` (who called with the certificate `peer`): the
    /// secret to put in the link, and its grant as stored.
    pub fn issue_console_link(
        &self,
        actor: &Actor,
        peer: &PeerIdentity,
    ) -> Result<(Secret, Grant), AgentError> {
        let link = new_secret().map_err(|e| {
            AgentError::Busy(format!("no randomness for a sign-in link ({e}); retry"))
        })?;
        let grant = Grant::link_for(&actor.name, peer, self.now());
        self.store.unit(|unit| {
            unit.put_web_grant(&grant_key(KIND_LINK, &link.key()), &grant)?;
            self.audit(unit, actor, "console.link", CONSOLE, None, None)?;
            Ok::<_, AgentError>(())
        })?;
        Ok((link, grant))
    }

    /// Exchanges the link hashing to `link` for a session stored under `session`, once: the
    /// link is removed in the same unit that writes the session.
    pub fn console_sign_in(
        &self,
        link: [u8; 32],
        session: [u8; 32],
        session_ttl_ms: i64,
    ) -> Result<Result<Grant, Refused>, AgentError> {
        let now = self.now();
        self.store.unit(|unit| {
            let key = grant_key(KIND_LINK, &link);
            let Some(found) = unit.web_grant(&key)? else {
                return Ok(Err(Refused::UnknownLink));
            };
            // Used or not, an expired link is gone; a good one is spent by this exchange.
            unit.remove_web_grant(&key);
            let grant = match session_from(&found, now, session_ttl_ms) {
                Ok(grant) => grant,
                Err(refused) => return Ok(Err(refused)),
            };
            unit.put_web_grant(&grant_key(KIND_SESSION, &session), &grant)?;
            self.audit(
                unit,
                &grant_actor(&grant),
                "console.sign-in",
                CONSOLE,
                None,
                None,
            )?;
            Ok(Ok(grant))
        })
    }

    /// The session stored under `session`, as it stands (unchecked).
    pub fn console_session(&self, session: &[u8; 32]) -> Result<Option<Grant>, AgentError> {
        Ok(self.store.web_grant(KIND_SESSION, session)?)
    }

    /// Ends the session stored under `session`: whether there was one.
    pub fn console_sign_out(&self, session: [u8; 32]) -> Result<bool, AgentError> {
        self.store.unit(|unit| {
            let key = grant_key(KIND_SESSION, &session);
            let Some(grant) = unit.web_grant(&key)? else {
                return Ok(false);
            };
            unit.remove_web_grant(&key);
            self.audit(
                unit,
                &grant_actor(&grant),
                "console.sign-out",
                CONSOLE,
                None,
                None,
            )?;
            Ok(true)
        })
    }

    /// Removes expired links and sessions (at most `limit`): how many.
    pub fn purge_console_sessions(&self, limit: usize) -> Result<usize, AgentError> {
        let now = self.now();
        let keys = self.store.expired_web_keys(now, limit)?;
        if keys.is_empty() {
            return Ok(0);
        }
        self.store.unit(|unit| {
            let mut purged = 0;
            for key in &keys {
                if unit.web_grant(key)?.is_some_and(|g| now >= g.expires_ms) {
                    unit.remove_web_grant(key);
                    purged += 1;
                }
            }
            Ok(purged)
        })
    }

    /// Records a console refusal of `who` (a session no longer good, a forged or cross-site
    /// form, a role that may not) in the audit log, as `console.refused` with why and how
    /// many times (coalesced: see the module).
    pub fn audit_console_refusal(
        &self,
        who: &str,
        cert: &str,
        what: &str,
        reason: &str,
    ) -> Result<(), AgentError> {
        let key = (who.into(), cert.into(), what.into(), reason.into());
        let due = self.console_refusals.with(|c| c.note(key, self.now()));
        self.write_refusals(due)
    }

    /// Writes the counts of a console refusal window that has ended (the SLA clock calls it
    /// on its ticks); `stopping` ends the current one whatever its age.
    pub fn flush_console_refusals(&self, stopping: bool) -> Result<(), AgentError> {
        let due = self.console_refusals.with(|c| {
            if stopping {
                c.end_window()
            } else {
                c.roll(self.now())
            }
        });
        self.write_refusals(due)
    }

    fn write_refusals(&self, due: Due<RefusalKey>) -> Result<(), AgentError> {
        if due.is_empty() {
            return Ok(());
        }
        let summary = (due.unrecorded > 0).then(|| {
            let reason = format!(
                "more console refusals than the audit bound of {MAX_REFUSAL_RECORDS} records per {} s; see the logs",
                REFUSAL_WINDOW_MS / 1000
            );
            (("various".into(), String::new(), "various".into(), reason), due.unrecorded)
        });
        self.store.unit(|unit| {
            for ((who, cert, what, reason), count) in due.records.into_iter().chain(summary) {
                let actor = Actor {
                    name: who,
                    role: crate::soc::Role::Analyst(crate::soc::Tier::T1),
                    cert,
                };
                let after =
                    serde_json::json!({ "request": what, "reason": reason, "count": count })
                        .to_string();
                self.audit(unit, &actor, "console.refused", CONSOLE, None, Some(after))?;
            }
            Ok(())
        })
    }
}

/// The operator of a grant as the audit names them (role is not recorded).
fn grant_actor(grant: &Grant) -> Actor {
    Actor {
        name: grant.operator.clone(),
        role: crate::soc::Role::Analyst(crate::soc::Tier::T1),
        cert: socfed_runtime::web::session::cert_identity(grant),
    }
}
