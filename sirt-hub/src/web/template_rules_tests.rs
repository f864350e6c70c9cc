//! Every dashboard template keeps the rules of socfed's web templates
//! (`socfed_runtime::web::template_rules`), read from `templates/` itself: a new template is
//! checked without being listed here.

use socfed_runtime::web::template_rules::{problems, templates};
use std::path::Path;

#[test]
fn templates_keep_the_csp_escape_everything_and_label_every_control() {
    let all = templates(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
        .expect("the templates folder");
    assert!(all.len() >= 9, "{all:?}");
    // Fragments served alone for the live refresh, and the macros.
    let partials = [
        "macros.html",
        "board_rows.html",
        "rows.html",
        "state_line.html",
        "incident_export.html",
        "observables.html",
        "incident_notes.html",
        "runbooks_matched.html",
        "runbook_span.html",
        // Sections included whole in a page.
        "hunt_library.html",
    ];
    let found = problems(&all, &partials);
    assert!(found.is_empty(), "{found:#?}");
}
