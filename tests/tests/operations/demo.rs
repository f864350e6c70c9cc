//! The quick-start command, `sirt-hub demo`, run as a user runs it: the whole federation as
//! real processes, and with `--keep-running` the commands it prints, run exactly as printed
//! (an incident transition, directives through the sites' playbooks, a hunt), its dashboard
//! sign-in link opened over HTTPS trusting only the demo CA, and its metrics fetched. The
//! commands the README's quick start shows are the ones the demo prints.

use socfed_tests::eventually;
use socfed_tests::procs::binary;
use socfed_tests::web::{https_trusting, open_link, sign_in};
use std::path::Path;
use std::time::Duration;

#[test]
fn the_quick_start_demo_shows_one_threat_at_two_sites_and_exits_cleanly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = std::process::Command::new(binary("sirt-hub")?)
        .args(["demo", "--dir"])
        .arg(dir.path())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("(6 escalations, 5 incidents)"), "{stdout}");
    assert!(stdout.contains("one threat, 2 sites"), "{stdout}");
    assert!(stdout.contains("paris,lyon"), "{stdout}");
    assert!(stdout.contains("federation stopped cleanly"), "{stdout}");
    // Its PKI and data stay in --dir for inspection.
    assert!(dir.path().join("pki/ca.crt").exists() && dir.path().join("hub-data").exists());
    Ok(())
}

/// What `demo --keep-running` printed before it waits: the shell lines, the sign-in link and
/// the metrics URLs.
struct Guide {
    export: String,
    commands: Vec<String>,
    sign_in: String,
    /// Each site's SOC console sign-in link.
    consoles: Vec<String>,
    metrics: Vec<String>,
}

impl Guide {
    /// The printed command that contains `needle` (commands are matched on their words).
    fn command(&self, needle: &str) -> anyhow::Result<&str> {
        self.commands
            .iter()
            .find(|c| c.contains(needle))
            .map(String::as_str)
            .ok_or_else(|| anyhow::anyhow!("the demo printed no `{needle}` command"))
    }

    fn all(&self, needle: &str) -> Vec<&str> {
        self.commands
            .iter()
            .filter(|c| c.contains(needle))
            .map(String::as_str)
            .collect()
    }
}

fn read_guide(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> anyhow::Result<Guide> {
    let (mut export, mut commands, mut sign_in, mut metrics) = (None, Vec::new(), None, Vec::new());
    let mut consoles = Vec::new();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line?;
        printed.push(line.clone());
        let trimmed = line.trim();
        if trimmed.starts_with("export SOCFED_CA=") {
            export = Some(trimmed.to_string());
        } else if line.starts_with("  ")
            && let Some(first) = trimmed.split_whitespace().next()
            && (first.ends_with("/sirt-hub") || first.ends_with("/site-agent"))
        {
            commands.push(trimmed.to_string());
        }
        // The dashboard's link comes first; the sites' console links follow.
        if trimmed.contains("/login?token=") {
            let link = trimmed.split_whitespace().last().map(str::to_string);
            if sign_in.is_none() {
                sign_in = link;
            } else {
                consoles.extend(link);
            }
        }
        for word in trimmed.split_whitespace() {
            if word.starts_with("http://") && word.ends_with("/metrics") {
                metrics.push(word.to_string());
            }
        }
        if line.starts_with("logs:") {
            break;
        }
    }
    let whole = printed.join("\n");
    Ok(Guide {
        export: export.ok_or_else(|| anyhow::anyhow!("no export line in:\n{whole}"))?,
        commands,
        sign_in: sign_in.ok_or_else(|| anyhow::anyhow!("no sign-in link in:\n{whole}"))?,
        consoles,
        metrics,
    })
}

