//! `site-agent ingest FILE|- --format F`: streams JSON lines to the agent's `SubmitAlerts` in
//! numbered batches and prints its `IntakeSummary`.
//!
//! The input is read line by line on a plain thread (never all at once, except an OCSF
//! document that is one JSON array), so files of any size stream in bounded memory. A line
//! that could not be sent at all (longer than [`MAX_LINE_BYTES`], or not UTF-8) is rejected
//! here and merged into the agent's summary under its line number.
//!
//! Exit status: 0 when nothing was rejected, 1 otherwise (or on any failure).

use super::render::{self, clean};
use super::{Conn, IngestFormat, Soc};
use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use socfed_proto::cli::OutputFormat;
use socfed_proto::pb;
use std::io::{BufRead, BufReader, IsTerminal as _, Read};
use std::path::PathBuf;
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;

/// Longest line sent, in bytes (the agent's default `max_line_bytes`); longer lines are
/// rejected here, so that one line can never make a batch too large for the wire.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// A batch is sent once it holds this many bytes of text, whatever `--batch` says.
pub const MAX_BATCH_BYTES: usize = 512 * 1024;
/// Inputs larger than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 1024 * 1024;
/// Rejections listed at most (the agent lists its first 1000 too).
const MAX_REJECTIONS: usize = 1000;
/// How far into the input to look for the first non-blank byte.
const SNIFF_MAX_BYTES: usize = 64 * 1024;
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
#[error("{rejected} of {lines} lines were rejected")]
pub struct Rejected {
    pub rejected: u64,
    pub lines: u64,
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
        tokio::task::spawn_blocking(move || prepare(reader, format, &name)).await??
    };

    let mut soc = Soc::connect(&args.conn.target)?;
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
            let mut send = |lines: Vec<pb::RawLine>| {
                batches
                    .blocking_send(pb::AlertBatch {
                        format: wire_format,
                        lines,
                    })
                    .is_ok()
            };
            let mut feeder = Feeder::new(Batcher::new(batch_lines, MAX_BATCH_BYTES), &mut send);
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
    let summary = merge(summary, fed.rejected, fed.rejections);

    match args.conn.output {
        OutputFormat::Json => render::print_json(&summary_json(&summary))?,
        OutputFormat::Table => {
            print_rejections(&summary);
            socfed_proto::outln!("{}", summary_line(&summary));
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
        }
        .into());
    }
    Ok(())
}

// ---- input ------------------------------------------------------------------------------

/// The input, ready to send.
enum Input {
    /// JSON lines, read as they are sent.
    Lines(Box<dyn BufRead + Send>),
    /// The elements of an OCSF JSON array document, numbered 1..n.
    Array(Vec<String>),
}

/// For OCSF, an input whose first non-blank character is `[` is one JSON array, read whole
/// and split; everything else is read line by line.
fn prepare(
    reader: Box<dyn Read + Send>,
    format: IngestFormat,
    name: &str,
) -> anyhow::Result<Input> {
    if format != IngestFormat::Ocsf {
        return Ok(Input::Lines(Box::new(BufReader::new(reader))));
    }
    let (prefix, reader) = sniff(reader).with_context(|| format!("cannot read {name}"))?;
    if first_significant_byte(&prefix) != Some(b'[') {
        return Ok(Input::Lines(Box::new(BufReader::new(
            std::io::Cursor::new(prefix).chain(reader),
        ))));
    }
    let mut bytes = prefix;
    let mut reader = reader;
    reader
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{name} starts with '[' but is not valid UTF-8 ({})",
            e.utf8_error()
        )
    })?;
    let records = crate::soc::parse::split_json_array(&text)
        .map_err(|e| anyhow::anyhow!("{name} starts with '[' but is not a JSON array: {e}"))?;
    Ok(Input::Array(records))
}

/// Reads from `reader` until the first byte that is not blank (or [`SNIFF_MAX_BYTES`], or
/// the end); returns what was read and the rest of the input.
fn sniff<R: Read>(mut reader: R) -> std::io::Result<(Vec<u8>, R)> {
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 4096];
    while first_significant_byte(&prefix).is_none() && prefix.len() < SNIFF_MAX_BYTES {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        prefix.extend_from_slice(&chunk[..n]);
    }
    Ok((prefix, reader))
}

/// The first byte after an optional UTF-8 byte-order mark and JSON whitespace.
fn first_significant_byte(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Text(String),
    /// Longer than the limit: `bytes` long without its line ending.
    TooLong {
        bytes: usize,
    },
    NotUtf8 {
        valid_up_to: usize,
    },
}

