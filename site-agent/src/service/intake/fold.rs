//! The writer's side of intake: one commit's alerts folded in memory. Every group the commit
//! opens or changes is kept here as it stands, beside what the store held before, and
//! written once when the commit ends (`Commit::write`), with its indexes and span: a group
//! that absorbs 50 repeats in a commit costs one record write, not 50.
//!
//! Decisions are exactly the ones alert-by-alert writing made: the span index is read as the
//! store holds it with this commit's groups laid over it (what the unit's pending writes
//! used to show), so `aggregate::decide` sees the same spans in the same order.

use super::{IntakeResult, SocService};
use crate::error::AgentError;
use crate::service::Actor;
use crate::soc::Tier;
use crate::soc::aggregate::{self, Fold, Span};
use crate::soc::alert::Alert;
use crate::soc::group::AlertGroup;
use crate::soc::notify::NewUnassigned;
use crate::soc::roster::Analyst;
use crate::soc::sla::SlaPolicy;
use crate::soc::triage::{self, Action, Status};
use crate::store::MAX_SPANS;
use crate::store::unit::Unit;
use socfed_proto::UnixMillis;
use std::collections::HashMap;
use ulid::Ulid;

struct Touched {
    /// As the store held it before this commit (`None`: opened by it).
    old: Option<AlertGroup>,
    group: AlertGroup,
}

/// One commit's groups, as they stand.
pub(super) struct Commit {
    now: UnixMillis,
    groups: HashMap<Ulid, Touched>,
    /// First-touch order: the order records are written and the response engine told.
    order: Vec<Ulid>,
    by_fingerprint: HashMap<[u8; 32], Vec<Ulid>>,
    /// Source events taken in by this commit, remembered together at the end.
    seen: Vec<[u8; 32]>,
}

fn is_open(status: &Status) -> bool {
    matches!(
        status,
        Status::New | Status::Acknowledged | Status::Promoted { .. }
    )
}

/// Where a span sorts in the span index (`fingerprint ++ last seen ++ group`).
fn index_order(span: &Span) -> (u64, Ulid) {
    (span.last_seen_ms.max(0) as u64, span.group)
}

impl Commit {
    pub(super) fn new(now: UnixMillis) -> Self {
        Self {
            now,
            groups: HashMap::new(),
            order: Vec::new(),
            by_fingerprint: HashMap::new(),
            seen: Vec::new(),
        }
    }

    /// Folds one batch's alerts into the commit; returns the new groups nobody could be
    /// assigned to (for the unassigned notification).
    pub(super) fn take_in(
        &mut self,
        soc: &SocService,
        unit: &mut Unit,
        roster: &[Analyst],
        actor: &Actor,
        alerts: Vec<Alert>,
        result: &mut IntakeResult,
    ) -> Result<Vec<NewUnassigned>, AgentError> {
        let window = soc.settings.aggregation_window_ms;
        let mut unassigned = Vec::new();
        for alert in alerts {
            if let Some(id) = &alert.source_id {
                // The unit sees its own pending writes: a resend within the commit is caught.
                if unit.seen_event(id)? {
                    result.duplicates += 1;
                    continue;
                }
                unit.mark_seen_event(id, self.now);
                self.seen.push(*id);
            }
            let fp = aggregate::fingerprint(&alert);
            let t = alert.observed_at_ms;
            let mut spans = self.spans(unit, &fp, t.saturating_sub(window))?;
            // Only the groups near enough are read, to learn whether they are open.
            for span in spans.iter_mut().filter(|s| s.reaches(t, window)) {
                span.open = match self.groups.get(&span.group) {
                    Some(touched) => is_open(&touched.group.state.status),
                    None => unit
                        .group(span.group)?
                        .is_some_and(|g| is_open(&g.state.status)),
                };
            }
            match aggregate::decide(&spans, t, window) {
                Fold::Into(id) => {
                    if !self.groups.contains_key(&id) {
                        let Some(stored) = unit.group(id)? else {
                            continue;
                        };
                        self.touch(stored.clone(), Some(stored));
                    }
                    let Some(touched) = self.groups.get_mut(&id) else {
                        continue;
                    };
                    let changed = touched.group.absorb(&alert);
                    if changed && matches!(touched.group.state.status, Status::Promoted { .. }) {
                        let group = touched.group.clone();
                        if let Status::Promoted { incident } = &group.state.status {
                            soc.refresh_incident(unit, incident, &group, actor)?;
                        }
                    }
                    result.aggregated += 1;
                }
                Fold::NewGroup => {
                    let id = Ulid::from_parts(self.now.max(0) as u64, rand::random());
                    let mut group = AlertGroup::open(id, fp, alert, self.now);
                    match soc.pick_assignee(unit, roster, Tier::T1, self.now)? {
                        Some(analyst) => {
                            let (state, _) =
                                triage::apply(&group.state, &Action::Assign { analyst }, self.now)?;
                            group.state = state;
                        }
                        None => unassigned.push(NewUnassigned {
                            id,
                            title: group.title.clone(),
                            severity: group.severity,
                        }),
                    }
                    self.touch(group, None);
                    result.accepted += 1;
                }
            }
        }
        Ok(unassigned)
    }

