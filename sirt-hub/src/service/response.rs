//! The coordinated response's commands: directives, tasks and hunts issued to sites, and a
//! hunt's hits attached to an incident. The order is checked and turned into records by the
//! pure policy in [`crate::response::order`]; this checks who orders (the access matrix and
//! the read rule on the incident, the same for the gRPC `Response` service and the
//! dashboard), adds the clock, and stores the result through the writer.

use super::{Actor, Commands, wrong_answer};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::access::reader::{Reader, Roles};
use crate::error::HubError;
use crate::ingest::apply::{
    AttachHunt, Issue, Item, PruneDirectives, PruneEvents, Pruned, ResponseOutcome,
};
use crate::response::order::{self, DirectiveOrder, HuntOrder, Planned, TaskOrder};
use crate::response::{DirectiveRecord, HuntRecord};
use crate::store::HubStore;
use socfed_proto::vocab::SiteId;
use std::sync::Arc;
use ulid::Ulid;

/// Who orders, and what they may read: the access matrix and the read rule are checked by
/// every response command before it plans anything.
pub struct Orderer<'a> {
    pub store: &'a Arc<HubStore>,
    pub roles: &'a Roles,
    pub acting: &'a Acting,
}

impl Orderer<'_> {
    /// Refuses unless the operator may call `api` and read `incident` (if any).
    async fn may(&self, api: Api, incident: Option<Ulid>) -> Result<(), HubError> {
        self.acting.may(api)?;
        if let Some(id) = incident {
            Reader::named(&self.acting.name, self.roles)
                .may_read_id(self.store, id)
                .await?;
        }
        Ok(())
    }
}

/// A hunt as stored, with the sweep sent to each site.
#[derive(Debug, Clone)]
pub struct HuntStarted {
    pub hunt: HuntRecord,
    pub sweeps: Vec<DirectiveRecord>,
}

impl Commands<'_> {
    /// A directive to sites of an incident: the directives stored, one per site.
    pub async fn issue_directive(
        self,
        by: &Orderer<'_>,
        order: DirectiveOrder,
        enrolled: &[SiteId],
    ) -> Result<Vec<DirectiveRecord>, HubError> {
        by.may(Api::IssueDirective, Some(order.incident)).await?;
        let actor = by.acting.actor();
        let planned = order.plan(enrolled, &actor.name, socfed_proto::now_millis())?;
        self.issue(planned, order.incident, "directive.issue", actor)
            .await
    }

    /// A task for the analysts of sites of an incident: the tasks stored, one per site.
    pub async fn assign_task(
        self,
        by: &Orderer<'_>,
        order: TaskOrder,
        enrolled: &[SiteId],
    ) -> Result<Vec<DirectiveRecord>, HubError> {
        by.may(Api::AssignTask, Some(order.incident)).await?;
        let actor = by.acting.actor();
        let planned = order.plan(enrolled, &actor.name, socfed_proto::now_millis())?;
        self.issue(planned, order.incident, "task.assign", actor)
            .await
    }

    /// A threat hunt and its sweeps: the hunt stored. A hunt for an incident sweeps for its
    /// indicators too, after those in `order`.
    pub async fn start_hunt(
        self,
        by: &Orderer<'_>,
        mut order: HuntOrder,
        enrolled: &[SiteId],
    ) -> Result<HuntStarted, HubError> {
        by.acting.may(Api::StartHunt)?;
        let actor = by.acting.actor();
        let incident = order.incident;
        if let Some(id) = incident {
            match crate::view::read(by.store, move |s| s.incident(id)).await? {
                Some(record) => {
                    Reader::named(&by.acting.name, by.roles).may_read(&record)?;
                    let given = std::mem::take(&mut order.indicators);
                    order.indicators = record.indicators;
                    order.indicators.extend(given);
                }
                None => {
                    return Err(HubError::not_found(format!(
                        "no incident {id}; list incidents to see valid ids"
                    )));
                }
            }
        }
        let order::PlannedHunt { hunt, sweeps, text } =
            order.plan(enrolled, &actor.name, socfed_proto::now_millis())?;
        let issue = Issue {
            text,
            directives: sweeps.clone(),
            hunt: Some(hunt),
            incident,
            action: "hunt.start",
            actor: actor.name,
            actor_cert: actor.cert,
        };
        match self
            .response(Item::Issue(Box::new(issue)), "start_hunt")
            .await?
        {
            ResponseOutcome::Hunt(hunt) => Ok(HuntStarted {
                hunt: *hunt,
                sweeps,
            }),
            other => Err(wrong_answer("start_hunt", &other)),
        }
    }

    /// A hunt attached to an incident: its hits become that incident's data, due for review
    /// within [`order::ATTACH_REVIEW_S`].
    pub async fn attach_hunt(
        self,
        by: &Orderer<'_>,
        hunt: Ulid,
        incident: Ulid,
    ) -> Result<(), HubError> {
        by.may(Api::AttachHunt, Some(incident)).await?;
        let actor = by.acting.actor();
        let attach = AttachHunt {
            hunt,
            incident,
            due_ms: order::attach_review_due(socfed_proto::now_millis()),
            actor: actor.name,
            actor_cert: actor.cert,
        };
        self.response(Item::AttachHunt(Box::new(attach)), "attach_hunt")
            .await
            .map(drop)
    }

    /// One step of the prune pass over finished directives older than `retention_ms`
    /// (`crate::response::retention`), from `from` (`None` starts a pass): what it removed and
    /// where the next step starts.
    pub async fn prune_directives(
        self,
        retention_ms: i64,
        from: Option<Ulid>,
    ) -> Result<Pruned, HubError> {
        let item = Item::PruneDirectives(Box::new(PruneDirectives { retention_ms, from }));
        match self.response(item, "prune_directives").await? {
            ResponseOutcome::Pruned(pruned) => Ok(pruned),
            other => Err(wrong_answer("prune_directives", &other)),
        }
    }

    /// One step of the event log's prune pass: how many events went, and whether more may.
    pub async fn prune_events(self, retention_ms: i64, keep: u64) -> Result<Pruned, HubError> {
        let item = Item::PruneEvents(Box::new(PruneEvents { retention_ms, keep }));
        match self.response(item, "prune_events").await? {
            ResponseOutcome::Pruned(pruned) => Ok(pruned),
            other => Err(wrong_answer("prune_events", &other)),
        }
    }

    /// Directives or tasks without a hunt: the directives stored.
    async fn issue(
        self,
        planned: Planned,
        incident: Ulid,
        action: &'static str,
        actor: Actor,
    ) -> Result<Vec<DirectiveRecord>, HubError> {
        let issue = Issue {
            text: planned.text,
            directives: planned.directives,
            hunt: None,
            incident: Some(incident),
            action,
            actor: actor.name,
            actor_cert: actor.cert,
        };
        match self.response(Item::Issue(Box::new(issue)), action).await? {
            ResponseOutcome::Directives(done) => Ok(done),
            other => Err(wrong_answer(action, &other)),
        }
    }
}
