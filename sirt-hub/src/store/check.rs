//! What `sirt-hub db import` checks in every record of a dump before it makes a store of it:
//! each tree is one of the hub's, and each value decodes with the store codec into the type
//! that tree holds (`schema.rs`). A dump whose checksum was recomputed after an edit that
//! broke a record is refused here, not found out by a running hub. Read-only, no sled.

use super::records::{FingerprintRecord, ReviewRecord, SiteRecord};
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
        // Versioned apart from the other trees: every version this build reads is accepted.
        schema::INCIDENTS => schema::decode_incident(value)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        schema::ESCALATIONS => schema::decode_escalation(value)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        schema::SITES => decodes::<SiteRecord>(schema::SITES, value),
        schema::FINGERPRINTS => decodes::<FingerprintRecord>(schema::FINGERPRINTS, value),
        schema::REVIEWS => decodes::<ReviewRecord>(schema::REVIEWS, value),
        schema::AUDIT => decodes::<socfed_runtime::audit::AuditEntry>(schema::AUDIT, value),
        schema::DIRECTIVES => {
            decodes::<crate::response::DirectiveRecord>(schema::DIRECTIVES, value)
        }
        schema::HUNTS => decodes::<crate::response::HuntRecord>(schema::HUNTS, value),
        schema::OPERATORS => {
            decodes::<crate::access::roster::OperatorRecord>(schema::OPERATORS, value)
        }
        schema::COMMS => decodes::<crate::comms::CommRecord>(schema::COMMS, value),
        schema::WEB_SESSIONS => decodes::<crate::session::Grant>(schema::WEB_SESSIONS, value),
        schema::SITE_INCIDENTS => fixed(tree, value, 2),
        schema::LOCAL_REFS => fixed(tree, value, 16),
        schema::EPOCHS | schema::SITE_STATES => fixed(tree, value, 8),
        // A local incident id, as `local_refs` keys hold it.
        schema::SITE_STATE_LOG => std::str::from_utf8(value)
            .map(|_| ())
            .map_err(|_| format!("tree {tree}: a local incident id that is not UTF-8")),
        schema::STATUS_INCIDENTS
        | schema::SITE_DIRECTIVES
        | schema::INCIDENT_DIRECTIVES
        | schema::OPEN_DIRECTIVES => fixed(tree, value, 0),
        schema::META => meta(key, value),
        // sled's own default tree; the hub writes nothing there.
        schema::SLED_DEFAULT_TREE => Ok(()),
        other => Err(format!("tree {other:?} is not part of a hub store")),
    }
}

fn meta(key: &[u8], value: &[u8]) -> Result<(), String> {
    let tree = schema::META;
    let is = |name: &str| key == name.as_bytes();
    match key {
        _ if is(schema::SCHEMA_VERSION_KEY) => fixed(tree, value, 4),
        _ if is(schema::COMMITS) || is(schema::ROSTER_KEEPERS) => fixed(tree, value, 8),
        _ if is(schema::AUDIT_HEAD) => decodes::<AuditHead>(tree, value),
        _ if is(schema::AUDIT_KEYED_FROM) => {
            decodes::<socfed_runtime::audit::KeyedFrom>(tree, value)
        }
        key if key.starts_with(schema::REGULATED_PREFIX) => fixed(tree, value, 0),
        key if key.starts_with(schema::STATE_SEQ_PREFIX) => fixed(tree, value, 8),
        // Markers of indexes built once (`OPEN_DIRECTIVES_INDEXED`): empty values.
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
        let key = schema::AUDIT_HEAD.as_bytes();
        assert_eq!(meta(key, &head), Ok(()));
        let err = meta(key, &head[..10]).expect_err("cut");
        assert!(err.contains("meta"), "{err}");
        let err = record(schema::INCIDENTS, b"k", &[1, 0xff, 0xff]).expect_err("junk");
        assert!(err.contains("incidents"), "{err}");
        assert!(record("mystery", b"k", b"").is_err());
        assert_eq!(record(schema::EPOCHS, b"k", &7u64.to_be_bytes()), Ok(()));
        assert!(record(schema::EPOCHS, b"k", b"7").is_err());
    }

    #[test]
    fn the_incident_state_trees_and_current_record_versions_are_accepted() {
        assert_eq!(
            record(schema::SITE_STATES, b"k", &3u64.to_be_bytes()),
            Ok(())
        );
        assert!(record(schema::SITE_STATES, b"k", b"3").is_err());
        assert_eq!(record(schema::SITE_STATE_LOG, b"k", b"INC-1"), Ok(()));
        assert!(record(schema::SITE_STATE_LOG, b"k", &[0xff, 0xfe]).is_err());
        let paris = socfed_proto::vocab::SiteId::parse("paris").expect("valid");
        let key = schema::state_seq_key(&paris);
        assert_eq!(meta(&key, &3u64.to_be_bytes()), Ok(()));
        assert!(meta(&key, b"").is_err());
        let incident = crate::incident::open(
            ulid::Ulid::from_parts(1, 1),
            &paris,
            &socfed_proto::vocab::IncidentReport::from_wire(
                socfed_proto::pb::IncidentReport {
                    local_incident_id: "INC-1".into(),
                    revision: 1,
                    title: "t".into(),
                    severity: socfed_proto::pb::Severity::Low as i32,
                    ..Default::default()
                },
                &socfed_proto::vocab::ReportLimits::default(),
            )
            .expect("valid"),
            1,
        );
        let raw = schema::encode_incident(&incident).expect("encodes");
        assert_eq!(record(schema::INCIDENTS, b"k", &raw), Ok(()));
        let escalation = crate::store::records::EscalationRecord {
            content_hash: [0; 32],
            received_at_ms: 1,
            enqueued_at_ms: 1,
            hub_incident: None,
            report: None,
        };
        let raw = schema::encode_escalation(&escalation).expect("encodes");
        assert_eq!(record(schema::ESCALATIONS, b"k", &raw), Ok(()));
    }
}
