//! The hub's sled layout: every tree, its key layout and its value encoding, in one place.
//!
//! Integers in keys are big-endian so byte order is numeric order; ULIDs are their 16 raw bytes
//! (time-ordered). Site ids never contain `0x00`, so `site ++ 0x00` is an unambiguous prefix.
//!
//! | tree            | key                                   | value                      |
//! |-----------------|---------------------------------------|----------------------------|
//! | `meta`          | utf-8 name (`schema_version`)         | u32 BE                     |
//! | `incidents`     | incident ULID (16)                    | `IncidentRecord`           |
//! | `site_incidents`| site ++ 0x00 ++ incident ULID (16)    | status u8 ++ severity u8   |
//! | `status_incidents`| status u8 ++ severity u8 ++ incident ULID (16) | empty        |
//! | `local_refs`    | site ++ 0x00 ++ local incident id     | incident ULID (16)         |
//! | `escalations`   | site ++ 0x00 ++ epoch (16) ++ last seq u64 | `EscalationRun` (consecutive seqs) |
//! | `epochs`        | site ++ 0x00 ++ epoch (16)            | acked-through seq, u64 BE  |
//! | `sites`         | site                                  | `SiteRecord`               |
//! | `fingerprints`  | generation u64 ++ BLAKE3 fingerprint (32) | `FingerprintRecord` (`fingerprint_gens.rs`) |
//! | `reviews`       | site ++ 0x00 ++ epoch ++ seq ++ ULID  | `ReviewRecord`             |
//! | `audit`         | seq u64                               | `AuditEntry` (hash chain)  |
//! | `meta`          | `audit_head`                          | `AuditHead` (seq, hash)    |
//! | `meta`          | `audit_keyed_from`                    | `KeyedFrom` (seq, hash, MAC) |
//! | `meta`          | `regulated/` ++ incident ULID         | empty (flagged, a deadline not yet met) |
//! | `meta`          | `commits`                             | u64 BE (units committed)     |
//! | `meta`          | `journal_applied`                     | u64 BE (journal ids below it applied) |
//! | `meta`          | `members/` ++ incident ULID ++ name   | empty (incident members)   |
//! | `meta`          | `roster_keepers`                      | u64 BE (who may manage the roster) |
//! | `meta`          | `open_directives_indexed`             | empty (`open_directives` built) |
//! | `meta`          | `webhook-cursor/` ++ sink name        | `String`: the event id a webhook sink is done with |
//! | `directives`    | directive ULID (16)                   | `DirectiveRecord`          |
//! | `site_directives`| site ++ 0x00 ++ directive ULID       | empty (per-site outbox)    |
//! | `incident_directives`| incident ULID ++ directive ULID  | empty (per-incident index) |
//! | `open_directives`| site ++ 0x00 ++ directive ULID       | empty (no final state yet) |
//! | `hunts`         | hunt ULID (16)                        | `HuntRecord`               |
//! | `operators`     | operator name                         | `OperatorRecord` (role)    |
//! | `comms`         | incident ULID ++ communication ULID   | `CommRecord`               |
//! | `web_sessions`  | `l` or `s` ++ BLAKE3 of the secret (32) | `web::session::Grant`    |
//! | `site_states`   | site ++ 0x00 ++ local incident id     | state seq u64 BE (its latest mark) |
//! | `site_state_log`| site ++ 0x00 ++ state seq u64         | local incident id (utf-8)  |
//! | `meta`          | `state_seq/` ++ site                  | u64 BE (last state seq of the site) |
//! | `events`        | event seq u64                         | `records::HubEvent`         |
//! | `meta`          | `event_seq`                           | u64 BE (last event seq ever appended) |
//! | `api_tokens`    | token ULID (16)                       | `socfed_runtime::api_token::TokenRecord` |
//! | `observables`   | incident ULID (16) ++ BLAKE3 of the indicator (32) | `observable::ObservableRecord` |
//! | `observable_index` | BLAKE3 of the indicator (32) ++ incident ULID (16) | empty   |
//! | `meta`          | `observable_count/` ++ incident ULID  | u64 BE (the incident's observables) |
//! | `runbooks`      | runbook ULID (16)                     | `vocab::runbook::Runbook` (its latest version) |
//! | `runbook_versions` | runbook ULID (16) ++ version u32 BE | `vocab::runbook::Runbook` (every version) |
//! | `runbook_log`   | runbook seq u64                       | runbook ULID (16) ++ version u32 BE |
//! | `meta`          | `runbook_seq`                         | u64 BE (last runbook seq)  |
//! | `meta`          | `runbook_count`                       | u64 BE (runbooks ever added) |
//! | `incident_search` | field tag (`i`/`t`/`w`) ++ token ++ 0x00 ++ incident ULID | sources byte: 1 the record, 2 extra text (`search.rs`) |
//! | `hunt_library`  | library hunt ULID (16)                | `hunt_library::LibraryHunt` (current version) |
//! | `hunt_library_versions` | library hunt ULID ++ version u64 BE | `LibraryHunt` (each version an edit replaced) |
//! | `hunt_library_runs` | library hunt ULID ++ hunt ULID    | empty (the hunts its runs started) |
//! | `enrolled_sites` | site                                 | `EnrolmentRecord` (enrolled or removed, by whom, when) |
//!
//! `escalations` is the idempotency-key index, packed: each entry is a run of consecutive
//! sequences of one (site, epoch) stored by one unit of work, keyed by the run's last sequence;
//! each compact record in it points at the escalation as received in the journal (`journal/`,
//! outside sled). Runs never overlap, so the record of `seq` is in the first entry at or after
//! `(site, epoch, seq)`, if that entry's run starts at or before `seq` (one seek). Whether an
//! escalation is new is answered in memory (`marks.rs`); the index is read for resends only. `epochs` holds
//! the per-(site, epoch) high-water mark that acknowledgements report.
//!
//! `site_incidents` and `status_incidents` are the listing indexes (see `query_index.rs`): a
//! `--site` listing reads status and severity from the site entry's value without reading the
//! record, and a listing by status or severity walks `status_incidents`, whose prefix is the
//! pair. Status codes are [`status_code`] (lifecycle order) and severity codes
//! [`severity_code`] (ascending, so "at least" is a range of codes). Both are written only by
//! `unit/incidents.rs`, in the unit that writes the record, and only when the
//! status, severity or sites change. Schema version 2 added them; `upgrade.rs` builds them at
//! open for a version 1 store.
//!
//! `web_sessions` holds dashboard sign-in links (`l`) and sessions (`s`) under the hash of
//! their secret (the secret itself is never stored; see `session.rs`).
//!
//! `site_directives` lists every directive of a site; `open_directives` only those the site has
//! not reported a final state for: the site's durable directive outbox, sent again on each
//! connect. A directive leaves it in the transaction that records its final state.
//!
//! `site_state_log` is each site's queue of incident states to send back to it (see
//! `unit/sites.rs`): one entry per local incident whose hub-side state (hub incident,
//! phase, IR lead) changed, keyed by a per-site sequence, so a reconnecting site that names the
//! last sequence it stored gets exactly what changed since. `site_states` points each local
//! incident at its one entry, so a newer change replaces the older entry (the log holds at most
//! one entry per local incident). Schema version 4 added them; `upgrade.rs` fills them at open
//! from `local_refs`, so every site learns the state of what it escalated before.
//!
//! `events` is the hub event log (the crate's `events` module): appended by the unit that
//! makes the change it describes, pruned from its oldest end (`unit/events.rs`); `event_seq`
//! keeps the last sequence so a log pruned empty never hands a sequence out twice. Schema
//! version 9 added it, and `api_tokens`: API tokens for `/api/v1`, by id, holding only the
//! hash of their secret (`socfed_runtime::api_token`).
//!
//! `observables` holds each hub incident's observables (`crate::observable`), one record per
//! normalised indicator; `observable_index` lists, per indicator, every incident holding it,
//! so "also in" and `observables lookup` read one prefix instead of scanning. Both are
//! written only by `unit/observables.rs`, in the unit that changes the record; the `meta`
//! count bounds an incident's observables without a scan. Schema version 10 added them.
//!
//! `runbooks` holds each runbook's latest version, `runbook_versions` every version (its
//! history), and `runbook_log` the order in which versions were written: every site is sent
//! every version after the last one it names in its hello (`grpc/federation/runbooks.rs`), so
//! the log is never trimmed by delivery. Schema version 10 added the three.
//!
//! `enrolled_sites` is the set of sites allowed to open an escalation stream (`crate::enrolment`):
//! seeded from the config's `[[sites]]` at start, changed by `sirt-hub sites enrol|remove`. A
//! removed site keeps its record (marked removed), so the seed never enrols it again. Schema
//! version 11 added it.
//!
//! Values are `[version byte] ++ postcard(record)` (`socfed_runtime::store_kit::codec`), the
//! version per tree ([`TreeId::codec`]): [`RECORD_VERSION`] but for `incidents` and
//! `escalations`, whose records moved on and whose older versions are still read (`legacy.rs`).
//! A value with an unknown version is an error that names the tree, never a silent default.
//! [`key_shape`] renders each key layout for the layout snapshot (`layout.rs`): a change here
//! changes the snapshot, and a layout change bumps [`SCHEMA_VERSION`].

