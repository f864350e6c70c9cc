//! The dashboard's sign-in as commands: a sign-in link issued to an operator (over gRPC, by
//! certificate), the link exchanged once for a session, a sign-out, and the purge of expired
//! links and sessions. The rules of a grant are in `crate::session`; the transaction that
//! stores them in `ingest/apply/web.rs`.

use super::{Commands, call_failed, writer_stopped};
use crate::error::HubError;
use crate::ingest::apply::{Item, Outcome, WebChange, WebOutcome};
use crate::session::{Grant, Refused};

/// How a sign-in went: a session, or why not (shown to the browser as such).
#[derive(Debug, Clone)]
pub enum SignIn {
    Granted(Grant),
    Refused(Refused),
}

impl Commands<'_> {
    /// Stores a sign-in link for `grant.operator` under `link` (the hash of its secret).
    pub async fn issue_sign_in_link(
        self,
        link: [u8; 32],
        grant: Grant,
        actor_cert: String,
    ) -> Result<(), HubError> {
        let change = WebChange::IssueLink {
            link,
            grant,
            actor_cert,
        };
        match self.web(change).await? {
            WebOutcome::Issued => Ok(()),
            other => Err(wrong_answer("issue_sign_in_link", &other)),
        }
    }

    /// Exchanges the link `link` for a session stored under `session`, once.
    pub async fn sign_in(
        self,
        link: [u8; 32],
        session: [u8; 32],
        session_ttl_ms: i64,
    ) -> Result<SignIn, HubError> {
        let change = WebChange::SignIn {
            link,
            session,
            session_ttl_ms,
        };
        match self.web(change).await? {
            WebOutcome::SignedIn(grant) => Ok(SignIn::Granted(grant)),
            WebOutcome::Refused(why) => Ok(SignIn::Refused(why)),
            other => Err(wrong_answer("sign_in", &other)),
        }
    }

    /// Ends the session stored under `session`: whether there was one.
    pub async fn sign_out(self, session: [u8; 32]) -> Result<bool, HubError> {
        match self.web(WebChange::SignOut { session }).await? {
            WebOutcome::SignedOut(ended) => Ok(ended),
            other => Err(wrong_answer("sign_out", &other)),
        }
    }

    /// Removes these links and sessions (full keys) if they are still expired: how many.
    pub async fn purge_sessions(self, keys: Vec<Vec<u8>>) -> Result<usize, HubError> {
        match self.web(WebChange::Purge { keys }).await? {
            WebOutcome::Purged(removed) => Ok(removed),
            other => Err(wrong_answer("purge_sessions", &other)),
        }
    }

    async fn web(self, change: WebChange) -> Result<WebOutcome, HubError> {
        match self
            .ingest
            .call(Item::Web(Box::new(change)))
            .await
            .map_err(|e| call_failed(self.ingest, e))?
        {
            Outcome::Web(outcome) => Ok(outcome),
            // The writer answers nothing else to a dashboard change unless it stops.
            _ => Err(writer_stopped(self.ingest)),
        }
    }
}

/// A defect: the writer answered a dashboard change with the outcome of another.
fn wrong_answer(command: &str, outcome: &WebOutcome) -> HubError {
    let kind = match outcome {
        WebOutcome::Issued => "a link",
        WebOutcome::SignedIn(_) => "a session",
        WebOutcome::Refused(_) => "a refusal",
        WebOutcome::SignedOut(_) => "a sign-out",
        WebOutcome::Purged(_) => "a purge",
    };
    HubError::internal(format!("the writer answered {command} with {kind}"))
}
