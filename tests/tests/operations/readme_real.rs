//! The README's "Running it for real" section, run as written with the real binaries. The
//! commands are read from README.md itself, so the test fails when the README drifts from
//! what the binaries do.
//!
//! What a person following the section does besides typing the commands, the test does too,
//! and nothing else:
//! - edits the example configs as their comments ask: file paths to where `pki` wrote them,
//!   the data directories, free loopback ports instead of the fixed ones (tests never bind
//!   fixed ports), and `[soc] managers = ["alice"]`; alice is also named CISO in the hub's
//!   `[[operators]]` so that the roster commands of the section are allowed;
//! - reaches the hub by `127.0.0.1:PORT` with `--server-name hub.corp.example`, as the name
//!   `hub.corp.example` does not resolve here;
//! - replaces the placeholder `ID` with the incident escalated above, takes the first of
//!   `a|b` alternatives and drops `[optional]` arguments.
//!
//! Commands that cannot run in one pass are skipped with the reason in `SKIPPED`.

use socfed_tests::procs::{Proc, binary};
use socfed_tests::{eventually, free_port};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Commands of the section not run here, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("sirt-hub incidents watch", "streams until interrupted"),
    ("sirt-hub incidents merge", "needs a second incident"),
    (
        "sirt-hub incidents split",
        "needs a sighting from a second site",
    ),
    (
        "site-agent raise",
        "needs a JSON-lines file of reports (run in federation::raise_batch)",
    ),
    (
        "sirt-hub incidents filed",
        "needs the flag of the line before it to be dated",
    ),
];

/// The fenced `sh` block under `## Running it for real`, one command per entry (continuation
/// lines joined, comments removed).
fn section_commands(readme: &str) -> anyhow::Result<Vec<String>> {
    let start = readme
        .find("## Running it for real")
        .ok_or_else(|| anyhow::anyhow!("README.md has no \"## Running it for real\" section"))?;
    let rest = &readme[start..];
    let open = rest
        .find("```sh\n")
        .ok_or_else(|| anyhow::anyhow!("the section has no ```sh block"))?;
    let body = &rest[open + 6..];
    let close = body
        .find("```")
        .ok_or_else(|| anyhow::anyhow!("the ```sh block is not closed"))?;
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in body[..close].lines() {
        let code = match line.find('#') {
            Some(at) => &line[..at],
            None => line,
        };
        let code = code.trim();
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head.trim());
            pending.push(' ');
            continue;
        }
        pending.push_str(code);
        let command = std::mem::take(&mut pending).trim().to_string();
        if !command.is_empty() {
            commands.push(command);
        }
    }
    Ok(commands)
}

