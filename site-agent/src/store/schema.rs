//! The agent's sled layout, in one place. Integers in keys are big-endian (byte order =
//! numeric order); ULIDs are their 16 raw bytes (time-ordered); names never contain 0x00.
//!
//! | tree            | key                                        | value                           |
//! |-----------------|--------------------------------------------|---------------------------------|
//! | `meta`          | `schema_version`                           | u32 BE                          |
//! |                 | `epoch`                                    | 16-byte ULID made with the store|
//! |                 | `next_seq`, `acked_through`, `outbox_len`, `refused_total`, `dropped_total`, `conflicts_reported`, `rejected_reported` | u64 BE |
//! |                 | `audit_head`                               | `AuditHead`                     |
//! |                 | `intake/{accepted,aggregated,duplicates,rejected,skipped}` | u64 BE          |
//! |                 | `sla_policy`                               | the SLA policy (JSON) the in-memory agenda was last built for |
//! |                 | `audit_keyed_from`                         | `KeyedFrom` (where keyed sealing began) |
//! |                 | `samples_end`                              | u64 BE: the sample journal's end after the last unit that appended to it (`samples.rs`) |
//! | `outbox`        | last seq u64 of the run                    | `OutboxRun`: the escalations one unit queued under consecutive sequences (v2) |
//! | `requests`      | caller ++ 0x00 ++ caller's request id      | `RequestRecord`                 |
//! | `groups`        | group ULID                                 | `AlertGroup` (version 2: its sample's raw record in `samples/`, named by `sample_ref`) |
//! | `group_span`    | aggregation fingerprint (32) ++ last seen ms u64 ++ group ULID | first seen ms u64 BE (every group of a fingerprint, by when it was last seen) |
//! | `seen_events`   | source event id (32, BLAKE3, see `soc::parse`) | received ms u64 BE (first arrival) |
//! | `seen_by_time`  | received ms u64 ++ source event id (32)    | more source event ids (32 each) taken in by the same commit, up to `PACK_IDS` in all (pruning past `soc.duplicate_window`) |
//! | `idx_assignee`  | analyst ++ 0x00 ++ group ULID              | empty                           |
//! | `idx_indicator` | "kind:value" ++ 0x00 ++ group ULID         | more group ULIDs (16 each) indexed by the same commit, up to `PACK_IDS` in all (for hunts) |
//! | `roster`        | operator name                              | `Analyst`                       |
//! | `settings`      | `rr/{tier}`                                | last assigned name (round-robin)|
//! |                 | `notify/unassigned/mute`                   | `UnassignedMute` (held count)   |
//! |                 | `webhook-cursor/{sink}`                    | last notification id a webhook sink is done with (`String`, `""` = before the first) |
//! |                 | `action-group/{directive ULID}`            | `ActionGroup` of a running action|
//! | `incidents`     | local incident id                          | `LocalIncident`                 |
//! | `notifications` | ULID                                       | `Notification`                  |
//! | `audit`         | seq u64                                    | `AuditEntry`                    |
//! | `directives`    | directive ULID (16)                        | `DirectiveRecord` (every id the hub sent: the exactly-once record) |
//! | `hub_incidents` | local incident id                          | `HubState` (what the hub last said of it) |
//! | `meta`          | `hub_states_after`                         | u64 BE: the last hub incident state recorded |
//! | `idx_revision_pending` | local incident id                   | empty (a revision waits for room in the outbox; `revisions.rs`) |
//! | `api_tokens`    | token ULID (16)                            | `TokenRecord` (`socfed_runtime::api_token`: name, scopes, expiry, revocation, the secret's BLAKE3; never the secret) |
//! | `web_sessions`  | `l` or `s` ++ BLAKE3 of the secret (32)    | `web::session::Grant` (a console sign-in link or session; `web.rs`) |
//! | `incident_notes` | local incident id ++ 0x00 ++ note ULID    | `soc::notes::Note` (the incident's work log, in time order; `notes.rs`) |
//! | `runbooks`      | runbook ULID (16)                          | `vocab::runbook::Runbook`: the latest version, the hub's or the site's (`runbooks.rs`) |
//! | `runbook_versions` | runbook ULID (16) ++ version u32 BE     | `vocab::runbook::Runbook`: every version |
//! | `runbook_progress` | subject (local incident id or group ULID text) ++ 0x00 ++ runbook ULID (16) | `vocab::runbook::Progress`: the steps done |
//! | `meta`          | `hub_runbooks_after`                       | u64 BE: the last hub runbook version recorded |
//! | `idx_search`    | field tag (`i`/`h`/`u`/`t`/`w`) ++ token ++ 0x00 ++ group ULID | empty (the alert search's postings, `search.rs`; tokens per `socfed_proto::search`) |
//!
//! Values are `[version byte] ++ postcard(record)` (`socfed_runtime::store_kit::codec`); every
//! tree's records are version 1 but `outbox`'s (2: a run, schema 7) and `groups`' (2: the
//! sample in the journal, schema 8); unknown versions are errors. `key_shape` renders each key
//! layout for the layout snapshot (`layout.rs`): a change here changes the snapshot, and a
//! layout change bumps [`SCHEMA_VERSION`].
//!
//! Schema 2 replaced schema 1's `group_fp` (fingerprint → the latest group only) with
//! `group_span` and added `seen_events`/`seen_by_time`; `upgrade` rebuilds the spans from
//! `groups` at open.
//!
//! Schema 3 packs `seen_by_time` and `idx_indicator`: an entry names the first id in its key
//! and the others of its commit in its value, so a commit of 500 new groups writes a few
//! index entries where it wrote one per event and per indicator and group. A schema 2 entry
//! (empty value) is a pack of one, read the same way; the upgrade only records the version,
//! so that an older build, which would prune only the first id of a pack, refuses the store.
//!
//! Schema 5 keys `requests` by caller and request id: ids are the caller's own, so two
//! callers' ids may be equal. An upgraded store that held records keyed by the id alone marks
//! it (`legacy_request_keys` in `meta`) and still looks those up after a miss.
//!
//! Schema 4 adds `idx_revision_pending`, built from `incidents` at the upgrade, so the SLA
//! clock's retry of deferred revisions reads those incidents only.
//!
//! Schema 6 keeps the triage queue and the SLA agenda in memory (`agenda.rs`), built from
//! `groups` at open: the upgrade drops `idx_queue` and `sla_due` and the BLAKE3 of the
//! policy in `sla_policy`, which now holds the policy itself (the open builds the agenda
//! under it). A new alert group writes neither index.
//!
//! Schema 7 packs the outbox in runs (`socfed_runtime::store_kit::runs`): one entry per store
//! unit, keyed by its last sequence, where schema 6 kept one entry (version 1, an
//! `OutboxEntry`) per sequence; the upgrade packs those (`upgrade_outbox.rs`). A batch of
//! raises writes one key, an acknowledgement removes one key per run.
//!
//! Schema 8 moves each alert group's raw sample out of its record into the sample journal
//! beside sled (`DIR/samples/`, `samples.rs`): an intake commit appends one compressed block
//! of the samples of the groups it opens, and the record (`groups` value version 2) keeps a
//! `SampleRef` (block id, index in the block) and an empty `raw`. A version 1 record is
//! version 2 without that trailing field ([`decode_group_any`]); the upgrade moves its
//! sample into the journal and rewrites it.
//!
//! Schema 9 adds `api_tokens`, the HTTP API's tokens for integrations (`tokens.rs`), and
//! `web_sessions`, the SOC console's sign-in links and sessions (the layout the hub's dashboard
//! uses, `socfed_runtime::web::session`); the upgrade only records the version (both trees
//! start empty), so that an older build, which would neither know nor check them, refuses the
//! store.
//!
//! Schema 10 adds `incident_notes`, the notes on local incidents (`notes.rs`); the upgrade
//! only records the version (the tree starts empty).
//!
//! Schema 10 adds `idx_search`, the alert search's postings (indicator, host, user,
//! technique and the words of the title and comments of every group, `search.rs`), kept
//! in step by each group write; the upgrade builds it from `groups`, a block at a time.
//!
//! `hub_incidents` and `hub_states_after` came without a schema version: an older build opens
//! the store and leaves them alone, and as its hello names no state the hub sends it none, so
//! nothing goes stale; once this build runs again it asks the hub for everything after the
//! last state recorded. Only the uplink writes them (`store/hub_states.rs`).
//!
//! `groups` is keyed by ULIDs made at intake, so it is itself the by-time index (creation
//! order); there is no separate time index to keep in step.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_runtime::store_kit::codec;
use socfed_runtime::store_kit::layout::KeyShape;
pub use socfed_runtime::store_kit::{Codec, CodecError, TreeSet};