use crate::incident::IncidentStatus;
use socfed_proto::vocab::{Severity, SiteId};
use socfed_runtime::store_kit::layout::KeyShape;
pub use socfed_runtime::store_kit::{Codec, CodecError, TreeSet};
use ulid::Ulid;

mod trees;
pub use trees::*;

/// 2: `site_incidents` values carry status and severity; `status_incidents` exists.
/// 3: incident records may be version 2 ([`INCIDENT_RECORD_VERSION`]); a build that does not
/// read them must not open the store.
/// 4: incident records version 3 and escalation records version 2 (the sites' local status),
/// and `site_states` / `site_state_log`, which every incident change must keep (a build that
/// does not would leave sites with stale states).
/// 5: incident records version 4, which an older build cannot read.
/// 6: escalation records version 3 (the report in the journal, `journal/`), and the journal's
/// applied mark in `meta` (a build without the journal would neither write nor replay it).
/// 7: `fingerprints` keyed by time generation first (`fingerprint_gens.rs`), so lookups ask
/// only the generations the correlation window reaches and old ones are pruned whole.
/// 8: `escalations` packed in runs (escalation values version 4), one entry per (site, epoch)
/// run per unit.
/// 9: `events`, the hub event log every change appends to (an older build would change
/// incidents without logging them, leaving gaps readers cannot see), and `api_tokens`.
/// 10: `observables` and `observable_index` (an older build would change incidents without
/// keeping their observables or the index in step); `incident_notes`, the notes on incidents;
/// `runbooks`, `runbook_versions` and `runbook_log` (runbooks written since sent to the sites);
/// `incident_search`, the incident search's postings, kept by every incident write, built
/// from `incidents` at the upgrade; `hunt_library`, `hunt_library_versions`,
/// `hunt_library_runs` (the hunt library; an older build would not run its schedules).
/// 11: `enrolled_sites`, the enrolled sites (an older build would read them from the config
/// alone, letting a removed site stream again).
pub const SCHEMA_VERSION: u32 = 11;
/// Version of the values of every tree but `incidents` and `escalations`.
pub const RECORD_VERSION: u8 = 1;
/// Version of `incidents` values. 2: lifecycle state (status, severity, TLP, techniques) only
/// in the lifecycle. 3: one entry per local incident in each sighting, with the site's status
/// and owner. 4: the count of indicators dropped at the record's size limit. Older records are
/// upgraded when read ([`decode_incident`], `legacy.rs`).
pub const INCIDENT_RECORD_VERSION: u8 = 4;
/// Version of `escalations` values. 2: the report holds the site's local status. 3: the report
/// is in the journal; the record holds its journal id. 4: a run of records (`EscalationRun`).
/// Older values are rewritten at open by the schema 5 → 6 and 7 → 8 upgrades (`upgrade.rs`),
/// so [`decode_escalation_run`] reads only version 4.
pub const ESCALATION_RECORD_VERSION: u8 = 4;
/// Records per `escalations` entry at most, bounding a value's size (a writer unit holds at
/// most 64 escalations anyway).
pub const MAX_ESCALATION_RUN: usize = 256;

