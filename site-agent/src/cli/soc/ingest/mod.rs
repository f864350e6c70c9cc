//! `site-agent ingest FILE|- --format F`: streams JSON lines to the agent's `SubmitAlerts` in
//! numbered batches and prints its `IntakeSummary`.
//!
//! The input is read line by line on a plain thread (never all at once, except an OCSF
//! document that is one JSON array), so files of any size stream in bounded memory; a pipe
//! that stays open (`tail -F`) has its lines sent once it is quiet for [`IDLE_FLUSH`]. A line
//! that could not be sent at all (longer than [`MAX_LINE_BYTES`], or not UTF-8) is rejected
//! here and merged into the agent's summary under its line number.
//!
//! - [`input`] reads lines or splits an OCSF array; [`feed`] batches and sends;
//!   [`summary`] prints the outcome; [`hint`] guesses the format when many lines fail.
//!
//! Exit status: 0 when nothing was rejected, 1 otherwise (or on any failure).

mod feed;
mod hint;
mod input;
mod summary;

use super::render;
use super::{Conn, IngestFormat, Soc};
use anyhow::Context as _;
use clap::Args;
use feed::{Batcher, Fed, Feeder, ReadError, SendBatch, feed_lines, feed_records};
use indicatif::{ProgressBar, ProgressStyle};
use input::Input;
use socfed_proto::pb;
use socfed_runtime::cli::OutputFormat;
use std::io::{IsTerminal as _, Read};
use std::path::PathBuf;
use std::time::Duration;
use summary::Unit;
use tokio_stream::wrappers::ReceiverStream;

/// Longest line sent, in bytes (the agent's default `max_line_bytes`); longer lines are
/// rejected here, so that one line can never make a batch too large for the wire.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// A batch is sent once it holds this many bytes of text, whatever `--batch` says.
pub const MAX_BATCH_BYTES: usize = 512 * 1024;
/// Inputs larger than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 1024 * 1024;
/// Lines waiting in a partial batch are sent once no new line has come for this long, so a
/// feed that trickles in (`tail -F file | site-agent ingest -`) is taken in as it comes.
pub const IDLE_FLUSH: Duration = Duration::from_millis(200);
/// Batches in flight between the reader thread and the gRPC stream.
const QUEUE_BATCHES: usize = 4;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// JSON-lines file to submit, or - for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
    /// Record format of the input.
    #[arg(long, value_enum)]
    pub format: IngestFormat,
    /// Lines per batch sent to the agent.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    #[command(flatten)]
    pub conn: Conn,
}

/// Some lines were rejected; raised after the summary is printed, for exit status 1.
#[derive(Debug, thiserror::Error)]
#[error("{rejected} of {lines} {unit} were rejected")]
pub struct Rejected {
    pub rejected: u64,
    pub lines: u64,
    /// "lines", or "records" for the elements of a JSON array.
    pub unit: &'static str,
}

pub async fn run(args: IngestArgs) -> anyhow::Result<()> {
    let stdin = args.file.as_os_str() == "-";
    let name = if stdin {
        "standard input".to_string()
    } else {
        args.file.display().to_string()
    };
    let (reader, size): (Box<dyn Read + Send>, Option<u64>) = if stdin {
        (Box::new(std::io::stdin()), None)
    } else {
        let file =
            std::fs::File::open(&args.file).with_context(|| format!("cannot open {name}"))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let format = args.format;
    let input = {
        let name = name.clone();
        tokio::task::spawn_blocking(move || input::prepare(reader, format, &name)).await??
    };

    let mut soc = Soc::connect(&args.conn)?;
    let unit = match &input {
        Input::Lines(_) => Unit::Lines,
        Input::Array(_) => Unit::Records,
    };
    let progress = match &input {
        Input::Lines(_) => progress_bar(size, size, "{bytes}/{total_bytes} {bytes_per_sec}"),
        Input::Array(records) => progress_bar(
            size,
            u64::try_from(records.len()).ok(),
            "{pos}/{len} records",
        ),
    };
    let (batches, queue) = tokio::sync::mpsc::channel::<pb::AlertBatch>(QUEUE_BATCHES);
    let (done, fed) = tokio::sync::oneshot::channel::<Fed>();
    let wire_format = format.to_wire() as i32;
    let batch_lines = usize::try_from(args.batch).unwrap_or(usize::MAX);
    let reader_progress = progress.clone();
    // A plain thread, not `spawn_blocking`: if the call fails while the thread waits on a
    // slow stdin, returning the error must not wait for it.
    std::thread::Builder::new()
        .name("ingest-reader".into())
        .spawn(move || {
            let send: SendBatch = Box::new(move |lines| {
                batches
                    .blocking_send(pb::AlertBatch {
                        format: wire_format,
                        lines,
                    })
                    .is_ok()
            });
            let batcher = Batcher::new(batch_lines, MAX_BATCH_BYTES);
            let mut feeder = Feeder::new(batcher, send, Some(IDLE_FLUSH));
            let read_error = match input {
                Input::Lines(mut reader) => feed_lines(&mut reader, &mut feeder, &reader_progress),
                Input::Array(records) => {
                    feed_records(records, &mut feeder, &reader_progress);
                    None
                }
            };
            let _ = done.send(feeder.finish(read_error));
        })
        .context("cannot start the input reader")?;

    let answer = soc.client.submit_alerts(ReceiverStream::new(queue)).await;
    progress.finish_and_clear();
    let summary = answer.map_err(|s| soc.explain(&s))?.into_inner();
    let fed = tokio::time::timeout(Duration::from_secs(10), fed)
        .await
        .context("the agent answered before all input was sent")?
        .context("the input reader stopped unexpectedly")?;
    let summary = summary::merge(summary, fed.rejected, fed.rejections);
    let hint = hint::hint(format, &fed.sample, summary.rejected);

    match args.conn.format() {
        OutputFormat::Json => {
            render::print_json(&summary::summary_json(&summary, unit, hint.as_deref()))?
        }
        OutputFormat::Table => {
            summary::print_rejections(&summary, unit, hint.as_deref());
            socfed_runtime::outln!("{}", summary::summary_line(&summary, unit));
        }
    }
    if let Some(ReadError { after_line, error }) = fed.read_error {
        anyhow::bail!(
            "reading {name} failed after line {after_line} ({error}); the lines before it were submitted"
        );
    }
    if summary.rejected > 0 {
        return Err(Rejected {
            rejected: summary.rejected,
            lines: summary.lines,
            unit: unit.plural(),
        }
        .into());
    }
    Ok(())
}

/// A progress bar on stderr when it is a terminal and the input is a file over ~1 MB.
fn progress_bar(file_size: Option<u64>, length: Option<u64>, counter: &str) -> ProgressBar {
    // Shown only to a person: stdout a terminal (not piped into a file or another program) and
    // stderr, where the bar is drawn, a terminal too.
    let show = file_size.is_some_and(|s| s > PROGRESS_MIN_BYTES)
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal();
    match (show, length) {
        (true, Some(length)) => {
            let style = ProgressStyle::with_template(&format!(
                "submitting [{{bar:40}}] {counter}, {{eta}} left"
            ))
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            ProgressBar::new(length).with_style(style)
        }
        _ => ProgressBar::hidden(),
    }
}
