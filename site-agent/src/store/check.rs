//! What `site-agent db import` checks in every record of a dump before it makes a store of it:
//! each tree is one of the agent's, and each value decodes with the store codec into the type
//! that tree holds (`schema.rs`). A dump whose checksum was recomputed after an edit that
//! broke a record is refused here, not found out by a running agent. Read-only, no sled.

use super::schema::{self, AuditHead, HubState, OutboxEntry, RequestRecord, TreeId};
use serde::de::DeserializeOwned;

fn decodes<T: DeserializeOwned>(tree: TreeId, value: &[u8]) -> Result<(), String> {
    schema::decode::<T>(tree.name(), value)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn fixed(tree: TreeId, value: &[u8], lens: &[usize]) -> Result<(), String> {
    if lens.contains(&value.len()) {
        Ok(())
    } else {
        Err(format!(
            "tree {}: a value of {} bytes where {lens:?} belong",
            tree.name(),
            value.len()
        ))
    }
}

/// Checks one record of an agent dump; the error names the tree and what is wrong with it.
pub fn record(tree: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
    if tree == "__sled__default" {
        // sled's own default tree; the agent writes nothing there.
        return Ok(());
    }
    let Some(id) = TreeId::ALL.iter().copied().find(|t| t.name() == tree) else {
        return Err(format!("tree {tree:?} is not part of a site-agent store"));
    };
    match id {
        TreeId::Outbox => decodes::<OutboxEntry>(id, value),
        TreeId::Requests => decodes::<RequestRecord>(id, value),
        TreeId::Groups => decodes::<crate::soc::group::AlertGroup>(id, value),
        // First seen ms (u64 BE) of a fingerprint's group; received ms of a source event.
        TreeId::GroupSpan | TreeId::SeenEvents => fixed(id, value, &[8]),
        TreeId::Roster => decodes::<crate::soc::roster::Analyst>(id, value),
        TreeId::Incidents => decodes::<crate::soc::incident::LocalIncident>(id, value),
        TreeId::Notifications => decodes::<crate::soc::notify::Notification>(id, value),
        TreeId::Audit => decodes::<socfed_runtime::audit::AuditEntry>(id, value),
        TreeId::Directives => decodes::<crate::soc::directive::DirectiveRecord>(id, value),
        TreeId::HubIncidents => decodes::<HubState>(id, value),
        TreeId::IdxQueue
        | TreeId::IdxAssignee
        | TreeId::IdxIndicator
        | TreeId::SlaDue
        | TreeId::SeenByTime => fixed(id, value, &[0]),
        // Round-robin cursors (an analyst's name) and u64 markers.
        TreeId::Settings if key.starts_with(schema::ROUND_ROBIN_PREFIX.as_bytes()) => {
            decodes::<String>(id, value)
        }
        TreeId::Settings if key == schema::UNASSIGNED_MUTE.as_bytes() => {
            decodes::<crate::soc::notify::UnassignedMute>(id, value)
        }
        TreeId::Settings if key.starts_with(schema::ACTION_GROUP_PREFIX.as_bytes()) => {
            decodes::<crate::soc::directive::ActionGroup>(id, value)
        }
        TreeId::Settings => fixed(id, value, &[8]),
        TreeId::Meta => match std::str::from_utf8(key).unwrap_or_default() {
            schema::EPOCH => fixed(id, value, &[16]),
            schema::SCHEMA_VERSION_KEY => fixed(id, value, &[4]),
            schema::AUDIT_HEAD => decodes::<AuditHead>(id, value),
            schema::AUDIT_KEYED_FROM => decodes::<socfed_runtime::audit::KeyedFrom>(id, value),
            // BLAKE3 of the SLA policy the agenda was built for.
            schema::SLA_POLICY => fixed(id, value, &[32]),
            // Counters and sequence numbers (`hub_states_after` among them).
            _ => fixed(id, value, &[8]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_that_do_not_decode_are_named() {
        let entry = OutboxEntry {
            enqueued_at_ms: 1,
            report: vec![1, 2, 3],
        };
        let raw = schema::encode(schema::OUTBOX, &entry).expect("encode");
        assert_eq!(record("outbox", &1u64.to_be_bytes(), &raw), Ok(()));
        let err = record("outbox", &1u64.to_be_bytes(), &raw[..3]).expect_err("cut");
        assert!(err.contains("outbox"), "{err}");
        assert!(record("meta", b"next_seq", b"12").is_err());
        assert!(record("elsewhere", b"k", b"").is_err());
    }

    #[test]
    fn hub_states_are_checked() {
        let state = HubState {
            state: socfed_proto::vocab::IncidentState {
                seq: 2,
                local_incident_id: "INC-1".into(),
                hub_incident: ulid::Ulid::from_parts(1, 1),
                phase: socfed_proto::vocab::HubPhase::Triage,
                resolution: String::new(),
                ir_lead: None,
                updated_at_ms: 1,
            },
            received_at_ms: 2,
        };
        let raw = schema::encode("hub_incidents", &state).expect("encode");
        assert_eq!(record("hub_incidents", b"INC-1", &raw), Ok(()));
        assert!(record("hub_incidents", b"INC-1", &raw[..4]).is_err());
        assert_eq!(
            record("meta", b"hub_states_after", &2u64.to_be_bytes()),
            Ok(())
        );
    }
}
