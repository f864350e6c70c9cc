//! The intake pipeline behind one `SubmitAlerts` stream: batches are parsed on the blocking
//! thread pool (several at once, handed on in order), one writer thread commits them,
//! folding whatever is already parsed into the same commit, and a sync thread waits for each
//! commit's flush while the writer prepares the next. The caller's answer comes from
//! [`Pipeline::finish`], only once every commit is durable: an intake batch is acknowledged
//! only after it is on disk, as when each batch was parsed, stored and synced in turn.
//!
//! Retries stay harmless for the reason they always were: every source event is remembered
//! (`seen_events`) in the same unit as its group, so a resent batch counts as duplicates.

use super::{Committed, IntakeResult, ParsedBatch};
use crate::error::AgentError;
use crate::service::{Actor, SocService};
use crate::soc::alert::Format;
use crate::store::Pending;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use ulid::Ulid;

/// Parsed batches waiting for the writer: enough to fill a commit while one syncs.
const WRITE_AHEAD: usize = 8;
/// Alerts after which a commit takes no more batches from what is waiting. This, not the
/// queues, sets the agent's peak memory, which grows with a sled transaction's writes (about
/// six per new group). Peak RSS of the 200,000-line bench: 4,000 alerts 620–760 MiB, 2,000
/// about 560, 1,000 about 440, 500 330–450, at the same throughput within noise
/// (docs/PERFORMANCE.md, "The intake pipeline").
const MAX_COMMIT_ALERTS: usize = 500;
/// Bytes of original records after which a commit takes no more batches (each new group
/// stores its alert's as a sample): keeps the bound above when records are long. The ingest
/// client's largest batch, so one such batch is one commit.
const MAX_COMMIT_RAW_BYTES: usize = 512 * 1024;
/// Commits waiting for their flush at most: the writer runs ahead of the disk by no more.
const SYNC_AHEAD: usize = 4;

/// One stream's intake; dropped without [`Pipeline::finish`], it stops after the batches
/// already handed to it.
pub struct Pipeline {
    batches: mpsc::Sender<ParsedBatch>,
    writer: JoinHandle<Result<IntakeResult, AgentError>>,
    syncer: JoinHandle<Result<(), AgentError>>,
}

impl Pipeline {
    /// Starts the writer and sync threads for `actor`'s stream.
    pub fn start(service: Arc<SocService>, actor: Actor) -> Self {
        let (batches, parsed) = mpsc::channel(WRITE_AHEAD);
        let (commits, committed) = mpsc::channel(SYNC_AHEAD);
        let writer = {
            let service = service.clone();
            tokio::task::spawn_blocking(move || write(&service, &actor, parsed, commits))
        };
        let syncer = tokio::task::spawn_blocking(move || sync(&service, committed));
        Self {
            batches,
            writer,
            syncer,
        }
    }

    /// Hands a parsed batch to the writer (waits while it is `WRITE_AHEAD` behind).
    pub async fn push(&self, batch: ParsedBatch) -> Result<(), AgentError> {
        if self.batches.send(batch).await.is_err() {
            // The writer stopped on an error; `finish` returns it.
            return Err(AgentError::internal(
                "alert intake stopped; the batch was not stored",
            ));
        }
        Ok(())
    }

    /// Waits until every batch pushed is stored and durable; the counts of them all.
    pub async fn finish(self) -> Result<IntakeResult, AgentError> {
        let Pipeline {
            batches,
            writer,
            syncer,
        } = self;
        drop(batches);
        let written = writer
            .await
            .map_err(|_| AgentError::internal("alert intake writer failed"))?;
        let synced = syncer
            .await
            .map_err(|_| AgentError::internal("alert intake sync failed"))?;
        // A write error is the cause; a sync error after good writes still refuses the answer.
        let total = written?;
        synced?;
        Ok(total)
    }
}

/// The writer: commits in arrival order, each commit taking what is already parsed.
fn write(
    service: &SocService,
    actor: &Actor,
    mut parsed: mpsc::Receiver<ParsedBatch>,
    commits: mpsc::Sender<(Pending, Vec<Ulid>)>,
) -> Result<IntakeResult, AgentError> {
    let mut total = IntakeResult::default();
    let mut held: Option<ParsedBatch> = None;
    while let Some(first) = held.take().or_else(|| parsed.blocking_recv()) {
        let (take, next) = gather(first, || parsed.try_recv().ok());
        held = next;
        let Committed {
            result,
            pending,
            touched,
        } = service.store_parsed(actor, take)?;
        total.add(result);
        if commits.blocking_send((pending, touched)).is_err() {
            // The sync thread stopped on an error, which `finish` reports.
            break;
        }
    }
    Ok(total)
}

