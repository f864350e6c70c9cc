//! The audit chain's keyed-from point at open (`socfed_runtime::audit::KeyedFrom`): checked
//! against the audit key, or recorded at the first open with a key.

use super::StoreError;
use super::schema::{self, AuditHead, TreeId};
use socfed_runtime::audit::{ChainKey, KeyedFrom};
use std::path::Path;

/// Checks that the audit chain was sealed with `key`, or, at the first open with a key,
/// records where keyed sealing begins (the head now; entries before it stay unkeyed).
pub(super) fn keyed_from(dir: &Path, meta: &sled::Tree, key: &ChainKey) -> Result<(), StoreError> {
    if let Some(raw) = meta.get(schema::AUDIT_KEYED_FROM)? {
        let point: KeyedFrom = schema::decode(TreeId::Meta, &raw)?;
        if !point.made_with(key) {
            return Err(StoreError::AuditKey {
                dir: dir.to_path_buf(),
            });
        }
        return Ok(());
    }
    let head = match meta.get(schema::AUDIT_HEAD)? {
        Some(raw) => Some(schema::decode::<AuditHead>(TreeId::Meta, &raw)?),
        None => None,
    };
    let point = KeyedFrom::at(key, head.map(|h| (h.seq, h.hash)));
    meta.insert(
        schema::AUDIT_KEYED_FROM,
        schema::encode(TreeId::Meta, &point)?,
    )?;
    Ok(())
}
