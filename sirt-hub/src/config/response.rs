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
}

impl Default for ResponseConfig {
    fn default() -> Self {
        Self {
            directive_retention: DEFAULT_RETENTION,
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
        Ok(())
    }
}
