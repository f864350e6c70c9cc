//! Commands on one hub incident: a lifecycle transition, a regulatory flag or filing, a merge,
//! a split, and its members. Each answers with the incident as stored after it (members: once
//! stored), or why the incident or the lifecycle refused it. An operator's change, on every
//! transport (the `Operator` gRPC service, the dashboard's incident forms), goes through
//! [`Commands::change_incident_as`]: the TLP:RED read rule, then the writer; a lifecycle
//! command through [`Commands::transition`], a regulatory change, a merge and a split through
//! [`Commands::regulatory`], [`Commands::merge`] and [`Commands::split`], which check the
//! access matrix first (so no transport carries its own copy of who may).

use super::{Commands, call_failed, writer_stopped};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::access::reader::{Reader, Roles};
use crate::error::HubError;
use crate::incident::IncidentRecord;
use crate::ingest::apply::{
    Item, MemberChange, Merge, Outcome, RegulatoryChange, RegulatoryEdit, Split, Transition,
    TransitionOutcome,
};
use crate::lifecycle::LifecycleError;
use crate::store::HubStore;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use std::sync::Arc;
use ulid::Ulid;

/// How far ahead of the hub's clock a regulatory instant may be: clock skew, not a plan.
const FUTURE_SKEW_MS: i64 = 5 * 60_000;

/// A change to one incident.
#[derive(Debug, Clone)]
pub enum IncidentCommand {
    Transition(Transition),
    /// `at_ms` as the operator gave it (0: now); the command checks and resolves it.
    Regulatory(RegulatoryChange),
    /// Into `survivor`.
    Merge(Merge),
    Split(Split),
}

impl IncidentCommand {
    /// The incident it changes (and answers with).
    pub fn incident(&self) -> Ulid {
        match self {
            IncidentCommand::Transition(t) => t.incident,
            IncidentCommand::Regulatory(r) => r.incident,
            IncidentCommand::Merge(m) => m.survivor,
            IncidentCommand::Split(s) => s.incident,
        }
    }
}

/// When a regulatory clock started or a filing was made: `at_ms` as given, or `now` for 0.
/// Recording an earlier filing is normal; one in the future is a mistake (or an attempt to
/// make a deadline look met), beyond a few minutes of clock skew.
pub fn regulatory_instant(at_ms: UnixMillis, now: UnixMillis) -> Result<UnixMillis, HubError> {
    if at_ms > now + FUTURE_SKEW_MS {
        return Err(HubError::invalid(
            "at_ms is in the future; a clock start or filing must already have happened",
        ));
    }
    Ok(if at_ms == 0 { now } else { at_ms })
}

