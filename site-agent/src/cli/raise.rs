//! `site-agent raise --from-file reports.jsonl`: raises many incidents through
//! `SiteLocal.RaiseIncidents`, in batches, with a progress bar for a person at a terminal.
//! Each line is one report as JSON (`title`, `severity`, and optionally `description`, `tlp`,
//! `rule`, `indicators` as `TYPE:VALUE`, `techniques`, `request_id`, `observed_at_ms`). A line
//! without a `request_id` gets one made of the file's content hash and its line number, and
//! batch ids are the hash and the batch's first line: running the same file again, with any
//! `--batch`, is answered from the agent's records and queues nothing twice (batch ids alone
//! would change with the chunking).

use super::client::Conn;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use socfed_proto::pb::{self, site_local_client::SiteLocalClient};
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};
use socfed_runtime::cli::OutputFormat;
use std::io::IsTerminal;
use std::path::PathBuf;

/// The agent's cap on raises per batch (`service::link::MAX_BATCH_RAISES`).
const MAX_BATCH: usize = crate::service::link::MAX_BATCH_RAISES;

#[derive(Debug, Args)]
pub struct RaiseArgs {
    /// JSON lines, one report each.
    #[arg(long)]
    pub from_file: PathBuf,
    /// Raises per `RaiseIncidents` call (at most 500).
    #[arg(long, default_value_t = MAX_BATCH)]
    pub batch: usize,
    #[command(flatten)]
    pub target: Conn,
}

/// One line of the input file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    title: String,
    severity: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tlp: Option<String>,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    indicators: Vec<String>,
    #[serde(default)]
    techniques: Vec<String>,
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    observed_at_ms: i64,
}

/// Parses one line into the wire request; the agent range-checks it again.
fn parse(number: usize, text: &str) -> anyhow::Result<pb::RaiseIncidentRequest> {
    let at = |e: &dyn std::fmt::Display| anyhow::anyhow!("line {number}: {e}");
    let line: Line = serde_json::from_str(text).map_err(|e| at(&e))?;
    let severity: Severity = line.severity.parse().map_err(|e| at(&e))?;
    let tlp: Tlp = line
        .tlp
        .as_deref()
        .unwrap_or("amber")
        .parse()
        .map_err(|e| at(&e))?;
    let indicators = line
        .indicators
        .iter()
        .map(|raw| Indicator::parse_typed(raw).map(|i| i.to_wire()))
        .collect::<Result<_, _>>()
        .map_err(|e| at(&e))?;
    let techniques = line
        .techniques
        .iter()
        .map(|raw| Technique::parse(raw).map(|t| t.to_string()))
        .collect::<Result<_, _>>()
        .map_err(|e| at(&e))?;
    Ok(pb::RaiseIncidentRequest {
        request_id: line.request_id,
        title: line.title,
        description: line.description,
        severity: severity.to_wire() as i32,
        tlp: tlp.to_wire() as i32,
        rule_id: line.rule,
        techniques,
        indicators,
        observed_at_ms: line.observed_at_ms,
    })
}

pub async fn run(args: RaiseArgs) -> anyhow::Result<()> {
    if args.batch == 0 || args.batch > MAX_BATCH {
        anyhow::bail!("--batch: between 1 and {MAX_BATCH}");
    }
    let text = std::fs::read_to_string(&args.from_file)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.from_file.display()))?;
    let file_id = blake3::hash(text.as_bytes()).to_hex()[..16].to_string();
    // (line number, request); blank lines skipped, every line checked before the first call.
    let raises = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let mut raise = parse(i + 1, l)?;
            if raise.request_id.is_empty() {
                // Stable whatever the chunking: a rerun replays each line by this id.
                raise.request_id = format!("file-{file_id}-line-{}", i + 1);
            }
            Ok((i + 1, raise))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut client = SiteLocalClient::new(args.target.channel()?);
    let progress = if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
        let style = ProgressStyle::with_template("raising [{bar:40}] {pos}/{len}, {eta} left")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        ProgressBar::new(raises.len() as u64).with_style(style)
    } else {
        ProgressBar::hidden()
    };
    let mut results = Vec::with_capacity(raises.len());
    let (mut queued, mut replayed, mut failed) = (0u64, 0u64, 0u64);
    for chunk in raises.chunks(args.batch) {
        let first_line = chunk.first().map_or(0, |(n, _)| *n);
        let answer = client
            .raise_incidents(pb::RaiseIncidentsRequest {
                batch_id: format!("file-{file_id}-{first_line}"),
                raises: chunk.iter().map(|(_, r)| r.clone()).collect(),
            })
            .await
            .map_err(|s| args.target.explain(&s))?
            .into_inner();
        for ((line, _), result) in chunk.iter().zip(answer.results) {
            let row = match result.outcome {
                Some(pb::raise_result::Outcome::Raised(ok)) => {
                    if ok.replayed {
                        replayed += 1;
                    } else {
                        queued += 1;
                    }
                    serde_json::json!({"line": line, "local_incident_id": ok.local_incident_id,
                                       "seq": ok.seq, "replayed": ok.replayed})
                }
                Some(pb::raise_result::Outcome::Error(e)) => {
                    failed += 1;
                    progress.suspend(|| tracing::warn!(line, error = %e.message, "raise refused"));
                    serde_json::json!({"line": line, "error": e.message, "code": e.code})
                }
                None => {
                    failed += 1;
                    serde_json::json!({"line": line, "error": "no answer"})
                }
            };
            results.push(row);
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish_and_clear();
    match args.target.format() {
        OutputFormat::Json => socfed_runtime::cli::print_json(&serde_json::json!({
            "queued": queued, "replayed": replayed, "failed": failed, "results": results,
        }))?,
        OutputFormat::Table => {
            for row in results.iter().filter(|r| r.get("error").is_some()) {
                socfed_runtime::outln!("line {}: refused: {}", row["line"], row["error"]);
            }
            socfed_runtime::outln!(
                "{queued} queued for escalation, {replayed} already queued, {failed} refused"
            );
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} raises were refused", raises.len());
    }
    Ok(())
}
