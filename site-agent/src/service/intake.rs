//! Alert intake: parse a batch of lines, drop source events taken in before (duplicates),
//! fold repeats into their groups, open and assign new groups, and count everything
//! (nothing is dropped without being counted).
//!
//! A source event is recognised by the identity its parser gives it (`Alert::source_id`),
//! remembered for `soc.duplicate_window` after its first arrival: submitting a file again,
//! or a forwarder resending, changes no group, count or queue. Aggregation finds the group
//! an alert's time belongs to among all groups of its fingerprint (`aggregate::decide`), so
//! the outcome does not depend on arrival order.

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::Tier;
use crate::soc::aggregate::{self, Fold};
use crate::soc::alert::{Alert, Format};
use crate::soc::authz::{self, Operation};
use crate::soc::group::AlertGroup;
use crate::soc::notify::NewUnassigned;
use crate::soc::parse::{self, Parsed};
use crate::soc::triage::{self, Action, Status};
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

impl SocService {
    /// Parses and stores one batch of raw lines `(line number, text)` as one store unit.
    pub fn submit(
        &self,
        actor: &Actor,
        format: Format,
        lines: &[(u64, String)],
    ) -> Result<IntakeResult, AgentError> {
        authz::check(actor.role, Operation::SubmitAlerts, None)?;
        let now = self.now();
        let mut result = IntakeResult {
            lines: lines.len() as u64,
            ..Default::default()
        };
        let mut alerts: Vec<Alert> = Vec::new();
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
        let roster = self.store.roster()?;
        let window = self.settings.aggregation_window_ms;
        let mut unassigned: Vec<NewUnassigned> = Vec::new();
        let mut touched: Vec<Ulid> = Vec::new();
        self.store.unit(|unit| {
            unit.prune_seen(
                now.saturating_sub(self.settings.duplicate_window_ms),
                PRUNE_PER_BATCH,
            )?;
            for alert in alerts {
                if let Some(id) = &alert.source_id {
                    if unit.seen_event(id)? {
                        result.duplicates += 1;
                        continue;
                    }
                    unit.mark_seen(id, now);
                }
                let fp = aggregate::fingerprint(&alert);
                let t = alert.observed_at_ms;
                let mut spans = unit.group_spans(&fp, t.saturating_sub(window))?;
                // Only the groups near enough are read, to learn whether they are open.
                for span in spans.iter_mut().filter(|s| s.reaches(t, window)) {
                    span.open = unit.group(span.group)?.is_some_and(|g| {
                        matches!(
                            g.state.status,
                            Status::New | Status::Acknowledged | Status::Promoted { .. }
                        )
                    });
                }
                match aggregate::decide(&spans, t, window) {
                    Fold::Into(id) => {
                        let Some(mut group) = unit.group(id)? else {
                            continue;
                        };
                        let old = group.clone();
                        let changed = group.absorb(&alert);
                        unit.put_group(Some(&old), &group, &self.settings.sla)?;
                        unit.put_span(Some(old.last_seen_ms), &group);
                        touched.push(id);
                        if changed && let Status::Promoted { incident } = &group.state.status {
                            self.refresh_incident(unit, incident, &group, actor)?;
                        }
                        result.aggregated += 1;
                    }
                    Fold::NewGroup => {
                        let id = Ulid::from_parts(now.max(0) as u64, rand::random());
                        let mut group = AlertGroup::open(id, fp, alert, now);
                        match self.pick_assignee(unit, &roster, Tier::T1, now)? {
                            Some(analyst) => {
                                let (state, _) =
                                    triage::apply(&group.state, &Action::Assign { analyst }, now)?;
                                group.state = state;
                            }
                            None => unassigned.push(NewUnassigned {
                                id,
                                title: group.title.clone(),
                                severity: group.severity,
                            }),
                        }
                        unit.put_group(None, &group, &self.settings.sla)?;
                        unit.put_span(None, &group);
                        touched.push(id);
                        result.accepted += 1;
                    }
                }
            }
            // Critical and high: one notification each; lower ones muted with exact counts.
            self.notify_unassigned(unit, &unassigned, now)?;
            unit.count_intake("accepted", result.accepted)?;
            unit.count_intake("aggregated", result.aggregated)?;
            unit.count_intake("duplicates", result.duplicates)?;
            unit.count_intake("rejected", result.rejected)?;
            unit.count_intake("skipped", result.skipped)?;
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
            Ok::<_, AgentError>(())
        })?;
        if let Some(tap) = &self.group_tap
            && !touched.is_empty()
        {
            let _ = tap.send(touched);
        }
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
        Ok(result)
    }
}
