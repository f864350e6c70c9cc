//! The local SOC commands of the `site-agent` binary, as far as they run without an agent:
//! bad values fail at parse time (exit 2) and local failures exit 1 with a clear message.

use assert_cmd::Command;

fn agent() -> Command {
    let mut cmd = Command::cargo_bin("site-agent").expect("site-agent is built");
    for var in ["SOCFED_CA", "SOCFED_CERT", "SOCFED_KEY", "SOCFED_AGENT"] {
        cmd.env_remove(var);
    }
    cmd
}

fn stderr_of(args: &[&str]) -> anyhow::Result<(Option<i32>, String)> {
    let out = agent().args(args).output()?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn bad_words_fail_at_parse_time_naming_the_choices() -> anyhow::Result<()> {
    let cases: &[(&[&str], &str)] = &[
        (
            &["alerts", "close", "ag-1", "--verdict", "maybe"],
            "false-positive",
        ),
        (&["alerts", "list", "--status", "open"], "acknowledged"),
        (&["alerts", "list", "--tier", "5"], "5"),
        (
            &["incidents", "update", "i-1", "--status", "done"],
            "contained",
        ),
        (&["roster", "add", "alice", "--role", "boss"], "soc-manager"),
        (&["ingest", "x.json", "--format", "csv"], "suricata-eve"),
        (
            &["ingest", "x.json", "--format", "native", "--batch", "0"],
            "0",
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr) = stderr_of(args)?;
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    Ok(())
}

#[test]
fn required_parts_are_required() -> anyhow::Result<()> {
    for args in [
        &["alerts", "close", "ag-1"][..],
        &["incidents", "update", "i-1"],
        &["incidents", "promote"],
        &["roster", "add", "alice"],
        &["alerts", "comment", "ag-1"],
        &["ingest", "x.json"],
    ] {
        let (code, stderr) = stderr_of(args)?;
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
    }
    Ok(())
}

#[test]
fn a_missing_input_file_exits_1_before_connecting() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("nope.json");
    let out = agent()
        .args(["ingest", "--format", "native"])
        .arg(&missing)
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot open"), "{stderr}");
    Ok(())
}

#[test]
fn commands_without_a_certificate_say_what_to_pass() -> anyhow::Result<()> {
    for args in [
        &["alerts", "list"][..],
        &["incidents", "show", "i-1"],
        &["roster", "list"],
        &["shifts", "now"],
        &["notifications"],
        &["audit", "verify"],
    ] {
        let (code, stderr) = stderr_of(args)?;
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("--ca"), "{args:?}: {stderr}");
    }
    Ok(())
}

#[test]
fn help_lists_the_soc_commands() -> anyhow::Result<()> {
    let out = agent().arg("--help").output()?;
    let help = String::from_utf8(out.stdout)?;
    for command in [
        "ingest",
        "alerts",
        "incidents",
        "roster",
        "shifts",
        "notifications",
        "audit",
        "escalate",
        "status",
    ] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
    Ok(())
}
