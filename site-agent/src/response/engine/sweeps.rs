//! IOC sweeps at the site: stored alerts searched through the indicator index, then new
//! alert groups from intake matched for the sweep's duration.

use super::new_groups::Taken;
use super::{MAX_HITS, ResponseEngine};
use crate::response::sweep::{Sweep, merge_hits};
use crate::response::{DirectiveRecord, State};
use crate::store::StoreError;
use socfed_proto::UnixMillis;
use socfed_runtime::terminal::plural;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;

impl ResponseEngine {
    /// Searches stored alerts; then either finishes or starts watching new alerts.
    pub(super) fn sweep_stored(
        &self,
        record: &mut DirectiveRecord,
        sweep: Sweep,
        now: UnixMillis,
    ) -> Result<Option<Sweep>, StoreError> {
        let since = now.saturating_sub(sweep.lookback_ms);
        let mut hits = Vec::new();
        let mut raised = Vec::new();
        for group_id in self.stored_candidates(&sweep)? {
            if let Some(group) = self.store.group(group_id)? {
                let found = sweep.hits_in(&group, since);
                detection_line(&sweep, &hits, &group, &found, now, &mut raised);
                merge_hits(&mut hits, found, MAX_HITS);
            }
        }
        // Raised before the hits are saved: a crash in between raises again, as the same
        // source event, which intake takes once.
        self.raise(&raised)?;
        record.hits = hits;
        if sweep.duration_ms > 0 {
            record.watch_until_ms = now.saturating_add(sweep.duration_ms);
            // A library hunt's run watches until the next run, not past its expiry.
            if sweep.detect.is_some() && record.expires_at_ms > 0 {
                record.watch_until_ms = record.watch_until_ms.min(record.expires_at_ms);
            }
            let detail = format!(
                "{} in stored alerts; watching new alerts",
                plural(record.hits.len(), "hit", "hits")
            );
            record.set(State::Running, detail, now);
            // Watched only once the record is saved (see `try_receive`).
            return Ok(Some(sweep));
        }
        let detail = format!(
            "{} in stored alerts",
            plural(record.hits.len(), "hit", "hits")
        );
        record.set(State::Succeeded, detail, now);
        Ok(None)
    }

    pub(super) fn finish_sweep(&self, mut record: DirectiveRecord) -> Result<(), StoreError> {
        self.stop_watching(&record.id);
        let detail = format!("{}; watch ended", plural(record.hits.len(), "hit", "hits"));
        record.set(State::Succeeded, detail, self.now());
        self.save(&record, "agent", "", "directive.finished")
    }

    /// New or changed alert groups, from intake: matched against watching sweeps.
    pub fn on_groups(&self, groups: &[Ulid]) -> Result<(), StoreError> {
        self.match_watching(|_| Ok(groups.to_vec()))
    }

    /// After more changed than [`NewGroups`](super::new_groups::NewGroups) keeps, or when a
    /// sweep starts watching: every watching sweep searches the stored alerts again through
    /// the indicator index, which holds every group the dropped ids named.
    pub(super) fn on_rescan(&self) -> Result<(), StoreError> {
        self.match_watching(|sweep| self.stored_candidates(sweep))
    }

    /// The stored groups that may match `sweep`: those with any of its indicators (the
    /// indicator index), or for a search, the newest [`MAX_HITS`] holding every term (the
    /// search index, a page at a time).
    fn stored_candidates(&self, sweep: &Sweep) -> Result<Vec<Ulid>, StoreError> {
        let mut groups = Vec::new();
        if let Some(query) = &sweep.search {
            let mut before = None;
            while groups.len() < MAX_HITS {
                let limit = (MAX_HITS - groups.len()).min(socfed_proto::search::MAX_LIMIT);
                let (page, next) = self.store.search_groups(query, before, limit)?;
                groups.extend(page.iter().map(|g| g.id));
                match next {
                    Some(id) => before = Some(id),
                    None => break,
                }
            }
            return Ok(groups);
        }
        for indicator in &sweep.indicators {
            groups.extend(self.store.groups_with_indicator(indicator)?);
        }
        groups.sort_unstable();
        groups.dedup();
        Ok(groups)
    }

