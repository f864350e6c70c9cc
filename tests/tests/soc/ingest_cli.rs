//! `site-agent ingest` end to end: the real CLI streams each generated fixture file
//! (`site-agent/tests/fixtures/`, see `generate.py`) to a real agent process, and the summary
//! must match `expected.json` exactly, including the aggregation counts that the generator
//! computes independently of the Rust code (new groups vs. repeats folded into them).
//!
//! One agent takes all four files: the format is part of the aggregation fingerprint, so
//! alerts of different files can never fold together. The oversized native line (~66 KB)
//! passes the CLI's own 1 MiB pre-check and must be rejected by the agent, which is
//! configured with the same `max_line_bytes` as the parser test.

use serde_json::Value;
use socfed_runtime::tls::TlsFiles;
use socfed_tests::fixture::Org;
use socfed_tests::intake::describe;
use socfed_tests::pki::TestPki;
use socfed_tests::procs::{Proc, binary};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../site-agent/tests/fixtures")
}

fn expected() -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(fixtures().join("expected.json"))?;
    Ok(serde_json::from_str(&text)?)
}

/// The expectations of one fixture file.
struct Want {
    name: String,
    format: String,
    lines: u64,
    accepted: u64,
    aggregated: u64,
    rejected: u64,
    skipped: u64,
    rejected_lines: Vec<u64>,
    /// (line, the field its rejection reason must start with)
    rejected_fields: Vec<(u64, String)>,
}

fn number(value: &Value, key: &str, name: &str) -> anyhow::Result<u64> {
    value[key]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("expected.json: {name}: {key} is not a number"))
}

fn wants(expected: &Value) -> anyhow::Result<Vec<Want>> {
    let files = expected["files"]
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("expected.json: no files"))?;
    let mut wants = Vec::new();
    for (name, file) in files {
        let rejected_lines = file["rejected_lines"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("expected.json: {name}: no rejected_lines"))?
            .iter()
            .map(|n| n.as_u64().ok_or_else(|| anyhow::anyhow!("{name}: {n}")))
            .collect::<anyhow::Result<Vec<u64>>>()?;
        let mut rejected_fields = Vec::new();
        for line in &rejected_lines {
            let field = file["rejected_fields"][line.to_string()]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("expected.json: {name}: no field for {line}"))?;
            rejected_fields.push((*line, field.to_string()));
        }
        wants.push(Want {
            name: name.clone(),
            format: file["format"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("expected.json: {name}: no format"))?
                .to_string(),
            lines: number(file, "lines", name)?,
            accepted: number(file, "accepted", name)?,
            aggregated: number(file, "aggregated", name)?,
            rejected: number(file, "rejected", name)?,
            skipped: number(file, "skipped", name)?,
            rejected_lines,
            rejected_fields,
        });
    }
    assert_eq!(wants.len(), 4, "one fixture file per format");
    Ok(wants)
}

/// A real agent process (see `socfed_tests::intake::start_agent`) with the fixtures' line
/// limit and aggregation window.
async fn start_agent(
    dir: &Path,
    pki: &TestPki,
    operator: &TlsFiles,
    expected: &Value,
) -> anyhow::Result<(Proc, SocketAddr)> {
    let max_line_bytes = number(expected, "max_line_bytes", "top level")?;
    let window_ms = number(expected, "aggregation_window_ms", "top level")?;
    let extra =
        format!("max_line_bytes = {max_line_bytes}\naggregation_window = \"{window_ms}ms\"\n");
    socfed_tests::intake::start_agent(dir, pki, operator, &extra).await
}

