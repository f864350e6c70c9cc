//! Coordinated response: directives, playbooks, tasks, hunts and communications, through the gRPC API and the CLIs.
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod comms;
mod directive_pages;
mod hub_notes;
mod hub_webhooks;
mod hunt_events;
mod hunt_library;
mod hunts;
mod intel_export;
mod observables;
mod playbook_safety;
mod response;
mod response_cli;
mod search_alerts;
mod tasks_cli;
