//! What each tree holds, value by value: the record type a value decodes into (with the store
//! codec, `schema.rs`) or the raw value it is. One table for two uses: `site-agent db import`
//! checks every record of a dump with it before it makes a store of it (a dump whose checksum
//! was recomputed after an edit that broke a record is refused here, not found out by a
//! running agent), and the layout snapshot (`layout.rs`) shows every value through it.
//! Read-only, no sled.

use super::schema::{
    self, AuditHead, HubState, OutboxEntry, OutboxRun, RequestRecord, TreeId, TreeSet,
};
use socfed_runtime::store_kit::layout::{self, Shown};

use layout::tree_record as rec;

fn fixed(tree: TreeId, value: &[u8], len: usize) -> Result<&[u8], String> {
    if value.len() == len {
        Ok(value)
    } else {
        Err(format!(
            "tree {}: a value of {} bytes where [{len}] belong",
            tree.name(),
            value.len()
        ))
    }
}

/// A packed index value: whole `width`-byte ids, shown by count.
fn packed(tree: TreeId, value: &[u8], width: usize, each: &str) -> Result<Shown, String> {
    if value.is_empty() {
        return Ok(Shown::Empty);
    }
    if !value.len().is_multiple_of(width) || value.len() / width >= schema::PACK_IDS {
        return Err(format!(
            "{}: a packed value of {} bytes is not 1 to {} ids of {width} bytes",
            tree.name(),
            value.len(),
            schema::PACK_IDS - 1
        ));
    }
    Ok(raw(format!("{} x {each}", value.len() / width)))
}

fn raw(text: impl Into<String>) -> Shown {
    Shown::Raw(text.into())
}

fn u64_shown(tree: TreeId, value: &[u8]) -> Result<Shown, String> {
    let n = schema::u64_of(tree, fixed(tree, value, 8)?).map_err(|e| e.to_string())?;
    Ok(raw(format!("u64 {n}")))
}

/// An `outbox` value: a run that ends where its key says (schema 7), or, in a schema 6 dump,
/// one escalation under its own sequence (packed in runs at open, `upgrade_outbox.rs`).
fn outbox(key: &[u8], value: &[u8]) -> Result<Shown, String> {
    if value.first() == Some(&1) {
        let v1 = socfed_runtime::store_kit::Codec::new(TreeId::Outbox.name(), 1);
        schema::u64_of(TreeId::Outbox, key).map_err(|e| e.to_string())?;
        return layout::record::<OutboxEntry>(v1, "OutboxEntry", value);
    }
    schema::outbox_run_at(key, value).map_err(|e| e.to_string())?;
    rec::<OutboxRun>(TreeId::Outbox, "OutboxRun", value)
}

/// An alert group of version 2 or 1 (a dump made before schema 8, whose samples the upgrade
/// at open moves into the sample journal).
fn group(value: &[u8]) -> Result<Shown, String> {
    let (group, legacy) = schema::decode_group_any(value).map_err(|e| e.to_string())?;
    Ok(Shown::Record {
        version: if legacy { 1 } else { 2 },
        type_name: "AlertGroup",
        json: serde_json::to_value(&group).map_err(|e| e.to_string())?,
    })
}

