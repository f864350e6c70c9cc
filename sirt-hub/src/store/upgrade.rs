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
//!
//! Version 3 → 4: incident records of version 2 and escalation records of version 1 are read
//! through `legacy.rs` like version 1 records above. The per-site incident-state log
//! (`site_states`, `site_state_log`) is built from `local_refs`, one entry per local incident
//! a site escalated, so every site is sent the hub's state of what it escalated before; the
//! step clears what it builds first, so a crash part-way repeats it.
//!
//! Version 4 → 5: nothing is rewritten. Incident records of version 3 are read through
//! `legacy.rs` (no indicator dropped yet); schema 5 makes an older build refuse the store.

use super::{StoreError, Trees, schema};
use socfed_proto::vocab::SiteId;
use std::collections::HashMap;

/// Brings a store of version `found` to [`schema::SCHEMA_VERSION`].
pub(super) fn upgrade(trees: &Trees, found: u32) -> Result<(), StoreError> {
    if found < 2 {
        build_listing_indexes(trees)?;
    }
    // 2 → 3: incident records are upgraded when read (module docs).
    if found < 4 {
        build_site_state_log(trees)?;
    }
    // The indexes are durable before the version that says they exist (flushes every tree).
    trees.meta.flush()?;
    trees.meta.insert(
        schema::SCHEMA_VERSION_KEY,
        &schema::SCHEMA_VERSION.to_be_bytes(),
    )?;
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

/// Queues one incident state per escalated local incident (`local_refs`) for its site.
pub(super) fn build_site_state_log(trees: &Trees) -> Result<(), StoreError> {
    tracing::info!("queueing the hub's incident states for the sites (store schema 3 to 4)");
    trees.site_states.clear()?;
    trees.site_state_log.clear()?;
    let mut last: HashMap<SiteId, u64> = HashMap::new();
    for entry in trees.local_refs.iter() {
        let (key, _) = entry?;
        // site ++ 0x00 ++ local incident id; site ids never contain 0x00.
        let Some(split) = key.iter().position(|b| *b == 0) else {
            continue;
        };
        let (site, local) = (&key[..split], &key[split + 1..]);
        let Ok(site) = SiteId::parse(&String::from_utf8_lossy(site)) else {
            continue;
        };
        let seq = last.entry(site.clone()).or_insert(0);
        *seq += 1;
        trees
            .site_state_log
            .insert(schema::state_log_key(&site, *seq), local)?;
        trees.site_states.insert(&key, &seq.to_be_bytes())?;
    }
    for (site, seq) in &last {
        trees
            .meta
            .insert(schema::state_seq_key(site), &seq.to_be_bytes())?;
    }
    tracing::info!(sites = last.len(), "incident states queued");
    Ok(())
}
