//! The `sirt-hub` binary as a user runs it: config checks, PKI commands, exit codes.

use assert_cmd::Command;
use std::os::unix::fs::PermissionsExt;

fn hub() -> Command {
    Command::cargo_bin("sirt-hub").expect("sirt-hub is built")
}

#[test]
fn config_example_is_valid_and_a_bad_config_exits_78_naming_the_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let example = hub().args(["config", "example"]).output()?;
    assert!(example.status.success());
    let path = dir.path().join("hub.toml");
    std::fs::write(&path, &example.stdout)?;
    // The example is well-formed, but its TLS files are not on this machine: `config check`
    // opens them, as `serve` would (config_check.rs checks a complete setup).
    let out = hub().args(["config", "check"]).arg(&path).output()?;
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("[tls]") && stderr.contains("ca.crt"),
        "{stderr}"
    );

    let text = String::from_utf8(example.stdout)?
        .replace("max_batch = 2048", "max_batch = 2048\nmax_bacth = 1");
    std::fs::write(&path, text)?;
    // `config check FILE` and `config check --config FILE` (as `serve` takes it) agree.
    for how in [vec!["config", "check"], vec!["config", "check", "--config"]] {
        let out = hub().args(&how).arg(&path).output()?;
        assert_eq!(out.status.code(), Some(78), "{how:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("max_bacth"),
            "{how:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Naming no file is a usage error.
    let out = hub().args(["config", "check"]).output()?;
    assert_eq!(out.status.code(), Some(2));

    let out = hub()
        .args(["serve", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(78),
        "a missing config is a config error"
    );
    Ok(())
}

#[test]
fn pki_commands_issue_one_identity_per_certificate_with_private_keys_0600() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pki = dir.path().join("pki");
    let pki_arg = pki.to_str().expect("utf-8 path");
    hub()
        .args([
            "pki",
            "init",
            "--dir",
            pki_arg,
            "--trust-domain",
            "corp.example",
        ])
        .assert()
        .success();
    hub()
        .args([
            "pki",
            "issue",
            "--dir",
            pki_arg,
            "--hub",
            "--dns",
            "hub.corp.example",
            "--ip",
            "10.0.0.1",
        ])
        .assert()
        .success();
    hub()
        .args(["pki", "issue", "--dir", pki_arg, "--site", "paris"])
        .assert()
        .success();
    hub()
        .args(["pki", "issue", "--dir", pki_arg, "--operator", "alice"])
        .assert()
        .success();
    // Two roles at once, a bad site id, or a second init are refused.
    hub()
        .args([
            "pki",
            "issue",
            "--dir",
            pki_arg,
            "--hub",
            "--operator",
            "bob",
        ])
        .assert()
        .code(2);
    hub()
        .args(["pki", "issue", "--dir", pki_arg, "--site", "Bad Site"])
        .assert()
        .failure();
    hub()
        .args([
            "pki",
            "init",
            "--dir",
            pki_arg,
            "--trust-domain",
            "corp.example",
        ])
        .assert()
        .failure();

    for key in [
        "ca.key",
        "hub.key",
        "sites/paris.key",
        "operators/alice.key",
    ] {
        let mode = std::fs::metadata(pki.join(key))?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    let out = hub()
        .args(["pki", "list", "--dir", pki_arg, "--output", "json"])
        .output()?;
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let mut roles: Vec<(String, String)> = listed
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| {
            (
                c["role"].as_str().unwrap_or("").to_string(),
                c["identity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("ca".to_string(), String::new()),
            ("hub".into(), "spiffe://corp.example/hub".into()),
            (
                "operator".into(),
                "spiffe://corp.example/operator/alice".into()
            ),
            ("site".into(), "spiffe://corp.example/site/paris".into()),
        ]
    );
    Ok(())
}

#[test]
fn operator_commands_without_a_certificate_say_what_to_pass() -> anyhow::Result<()> {
    let out = hub()
        .args(["sites"])
        .env_remove("SOCFED_CA")
        .env_remove("SOCFED_CERT")
        .env_remove("SOCFED_KEY")
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--ca") && stderr.contains("SOCFED_CA"),
        "{stderr}"
    );
    Ok(())
}
