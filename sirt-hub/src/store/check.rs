//! What each tree holds, value by value: the record type a value decodes into (with the store
//! codec, `schema.rs`) or the raw value it is. One table for two uses: `sirt-hub db import`
//! checks every record of a dump with it before it makes a store of it (a dump whose checksum
//! was recomputed after an edit that broke a record is refused here, not found out by a
//! running hub), and the layout snapshot (`layout.rs`) shows every value through it.
//! Read-only, no sled.

use super::records::{EscalationRun, FingerprintRecord, ReviewRecord, SiteRecord};
use super::schema::{self, AuditHead, TreeId, TreeSet};
use serde::Serialize;
use socfed_runtime::store_kit::layout::{self, Shown};

use layout::tree_record as rec;

/// A record of a tree that still reads older versions: shown as the version it was stored
/// with, its fields as this build reads them (upgraded).
fn upgraded<T: Serialize>(
    tree: TreeId,
    type_name: &'static str,
    value: &[u8],
    decode: fn(&[u8]) -> Result<T, schema::CodecError>,
) -> Result<Shown, String> {
    let (version, _) = tree.codec().split(value).map_err(|e| e.to_string())?;
    let record = decode(value).map_err(|e| e.to_string())?;
    let json = serde_json::to_value(&record).map_err(|e| e.to_string())?;
    Ok(Shown::Record {
        version,
        type_name,
        json,
    })
}

fn fixed<'a>(tree: &str, value: &'a [u8], len: usize) -> Result<&'a [u8], String> {
    if value.len() == len {
        Ok(value)
    } else {
        Err(format!(
            "tree {tree}: a value of {} bytes where {len} belong",
            value.len()
        ))
    }
}

fn raw(text: impl Into<String>) -> Shown {
    Shown::Raw(text.into())
}

fn u64_shown(tree: &'static str, value: &[u8]) -> Result<Shown, String> {
    let n = schema::u64_value(tree, fixed(tree, value, 8)?).map_err(|e| e.to_string())?;
    Ok(raw(format!("u64 {n}")))
}

/// What the value under `key` in `tree` is; the error names the tree and what is wrong.
pub fn shown(id: TreeId, key: &[u8], value: &[u8]) -> Result<Shown, String> {
    let tree = id.name();
    match id {
        // Versioned apart from the other trees: every version this build reads is accepted.
        TreeId::Incidents => upgraded(id, "IncidentRecord", value, schema::decode_incident),
        // A run must end where its key says (the index's one seek relies on it).
        TreeId::Escalations => {
            schema::decode_escalation_run_at(key, value).map_err(|e| e.to_string())?;
            rec::<EscalationRun>(id, "EscalationRun", value)
        }
        TreeId::Sites => rec::<SiteRecord>(id, "SiteRecord", value),
        TreeId::Fingerprints => rec::<FingerprintRecord>(id, "FingerprintRecord", value),
        TreeId::Reviews => rec::<ReviewRecord>(id, "ReviewRecord", value),
        TreeId::Audit => rec::<socfed_runtime::audit::AuditEntry>(id, "AuditEntry", value),
        TreeId::Directives => rec::<crate::response::DirectiveRecord>(id, "DirectiveRecord", value),
        TreeId::Hunts => rec::<crate::response::HuntRecord>(id, "HuntRecord", value),
        TreeId::Events => rec::<super::records::HubEvent>(id, "HubEvent", value),
        TreeId::ApiTokens => {
            rec::<socfed_runtime::api_token::TokenRecord>(id, "TokenRecord", value)
        }
        TreeId::Runbooks | TreeId::RunbookVersions => {
            rec::<socfed_proto::vocab::runbook::Runbook>(id, "Runbook", value)
        }
        // Runbook ULID ++ version (`schema::runbook_version_key`).
        TreeId::RunbookLog => schema::runbook_version_parts(tree, value)
            .map(|(_, version)| raw(format!("<ulid> ++ version {version}")))
            .map_err(|e| e.to_string()),
        TreeId::Operators => {
            rec::<crate::access::roster::OperatorRecord>(id, "OperatorRecord", value)
        }
        TreeId::Comms => rec::<crate::comms::CommRecord>(id, "CommRecord", value),
        TreeId::Observables => {
            rec::<crate::observable::ObservableRecord>(id, "ObservableRecord", value)
        }
        TreeId::IncidentNotes => rec::<crate::incident::notes::HubNote>(id, "HubNote", value),
        TreeId::HuntLibrary | TreeId::HuntLibraryVersions => {
            rec::<crate::hunt_library::LibraryHunt>(id, "LibraryHunt", value)
        }
        TreeId::WebSessions => rec::<crate::session::Grant>(id, "Grant", value),
        TreeId::EnrolledSites => {
            rec::<super::records::EnrolmentRecord>(id, "EnrolmentRecord", value)
        }
        // Status code ++ severity code (`schema::listing_value`).
        TreeId::SiteIncidents => {
            let pair = fixed(tree, value, 2)?;
            Ok(raw(format!("status {} ++ severity {}", pair[0], pair[1])))
        }
        TreeId::LocalRefs => fixed(tree, value, 16).map(|_| raw("<ulid>")),
        // Which sources hold the posting: 1 the record, 2 extra text, both 3.
        TreeId::IncidentSearch => match fixed(tree, value, 1)?[0] {
            n @ 1..=3 => Ok(raw(format!("sources {n}"))),
            n => Err(format!("tree {tree}: sources byte {n} is not 1, 2 or 3")),
        },
        TreeId::Epochs | TreeId::SiteStates => u64_shown(tree, value),
        // A local incident id, as `local_refs` keys hold it.
        TreeId::SiteStateLog => std::str::from_utf8(value)
            .map(|id| raw(format!("{:?}", layout::normalise_text(id))))
            .map_err(|_| format!("tree {tree}: a local incident id that is not UTF-8")),
        TreeId::StatusIncidents
        | TreeId::SiteDirectives
        | TreeId::IncidentDirectives
        | TreeId::OpenDirectives
        | TreeId::ObservableIndex
        | TreeId::HuntLibraryRuns => fixed(tree, value, 0).map(|_| Shown::Empty),
        TreeId::Meta => meta(key, value),
    }
}

