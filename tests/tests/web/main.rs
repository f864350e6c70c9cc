//! The web surfaces: the hub's dashboard and its HTTP/JSON API, a site's SOC console (pages,
//! sessions, a real browser).
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod api_enrolment;
mod api_events;
mod api_incident_search;
mod api_incidents;
mod api_runbooks;
mod api_token_crl;
mod api_tokens;
mod chromium;
mod console;
mod console_browser;
mod console_casework;
mod console_casework_browser;
mod console_directives;
mod console_refusals;
mod console_runbook_browser;
mod console_runbooks;
mod console_search;
mod dashboard;
mod dashboard_actions;
mod dashboard_browser;
mod dashboard_comms;
mod dashboard_enrolment;
mod dashboard_export;
mod dashboard_hunt_library;
mod dashboard_hunts;
mod dashboard_observables;
mod dashboard_observables_browser;
mod dashboard_oversight;
mod dashboard_pages;
mod dashboard_runbooks;
mod dashboard_sessions;
mod dashboard_workbench;
mod workbench_browser;