mod outbox;
pub use outbox::*;

/// 10: `incident_notes`; `runbooks`, `runbook_versions`, `runbook_progress` (an older build
/// would not record the hub's runbooks nor name its mark in the hello); `idx_search`, the alert search's postings.
pub const SCHEMA_VERSION: u32 = 10;

/// Most ids in one packed `seen_by_time` or `idx_indicator` entry: a few KiB, well inside
/// what sled keeps in its log (larger values become blob files of their own).
pub const PACK_IDS: usize = 128;

/// Every tree, in the order the store opens them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TreeId {
    Meta,
    Outbox,
    Requests,
    Groups,
    GroupSpan,
    IdxAssignee,
    IdxIndicator,
    Roster,
    Settings,
    Incidents,
    Notifications,
    Audit,
    Directives,
    SeenEvents,
    SeenByTime,
    HubIncidents,
    IdxRevisionPending,
    /// Schema 9: the HTTP API's tokens (`tokens.rs`).
    ApiTokens,
    /// Schema 9: the SOC console's sign-ins (`web.rs`).
    WebSessions,
    /// Schema 10: notes on local incidents (`notes.rs`).
    IncidentNotes,
    /// Schema 10: runbooks, their versions and checklist progress (`runbooks.rs`).
    Runbooks,
    RunbookVersions,
    RunbookProgress,
    /// Schema 10: the alert search's postings (`search.rs`).
    IdxSearch,
}