/// Reads one line without its `\n` / `\r\n`, holding at most `max` (+2) bytes of it in
/// memory; returns it with the number of bytes consumed, or `None` at the end.
fn read_line<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<(Line, usize)>> {
    buf.clear();
    let keep = max.saturating_add(2);
    let mut consumed = 0usize;
    let mut last_two = [0u8; 2];
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        let (chunk, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let n = chunk.len();
        if buf.len() < keep {
            let room = keep - buf.len();
            buf.extend_from_slice(&chunk[..n.min(room)]);
        }
        if n >= 2 {
            last_two = [chunk[n - 2], chunk[n - 1]];
        } else {
            last_two = [last_two[1], chunk[0]];
        }
        consumed += n;
        reader.consume(n);
        if ended {
            break;
        }
    }
    if consumed == 0 {
        return Ok(None);
    }
    let ending = match last_two {
        [b'\r', b'\n'] => 2,
        [_, b'\n'] => 1,
        _ => 0,
    };
    let bytes = consumed - ending;
    if bytes > max {
        return Ok(Some((Line::TooLong { bytes }, consumed)));
    }
    buf.truncate(bytes);
    let line = match String::from_utf8(std::mem::take(buf)) {
        Ok(text) => Line::Text(text),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            *buf = e.into_bytes();
            Line::NotUtf8 { valid_up_to }
        }
    };
    Ok(Some((line, consumed)))
}

// ---- batching ---------------------------------------------------------------------------

/// Groups lines into batches of at most `max_lines` lines and about `max_bytes` bytes of
/// text (a single longer line goes alone).
struct Batcher {
    max_lines: usize,
    max_bytes: usize,
    lines: Vec<pb::RawLine>,
    bytes: usize,
}

impl Batcher {
    fn new(max_lines: usize, max_bytes: usize) -> Self {
        Self {
            max_lines: max_lines.max(1),
            max_bytes,
            lines: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds a line; returns the batches that are complete now (usually none, sometimes one).
    fn push(&mut self, line: pb::RawLine) -> Vec<Vec<pb::RawLine>> {
        let mut ready = Vec::new();
        let size = line.text.len();
        if !self.lines.is_empty() && self.bytes + size > self.max_bytes {
            ready.push(self.take());
        }
        self.bytes += size;
        self.lines.push(line);
        if self.lines.len() >= self.max_lines {
            ready.push(self.take());
        }
        ready
    }

    fn take(&mut self) -> Vec<pb::RawLine> {
        self.bytes = 0;
        std::mem::take(&mut self.lines)
    }

    /// The last, partial batch.
    fn finish(mut self) -> Option<Vec<pb::RawLine>> {
        (!self.lines.is_empty()).then(|| self.take())
    }
}

/// The reader's outcome, joined with the agent's summary.
struct Fed {
    /// Lines rejected here, all of them.
    rejected: u64,
    /// The first [`MAX_REJECTIONS`] of them.
    rejections: Vec<pb::LineRejection>,
    read_error: Option<ReadError>,
}

struct ReadError {
    after_line: u64,
    error: std::io::Error,
}

/// Batches lines and hands full batches to `send`; notes local rejections.
struct Feeder<'a> {
    batcher: Batcher,
    send: &'a mut dyn FnMut(Vec<pb::RawLine>) -> bool,
    rejected: u64,
    rejections: Vec<pb::LineRejection>,
    /// False once the stream is gone (the call failed); reading stops.
    open: bool,
}

impl<'a> Feeder<'a> {
    fn new(batcher: Batcher, send: &'a mut dyn FnMut(Vec<pb::RawLine>) -> bool) -> Self {
        Self {
            batcher,
            send,
            rejected: 0,
            rejections: Vec::new(),
            open: true,
        }
    }

    /// Queues a line; false when the agent is no longer listening.
    fn line(&mut self, line_no: u64, text: String) -> bool {
        for batch in self.batcher.push(pb::RawLine { line_no, text }) {
            if self.open {
                self.open = (self.send)(batch);
            }
        }
        self.open
    }

    fn reject(&mut self, line_no: u64, reason: String) {
        self.rejected += 1;
        if self.rejections.len() < MAX_REJECTIONS {
            self.rejections.push(pb::LineRejection { line_no, reason });
        }
    }

