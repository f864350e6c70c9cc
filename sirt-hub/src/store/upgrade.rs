//! Upgrades a hub store written by an older build, at open, before anything reads it.
//!
//! Version 1 → 2: the listing indexes (`site_incidents` values, `status_incidents`) are built
//! from the incident records. The step is idempotent: it starts by clearing what it builds,
//! and the new version is recorded only after it finished, so a crash part-way leaves a
//! version 1 store that the next open upgrades again. A version 1 build refuses the upgraded
//! store (its schema version is newer), so no build that does not keep the indexes can write
//! to it.

use super::records::IncidentRecord;
use super::{StoreError, Trees, schema};

/// Brings a store of version `found` to [`schema::SCHEMA_VERSION`].
pub(super) fn upgrade(trees: &Trees, found: u32) -> Result<(), StoreError> {
    if found < 2 {
        build_listing_indexes(trees)?;
    }
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
        let record: IncidentRecord = schema::decode(schema::INCIDENTS, &raw)?;
        let pair = schema::listing_value(record.status, record.severity);
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
