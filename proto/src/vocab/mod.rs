//! Domain vocabulary shared by every socfed component, and its conversions from wire types.
//!
//! Every conversion from a protobuf type is fallible and names the offending field, so the
//! services can answer `INVALID_ARGUMENT` with a message a human can act on.

pub mod bounds;
pub mod directive;
pub mod fuzzing;
mod incident_state;
mod indicator;
mod report;
pub mod runbook;
mod scalar;
mod site_id;
mod technique;
mod tier;
mod wire_enum;

pub use directive::DirectiveState;
pub use incident_state::{HubPhase, IncidentState, LocalStatus};
pub use indicator::{Indicator, IndicatorKind, wire_text as indicator_text};
pub use report::{IncidentReport, MAX_REPORT_BYTES, ReportLimits};
pub use scalar::{Severity, Tlp};
pub use site_id::SiteId;
pub use technique::Technique;
pub use tier::Tier;
pub use wire_enum::{WireTable, refuse_legacy_word};

/// A value that does not satisfy the federation contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    /// Dotted path of the offending field, e.g. `report.indicators[2].value`.
    pub field: String,
    /// What is wrong and, where useful, what would be accepted.
    pub problem: String,
}

impl InvalidField {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Prefixes the field path, for errors bubbling up from nested values.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}
