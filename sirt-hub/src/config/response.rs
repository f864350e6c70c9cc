//! `[response]`: how the hub keeps the coordinated response's records.

use crate::response::retention::{DEFAULT_RETENTION, MIN_RETENTION};
use serde::{Deserialize, Serialize};
use socfed_runtime::config::Invalid;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    /// How long a directive is kept after its site reported a final state; then it is pruned
    /// (its incident's timeline and the audit chain keep what they recorded).
    #[serde(with = "humantime_serde")]
    pub directive_retention: Duration,
    /// How long the hub event log keeps an event (`crate::events`).
    #[serde(with = "humantime_serde")]
    pub event_retention: Duration,
    /// The most events the log keeps; the oldest go first.
    pub max_events: u64,
}

/// The event log's defaults: a month, and at most a million events (a few hundred MB at
/// most).
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(30 * 86_400);
pub const DEFAULT_MAX_EVENTS: u64 = 1_000_000;

impl Default for ResponseConfig {
    fn default() -> Self {
        Self {
            directive_retention: DEFAULT_RETENTION,
            event_retention: DEFAULT_EVENT_RETENTION,
            max_events: DEFAULT_MAX_EVENTS,
        }
    }
}

impl ResponseConfig {
    pub fn check(&self) -> Result<(), Invalid> {
        if self.directive_retention < MIN_RETENTION {
            return Err((
                "response.directive_retention",
                format!(
                    "{} is shorter than the minimum of 1 day (e.g. \"90days\")",
                    humantime::format_duration(self.directive_retention)
                ),
            ));
        }
        if self.event_retention < MIN_RETENTION {
            return Err((
                "response.event_retention",
                format!(
                    "{} is shorter than the minimum of 1 day (e.g. \"30days\")",
                    humantime::format_duration(self.event_retention)
                ),
            ));
        }
        if self.max_events == 0 {
            return Err((
                "response.max_events",
                "0 would keep no event to resume from; at least 1".into(),
            ));
        }
        Ok(())
    }
}
