//! Deferred revisions: a revision the outbox had no room for waits in `idx_revision_pending`
//! and the SLA clock queues it once there is room.

use super::intake::tests::{manager, open, service};
use super::link::{LinkService, RaiseIncident, RaiseLimits};
use super::raise_commit::RaiseCommitter;
use crate::service::{ManualClock, SocService};
use crate::soc::incident::IncidentStatus;
use crate::store::Enqueued;
use crate::uplink::UplinkState;
use socfed_proto::pb;
use std::sync::Arc;

/// The `SiteLocal` application layer over `soc`, with its raise committer running on the
/// current runtime (the returned task ends once the service is dropped).
pub(crate) fn link_service(soc: &Arc<SocService>) -> (LinkService, tokio::task::JoinHandle<()>) {
    let uplink = Arc::new(UplinkState::default());
    let limits = RaiseLimits {
        uplink: uplink.clone(),
        max_report_bytes: 1 << 20,
    };
    let (committer, task) = RaiseCommitter::start(soc.clone(), limits);
    let link = LinkService {
        soc: soc.clone(),
        uplink,
        committer,
    };
    (link, task)
}

/// Raises `titles` through the raise committer, as the `SiteLocal` service does.
fn raise(
    soc: &Arc<SocService>,
    titles: &[&str],
) -> anyhow::Result<Vec<Result<Enqueued, crate::error::AgentError>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (link, task) = link_service(soc);
        let mut answers = Vec::new();
        for title in titles {
            let raised = RaiseIncident {
                title: (*title).into(),
                severity: pb::Severity::High as i32,
                rule_id: "manual".into(),
                ..RaiseIncident::default()
            };
            answers.push(link.raise_incident(manager(), raised).await);
        }
        drop(link);
        task.await?;
        anyhow::Ok(answers)
    })
}

#[test]
fn a_revision_deferred_at_the_outbox_cap_is_sent_by_the_sla_clock_once_there_is_room()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut soc = service(store.clone(), clock)?;
    soc.settings.outbox_cap = 1;
    let soc = Arc::new(soc);
    let actor = manager();

    let mut answers = raise(&soc, &["beaconing", "other"])?.into_iter();
    let raised = answers
        .next()
        .ok_or_else(|| anyhow::anyhow!("no answer"))??;
    let other = answers.next().ok_or_else(|| anyhow::anyhow!("no answer"))?;
    assert!(other.is_err(), "the outbox holds one escalation");
    // The outbox is full: the revision this change causes waits.
    let updated = soc.update_incident(
        &actor,
        &raised.local_incident_id,
        Some(IncidentStatus::Contained),
        None,
    )?;
    assert!(updated.revision_pending);
    assert_eq!(
        store.pending_revision_ids(10)?,
        vec![raised.local_incident_id.clone()]
    );

    // Nothing to retry into while the outbox is still full.
    soc.sla_tick()?;
    assert_eq!(store.pending_revision_ids(10)?.len(), 1);

    // The hub acknowledges the first escalation: the next tick queues the revision.
    store.acknowledge(raised.seq)?;
    soc.sla_tick()?;
    assert!(store.pending_revision_ids(10)?.is_empty());
    let queued = store.pending_from(raised.seq + 1, 10)?;
    assert_eq!(queued.len(), 1, "the revision is in the outbox");
    let incident = soc.store.incident(&raised.local_incident_id)?;
    assert_eq!(
        incident.map(|i| (i.revision, i.revision_pending)),
        Some((2, false))
    );
    Ok(())
}

/// Request ids are the caller's own: two callers that use the same id each get their raise
/// queued, and each one's retry is answered with its own first answer.
#[test]
fn two_callers_with_the_same_request_id_each_get_their_own_raise() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let soc = Arc::new(service(store.clone(), clock)?);
    let other = crate::service::Actor {
        name: "max".into(),
        ..manager()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answers = runtime.block_on(async {
        let (link, task) = link_service(&soc);
        let raise = |title: &str| RaiseIncident {
            request_id: "1".into(),
            title: title.into(),
            severity: pb::Severity::High as i32,
            rule_id: "manual".into(),
            ..RaiseIncident::default()
        };
        let mut answers = Vec::new();
        for (actor, title) in [
            (manager(), "mona's"),
            (other.clone(), "max's"),
            (manager(), "mona's retry"),
            (other.clone(), "max's retry"),
        ] {
            answers.push(link.raise_incident(actor, raise(title)).await?);
        }
        drop(link);
        task.await?;
        anyhow::Ok(answers)
    })?;
    let seqs: Vec<(u64, bool)> = answers.iter().map(|a| (a.seq, a.replayed)).collect();
    assert_eq!(seqs, vec![(1, false), (2, false), (1, true), (2, true)]);
    assert_eq!(store.outbox_len(), 2);
    Ok(())
}

