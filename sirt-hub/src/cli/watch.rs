//! `sirt-hub incidents watch [--since N]`: follows the hub event log over `Operator.WatchEvents`
//! (gRPC, with the operator certificate like every other command: one credential, the CRL
//! checked at the handshake, no second client stack), prints each event with its sequence,
//! and on a dropped stream reconnects with backoff, resuming after the last event printed, so
//! nothing is missed and nothing printed twice.

use super::HubTarget;
use futures_util::StreamExt;
use socfed_proto::pb::{self, operator_client::OperatorClient};
use socfed_runtime::cli::OutputFormat;
use std::time::Duration;
use tonic::Code;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Refusals a retry cannot cure: the command stops with them.
fn permanent(code: Code) -> bool {
    matches!(
        code,
        Code::Unauthenticated
            | Code::PermissionDenied
            | Code::InvalidArgument
            | Code::Unimplemented
    )
}

fn print(record: &pb::HubEventRecord, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => {
            socfed_runtime::outln!("{}", socfed_runtime::terminal::json_safe(&record.json))
        }
        OutputFormat::Table => socfed_runtime::outln!(
            "{:>8} {} {:<16} {}",
            record.seq,
            socfed_runtime::cli::format_millis(record.at_ms),
            record.kind,
            socfed_runtime::terminal::clean(&record.summary)
        ),
    }
    Ok(())
}

pub async fn run(target: &HubTarget, since: Option<u64>) -> anyhow::Result<()> {
    let output = target.format();
    let mut cursor = since;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let request = pb::WatchEventsRequest {
            since: cursor.unwrap_or(0),
            from_now: cursor.is_none(),
        };
        let started = match target.channel() {
            // A bad address or unreadable certificate: nothing a retry changes.
            Err(e) => return Err(e.into()),
            Ok(channel) => OperatorClient::new(channel).watch_events(request).await,
        };
        let why = match started.map(tonic::Response::into_inner) {
            Ok(mut stream) => loop {
                match stream.next().await {
                    Some(Ok(record)) => {
                        print(&record, output)?;
                        cursor = Some(record.seq);
                        backoff = FIRST_BACKOFF;
                    }
                    Some(Err(status)) if permanent(status.code()) => {
                        return Err(target.explain(&status).into());
                    }
                    Some(Err(status)) => break status.message().to_string(),
                    None => break "the hub ended the stream".to_string(),
                }
            },
            Err(status) if permanent(status.code()) => {
                return Err(target.explain(&status).into());
            }
            Err(status) => status.message().to_string(),
        };
        let resume = cursor.map_or("the newest event".to_string(), |c| format!("event {c}"));
        // On stderr: stdout stays the events alone (a pipe of JSON lines).
        eprintln!(
            "watch interrupted ({}); reconnecting in {backoff:?}, resuming after {resume}",
            socfed_runtime::terminal::clean(&why)
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
