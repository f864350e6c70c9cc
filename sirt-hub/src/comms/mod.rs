//! Incident communications: the per-audience updates the SIRT sends about an incident
//! (executives, board, legal, clients, regulators), from draft to delivery.
//!
//! This module owns what a communication says and the rules it goes through; it does no I/O
//! (no store, no network, no clock: time comes in as `now_ms`, Unix milliseconds). The caller
//! gathers the incident's facts, stores the [`CommRecord`] and posts the [`webhook::payload`].
//!
//! The life of a communication:
//!
//! 1. [`template::draft`] fills the audience's template with the incident's facts after
//!    [`redact::redact`] has withheld what the audience is not cleared for.
//! 2. [`CommRecord::new`] records the draft. Only the IR lead or the CISO may
//!    [approve](CommRecord::approve) or [reject](CommRecord::reject) it, and only while it is a
//!    draft; a communication is never edited, a change means a new draft. The approver is not
//!    the drafter (four eyes) unless the hub's `[comms] allow_self_approval` says otherwise.
//! 3. The delivery layer sends approved communications ([`CommRecord::needs_delivery`]) and
//!    records the outcome with [`CommRecord::record_delivery`] or
//!    [`CommRecord::record_failure`] (up to [`MAX_ATTEMPTS`] attempts).
//!
//! A communication [counts as sent](CommRecord::counts_as_sent) only once it is delivered:
//! approval releases it, it does not mean anyone has read it.
//!
//! # Clearance per audience
//!
//! The most restrictive TLP 2.0 marking whose content each audience may receive
//! ([`Audience::clearance`]):
//!
//! | audience   | cleared up to    |
//! |------------|------------------|
//! | executives | TLP:AMBER+STRICT |
//! | legal      | TLP:AMBER+STRICT |
//! | board      | TLP:AMBER        |
//! | regulators | TLP:AMBER        |
//! | clients    | TLP:GREEN        |
//!
//! Nobody is cleared for TLP:RED: RED is for named individuals only, never for a group.

pub mod facts;
pub mod redact;
pub mod template;
#[cfg(test)]
mod tests;
pub mod webhook;

pub use redact::{IncidentFacts, Redaction, message_tlp, redact};
pub use template::{DraftText, draft, tlp_label};

use crate::lifecycle::HubRole;
use serde::{Deserialize, Serialize};
use socfed_proto::vocab::Tlp;
use std::fmt;
use ulid::Ulid;

/// How many delivery attempts the delivery layer makes before it gives up and a human has to
/// look at the channel.
pub const MAX_ATTEMPTS: u32 = 5;

/// The actor recorded in the history for delivery outcomes, which no operator performs.
pub const DELIVERY_ACTOR: &str = "delivery";

/// Who a communication is written for. Stored with postcard, which encodes the variant's
/// position: new audiences go at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    Executives,
    Board,
    Legal,
    Clients,
    Regulators,
}