/// Checks one record of a hub dump; the error names the tree and what is wrong with it.
pub fn record(tree: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
    if tree == schema::SLED_DEFAULT_TREE {
        // sled's own default tree; the hub writes nothing there.
        return Ok(());
    }
    match TreeId::by_name(tree) {
        Some(id) => shown(id, key, value).map(drop),
        None => Err(format!("tree {tree:?} is not part of a hub store")),
    }
}

fn meta(key: &[u8], value: &[u8]) -> Result<Shown, String> {
    let id = TreeId::Meta;
    let tree = schema::META;
    let is = |name: &str| key == name.as_bytes();
    match key {
        _ if is(schema::SCHEMA_VERSION_KEY) => {
            let raw4 = fixed(tree, value, 4)?;
            let version = u32::from_be_bytes([raw4[0], raw4[1], raw4[2], raw4[3]]);
            Ok(raw(format!("u32 {version}")))
        }
        _ if is(schema::COMMITS)
            || is(schema::ROSTER_KEEPERS)
            || is(schema::JOURNAL_APPLIED)
            || is(schema::EVENT_SEQ)
            || is(schema::RUNBOOK_SEQ)
            || is(schema::RUNBOOK_COUNT) =>
        {
            u64_shown(tree, value)
        }
        _ if is(schema::AUDIT_HEAD) => rec::<AuditHead>(id, "AuditHead", value),
        _ if is(schema::AUDIT_KEYED_FROM) => {
            rec::<socfed_runtime::audit::KeyedFrom>(id, "KeyedFrom", value)
        }
        key if key.starts_with(schema::REGULATED_PREFIX) => {
            fixed(tree, value, 0).map(|_| Shown::Empty)
        }
        key if key.starts_with(schema::MEMBERS_PREFIX) => {
            fixed(tree, value, 0).map(|_| Shown::Empty)
        }
        key if key.starts_with(schema::STATE_SEQ_PREFIX)
            || key.starts_with(schema::OBSERVABLE_COUNT_PREFIX)
            || key.starts_with(schema::STREAM_LEASE_PREFIX) =>
        {
            u64_shown(tree, value)
        }
        key if key.starts_with(schema::WEBHOOK_CURSOR_PREFIX) => rec::<String>(id, "String", value),
        // Markers of indexes built once (`OPEN_DIRECTIVES_INDEXED`): empty values.
        _ => fixed(tree, value, 0).map(|_| Shown::Empty).map_err(|_| {
            format!(
                "tree meta: key {:?} is not one a hub writes",
                String::from_utf8_lossy(key)
            )
        }),
    }
}

