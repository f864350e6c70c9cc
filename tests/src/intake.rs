//! Alert intake through the real binaries: a `site-agent serve` process whose local API
//! answers, `site-agent ingest` runs (from a file or a pipe) and `site-agent alerts list`
//! reads, and the genuine vendor samples beside the repository when they are there.

use crate::pki::TestPki;
use crate::procs::{Proc, binary, write_agent_config};
use crate::{clients, eventually, free_port};
use socfed_proto::pb;
use socfed_runtime::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A real agent process with "tester" as its SOC manager and `extra_soc` appended to its
/// `[soc]` section. The hub address has nothing listening: intake does not need the hub.
pub async fn start_agent(
    dir: &Path,
    pki: &TestPki,
    operator: &TlsFiles,
    extra_soc: &str,
) -> anyhow::Result<(Proc, SocketAddr)> {
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let local_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let extra = format!("[soc]\nmanagers = [\"tester\"]\n{extra_soc}");
    let config = write_agent_config(dir, pki, "paris", hub_addr, local_addr, &extra)?;
    let agent = Proc::spawn(
        &binary("site-agent")?,
        &["serve", "--config", &config.display().to_string()],
        dir.join("agent.log"),
        "paris",
    )?;
    let local = clients::local(local_addr, operator, &pki.domain)?;
    let answered = eventually("the agent to answer", Duration::from_secs(30), || {
        let mut local = local.clone();
        async move { local.get_status(pb::GetStatusRequest {}).await.ok() }
    })
    .await;
    if let Err(e) = answered {
        anyhow::bail!("{e}\nagent log:\n{}", agent.log_tail(50));
    }
    Ok((agent, local_addr))
}

/// `site-agent ARGS… --agent ADDR` as `operator`, not yet waited for.
pub fn agent_cli(agent: SocketAddr, operator: &TlsFiles, args: &[&str]) -> anyhow::Result<Command> {
    let mut command = Command::new(binary("site-agent")?);
    command
        .args(args)
        .args(["--agent", &agent.to_string()])
        .env("SOCFED_CA", &operator.ca)
        .env("SOCFED_CERT", &operator.cert)
        .env("SOCFED_KEY", &operator.key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    Ok(command)
}

/// `site-agent ingest FILE --format FORMAT --output json`, waited for.
pub fn ingest_file(
    agent: SocketAddr,
    operator: &TlsFiles,
    file: &Path,
    format: &str,
) -> anyhow::Result<Output> {
    let file = file.display().to_string();
    Ok(agent_cli(
        agent,
        operator,
        &["ingest", &file, "--format", format, "--output", "json"],
    )?
    .output()?)
}

/// `site-agent ingest - --format FORMAT` reading a pipe the caller writes to and closes.
pub fn ingest_pipe(
    agent: SocketAddr,
    operator: &TlsFiles,
    format: &str,
    extra: &[&str],
) -> anyhow::Result<Child> {
    let mut args = vec!["ingest", "-", "--format", format];
    args.extend_from_slice(extra);
    let mut command = agent_cli(agent, operator, &args)?;
    command.stdin(Stdio::piped());
    Ok(command.spawn()?)
}

/// Every alert group (`alerts list --status all --output json`), as the CLI prints it.
pub fn all_groups(
    agent: SocketAddr,
    operator: &TlsFiles,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let out = agent_cli(
        agent,
        operator,
        &[
            "alerts", "list", "--status", "all", "--limit", "10000", "--output", "json",
        ],
    )?
    .output()?;
    anyhow::ensure!(out.status.success(), "alerts list: {}", describe(&out));
    let groups: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    groups
        .as_array()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("alerts list printed no array: {}", describe(&out)))
}

/// Exit status, stdout and stderr of a finished command, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The genuine vendor samples in `../shared/samples` beside the repository, or `None` (with a
/// message saying the test skips that part) when that directory is absent: it is not part of
/// the repository. `SOCFED_SAMPLES` names another directory holding the same files.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("SOCFED_SAMPLES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping the genuine samples: {} does not exist (it is not part of the repository)",
            dir.display()
        );
        None
    }
}
