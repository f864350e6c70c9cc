//! Incident records inside a unit, and the one way one is written: the record and the listing
//! indexes that describe it (`site_incidents` values, `status_incidents` keys, see `schema.rs`)
//! change together, so a filtered listing never disagrees with the records.
//!
//! Every index entry is written only when what it says changes (a new incident, a site joining
//! or leaving, a status or severity change): a revision that changes neither costs the record
//! write alone.
//!
//! The same comparison queues incident states for the sites (`sites.rs`): when what a site is
//! told of its local incidents changes (the phase or the IR lead, or a local incident that is
//! new to this incident: opened, joined, merged or split in), each affected local incident is
//! queued for its site. The hub's ingest rate is bounded by writes per escalation, so a new
//! incident costs exactly one index write more than the record and its per-site entry it
//! always had.

use super::StoreUnit;
use crate::incident::size::MAX_RECORD_BYTES;
use crate::incident::{IncidentRecord, IncidentStatus};
use crate::store::StoreError;
use crate::store::schema::{self, TreeId};
use socfed_proto::vocab::{Severity, SiteId};
use ulid::Ulid;
/// What a site is told of the hub incident its local incident is part of (besides the id).
type Told = (crate::lifecycle::Phase, Option<String>);

fn told(record: &IncidentRecord) -> Told {
    (
        record.lifecycle.phase.clone(),
        record.lifecycle.ir_lead.clone(),
    )
}

/// What the listing indexes record about an incident: taken from the stored record before a
/// change, and handed to [`StoreUnit::put_incident`] with the changed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    status: IncidentStatus,
    severity: Severity,
    sites: Vec<SiteId>,
    told: Told,
    /// Every (site, local incident) of the record.
    locals: Vec<(SiteId, String)>,
    /// The search terms of the record (`incident/search.rs`).
    terms: std::collections::BTreeSet<socfed_proto::search::Term>,
}

impl Indexed {
    fn of(record: &IncidentRecord) -> Self {
        Self {
            status: record.status(),
            severity: record.severity(),
            sites: record.sightings.iter().map(|s| s.site.clone()).collect(),
            told: told(record),
            locals: locals(record).collect(),
            terms: crate::incident::search::incident_terms(record),
        }
    }
}

fn locals(record: &IncidentRecord) -> impl Iterator<Item = (SiteId, String)> + '_ {
    record
        .sightings
        .iter()
        .flat_map(|s| s.locals.iter().map(|l| (s.site.clone(), l.id.clone())))
}

impl StoreUnit<'_> {
    /// Writes `record` and brings its index entries from `old` (what they say now; `None` for
    /// an incident not stored yet) to what `record` says. A record over its size sheds first
    /// (`incident/size.rs`): callers go on with the record as stored.
    pub fn put_incident(
        &mut self,
        old: Option<&Indexed>,
        record: &mut IncidentRecord,
    ) -> Result<(), StoreError> {
        let id = record.id;
        let mut value = schema::encode_incident(record)?;
        if value.len() > MAX_RECORD_BYTES {
            let measure =
                |r: &IncidentRecord| schema::encode_incident(r).map_or(usize::MAX, |v| v.len());
            let at = record.updated_at_ms;
            match crate::incident::size::fit(record, MAX_RECORD_BYTES, at, measure) {
                Ok(shed) => {
                    tracing::warn!(incident = %id, ?shed, "incident record at its size limit: shed to fit");
                }
                // Written whole all the same: refusing would fail every later report of the
                // incident, and the blob sync before each acknowledgement keeps it durable.
                Err(too_large) => {
                    tracing::warn!(incident = %id, %too_large, "incident record written over its size limit");
                }
            }
            value = schema::encode_incident(record)?;
        }
        self.work
            .put_raw(TreeId::Incidents, id.to_bytes().to_vec(), value);
        let (status, severity) = (record.status(), record.severity());
        let pair = schema::listing_value(status, severity);
        let same_pair = old.is_some_and(|o| (o.status, o.severity) == (status, severity));
        if !same_pair {
            if let Some(o) = old {
                let was = schema::listing_value(o.status, o.severity);
                self.work.remove(
                    TreeId::StatusIncidents,
                    schema::status_incident_key(was, id).to_vec(),
                );
            }
            self.work.put_raw(
                TreeId::StatusIncidents,
                schema::status_incident_key(pair, id).to_vec(),
                Vec::new(),
            );
        }
        for sighting in &record.sightings {
            let listed = old.is_some_and(|o| o.sites.contains(&sighting.site));
            if !listed || !same_pair {
                self.work.put_raw(
                    TreeId::SiteIncidents,
                    schema::site_incident_key(&sighting.site, id),
                    pair.to_vec(),
                );
            }
        }
        if let Some(o) = old {
            for site in &o.sites {
                if !record.sightings.iter().any(|s| &s.site == site) {
                    self.work
                        .remove(TreeId::SiteIncidents, schema::site_incident_key(site, id));
                }
            }
        }
        let terms = crate::incident::search::incident_terms(record);
        let empty = std::collections::BTreeSet::new();
        let was = old.map_or(&empty, |o| &o.terms);
        self.index_search(id, super::search::FROM_RECORD, was, &terms)?;
        let retold = old.is_none_or(|o| o.told != told(record));
        for (site, local) in locals(record) {
            if retold || old.is_some_and(|o| !o.locals.contains(&(site.clone(), local.clone()))) {
                self.queue_state(&site, &local)?;
            }
        }
        Ok(())
    }

    /// The stored incident `id`.
    pub fn incident(&self, id: Ulid) -> Result<Option<IncidentRecord>, StoreError> {
        match self.work.get_raw(TreeId::Incidents, &id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode_incident(&raw)?)),
            None => Ok(None),
        }
    }

    /// The stored incident `id` and what its index entries say, to change it with
    /// [`StoreUnit::put_incident`].
    pub fn incident_for_change(
        &self,
        id: Ulid,
    ) -> Result<Option<(IncidentRecord, Indexed)>, StoreError> {
        Ok(self.incident(id)?.map(|record| {
            let indexed = Indexed::of(&record);
            (record, indexed)
        }))
    }

    /// Puts `record` on the deadline scan while it has a deadline to watch, and takes it off
    /// once every deadline is met (`RegulatoryClocks::needs_watch`), so the per-minute scan
    /// reads live incidents only. Closing an incident does not take it off: a legal deadline
    /// (the NIS2 final report, a month after the notification) routinely outlives the
    /// incident's closure.
    pub fn watch_regulated(&mut self, record: &IncidentRecord, now_ms: i64) {
        if record.regulatory.needs_watch(now_ms) {
            self.work
                .put_raw(TreeId::Meta, schema::regulated_key(record.id), Vec::new());
        } else {
            self.unmark_regulated(record.id);
        }
    }

    /// Takes incident `id` off the deadline scan (every deadline met, or its clocks moved to
    /// the incident it was merged into).
    pub fn unmark_regulated(&mut self, id: Ulid) {
        self.work.remove(TreeId::Meta, schema::regulated_key(id));
    }
}