    fn finish(self, read_error: Option<ReadError>) -> Fed {
        if self.open
            && let Some(batch) = self.batcher.finish()
        {
            let _ = (self.send)(batch);
        }
        Fed {
            rejected: self.rejected,
            rejections: self.rejections,
            read_error,
        }
    }
}

fn too_long(bytes: usize) -> String {
    format!("line: {bytes} bytes is over the limit of {MAX_LINE_BYTES} bytes")
}

/// Feeds every line of `reader` (numbered from 1), stopping early only if the agent stops
/// listening or reading fails.
fn feed_lines<R: BufRead + ?Sized>(
    reader: &mut R,
    feeder: &mut Feeder<'_>,
    progress: &ProgressBar,
) -> Option<ReadError> {
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        let (line, consumed) = match read_line(reader, &mut buf, MAX_LINE_BYTES) {
            Ok(Some(read)) => read,
            Ok(None) => return None,
            Err(error) => {
                return Some(ReadError {
                    after_line: line_no,
                    error,
                });
            }
        };
        line_no += 1;
        progress.inc(u64::try_from(consumed).unwrap_or(u64::MAX));
        match line {
            Line::Text(text) => {
                if !feeder.line(line_no, text) {
                    return None;
                }
            }
            Line::TooLong { bytes } => feeder.reject(line_no, too_long(bytes)),
            Line::NotUtf8 { valid_up_to } => feeder.reject(
                line_no,
                format!("line: not valid UTF-8 (at byte {})", valid_up_to + 1),
            ),
        }
    }
}

/// Feeds the elements of a split JSON array, numbered 1..n.
fn feed_records(records: Vec<String>, feeder: &mut Feeder<'_>, progress: &ProgressBar) {
    for (line_no, text) in (1u64..).zip(records) {
        progress.inc(1);
        if text.len() > MAX_LINE_BYTES {
            feeder.reject(line_no, too_long(text.len()));
        } else if !feeder.line(line_no, text) {
            return;
        }
    }
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

// ---- summary ----------------------------------------------------------------------------

/// The agent's summary with the lines rejected here folded in, rejections by line number.
fn merge(
    mut summary: pb::IntakeSummary,
    rejected: u64,
    local: Vec<pb::LineRejection>,
) -> pb::IntakeSummary {
    summary.lines += rejected;
    summary.rejected += rejected;
    summary.rejections.extend(local);
    summary.rejections.sort_by_key(|r| r.line_no);
    summary.rejections.truncate(MAX_REJECTIONS);
    summary
}

fn summary_line(s: &pb::IntakeSummary) -> String {
    format!(
        "accepted {}, aggregated {}, rejected {}, skipped {} (of {} lines)",
        s.accepted, s.aggregated, s.rejected, s.skipped, s.lines
    )
}

fn rejection_lines(s: &pb::IntakeSummary) -> Vec<String> {
    let mut lines: Vec<String> = s
        .rejections
        .iter()
        .map(|r| format!("line {}: {}", r.line_no, clean(&r.reason)))
        .collect();
    let listed = u64::try_from(s.rejections.len()).unwrap_or(u64::MAX);
    if s.rejected > listed {
        lines.push(format!(
            "(only the first {listed} of {} rejections are listed)",
            s.rejected
        ));
    }
    lines
}

fn print_rejections(s: &pb::IntakeSummary) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    for line in rejection_lines(s) {
        if writeln!(err, "{line}").is_err() {
            return;
        }
    }
}

