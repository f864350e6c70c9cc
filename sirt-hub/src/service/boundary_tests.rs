//! The layer's boundary, checked on the source: outside `service/` (and the writer and the
//! store themselves), nothing builds a writer `Item`, calls the writer, or matches on one of
//! its untyped outcomes. Tests may drive the store directly and are not scanned.

use std::path::{Path, PathBuf};

/// Directories of `src/` that own the writer's vocabulary.
const OWNERS: [&str; 3] = ["service", "store", "ingest"];

/// Written without whitespace, as the check compares (rustfmt may break a call over lines).
const CALLS: [&str; 2] = ["ingest.call(", "ingest.submit("];

/// Whole words: the writer's untyped items and outcomes (`EscalationOutcome` and the like,
/// handed out inside typed results, are not these).
const WORDS: [&str; 5] = [
    "Item::",
    "Outcome::",
    "ResponseOutcome",
    "TransitionOutcome",
    "WebOutcome",
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sources(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

fn is_test(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "tests.rs" || n.ends_with("_tests.rs"))
        || path.components().any(|c| c.as_os_str() == "tests")
}

/// The file without comments and whitespace.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn whole_word_at(code: &str, word: &str) -> bool {
    code.match_indices(word).any(|(at, _)| {
        !code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn only_the_application_layer_speaks_to_the_writer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files).expect("the crate's sources are readable");
    let mut found = Vec::new();
    let mut scanned = 0;
    for path in files {
        let relative = path.strip_prefix(&src).expect("under src");
        let owner = relative
            .components()
            .next()
            .is_some_and(|c| OWNERS.iter().any(|o| c.as_os_str() == *o));
        if owner || is_test(relative) {
            continue;
        }
        scanned += 1;
        let text = std::fs::read_to_string(&path).expect("readable");
        let code = code(&text);
        for call in CALLS {
            if code.contains(call) {
                found.push(format!("{}: {call}", relative.display()));
            }
        }
        for word in WORDS {
            if whole_word_at(&code, word) {
                found.push(format!("{}: {word}", relative.display()));
            }
        }
    }
    assert!(
        scanned > 50,
        "only {scanned} adapter sources found under {src:?}"
    );
    assert!(
        found.is_empty(),
        "writer items, calls or outcomes outside service/ (add a command there instead): {found:?}"
    );
}

#[test]
fn the_check_sees_what_it_looks_for() {
    let adapter =
        "match self\n    .ingest\n    .call(item) { Ok(Outcome::Web(_)) => {} } // Item::Barrier";
    let code = code(adapter);
    assert!(code.contains(CALLS[0]));
    assert!(whole_word_at(&code, "Outcome::"));
    assert!(!whole_word_at(&code, "Item::"), "comments are not code");
    assert!(!whole_word_at("EscalationOutcome::Duplicate", "Outcome::"));
}
