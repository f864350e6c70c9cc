//! The web surfaces: the hub's dashboard and a site's SOC console (pages, sessions, a real
//! browser).
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod browser;
mod console;
mod console_browser;
mod console_directives;
mod dashboard;
mod dashboard_actions;
mod dashboard_browser;
mod dashboard_pages;
mod dashboard_sessions;