/// What the value under `key` in `tree` is; the error names the tree and what is wrong.
pub fn shown(id: TreeId, key: &[u8], value: &[u8]) -> Result<Shown, String> {
    use crate::soc;
    match id {
        TreeId::Outbox => outbox(key, value),
        TreeId::Requests => rec::<RequestRecord>(id, "RequestRecord", value),
        TreeId::Groups => group(value),
        // First seen ms (u64 BE) of a fingerprint's group; received ms of a source event.
        TreeId::GroupSpan | TreeId::SeenEvents => fixed(id, value, 8).map(|_| raw("<ms>")),
        TreeId::Roster => rec::<soc::roster::Analyst>(id, "Analyst", value),
        TreeId::Incidents => rec::<soc::incident::LocalIncident>(id, "LocalIncident", value),
        TreeId::Notifications => rec::<soc::notify::Notification>(id, "Notification", value),
        TreeId::Audit => rec::<socfed_runtime::audit::AuditEntry>(id, "AuditEntry", value),
        TreeId::Directives => rec::<soc::directive::DirectiveRecord>(id, "DirectiveRecord", value),
        TreeId::HubIncidents => rec::<HubState>(id, "HubState", value),
        TreeId::Runbooks | TreeId::RunbookVersions => {
            rec::<socfed_proto::vocab::runbook::Runbook>(id, "Runbook", value)
        }
        TreeId::RunbookProgress => {
            rec::<socfed_proto::vocab::runbook::Progress>(id, "Progress", value)
        }
        TreeId::ApiTokens => {
            rec::<socfed_runtime::api_token::TokenRecord>(id, "TokenRecord", value)
        }
        TreeId::WebSessions => rec::<socfed_runtime::web::session::Grant>(id, "Grant", value),
        TreeId::IncidentNotes => rec::<soc::notes::Note>(id, "Note", value),
        TreeId::IdxAssignee | TreeId::IdxRevisionPending | TreeId::IdxSearch => {
            fixed(id, value, 0).map(|_| Shown::Empty)
        }
        // Packs (schema 3): the ids after the one in the key; none for a pack of one.
        TreeId::IdxIndicator => packed(id, value, 16, "<ulid>"),
        TreeId::SeenByTime => packed(id, value, 32, "<32 bytes>"),
        // Round-robin cursors (an analyst's name), webhook cursors (a notification id) and u64
        // markers.
        TreeId::Settings
            if key.starts_with(schema::ROUND_ROBIN_PREFIX.as_bytes())
                || key.starts_with(schema::WEBHOOK_CURSOR_PREFIX.as_bytes()) =>
        {
            rec::<String>(id, "String", value)
        }
        TreeId::Settings if key == schema::UNASSIGNED_MUTE.as_bytes() => {
            rec::<soc::notify::UnassignedMute>(id, "UnassignedMute", value)
        }
        TreeId::Settings if key.starts_with(schema::ACTION_GROUP_PREFIX.as_bytes()) => {
            rec::<soc::directive::ActionGroup>(id, "ActionGroup", value)
        }
        TreeId::Settings => u64_shown(id, value),
        TreeId::Meta => match std::str::from_utf8(key).unwrap_or_default() {
            schema::EPOCH => fixed(id, value, 16).map(|_| raw("<ulid>")),
            schema::SCHEMA_VERSION_KEY => {
                let version =
                    schema::u32_of(id, fixed(id, value, 4)?).map_err(|e| e.to_string())?;
                Ok(raw(format!("u32 {version}")))
            }
            schema::AUDIT_HEAD => rec::<AuditHead>(id, "AuditHead", value),
            schema::AUDIT_KEYED_FROM => {
                rec::<socfed_runtime::audit::KeyedFrom>(id, "KeyedFrom", value)
            }
            // The SLA policy the in-memory agenda was last built for (JSON); a schema 5 dump
            // holds its BLAKE3 instead, which the upgrade at open drops.
            schema::SLA_POLICY => match serde_json::from_slice::<crate::soc::sla::SlaPolicy>(value)
            {
                Ok(_) => Ok(raw("SlaPolicy (JSON)")),
                Err(_) if value.len() == 32 => Ok(raw("<32 bytes>")),
                Err(e) => Err(format!("meta sla_policy: not an SLA policy: {e}")),
            },
            // A marker: request records keyed by the id alone exist (schema 5 upgrade).
            schema::LEGACY_REQUEST_KEYS => fixed(id, value, 0).map(|_| Shown::Empty),
            // Counters and sequence numbers (`hub_states_after` among them).
            _ => u64_shown(id, value),
        },
    }
}

/// Checks one record of an agent dump; the error names the tree and what is wrong with it.
pub fn record(tree: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
    if tree == "__sled__default" {
        // sled's own default tree; the agent writes nothing there.
        return Ok(());
    }
    if schema::LEGACY_INDEX_TREES.contains(&tree) {
        // A schema 5 dump: index entries the upgrade at open drops (their values are empty).
        return if value.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "tree {tree}: a value of {} bytes where [0] belong",
                value.len()
            ))
        };
    }
    let Some(id) = TreeId::by_name(tree) else {
        return Err(format!("tree {tree:?} is not part of a site-agent store"));
    };
    shown(id, key, value).map(drop)
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
        let run = OutboxRun {
            first: 4,
            records: vec![entry.clone(), entry.clone()],
        };
        let raw = schema::encode(TreeId::Outbox, &run).expect("encode");
        assert_eq!(record("outbox", &5u64.to_be_bytes(), &raw), Ok(()));
        let err = record("outbox", &5u64.to_be_bytes(), &raw[..3]).expect_err("cut");
        assert!(err.contains("outbox"), "{err}");
        // A run whose key names another last sequence, or past u64::MAX.
        let err = record("outbox", &6u64.to_be_bytes(), &raw).expect_err("key");
        assert!(err.contains("under the key of sequence 6"), "{err}");
        let top = OutboxRun {
            first: u64::MAX,
            records: vec![entry.clone(), entry.clone()],
        };
        let raw = schema::encode(TreeId::Outbox, &top).expect("encode");
        assert!(record("outbox", &u64::MAX.to_be_bytes(), &raw).is_err());
        // A schema 6 dump's entry (version 1) is read: the open packs it.
        let v1 = socfed_runtime::store_kit::Codec::new("outbox", 1)
            .encode(&entry)
            .expect("encode");
        assert_eq!(record("outbox", &1u64.to_be_bytes(), &v1), Ok(()));
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
        let raw = schema::encode(TreeId::HubIncidents, &state).expect("encode");
        assert_eq!(record("hub_incidents", b"INC-1", &raw), Ok(()));
        assert!(record("hub_incidents", b"INC-1", &raw[..4]).is_err());
        assert_eq!(
            record("meta", b"hub_states_after", &2u64.to_be_bytes()),
            Ok(())
        );
    }
}