/// Drops `[optional]` groups and keeps the first of `a|b` alternatives.
fn plain(command: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in command.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .map(|word| word.split('|').next().unwrap_or(word))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Shell {
    dir: std::path::PathBuf,
    path: String,
    env: HashMap<String, String>,
}

impl Shell {
    fn run(&self, command: &str) -> anyhow::Result<String> {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(command)
            .current_dir(&self.dir)
            .env("PATH", &self.path)
            .envs(&self.env)
            .output()?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        anyhow::ensure!(
            out.status.success(),
            "`{command}` failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        Ok(stdout)
    }
}

fn edit(path: &Path, edits: &[(&str, String)]) -> anyhow::Result<()> {
    let mut text = std::fs::read_to_string(path)?;
    for (from, to) in edits {
        anyhow::ensure!(
            text.contains(from),
            "{} no longer contains {from:?}",
            path.display()
        );
        text = text.replace(from, to);
    }
    std::fs::write(path, text)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_running_it_for_real_section_works_as_written() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))?;
    let commands = section_commands(&readme)?;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().to_path_buf();
    let hub_bin = binary("sirt-hub")?;
    let bins = hub_bin
        .parent()
        .ok_or_else(|| anyhow::anyhow!("binary without a directory"))?;
    let mut shell = Shell {
        dir: dir.clone(),
        path: format!(
            "{}:{}",
            bins.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
        env: HashMap::new(),
    };
    let (hub_port, agent_port) = (free_port()?, free_port()?);
    let hub_at = format!("127.0.0.1:{hub_port}");
    let agent_at = format!("127.0.0.1:{agent_port}");
    let pki = dir.join("pki");
    let mut procs: Vec<Proc> = Vec::new();
    let mut incident: Option<String> = None;
    let mut ran = Vec::new();
    for command in &commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        let key = words.iter().take(3).copied().collect::<Vec<_>>().join(" ");
        if SKIPPED.iter().any(|(prefix, _)| key.starts_with(prefix)) {
            continue;
        }
        if let Some(exports) = command.strip_prefix("export ") {
            for pair in exports.split_whitespace() {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("bad export {pair}"))?;
                shell
                    .env
                    .insert(k.into(), dir.join(v).display().to_string());
            }
            ran.push(command.clone());
            continue;
        }
        if words.get(1) == Some(&"serve") {
            let config = words
                .last()
                .ok_or_else(|| anyhow::anyhow!("serve without a config"))?;
            let config = dir.join(config);
            let name = words[0];
            procs.push(Proc::spawn(
                &binary(name)?,
                &["serve", "--config", &config.display().to_string()],
                dir.join(format!("{name}.log")),
                name,
            )?);
            ran.push(command.clone());
            if name == "site-agent" {
                // Both up: the agent answers on its local API once connected to the hub.
                let status = format!(
                    "site-agent status --agent {agent_at} --ca pki/ca.crt --cert pki/operators/alice.crt --key pki/operators/alice.key"
                );
                let shell_ref = &shell;
                let answered =
                    eventually("the agent to answer", Duration::from_secs(30), || async {
                        shell_ref.run(&status).ok()
                    })
                    .await;
                if let Err(e) = answered {
                    let logs: Vec<String> = procs.iter().map(|p| p.log_tail(20)).collect();
                    anyhow::bail!("{e}: {:?}\n{}", shell.run(&status).err(), logs.join("\n"));
                }
            }
            continue;
        }
        let mut line = plain(command)
            .replace("hub.corp.example:7443", &hub_at)
            .replace("127.0.0.1:7601", &agent_at);
        if line.starts_with("sirt-hub ")
            && !line.starts_with("sirt-hub pki")
            && !line.starts_with("sirt-hub config")
        {
            if !line.contains("--hub") {
                line.push_str(&format!(" --hub {hub_at}"));
            }
            line.push_str(" --server-name hub.corp.example");
        }
        if line.split_whitespace().any(|w| w == "ID") {
            let id = incident.as_deref().ok_or_else(|| {
                anyhow::anyhow!("`{command}` needs an incident, none escalated yet")
            })?;
            line = line
                .split_whitespace()
                .map(|w| if w == "ID" { id } else { w })
                .collect::<Vec<_>>()
                .join(" ");
        }
        let output = if line.starts_with("sirt-hub incidents list") {
            // The escalation travels agent → hub: wait for it.
            let json = format!("{line} --output json");
            let shell_ref = &shell;
            let listed = eventually("the escalation at the hub", Duration::from_secs(30), || {
                let json = json.clone();
                async move {
                    let out = shell_ref.run(&json).ok()?;
                    out.contains("C2 beacon").then_some(out)
                }
            })
            .await?;
            let value: serde_json::Value = serde_json::from_str(&listed)?;
            incident = value
                .as_array()
                .and_then(|a| a.first())
                .or_else(|| value.pointer("/incidents/0"))
                .and_then(|i| i.get("id").or_else(|| i.get("incident_id")))
                .and_then(|id| id.as_str())
                .map(str::to_string);
            shell.run(&line)?
        } else {
            shell.run(&line)?
        };
        ran.push(command.clone());
        // The user's edits to the example configs, right after they are written.
        if line.starts_with("sirt-hub config example") {
            let p = |f: &str| pki.join(f).display().to_string();
            edit(
                &dir.join("hub.toml"),
                &[
                    ("listen = \"0.0.0.0:7443\"", format!("listen = \"{hub_at}\"")),
                    ("/var/lib/socfed-hub", dir.join("hub-data").display().to_string()),
                    ("/etc/socfed/pki/ca.crt", p("ca.crt")),
                    ("/etc/socfed/pki/hub.crt", p("hub.crt")),
                    ("/etc/socfed/pki/hub.key", p("hub.key")),
                    ("/etc/socfed/pki/crl.pem", p("crl.pem")),
                    ("listen = \"127.0.0.1:9600\"", format!("listen = \"127.0.0.1:{}\"", free_port()?)),
                    ("listen = \"0.0.0.0:7444\"", format!("listen = \"127.0.0.1:{}\"", free_port()?)),
                    ("[[operators]]\nname = \"ines\"", "[[operators]]\nname = \"alice\"\nrole = \"ciso\"\n\n[[operators]]\nname = \"ines\"".to_string()),
                ],
            )?;
        }
        if line.starts_with("site-agent config example") {
            let p = |f: &str| pki.join(f).display().to_string();
            edit(
                &dir.join("paris.toml"),
                &[
                    (
                        "/var/lib/socfed-agent",
                        dir.join("paris-data").display().to_string(),
                    ),
                    ("/etc/socfed/pki/ca.crt", p("ca.crt")),
                    ("/etc/socfed/pki/site.crt", p("sites/paris.crt")),
                    ("/etc/socfed/pki/site.key", p("sites/paris.key")),
                    ("/etc/socfed/pki/crl.pem", p("crl.pem")),
                    (
                        "address = \"hub.corp.example:7443\"",
                        format!("address = \"{hub_at}\"\nserver_name = \"hub.corp.example\""),
                    ),
                    (
                        "listen = \"127.0.0.1:7601\"",
                        format!("listen = \"{agent_at}\""),
                    ),
                    (
                        "listen = \"127.0.0.1:9601\"",
                        format!("listen = \"127.0.0.1:{}\"", free_port()?),
                    ),
                    (
                        "listen = \"127.0.0.1:7602\"",
                        format!("listen = \"127.0.0.1:{}\"", free_port()?),
                    ),
                    (
                        "managers = [\"soc-manager\"]",
                        "managers = [\"alice\"]".to_string(),
                    ),
                ],
            )?;
        }
        let _ = output;
    }
    for required in [
        "sirt-hub pki init",
        "sirt-hub config check",
        "site-agent config check",
        "sirt-hub serve",
        "site-agent serve",
        "site-agent escalate",
        "sirt-hub incidents list",
        "sirt-hub incidents show",
    ] {
        anyhow::ensure!(
            ran.iter().any(|c| c.starts_with(required)),
            "the README section no longer runs `{required}`: {ran:#?}"
        );
    }
    for proc in &mut procs {
        let code = proc.terminate()?;
        anyhow::ensure!(
            code == Some(0),
            "{} exited {code:?}:\n{}",
            proc.name,
            proc.log_tail(30)
        );
    }
    Ok(())
}