impl TreeId {
    pub const ALL: [TreeId; 24] = [
        TreeId::Meta,
        TreeId::Outbox,
        TreeId::Requests,
        TreeId::Groups,
        TreeId::GroupSpan,
        TreeId::IdxAssignee,
        TreeId::IdxIndicator,
        TreeId::Roster,
        TreeId::Settings,
        TreeId::Incidents,
        TreeId::Notifications,
        TreeId::Audit,
        TreeId::Directives,
        TreeId::SeenEvents,
        TreeId::SeenByTime,
        TreeId::HubIncidents,
        TreeId::IdxRevisionPending,
        TreeId::ApiTokens,
        TreeId::WebSessions,
        TreeId::IncidentNotes,
        TreeId::Runbooks,
        TreeId::RunbookVersions,
        TreeId::RunbookProgress,
        TreeId::IdxSearch,
    ];
}

/// The registry of the agent's trees (`store_kit`): every record is version 1 but the
/// outbox's ([`OUTBOX_RUN_VERSION`]) and `groups`' (2).
impl TreeSet for TreeId {
    const ALL: &'static [Self] = &TreeId::ALL;

    fn codec(self) -> Codec {
        match self {
            // Version 2 (schema 8): the sample's raw record is in the sample journal.
            TreeId::Groups => Codec::new(self.name(), 2),
            TreeId::Outbox => Codec::new(self.name(), OUTBOX_RUN_VERSION),
            other => Codec::new(other.name(), 1),
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            TreeId::Meta => "meta",
            TreeId::Outbox => "outbox",
            TreeId::Requests => "requests",
            TreeId::Groups => "groups",
            TreeId::GroupSpan => "group_span",
            TreeId::IdxAssignee => "idx_assignee",
            TreeId::IdxIndicator => "idx_indicator",
            TreeId::Roster => "roster",
            TreeId::Settings => "settings",
            TreeId::Incidents => "incidents",
            TreeId::Notifications => "notifications",
            TreeId::Audit => "audit",
            TreeId::Directives => "directives",
            TreeId::SeenEvents => "seen_events",
            TreeId::SeenByTime => "seen_by_time",
            TreeId::HubIncidents => "hub_incidents",
            TreeId::IdxRevisionPending => "idx_revision_pending",
            TreeId::ApiTokens => "api_tokens",
            TreeId::WebSessions => "web_sessions",
            TreeId::IncidentNotes => "incident_notes",
            TreeId::Runbooks => "runbooks",
            TreeId::RunbookVersions => "runbook_versions",
            TreeId::RunbookProgress => "runbook_progress",
            TreeId::IdxSearch => "idx_search",
        }
    }
}