pub const META: &str = "meta";
pub const INCIDENTS: &str = "incidents";
pub const SITE_INCIDENTS: &str = "site_incidents";
pub const STATUS_INCIDENTS: &str = "status_incidents";
pub const LOCAL_REFS: &str = "local_refs";
pub const ESCALATIONS: &str = "escalations";
pub const EPOCHS: &str = "epochs";
pub const SITES: &str = "sites";
pub const FINGERPRINTS: &str = "fingerprints";
pub const REVIEWS: &str = "reviews";
pub const AUDIT: &str = "audit";
pub const DIRECTIVES: &str = "directives";
pub const SITE_DIRECTIVES: &str = "site_directives";
pub const INCIDENT_DIRECTIVES: &str = "incident_directives";
pub const OPEN_DIRECTIVES: &str = "open_directives";
pub const HUNTS: &str = "hunts";
pub const OPERATORS: &str = "operators";
pub const COMMS: &str = "comms";
pub const WEB_SESSIONS: &str = "web_sessions";
pub const SITE_STATES: &str = "site_states";
pub const SITE_STATE_LOG: &str = "site_state_log";
pub const EVENTS: &str = "events";
pub const API_TOKENS: &str = "api_tokens";
pub const OBSERVABLES: &str = "observables";
pub const OBSERVABLE_INDEX: &str = "observable_index";
/// Schema 10: incident ULID ++ note ULID → `HubNote` (an incident's work log in time order).
pub const INCIDENT_NOTES: &str = "incident_notes";
pub const RUNBOOKS: &str = "runbooks";
pub const RUNBOOK_VERSIONS: &str = "runbook_versions";
pub const RUNBOOK_LOG: &str = "runbook_log";
/// `meta` key of the last runbook sequence written (u64 BE).
pub const RUNBOOK_SEQ: &str = "runbook_seq";
/// `meta` key of how many runbooks were ever added (u64 BE), for the bound on them.
pub const RUNBOOK_COUNT: &str = "runbook_count";