/// `db check`'s look beside sled: opens the escalation journal of the stopped store in `dir`
/// from the applied mark its `meta` records (as the hub does at start: a torn last append is
/// cut) and reads, for every escalation the index holds, the journal entry it names: each one
/// missing, unreadable, or holding another escalation (site, epoch, sequence) or other
/// content than the index's hash is a problem. The report as received is the hub's evidence.
pub fn check_beside(
    dir: &std::path::Path,
    db: &sled::Db,
    found: &mut socfed_runtime::store_check::StoreCheck,
) -> anyhow::Result<()> {
    let applied = super::journal_applied(&db.open_tree(schema::META)?.into())?;
    let journal = match super::journal::Journal::open(dir, super::Durability::Flush, applied) {
        Ok(journal) => journal,
        Err(e) => {
            // The hub would refuse to start on it: that is the finding.
            found.problem(format!("escalation journal: {e}"));
            return Ok(());
        }
    };
    for item in db.open_tree(schema::ESCALATIONS)?.iter() {
        let (key, value) = item?;
        // A run that does not decode is the record pass's problem, already counted.
        let (Some((site, epoch, _)), Ok(run)) = (
            schema::escalation_key_parts(&key),
            schema::decode_escalation_run_at(&key, &value),
        ) else {
            continue;
        };
        for (seq, record) in run.iter() {
            let what = format!(
                "escalation {site}/{epoch}/{seq}: journal entry {}",
                record.journal
            );
            match journal.get(record.journal) {
                Err(e) => found.problem(format!("{what}: {e}")),
                Ok(entry) if (&entry.site, entry.epoch, entry.seq) != (&site, epoch, seq) => {
                    found.problem(format!(
                        "{what} holds {}/{}/{} instead",
                        entry.site, entry.epoch, entry.seq
                    ));
                }
                Ok(entry) => match entry.content_hash() {
                    Ok(hash) if hash == record.content_hash => {}
                    Ok(_) => {
                        found.problem(format!("{what} does not hold the content the index hashed"))
                    }
                    Err(e) => found.problem(format!("{what}: its report does not decode: {e}")),
                },
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_that_do_not_decode_are_named() {
        let head = schema::encode(
            TreeId::Meta,
            &AuditHead {
                seq: 3,
                hash: [1; 32],
            },
        )
        .expect("encode");
        let key = schema::AUDIT_HEAD.as_bytes();
        assert!(meta(key, &head).is_ok());
        let err = meta(key, &head[..10]).expect_err("cut");
        assert!(err.contains("meta"), "{err}");
        let err = record(schema::INCIDENTS, b"k", &[1, 0xff, 0xff]).expect_err("junk");
        assert!(err.contains("incidents"), "{err}");
        assert!(record("mystery", b"k", b"").is_err());
        assert_eq!(record(schema::EPOCHS, b"k", &7u64.to_be_bytes()), Ok(()));
        assert!(record(schema::EPOCHS, b"k", b"7").is_err());
    }

    #[test]
    fn the_observable_trees_and_count_are_checked() {
        let seen = crate::observable::sight(
            None,
            &socfed_proto::vocab::SiteId::parse("paris").expect("site"),
            &socfed_proto::vocab::Indicator::parse_typed("ip:203.0.113.7").expect("ip"),
            1,
        );
        let raw = schema::encode(TreeId::Observables, &seen).expect("encodes");
        assert_eq!(record(schema::OBSERVABLES, b"k", &raw), Ok(()));
        assert!(record(schema::OBSERVABLES, b"k", &raw[..raw.len() - 1]).is_err());
        assert_eq!(record(schema::OBSERVABLE_INDEX, b"k", b""), Ok(()));
        assert!(record(schema::OBSERVABLE_INDEX, b"k", b"x").is_err());
        let key = schema::observable_count_key(ulid::Ulid::from_parts(1, 1));
        assert!(meta(&key, &3u64.to_be_bytes()).is_ok());
        assert!(meta(&key, b"3").is_err());
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
        assert!(meta(&key, &3u64.to_be_bytes()).is_ok());
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
            journal: 0,
        };
        let run = crate::store::records::EscalationRun {
            first: 7,
            records: vec![escalation.clone(), escalation],
        };
        let raw = schema::encode_escalation_run(&run).expect("encodes");
        let site = socfed_proto::vocab::SiteId::parse("paris").expect("site");
        let key = |seq| schema::escalation_key(&site, ulid::Ulid::from_parts(1, 1), seq);
        assert_eq!(record(schema::ESCALATIONS, &key(8), &raw), Ok(()));
        assert!(
            record(schema::ESCALATIONS, &key(7), &raw).is_err(),
            "a run under a key that is not its last sequence"
        );
    }
}