/// Reads of `tree` counted by the store's operation counters while `work` runs.
fn gets_of(tree: &str, work: impl FnOnce()) -> u64 {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, work);
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| {
            let key = key.key();
            key.name() == "socfed_agent_store_ops_total"
                && key.labels().any(|l| l.key() == "tree" && l.value() == tree)
                && key.labels().any(|l| l.key() == "op" && l.value() == "get")
        })
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

/// While no revision waits, writing an incident reads nothing of the deferred-revision
/// index: the store counts its entries.
#[test]
fn an_incident_write_reads_the_deferred_revision_index_only_when_it_holds_entries()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let mut soc = service(store.clone(), clock)?;
    soc.settings.outbox_cap = 1;
    let soc = Arc::new(soc);
    let mut answers = raise(&soc, &["beaconing"])?.into_iter();
    let raised = answers
        .next()
        .ok_or_else(|| anyhow::anyhow!("no answer"))??;
    let update = |status| {
        soc.update_incident(&manager(), &raised.local_incident_id, Some(status), None)
            .map(|i| i.revision_pending)
    };
    // The outbox is full: this revision waits, and the index holds it.
    let mut waits = None;
    let reads = gets_of("idx_revision_pending", || {
        waits = Some(update(IncidentStatus::Contained));
    });
    assert_eq!((waits.take().transpose()?, reads), (Some(true), 0));
    store.acknowledge(raised.seq)?;
    // Now the index holds an entry: clearing it reads it once.
    let reads = gets_of("idx_revision_pending", || {
        waits = Some(update(IncidentStatus::Closed));
    });
    assert_eq!((waits.take().transpose()?, reads), (Some(false), 1));
    assert!(store.pending_revision_ids(10)?.is_empty());
    // Empty again (and the hub took that revision): nothing read.
    store.acknowledge(raised.seq + 1)?;
    let reads = gets_of("idx_revision_pending", || {
        waits = Some(update(IncidentStatus::Open));
    });
    assert_eq!((waits.take().transpose()?, reads), (Some(false), 0));
    Ok(())
}

/// A group added to an existing incident is promoted to it and folded in (hosts, groups);
/// it needs the role a promotion needs, and a closed group or an unknown incident is refused.
#[test]
fn a_group_added_to_an_existing_incident_is_promoted_to_it_under_the_promotion_rule()
-> anyhow::Result<()> {
    use crate::soc::alert::Format;
    use crate::soc::triage::{Action, Status, Verdict};
    use crate::soc::{Role, Tier};
    let dir = tempfile::tempdir()?;
    let soc = service(
        open(dir.path())?,
        Arc::new(ManualClock::new(1_700_000_000_000)),
    )?;
    let line = |host: &str| {
        format!(
            r#"{{"observed_at":1700000000000,"rule_id":"R-{host}","severity":"medium","hosts":["{host}"]}}"#
        )
    };
    let lines = vec![(1, line("ws-1")), (2, line("ws-2")), (3, line("ws-3"))];
    soc.submit(&manager(), Format::Native, &lines)?;
    let groups = soc.list_groups(
        &manager(),
        &crate::store::GroupFilter {
            limit: 10,
            ..Default::default()
        },
    )?;
    let id_of = |host: &str| {
        groups
            .iter()
            .find(|g| g.entities.hosts == [host])
            .map(|g| g.id)
            .ok_or_else(|| anyhow::anyhow!("no group for {host}"))
    };
    let incident = soc.promote(&manager(), &[id_of("ws-1")?], None)?;
    let tier1 = crate::service::Actor {
        name: "tina".into(),
        role: Role::Analyst(Tier::T1),
        cert: String::new(),
    };
    let refused = soc.add_to_incident(&tier1, id_of("ws-2")?, &incident.id);
    assert!(
        matches!(&refused, Err(crate::error::AgentError::Denied(d)) if d.to_string().contains("tier 2 analyst or above")),
        "{refused:?}"
    );
    let added = soc.add_to_incident(&manager(), id_of("ws-2")?, &incident.id)?;
    assert_eq!(added.groups.len(), 2);
    assert_eq!(added.hosts, ["ws-1", "ws-2"]);
    let group = soc.get_group(&manager(), id_of("ws-2")?)?;
    assert_eq!(
        group.state.status,
        Status::Promoted {
            incident: incident.id.clone()
        }
    );
    soc.act(
        &manager(),
        id_of("ws-3")?,
        Action::Close {
            verdict: Verdict::Benign,
        },
    )?;
    assert!(
        soc.add_to_incident(&manager(), id_of("ws-3")?, &incident.id)
            .is_err()
    );
    assert!(matches!(
        soc.add_to_incident(&manager(), id_of("ws-3")?, "INC-NONE"),
        Err(crate::error::AgentError::NotFound(_))
    ));
    assert_eq!(soc.get_incident(&manager(), &incident.id)?.groups.len(), 2);
    Ok(())
}