/// Runs `command` in `sh` with the printed environment, exactly as a user pastes it.
fn sh(export: &str, command: &str) -> anyhow::Result<String> {
    let out = std::process::Command::new("sh")
        .args(["-c", &format!("{export} && {command}")])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "`{command}` failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// [`sh`] with `--output json` appended (before the printed comment, if any), its stdout
/// parsed.
async fn sh_json(export: &str, command: &str) -> Option<serde_json::Value> {
    let bare = command.split(" #").next().unwrap_or(command).trim_end();
    let bare = bare.trim_end_matches(" --output json");
    let (export, command) = (export.to_string(), format!("{bare} --output json"));
    let out = tokio::task::spawn_blocking(move || sh(&export, &command))
        .await
        .ok()?
        .ok()?;
    serde_json::from_str(&out).ok()
}

/// A printed command as the README shows it: binaries by name, the demo directory as DIR,
/// loopback ports as PORT and ids (ULIDs) as ID.
fn normalised(command: &str, dir: &Path) -> String {
    let command = command.replace(&dir.display().to_string(), "DIR");
    command
        .split_whitespace()
        .map(|word| {
            if let Some(name) = ["sirt-hub", "site-agent"]
                .into_iter()
                .find(|n| word.ends_with(&format!("/{n}")))
            {
                return name.to_string();
            }
            if let Some(at) = word.find("127.0.0.1:") {
                let port_at = at + "127.0.0.1:".len();
                let digits = word[port_at..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                return format!("{}PORT{}", &word[..port_at], &word[port_at + digits..]);
            }
            if ulid::Ulid::from_string(word).is_ok() {
                return "ID".to_string();
            }
            word.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The command lines of the README quick start's printed-output block, whitespace collapsed.
fn readme_quick_start_commands() -> anyhow::Result<Vec<String>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))?;
    let start = readme
        .find("## Quick start")
        .ok_or_else(|| anyhow::anyhow!("README.md has no quick start"))?;
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let open = section
        .find("```text\n")
        .ok_or_else(|| anyhow::anyhow!("the quick start shows no ```text block of the demo"))?;
    let body = &section[open + 8..];
    let body = &body[..body.find("```").unwrap_or(body.len())];
    Ok(body
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| {
            ["sirt-hub ", "site-agent ", "export "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect())
}

/// The running demo; SIGTERM when dropped (a failed assertion included), so that the demo
/// stops the hub and agents it started (SIGKILL would leave them running).
struct Demo(std::process::Child);

impl Demo {
    fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        if self.0.try_wait()?.is_none() {
            let pid = rustix::process::Pid::from_raw(i32::try_from(self.0.id())?)
                .ok_or_else(|| anyhow::anyhow!("pid"))?;
            rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
        }
        Ok(self.0.wait()?)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.terminate();
    }
}

#[test]
fn demo_keep_running_leaves_a_federation_where_the_printed_commands_and_sign_in_link_work()
-> anyhow::Result<()> {
    use std::io::BufRead;
    let dir = tempfile::tempdir()?;
    let mut demo = Demo(
        std::process::Command::new(binary("sirt-hub")?)
            .args(["demo", "--keep-running", "--dir"])
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let stdout = demo
        .0
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let guide = read_guide(&mut lines)?;
    tokio::runtime::Runtime::new()?.block_on(check_guide(&guide, dir.path()))?;

    let status = demo.terminate()?;
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(status.success(), "demo exit {status:?}: {rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("federation stopped cleanly")),
        "{rest:?}"
    );
    Ok(())
}

async fn check_guide(guide: &Guide, dir: &Path) -> anyhow::Result<()> {
    let export = guide.export.as_str();

    // The README shows exactly the commands the demo prints.
    let printed: Vec<String> = std::iter::once(export)
        .chain(guide.commands.iter().map(String::as_str))
        .map(|c| normalised(c, dir))
        .collect();
    assert_eq!(
        printed,
        readme_quick_start_commands()?,
        "README.md's quick start must show what `sirt-hub demo --keep-running` prints"
    );

    let sites = sh_json(export, guide.command(" sites --hub ")?)
        .await
        .ok_or_else(|| anyhow::anyhow!("sites"))?;
    let connected = sites
        .as_array()
        .map_or(0, |s| s.iter().filter(|s| s["connected"] == true).count());
    assert_eq!(connected, 3, "{sites}");

    // A phase transition, as printed: the demo operator holds a role at the hub.
    let triage = sh(export, guide.command(" incidents transition ")?)?;
    assert!(triage.contains("status:     triage"), "{triage}");

    // Directives through the sites' playbooks: a harmless command runs at two sites, and a
    // dry-run playbook records what it would run.
    let directives = guide.all(" incidents directive ");
    assert_eq!(directives.len(), 2, "{directives:?}");
    for directive in &directives {
        sh(export, directive)?;
    }
    let listing = guide.command(" incidents directives ")?;
    let states = eventually(
        "the directives to reach their final state at every site",
        Duration::from_secs(30),
        || async {
            let list = sh_json(export, listing).await?;
            let mut states: Vec<(String, String, String)> = list["directives"]
                .as_array()?
                .iter()
                .map(|d| {
                    let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                    (text("site"), text("kind"), text("state"))
                })
                .collect();
            states.sort();
            states
                .iter()
                .all(|(_, _, s)| s == "succeeded" || s == "dry-run")
                .then_some((states, list))
        },
    )
    .await?;
    let (states, list) = states;
    let owned = |s: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        s.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        states,
        owned(&[
            ("lyon", "block_indicator", "succeeded"),
            ("paris", "block_indicator", "succeeded"),
            ("paris", "isolate_host", "dry-run"),
        ]),
        "{list:#}"
    );
    let outputs: Vec<&str> = list["directives"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["kind"] == "block_indicator")
        .filter_map(|d| d["output"].as_str())
        .collect();
    assert!(
        outputs.len() == 2
            && outputs
                .iter()
                .all(|o| o.contains("login-m1crosoft.example")),
        "the playbook's command ran with the directive's parameter: {list:#}"
    );

    // A hunt, as printed: every site sweeps its stored alerts; Oslo holds an alert with the
    // phishing domain although it raised no incident about it.
    let started = sh(export, guide.command(" hunt start ")?)?;
    let hunt_id = started
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no hunt id in {started}"))?
        .to_string();
    let hunts = guide.command(" hunt list ")?;
    let hits = eventually(
        "the hunt to be done at every site",
        Duration::from_secs(30),
        || async {
            let list = sh_json(export, hunts).await?;
            // `hunt list` prints one page: `{hunts, total, next_page_token}`.
            let hunt = list["hunts"]
                .as_array()?
                .iter()
                .find(|h| h["hunt_id"] == hunt_id.as_str())?
                .clone();
            let sites = hunt["sites"].as_array()?;
            (sites.len() == 3 && sites.iter().all(|s| s["progress"] == "done")).then(|| {
                sites
                    .iter()
                    .map(|s| {
                        (
                            s["site"].as_str().unwrap_or_default().to_string(),
                            s["hit_count"].as_u64().unwrap_or_default(),
                        )
                    })
                    .collect::<std::collections::BTreeMap<_, _>>()
            })
        },
    )
    .await?;
    assert_eq!(
        hits.into_iter().collect::<Vec<_>>(),
        [("lyon".into(), 0), ("oslo".into(), 1), ("paris".into(), 0)],
    );

    // The sign-in link opens the dashboard over the demo's TLS, once.
    let client = https_trusting(&dir.join("pki/ca.crt"), Duration::from_secs(10))?;
    let base = guide
        .sign_in
        .split("/login?")
        .next()
        .unwrap_or_default()
        .to_string();
    let session = sign_in(&client, &base, &guide.sign_in).await?;
    let board = client
        .get(format!("{base}/"))
        .header("cookie", &session)
        .send()
        .await?;
    assert_eq!(board.status(), 200);
    let board = board.text().await?;
    assert!(
        board.contains("Credential phishing wave against finance"),
        "{board}"
    );
    let (_, again) = open_link(&client, &guide.sign_in).await?;
    assert!(again.is_none(), "a sign-in link works once");

    // Each site's console link opens its triage queue, as the site's SOC manager.
    assert_eq!(guide.consoles.len(), 3, "{:?}", guide.consoles);
    for link in &guide.consoles {
        let base = link.split("/login?").next().unwrap_or_default();
        let session = sign_in(&client, base, link).await?;
        let queue = client
            .get(format!("{base}/"))
            .header("cookie", &session)
            .send()
            .await?;
        assert_eq!(queue.status(), 200, "{link}");
        let queue = queue.text().await?;
        assert!(
            queue.contains("Triage queue") && queue.contains("demo-operator (SOC manager)"),
            "{queue}"
        );
    }

    // The admin listeners serve metrics: the hub's and every agent's.
    assert_eq!(guide.metrics.len(), 4, "{:?}", guide.metrics);
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    for url in &guide.metrics {
        let r = plain.get(url).send().await?;
        assert_eq!(r.status(), 200, "{url}");
        assert!(r.text().await?.contains("socfed_"), "{url}");
    }
    Ok(())
}
