//! The local SOC at a site: intake of every format, aggregation, triage and the SLA ladder.
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod agent_api;
mod agent_api_intake;
mod agent_api_origin;
mod alert_search;
mod ingest_cli;
mod ingest_feed;
mod ingest_replay;
mod intake_window;
mod local_soc;
mod soc_ladder;
mod webhooks;
