//! Real processes of the built `sirt-hub` and `site-agent` binaries, with configs written to a
//! temp dir, fixed loopback ports (so restarts keep their address) and logs kept for failures.

use crate::pki::TestPki;
use socfed_runtime::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `target/<profile>/NAME`: next to the running binary (a harness binary such as the
/// benchmarks) or one level up (test executables live in `target/<profile>/deps/`).
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("SOCFED_BIN_DIR") {
        return Ok(Path::new(&dir).join(name));
    }
    let exe = std::env::current_exe()?;
    let here = exe
        .parent()
        .ok_or_else(|| anyhow::anyhow!("unexpected binary location {}", exe.display()))?;
    for dir in [Some(here), here.parent()].into_iter().flatten() {
        let path = dir.join(name);
        if path.is_file() {
            return Ok(path);
        }
    }
    anyhow::bail!(
        "{name} is not built next to {}; run the suite with `cargo test --workspace` (it builds the binaries), build with `cargo build --workspace --bins`, or set SOCFED_BIN_DIR",
        exe.display()
    )
}

/// A running child process that is killed if the test ends early.
pub struct Proc {
    pub name: String,
    args: Vec<String>,
    binary: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Extra environment for the next start (`set_env`).
    env: Vec<(String, String)>,
}

impl Proc {
    pub fn spawn(binary: &Path, args: &[&str], log: PathBuf, name: &str) -> anyhow::Result<Self> {
        let mut this = Self {
            name: name.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            binary: binary.to_path_buf(),
            log,
            child: None,
            env: Vec::new(),
        };
        this.start()?;
        Ok(this)
    }

    fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.binary)
            .args(&self.args)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Sets (`Some`) or removes (`None`) an environment variable for the next (re)start.
    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        if let Some(value) = value {
            self.env.push((key.to_string(), value.to_string()));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// How the process ended, if it exited on its own (None while it runs).
    pub fn exited(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => Ok(None),
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            // A child that already exited (a failpoint) is only reaped.
            if child.try_wait()?.is_none() {
                child.kill()?;
            }
            child.wait()?;
        }
        Ok(())
    }

    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill9()?;
        self.start()
    }

    /// SIGTERM and wait for a clean exit; returns the exit status code.
    pub fn terminate(&mut self) -> anyhow::Result<Option<i32>> {
        let Some(mut child) = self.child.take() else {
            return Ok(None);
        };
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.code());
            }
            if std::time::Instant::now() > deadline {
                child.kill()?;
                anyhow::bail!("{} did not exit within 20 s of SIGTERM", self.name);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

fn files_toml(files: &TlsFiles) -> String {
    format!(
        "ca = {:?}\ncert = {:?}\nkey = {:?}\n",
        files.ca, files.cert, files.key
    )
}

/// Writes a hub config enrolling `sites` and returns its path.
/// Points the service config at `path` to the CRL file `crl` and has it re-read its TLS
/// material every 200 ms (so a `pki revoke` takes effect within a test's patience).
pub fn with_crl(path: &Path, crl: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let text = format!("tls_reload_interval = \"200ms\"\n{text}").replacen(
        "[tls]\n",
        &format!("[tls]\ncrl = {:?}\n", crl.display().to_string()),
        1,
    );
    std::fs::write(path, text)?;
    Ok(())
}

pub fn write_hub_config(
    dir: &Path,
    pki: &TestPki,
    listen: SocketAddr,
    sites: &[&str],
    extra: &str,
) -> anyhow::Result<PathBuf> {
    let mut text = format!(
        "listen = \"{listen}\"\ndata_dir = {:?}\ntrust_domain = \"{}\"\n[tls]\n{}",
        dir.join("hub-data"),
        pki.domain,
        files_toml(&pki.hub())
    );
    for site in sites {
        text.push_str(&format!("[[sites]]\nid = \"{site}\"\n"));
    }
    text.push_str(extra);
    let path = dir.join("hub.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Writes an agent config for `site` and returns its path.
pub fn write_agent_config(
    dir: &Path,
    pki: &TestPki,
    site: &str,
    hub: SocketAddr,
    listen: SocketAddr,
    extra: &str,
) -> anyhow::Result<PathBuf> {
    let files = pki.site(site)?;
    let text = format!(
        "site_id = \"{site}\"\ndata_dir = {:?}\ntrust_domain = \"{}\"\n[tls]\n{}[hub]\naddress = \"{hub}\"\nbackoff_initial = \"50ms\"\nbackoff_max = \"500ms\"\nstatus_interval = \"200ms\"\n[local_api]\nlisten = \"{listen}\"\n{extra}",
        dir.join(format!("{site}-data")),
        pki.domain,
        files_toml(&files)
    );
    // The operators the scenario tests use are SOC managers at every site (the bootstrap list).
    let text = if extra.contains("[soc]") {
        text
    } else {
        format!(
            "{text}\n[soc]\nmanagers = [\"tester\", \"alice\", \"ir-lead\", \"auditor\", \"monitor\"]\n"
        )
    };
    let path = dir.join(format!("{site}.toml"));
    std::fs::write(&path, text)?;
    Ok(path)
}
