//! Imports of shared intelligence into typed indicators (pure): [`stix_bundle`] reads a STIX
//! 2.1 bundle's `indicator` (and `vulnerability`) objects, [`misp_event`] a MISP event's
//! attributes. Both answer an [`IocSet`]: what was taken, and every object that was not,
//! with the reason. A whole file is refused only when it is not one of these formats or is
//! over its bounds ([`ImportLimits`]).

mod misp;
mod stix;

use super::{IocSet, Refusal, clean_text};

/// Bounds on one imported file.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    pub max_bytes: usize,
    /// STIX objects in the bundle, or MISP attributes (objects' attributes included).
    pub max_objects: usize,
    /// Characters of one STIX pattern.
    pub max_pattern_chars: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_objects: 20_000,
            max_pattern_chars: 4096,
        }
    }
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is {got} bytes; at most {max} are accepted")]
    TooLarge { got: usize, max: usize },
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("not a {format}: {problem}")]
    NotTheFormat {
        format: &'static str,
        problem: String,
    },
    #[error("the file holds {got} objects; at most {max} are accepted")]
    TooManyObjects { got: usize, max: usize },
}

/// Reads a STIX 2.1 bundle with the default limits.
pub fn stix_bundle(data: &[u8]) -> Result<IocSet, ImportError> {
    stix::bundle(data, &ImportLimits::default())
}

/// Reads a STIX 2.1 bundle within `limits`.
pub fn stix_bundle_within(data: &[u8], limits: &ImportLimits) -> Result<IocSet, ImportError> {
    stix::bundle(data, limits)
}

/// Reads a MISP event (`{"Event": {...}}` or the bare event) with the default limits.
pub fn misp_event(data: &[u8]) -> Result<IocSet, ImportError> {
    misp::event(data, &ImportLimits::default())
}

/// Reads a MISP event within `limits`.
pub fn misp_event_within(data: &[u8], limits: &ImportLimits) -> Result<IocSet, ImportError> {
    misp::event(data, limits)
}

/// The JSON of a file within its byte bound. serde_json bounds nesting itself (128 levels).
fn parse(data: &[u8], limits: &ImportLimits) -> Result<serde_json::Value, ImportError> {
    if data.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            got: data.len(),
            max: limits.max_bytes,
        });
    }
    serde_json::from_slice(data).map_err(|e| ImportError::NotJson(e.to_string()))
}

/// A refusal of `object` (cleaned: it came from the file).
fn refusal(object: &str, reason: impl Into<String>) -> Refusal {
    Refusal {
        object: clean_text(object, 120, false),
        reason: clean_text(&reason.into(), 400, false),
    }
}

/// A string field of a JSON object, or "".
fn text<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(serde_json::Value::as_str).unwrap_or("")
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
