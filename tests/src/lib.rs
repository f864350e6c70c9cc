//! Test harness for socfed: a fresh PKI, hubs and site agents either in-process (the same
//! `app::start` the binaries call) or as real processes of the built binaries, clients that
//! speak the real protocol over mutual TLS, and polling helpers with deadlines (no fixed sleeps).

pub mod clients;
pub mod inproc;
pub mod pki;
pub mod procs;
pub mod sink;

use std::time::Duration;

/// Polls `check` every 50 ms until it returns `Some`, or fails after `deadline` with `what`.
pub async fn eventually<T, F, Fut>(
    what: &str,
    deadline: Duration,
    mut check: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= until {
            anyhow::bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A free loopback port (bound, then released). Processes restarted on it keep their address.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Installs a test log subscriber once (RUST_LOG filters; default warnings only).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
