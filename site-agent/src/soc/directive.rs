//! What the agent records of each directive from the hub ([`DirectiveRecord`], with its
//! sweep [`Hit`]s) and of a running action's process group ([`ActionGroup`]): plain data the
//! store persists (`directives` tree, `settings` `action-group/` keys). Deciding, running and
//! reporting directives is `crate::response`; ending a process group is
//! `crate::response::groups`.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use std::collections::BTreeMap;
use ulid::Ulid;

/// The agent's directive states are the federation's (it never uses `Queued`).
pub use socfed_proto::vocab::DirectiveState as State;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub indicator: String,
    pub group: Ulid,
    pub title: String,
    pub alert_count: u64,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    pub local_incident_id: String,
}

/// Everything the agent knows about one directive. Stored under its id in `directives`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectiveRecord {
    pub id: Ulid,
    pub incident_id: String,
    pub kind: String,
    pub params: BTreeMap<String, String>,
    pub issued_at_ms: UnixMillis,
    pub expires_at_ms: UnixMillis,
    pub issued_by: String,
    pub received_at_ms: UnixMillis,
    pub state: State,
    pub detail: String,
    pub exit_code: Option<i32>,
    pub output: String,
    /// Who at the site acted last (approval, task work).
    pub actor: String,
    pub updated_at_ms: UnixMillis,
    pub hits: Vec<Hit>,
    /// A sweep watches new alerts until then (0 = not watching).
    pub watch_until_ms: UnixMillis,
}

impl DirectiveRecord {
    /// A directive as it arrives, before anything is decided about it.
    pub fn received(d: &pb::Directive, id: Ulid, now: UnixMillis) -> Self {
        Self {
            id,
            incident_id: d.incident_id.clone(),
            kind: d.kind.clone(),
            params: d
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            issued_at_ms: d.issued_at_ms,
            expires_at_ms: d.expires_at_ms,
            issued_by: d.issued_by.clone(),
            received_at_ms: now,
            state: State::Received,
            detail: String::new(),
            exit_code: None,
            output: String::new(),
            actor: String::new(),
            updated_at_ms: now,
            hits: Vec::new(),
            watch_until_ms: 0,
        }
    }

    pub fn set(&mut self, state: State, detail: impl Into<String>, now: UnixMillis) {
        self.state = state;
        self.detail = detail.into();
        self.updated_at_ms = now;
    }

    pub fn to_update(&self) -> pb::DirectiveUpdate {
        pb::DirectiveUpdate {
            directive_id: self.id.to_string(),
            state: self.state.to_wire() as i32,
            detail: self.detail.clone(),
            exit_code: self.exit_code,
            output: self.output.clone(),
            at_ms: self.updated_at_ms,
            actor: self.actor.clone(),
            hits: self
                .hits
                .iter()
                .map(|h| pb::HuntHit {
                    indicator: h.indicator.clone(),
                    group_id: h.group.to_string(),
                    title: h.title.clone(),
                    alert_count: h.alert_count,
                    first_seen_ms: h.first_seen_ms,
                    last_seen_ms: h.last_seen_ms,
                    local_incident_id: h.local_incident_id.clone(),
                })
                .collect(),
        }
    }

    /// The task title, for `task` directives.
    pub fn title(&self) -> &str {
        self.params.get("title").map_or("", String::as_str)
    }
}

/// A running action's process group, as recorded in the store (see `response::groups` for why
/// and how it is ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionGroup {
    pub pgid: i32,
    /// The leader's start time, in clock ticks since boot (`/proc/PID/stat` field 22).
    pub leader_start: u64,
    /// When the machine booted, in Unix milliseconds, as seen at spawn.
    pub boot_ms: i64,
}
