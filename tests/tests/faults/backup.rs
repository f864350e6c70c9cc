//! `db export|import` with the real binaries: refused while the service holds the store,
//! a stopped hub's store round-trips into a new directory and a hub started on it has the same
//! incidents, an intact audit chain and the escalations' reports (in its journal).

use socfed_proto::pb;
use socfed_tests::fixture::Org;
use socfed_tests::procs::{binary, write_hub_config};

fn db(args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(std::process::Command::new(binary("sirt-hub")?)
        .arg("db")
        .args(args)
        .output()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_hub_store_round_trips_and_a_running_one_is_refused() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "backup me")
        .await?;
    let config = org.dir().join("hub.toml").display().to_string();
    let dump = org.dir().join("hub.dump").display().to_string();

    let busy = db(&["export", "--config", &config, "--out", &dump])?;
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&busy.stderr)
    );

    paris.stop().await?;
    hub.stop().await?;
    let out = db(&["export", "--config", &config, "--out", &dump])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("exported "));
    let again = db(&["export", "--config", &config, "--out", &dump])?;
    assert!(
        !again.status.success(),
        "an existing dump is never overwritten"
    );

    // Restore into a new place and run a hub there.
    let restored = org.dir().join("restored");
    std::fs::create_dir_all(&restored)?;
    let restored_config =
        write_hub_config(&restored, &org.pki, "127.0.0.1:0".parse()?, &["paris"], "")?;
    let out = db(&[
        "import",
        "--config",
        &restored_config.display().to_string(),
        "--from",
        &dump,
    ])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = db(&[
        "import",
        "--config",
        &restored_config.display().to_string(),
        "--from",
        &dump,
    ])?;
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already holds a store"));

    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&restored_config)?).await?;
    let mut op = org.operator(hub.addr, "tester")?;
    let found = op
        .get_incident(pb::GetIncidentRequest {
            id: incident.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(found.title, "backup me");
    assert!(
        op.verify_audit(pb::VerifyHubAuditRequest {})
            .await?
            .into_inner()
            .intact
    );
    hub.stop().await?;
    // The reports as received travel too: they live in the hub's journal, beside sled.
    let stored = socfed_tests::ledger::read_stopped_hub(&restored.join("hub-data"))?;
    let titles: Vec<&str> = stored
        .iter()
        .filter_map(|s| s.report.as_ref().map(|r| r.title.as_str()))
        .collect();
    assert_eq!(titles, vec!["backup me"]);

    // `db check` reads every record and every escalation's journal entry: clean, then the
    // journal damaged where the report is, named with exit status 65.
    let restored_config = restored_config.display().to_string();
    let clean = db(&["check", "--config", &restored_config, "--output", "json"])?;
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let found: serde_json::Value = serde_json::from_slice(&clean.stdout)?;
    assert_eq!(found["problems_total"], 0, "{found}");
    let journal = restored.join("hub-data").join("journal");
    let segment = std::fs::read_dir(&journal)?
        .next()
        .ok_or_else(|| anyhow::anyhow!("no journal segment"))??
        .path();
    let mut bytes = std::fs::read(&segment)?;
    let title = bytes
        .windows(9)
        .position(|w| w == b"backup me")
        .ok_or_else(|| anyhow::anyhow!("the report is in the journal"))?;
    bytes[title] ^= 0x20;
    std::fs::write(&segment, bytes)?;
    let damaged = db(&["check", "--config", &restored_config])?;
    assert_eq!(
        damaged.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&damaged.stderr)
    );
    assert!(
        String::from_utf8_lossy(&damaged.stdout).contains("journal"),
        "{}",
        String::from_utf8_lossy(&damaged.stdout)
    );
    Ok(())
}
