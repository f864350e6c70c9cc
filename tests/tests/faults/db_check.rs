//! `site-agent db check` with the real binaries: refused while the agent holds its store; a
//! stopped agent's store checks clean (every record, every alert sample), in text and JSON;
//! a damaged sample block is found, named by its alert group, with exit status 65 and the
//! next step to take.

use socfed_tests::fixture::Org;
use socfed_tests::intake::{describe, ingest_file, start_agent};
use socfed_tests::procs::binary;

fn check(config: &str, json: bool) -> anyhow::Result<std::process::Output> {
    let mut command = std::process::Command::new(binary("site-agent")?);
    command.args(["db", "check", "--config", config]);
    if json {
        command.args(["--output", "json"]);
    }
    Ok(command.output()?)
}

fn line(n: usize) -> String {
    format!(
        r#"{{"observed_at":"2026-03-02T09:58:00Z","product":"EDR","rule_id":"R{n}","severity":"high","hosts":["ws-{n}"]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_check_reads_every_record_and_sample_and_names_what_is_damaged() -> anyhow::Result<()> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, "").await?;
    let alerts = org.dir().join("alerts.jsonl");
    std::fs::write(
        &alerts,
        (0..40).map(line).collect::<Vec<_>>().join("\n") + "\n",
    )?;
    let out = ingest_file(addr, &operator, &alerts, "native")?;
    anyhow::ensure!(out.status.success(), "{}", describe(&out));
    let config = org.dir().join("paris.toml").display().to_string();

    let busy = check(&config, false)?;
    assert!(!busy.status.success());
    assert!(describe(&busy).contains("in use"), "{}", describe(&busy));

    assert_eq!(agent.terminate()?, Some(0));
    let clean = check(&config, false)?;
    assert!(clean.status.success(), "{}", describe(&clean));
    assert!(
        String::from_utf8_lossy(&clean.stdout).contains(": 0 problems"),
        "{}",
        describe(&clean)
    );
    let json = check(&config, true)?;
    assert!(json.status.success(), "{}", describe(&json));
    let found: serde_json::Value = serde_json::from_slice(&json.stdout)?;
    assert_eq!(found["problems_total"], 0);
    assert_eq!(found["trees"]["groups"], 40);

    // Damage the middle of the sample journal's block: every group of that block has lost
    // its evidence, and the check says which.
    let samples = org.dir().join("paris-data").join("samples");
    let segment = std::fs::read_dir(&samples)?
        .next()
        .ok_or_else(|| anyhow::anyhow!("no sample segment"))??
        .path();
    let mut bytes = std::fs::read(&segment)?;
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0xA5;
    }
    std::fs::write(&segment, bytes)?;
    let damaged = check(&config, true)?;
    assert_eq!(damaged.status.code(), Some(65), "{}", describe(&damaged));
    let found: serde_json::Value = serde_json::from_slice(&damaged.stdout)?;
    assert_eq!(found["problems_total"], 40, "{found}");
    let first = found["problems"][0].as_str().unwrap_or_default();
    assert!(
        first.starts_with("alert group ") && first.contains("sample unreadable"),
        "{first}"
    );
    assert!(
        describe(&damaged).contains("db import"),
        "the next step: {}",
        describe(&damaged)
    );
    Ok(())
}
