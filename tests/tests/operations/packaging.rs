//! What the repository promises about packaging, checked against the real binaries: the example
//! configs in `deploy/config/` are what `config example` prints, bash completion works past the
//! first subcommand, the exit statuses are the documented ones, one `SOCFED_*` env prefix, the
//! licence file matches `Cargo.toml`, and the container health check answers against a real
//! admin listener.

use socfed_tests::procs::{Proc, binary, write_hub_config};
use socfed_tests::{eventually, fixture::Org, free_port, http_get};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn run(bin: &str, args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(binary(bin)?).args(args).output()?)
}

#[test]
fn deploy_configs_are_exactly_what_config_example_prints() -> anyhow::Result<()> {
    for (bin, file) in [
        ("sirt-hub", "deploy/config/sirt-hub.toml"),
        ("site-agent", "deploy/config/site-agent.toml"),
    ] {
        let out = run(bin, &["config", "example"])?;
        assert!(out.status.success(), "{bin} config example failed");
        let printed = String::from_utf8(out.stdout)?;
        let stored = std::fs::read_to_string(repo().join(file))?;
        assert_eq!(
            printed.trim_end(),
            stored.trim_end(),
            "{file} has drifted from `{bin} config example`: regenerate it with `{bin} config example > {file}`"
        );
    }
    Ok(())
}

/// Completes `words` (the last one partial) with the script `bin completions bash` prints, in a
/// real bash, and returns the candidates.
fn bash_complete(bin: &str, words: &[&str]) -> anyhow::Result<Vec<String>> {
    let out = run(bin, &["completions", "bash"])?;
    assert!(out.status.success());
    let tmp = tempfile::tempdir()?;
    let script = tmp.path().join("completion.bash");
    std::fs::write(&script, &out.stdout)?;
    let function = format!("_{}", bin.replace('-', "__"));
    let cword = words.len() - 1;
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; {function} '{bin}' '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words[cword],
        words[cword - 1],
    );
    let out = Command::new("bash").arg("-c").arg(program).output()?;
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

#[test]
fn bash_completion_completes_nested_subcommands_of_both_binaries() -> anyhow::Result<()> {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("skipped: no bash on this machine");
        return Ok(());
    }
    assert_eq!(
        bash_complete("sirt-hub", &["sirt-hub", "incidents", "transi"])?,
        ["transition"]
    );
    assert_eq!(
        bash_complete("sirt-hub", &["sirt-hub", "pki", "rev"])?,
        ["revoke"]
    );
    assert_eq!(
        bash_complete("site-agent", &["site-agent", "tasks", "dec"])?,
        ["decline"]
    );
    // The first level still works.
    assert_eq!(
        bash_complete("site-agent", &["site-agent", "escal"])?,
        ["escalate"]
    );
    Ok(())
}

#[test]
fn exit_statuses_tell_usage_config_and_unreachable_apart() -> anyhow::Result<()> {
    let org = Org::new()?;
    let ines = org.pki.operator("ines")?;
    // Usage: clap's 2.
    let out = run("sirt-hub", &["incidents", "no-such-subcommand"])?;
    assert_eq!(out.status.code(), Some(2));
    // Configuration: 78, through the SOCFED_* variable that names the config.
    let bad = org.dir().join("bad.toml");
    std::fs::write(&bad, "this is = = not toml")?;
    for (bin, var) in [
        ("sirt-hub", "SOCFED_HUB_CONFIG"),
        ("site-agent", "SOCFED_AGENT_CONFIG"),
    ] {
        let out = Command::new(binary(bin)?)
            .arg("serve")
            .env(var, &bad)
            .output()?;
        assert_eq!(out.status.code(), Some(78), "{bin} with {var}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
    }
    // Nothing listening: 69 (EX_UNAVAILABLE), not the generic 1.
    let closed = format!("127.0.0.1:{}", free_port()?);
    let cert = [
        "--ca",
        &ines.ca.display().to_string(),
        "--cert",
        &ines.cert.display().to_string(),
        "--key",
        &ines.key.display().to_string(),
    ]
    .map(|s| s.to_string());
    let mut args = vec!["incidents", "list", "--hub", &closed];
    args.extend(cert.iter().map(String::as_str));
    let out = run("sirt-hub", &args)?;
    assert_eq!(
        out.status.code(),
        Some(69),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut args = vec!["status", "--agent", &closed];
    args.extend(cert.iter().map(String::as_str));
    let out = run("site-agent", &args)?;
    assert_eq!(
        out.status.code(),
        Some(69),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[test]
fn license_file_is_the_licence_cargo_toml_names() -> anyhow::Result<()> {
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml"))?;
    assert!(manifest.contains("license = \"Apache-2.0\""));
    let license = std::fs::read_to_string(repo().join("LICENSE"))?;
    assert!(license.contains("Apache License"));
    assert!(license.contains("Version 2.0, January 2004"));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    Ok(())
}

/// The `HEALTHCHECK` command of a Containerfile, with its admin port.
fn healthcheck(containerfile: &str) -> anyhow::Result<(String, u16)> {
    let text = std::fs::read_to_string(repo().join(containerfile))?;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("CMD [\"bash\""))
        .ok_or_else(|| anyhow::anyhow!("{containerfile} has no bash HEALTHCHECK"))?;
    let args: Vec<String> = serde_json::from_str(line.trim_start().trim_start_matches("CMD "))?;
    let script = args
        .last()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("empty HEALTHCHECK"))?;
    let port = script
        .split("/dev/tcp/127.0.0.1/")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .ok_or_else(|| anyhow::anyhow!("no admin port in {script}"))?
        .parse()?;
    Ok((script, port))
}

#[test]
fn container_health_check_reads_livez_of_a_real_hub() -> anyhow::Result<()> {
    for file in [
        "deploy/container/Containerfile.hub",
        "deploy/container/Containerfile.agent",
    ] {
        let text = std::fs::read_to_string(repo().join(file))?;
        assert!(text.contains("AS build"), "{file}: multi-stage build");
        assert!(
            text.lines()
                .any(|l| l.starts_with("USER ")
                    && l[5..].split(':').all(|p| p.parse::<u32>().is_ok())),
            "{file}: numeric USER"
        );
    }
    assert!(std::fs::read_to_string(repo().join(".containerignore"))?.contains("target/"));

    let (script, port) = healthcheck("deploy/container/Containerfile.hub")?;
    let org = Org::new()?;
    let admin: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let listen = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = write_hub_config(
        org.dir(),
        &org.pki,
        listen,
        &["paris"],
        &format!("[admin]\nlisten = \"{admin}\"\n"),
    )?;
    let check = || {
        let script = script.replace(
            &format!("/127.0.0.1/{port}"),
            &format!("/127.0.0.1/{}", admin.port()),
        );
        Command::new("bash").arg("-c").arg(script).status()
    };
    assert!(
        !check()?.success(),
        "the check passes with nothing listening"
    );
    let mut hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", &config.display().to_string()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(eventually(
        "the admin listener to answer",
        Duration::from_secs(30),
        || async { http_get(admin, "/livez").map(|_| ()) },
    ))?;
    assert!(check()?.success(), "{}", hub.log_tail(20));
    hub.terminate()?;
    Ok(())
}
