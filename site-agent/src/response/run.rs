//! Runs one planned action: a command (no shell, cleared environment, killed at its timeout)
//! or a webhook POST. Reports what happened; never panics on what the action does.

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

pub async fn execute(action: &Action, http: &reqwest::Client, max_output: usize) -> RunOutcome {
    match action {
        Action::Command { argv, timeout } => command(argv, *timeout, max_output).await,
        Action::Webhook { url, body, timeout } => {
            webhook(http, url, body, *timeout, max_output).await
        }
    }
}

async fn command(argv: &[String], timeout: std::time::Duration, max_output: usize) -> RunOutcome {
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
    // the action; PATH is the usual system one for programs the action itself runs.
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => return failed(format!("could not start {program}: {e}")),
    };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let collect = async {
        // Both pipes at once (a full stderr pipe must not stall the command), keeping tails.
        let (out, err) = tokio::join!(read_tail(stdout, max_output), read_tail(stderr, max_output));
        let status = child.wait().await;
        (out, err, status)
    };
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => failed(format!(
            "{program} did not finish within {}; it was killed",
            humantime::format_duration(timeout)
        )),
        Ok((_, _, Err(e))) => failed(format!("waiting for {program}: {e}")),
        Ok((mut out, err, Ok(status))) => {
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
            let text = response.bytes().await.unwrap_or_default();
            RunOutcome {
                succeeded: status.is_success(),
                exit_code: None,
                output: tail(&text, max_output),
                detail: format!(
                    "webhook {} answered HTTP {}",
                    super::playbook::host_of(url),
                    status.as_u16()
                ),
            }
        }
    }
}