fn summary_json(s: &pb::IntakeSummary) -> Value {
    json!({
        "lines": s.lines,
        "accepted": s.accepted,
        "aggregated": s.aggregated,
        "rejected": s.rejected,
        "skipped": s.skipped,
        "rejections": s.rejections.iter().map(|r| json!({
            "line_no": r.line_no,
            "reason": r.reason,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read_all(input: &[u8], max: usize) -> Vec<(Line, usize)> {
        let mut reader = BufReader::with_capacity(3, Cursor::new(input.to_vec()));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(line) = read_line(&mut reader, &mut buf, max).ok().flatten() {
            out.push(line);
        }
        out
    }

    fn text(s: &str) -> Line {
        Line::Text(s.to_string())
    }

    #[test]
    fn lines_lose_their_endings_and_keep_their_numbers() {
        assert_eq!(
            read_all(b"{\"a\":1}\r\n\n{\"b\":2}", 100),
            vec![
                (text("{\"a\":1}"), 9),
                (text(""), 1),
                (text("{\"b\":2}"), 7)
            ]
        );
        assert!(read_all(b"", 100).is_empty());
        assert_eq!(read_all(b"x\n", 100), vec![(text("x"), 2)]);
    }

    #[test]
    fn long_lines_are_measured_not_kept() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\r\nok\n");
        let lines = read_all(&input, 10);
        assert_eq!(
            lines,
            vec![(Line::TooLong { bytes: 50 }, 52), (text("ok"), 3)]
        );
        // Exactly at the limit is fine, with either line ending.
        assert_eq!(
            read_all(b"0123456789\r\n", 10),
            vec![(text("0123456789"), 12)]
        );
        assert_eq!(
            read_all(b"01234567890", 10),
            vec![(Line::TooLong { bytes: 11 }, 11)]
        );
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_position() {
        assert_eq!(
            read_all(b"ab\xFFc\nd\n", 100),
            vec![(Line::NotUtf8 { valid_up_to: 2 }, 5), (text("d"), 2)]
        );
    }

    #[test]
    fn ocsf_array_detection_skips_blanks_and_a_bom() {
        assert_eq!(first_significant_byte(b"  \n\t[{}]"), Some(b'['));
        assert_eq!(first_significant_byte(b"\xEF\xBB\xBF[]"), Some(b'['));
        assert_eq!(first_significant_byte(b"{\"a\":[1]}"), Some(b'{'));
        assert_eq!(first_significant_byte(b" \r\n "), None);
    }

    /// A reader that hands out one byte per read, like a slow pipe.
    struct Trickle(Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let end = buf.len().min(1);
            self.0.read(&mut buf[..end])
        }
    }

    #[test]
    fn sniffing_a_slow_pipe_reads_only_up_to_the_first_character() -> anyhow::Result<()> {
        let (prefix, mut rest) = sniff(Trickle(Cursor::new(b"\n\n  [1, 2]".to_vec())))?;
        assert_eq!(prefix, b"\n\n  [");
        let mut tail = String::new();
        rest.read_to_string(&mut tail)?;
        assert_eq!(tail, "1, 2]");
        Ok(())
    }

    fn collect(input: Input) -> (Vec<pb::AlertBatch>, Fed) {
        let mut sent = Vec::new();
        let mut send = |lines: Vec<pb::RawLine>| {
            sent.push(pb::AlertBatch { format: 2, lines });
            true
        };
        let mut feeder = Feeder::new(Batcher::new(2, 1024), &mut send);
        let read_error = match input {
            Input::Lines(mut reader) => {
                feed_lines(&mut reader, &mut feeder, &ProgressBar::hidden())
            }
            Input::Array(records) => {
                feed_records(records, &mut feeder, &ProgressBar::hidden());
                None
            }
        };
        let fed = feeder.finish(read_error);
        (sent, fed)
    }

    fn numbers(batches: &[pb::AlertBatch]) -> Vec<Vec<u64>> {
        batches
            .iter()
            .map(|b| b.lines.iter().map(|l| l.line_no).collect())
            .collect()
    }

    #[test]
    fn ocsf_arrays_are_split_and_numbered_from_one() -> anyhow::Result<()> {
        let doc = b"\xEF\xBB\xBF\n [ {\"a\": 1},\n  {\"b\": [2]},\n {\"c\": 3} ]\n".to_vec();
        let input = prepare(Box::new(Cursor::new(doc)), IngestFormat::Ocsf, "input")?;
        assert!(matches!(&input, Input::Array(r) if r.len() == 3));
        let (batches, fed) = collect(input);
        assert_eq!(numbers(&batches), vec![vec![1, 2], vec![3]]);
        assert_eq!(batches[0].lines[1].text, "{\"b\":[2]}");
        assert_eq!(fed.rejected, 0);
        Ok(())
    }

    #[test]
    fn ocsf_lines_and_other_formats_stream_line_by_line() -> anyhow::Result<()> {
        let lines = b"{\"a\":1}\n{\"a\":2}\n".to_vec();
        let input = prepare(
            Box::new(Cursor::new(lines.clone())),
            IngestFormat::Ocsf,
            "input",
        )?;
        assert!(matches!(input, Input::Lines(_)));
        let (batches, _) = collect(input);
        assert_eq!(numbers(&batches), vec![vec![1, 2]]);
        assert_eq!(batches[0].lines[0].text, "{\"a\":1}");
        // Only OCSF takes a leading '[' as an array.
        let array = b"[{\"a\":1}]\n".to_vec();
        let input = prepare(Box::new(Cursor::new(array)), IngestFormat::Native, "input")?;
        assert!(matches!(input, Input::Lines(_)));
        Ok(())
    }

    #[test]
    fn a_broken_ocsf_array_fails_before_anything_is_sent() {
        let doc = b"[{\"a\":1},".to_vec();
        let error = prepare(Box::new(Cursor::new(doc)), IngestFormat::Ocsf, "input")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("not a JSON array"), "{error}");
    }

    #[test]
    fn bad_lines_are_rejected_locally_and_the_rest_still_sent() {
        let input = Input::Lines(Box::new(Cursor::new(b"a\nb\xFF\nc\n\nd".to_vec())));
        let (batches, fed) = collect(input);
        assert_eq!(numbers(&batches), vec![vec![1, 3], vec![4, 5]]);
        assert_eq!(fed.rejected, 1);
        assert_eq!(fed.rejections[0].line_no, 2);
        assert!(fed.rejections[0].reason.contains("UTF-8"));
    }

    #[test]
    fn batches_close_on_line_count_or_bytes() {
        let line = |n: u64, len: usize| pb::RawLine {
            line_no: n,
            text: "x".repeat(len),
        };
        let mut b = Batcher::new(3, 10);
        assert!(b.push(line(1, 4)).is_empty());
        assert!(b.push(line(2, 4)).is_empty());
        // 4 + 4 + 4 > 10: the first two go, the third starts a new batch.
        let ready = b.push(line(3, 4));
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].len(), 2);
        assert!(b.push(line(4, 1)).is_empty());
        // Third line in the batch: it is full by count.
        let ready = b.push(line(5, 1));
        assert_eq!(ready.iter().map(Vec::len).collect::<Vec<_>>(), vec![3]);
        // A line bigger than the byte budget travels alone.
        assert!(b.push(line(6, 50)).is_empty());
        assert_eq!(b.push(line(7, 1)).len(), 1);
        assert_eq!(b.finish().map(|l| l.len()), Some(1));

        let mut single = Batcher::new(1, 10);
        assert_eq!(single.push(line(1, 4)).len(), 1);
        assert!(single.finish().is_none());
    }

    #[test]
    fn a_closed_stream_stops_the_reader() {
        let mut calls = 0;
        let mut send = |_: Vec<pb::RawLine>| {
            calls += 1;
            false
        };
        let mut feeder = Feeder::new(Batcher::new(1, 1024), &mut send);
        let mut reader = Cursor::new(b"a\nb\nc\n".to_vec());
        assert!(feed_lines(&mut reader, &mut feeder, &ProgressBar::hidden()).is_none());
        let _ = feeder.finish(None);
        assert_eq!(calls, 1);
    }

    #[test]
    fn local_rejections_merge_into_the_summary_in_line_order() {
        let summary = pb::IntakeSummary {
            lines: 4,
            accepted: 2,
            aggregated: 1,
            rejected: 1,
            skipped: 0,
            rejections: vec![pb::LineRejection {
                line_no: 5,
                reason: "severity: expected 1-4".into(),
            }],
        };
        let local = vec![pb::LineRejection {
            line_no: 2,
            reason: "line: not valid UTF-8 (at byte 3)".into(),
        }];
        let merged = merge(summary, 1, local);
        assert_eq!(
            summary_line(&merged),
            "accepted 2, aggregated 1, rejected 2, skipped 0 (of 5 lines)"
        );
        assert_eq!(
            rejection_lines(&merged),
            vec![
                "line 2: line: not valid UTF-8 (at byte 3)",
                "line 5: severity: expected 1-4"
            ]
        );
        let json = summary_json(&merged);
        assert_eq!(json["rejections"][0]["line_no"], 2);
        assert_eq!(json["rejected"], 2);
    }

    #[test]
    fn unlisted_rejections_are_counted() {
        let summary = pb::IntakeSummary {
            lines: 5000,
            rejected: 1500,
            rejections: (1..=1000)
                .map(|n| pb::LineRejection {
                    line_no: n,
                    reason: "bad".into(),
                })
                .collect(),
            ..Default::default()
        };
        let lines = rejection_lines(&summary);
        assert_eq!(lines.len(), 1001);
        assert_eq!(
            lines[1000],
            "(only the first 1000 of 1500 rejections are listed)"
        );
    }
}
