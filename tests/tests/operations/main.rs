//! Running it: the demo, the README as written, admin listeners and metrics, packaging and services.
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod admin;
mod architecture;
mod demo;
mod load_tool;
mod metrics_catalog;
mod packaging;
mod readme_real;
mod services;