/// `runbook_versions` key, and `runbook_log` value: runbook ULID ++ version (u32 BE).
pub fn runbook_version_key(id: Ulid, version: u32) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..16].copy_from_slice(&id.to_bytes());
    key[16..].copy_from_slice(&version.to_be_bytes());
    key
}

/// The runbook and version of a `runbook_versions` key or `runbook_log` value.
pub fn runbook_version_parts(tree: &'static str, raw: &[u8]) -> Result<(Ulid, u32), CodecError> {
    let raw: [u8; 20] = raw.try_into().map_err(|_| key_length(tree, raw.len()))?;
    let (id, version) = raw.split_at(16);
    let id: [u8; 16] = id.try_into().map_err(|_| key_length(tree, 20))?;
    let version: [u8; 4] = version.try_into().map_err(|_| key_length(tree, 20))?;
    Ok((Ulid::from_bytes(id), u32::from_be_bytes(version)))
}
pub const INCIDENT_SEARCH: &str = "incident_search";
pub const HUNT_LIBRARY: &str = "hunt_library";
pub const HUNT_LIBRARY_VERSIONS: &str = "hunt_library_versions";
pub const HUNT_LIBRARY_RUNS: &str = "hunt_library_runs";
/// Schema 11: site → `EnrolmentRecord` (`crate::enrolment`).
pub const ENROLLED_SITES: &str = "enrolled_sites";
/// `meta` key of the last event sequence appended (u64 BE).
pub const EVENT_SEQ: &str = "event_seq";
/// sled's own default tree, in every sled database; the hub writes nothing there.
pub const SLED_DEFAULT_TREE: &str = "__sled__default";

