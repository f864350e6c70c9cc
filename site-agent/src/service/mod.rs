//! The local SOC service: the core between the thin gRPC layer and the store. Each operation
//! checks the caller's role ([`crate::soc::authz`]), runs the pure domain logic and writes the
//! result, its indexes and an audit entry in one store unit.

mod casework;
mod hunt_alerts;
mod incidents;
mod kpi;
pub use kpi::KpiReport;
#[cfg(test)]
pub(crate) mod incidents_tests;
pub mod intake;
pub mod link;
mod people;
pub mod raise_commit;
pub mod runbooks;
pub mod search;
#[cfg(test)]
mod search_tests;
pub mod sessions;
pub mod tokens;
mod triage;
mod unassigned;

pub use intake::IntakeResult;
pub use people::UNAVAILABLE;

use crate::error::AgentError;
use crate::soc::audit::AuditDraft;
use crate::soc::incident::EscalationPolicy;
use crate::soc::notify::{Notification, NotificationKind};
use crate::soc::sla::SlaPolicy;
use crate::soc::{Role, Tier, roster};
use crate::store::cap::OnFull;
use crate::store::unit::Unit;
use crate::store::{AgentStore, StoreError};
use socfed_proto::UnixMillis;
use socfed_proto::identity::{Identity, PeerIdentity};
use socfed_proto::vocab::ReportLimits;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use ulid::Ulid;

/// Where "now" comes from. Production reads the wall clock; tests move a manual clock, so SLA
/// breaches are tested without sleeping.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> UnixMillis;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> UnixMillis {
        socfed_proto::now_millis()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_ms: UnixMillis) -> Self {
        Self(AtomicI64::new(start_ms))
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.0.fetch_add(
            i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
            Ordering::SeqCst,
        );
    }

    pub fn set(&self, at_ms: UnixMillis) {
        self.0.store(at_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> UnixMillis {
        self.0.load(Ordering::SeqCst)
    }
}

/// Who is acting: the certificate's operator and their role in the site roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    /// SPIFFE URI and certificate fingerprint, for the audit log; empty for system actors.
    pub cert: String,
}

impl Actor {
    /// The SLA clock, acting on its own.
    pub fn sla_clock() -> Self {
        Self {
            name: "sla-clock".into(),
            role: Role::SocManager,
            cert: String::new(),
        }
    }
}

/// Settings of the local SOC (from the agent config).
#[derive(Debug, Clone)]
pub struct SocSettings {
    pub site: socfed_proto::vocab::SiteId,
    pub sla: SlaPolicy,
    pub escalation: EscalationPolicy,
    pub aggregation_window_ms: i64,
    /// How long a source event's identity is remembered (`soc.duplicate_window`).
    pub duplicate_window_ms: i64,
    pub parse_limits: crate::soc::alert::ParseLimits,
    pub report_limits: ReportLimits,
    pub outbox_cap: u64,
    pub on_full: OnFull,
    /// Operators who are SOC managers even when absent from the roster (bootstrap).
    pub managers: Vec<String>,
    pub rotation: Option<crate::soc::roster::Rotation>,
}

pub struct SocService {
    pub store: Arc<AgentStore>,
    pub settings: SocSettings,
    pub clock: Arc<dyn Clock>,
    /// Receives the ids of alert groups created or updated by intake (for hunts watching new
    /// alerts), after they are durable.
    pub group_tap: Option<Arc<crate::response::engine::new_groups::NewGroups>>,
    /// The console's refusals of the current window, coalesced before they are audited.
    pub console_refusals: sessions::ConsoleRefusals,
    /// Serials the CRL in force revokes (replaced on each TLS reload): an API token dies
    /// with the certificate that minted it.
    pub revoked: Arc<socfed_runtime::web::revoked::Revoked>,
}

impl SocService {
    pub fn now(&self) -> UnixMillis {
        self.clock.now_ms()
    }

    /// Resolves the caller: an operator certificate whose name is in the roster (or a
    /// configured manager).
    pub fn actor(&self, peer: &PeerIdentity) -> Result<Actor, AgentError> {
        let Identity::Operator(name) = &peer.identity else {
            return Err(AgentError::NotInRoster(format!(
                "the local SOC API needs an operator certificate; the caller presented {}",
                peer.uri
            )));
        };
        self.roster_actor(name, format!("{} ({})", peer.uri, peer.fingerprint))
    }

    /// The operator `name` with their role now (a configured manager, else the roster);
    /// `cert` is what the audit log records of how they called. Refused, saying what to do,
    /// once they are in neither.
    pub fn roster_actor(&self, name: &str, cert: String) -> Result<Actor, AgentError> {
        self.actor_named(name, cert)?.ok_or_else(|| {
            AgentError::NotInRoster(format!(
                "operator {name:?} is not in this site's roster; ask the SOC manager to run `site-agent roster add {name} --role ...`"
            ))
        })
    }

    /// The operator `name` with their role now: a configured manager, or the roster's role;
    /// nothing once they are in neither (the SOC console asks on every request).
    pub fn actor_named(&self, name: &str, cert: String) -> Result<Option<Actor>, AgentError> {
        if self.settings.managers.iter().any(|m| m == name) {
            return Ok(Some(Actor {
                name: name.to_string(),
                role: Role::SocManager,
                cert,
            }));
        }
        Ok(self.store.analyst(name)?.map(|analyst| Actor {
            name: name.to_string(),
            role: analyst.role,
            cert,
        }))
    }

    fn audit(
        &self,
        unit: &mut Unit,
        actor: &Actor,
        action: &str,
        target: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<(), StoreError> {
        unit.audit(AuditDraft {
            at_ms: self.now(),
            actor: actor.name.clone(),
            actor_cert: actor.cert.clone(),
            action: action.into(),
            target: target.into(),
            before,
            after,
        })
    }

    fn notify(
        &self,
        unit: &mut Unit,
        kind: NotificationKind,
        message: String,
        group: Option<Ulid>,
    ) -> Result<(), StoreError> {
        tracing::warn!(kind = kind.as_str(), group = ?group, %message, "notification for the SOC manager");
        metrics::counter!("socfed_agent_notifications_total", "kind" => kind.as_str()).increment(1);
        let now = self.now();
        unit.put_notification(&Notification {
            id: Ulid::from_parts(now.max(0) as u64, rand::random()),
            at_ms: now,
            kind,
            message,
            group,
        })
    }

    /// Picks the next on-shift analyst of `tier` (round-robin) and moves the cursor.
    fn pick_assignee(
        &self,
        unit: &mut Unit,
        roster_now: &[roster::Analyst],
        tier: Tier,
        now: UnixMillis,
    ) -> Result<Option<String>, StoreError> {
        let candidates = roster::on_shift_at_tier(roster_now, tier, now);
        let cursor = unit.round_robin_cursor(tier)?;
        match roster::next_in_rotation(&candidates, cursor.as_deref()) {
            Some(analyst) => {
                unit.set_round_robin_cursor(tier, &analyst.name)?;
                Ok(Some(analyst.name.clone()))
            }
            None => Ok(None),
        }
    }
}

/// Runs blocking store work of `service` off the async workers: how every async adapter (the
/// gRPC services, the HTTP API) calls the service layer.
pub async fn blocking<T: Send + 'static>(
    service: &Arc<SocService>,
    work: impl FnOnce(&SocService) -> Result<T, AgentError> + Send + 'static,
) -> Result<T, AgentError> {
    let service = service.clone();
    tokio::task::spawn_blocking(move || work(&service))
        .await
        .map_err(|_| AgentError::internal("agent task failed"))?
}

fn json<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}
