//! The intake pipeline against batch-by-batch submission, and the packed intake indexes.

use super::pipeline::Pipeline;
use crate::service::{Actor, ManualClock, SocService, SocSettings};
use crate::soc::Role;
use crate::soc::alert::{Format, ParseLimits};
use crate::soc::incident::EscalationPolicy;
use crate::soc::sla::SlaPolicy;
use crate::soc::triage::StatusKind;
use crate::store::cap::OnFull;
use crate::store::{AgentStore, Durability, GroupFilter};
use socfed_proto::vocab::{ReportLimits, SiteId};
use std::sync::Arc;

const START_MS: i64 = 1_700_000_000_000;
const DAY_MS: i64 = 86_400_000;

pub(crate) fn open(dir: &std::path::Path) -> anyhow::Result<Arc<AgentStore>> {
    Ok(Arc::new(AgentStore::open(
        dir,
        Durability::Flush,
        8 << 20,
        socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
    )?))
}

pub(crate) fn service(
    store: Arc<AgentStore>,
    clock: Arc<ManualClock>,
) -> anyhow::Result<SocService> {
    Ok(SocService {
        store,
        settings: SocSettings {
            site: SiteId::parse("site-a")?,
            sla: SlaPolicy::default(),
            escalation: EscalationPolicy {
                min_severity: None,
                min_hosts: None,
                decision_tier: None,
            },
            aggregation_window_ms: 600_000,
            duplicate_window_ms: DAY_MS,
            parse_limits: ParseLimits::default(),
            report_limits: ReportLimits::default(),
            outbox_cap: 100,
            on_full: OnFull::RefuseNew,
            managers: vec!["mona".into()],
            rotation: None,
        },
        clock,
        group_tap: None,
        console_refusals: Default::default(),
        revoked: Default::default(),
    })
}

pub(crate) fn manager() -> Actor {
    Actor {
        name: "mona".into(),
        role: Role::SocManager,
        cert: String::new(),
    }
}

/// A native alert line: `host` decides the group, `id` the source event.
fn line(host: u32, at_ms: i64, id: u32, indicator: &str) -> String {
    format!(
        r#"{{"id":"evt-{id}","observed_at":{at_ms},"product":"edr","rule_id":"R-{}","severity":"medium","hosts":["ws-{host}"],"indicators":["{indicator}"]}}"#,
        host % 3
    )
}

/// Batches with repeats inside and across batches, late alerts that fold into earlier
/// groups, alerts outside the window, resends (duplicates) and malformed lines.
fn batches() -> Vec<Vec<(u64, String)>> {
    let mut out = Vec::new();
    let mut n = 0u64;
    for b in 0..6u32 {
        let mut batch = Vec::new();
        for i in 0..40u32 {
            n += 1;
            let host = (b * 7 + i) % 25;
            // Times move forward, with some far enough apart to open new groups, and some
            // late arrivals that belong before their group's first alert.
            let at = START_MS + i64::from(b) * 400_000 + i64::from(i % 5) * 1_000
                - if i % 11 == 0 { 300_000 } else { 0 };
            let id = if i % 13 == 0 { b * 40 } else { b * 40 + i };
            let indicator = format!("ipv4:10.0.{}.{}", host % 4, i % 7);
            let text = if i % 17 == 16 {
                "{not json".to_string()
            } else {
                line(host, at, id, &indicator)
            };
            batch.push((n, text));
        }
        out.push(batch);
    }
    out
}

/// What a store holds of its groups, without the ids chosen at random.
fn holdings(soc: &SocService) -> anyhow::Result<Vec<String>> {
    let groups = soc.list_groups(
        &manager(),
        &GroupFilter {
            statuses: GroupFilter::status_codes(&StatusKind::ALL),
            limit: 10_000,
            ..GroupFilter::default()
        },
    )?;
    let mut out = Vec::new();
    for g in groups {
        let mut hunts = Vec::new();
        for indicator in &g.indicators {
            let found = soc.store.groups_with_indicator(&indicator.to_string())?;
            anyhow::ensure!(found.contains(&g.id), "{indicator} does not find its group");
            hunts.push(found.len());
        }
        out.push(format!(
            "{} {}..{} x{} {:?} {:?} {:?} {hunts:?}",
            g.rule_id,
            g.first_seen_ms,
            g.last_seen_ms,
            g.count,
            g.entities.hosts,
            g.indicators,
            g.state.status.kind(),
        ));
    }
    out.sort();
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_stream_stores_exactly_what_batch_by_batch_submission_stores()
-> anyhow::Result<()> {
    let (one, two) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let clock = Arc::new(ManualClock::new(START_MS));
    let alone = service(open(one.path())?, clock.clone())?;
    let mut expected = super::IntakeResult::default();
    for batch in batches() {
        expected.add(alone.submit(&manager(), Format::Native, &batch)?);
    }
    let piped = Arc::new(service(open(two.path())?, clock.clone())?);
    let pipeline = Pipeline::start(piped.clone(), manager());
    for batch in batches() {
        pipeline
            .push(piped.parse_batch(Format::Native, &batch))
            .await?;
    }
    let got = pipeline.finish().await?;
    assert_eq!(got, expected);
    assert!(expected.duplicates > 0 && expected.aggregated > 0 && expected.rejected > 0);
    assert_eq!(holdings(&piped)?, holdings(&alone)?);
    assert_eq!(piped.store.intake_counts()?, alone.store.intake_counts()?);
    // A resent stream changes nothing but the duplicate count.
    let again = Pipeline::start(piped.clone(), manager());
    for batch in batches() {
        again
            .push(piped.parse_batch(Format::Native, &batch))
            .await?;
    }
    let resent = again.finish().await?;
    assert_eq!(resent.accepted + resent.aggregated, 0);
    assert_eq!(
        resent.duplicates,
        got.accepted + got.aggregated + got.duplicates
    );
    assert_eq!(holdings(&piped)?, holdings(&alone)?);
    Ok(())
}

#[test]
fn packed_source_events_are_forgotten_whole_once_past_the_window() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(START_MS));
    let soc = service(open(dir.path())?, clock.clone())?;
    // More events than one pack holds, in one batch.
    let batch: Vec<(u64, String)> = (0..300u32)
        .map(|i| (u64::from(i), line(i, START_MS, i, "domain:c2.bad.example")))
        .collect();
    let first = soc.submit(&manager(), Format::Native, &batch)?;
    assert_eq!(first.duplicates, 0);
    let by_time = soc
        .store
        .raw_tree("seen_by_time")
        .ok_or_else(|| anyhow::anyhow!("no seen_by_time"))?;
    assert_eq!(
        by_time.len(),
        300usize.div_ceil(crate::store::schema::PACK_IDS)
    );
    assert_eq!(
        soc.store
            .groups_with_indicator("domain:c2.bad.example")?
            .len(),
        first.accepted as usize
    );
    let resent = soc.submit(&manager(), Format::Native, &batch)?;
    assert_eq!(resent.duplicates, 300);
    // Past the duplicate window the next commit forgets every pack, so the same events
    // are taken in again.
    clock.advance(std::time::Duration::from_millis(DAY_MS as u64 + 1));
    let later = soc.submit(&manager(), Format::Native, &batch[..1])?;
    assert_eq!(later.duplicates, 0);
    let seen = soc
        .store
        .raw_tree("seen_events")
        .ok_or_else(|| anyhow::anyhow!("no seen_events"))?;
    assert_eq!(seen.len(), 1, "only the event just taken in is remembered");
    assert_eq!(by_time.len(), 1);
    Ok(())
}

