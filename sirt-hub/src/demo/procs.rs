//! The demo's child processes (the hub and the agents, started from the binaries next to
//! `sirt-hub`), free loopback addresses for them, and retrying calls until they answer.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Child processes, stopped with SIGTERM (then SIGKILL) when dropped.
pub struct Children(Vec<(String, Child)>);

impl Children {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Starts `binary serve --config CONFIG`, its output appended to `log`.
    pub fn spawn(
        &mut self,
        binary: &Path,
        config: &Path,
        log: &Path,
        name: &str,
    ) -> anyhow::Result<()> {
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(binary)
            .args(["serve", "--config"])
            .arg(config)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        self.0.push((name.to_string(), child));
        Ok(())
    }

    /// SIGTERM to each, newest first; fails naming those that did not exit cleanly.
    pub fn terminate(&mut self) -> anyhow::Result<()> {
        let mut failures = Vec::new();
        for (name, child) in self.0.iter_mut().rev() {
            if let Some(pid) = i32::try_from(child.id())
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            let status = loop {
                if let Some(status) = child.try_wait()? {
                    break Some(status);
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if !status.is_some_and(|s| s.success()) {
                failures.push(format!("{name} ({status:?})"));
            }
        }
        self.0.clear();
        anyhow::ensure!(
            failures.is_empty(),
            "did not shut down cleanly: {}",
            failures.join(", ")
        );
        Ok(())
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback address nobody listens on now (bound, then released for a child to bind),
/// never one handed out before by this process: the kernel may give a released port again,
/// and two of the demo's listeners on one port would leave one service unreachable.
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    for _ in 0..64 {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        if !handed_out.contains(&addr.port()) {
            handed_out.push(addr.port());
            return Ok(addr);
        }
    }
    anyhow::bail!("no free loopback port after 64 tries; is this machine out of ports?")
}

/// Calls `f` until it succeeds or `deadline` passes.
pub async fn retry<T, F, Fut>(what: &str, deadline: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match f().await {
            Ok(value) => return Ok(value),
            Err(status) if tokio::time::Instant::now() >= until => {
                anyhow::bail!("{what}: {}", status.message())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
