//! Hub and sites over real mTLS: delivery exactly once, correlation, the protocol's edges, incident states both ways, stream takeover, large values, floods.
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod batches;
mod correlation;
mod delivery;
mod directive_restarts;
mod enrolment;
mod flood;
mod hub_domain;
mod hub_lifecycle;
mod incident_search;
mod large_values;
mod listing_index;
mod nesting;
mod outbox;
mod protocol_edges;
mod raise_batch;
mod replay;
mod replicas;
mod roster;
mod runbooks;
mod status_both_ways;
mod takeover;