    /// Matches each watching sweep against the groups `candidates` names for it.
    fn match_watching(
        &self,
        candidates: impl Fn(&Sweep) -> Result<Vec<Ulid>, StoreError>,
    ) -> Result<(), StoreError> {
        let watching: Vec<(Ulid, Sweep)> = self
            .lock_watching()
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        for (id, sweep) in watching {
            let Some(mut record) = self.store.directive(id)? else {
                continue;
            };
            // On received time, whatever intake hands over now arrived during the watch.
            let since = if sweep.by_received {
                UnixMillis::MIN
            } else {
                record.received_at_ms.saturating_sub(sweep.lookback_ms)
            };
            let mut changed = false;
            let mut raised = Vec::new();
            let now = self.now();
            for group_id in candidates(&sweep)? {
                if let Some(group) = self.store.group(group_id)? {
                    let found = sweep.hits_in(&group, since);
                    detection_line(&sweep, &record.hits, &group, &found, now, &mut raised);
                    changed |= merge_hits(&mut record.hits, found, MAX_HITS);
                }
            }
            if let Err(e) = self.raise(&raised) {
                // One sweep whose alerts cannot be raised does not stop the others; its hits
                // are not saved either, so a later match of these groups raises them again.
                tracing::warn!(directive = %id, error = %e, "hunt hits could not raise alerts");
                continue;
            }
            if changed {
                record.updated_at_ms = self.now();
                record.detail = format!(
                    "{}; watching new alerts",
                    plural(record.hits.len(), "hit", "hits")
                );
                self.save(&record, "agent", "", "directive.hits")?;
            }
        }
        Ok(())
    }

    /// Raises the alerts of detection-mode hits through the agent's intake.
    fn raise(&self, lines: &[String]) -> Result<(), StoreError> {
        if lines.is_empty() {
            return Ok(());
        }
        let Some(intake) = self.intake.get() else {
            return Err(StoreError::HuntAlerts(
                "hunt hits cannot raise alerts: the alert intake is not connected yet".into(),
            ));
        };
        intake.raise(lines).map_err(StoreError::HuntAlerts)?;
        metrics::counter!("socfed_agent_hunt_alerts_total").increment(lines.len() as u64);
        Ok(())
    }

    /// Matches new alerts against watching sweeps and ends sweeps whose time is up.
    pub async fn watch(self: Arc<Self>, shutdown: CancellationToken) {
        let new_groups = self.new_groups();
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            let taken = tokio::select! {
                () = shutdown.cancelled() => break,
                taken = new_groups.next() => Some(taken),
                _ = tick.tick() => None,
            };
            // Store reads and flushes block: off the async workers, one pass at a time.
            let engine = self.clone();
            let result = tokio::task::spawn_blocking(move || match taken {
                Some(Taken::Groups(ids)) => engine.on_groups(&ids),
                Some(Taken::Rescan) => engine.on_rescan(),
                None => engine.end_due_sweeps(),
            })
            .await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "sweep bookkeeping failed"),
                Err(e) => tracing::error!(error = %e, "sweep bookkeeping task failed"),
            }
        }
    }

    fn end_due_sweeps(&self) -> Result<(), StoreError> {
        let ids: Vec<Ulid> = self.lock_watching().keys().copied().collect();
        let now = self.now();
        for id in ids {
            match self.store.directive(id)? {
                Some(record) if record.watch_until_ms <= now => self.finish_sweep(record)?,
                Some(_) => {}
                None => {
                    self.stop_watching(&id);
                }
            }
        }
        Ok(())
    }
}

/// In detection mode, the alert line of `group` when it is a new hit: it has hits in `found`
/// and none among those the sweep already has (`known`).
fn detection_line(
    sweep: &Sweep,
    known: &[crate::response::Hit],
    group: &crate::soc::group::AlertGroup,
    found: &[crate::response::Hit],
    now: UnixMillis,
    lines: &mut Vec<String>,
) {
    let Some(detect) = &sweep.detect else {
        return;
    };
    if found.is_empty() || known.iter().any(|h| h.group == group.id) {
        return;
    }
    let matched: Vec<String> = found.iter().map(|h| h.indicator.clone()).collect();
    lines.push(detect.alert_line(group, &matched, now));
}

#[cfg(test)]
mod tests {
    use super::super::new_groups::Taken;
    use super::ResponseEngine;
    use crate::response::{KIND_SWEEP, ResponseConfig};
    use crate::service::ManualClock;
    use crate::service::intake::tests::{manager, open, service};
    use crate::soc::alert::Format;
    use socfed_proto::pb;
    use std::sync::Arc;

    fn line(id: u32) -> (u64, String) {
        (
            u64::from(id),
            format!(
                r#"{{"id":"e-{id}","observed_at":1700000000000,"rule_id":"R-{id}","severity":"high","hosts":["ws-{id}"],"indicators":["domain:evil.example"]}}"#
            ),
        )
    }