/// `meta` key of the store's schema version ([`SCHEMA_VERSION`], u32 BE).
pub const SCHEMA_VERSION_KEY: &str = "schema_version";
/// `meta` key: how many operators may manage the roster (u64 BE), kept in step by every
/// roster change so the "never leave nobody" rule needs no scan inside the transaction.
pub const ROSTER_KEEPERS: &str = "roster_keepers";
/// `meta` key marking that `open_directives` was built from `directives` (empty), for a store
/// written before the index existed.
pub const OPEN_DIRECTIVES_INDEXED: &str = "open_directives_indexed";
/// `meta` key prefix of each site's last incident-state sequence: prefix ++ site → u64 BE.
pub const STATE_SEQ_PREFIX: &[u8] = b"state_seq/";

/// The `meta` key of `site`'s last incident-state sequence.
pub fn state_seq_key(site: &SiteId) -> Vec<u8> {
    let mut key = STATE_SEQ_PREFIX.to_vec();
    key.extend_from_slice(site.as_str().as_bytes());
    key
}

/// `site_state_log` key: site ++ 0x00 ++ seq (u64 BE).
pub fn state_log_key(site: &SiteId, seq: u64) -> Vec<u8> {
    let mut key = site_prefix(site);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}
/// `web_sessions` key prefixes (sign-in links and sessions) and the key of a link or session
/// whose secret hashes to `hash`: the layout every web surface's store shares.
pub use socfed_runtime::web::session::{
    KIND_LINK as WEB_LINK, KIND_SESSION as WEB_SESSION, grant_key as web_key,
};
/// `meta` key of the audit chain's head (`AuditHead`).
pub const AUDIT_HEAD: &str = "audit_head";
/// `meta` key of where the audit chain's keyed sealing began (`socfed_runtime::audit::KeyedFrom`,
/// authenticated with the audit key; written at the first open with a key).
pub const AUDIT_KEYED_FROM: &str = "audit_keyed_from";
/// `meta` key: every journal entry with a lower id is applied to the trees (u64 BE); entries
/// from there on are re-applied at start-up (`crate::ingest::replay`).
pub const JOURNAL_APPLIED: &str = "journal_applied";
/// `meta` key: units of work committed so far (u64 BE), recorded by the store's witness.
pub const COMMITS: &str = "commits";
/// `meta` key prefix of incident members (who may read it at TLP:RED): prefix ++ ULID ++
/// operator name → empty.
pub const MEMBERS_PREFIX: &[u8] = b"members/";

pub fn member_key(incident: Ulid, name: &str) -> Vec<u8> {
    let mut key = MEMBERS_PREFIX.to_vec();
    key.extend_from_slice(&incident.to_bytes());
    key.extend_from_slice(name.as_bytes());
    key
}

/// `meta` key prefix of each site's stream lease generation (`crate::replicas`): prefix ++
/// site id → u64 BE. Every stream's hello takes the next one: the newest stream of a site holds
/// the lease, and a replica holding an older one ends its stream.
pub const STREAM_LEASE_PREFIX: &[u8] = b"stream_lease/";

pub fn stream_lease_key(site: &SiteId) -> Vec<u8> {
    let mut key = STREAM_LEASE_PREFIX.to_vec();
    key.extend_from_slice(site.as_str().as_bytes());
    key
}

/// `meta` key prefix of each incident's count of observables: prefix ++ ULID → u64 BE.
pub const OBSERVABLE_COUNT_PREFIX: &[u8] = b"observable_count/";

