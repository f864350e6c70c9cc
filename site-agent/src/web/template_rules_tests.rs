//! Every SOC console template keeps the rules of socfed's web templates
//! (`socfed_runtime::web::template_rules`, shared with the hub's dashboard), read from
//! `templates/` itself: a new template is checked without being listed here.

use socfed_runtime::web::template_rules::{problems, templates};
use std::path::Path;

#[test]
fn templates_keep_the_csp_escape_everything_and_label_every_control() {
    let all = templates(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
        .expect("the templates folder");
    assert!(all.len() >= 11, "{all:?}");
    let found = problems(
        &all,
        &[
            "queue_rows.html",
            "incident_casework.html",
            "runbooks.html",
            "runbook_span.html",
        ],
    );
    assert!(found.is_empty(), "{found:#?}");
}
