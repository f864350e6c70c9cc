//! Alert intake: parse a batch of lines, drop source events taken in before (duplicates),
//! fold repeats into their groups, open and assign new groups, and count everything
//! (nothing is dropped without being counted).
//!
//! A source event is recognised by the identity its parser gives it (`Alert::source_id`),
//! remembered for `soc.duplicate_window` after its first arrival: submitting a file again,
//! or a forwarder resending, changes no group, count or queue. Aggregation finds the group
//! an alert's time belongs to among all groups of its fingerprint (`aggregate::decide`), so
//! the outcome does not depend on arrival order.
//!
//! Three stages, so a stream of batches keeps both cores busy ([`pipeline`]): parsing
//! ([`SocService::parse_batch`], pure, any thread), one writer that folds a commit's alerts
//! in memory and writes each touched group once ([`SocService::store_parsed`], `fold.rs`),
//! and the wait for durability, which overlaps the next commit. [`SocService::submit`] runs
//! the three in a row for one batch.

mod fold;
pub mod pipeline;
#[cfg(test)]
pub(crate) mod tests;

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::alert::{Alert, Format};
use crate::soc::authz::{self, Operation};
use crate::soc::parse::{self, Parsed};
use crate::store::Pending;
use ulid::Ulid;

/// Source events forgotten per batch at most, once past the duplicate window: more than a
/// batch can add, so the tree shrinks back after a burst.
const PRUNE_PER_BATCH: usize = 2_000;

/// Per-batch outcome: counts and the rejected lines with reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntakeResult {
    pub lines: u64,
    pub accepted: u64,
    pub aggregated: u64,
    /// Source events taken in before: not counted again.
    pub duplicates: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub rejections: Vec<(u64, String)>,
}

impl IntakeResult {
    pub fn add(&mut self, other: IntakeResult) {
        self.lines += other.lines;
        self.accepted += other.accepted;
        self.aggregated += other.aggregated;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
        self.rejections.extend(other.rejections);
    }
}

/// One batch after parsing: its alerts, and the counts parsing alone decided (lines,
/// rejected, skipped).
#[derive(Debug)]
pub struct ParsedBatch {
    pub format: Format,
    pub alerts: Vec<Alert>,
    /// The alerts' original records, in bytes: what their groups' samples carry into the
    /// commit, for the writer's per-commit budget.
    pub raw_bytes: usize,
    pub result: IntakeResult,
}

/// What a commit leaves to do once it is durable.
#[derive(Debug)]
#[must_use = "the batch is acknowledged only once `Committed::pending` is durable"]
pub struct Committed {
    pub result: IntakeResult,
    pub pending: Pending,
    /// Groups opened or changed, for the response engine (told only once durable).
    pub touched: Vec<Ulid>,
}

impl SocService {
    /// Parses, stores and syncs one batch of raw lines `(line number, text)` as one store
    /// unit; returns once it is durable.
    pub fn submit(
        &self,
        actor: &Actor,
        format: Format,
        lines: &[(u64, String)],
    ) -> Result<IntakeResult, AgentError> {
        authz::check(actor.role, Operation::SubmitAlerts, None)?;
        let parsed = self.parse_batch(format, lines);
        let committed = self.store_parsed(actor, vec![parsed])?;
        self.finish_durable(committed.pending, committed.touched)?;
        Ok(committed.result)
    }

    /// Parses one batch. Pure (reads only settings and the clock): runs on any thread.
    pub fn parse_batch(&self, format: Format, lines: &[(u64, String)]) -> ParsedBatch {
        let now = self.now();
        let mut result = IntakeResult {
            lines: lines.len() as u64,
            ..Default::default()
        };
        let mut alerts: Vec<Alert> = Vec::with_capacity(lines.len());
        for (line_no, text) in lines {
            match parse::parse_line(format, text, now, &self.settings.parse_limits) {
                Ok(Parsed::Alert(alert)) => alerts.push(*alert),
                Ok(Parsed::Skipped(_)) => result.skipped += 1,
                Err(e) => {
                    result.rejected += 1;
                    result.rejections.push((*line_no, e.to_string()));
                }
            }
        }
        let raw_bytes = alerts.iter().map(|a| a.raw.len()).sum();
        ParsedBatch {
            format,
            alerts,
            raw_bytes,
            result,
        }
    }

    /// Stores parsed batches, in order, as one store unit (one audit entry per batch, as if
    /// each were its own unit) and returns before the unit is durable: the caller must
    /// [`Self::finish_durable`] before telling anyone.
    pub fn store_parsed(
        &self,
        actor: &Actor,
        batches: Vec<ParsedBatch>,
    ) -> Result<Committed, AgentError> {
        authz::check(actor.role, Operation::SubmitAlerts, None)?;
        let now = self.now();
        let roster = self.store.roster()?;
        let mut total = IntakeResult::default();
        let mut touched: Vec<Ulid> = Vec::new();
        let (result, pending) = self.store.unit_deferred(|unit| {
            unit.prune_seen(
                now.saturating_sub(self.settings.duplicate_window_ms),
                PRUNE_PER_BATCH.saturating_mul(batches.len().max(1)),
            )?;
            let mut commit = fold::Commit::new(now);
            for batch in batches {
                let ParsedBatch {
                    format,
                    alerts,
                    mut result,
                    ..
                } = batch;
                let unassigned = commit.take_in(self, unit, &roster, actor, alerts, &mut result)?;
                // Critical and high: one notification each; lower ones muted with exact counts.
                self.notify_unassigned(unit, &unassigned, now)?;
                let summary = serde_json::json!({
                    "format": format.as_str(), "lines": result.lines, "accepted": result.accepted,
                    "aggregated": result.aggregated, "duplicates": result.duplicates,
                    "rejected": result.rejected, "skipped": result.skipped,
                });
                self.audit(
                    unit,
                    actor,
                    "alerts.submit",
                    &format!("{} lines", result.lines),
                    None,
                    json(&summary),
                )?;
                total.add(result);
            }
            touched = commit.write(unit, &self.settings.sla)?;
            unit.count_intake("accepted", total.accepted)?;
            unit.count_intake("aggregated", total.aggregated)?;
            unit.count_intake("duplicates", total.duplicates)?;
            unit.count_intake("rejected", total.rejected)?;
            unit.count_intake("skipped", total.skipped)?;
            Ok::<_, AgentError>(total)
        })?;
        count_metrics(&result);
        Ok(Committed {
            result,
            pending,
            touched,
        })
    }

    /// Waits until `pending` is durable, then tells the response engine of `touched`.
    pub fn finish_durable(&self, pending: Pending, touched: Vec<Ulid>) -> Result<(), AgentError> {
        self.store.wait_durable(pending)?;
        if let Some(tap) = &self.group_tap {
            tap.record(&touched);
        }
        Ok(())
    }
}

fn count_metrics(result: &IntakeResult) {
    metrics::counter!("socfed_agent_alerts_total", "outcome" => "accepted")
        .increment(result.accepted);
    metrics::counter!("socfed_agent_alerts_total", "outcome" => "aggregated")
        .increment(result.aggregated);
    metrics::counter!("socfed_agent_alerts_total", "outcome" => "duplicate")
        .increment(result.duplicates);
    metrics::counter!("socfed_agent_alerts_total", "outcome" => "rejected")
        .increment(result.rejected);
    metrics::counter!("socfed_agent_alerts_total", "outcome" => "skipped")
        .increment(result.skipped);
}
