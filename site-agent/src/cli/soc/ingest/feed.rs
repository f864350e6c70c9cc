//! Batching what is read and handing batches to the gRPC stream: a batch goes when it is
//! full (lines or bytes), at the end of the input, and when the input has been quiet for a
//! moment with lines waiting (`tail -F file | site-agent ingest -` delivers each alert
//! without waiting for hundreds more). Lines that cannot be sent at all are rejected here.

use super::MAX_LINE_BYTES;
use super::hint::Sample;
use super::input::{Line, read_line};
use indicatif::ProgressBar;
use socfed_proto::pb;
use std::io::BufRead;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// Rejections listed at most (the agent lists its first 1000 too).
pub(super) const MAX_REJECTIONS: usize = 1000;

/// Groups lines into batches of at most `max_lines` lines and about `max_bytes` bytes of
/// text (a single longer line goes alone).
pub(super) struct Batcher {
    max_lines: usize,
    max_bytes: usize,
    lines: Vec<pb::RawLine>,
    bytes: usize,
}

impl Batcher {
    pub(super) fn new(max_lines: usize, max_bytes: usize) -> Self {
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

    /// The partial batch, if any.
    fn rest(&mut self) -> Option<Vec<pb::RawLine>> {
        (!self.lines.is_empty()).then(|| self.take())
    }
}

/// The reader's outcome, joined with the agent's summary.
pub(super) struct Fed {
    /// Lines rejected here, all of them.
    pub rejected: u64,
    /// The first [`MAX_REJECTIONS`] of them.
    pub rejections: Vec<pb::LineRejection>,
    pub read_error: Option<ReadError>,
    /// The first lines, to guess the format from when many are rejected.
    pub sample: Sample,
}

pub(super) struct ReadError {
    pub after_line: u64,
    pub error: std::io::Error,
}

/// Hands a batch to the stream; false once the stream is gone.
pub(super) type SendBatch = Box<dyn FnMut(Vec<pb::RawLine>) -> bool + Send>;

/// What the reader and the idle timer share: batches leave in line order from either.
struct Queue {
    batcher: Batcher,
    send: SendBatch,
    /// False once the stream is gone (the call failed) or the input ended.
    open: bool,
    last_line: Instant,
}

impl Queue {
    fn send(&mut self, batch: Vec<pb::RawLine>) {
        if self.open {
            self.open = (self.send)(batch);
        }
    }
}

/// Batches lines and hands full batches to the stream; notes local rejections.
pub(super) struct Feeder {
    queue: Arc<Mutex<Queue>>,
    rejected: u64,
    rejections: Vec<pb::LineRejection>,
    sample: Sample,
}

fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|p| p.into_inner())
}

impl Feeder {
    /// With `idle`, a thread sends the waiting lines once no line has come for that long.
    pub(super) fn new(batcher: Batcher, send: SendBatch, idle: Option<Duration>) -> Self {
        let queue = Arc::new(Mutex::new(Queue {
            batcher,
            send,
            open: true,
            last_line: Instant::now(),
        }));
        if let Some(idle) = idle {
            let weak = Arc::downgrade(&queue);
            // Best effort: without the thread, batches still go when full and at the end.
            let _ = std::thread::Builder::new()
                .name("ingest-idle-flush".into())
                .spawn(move || flush_when_idle(&weak, idle));
        }
        Self {
            queue,
            rejected: 0,
            rejections: Vec::new(),
            sample: Sample::default(),
        }
    }

    /// Queues a line; false when the agent is no longer listening.
    pub(super) fn line(&mut self, line_no: u64, text: String) -> bool {
        self.sample.note(&text);
        let mut queue = lock(&self.queue);
        queue.last_line = Instant::now();
        for batch in queue.batcher.push(pb::RawLine { line_no, text }) {
            queue.send(batch);
        }
        queue.open
    }

    pub(super) fn reject(&mut self, line_no: u64, reason: String) {
        self.rejected += 1;
        if self.rejections.len() < MAX_REJECTIONS {
            self.rejections.push(pb::LineRejection { line_no, reason });
        }
    }

    /// Sends the last partial batch and ends the stream (the sender is dropped here, not
    /// when the idle thread next wakes).
    pub(super) fn finish(self, read_error: Option<ReadError>) -> Fed {
        {
            let mut queue = lock(&self.queue);
            if let Some(batch) = queue.batcher.rest() {
                queue.send(batch);
            }
            queue.open = false;
            queue.send = Box::new(|_| false);
        }
        Fed {
            rejected: self.rejected,
            rejections: self.rejections,
            read_error,
            sample: self.sample,
        }
    }
}

/// Until the feeder is finished: every quarter of `idle`, sends the waiting lines if none
/// came for `idle`.
fn flush_when_idle(queue: &Weak<Mutex<Queue>>, idle: Duration) {
    loop {
        std::thread::sleep(idle / 4);
        let Some(queue) = queue.upgrade() else {
            return;
        };
        let mut queue = lock(&queue);
        if !queue.open {
            return;
        }
        if queue.last_line.elapsed() >= idle
            && let Some(batch) = queue.batcher.rest()
        {
            queue.send(batch);
        }
    }
}

pub(super) fn too_long(bytes: usize) -> String {
    format!("line: {bytes} bytes is over the limit of {MAX_LINE_BYTES} bytes")
}

/// Feeds every line of `reader` (numbered from 1), stopping early only if the agent stops
/// listening or reading fails.
pub(super) fn feed_lines<R: BufRead + ?Sized>(
    reader: &mut R,
    feeder: &mut Feeder,
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
            Line::NotUtf8 { valid_up_to } => {
                feeder.reject(line_no, crate::soc::parse::not_utf8(valid_up_to))
            }
        }
    }
}

/// Feeds the elements of a split JSON array, numbered 1..n.
pub(super) fn feed_records(records: Vec<String>, feeder: &mut Feeder, progress: &ProgressBar) {
    for (line_no, text) in (1u64..).zip(records) {
        progress.inc(1);
        if text.len() > MAX_LINE_BYTES {
            feeder.reject(line_no, too_long(text.len()));
        } else if !feeder.line(line_no, text) {
            return;
        }
    }
}

#[cfg(test)]
mod tests;