/// One commit's batches: `first`, then whatever `ready` gives without waiting, while the
/// commit is under both budgets (the batch that reaches one still joins: a commit is at
/// most one batch over) and of `first`'s format; a batch of another format is returned,
/// to open the next commit.
fn gather(
    first: ParsedBatch,
    mut ready: impl FnMut() -> Option<ParsedBatch>,
) -> (Vec<ParsedBatch>, Option<ParsedBatch>) {
    let format: Format = first.format;
    let (mut alerts, mut bytes) = (first.alerts.len(), first.raw_bytes);
    let mut take = vec![first];
    while alerts < MAX_COMMIT_ALERTS && bytes < MAX_COMMIT_RAW_BYTES {
        match ready() {
            // One format per commit keeps each audit entry's batch as it came.
            Some(next) if next.format == format => {
                alerts += next.alerts.len();
                bytes += next.raw_bytes;
                take.push(next);
            }
            Some(next) => return (take, Some(next)),
            None => break,
        }
    }
    (take, None)
}

/// The sync thread: one wait covers every commit queued behind it.
fn sync(
    service: &SocService,
    mut committed: mpsc::Receiver<(Pending, Vec<Ulid>)>,
) -> Result<(), AgentError> {
    while let Some((mut pending, mut touched)) = committed.blocking_recv() {
        while let Ok((more, groups)) = committed.try_recv() {
            pending = pending.and(more);
            touched.extend(groups);
        }
        service.finish_durable(pending, touched)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soc::alert::{Alert, Entities};
    use socfed_proto::vocab::{Severity, Tlp};

    fn batch(format: Format, alerts: usize, raw_len: usize) -> ParsedBatch {
        let alert = Alert {
            observed_at_ms: 0,
            received_at_ms: 0,
            format,
            product: "p".into(),
            rule_id: "r".into(),
            rule_name: String::new(),
            severity: Severity::High,
            techniques: vec![],
            entities: Entities::default(),
            indicators: vec![],
            tlp: Tlp::Amber,
            raw: "x".repeat(raw_len),
            raw_truncated: false,
            source_id: None,
        };
        ParsedBatch {
            format,
            alerts: vec![alert; alerts],
            raw_bytes: alerts * raw_len,
            result: IntakeResult::default(),
        }
    }

    /// Takes batches from `waiting` as the writer does, one commit after another; the
    /// batches (as alert counts) of each commit.
    fn commits(waiting: Vec<ParsedBatch>) -> Vec<Vec<usize>> {
        let mut waiting = waiting.into_iter();
        let mut held = None;
        let mut out = Vec::new();
        while let Some(first) = held.take().or_else(|| waiting.next()) {
            let (take, next) = gather(first, || waiting.next());
            held = next;
            out.push(take.iter().map(|b| b.alerts.len()).collect());
        }
        out
    }

    #[test]
    fn a_commit_stops_at_its_alert_budget_and_the_rest_waits_for_the_next() {
        let waiting = (0..6).map(|_| batch(Format::Native, 200, 10)).collect();
        // 200 + 200 < 500, so a third batch still joins; then the budget is spent.
        assert_eq!(
            commits(waiting),
            vec![vec![200, 200, 200], vec![200, 200, 200]]
        );
    }

    #[test]
    fn long_records_close_a_commit_before_its_alert_budget() {
        // 100 alerts of 3 KiB each: 300 KiB a batch, so two batches pass the byte budget.
        let waiting = (0..4)
            .map(|_| batch(Format::Native, 100, 3 << 10))
            .collect();
        assert_eq!(commits(waiting), vec![vec![100, 100], vec![100, 100]]);
    }

    #[test]
    fn a_batch_of_another_format_opens_the_next_commit_and_none_is_lost() {
        let waiting = vec![
            batch(Format::Native, 10, 10),
            batch(Format::SuricataEve, 20, 10),
            batch(Format::SuricataEve, 30, 10),
        ];
        assert_eq!(commits(waiting), vec![vec![10], vec![20, 30]]);
    }
}