impl Audience {
    pub const ALL: [Audience; 5] = [
        Audience::Executives,
        Audience::Board,
        Audience::Legal,
        Audience::Clients,
        Audience::Regulators,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Executives => "executives",
            Audience::Board => "board",
            Audience::Legal => "legal",
            Audience::Clients => "clients",
            Audience::Regulators => "regulators",
        }
    }

    /// The most restrictive TLP whose content this audience may receive (table in the module
    /// documentation). Never [`Tlp::Red`].
    pub fn clearance(self) -> Tlp {
        match self {
            Audience::Executives | Audience::Legal => Tlp::AmberStrict,
            Audience::Board | Audience::Regulators => Tlp::Amber,
            Audience::Clients => Tlp::Green,
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not one of [`Audience::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an audience; use one of executives, board, legal, clients, regulators")]
pub struct UnknownAudience(pub String);

impl std::str::FromStr for Audience {
    type Err = UnknownAudience;

    /// Reads an audience name, ignoring case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Audience::ALL
            .into_iter()
            .find(|audience| audience.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownAudience(s.to_owned()))
    }
}

/// Where a communication is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommState {
    /// Written, waiting for the IR lead or the CISO.
    Draft,
    /// Released for delivery.
    Approved { by: String, at_ms: i64 },
    /// Refused; final. A corrected version is a new draft.
    Rejected {
        by: String,
        at_ms: i64,
        reason: String,
    },
    /// The channel accepted it; final.
    Delivered { at_ms: i64, channel: String },
    /// Approved, but the channel refused it `attempts` times so far; the last error is kept.
    DeliveryFailed {
        at_ms: i64,
        error: String,
        attempts: u32,
    },
}

impl CommState {
    /// The state's name in messages and listings.
    pub fn name(&self) -> &'static str {
        match self {
            CommState::Draft => "draft",
            CommState::Approved { .. } => "approved",
            CommState::Rejected { .. } => "rejected",
            CommState::Delivered { .. } => "delivered",
            CommState::DeliveryFailed { .. } => "delivery-failed",
        }
    }
}

/// One line of a communication's history, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommEvent {
    pub at_ms: i64,
    pub actor: String,
    pub text: String,
}

/// What was asked of a communication, for [`CommsError::WrongState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommAction {
    Approve,
    Reject,
    RecordDelivery,
    RecordFailure,
}

/// Why a change to a communication was refused. The record is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommsError {
    /// Only [`CommAction::Approve`] and [`CommAction::Reject`] are restricted to a role.
    #[error(
        "{} communications needs the IR lead or the CISO; {actor} is {}",
        if *.action == CommAction::Reject { "rejecting" } else { "approving" },
        .role.map_or_else(|| "not on the hub's roster".to_owned(), HubRole::with_article)
    )]
    NotAllowed {
        action: CommAction,
        actor: String,
        role: Option<HubRole>,
    },
    #[error("{}", wrong_state(*.id, *.action, .state))]
    WrongState {
        id: Ulid,
        action: CommAction,
        state: &'static str,
    },
    #[error("rejecting communication {id} needs a reason, so the drafter knows what to change")]
    EmptyReason { id: Ulid },
    #[error(
        "communication {id} was drafted by {actor}; a second person (another IR lead or the \
         CISO) must approve it. A one-person team can set `allow_self_approval = true` under \
         [comms] in the hub config"
    )]
    OwnDraft { id: Ulid, actor: String },
}

/// Checked before the state, as the lifecycle does, so the answer to someone without the
/// role does not depend on where the communication is.
fn require_approver(
    action: CommAction,
    actor: &str,
    role: Option<HubRole>,
) -> Result<(), CommsError> {
    match role {
        Some(HubRole::IrLead | HubRole::Ciso) => Ok(()),
        _ => Err(CommsError::NotAllowed {
            action,
            actor: actor.to_owned(),
            role,
        }),
    }
}

/// The message says what to do next, which depends on both the request and the state.
fn wrong_state(id: Ulid, action: CommAction, state: &str) -> String {
    match (action, state) {
        (CommAction::Approve | CommAction::Reject, "rejected") => {
            format!("communication {id} was rejected; draft a new one")
        }
        (CommAction::Approve | CommAction::Reject, "delivered") => {
            format!("communication {id} was already delivered; draft a new one to correct it")
        }
        (CommAction::Approve | CommAction::Reject, _) => {
            format!("communication {id} is already approved; draft a new one to change it")
        }
        (_, "draft") => format!(
            "communication {id} is not approved; the IR lead or the CISO must approve it before \
             it is delivered"
        ),
        (_, "rejected") => format!("communication {id} was rejected; it must not be delivered"),
        _ => format!("communication {id} was already delivered; there is nothing left to record"),
    }
}

/// A communication about one incident to one audience, with its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommRecord {
    pub id: Ulid,
    pub incident: Ulid,
    pub audience: Audience,
    pub subject: String,
    /// Already redacted for the audience; starts with the TLP label line.
    pub body: String,
    pub tlp: Tlp,
    pub redactions: Vec<Redaction>,
    pub drafted_by: String,
    pub drafted_at_ms: i64,
    pub state: CommState,
    pub history: Vec<CommEvent>,
}

impl CommRecord {
    /// Records a draft made by [`draft`].
    pub fn new(
        id: Ulid,
        incident: Ulid,
        audience: Audience,
        draft: DraftText,
        actor: &str,
        now_ms: i64,
    ) -> CommRecord {
        let text = format!(
            "drafted for {audience} at {}, {} item(s) withheld",
            tlp_label(draft.tlp),
            draft.redactions.iter().map(|r| r.count).sum::<usize>()
        );
        CommRecord {
            id,
            incident,
            audience,
            subject: draft.subject,
            body: draft.body,
            tlp: draft.tlp,
            redactions: draft.redactions,
            drafted_by: actor.to_owned(),
            drafted_at_ms: now_ms,
            state: CommState::Draft,
            history: vec![CommEvent {
                at_ms: now_ms,
                actor: actor.to_owned(),
                text,
            }],
        }
    }

