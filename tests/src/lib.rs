//! Test harness for socfed: a fresh PKI, hubs and site agents either in-process (the same
//! `app::start` the binaries call) or as real processes of the built binaries, clients that
//! speak the real protocol over mutual TLS, and polling helpers with deadlines (no fixed sleeps).
//! [`fixture::Org`] is the set-up most scenarios share (temp dir, PKI, in-process hub and
//! agents, clients by operator name).

pub mod agent_api;
pub mod api;
pub mod audit;
pub mod bench;
pub mod clients;
pub mod fault_proxy;
pub mod federation;
pub mod fixture;
pub mod inproc;
pub mod intake;
pub mod ledger;
pub mod listing;
pub mod live_conn;
pub mod load;
pub mod pki;
pub mod postgres;
pub mod procs;
pub mod replicas;
pub mod seed;
pub mod sink;
pub mod small_fs;
pub mod web;
pub mod webhook_receiver;

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

/// `N` distinct free loopback ports (see [`free_port`]).
pub fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let mut ports = [0u16; N];
    for port in &mut ports {
        *port = free_port()?;
    }
    Ok(ports)
}

/// A free loopback port (bound, then released; processes restarted on it keep their
/// address), never one this process handed out before: the kernel may give a released port
/// again, and tests run side by side in one process.
pub fn free_port() -> anyhow::Result<u16> {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    for _ in 0..64 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return Ok(port);
        }
    }
    anyhow::bail!("no free loopback port after 64 tries")
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

/// A plain HTTP/1.1 GET to `addr` (the admin listeners): `(status, body)`, or `None` when the
/// listener does not answer.
pub fn http_get(addr: std::net::SocketAddr, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())?;
    Some((status, body))
}