pub const EPOCH: &str = "epoch";
pub const NEXT_SEQ: &str = "next_seq";
pub const ACKED_THROUGH: &str = "acked_through";
pub const OUTBOX_LEN: &str = "outbox_len";
pub const REFUSED_TOTAL: &str = "refused_total";
pub const DROPPED_TOTAL: &str = "dropped_total";
pub const CONFLICTS_REPORTED: &str = "conflicts_reported";
pub const REJECTED_REPORTED: &str = "rejected_reported";
pub const AUDIT_HEAD: &str = "audit_head";
/// `meta` key: `IncidentState.seq` of the last hub incident state recorded (u64 BE), named in
/// the next hello.
pub const HUB_STATES_AFTER: &str = "hub_states_after";
/// `meta` key: `RunbookVersion.seq` of the last hub runbook version recorded (u64 BE), named
/// in the next hello.
pub const HUB_RUNBOOKS_AFTER: &str = "hub_runbooks_after";
/// `meta` key of where the audit chain's keyed sealing began (`socfed_runtime::audit::KeyedFrom`,
/// authenticated with the audit key; written at the first open with a key).
pub const AUDIT_KEYED_FROM: &str = "audit_keyed_from";
/// `meta` key, present (empty) when `requests` holds records keyed by the id alone (a store
/// upgraded to schema 5 with records in it).
pub const LEGACY_REQUEST_KEYS: &str = "legacy_request_keys";
/// `meta` key of the store's schema version (u32 BE).
pub const SCHEMA_VERSION_KEY: &str = "schema_version";
/// `meta` key of the SLA policy (JSON) the in-memory SLA agenda was last built for.
pub const SLA_POLICY: &str = "sla_policy";
/// `meta` key of the sample journal's end after the last unit that appended to it (u64 BE):
/// the floor of the journal's next open (`samples.rs`).
pub const SAMPLES_END: &str = "samples_end";
/// `meta` key prefix of the intake counters.
pub const INTAKE_PREFIX: &str = "intake/";
/// The intake counters under [`INTAKE_PREFIX`], in the order `intake_counts` returns them.
pub const INTAKE_COUNTERS: [&str; 5] = [
    "accepted",
    "aggregated",
    "duplicates",
    "rejected",
    "skipped",
];

/// `meta` key of one intake counter (`intake/accepted`, ...).
pub fn intake_key(counter: &str) -> String {
    format!("{INTAKE_PREFIX}{counter}")
}

/// `settings` key prefix of the round-robin cursors, one per tier.
pub const ROUND_ROBIN_PREFIX: &str = "rr/";
/// `settings` key of the "unassigned" notification's mute (replaces
/// `notify/unassigned/new-groups`, a bare timestamp that lost the count of what it muted).
pub const UNASSIGNED_MUTE: &str = "notify/unassigned/mute";
/// `settings` key prefix of the process group of a directive's running action.
pub const ACTION_GROUP_PREFIX: &str = "action-group/";
/// `settings` key prefix of the webhook sinks' delivery cursors, one per sink name.
pub const WEBHOOK_CURSOR_PREFIX: &str = "webhook-cursor/";

/// `settings` key of webhook sink `sink`'s delivery cursor.
pub fn webhook_cursor_key(sink: &str) -> Vec<u8> {
    format!("{WEBHOOK_CURSOR_PREFIX}{sink}").into_bytes()
}

/// `settings` key of the round-robin cursor of `tier` (its number, 1 to 4).
pub fn round_robin_key(tier: u8) -> Vec<u8> {
    format!("{ROUND_ROBIN_PREFIX}{tier}").into_bytes()
}

