//! The hub store's whole layout as deterministic text (`socfed_runtime::store_kit::layout`):
//! every tree, each key by its shape ([`schema::key_shape`]) and each value by what it is
//! ([`check::shown`], the table `db import` checks with). The snapshot test in `layout/` runs
//! a small scenario through the hub's writer items (`ingest::apply`) and compares this text
//! with the committed `layout/snapshot.txt`, so a change of layout is always a visible diff.

use super::schema::{self, TreeId, TreeSet};
use super::{HubStore, StoreError, check};
use socfed_runtime::store_kit::layout::{self, Shown};

#[cfg(test)]
mod tests;

/// What an entry of the hub's `tree` is: its key shape and its value.
pub fn describe(tree: &str, key: &[u8], value: &[u8]) -> Result<(String, Shown), String> {
    let id =
        TreeId::by_name(tree).ok_or_else(|| format!("tree {tree:?} is not part of a hub store"))?;
    let mut shown = check::shown(id, key, value)?;
    if let (TreeId::Reviews, Shown::Record { json, .. }) = (id, &mut shown) {
        // The offered report is the wire contract's bytes (its layout is the contract's, not
        // the store's): shown by its size.
        let len = json["offered_wire"].as_array().map_or(0, Vec::len);
        json["offered_wire"] = format!("<{len} bytes: socfed.v1.IncidentReport>").into();
    }
    Ok((schema::key_shape(id, key)?, shown))
}

impl HubStore {
    /// Every tree of the store rendered by [`describe`], volatile parts normalised.
    pub fn layout(&self) -> Result<String, StoreError> {
        let title = format!("sirt-hub store layout, schema {}", schema::SCHEMA_VERSION);
        match &self.backend {
            super::Backend::Sled { db, .. } => Ok(layout::render(db, &title, &describe)?),
            super::Backend::Postgres(_) => Err(StoreError::Kv(
                socfed_runtime::store_kit::kv::KvError::Database(
                    "the layout is rendered from a sled store".into(),
                ),
            )),
        }
    }
}
