//! Batching, local rejections and the idle flush.

use super::super::IngestFormat;
use super::super::input::{Input, prepare};
use super::*;
use std::io::Cursor;

/// A sender that records what it is given, and the record.
fn recorder() -> (SendBatch, Arc<Mutex<Vec<pb::AlertBatch>>>) {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let into = sent.clone();
    let send: SendBatch = Box::new(move |lines| {
        into.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pb::AlertBatch { format: 2, lines });
        true
    });
    (send, sent)
}

fn taken(sent: &Arc<Mutex<Vec<pb::AlertBatch>>>) -> Vec<pb::AlertBatch> {
    std::mem::take(&mut *sent.lock().unwrap_or_else(|p| p.into_inner()))
}

fn collect(input: Input) -> (Vec<pb::AlertBatch>, Fed) {
    let (send, sent) = recorder();
    let mut feeder = Feeder::new(Batcher::new(2, 1024), send, None);
    let read_error = match input {
        Input::Lines(mut reader) => feed_lines(&mut reader, &mut feeder, &ProgressBar::hidden()),
        Input::Array(records) => {
            feed_records(records, &mut feeder, &ProgressBar::hidden());
            None
        }
    };
    let fed = feeder.finish(read_error);
    (taken(&sent), fed)
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
    assert_eq!(b.rest().map(|l| l.len()), Some(1));

    let mut single = Batcher::new(1, 10);
    assert_eq!(single.push(line(1, 4)).len(), 1);
    assert!(single.rest().is_none());
}

#[test]
fn a_closed_stream_stops_the_reader() {
    let calls = Arc::new(Mutex::new(0));
    let counted = calls.clone();
    let send: SendBatch = Box::new(move |_| {
        *counted.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        false
    });
    let mut feeder = Feeder::new(Batcher::new(1, 1024), send, None);
    let mut reader = Cursor::new(b"a\nb\nc\n".to_vec());
    assert!(feed_lines(&mut reader, &mut feeder, &ProgressBar::hidden()).is_none());
    let _ = feeder.finish(None);
    assert_eq!(*calls.lock().unwrap_or_else(|p| p.into_inner()), 1);
}

/// A pipe that stays open: the first lines must leave once the input is quiet, not wait
/// for a full batch or the end.
#[test]
fn waiting_lines_leave_once_the_input_is_quiet() -> anyhow::Result<()> {
    let (send, sent) = recorder();
    let mut feeder = Feeder::new(
        Batcher::new(500, 1024),
        send,
        Some(Duration::from_millis(40)),
    );
    assert!(feeder.line(1, "a".into()));
    assert!(feeder.line(2, "b".into()));
    let until = Instant::now() + Duration::from_secs(10);
    let mut got: Vec<u64> = Vec::new();
    while got.len() < 2 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
        got.extend(numbers(&taken(&sent)).into_iter().flatten());
    }
    assert_eq!(got, vec![1, 2], "sent while the input is still open");
    assert!(feeder.line(3, "c".into()));
    let fed = feeder.finish(None);
    assert_eq!(fed.rejected, 0);
    let rest = taken(&sent);
    assert!(
        numbers(&rest) == vec![vec![3]] || rest.is_empty(),
        "line 3 leaves once, by the timer or at the end: {:?}",
        numbers(&rest)
    );
    Ok(())
}