    fn touch(&mut self, group: AlertGroup, old: Option<AlertGroup>) {
        let id = group.id;
        self.order.push(id);
        self.by_fingerprint
            .entry(group.fingerprint)
            .or_default()
            .push(id);
        self.groups.insert(id, Touched { old, group });
    }

    /// The spans of `fingerprint` last seen at or after `from_ms`, as the index would hold
    /// them had every touched group been written already: the stored spans of touched
    /// groups are replaced by their current ones. At most `MAX_SPANS`, in index order.
    fn spans(
        &self,
        unit: &Unit,
        fingerprint: &[u8; 32],
        from_ms: UnixMillis,
    ) -> Result<Vec<Span>, AgentError> {
        let mine = self
            .by_fingerprint
            .get(fingerprint)
            .map_or(&[][..], Vec::as_slice);
        // Touched groups' stored spans are dropped below: read that many more.
        let stored = unit.group_spans(fingerprint, from_ms, MAX_SPANS + mine.len())?;
        let mut spans: Vec<Span> = stored
            .into_iter()
            .filter(|s| !self.groups.contains_key(&s.group))
            .collect();
        let from = from_ms.max(0) as u64;
        for id in mine {
            if let Some(Touched { group, .. }) = self.groups.get(id)
                && group.last_seen_ms.max(0) as u64 >= from
            {
                spans.push(Span {
                    group: group.id,
                    first_seen_ms: group.first_seen_ms,
                    last_seen_ms: group.last_seen_ms,
                    open: false,
                });
            }
        }
        spans.sort_by_key(index_order);
        spans.truncate(MAX_SPANS);
        Ok(spans)
    }

    /// Writes every touched group once, with its indexes and span, and the source events
    /// taken in; returns the touched groups in first-touch order. The samples of the groups
    /// it opens go first, as one block of the sample journal, durable before the unit that
    /// names them commits (`store::samples`).
    pub(super) fn write(self, unit: &mut Unit, sla: &SlaPolicy) -> Result<Vec<Ulid>, AgentError> {
        let Commit {
            now,
            mut groups,
            order,
            seen,
            ..
        } = self;
        let mut written: Vec<Touched> = order.iter().filter_map(|id| groups.remove(id)).collect();
        let opened: Vec<usize> = (0..written.len())
            .filter(|i| written[*i].group.sample_ref.is_none())
            .collect();
        let raws: Vec<String> = opened
            .iter()
            .map(|i| std::mem::take(&mut written[*i].group.sample.raw))
            .collect();
        let refs = unit.journal_samples(&raws.iter().map(String::as_str).collect::<Vec<_>>())?;
        for (i, at) in opened.into_iter().zip(refs) {
            written[i].group.sample_ref = Some(at);
        }
        let pairs: Vec<(Option<&AlertGroup>, &AlertGroup)> =
            written.iter().map(|t| (t.old.as_ref(), &t.group)).collect();
        unit.put_groups(&pairs, sla)?;
        for Touched { old, group } in &written {
            unit.put_span(old.as_ref().map(|o| o.last_seen_ms), group);
        }
        unit.remember_seen(now, &seen);
        Ok(order)
    }
}