/// The `meta` key of `incident`'s count of observables.
pub fn observable_count_key(incident: Ulid) -> Vec<u8> {
    let mut key = OBSERVABLE_COUNT_PREFIX.to_vec();
    key.extend_from_slice(&incident.to_bytes());
    key
}

/// The 32 bytes an indicator is keyed by in `observables` and `observable_index`.
pub fn indicator_hash(indicator: &socfed_proto::vocab::Indicator) -> [u8; 32] {
    *blake3::hash(indicator.to_string().as_bytes()).as_bytes()
}

/// `observables` key: incident ULID ++ indicator hash.
pub fn observable_key(incident: Ulid, hash: &[u8; 32]) -> [u8; 48] {
    let mut key = [0u8; 48];
    key[..16].copy_from_slice(&incident.to_bytes());
    key[16..].copy_from_slice(hash);
    key
}

/// `observable_index` key: indicator hash ++ incident ULID.
pub fn observable_index_key(hash: &[u8; 32], incident: Ulid) -> [u8; 48] {
    let mut key = [0u8; 48];
    key[..32].copy_from_slice(hash);
    key[32..].copy_from_slice(&incident.to_bytes());
    key
}

/// `meta` key prefix of the index of incidents with regulatory flags: prefix ++ ULID → empty.
pub const REGULATED_PREFIX: &[u8] = b"regulated/";

/// `meta` key prefix of the webhook sinks' delivery cursors (`crate::webhooks`).
pub const WEBHOOK_CURSOR_PREFIX: &[u8] = b"webhook-cursor/";

/// The `meta` key of webhook sink `sink`'s delivery cursor.
pub fn webhook_cursor_key(sink: &str) -> Vec<u8> {
    let mut key = WEBHOOK_CURSOR_PREFIX.to_vec();
    key.extend_from_slice(sink.as_bytes());
    key
}

/// The `meta` key listing `incident` among those with regulatory flags.
pub fn regulated_key(incident: Ulid) -> Vec<u8> {
    let mut key = REGULATED_PREFIX.to_vec();
    key.extend_from_slice(&incident.to_bytes());
    key
}

pub fn site_prefix(site: &SiteId) -> Vec<u8> {
    let mut key = Vec::with_capacity(site.as_str().len() + 1 + 24);
    key.extend_from_slice(site.as_str().as_bytes());
    key.push(0);
    key
}

pub fn site_incident_key(site: &SiteId, incident: Ulid) -> Vec<u8> {
    let mut key = site_prefix(site);
    key.extend_from_slice(&incident.to_bytes());
    key
}

/// The exclusive upper bound of `site`'s `site_incidents` keys below `cursor`, or of all of
/// them (`0xff` never follows a site id's `0x00` otherwise).
pub fn site_incidents_below(site: &SiteId, cursor: Option<Ulid>) -> Vec<u8> {
    match cursor {
        Some(cursor) => site_incident_key(site, cursor),
        None => {
            let mut key = site_prefix(site);
            key.extend_from_slice(&[0xff; 17]);
            key
        }
    }
}

/// The one-byte code of a status in index keys and values (lifecycle order).
pub fn status_code(status: IncidentStatus) -> u8 {
    match status {
        IncidentStatus::New => 0,
        IncidentStatus::Triage => 1,
        IncidentStatus::Containment => 2,
        IncidentStatus::Eradication => 3,
        IncidentStatus::Recovery => 4,
        IncidentStatus::PostIncident => 5,
        IncidentStatus::Closed => 6,
    }
}

