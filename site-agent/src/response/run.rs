//! Runs one planned action: a command (no shell, cleared environment, in its own process group
//! that is ended at its timeout and when it finishes; see [`super::groups`]) or a webhook POST
//! (no redirect followed). Reports what happened; never panics on what the action does.

use super::groups::{self, ActionGroup, GroupGuard};
use super::playbook::Action;
use std::process::Stdio;
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub succeeded: bool,
    pub exit_code: Option<i32>,
    /// Tail of the output (stdout then stderr, or the response body).
    pub output: String,
    pub detail: String,
}

/// Reads `pipe` to its end, keeping only the last `max` bytes.
async fn read_tail(pipe: Option<impl tokio::io::AsyncRead + Unpin>, max: usize) -> Vec<u8> {
    let Some(mut pipe) = pipe else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&chunk[..n]);
        if kept.len() > 2 * max {
            kept.drain(..kept.len() - max);
        }
    }
    kept
}

/// Keeps the last `max` bytes of `bytes` as text.
fn tail(bytes: &[u8], max: usize) -> String {
    let start = bytes.len().saturating_sub(max);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Runs `action`. `spawned` is called with a command's process group as soon as it exists (the
/// engine records it durably, so that a restart can end what a killed agent left running).
pub async fn execute(
    action: &Action,
    http: Option<&reqwest::Client>,
    max_output: usize,
    spawned: impl FnOnce(ActionGroup),
) -> RunOutcome {
    match action {
        Action::Command { argv, timeout } => command(argv, *timeout, max_output, spawned).await,
        Action::Webhook { url, body, timeout } => match http {
            Some(http) => webhook(http, url, body, *timeout, max_output).await,
            None => RunOutcome {
                succeeded: false,
                exit_code: None,
                output: String::new(),
                detail: "the agent has no HTTP client (see its log at start)".into(),
            },
        },
    }
}

/// Reads a pipe in its own task, so the leader's exit is seen even while output still flows.
fn reader(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    max: usize,
) -> tokio::task::JoinHandle<Vec<u8>> {
    tokio::spawn(read_tail(pipe, max))
}

/// The output a reader collected; empty if a process that left the group still holds the pipe.
async fn collected(reader: tokio::task::JoinHandle<Vec<u8>>) -> Vec<u8> {
    let abort = reader.abort_handle();
    match tokio::time::timeout(groups::GRACE, reader).await {
        Ok(Ok(bytes)) => bytes,
        _ => {
            abort.abort();
            Vec::new()
        }
    }
}

async fn command(
    argv: &[String],
    timeout: std::time::Duration,
    max_output: usize,
    spawned: impl FnOnce(ActionGroup),
) -> RunOutcome {
    let failed = |detail: String| RunOutcome {
        succeeded: false,
        exit_code: None,
        output: String::new(),
        detail,
    };
    let Some((program, args)) = argv.split_first() else {
        return failed("the playbook has no command".into());
    };
    // The environment is cleared so the agent's own (which may hold secrets) never reaches
    // the action; PATH is the usual system one for programs the action itself runs. A new
    // process group holds everything the action starts, so all of it can be ended together.
    let spawn = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawn {
        Ok(child) => child,
        Err(e) => return failed(format!("could not start {program}: {e}")),
    };
    let Some(pgid) = child.id().and_then(|pid| i32::try_from(pid).ok()) else {
        return failed(format!("{program} exited before it could be watched"));
    };
    // Dropped with this future (agent shutdown): the whole group goes.
    let _guard = GroupGuard { pgid };
    if let Some(group) = child.id().and_then(ActionGroup::of) {
        spawned(group);
    }
    let out = reader(child.stdout.take(), max_output);
    let err = reader(child.stderr.take(), max_output);
    let leader_exit = tokio::task::spawn_blocking(move || groups::wait_exited_unreaped(pgid));
    let timed_out = tokio::time::timeout(timeout, leader_exit).await.is_err();
    if timed_out {
        groups::signal(pgid, rustix::process::Signal::TERM);
        let leader_exit = tokio::task::spawn_blocking(move || groups::wait_exited_unreaped(pgid));
        let _ = tokio::time::timeout(groups::GRACE, leader_exit).await;
    }
    // The leader has exited (or is being killed) and is not reaped yet, so the group id is
    // still this action's: whatever it left running ends with it.
    groups::signal(pgid, rustix::process::Signal::KILL);
    let status = child.wait().await;
    let (mut out, err) = (collected(out).await, collected(err).await);
    if timed_out {
        return failed(format!(
            "{program} did not finish within {}; it and every process it started were killed",
            humantime::format_duration(timeout)
        ));
    }
    match status {
        Err(e) => failed(format!("waiting for {program}: {e}")),
        Ok(status) => {
            out.extend_from_slice(&err);
            let code = status.code();
            RunOutcome {
                succeeded: status.success(),
                exit_code: code,
                output: tail(&out, max_output),
                detail: match code {
                    Some(0) => format!("{program} exited 0"),
                    Some(n) => format!("{program} exited {n}"),
                    None => format!("{program} was killed by a signal"),
                },
            }
        }
    }
}

async fn webhook(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    timeout: std::time::Duration,
    max_output: usize,
) -> RunOutcome {
    match http.post(url).json(body).timeout(timeout).send().await {
        Err(e) => RunOutcome {
            succeeded: false,
            exit_code: None,
            output: String::new(),
            // Without the URL: it may carry a token.
            detail: format!(
                "webhook {} failed: {}",
                super::playbook::host_of(url),
                e.without_url()
            ),
        },
        Ok(response) => {
            let status = response.status();
            // At most 64 KiB is read (its tail kept): an endless answer does not fill memory.
            let text = socfed_runtime::webhook::client::read_capped(
                response,
                socfed_runtime::webhook::client::MAX_RESPONSE_BYTES,
            )
            .await;
            RunOutcome {
                succeeded: status.is_success(),
                exit_code: None,
                output: tail(&text, max_output),
                detail: if status.is_redirection() {
                    format!(
                        "webhook {} answered HTTP {} (a redirect: not followed, the body is sent to the configured URL only; configure the final URL)",
                        super::playbook::host_of(url),
                        status.as_u16()
                    )
                } else {
                    format!(
                        "webhook {} answered HTTP {}",
                        super::playbook::host_of(url),
                        status.as_u16()
                    )
                },
            }
        }
    }
}
