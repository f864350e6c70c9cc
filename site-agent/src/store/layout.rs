//! The agent store's whole layout as deterministic text (`socfed_runtime::store_kit::layout`):
//! every tree, each key by its shape ([`schema::key_shape`]) and each value by what it is
//! ([`check::shown`], the table `db import` checks with). The snapshot test in `layout/` runs
//! a small scenario through the real service and store and compares this text with the
//! committed `layout/snapshot.txt`, so a change of layout is always a visible diff. The
//! sample journal beside sled (`samples.rs`) follows the trees, block by block.

use super::schema::{self, TreeId, TreeSet};
use super::{AgentStore, StoreError, check};
use socfed_runtime::store_kit::layout::{self, Shown};

#[cfg(test)]
mod tests;

/// What an entry of the agent's `tree` is: its key shape and its value.
pub fn describe(tree: &str, key: &[u8], value: &[u8]) -> Result<(String, Shown), String> {
    let id = TreeId::by_name(tree)
        .ok_or_else(|| format!("tree {tree:?} is not part of a site-agent store"))?;
    let mut shown = check::shown(id, key, value)?;
    if let (TreeId::Outbox, Shown::Record { json, .. }) = (id, &mut shown) {
        // Each report is the wire contract's bytes (its layout is the contract's, not the
        // store's): shown by its size.
        let entries = match json.get_mut("records").and_then(|r| r.as_array_mut()) {
            Some(records) => records.iter_mut().collect(),
            None => vec![json],
        };
        for entry in entries {
            let len = entry["report"].as_array().map_or(0, Vec::len);
            entry["report"] = format!("<{len} bytes: socfed.v1.IncidentReport>").into();
        }
    }
    Ok((schema::key_shape(id, key)?, shown))
}

impl AgentStore {
    /// Every tree of the store rendered by [`describe`], volatile parts normalised.
    pub fn layout(&self) -> Result<String, StoreError> {
        let title = format!("site-agent store layout, schema {}", schema::SCHEMA_VERSION);
        let mut text = layout::render(&self.db, &title, &describe)?;
        text.push_str(&self.samples.layout()?);
        Ok(text)
    }
}