/// The one-byte code of a severity in index keys and values; ascending with the severity.
pub fn severity_code(severity: Severity) -> u8 {
    match severity {
        Severity::Informational => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// The `site_incidents` value: what a filtered `--site` listing needs without the record.
pub fn listing_value(status: IncidentStatus, severity: Severity) -> [u8; 2] {
    [status_code(status), severity_code(severity)]
}

/// `(status code, severity code)` of a `site_incidents` value; `None` for a value this build
/// does not know (the reader then decides from the record).
pub fn read_listing_value(value: &[u8]) -> Option<(u8, u8)> {
    match *value {
        [status, severity] => Some((status, severity)),
        _ => None,
    }
}

/// `status_incidents` key: status code ++ severity code ++ incident ULID.
pub fn status_incident_key(pair: [u8; 2], incident: Ulid) -> [u8; 18] {
    let mut key = [0u8; 18];
    key[..2].copy_from_slice(&pair);
    key[2..].copy_from_slice(&incident.to_bytes());
    key
}

pub fn local_ref_key(site: &SiteId, local_incident_id: &str) -> Vec<u8> {
    let mut key = site_prefix(site);
    key.extend_from_slice(local_incident_id.as_bytes());
    key
}

pub fn epoch_key(site: &SiteId, epoch: Ulid) -> Vec<u8> {
    let mut key = site_prefix(site);
    key.extend_from_slice(&epoch.to_bytes());
    key
}

/// `generation u64 BE ++ fingerprint`: a `fingerprints` key (`fingerprint_gens.rs`).
pub fn fingerprint_key(generation: u64, fingerprint: &[u8; 32]) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(&generation.to_be_bytes());
    key.extend_from_slice(fingerprint);
    key
}

/// The generation and fingerprint of a `fingerprints` key.
pub fn fingerprint_key_parts(key: &[u8]) -> Result<(u64, [u8; 32]), CodecError> {
    let malformed = || CodecError::Malformed {
        tree: FINGERPRINTS,
        detail: format!(
            "a key of {} bytes, not generation (8) ++ fingerprint (32)",
            key.len()
        ),
    };
    let (generation, fingerprint) = key.split_first_chunk::<8>().ok_or_else(malformed)?;
    let fingerprint: [u8; 32] = fingerprint.try_into().map_err(|_| malformed())?;
    Ok((u64::from_be_bytes(*generation), fingerprint))
}

/// The `escalations` key of the run of (`site`, `epoch`) ending at `seq`; the first key at or
/// after it is that of the run holding `seq`, if any holds it.
pub fn escalation_key(site: &SiteId, epoch: Ulid, seq: u64) -> Vec<u8> {
    let mut key = epoch_key(site, epoch);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// `(site, epoch, last seq)` of an `escalations` key.
pub fn escalation_key_parts(key: &[u8]) -> Option<(SiteId, Ulid, u64)> {
    let split = key.iter().position(|b| *b == 0)?;
    let site = SiteId::parse(std::str::from_utf8(&key[..split]).ok()?).ok()?;
    let rest = &key[split + 1..];
    let epoch: [u8; 16] = rest.get(..16)?.try_into().ok()?;
    let seq: [u8; 8] = rest.get(16..24)?.try_into().ok()?;
    (rest.len() == 24).then(|| (site, Ulid::from_bytes(epoch), u64::from_be_bytes(seq)))
}

pub fn review_key(site: &SiteId, epoch: Ulid, seq: u64, id: Ulid) -> Vec<u8> {
    let mut key = escalation_key(site, epoch, seq);
    key.extend_from_slice(&id.to_bytes());
    key
}

pub fn site_directive_key(site: &SiteId, directive: Ulid) -> Vec<u8> {
    let mut key = site_prefix(site);
    key.extend_from_slice(&directive.to_bytes());
    key
}

/// `first ++ second`, both ULIDs: per-incident indexes and communications.
/// A `hunt_library_versions` key: library hunt ULID ++ version u64 BE.
pub fn library_version_key(id: Ulid, version: u32) -> Vec<u8> {
    let mut key = id.to_bytes().to_vec();
    key.extend_from_slice(&u64::from(version).to_be_bytes());
    key
}

pub fn pair_key(first: Ulid, second: Ulid) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&first.to_bytes());
    key[16..].copy_from_slice(&second.to_bytes());
    key
}