impl Commands<'_> {
    /// A lifecycle command, regulatory change, merge or split: the incident as stored after
    /// it. A role the lifecycle does not allow is `permission_denied`; a command the
    /// incident's state refuses is `failed_precondition`.
    pub async fn change_incident(
        self,
        command: IncidentCommand,
    ) -> Result<IncidentRecord, HubError> {
        let incident = command.incident();
        let item = match command {
            IncidentCommand::Transition(t) => Item::Transition(Box::new(t)),
            IncidentCommand::Regulatory(mut r) => {
                r.at_ms = regulatory_instant(r.at_ms, socfed_proto::now_millis())?;
                Item::Regulatory(Box::new(r))
            }
            IncidentCommand::Merge(m) => Item::Merge(Box::new(m)),
            IncidentCommand::Split(s) => Item::Split(Box::new(s)),
        };
        let outcome = self
            .ingest
            .call(item)
            .await
            .map_err(|e| call_failed(self.ingest, e))?;
        let Outcome::Transition(outcome) = outcome else {
            // The writer answers nothing else to an incident change unless it stops.
            return Err(writer_stopped(self.ingest));
        };
        match outcome {
            TransitionOutcome::Done(record) => Ok(*record),
            TransitionOutcome::NotFound => Err(HubError::not_found(format!(
                "no incident {incident}; list incidents to see valid ids"
            ))),
            TransitionOutcome::Rejected(reason) => Err(HubError::refused(reason)),
            TransitionOutcome::Refused(refused @ LifecycleError::Denied(_)) => {
                Err(HubError::denied(refused.to_string()))
            }
            TransitionOutcome::Refused(refused) => Err(HubError::refused(refused.to_string())),
        }
    }

    /// `command` given by `acting`: refused unless they may read the incident (changing it
    /// answers with it, so the TLP:RED rule applies first), then [`Self::change_incident`].
    /// A refusal is logged once, here, whichever transport asked.
    pub async fn change_incident_as(
        self,
        store: &Arc<HubStore>,
        roles: &Roles,
        acting: &Acting,
        command: IncidentCommand,
    ) -> Result<IncidentRecord, HubError> {
        let incident = command.incident();
        Reader::named(&acting.name, roles)
            .may_read_id(store, incident)
            .await?;
        self.change_incident(command).await.inspect_err(|refused| {
            if matches!(refused, HubError::Denied(_) | HubError::Refused(_)) {
                tracing::warn!(operator = %acting.name, %incident, reason = %refused, "lifecycle command refused");
            }
        })
    }

    /// A lifecycle command (`start-triage` … `assign-ir-lead`) given by `acting` on
    /// `incident`: the access matrix (any role; the lifecycle machine then decides per
    /// command, with the role it is given here), then [`Self::change_incident_as`].
    pub async fn transition(
        self,
        store: &Arc<HubStore>,
        roles: &Roles,
        acting: &Acting,
        incident: Ulid,
        command: crate::lifecycle::Command,
    ) -> Result<IncidentRecord, HubError> {
        acting.may(crate::access::Api::TransitionIncident)?;
        // `may` has refused operators without a role; this only names the role for the machine.
        let Some(role) = acting.role else {
            return Err(HubError::denied(
                "changing an incident's lifecycle needs a role in the hub roster",
            ));
        };
        let command = IncidentCommand::Transition(Transition {
            incident,
            command,
            role,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        });
        self.change_incident_as(store, roles, acting, command).await
    }

    /// A regulatory flag or filing on `incident` by `acting` (`at_ms` 0: now): the access
    /// matrix, then [`Self::change_incident_as`].
    pub async fn regulatory(
        self,
        store: &Arc<HubStore>,
        roles: &Roles,
        acting: &Acting,
        incident: Ulid,
        change: RegulatoryEdit,
        at_ms: UnixMillis,
    ) -> Result<IncidentRecord, HubError> {
        acting.may(Api::Regulatory)?;
        let command = IncidentCommand::Regulatory(RegulatoryChange {
            incident,
            change,
            at_ms,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        });
        self.change_incident_as(store, roles, acting, command).await
    }

    /// `other` merged into `survivor` by `acting`: the access matrix, the read rule on the
    /// incident that goes away too, then [`Self::change_incident_as`] on the survivor.
    pub async fn merge(
        self,
        store: &Arc<HubStore>,
        roles: &Roles,
        acting: &Acting,
        survivor: Ulid,
        other: Ulid,
        reason: String,
    ) -> Result<IncidentRecord, HubError> {
        acting.may(Api::Merge)?;
        bounded_reason(&reason)?;
        Reader::named(&acting.name, roles)
            .may_read_id(store, other)
            .await?;
        let command = IncidentCommand::Merge(Merge {
            survivor,
            other,
            reason,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        });
        self.change_incident_as(store, roles, acting, command).await
    }

    /// `site`'s sighting split off `incident` into an incident of its own, by `acting`.
    pub async fn split(
        self,
        store: &Arc<HubStore>,
        roles: &Roles,
        acting: &Acting,
        incident: Ulid,
        site: SiteId,
        reason: String,
    ) -> Result<IncidentRecord, HubError> {
        acting.may(Api::Split)?;
        bounded_reason(&reason)?;
        let command = IncidentCommand::Split(Split {
            incident,
            site,
            reason,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        });
        self.change_incident_as(store, roles, acting, command).await
    }

    /// An incident member added or removed (who may read it at TLP:RED).
    pub async fn change_members(self, change: MemberChange) -> Result<(), HubError> {
        self.response(Item::Members(Box::new(change)), "change_members")
            .await
            .map(drop)
    }
}

/// A merge's or split's reason is kept in the timeline and the audit chain like a lifecycle
/// argument, so it has the same bound on every transport.
fn bounded_reason(reason: &str) -> Result<(), HubError> {
    let max = crate::lifecycle::MAX_ARGUMENT_CHARS;
    if reason.chars().count() > max {
        return Err(HubError::invalid(format!(
            "the reason is longer than {max} characters; shorten it"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regulatory_instant_is_now_when_unset_and_never_in_the_future() {
        let now = 1_700_000_000_000;
        assert_eq!(regulatory_instant(0, now).ok(), Some(now));
        assert_eq!(regulatory_instant(now - 1000, now).ok(), Some(now - 1000));
        assert_eq!(
            regulatory_instant(now + FUTURE_SKEW_MS, now).ok(),
            Some(now + FUTURE_SKEW_MS)
        );
        assert!(matches!(
            regulatory_instant(now + FUTURE_SKEW_MS + 1, now),
            Err(HubError::Invalid(_))
        ));
    }
}