    /// Releases the draft for delivery. Only the IR lead or the CISO, only from draft, and
    /// never the person who drafted it (four eyes; see [`Self::approve_with`]).
    pub fn approve(
        &mut self,
        actor: &str,
        role: Option<HubRole>,
        now_ms: i64,
    ) -> Result<(), CommsError> {
        self.approve_with(actor, role, now_ms, false)
    }

    /// [`Self::approve`], where `allow_own_draft` lets the drafter approve her own draft: the
    /// hub's `[comms] allow_self_approval`, for a team with a single IR lead. Off by default,
    /// because what leaves the organisation should have been read by a second person.
    pub fn approve_with(
        &mut self,
        actor: &str,
        role: Option<HubRole>,
        now_ms: i64,
        allow_own_draft: bool,
    ) -> Result<(), CommsError> {
        require_approver(CommAction::Approve, actor, role)?;
        self.require_state(CommAction::Approve, self.state == CommState::Draft)?;
        if !allow_own_draft && actor == self.drafted_by {
            return Err(CommsError::OwnDraft {
                id: self.id,
                actor: actor.to_owned(),
            });
        }
        self.state = CommState::Approved {
            by: actor.to_owned(),
            at_ms: now_ms,
        };
        self.log(now_ms, actor, "approved".to_owned());
        Ok(())
    }

    /// Refuses the draft for good. Same roles as [`Self::approve`]; the reason is required.
    pub fn reject(
        &mut self,
        actor: &str,
        role: Option<HubRole>,
        reason: &str,
        now_ms: i64,
    ) -> Result<(), CommsError> {
        require_approver(CommAction::Reject, actor, role)?;
        self.require_state(CommAction::Reject, self.state == CommState::Draft)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CommsError::EmptyReason { id: self.id });
        }
        self.state = CommState::Rejected {
            by: actor.to_owned(),
            at_ms: now_ms,
            reason: reason.to_owned(),
        };
        self.log(now_ms, actor, format!("rejected: {reason}"));
        Ok(())
    }

    /// The channel accepted the communication. Only once approved; also after failed
    /// attempts, including past [`MAX_ATTEMPTS`], because the record must tell what happened.
    pub fn record_delivery(&mut self, channel: &str, now_ms: i64) -> Result<(), CommsError> {
        self.require_state(CommAction::RecordDelivery, self.is_released())?;
        self.state = CommState::Delivered {
            at_ms: now_ms,
            channel: channel.to_owned(),
        };
        self.log(now_ms, DELIVERY_ACTOR, format!("delivered via {channel}"));
        Ok(())
    }

    /// The channel refused the communication; counts the attempt and keeps the last error.
    pub fn record_failure(&mut self, error: &str, now_ms: i64) -> Result<(), CommsError> {
        self.require_state(CommAction::RecordFailure, self.is_released())?;
        let attempts = match self.state {
            CommState::DeliveryFailed { attempts, .. } => attempts.saturating_add(1),
            _ => 1,
        };
        self.state = CommState::DeliveryFailed {
            at_ms: now_ms,
            error: error.to_owned(),
            attempts,
        };
        self.log(
            now_ms,
            DELIVERY_ACTOR,
            format!("delivery attempt {attempts} failed: {error}"),
        );
        Ok(())
    }

    /// Approved, whether or not a delivery attempt failed since.
    fn is_released(&self) -> bool {
        matches!(
            self.state,
            CommState::Approved { .. } | CommState::DeliveryFailed { .. }
        )
    }

    /// True only once delivered: an approved communication has not reached anyone yet.
    pub fn counts_as_sent(&self) -> bool {
        matches!(self.state, CommState::Delivered { .. })
    }

    /// Whether the delivery layer should (re)try: approved, or failed fewer than
    /// [`MAX_ATTEMPTS`] times.
    pub fn needs_delivery(&self) -> bool {
        match self.state {
            CommState::Approved { .. } => true,
            CommState::DeliveryFailed { attempts, .. } => attempts < MAX_ATTEMPTS,
            _ => false,
        }
    }

    fn require_state(&self, action: CommAction, allowed: bool) -> Result<(), CommsError> {
        if allowed {
            return Ok(());
        }
        Err(CommsError::WrongState {
            id: self.id,
            action,
            state: self.state.name(),
        })
    }

    fn log(&mut self, at_ms: i64, actor: &str, text: String) {
        self.history.push(CommEvent {
            at_ms,
            actor: actor.to_owned(),
            text,
        });
    }
}
