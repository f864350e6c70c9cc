//! Upgrades a hub store written by an older build, at open, before anything reads it.
//!
//! Version 1 → 2: the listing indexes (`site_incidents` values, `status_incidents`) are built
//! from the incident records. The step is idempotent: it starts by clearing what it builds,
//! and the new version is recorded only after it finished, so a crash part-way leaves a
//! version 1 store that the next open upgrades again. A version 1 build refuses the upgraded
//! store (its schema version is newer), so no build that does not keep the indexes can write
//! to it.
//!
//! Version 2 → 3: nothing is rewritten at open. Incident records of record version 1 kept
//! copies of the lifecycle's status, severity and TLP, and the sites' techniques apart from the
//! operators'; they are read through [`incident_v1`] (`schema::decode_incident`) and written
//! back as version 2 the next time the incident changes. Schema 3 makes an older build, which
//! cannot read version 2 records, refuse the store at open.

use super::records::{IncidentRecord, IncidentStatus, Sighting, TimelineEntry};
use super::{StoreError, Trees, schema};
use serde::Deserialize;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};
use ulid::Ulid;

/// Brings a store of version `found` to [`schema::SCHEMA_VERSION`].
pub(super) fn upgrade(trees: &Trees, found: u32) -> Result<(), StoreError> {
    if found < 2 {
        build_listing_indexes(trees)?;
    }
    // 2 → 3: incident records are upgraded when read (module docs).
    // The indexes are durable before the version that says they exist (flushes every tree).
    trees.meta.flush()?;
    trees
        .meta
        .insert("schema_version", &schema::SCHEMA_VERSION.to_be_bytes())?;
    Ok(())
}

/// Writes every incident's `status_incidents` key and its `site_incidents` values.
pub(super) fn build_listing_indexes(trees: &Trees) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    tracing::info!("building the incident listing indexes (store schema 1 to 2)");
    trees.status_incidents.clear()?;
    let mut count = 0u64;
    for entry in trees.incidents.iter() {
        let (_, raw) = entry?;
        let record = schema::decode_incident(&raw)?;
        let pair = schema::listing_value(record.status(), record.severity());
        trees
            .status_incidents
            .insert(schema::status_incident_key(pair, record.id), &[])?;
        for sighting in &record.sightings {
            trees
                .site_incidents
                .insert(schema::site_incident_key(&sighting.site, record.id), &pair)?;
        }
        count += 1;
    }
    tracing::info!(
        incidents = count,
        seconds = started.elapsed().as_secs_f64(),
        "incident listing indexes built"
    );
    Ok(())
}

/// An incident record of record version 1, field for field (postcard is positional).
#[derive(Deserialize)]
pub(super) struct IncidentRecordV1 {
    id: Ulid,
    title: String,
    // The copies version 2 drops: the lifecycle held the same status, severity and TLP (every
    // writer set both), so they are read and ignored.
    #[allow(dead_code)]
    status: IncidentStatus,
    #[allow(dead_code)]
    severity: Severity,
    #[allow(dead_code)]
    tlp: Tlp,
    /// The sites' techniques; the lifecycle held only the operators'.
    techniques: Vec<Technique>,
    indicators: Vec<Indicator>,
    sightings: Vec<Sighting>,
    created_at_ms: UnixMillis,
    updated_at_ms: UnixMillis,
    lifecycle: crate::lifecycle::IncidentLifecycle,
    timeline: Vec<TimelineEntry>,
    regulatory: crate::regulatory::RegulatoryClocks,
    fingerprints: Vec<[u8; 32]>,
}

/// A version 1 record as version 2: the sites' and the operators' techniques become one list.
pub(super) fn incident_v1(old: IncidentRecordV1) -> IncidentRecord {
    let mut lifecycle = old.lifecycle;
    lifecycle.techniques.extend(old.techniques);
    lifecycle.techniques.sort();
    lifecycle.techniques.dedup();
    IncidentRecord {
        id: old.id,
        title: old.title,
        indicators: old.indicators,
        sightings: old.sightings,
        created_at_ms: old.created_at_ms,
        updated_at_ms: old.updated_at_ms,
        lifecycle,
        timeline: old.timeline,
        timeline_elided: 0,
        regulatory: old.regulatory,
        fingerprints: old.fingerprints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    /// Version 1's layout, for writing a record as an older build did.
    #[derive(Serialize)]
    struct WrittenByV1<'a> {
        id: Ulid,
        title: &'a str,
        status: IncidentStatus,
        severity: Severity,
        tlp: Tlp,
        techniques: Vec<Technique>,
        indicators: Vec<Indicator>,
        sightings: Vec<Sighting>,
        created_at_ms: UnixMillis,
        updated_at_ms: UnixMillis,
        lifecycle: crate::lifecycle::IncidentLifecycle,
        timeline: Vec<TimelineEntry>,
        regulatory: crate::regulatory::RegulatoryClocks,
        fingerprints: Vec<[u8; 32]>,
    }

    #[test]
    fn a_version_1_incident_reads_with_the_sites_and_operators_techniques_together() {
        let technique = |t: &str| Technique::parse(t).expect("valid");
        let mut lifecycle = crate::lifecycle::IncidentLifecycle::new(Severity::High, Tlp::Red, 5);
        lifecycle.techniques = vec![technique("T1190")];
        let old = WrittenByV1 {
            id: Ulid::from_parts(5, 1),
            title: "old",
            status: IncidentStatus::New,
            severity: Severity::High,
            tlp: Tlp::Red,
            techniques: vec![technique("T1071"), technique("T1190")],
            indicators: Vec::new(),
            sightings: Vec::new(),
            created_at_ms: 5,
            updated_at_ms: 5,
            lifecycle,
            timeline: Vec::new(),
            regulatory: crate::regulatory::RegulatoryClocks::new(),
            fingerprints: Vec::new(),
        };
        let mut bytes = vec![1u8];
        bytes.extend(postcard::to_allocvec(&old).expect("encodes"));
        let record = schema::decode_incident(&bytes).expect("upgraded");
        assert_eq!(
            record.techniques(),
            [technique("T1071"), technique("T1190")]
        );
        assert_eq!(
            (record.severity(), record.tlp()),
            (Severity::High, Tlp::Red)
        );
        let again = schema::encode_incident(&record).expect("encodes");
        assert_eq!(again[0], schema::INCIDENT_RECORD_VERSION);
        assert_eq!(schema::decode_incident(&again).expect("reads"), record);
    }
}
