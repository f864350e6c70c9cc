//! Reads of the incident states owed to a site (`site_state_log`, written by
//! `unit/sites.rs`), for the federation stream. Each state is built from the records
//! as they are when read, so a site always gets the latest; a change after the read is queued
//! again under a later sequence and sent then.

use super::{HubStore, StoreError, schema};
use crate::incident::{IncidentRecord, IncidentStatus};
use socfed_proto::vocab::{HubPhase, IncidentState, SiteId};

impl HubStore {
    /// The last incident-state sequence queued for `site` (0: none yet).
    pub fn last_state_seq(&self, site: &SiteId) -> Result<u64, StoreError> {
        match self.trees.meta.get(schema::state_seq_key(site))? {
            Some(raw) => Ok(schema::u64_value(schema::META, &raw)?),
            None => Ok(0),
        }
    }

    /// At most `limit` of `site`'s incident states with a sequence above `after`, oldest first.
    pub fn incident_states(
        &self,
        site: &SiteId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<IncidentState>, StoreError> {
        let start = schema::state_log_key(site, after.saturating_add(1));
        let prefix = schema::site_prefix(site);
        let mut out = Vec::new();
        for entry in self.trees.site_state_log.range(start..) {
            let (key, local) = entry?;
            if !key.starts_with(&prefix) || out.len() >= limit {
                break;
            }
            let seq = schema::u64_value(schema::SITE_STATE_LOG, &key[prefix.len()..])?;
            let local = String::from_utf8_lossy(&local).into_owned();
            // Where the local incident is now: a merge or split may have moved it.
            let Some(raw) = self
                .trees
                .local_refs
                .get(schema::local_ref_key(site, &local))?
            else {
                continue;
            };
            let id = schema::ulid_from_key(schema::LOCAL_REFS, &raw)?;
            let Some(record) = self.incident(id)? else {
                continue;
            };
            out.push(state_of(seq, local, &record));
        }
        Ok(out)
    }
}

fn state_of(seq: u64, local_incident_id: String, record: &IncidentRecord) -> IncidentState {
    let phase = match record.status() {
        IncidentStatus::New => HubPhase::New,
        IncidentStatus::Triage => HubPhase::Triage,
        IncidentStatus::Containment => HubPhase::Containment,
        IncidentStatus::Eradication => HubPhase::Eradication,
        IncidentStatus::Recovery => HubPhase::Recovery,
        IncidentStatus::PostIncident => HubPhase::PostIncident,
        IncidentStatus::Closed => HubPhase::Closed,
    };
    let resolution = match &record.lifecycle.phase {
        crate::lifecycle::Phase::Closed { resolution } => resolution.to_string(),
        _ => String::new(),
    };
    IncidentState {
        seq,
        local_incident_id,
        hub_incident: record.id,
        phase,
        resolution,
        ir_lead: record.lifecycle.ir_lead.clone(),
        updated_at_ms: record.lifecycle.updated_ms,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::ingest::apply::tests::escalation_of as escalation;
    use crate::ingest::apply::{Item, Merge, Transition};
    use crate::store::{Durability, HubStore};
    use socfed_proto::vocab::{HubPhase, SiteId};
    use ulid::Ulid;

    /// Opens the store in `dir`. After a drop in this process, sled's flusher thread may hold
    /// the file lock for a moment: the open is retried while the lock is busy, up to 10 s.
    pub(crate) fn store(dir: &std::path::Path) -> HubStore {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match HubStore::open(
                dir,
                Durability::Flush,
                socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
            ) {
                Ok(store) => return store,
                Err(crate::store::StoreError::Open { source, .. })
                    if socfed_runtime::store_files::lock_busy(&source)
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("store: {e:?}"),
            }
        }
    }

    fn transition(incident: Ulid, command: crate::lifecycle::Command) -> Item {
        Item::Transition(Box::new(Transition {
            incident,
            command,
            role: crate::lifecycle::HubRole::IrLead,
            actor: "ines".into(),
            actor_cert: String::new(),
        }))
    }

    fn states(store: &HubStore, site: &str, after: u64) -> Vec<(u64, String, HubPhase, Ulid)> {
        store
            .incident_states(&SiteId::parse(site).expect("site"), after, 100)
            .expect("read")
            .into_iter()
            .map(|s| (s.seq, s.local_incident_id, s.phase, s.hub_incident))
            .collect()
    }

    /// One entry per local incident, moved to the end by every change a site would see, and
    /// none for a revision that changes nothing the site is told.
    #[test]
    fn each_site_is_owed_the_latest_state_of_each_local_incident_once() {
        let dir = tempfile::tempdir().expect("dir");
        let store = store(dir.path());
        let applied = crate::ingest::apply::apply(
            &store,
            &[escalation("paris", 1, "P-1", 1, "a.example")],
            10,
            1000,
        )
        .expect("applied");
        assert_eq!(
            applied.state_sites,
            vec![SiteId::parse("paris").expect("site")]
        );
        let id = applied.changes[0].record.id;
        assert_eq!(
            states(&store, "paris", 0),
            vec![(1, "P-1".into(), HubPhase::New, id)]
        );
        // A revision the site would be told nothing new by: nothing queued.
        let applied = crate::ingest::apply::apply(
            &store,
            &[escalation("paris", 2, "P-1", 2, "a.example")],
            11,
            1000,
        )
        .expect("applied");
        assert!(applied.state_sites.is_empty());
        // A second site joins (queued for it only), then the phase moves (queued for both).
        crate::ingest::apply::apply(
            &store,
            &[escalation("lyon", 1, "L-1", 1, "a.example")],
            12,
            1000,
        )
        .expect("applied");
        assert_eq!(
            states(&store, "lyon", 0),
            vec![(1, "L-1".into(), HubPhase::New, id)]
        );
        crate::ingest::apply::apply(
            &store,
            &[transition(id, crate::lifecycle::Command::StartTriage)],
            13,
            1000,
        )
        .expect("applied");
        assert_eq!(
            states(&store, "paris", 0),
            vec![(2, "P-1".into(), HubPhase::Triage, id)],
            "the earlier entry is replaced"
        );
        assert_eq!(states(&store, "paris", 2), vec![]);
        assert_eq!(
            store
                .last_state_seq(&SiteId::parse("paris").expect("site"))
                .expect("read"),
            2
        );
        // A merge moves a local incident to another hub incident: its site is told where.
        let other = crate::ingest::apply::apply(
            &store,
            &[escalation("paris", 3, "P-2", 1, "b.example")],
            14,
            1000,
        )
        .expect("applied")
        .changes[0]
            .record
            .id;
        crate::ingest::apply::apply(
            &store,
            &[Item::Merge(Box::new(Merge {
                survivor: id,
                other,
                reason: "same".into(),
                actor: "ines".into(),
                actor_cert: String::new(),
            }))],
            15,
            1000,
        )
        .expect("applied");
        let after = states(&store, "paris", 2);
        assert_eq!(after.len(), 1, "{after:?}");
        assert_eq!(
            (after[0].1.as_str(), after[0].2, after[0].3),
            ("P-2", HubPhase::Triage, id),
            "P-2 is now part of the survivor, in its phase"
        );
    }

    /// A schema 3 store queues a state for every local incident it knows, at open.
    #[test]
    fn a_schema_3_store_owes_each_site_the_state_of_everything_it_escalated() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        {
            let store = store(dir.path());
            for (site, seq, local, domain) in [
                ("paris", 1, "P-1", "a.example"),
                ("paris", 2, "P-2", "b.example"),
                ("lyon", 1, "L-1", "c.example"),
            ] {
                crate::ingest::apply::apply(
                    &store,
                    &[escalation(site, seq, local, 1, domain)],
                    10,
                    1000,
                )
                .expect("applied");
            }
            // As a schema 3 build left it: no queue at all.
            store.trees.site_states.clear().expect("clear");
            store.trees.site_state_log.clear().expect("clear");
            for site in ["paris", "lyon"] {
                let site = SiteId::parse(site).expect("site");
                store
                    .trees
                    .meta
                    .remove(crate::store::schema::state_seq_key(&site))
                    .expect("remove");
            }
            store
                .trees
                .meta
                .insert(crate::store::schema::SCHEMA_VERSION_KEY, 3u32.to_be_bytes())
                .expect("version");
            store.trees.meta.flush().expect("flush");
        }
        let store = store(dir.path());
        let paris: Vec<String> = states(&store, "paris", 0)
            .into_iter()
            .map(|s| s.1)
            .collect();
        assert_eq!(paris, vec!["P-1", "P-2"]);
        assert_eq!(states(&store, "lyon", 0).len(), 1);
        assert_eq!(
            store
                .last_state_seq(&SiteId::parse("paris").expect("site"))
                .expect("read"),
            2
        );
    }
}
