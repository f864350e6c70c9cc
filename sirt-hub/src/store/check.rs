//! What `sirt-hub db import` checks in every record of a dump before it makes a store of it:
//! each tree is one of the hub's, and each value decodes with the store codec into the type
//! that tree holds (`schema.rs`). A dump whose checksum was recomputed after an edit that
//! broke a record is refused here, not found out by a running hub. Read-only, no sled.

use super::records::{EscalationRecord, FingerprintRecord, ReviewRecord, SiteRecord};
use super::schema::{self, AuditHead};
use serde::de::DeserializeOwned;

fn decodes<T: DeserializeOwned>(tree: &'static str, value: &[u8]) -> Result<(), String> {
    schema::decode::<T>(tree, value)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn fixed(tree: &str, value: &[u8], len: usize) -> Result<(), String> {
    if value.len() == len {
        Ok(())
    } else {
        Err(format!(
            "tree {tree}: a value of {} bytes where {len} belong",
            value.len()
        ))
    }
}

/// Checks one record of a hub dump; the error names the tree and what is wrong with it.
pub fn record(tree: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
    match tree {
        // Version 1 and 2 records both open (`schema::decode_incident`).
        schema::INCIDENTS => schema::decode_incident(value)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        schema::ESCALATIONS => decodes::<EscalationRecord>(schema::ESCALATIONS, value),
        schema::SITES => decodes::<SiteRecord>(schema::SITES, value),
        schema::FINGERPRINTS => decodes::<FingerprintRecord>(schema::FINGERPRINTS, value),
        schema::REVIEWS => decodes::<ReviewRecord>(schema::REVIEWS, value),
        schema::AUDIT => decodes::<socfed_proto::audit::AuditEntry>(schema::AUDIT, value),
        schema::DIRECTIVES => {
            decodes::<crate::response::DirectiveRecord>(schema::DIRECTIVES, value)
        }
        schema::HUNTS => decodes::<crate::response::HuntRecord>(schema::HUNTS, value),
        schema::OPERATORS => {
            decodes::<crate::access::roster::OperatorRecord>(schema::OPERATORS, value)
        }
        schema::COMMS => decodes::<crate::comms::CommRecord>(schema::COMMS, value),
        schema::WEB_SESSIONS => decodes::<crate::web::session::Grant>(schema::WEB_SESSIONS, value),
        schema::SITE_INCIDENTS => fixed(tree, value, 2),
        schema::LOCAL_REFS => fixed(tree, value, 16),
        schema::EPOCHS => fixed(tree, value, 8),
        schema::STATUS_INCIDENTS
        | schema::SITE_DIRECTIVES
        | schema::INCIDENT_DIRECTIVES
        | schema::OPEN_DIRECTIVES => fixed(tree, value, 0),
        schema::META => meta(key, value),
        // sled's own default tree; the hub writes nothing there.
        "__sled__default" => Ok(()),
        other => Err(format!("tree {other:?} is not part of a hub store")),
    }
}

fn meta(key: &[u8], value: &[u8]) -> Result<(), String> {
    let tree = schema::META;
    match key {
        b"schema_version" => fixed(tree, value, 4),
        b"commits" | b"roster_keepers" => fixed(tree, value, 8),
        b"audit_head" => decodes::<AuditHead>(tree, value),
        b"audit_keyed_from" => decodes::<socfed_proto::audit::KeyedFrom>(tree, value),
        key if key.starts_with(schema::REGULATED_PREFIX) => fixed(tree, value, 0),
        // Markers of indexes built once (`open_directives_indexed`): empty values.
        _ => fixed(tree, value, 0).map_err(|_| {
            format!(
                "tree meta: key {:?} is not one a hub writes",
                String::from_utf8_lossy(key)
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_that_do_not_decode_are_named() {
        let head = schema::encode(
            schema::META,
            &AuditHead {
                seq: 3,
                hash: [1; 32],
            },
        )
        .expect("encode");
        assert_eq!(meta(b"audit_head", &head), Ok(()));
        let err = meta(b"audit_head", &head[..10]).expect_err("cut");
        assert!(err.contains("meta"), "{err}");
        let err = record(schema::INCIDENTS, b"k", &[1, 0xff, 0xff]).expect_err("junk");
        assert!(err.contains("incidents"), "{err}");
        assert!(record("mystery", b"k", b"").is_err());
        assert_eq!(record(schema::EPOCHS, b"k", &7u64.to_be_bytes()), Ok(()));
        assert!(record(schema::EPOCHS, b"k", b"7").is_err());
    }
}
