//! The one way an incident record is written inside the ingest transaction: the record and the
//! listing indexes that describe it (`site_incidents` values, `status_incidents` keys, see
//! `schema.rs`) change together, so a filtered listing never disagrees with the records.
//!
//! Every index entry is written only when what it says changes (a new incident, a site joining
//! or leaving, a status or severity change): a revision that changes neither costs the record
//! write alone.
//!
//! The same comparison queues incident states for the sites (`site_states.rs`): when what a site
//! is told of its local incidents changes (the phase or the IR lead, or a local incident that
//! is new to this incident: opened, joined, merged or split in), each affected local incident
//! is queued for its site. The hub's ingest rate is bounded by writes per escalation, so a new incident
//! costs exactly one index write more than the record and its per-site entry it always had.

use super::{Tx, TxError, codec};
use crate::incident::size::MAX_RECORD_BYTES;
use crate::incident::{IncidentRecord, IncidentStatus};
use crate::store::schema;
use socfed_proto::vocab::{Severity, SiteId};

/// What a site is told of the hub incident its local incident is part of (besides the id).
type Told = (crate::lifecycle::Phase, Option<String>);

fn told(record: &IncidentRecord) -> Told {
    (
        record.lifecycle.phase.clone(),
        record.lifecycle.ir_lead.clone(),
    )
}

/// What the listing indexes record about an incident: taken from the stored record before a
/// change, and handed to [`Tx::put_incident`] with the changed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Indexed {
    status: IncidentStatus,
    severity: Severity,
    sites: Vec<SiteId>,
    told: Told,
    /// Every (site, local incident) of the record.
    locals: Vec<(SiteId, String)>,
}

impl Indexed {
    pub(super) fn of(record: &IncidentRecord) -> Self {
        Self {
            status: record.status(),
            severity: record.severity(),
            sites: record.sightings.iter().map(|s| s.site.clone()).collect(),
            told: told(record),
            locals: locals(record).collect(),
        }
    }
}

fn locals(record: &IncidentRecord) -> impl Iterator<Item = (SiteId, String)> + '_ {
    record
        .sightings
        .iter()
        .flat_map(|s| s.locals.iter().map(|l| (s.site.clone(), l.id.clone())))
}

impl Tx<'_> {
    /// Writes `record` and brings its index entries from `old` (what they say now; `None` for
    /// an incident not stored yet) to what `record` says. A record over its size sheds first
    /// (`incident/size.rs`): callers go on with the record as stored.
    pub(super) fn put_incident(
        &self,
        old: Option<&Indexed>,
        record: &mut IncidentRecord,
    ) -> Result<(), TxError> {
        let id = record.id;
        let mut value = codec(schema::encode_incident(record))?;
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
            value = codec(schema::encode_incident(record))?;
        }
        self.incidents.insert(&id.to_bytes(), value)?;
        let (status, severity) = (record.status(), record.severity());
        let pair = schema::listing_value(status, severity);
        let same_pair = old.is_some_and(|o| (o.status, o.severity) == (status, severity));
        if !same_pair {
            if let Some(o) = old {
                let was = schema::listing_value(o.status, o.severity);
                self.status_incidents
                    .remove(&schema::status_incident_key(was, id))?;
            }
            self.status_incidents
                .insert(&schema::status_incident_key(pair, id), &[])?;
        }
        for sighting in &record.sightings {
            let listed = old.is_some_and(|o| o.sites.contains(&sighting.site));
            if !listed || !same_pair {
                self.site_incidents
                    .insert(schema::site_incident_key(&sighting.site, id), &pair)?;
            }
        }
        if let Some(o) = old {
            for site in &o.sites {
                if !record.sightings.iter().any(|s| &s.site == site) {
                    self.site_incidents
                        .remove(schema::site_incident_key(site, id))?;
                }
            }
        }
        let retold = old.is_none_or(|o| o.told != told(record));
        for (site, local) in locals(record) {
            if retold || old.is_some_and(|o| !o.locals.contains(&(site.clone(), local.clone()))) {
                self.queue_state(&site, &local)?;
            }
        }
        Ok(())
    }

    /// The stored incident `id` and what its index entries say.
    pub(super) fn incident_for_change(
        &self,
        id: ulid::Ulid,
    ) -> Result<Option<(IncidentRecord, Indexed)>, TxError> {
        match self.incidents.get(id.to_bytes())? {
            Some(raw) => {
                let record: IncidentRecord = codec(schema::decode_incident(&raw))?;
                let indexed = Indexed::of(&record);
                Ok(Some((record, indexed)))
            }
            None => Ok(None),
        }
    }
}
