//! The `site-agent` binary as a user runs it: config checks and exit codes.

use assert_cmd::Command;

fn agent() -> Command {
    Command::cargo_bin("site-agent").expect("site-agent is built")
}

#[test]
fn config_example_is_valid_and_bad_values_exit_78_naming_the_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let example = agent().args(["config", "example"]).output()?;
    assert!(example.status.success());
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, &example.stdout)?;
    // Well-formed, but its TLS files are not on this machine: `config check` opens them.
    let out = agent().args(["config", "check"]).arg(&path).output()?;
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[tls]") && stderr.contains("ca.crt"),
        "{stderr}"
    );

    let text = String::from_utf8(example.stdout)?
        .replace("on_full = \"refuse-new\"", "on_full = \"shrug\"");
    std::fs::write(&path, text)?;
    let out = agent().args(["serve", "--config"]).arg(&path).output()?;
    assert_eq!(out.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("on_full"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

#[test]
fn escalate_refuses_malformed_indicators_before_calling_the_agent() -> anyhow::Result<()> {
    let out = agent()
        .args([
            "escalate",
            "--title",
            "t",
            "--severity",
            "high",
            "--indicator",
            "ip:999.1.1.1",
        ])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an IP address"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
