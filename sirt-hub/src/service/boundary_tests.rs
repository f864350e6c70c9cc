//! The layers' boundaries, checked on the source: outside `service/` (and the writer and the
//! store themselves), nothing builds a writer `Item`, calls the writer, or matches on one of
//! its untyped outcomes; and the store names nothing of the crate but records and the types
//! inside them: no transport, no application, no policy. Tests may drive the store directly
//! and are not scanned.

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

/// What `store/` may name of the rest of the crate: the records it persists and the types
/// inside them.
const STORE_MAY_NAME: [&str; 10] = [
    "crate::store",
    "crate::incident",
    "crate::lifecycle",
    "crate::regulatory",
    "crate::comms",
    "crate::response",
    "crate::access::roster",
    "crate::session",
    "crate::observable",
    "crate::hunt_library",
];

/// Rules inside those modules (decisions, not records) and transports the store must not call.
const STORE_MUST_NOT_CALL: [&str; 16] = [
    "lifecycle::apply(",
    "lifecycle::check_lead(",
    "incident::open(",
    "incident::merge(",
    "incident::absorb(",
    "response::order",
    "tonic::",
    "axum::",
    "hyper::",
    "correlate::",
    "observable::sight(",
    "observable::apply(",
    "observable::absorb(",
    "observable::split_off(",
    "hunt_library::run",
    "hunt_library::schedule",
];

/// The code of `text` before its inline test module, if any.
fn product_code(text: &str) -> String {
    let product = text.split("#[cfg(test)]").next().unwrap_or_default();
    code(product)
}

/// The `crate::` paths `code` names (a `crate::{a, b}` group names each).
fn crate_paths(code: &str) -> Vec<String> {
    let is_path = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            for name in inner.split(',') {
                paths.push(format!("crate::{name}"));
            }
        } else {
            let path: String = rest.chars().take_while(|c| is_path(*c)).collect();
            paths.push(format!("crate::{path}"));
        }
    }
    paths
}

fn store_findings(relative: &Path, code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for path in crate_paths(code) {
        let allowed = STORE_MAY_NAME
            .iter()
            .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}::")));
        if !allowed {
            found.push(format!("{}: {path}", relative.display()));
        }
    }
    for call in STORE_MUST_NOT_CALL {
        if code.contains(call) {
            found.push(format!("{}: {call}", relative.display()));
        }
    }
    found
}

#[test]
fn the_store_persists_and_decides_nothing() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join("store"), &mut files).expect("the store's sources are readable");
    let mut found = Vec::new();
    let mut scanned = 0;
    for path in files {
        let relative = path.strip_prefix(&src).expect("under src");
        if is_test(relative) {
            continue;
        }
        scanned += 1;
        let text = std::fs::read_to_string(&path).expect("readable");
        found.extend(store_findings(relative, &product_code(&text)));
    }
    assert!(scanned > 15, "only {scanned} store sources found");
    assert!(
        found.is_empty(),
        "the store names transport, application or policy code (move the rule to \
         `ingest/apply/` or `service/`, and give the store a typed read or write): {found:?}"
    );
}

#[test]
fn the_store_check_sees_what_it_looks_for() {
    let here = Path::new("store/x.rs");
    let ok = product_code("use crate::incident::IncidentRecord; // crate::grpc\nfn f() {}");
    assert_eq!(store_findings(here, &ok), Vec::<String>::new());
    let bad = product_code(
        "use crate::{store, correlate};\nfn f() { crate::lifecycle::apply(x) }\n#[cfg(test)]\nuse crate::web;",
    );
    assert_eq!(
        store_findings(here, &bad),
        vec![
            "store/x.rs: crate::correlate".to_string(),
            "store/x.rs: lifecycle::apply(".to_string(),
        ]
    );
}

/// Every channel the hub makes is bounded: an unbounded one grows with whatever outpaces its
/// reader. (The writer's answers go to slots reserved before submission, `ingest::Reply`.)
#[test]
fn every_channel_is_bounded() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files).expect("read src");
    let unbounded: Vec<String> = files
        .iter()
        .filter(|path| !is_test(path) && !path.ends_with("boundary_tests.rs"))
        .filter(|path| {
            let text = std::fs::read_to_string(path).expect("read source");
            code(&text).contains("unbounded_channel")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(unbounded.is_empty(), "unbounded channels in {unbounded:?}");
}