pub fn ulid_from_key(tree: &'static str, bytes: &[u8]) -> Result<Ulid, CodecError> {
    let raw: [u8; 16] = bytes
        .try_into()
        .map_err(|_| key_length(tree, bytes.len()))?;
    Ok(Ulid::from_bytes(raw))
}

pub fn u64_value(tree: &'static str, bytes: &[u8]) -> Result<u64, CodecError> {
    let raw: [u8; 8] = bytes
        .try_into()
        .map_err(|_| key_length(tree, bytes.len()))?;
    Ok(u64::from_be_bytes(raw))
}

/// A key of `tree` rendered by its layout (the table above) for the layout snapshot
/// (`layout.rs`), volatile parts normalised; an error if it does not fit.
pub fn key_shape(tree: TreeId, key: &[u8]) -> Result<String, String> {
    let shape = KeyShape::new(key);
    match tree {
        TreeId::Meta => return meta_key_shape(key),
        TreeId::Sites | TreeId::Operators | TreeId::EnrolledSites => shape.text(),
        TreeId::Audit | TreeId::Events => shape.u64("seq"),
        TreeId::Incidents
        | TreeId::Directives
        | TreeId::Hunts
        | TreeId::ApiTokens
        | TreeId::Runbooks
        | TreeId::HuntLibrary => shape.ulid(),
        TreeId::HuntLibraryVersions => shape.ulid().u64("version"),
        TreeId::HuntLibraryRuns => shape.ulid().ulid(),
        TreeId::RunbookVersions => shape.ulid().opaque(4),
        TreeId::RunbookLog => shape.u64("seq"),
        TreeId::IncidentDirectives | TreeId::Comms | TreeId::IncidentNotes => shape.ulid().ulid(),
        TreeId::SiteIncidents
        | TreeId::Epochs
        | TreeId::SiteDirectives
        | TreeId::OpenDirectives => shape.text_nul().ulid(),
        TreeId::StatusIncidents => shape.byte("status").byte("severity").ulid(),
        TreeId::IncidentSearch => shape.byte("field").text_nul().ulid(),
        TreeId::LocalRefs | TreeId::SiteStates => shape.text_nul().text(),
        TreeId::Escalations => shape.text_nul().ulid().u64("last_seq"),
        TreeId::Reviews => shape.text_nul().ulid().u64("seq").ulid(),
        TreeId::Fingerprints => shape.u64("generation").opaque(32),
        TreeId::WebSessions => shape.byte("kind").opaque(32),
        TreeId::SiteStateLog => shape.text_nul().u64("seq"),
        TreeId::Observables => shape.ulid().opaque(32),
        TreeId::ObservableIndex => shape.opaque(32).ulid(),
    }
    .finish()
}

/// `meta` keys: names, and the prefixed keys whose rest is a ULID (and a name).
fn meta_key_shape(key: &[u8]) -> Result<String, String> {
    let prefixed = |prefix: &[u8], rest: Result<String, String>| {
        rest.map(|rest| format!("{:?} ++ {rest}", String::from_utf8_lossy(prefix)))
    };
    if let Some(rest) = key.strip_prefix(REGULATED_PREFIX) {
        prefixed(REGULATED_PREFIX, KeyShape::new(rest).ulid().finish())
    } else if let Some(rest) = key.strip_prefix(OBSERVABLE_COUNT_PREFIX) {
        prefixed(OBSERVABLE_COUNT_PREFIX, KeyShape::new(rest).ulid().finish())
    } else if let Some(rest) = key.strip_prefix(STREAM_LEASE_PREFIX) {
        prefixed(STREAM_LEASE_PREFIX, KeyShape::new(rest).text().finish())
    } else if let Some(rest) = key.strip_prefix(MEMBERS_PREFIX) {
        prefixed(MEMBERS_PREFIX, KeyShape::new(rest).ulid().text().finish())
    } else {
        KeyShape::new(key).text().finish()
    }
}

/// The last audit entry: sequence and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: [u8; 32],
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
