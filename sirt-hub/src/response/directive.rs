//! One directive to one site: what it asks, and what the site reported about it.
//!
//! A site's updates only move a directive forward (by [`DirectiveState::rank`]): updates can
//! arrive twice or late after a reconnect, and an older one must never undo a newer one.

use super::{MAX_HITS, MAX_OUTPUT_BYTES, MAX_PARAM_VALUE_BYTES, MAX_PARAMS, ResponseError};
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use std::collections::BTreeMap;
use ulid::Ulid;

pub use socfed_proto::vocab::DirectiveState;
pub use socfed_proto::vocab::directive::{AGENT_KINDS, KIND_RELINKED, KIND_SWEEP, KIND_TASK};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntHit {
    pub indicator: String,
    pub group_id: String,
    pub title: String,
    pub alert_count: u64,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    pub local_incident_id: String,
}

/// Work for a site's analysts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub title: String,
    pub details: String,
    /// 0 = no due time.
    pub due_ms: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectiveRecord {
    pub id: Ulid,
    pub site: SiteId,
    pub incident: Option<Ulid>,
    pub hunt: Option<Ulid>,
    pub kind: String,
    pub params: BTreeMap<String, String>,
    pub issued_at_ms: UnixMillis,
    /// 0 = never expires.
    pub expires_at_ms: UnixMillis,
    pub issued_by: String,
    pub task: Option<TaskSpec>,
    pub state: DirectiveState,
    pub detail: String,
    pub exit_code: Option<i32>,
    pub output: String,
    pub actor: String,
    pub updated_at_ms: UnixMillis,
    pub hits: Vec<HuntHit>,
}

/// What a site reported, after wire decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteReport {
    pub state: DirectiveState,
    pub detail: String,
    pub exit_code: Option<i32>,
    pub output: String,
    pub actor: String,
    pub hits: Vec<HuntHit>,
}

impl DirectiveRecord {
    /// A new directive for `site`, held by the hub until the site confirms it. Callers set
    /// the incident, parameters, expiry or task with struct update syntax.
    pub fn queued(site: &SiteId, kind: &str, issued_by: &str, now: UnixMillis) -> Self {
        Self {
            id: Ulid::new(),
            site: site.clone(),
            incident: None,
            hunt: None,
            kind: kind.to_string(),
            params: BTreeMap::new(),
            issued_at_ms: now,
            expires_at_ms: 0,
            issued_by: issued_by.to_string(),
            task: None,
            state: DirectiveState::Queued,
            detail: String::new(),
            exit_code: None,
            output: String::new(),
            actor: String::new(),
            updated_at_ms: now,
            hits: Vec::new(),
        }
    }

    /// Expired before the site ever confirmed it: it will not be sent or run.
    pub fn expired_unsent(&self, now: UnixMillis) -> bool {
        self.state == DirectiveState::Queued && self.expires_at_ms > 0 && now > self.expires_at_ms
    }

    /// The state to show: a queued directive past its expiry shows as expired.
    pub fn effective_state(&self, now: UnixMillis) -> DirectiveState {
        if self.expired_unsent(now) {
            DirectiveState::Expired
        } else {
            self.state
        }
    }

    /// Sent on every (re)connect until the site reports a final state, expired or not: a site
    /// that never saw it records it as expired without running it, and a site that did may hold
    /// a result the hub has not heard yet.
    pub fn needs_sending(&self) -> bool {
        !self.state.is_final()
    }

    pub fn overdue(&self, now: UnixMillis) -> bool {
        self.task
            .as_ref()
            .is_some_and(|t| t.due_ms > 0 && now > t.due_ms && !self.state.is_final())
    }

    /// Applies a site's report if it moves the directive forward; returns whether it changed.
    /// A final state is never left; hits are cumulative, so a later report replaces them.
    pub fn apply(&mut self, report: SiteReport, now: UnixMillis) -> bool {
        if self.state.is_final() || report.state.rank() < self.state.rank() {
            return false;
        }
        if report.state == DirectiveState::Queued {
            return false;
        }
        let mut hits = report.hits;
        hits.truncate(MAX_HITS);
        let mut output = report.output;
        truncate_utf8(&mut output, MAX_OUTPUT_BYTES);
        let changed = self.state != report.state
            || self.detail != report.detail
            || self.hits != hits
            || self.exit_code != report.exit_code;
        if changed {
            self.state = report.state;
            self.detail = report.detail;
            self.exit_code = report.exit_code;
            self.output = output;
            if !report.actor.is_empty() {
                self.actor = report.actor;
            }
            self.hits = hits;
            self.updated_at_ms = now;
        }
        changed
    }

    /// One line for the incident timeline.
    pub fn summary(&self) -> String {
        let what = match &self.task {
            Some(task) => format!("task {:?}", task.title),
            None => format!("directive {}", self.kind),
        };
        let mut line = format!("{what} at {}: {}", self.site, self.state);
        if let Some(code) = self.exit_code {
            line.push_str(&format!(" (exit {code})"));
        }
        if !self.hits.is_empty() {
            line.push_str(&format!(", {}", plural(self.hits.len(), "hit", "hits")));
        }
        if !self.detail.is_empty() {
            line.push_str(": ");
            line.push_str(&self.detail.chars().take(200).collect::<String>());
        }
        line
    }
}

fn truncate_utf8(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
}

fn valid_word(word: &str, max: usize) -> bool {
    !word.is_empty()
        && word.len() <= max
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks an operator-chosen directive kind.
pub fn validate_kind(kind: &str) -> Result<(), ResponseError> {
    if !valid_word(kind, 48) {
        return Err(ResponseError::Kind(kind.to_string()));
    }
    if AGENT_KINDS.contains(&kind) {
        return Err(ResponseError::ReservedKind(kind.to_string()));
    }
    Ok(())
}

/// Parameters fill argument templates at the site, so they are plain, bounded text. A value
/// starting with `-` is refused: substituted into a command line it could become an option.
pub fn validate_params(params: &BTreeMap<String, String>) -> Result<(), ResponseError> {
    if params.len() > MAX_PARAMS {
        return Err(ResponseError::TooManyParams);
    }
    for (name, value) in params {
        let bad = |why: &str| ResponseError::Param(name.clone(), why.to_string());
        if !valid_word(name, 32) {
            return Err(bad("names use 1-32 characters from a-z, 0-9 and _"));
        }
        if value.len() > MAX_PARAM_VALUE_BYTES {
            return Err(bad("value longer than 1024 bytes"));
        }
        if value.chars().any(char::is_control) {
            return Err(bad("value contains control characters"));
        }
        if value.starts_with('-') {
            return Err(bad(
                "value starts with '-', which a command could read as an option",
            ));
        }
    }
    Ok(())
}

pub use socfed_runtime::terminal::plural;
