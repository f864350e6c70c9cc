//! The report as one JSON document, with the same sections as the Markdown and HTML ones, for
//! tools that file or forward reports. The marking comes first, as in the other formats.

use super::document::{Report, marking, sections};
use serde_json::{Value, json};

/// `{"marking", "id", "title", "sections": [{"title", "headers", "rows"}]}`; rows are lists of
/// cells in the order of `headers` (the summary's are label and value).
pub fn json(r: &Report) -> Value {
    let sections: Vec<Value> = sections(r)
        .into_iter()
        .map(|s| json!({"title": s.title, "headers": s.headers, "rows": s.rows}))
        .collect();
    json!({
        "marking": marking(&r.incident),
        "id": r.incident.id,
        "title": r.incident.title,
        "sections": sections,
    })
}