/// Runs `site-agent ingest` as `operator`; `stdin` feeds the file through a pipe to `-`.
fn ingest(
    agent: SocketAddr,
    operator: &TlsFiles,
    want: &Want,
    output: &str,
    stdin: bool,
) -> anyhow::Result<Output> {
    let path = fixtures().join(&want.name);
    let file_arg = if stdin {
        "-".to_string()
    } else {
        path.display().to_string()
    };
    let mut child = Command::new(binary("site-agent")?)
        .args([
            "ingest",
            &file_arg,
            "--format",
            &want.format,
            "--agent",
            &agent.to_string(),
            "--output",
            output,
        ])
        .env("SOCFED_CA", &operator.ca)
        .env("SOCFED_CERT", &operator.cert)
        .env("SOCFED_KEY", &operator.key)
        .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Written from another thread so that a full stdout pipe cannot deadlock the feeding.
    let feeder = child.stdin.take().map(|mut pipe| {
        let bytes = std::fs::read(&path);
        std::thread::spawn(move || -> std::io::Result<()> {
            pipe.write_all(&bytes?)?;
            Ok(())
        })
    });
    let out = child.wait_with_output()?;
    if let Some(feeder) = feeder {
        feeder
            .join()
            .map_err(|_| anyhow::anyhow!("the stdin feeder panicked"))??;
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingesting_each_fixture_reports_the_independently_computed_counts() -> anyhow::Result<()> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let expected = expected()?;
    let max_line_bytes = number(&expected, "max_line_bytes", "top level")?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, &expected).await?;

    for want in wants(&expected)? {
        let name = &want.name;
        let out = ingest(addr, &operator, &want, "json", false)?;
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: some lines are rejected\n{}",
            describe(&out)
        );
        let summary: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| anyhow::anyhow!("{name}: {e}\n{}", describe(&out)))?;
        let got = |key: &str| summary[key].as_u64();
        assert_eq!(
            (
                got("lines"),
                got("accepted"),
                got("aggregated"),
                got("rejected"),
                got("skipped")
            ),
            (
                Some(want.lines),
                Some(want.accepted),
                Some(want.aggregated),
                Some(want.rejected),
                Some(want.skipped)
            ),
            "{name}: (lines, accepted, aggregated, rejected, skipped)\n{}",
            describe(&out)
        );
        let rejections = summary["rejections"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("{name}: no rejections listed"))?;
        let listed: Vec<(u64, String)> = rejections
            .iter()
            .map(|r| {
                (
                    r["line_no"].as_u64().unwrap_or_default(),
                    r["reason"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let listed_lines: Vec<u64> = listed.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed_lines, want.rejected_lines, "{name}: rejected lines");
        for ((line, reason), (_, field)) in listed.iter().zip(&want.rejected_fields) {
            assert!(
                reason.starts_with(&format!("{field}: ")),
                "{name}:{line}: {reason:?} does not name {field}"
            );
            if reason.contains("over the limit") {
                assert!(
                    reason.ends_with(&format!("over the limit of {max_line_bytes} bytes")),
                    "{name}:{line}: the agent's max_line_bytes, not the CLI's, rejects it: {reason}"
                );
            }
        }
        // With JSON output the rejections are in the document; stderr only has the verdict.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "{} of {} lines were rejected",
                want.rejected, want.lines
            )),
            "{name}: {stderr}"
        );
    }
    assert_eq!(agent.terminate()?, Some(0), "{}", agent.log_tail(50));
    Ok(())
}

/// `accepted 1, aggregated 2, duplicates 0, rejected 3, skipped 4 (of 10 lines)` as (lines,
/// accepted, aggregated, rejected, skipped); no fixture line is a duplicate.
fn parse_summary_line(stdout: &str) -> Option<(u64, u64, u64, u64, u64)> {
    let line = stdout.lines().rev().find(|l| l.starts_with("accepted "))?;
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    match numbers.as_slice() {
        [accepted, aggregated, 0, rejected, skipped, lines] => {
            Some((*lines, *accepted, *aggregated, *rejected, *skipped))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_and_table_output_give_the_same_counts_and_list_every_rejected_line()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let expected = expected()?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, &expected).await?;

    for want in wants(&expected)? {
        let name = &want.name;
        // The native file goes through a pipe to `-`; the others by path.
        let stdin = want.format == "native";
        let out = ingest(addr, &operator, &want, "table", stdin)?;
        assert_eq!(out.status.code(), Some(1), "{name}\n{}", describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            parse_summary_line(&stdout),
            Some((
                want.lines,
                want.accepted,
                want.aggregated,
                want.rejected,
                want.skipped
            )),
            "{name} (stdin: {stdin}): (lines, accepted, aggregated, rejected, skipped)\n{}",
            describe(&out)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let listed: BTreeSet<u64> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("line ")?.split_once(':')?.0.parse().ok())
            .collect();
        assert_eq!(
            listed,
            want.rejected_lines
                .iter()
                .copied()
                .collect::<BTreeSet<u64>>(),
            "{name}: `line N:` on stderr for exactly the rejected lines\n{stderr}"
        );
        for (line, field) in &want.rejected_fields {
            assert!(
                stderr.contains(&format!("line {line}: {field}: ")),
                "{name}: line {line} must be rejected naming {field}\n{stderr}"
            );
        }
    }
    assert_eq!(agent.terminate()?, Some(0), "{}", agent.log_tail(50));
    Ok(())
}
