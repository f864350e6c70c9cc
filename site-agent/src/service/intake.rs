//! Alert intake: parse a batch of lines, fold repeats into their groups, open and assign new
//! groups, and count everything (nothing is dropped without being counted).

use super::{Actor, ServiceError, SocService, json};
use crate::soc::Tier;
use crate::soc::aggregate::{self, Fold, OpenGroup};
use crate::soc::alert::{Alert, Format};
use crate::soc::authz::{self, Operation};
use crate::soc::group::AlertGroup;
use crate::soc::notify::NotificationKind;
use crate::soc::parse::{self, Parsed};
use crate::soc::triage::{self, Action, Status};
use crate::store::schema::{FingerprintRecord, TreeId};
use ulid::Ulid;

/// Settings key: when the last "unassigned" notification for new groups went out.
const UNASSIGNED_NOTIFIED: &str = "notify/unassigned/new-groups";
/// At most one such notification per this period.
const UNASSIGNED_QUIET_MS: u64 = 5 * 60 * 1000;

/// Per-batch outcome: counts and the rejected lines with reasons.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntakeResult {
    pub lines: u64,
    pub accepted: u64,
    pub aggregated: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub rejections: Vec<(u64, String)>,
}

impl IntakeResult {
    pub fn add(&mut self, other: IntakeResult) {
        self.lines += other.lines;
        self.accepted += other.accepted;
        self.aggregated += other.aggregated;
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
    ) -> Result<IntakeResult, ServiceError> {
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
        let mut unassigned: Option<(Ulid, String)> = None;
        let mut unassigned_count = 0u64;
        let mut touched: Vec<Ulid> = Vec::new();
        self.store.unit(|unit| {
            for alert in alerts {
                let fp = aggregate::fingerprint(&alert);
                let previous = match unit.fingerprint(&fp)? {
                    Some(record) => {
                        let open = unit
                            .group(record.group)?
                            .is_some_and(|g| matches!(g.state.status, Status::New | Status::Acknowledged | Status::Promoted { .. }));
                        Some(OpenGroup { group: record.group, last_seen_ms: record.last_seen_ms, open })
                    }
                    None => None,
                };
                match aggregate::decide(previous, alert.observed_at_ms, window) {
                    Fold::Into(id) => {
                        let Some(mut group) = unit.group(id)? else { continue };
                        let old = group.clone();
                        let changed = group.absorb(&alert);
                        unit.put_group(Some(&old), &group, &self.settings.sla)?;
                        touched.push(id);
                        unit.put_fingerprint(&fp, &FingerprintRecord { group: id, last_seen_ms: group.last_seen_ms })?;
                        if changed
                            && let Status::Promoted { incident } = &group.state.status {
                                self.refresh_incident(unit, incident, &group, actor)?;
                            }
                        result.aggregated += 1;
                    }
                    Fold::NewGroup => {
                        let id = Ulid::from_parts(now.max(0) as u64, rand::random());
                        let mut group = AlertGroup::open(id, fp, alert, now);
                        match self.pick_assignee(unit, &roster, Tier::T1, now)? {
                            Some(analyst) => {
                                let (state, _) = triage::apply(&group.state, &Action::Assign { analyst }, now)?;
                                group.state = state;
                            }
                            None => {
                                unassigned.get_or_insert((id, group.title.clone()));
                                unassigned_count += 1;
                            }
                        }
                        unit.put_group(None, &group, &self.settings.sla)?;
                        touched.push(id);
                        unit.put_fingerprint(&fp, &FingerprintRecord { group: id, last_seen_ms: group.last_seen_ms })?;
                        result.accepted += 1;
                    }
                }
            }
            if let Some((first, title)) = &unassigned {
                // One notification per quiet period, not one per group: a burst while nobody
                // is on shift must not bury the manager (or the log) in identical messages.
                metrics::counter!("socfed_agent_unassigned_groups_total").increment(unassigned_count);
                let last = unit.get_u64(TreeId::Settings, UNASSIGNED_NOTIFIED.as_bytes()).map_err(crate::store::StoreError::from)?;
                if now.max(0) as u64 >= last.saturating_add(UNASSIGNED_QUIET_MS) {
                    unit.put_u64(TreeId::Settings, UNASSIGNED_NOTIFIED.as_bytes(), now.max(0) as u64);
                    self.notify(
                        unit,
                        NotificationKind::Unassigned,
                        format!("{unassigned_count} new alert group(s) unassigned: nobody of tier 1 is on shift (first: {first}, {title})"),
                        Some(*first),
                    )?;
                }
            }
            unit.count_intake("accepted", result.accepted)?;
            unit.count_intake("aggregated", result.aggregated)?;
            unit.count_intake("rejected", result.rejected)?;
            unit.count_intake("skipped", result.skipped)?;
            let summary = serde_json::json!({
                "format": format.as_str(), "lines": result.lines, "accepted": result.accepted,
                "aggregated": result.aggregated, "rejected": result.rejected, "skipped": result.skipped,
            });
            self.audit(unit, actor, "alerts.submit", &format!("{} lines", result.lines), None, json(&summary))?;
            Ok::<_, ServiceError>(())
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
        metrics::counter!("socfed_agent_alerts_total", "outcome" => "rejected")
            .increment(result.rejected);
        metrics::counter!("socfed_agent_alerts_total", "outcome" => "skipped")
            .increment(result.skipped);
        Ok(result)
    }
}
