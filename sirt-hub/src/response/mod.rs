//! The coordinated response, as pure logic: directives addressed to sites and how their state
//! advances ([`directive`]), threat hunts and their per-site progress ([`hunt`]), and what an
//! operator orders turned into those records under the hub's expiry and lookback policy
//! ([`order`]), and which finished directives a prune pass removes ([`retention`]).
//!
//! No I/O: the store persists these records, the federation stream carries them, and the
//! clock is passed in.

pub mod directive;
pub mod hunt;
pub mod order;
pub mod retention;

#[cfg(test)]
mod order_tests;
#[cfg(test)]
mod retention_tests;
#[cfg(test)]
mod tests;

pub use directive::{DirectiveRecord, DirectiveState, HuntHit, TaskSpec};
pub use hunt::{HuntRecord, SiteProgress};

/// Why the hub refuses to issue something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error(
        "directive kind {0:?} is not valid: use 1-48 characters from a-z, 0-9 and _ (for example block_indicator)"
    )]
    Kind(String),
    #[error(
        "directive kind {0:?} is issued by the hub itself; use `hunt start` for sweeps and `incidents task` for tasks"
    )]
    ReservedKind(String),
    #[error("parameter {0:?}: {1}")]
    Param(String, String),
    #[error("at most {MAX_PARAMS} parameters per directive")]
    TooManyParams,
    #[error(
        "site {0:?} is not enrolled at this hub; `sirt-hub sites list` lists the enrolled sites"
    )]
    UnknownSite(String),
    #[error("{0}")]
    Invalid(String),
}

pub const MAX_PARAMS: usize = 32;
pub const MAX_PARAM_VALUE_BYTES: usize = 1024;
/// Hits kept per directive; a hunt that matches more is summarised by its count.
pub const MAX_HITS: usize = 1000;
/// Output kept per directive (the agent sends a tail already; this bounds a hostile one).
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024;
