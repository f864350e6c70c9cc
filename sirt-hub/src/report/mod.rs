//! Incident reports and response KPIs, from what the operator APIs return. Pure: no I/O, no
//! clock; the CLI fetches the incident, its directives and communications, and prints.

mod document;
mod json;
mod kpi;
mod notes;
mod rows;

pub use document::{Report, escape as escape_html, html, markdown, marking};
pub use json::json;
pub use kpi::{Kpi, kpis};
pub use notes::work_log_rows;
pub use rows::{
    clock_rows, communication_rows, directive_rows, sighting_rows, task_rows, timeline_rows,
};
