//! Directives from the hub, applied at most once each: the durable record of every directive
//! id seen ([`DirectiveRecord`]), the site's playbooks ([`playbook`]), IOC sweeps ([`sweep`]) and
//! the alerts a library hunt's hits raise ([`detect`]),
//! running actions ([`run`]) and the engine that ties them to the store and the uplink
//! ([`engine`]).
//!
//! The guarantee: a directive id is recorded durably before anything happens for it, and an
//! action is marked running durably before it starts. A resent directive is answered with its
//! recorded state, never run again; an action interrupted by a crash is reported as
//! interrupted, never re-run (it may have taken effect).

pub mod detect;
pub mod engine;
pub mod groups;
pub mod interpreters;
pub mod params;
pub mod playbook;
pub mod run;
pub mod sweep;
pub mod updates;

#[cfg(test)]
mod tests;

pub use engine::ResponseEngine;
pub use playbook::{Playbook, ResponseConfig};

/// The records the store keeps of directives are domain data (`soc::directive`).
pub use crate::soc::directive::{DirectiveRecord, Hit, State};
pub use socfed_proto::vocab::directive::{AGENT_KINDS, KIND_RELINKED, KIND_SWEEP, KIND_TASK};