/// `settings` key of the process group of directive `id`'s running action.
pub fn action_group_key(id: ulid::Ulid) -> Vec<u8> {
    format!("{ACTION_GROUP_PREFIX}{id}").into_bytes()
}

/// Status bytes of the triage queue's keys (`agenda.rs`; schema 5's `idx_queue`).
pub const QUEUE_NEW: u8 = 0;
pub const QUEUE_ACKNOWLEDGED: u8 = 1;
pub const QUEUE_CLOSED: u8 = 2;
pub const QUEUE_PROMOTED: u8 = 3;

/// The status byte of a group's queue key.
pub fn queue_status(status: &crate::soc::triage::Status) -> u8 {
    queue_kind(status.kind())
}

/// The status byte of queue keys for groups of this status.
pub fn queue_kind(kind: crate::soc::triage::StatusKind) -> u8 {
    use crate::soc::triage::StatusKind;
    match kind {
        StatusKind::New => QUEUE_NEW,
        StatusKind::Acknowledged => QUEUE_ACKNOWLEDGED,
        StatusKind::Closed => QUEUE_CLOSED,
        StatusKind::Promoted => QUEUE_PROMOTED,
    }
}

/// `name ++ 0x00`: the prefix of every `idx_assignee` or `idx_indicator` key of `name`.
pub fn name_prefix(name: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(name.len() + 1);
    prefix.extend_from_slice(name.as_bytes());
    prefix.push(0);
    prefix
}

/// What the hub last said of one of this site's escalated local incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubState {
    pub state: socfed_proto::vocab::IncidentState,
    /// When this site recorded it.
    pub received_at_ms: UnixMillis,
}

/// The answer given to a caller's request id, replayed if the caller retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub local_incident_id: String,
    pub seq: u64,
    pub at_ms: UnixMillis,
}

/// Schema 1's tree of the latest group per fingerprint, dropped by the upgrade to 2.
pub const LEGACY_GROUP_FP: &str = "group_fp";
/// Schema 5's triage queue and SLA agenda trees, dropped by the upgrade to 6 (kept in memory
/// since, `agenda.rs`); a schema 5 dump still holds them (empty values).
pub const LEGACY_INDEX_TREES: [&str; 2] = ["idx_queue", "sla_due"];

/// `fingerprint ++ last seen ms ++ group`: a `group_span` key.
pub fn span_key(fingerprint: &[u8; 32], last_seen_ms: UnixMillis, group: ulid::Ulid) -> Vec<u8> {
    let mut key = Vec::with_capacity(56);
    key.extend_from_slice(fingerprint);
    key.extend_from_slice(&time_key(last_seen_ms, group));
    key
}

/// `received ms ++ source event id`: a `seen_by_time` key.
pub fn seen_key(received_ms: UnixMillis, source_id: &[u8; 32]) -> Vec<u8> {
    let mut key = Vec::with_capacity(40);
    key.extend_from_slice(&(received_ms.max(0) as u64).to_be_bytes());
    key.extend_from_slice(source_id);
    key
}

/// The last audit entry: sequence and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    pub seq: u64,
    pub hash: [u8; 32],
}

/// `tree`'s record codec (`store_kit`): `[version byte] ++ postcard`.
pub fn encode<T: Serialize>(tree: TreeId, value: &T) -> Result<Vec<u8>, CodecError> {
    tree.codec().encode(value)
}

pub fn decode<T: DeserializeOwned>(tree: TreeId, bytes: &[u8]) -> Result<T, CodecError> {
    tree.codec().decode(bytes)
}

/// A `groups` value of version 2 or 1 (before schema 8, the raw sample inside); whether it
/// was version 1. A version 1 body is a version 2 body without the trailing
/// `Option<SampleRef>`: postcard writes `None` as one 0 byte, so it is decoded with one added.
pub fn decode_group_any(bytes: &[u8]) -> Result<(crate::soc::group::AlertGroup, bool), CodecError> {
    let codec = TreeId::Groups.codec();
    match codec.split(bytes)? {
        (2, body) => Ok((codec.body(body)?, false)),
        (1, body) => {
            let mut body = body.to_vec();
            body.push(0);
            Ok((codec.body(&body)?, true))
        }
        (found, _) => Err(codec.unknown(found)),
    }
}