/// The store at `dir` once the one dropped before has let go of sled's lock (its threads
/// may hold it for a moment).
fn reopen(dir: &std::path::Path) -> anyhow::Result<Arc<AgentStore>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match open(dir) {
            Err(e)
                if std::time::Instant::now() < deadline
                    && e.downcast_ref::<crate::store::StoreError>()
                        .is_some_and(|e| {
                            matches!(e, crate::store::StoreError::Open { error, .. }
                            if socfed_runtime::store_files::lock_busy(error))
                        }) =>
            {
                std::thread::yield_now();
            }
            other => return other,
        }
    }
}

/// Queues' group ids, then the agenda's (due, group).
type Listed = (Vec<Vec<ulid::Ulid>>, Vec<(i64, ulid::Ulid)>);

/// Every queue (status by status, tier by tier) and the SLA agenda, as listed.
fn queues_and_agenda(soc: &SocService) -> anyhow::Result<Listed> {
    let mut queues = Vec::new();
    for kind in StatusKind::ALL {
        for tier in crate::soc::Tier::ALL {
            let filter = GroupFilter {
                statuses: GroupFilter::status_codes(&[kind]),
                tier: Some(tier),
                limit: 10_000,
                ..GroupFilter::default()
            };
            queues.push(
                soc.list_groups(&manager(), &filter)?
                    .iter()
                    .map(|g| g.id)
                    .collect(),
            );
        }
    }
    let open = GroupFilter {
        limit: 7,
        ..GroupFilter::default()
    };
    queues.push(
        soc.list_groups(&manager(), &open)?
            .iter()
            .map(|g| g.id)
            .collect(),
    );
    Ok((queues, soc.store.groups_due(i64::MAX, 10_000)?))
}

/// The queue and the SLA agenda live in memory (schema 6): after triage changed some groups,
/// a reopened store lists and schedules exactly what the running one did, and a changed SLA
/// policy moves the deadlines.
#[test]
fn the_queue_and_the_sla_agenda_are_the_same_after_a_reopen() -> anyhow::Result<()> {
    use crate::soc::triage::{Action, Verdict};
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(ManualClock::new(START_MS));
    let before = {
        let soc = service(open(dir.path())?, clock.clone())?;
        assert!(soc.store.rebuild_sla_agenda_if_changed(&soc.settings.sla)?);
        for batch in batches() {
            soc.submit(&manager(), Format::Native, &batch)?;
        }
        let open = soc.list_groups(
            &manager(),
            &GroupFilter {
                limit: 100,
                ..GroupFilter::default()
            },
        )?;
        anyhow::ensure!(open.len() >= 4, "{} groups", open.len());
        soc.act(&manager(), open[0].id, Action::Acknowledge)?;
        soc.act(&manager(), open[1].id, Action::Escalate)?;
        soc.act(
            &manager(),
            open[2].id,
            Action::Close {
                verdict: Verdict::FalsePositive,
            },
        )?;
        let state = queues_and_agenda(&soc)?;
        assert_eq!(
            state.1.len(),
            open.len() - 1,
            "a closed group has no deadline"
        );
        soc.store.close()?;
        state
    };
    let soc = service(reopen(dir.path())?, clock.clone())?;
    assert!(!soc.store.rebuild_sla_agenda_if_changed(&soc.settings.sla)?);
    assert_eq!(queues_and_agenda(&soc)?, before);
    let mut stricter = soc.settings.sla.clone();
    stricter.medium.ack_within = std::time::Duration::from_secs(60);
    assert!(soc.store.rebuild_sla_agenda_if_changed(&stricter)?);
    let (queues, agenda) = queues_and_agenda(&soc)?;
    assert_eq!(queues, before.0);
    assert_eq!(agenda.len(), before.1.len());
    assert_ne!(agenda, before.1);
    Ok(())
}
