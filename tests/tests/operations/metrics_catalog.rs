//! The metric catalogue (`socfed_runtime::metric_catalog`) is complete: every metric the sources
//! record is listed there (so it gets `# HELP` and, for a histogram, its buckets), and every
//! listed metric is in the table of docs/ARCHITECTURE.md. The live exposition is checked in
//! `admin.rs`.

use socfed_runtime::metric_catalog::{METRICS, find};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The names recorded through `counter!`, `gauge!` and `histogram!` in `text`.
fn recorded(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for mac in ["counter!(", "gauge!(", "histogram!("] {
        for (at, _) in text.match_indices(mac) {
            let rest = text[at + mac.len()..].trim_start();
            if let Some(literal) = rest.strip_prefix('"')
                && let Some(end) = literal.find('"')
            {
                names.push(literal[..end].to_string());
            }
        }
    }
    names
}

#[test]
fn every_recorded_metric_is_in_the_catalogue() -> anyhow::Result<()> {
    let mut files = Vec::new();
    for dir in ["proto/src", "site-agent/src", "sirt-hub/src"] {
        rust_files(&root().join(dir), &mut files)?;
    }
    let mut seen = 0;
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        for name in recorded(&text) {
            seen += 1;
            assert!(
                find(&name).is_some(),
                "{} records {name}, which the metric catalogue does not list",
                file.display()
            );
        }
    }
    assert!(
        seen > 20,
        "found only {seen} recorded metrics: is the scan broken?"
    );
    Ok(())
}

#[test]
fn every_catalogued_metric_is_documented() -> anyhow::Result<()> {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md"))?;
    for metric in METRICS {
        assert!(
            doc.contains(&format!("`{}", metric.name)),
            "docs/ARCHITECTURE.md does not list {}",
            metric.name
        );
    }
    assert!(
        !doc.contains("| summary |"),
        "latencies are histograms, not summaries"
    );
    Ok(())
}