pub fn u64_of(tree: TreeId, bytes: &[u8]) -> Result<u64, CodecError> {
    codec::u64_be(tree.name(), bytes)
}

pub fn u32_of(tree: TreeId, bytes: &[u8]) -> Result<u32, CodecError> {
    codec::u32_be(tree.name(), bytes)
}

pub fn ulid_of(tree: TreeId, bytes: &[u8]) -> Result<ulid::Ulid, CodecError> {
    codec::fixed::<16>(tree.name(), bytes).map(ulid::Ulid::from_bytes)
}

/// A key that is text (a local incident id), checked to be UTF-8.
pub fn text_of(tree: TreeId, bytes: &[u8]) -> Result<String, CodecError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| CodecError::Malformed {
        tree: tree.name(),
        detail: "key is not UTF-8 text".into(),
    })
}

/// `caller ++ 0x00 ++ request id`: a `requests` key (caller names hold no 0x00).
pub fn request_key(caller: &str, id: &str) -> Vec<u8> {
    let mut key = name_prefix(caller);
    key.extend_from_slice(id.as_bytes());
    key
}

/// `name ++ 0x00 ++ ulid`: an `idx_assignee` or `idx_indicator` key.
pub fn named_key(name: &str, id: ulid::Ulid) -> Vec<u8> {
    let mut key = name_prefix(name);
    key.extend_from_slice(&id.to_bytes());
    key
}

/// `u64 BE ++ ulid`
pub fn time_key(ms: i64, id: ulid::Ulid) -> Vec<u8> {
    let mut key = Vec::with_capacity(24);
    key.extend_from_slice(&(ms.max(0) as u64).to_be_bytes());
    key.extend_from_slice(&id.to_bytes());
    key
}

/// The group ids packed in an `idx_indicator` value (16 bytes each).
pub fn packed_ulids(tree: TreeId, value: &[u8]) -> Result<Vec<ulid::Ulid>, CodecError> {
    if !value.len().is_multiple_of(16) {
        return Err(CodecError::Malformed {
            tree: tree.name(),
            detail: format!("{} bytes are not whole ids", value.len()),
        });
    }
    value.chunks(16).map(|id| ulid_of(tree, id)).collect()
}

/// The last 16 bytes of an index key: the group id.
pub fn trailing_ulid(tree: TreeId, key: &[u8]) -> Result<ulid::Ulid, CodecError> {
    let start = key
        .len()
        .checked_sub(16)
        .ok_or_else(|| CodecError::Malformed {
            tree: tree.name(),
            detail: "index key shorter than an id".into(),
        })?;
    ulid_of(tree, &key[start..])
}

/// The shape of a key of `tree`, for the layout snapshot (`store_kit::layout`): every
/// layout above, part by part.
pub fn key_shape(tree: TreeId, key: &[u8]) -> Result<String, String> {
    let shape = KeyShape::new(key);
    match tree {
        TreeId::Requests => shape.text_nul().text(),
        TreeId::Meta
        | TreeId::Roster
        | TreeId::Settings
        | TreeId::Incidents
        | TreeId::HubIncidents
        | TreeId::IdxRevisionPending => shape.text(),
        TreeId::Outbox => shape.u64("last seq"),
        TreeId::Audit => shape.u64("seq"),
        TreeId::Groups
        | TreeId::Notifications
        | TreeId::Directives
        | TreeId::ApiTokens
        | TreeId::Runbooks => shape.ulid(),
        TreeId::RunbookVersions => shape.ulid().opaque(4),
        TreeId::RunbookProgress => shape.text_nul().ulid(),
        TreeId::GroupSpan => shape.opaque(32).ms().ulid(),
        TreeId::SeenEvents => shape.opaque(32),
        TreeId::SeenByTime => shape.ms().opaque(32),
        TreeId::IdxAssignee | TreeId::IdxIndicator | TreeId::IncidentNotes => {
            shape.text_nul().ulid()
        }
        TreeId::WebSessions => shape.byte("kind").opaque(32),
        TreeId::IdxSearch => shape.byte("field").text_nul().ulid(),
    }
    .finish()
}