    /// A sweep watching new alerts: when it starts it asks for one search of the stored
    /// alerts (what arrived while it started was handed to nobody); then it matches the groups
    /// intake hands over; and after an overflow dropped them, the indicator index finds them.
    #[test]
    fn a_watching_sweep_finds_new_alerts_from_its_start_through_handed_ids_and_overflows()
    -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = open(dir.path())?;
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let (engine, _updates) = ResponseEngine::new(
            store.clone(),
            ResponseConfig::default(),
            socfed_proto::vocab::SiteId::parse("site-a")?,
            clock.clone(),
        );
        let mut soc = service(store.clone(), clock)?;
        soc.group_tap = Some(engine.new_groups());
        let new_groups = engine.new_groups();
        let id = ulid::Ulid::new();
        engine.receive(pb::Directive {
            directive_id: id.to_string(),
            incident_id: ulid::Ulid::new().to_string(),
            kind: KIND_SWEEP.into(),
            params: [
                ("indicators".to_string(), "domain:evil.example".to_string()),
                ("duration_ms".to_string(), "600000".to_string()),
                ("time".to_string(), "received".to_string()),
            ]
            .into(),
            issued_at_ms: 1_700_000_000_000,
            expires_at_ms: 0,
            issued_by: "ines".into(),
        });
        let hits =
            || -> anyhow::Result<usize> { Ok(store.directive(id)?.map_or(0, |d| d.hits.len())) };
        assert_eq!(hits()?, 0, "nothing stored matches yet");
        // An alert that arrived between the sweep's first search and its start.
        soc.submit(&manager(), Format::Native, &[line(1)])?;
        assert_eq!(
            new_groups.take(),
            Some(Taken::Rescan),
            "the start asks for a search"
        );
        engine.on_rescan()?;
        assert_eq!(hits()?, 1);

        soc.submit(&manager(), Format::Native, &[line(2)])?;
        let Some(Taken::Groups(ids)) = new_groups.take() else {
            anyhow::bail!("intake handed over the new group");
        };
        engine.on_groups(&ids)?;
        assert_eq!(hits()?, 2);

        // The handed ids are dropped, as an overflow does: the index still finds the alert.
        soc.submit(&manager(), Format::Native, &[line(3)])?;
        drop(new_groups.take());
        engine.on_rescan()?;
        assert_eq!(hits()?, 3);
        Ok(())
    }
}

#[cfg(test)]
mod search_tests {
    use super::ResponseEngine;
    use crate::response::{KIND_SWEEP, ResponseConfig, State};
    use crate::service::ManualClock;
    use crate::service::intake::tests::{manager, open, service};
    use crate::soc::alert::Format;
    use socfed_proto::pb;
    use std::sync::Arc;

    fn line(id: u32, host: &str, title: &str) -> (u64, String) {
        (
            u64::from(id),
            format!(
                r#"{{"id":"e-{id}","observed_at":1700000000000,"rule_id":"R-{id}","rule_name":"{title}","severity":"high","hosts":["{host}"]}}"#
            ),
        )
    }

    fn sweep(params: &[(&str, &str)]) -> pb::Directive {
        pb::Directive {
            directive_id: ulid::Ulid::new().to_string(),
            incident_id: String::new(),
            kind: KIND_SWEEP.into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .chain([("lookback_ms".to_string(), "86400000000".to_string())])
                .collect(),
            issued_at_ms: 1_700_000_000_000,
            expires_at_ms: 0,
            issued_by: "ines".into(),
        }
    }

    /// A search sweep hits exactly the stored groups holding every term; hostile search
    /// parameters fail the sweep with the reason, and search nothing.
    #[test]
    fn a_search_sweep_finds_exactly_its_groups_and_refuses_hostile_filters() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = open(dir.path())?;
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let (engine, _updates) = ResponseEngine::new(
            store.clone(),
            ResponseConfig::default(),
            socfed_proto::vocab::SiteId::parse("site-a")?,
            clock.clone(),
        );
        let soc = service(store.clone(), clock)?;
        soc.submit(
            &manager(),
            Format::Native,
            &[
                line(1, "web-1", "Encoded PowerShell"),
                line(2, "web-1", "Port scan"),
                line(3, "db-1", "Encoded PowerShell"),
            ],
        )?;
        let found = sweep(&[("search_hosts", "WEB-1"), ("search_text", "powershell")]);
        let id = ulid::Ulid::from_string(&found.directive_id)?;
        engine.receive(found);
        let record = store
            .directive(id)?
            .ok_or_else(|| anyhow::anyhow!("no record"))?;
        let titles: Vec<&str> = record.hits.iter().map(|h| h.title.as_str()).collect();
        assert_eq!(titles, ["Encoded PowerShell"], "{record:?}");
        assert_eq!(
            record.hits[0].indicator,
            "search host=web-1 text=powershell"
        );

        for (key, value) in [
            ("search_techniques", "T1' OR 1=1"),
            ("search_text", " ;-- "),
            ("search_hosts", "a\nb\nc\nd\ne"),
        ] {
            let hostile = sweep(&[(key, value)]);
            let id = ulid::Ulid::from_string(&hostile.directive_id)?;
            engine.receive(hostile);
            let record = store
                .directive(id)?
                .ok_or_else(|| anyhow::anyhow!("no record"))?;
            assert!(
                matches!(record.state, State::Refused) && record.hits.is_empty(),
                "{key}: {record:?}"
            );
        }
        Ok(())
    }
}
