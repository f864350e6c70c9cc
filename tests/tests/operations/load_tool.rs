//! `socfed-load`'s escalation run at a tiny size, through the real binaries: agents as their
//! own processes, both storage ceilings, CPU of every process, and the agents' store
//! operations per escalation read from their `/metrics`, which must match what one raise
//! writes (one incident, one request record, and its audit entry; the hub's state of the
//! incident, recorded when the hub sends it, is audited too) and what a unit of raises writes
//! to the outbox (one run, removed once acknowledged: at most one key per escalation).

use std::process::Command;

#[test]
fn the_escalation_run_reports_agent_processes_and_store_operations() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = Command::new(env!("CARGO_BIN_EXE_socfed-load"))
        .args(["--sites", "2", "--per-site", "20", "--json", "--dir"])
        .arg(dir.path())
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.success(), "socfed-load failed:\n{stderr}");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(s["exact"], true, "{s:#}");
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(-1.0);
    let ceilings = &s["ceilings"];
    assert!(f(&ceilings["storage_per_second"]) > 0.0, "{s:#}");
    assert!(
        f(&ceilings["storage_sled_defaults_flush_only_per_second"]) > 0.0,
        "{s:#}"
    );
    assert_eq!(ceilings["storage_settings"]["durability"], "fsync");
    assert_eq!(s["agents"]["processes"], 2);
    assert_eq!(s["agents"]["per_agent"].as_array().map(Vec::len), Some(2));
    // 40 escalations may cost the agents less than one clock tick (10 ms) of CPU during the
    // run: the figure is there and not negative; the agents' whole CPU (start-up included)
    // is above zero.
    assert!(f(&s["agent_cpu_per_escalation_us"]) >= 0.0, "{s:#}");
    assert!(f(&s["agents"]["cpu_seconds_total"]) > 0.0, "{s:#}");
    assert!(f(&s["agents"]["max_peak_rss_mib"]) > 0.0, "{s:#}");
    let trees = &s["store_ops_per_escalation"]["agent"]["trees"];
    for (tree, op) in [("incidents", "insert"), ("requests", "insert")] {
        assert_eq!(f(&trees[tree][op]), 1.0, "{tree} {op}: {s:#}");
    }
    // The outbox packs each unit's raises in one run: a run written (and, when an
    // acknowledgement ends inside it, rewritten trimmed) and removed once acknowledged.
    let (inserts, removes) = (f(&trees["outbox"]["insert"]), f(&trees["outbox"]["remove"]));
    assert!(
        removes > 0.0 && removes <= inserts && inserts <= 1.0,
        "outbox insert {inserts}, remove {removes}: {s:#}"
    );
    assert!(f(&trees["audit"]["insert"]) >= 1.0, "{s:#}");
    Ok(())
}

/// `--store postgres`: the hub keeps its store in a fresh schema of the test database, the run
/// is exact, it reports the database's same-run ceiling for the rows the hub wrote per
/// escalation, and both schemas it made are gone afterwards. Skipped without a test database
/// (`.ci/postgres`).
#[test]
fn the_escalation_run_on_postgres_is_exact_and_drops_its_schemas() -> anyhow::Result<()> {
    let Some(db) = socfed_tests::postgres::test_database() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let url_file = dir.path().join("url");
    std::fs::write(&url_file, db.url())?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_socfed-load"));
    command
        .args([
            "--sites",
            "1",
            "--per-site",
            "10",
            "--json",
            "--store",
            "postgres",
        ])
        .args(["--schema", db.schema(), "--database-url-file"])
        .arg(&url_file)
        .arg("--dir")
        .arg(dir.path().join("run"));
    if let Some(ca) = db.ca_file() {
        command.arg("--database-ca").arg(ca);
    }
    let out = command.output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.success(), "socfed-load failed:\n{stderr}");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(s["exact"], true, "{s:#}");
    assert_eq!(s["store"], "postgres", "{s:#}");
    let ceiling = &s["postgres"]["ceiling"];
    assert!(
        ceiling["escalations_per_second"].as_f64() > Some(0.0),
        "{s:#}"
    );
    let kv = ceiling["kv_rows_per_escalation"].as_u64().unwrap_or(0);
    assert!(kv >= 1, "{s:#}");
    assert_eq!(
        ceiling["rows_per_escalation"].as_u64(),
        Some(kv + 2),
        "{s:#}"
    );
    // The hub's kv writes per escalation are what the ceiling inserted (rounded).
    let rewrites = s["store_ops_per_escalation"]["hub_alone"]["rewrites"]
        .as_f64()
        .unwrap_or(0.0);
    assert_eq!(rewrites.round() as u64, kv, "{s:#}");
    let store = socfed_runtime::store_kit::pg::PgStore::connect(&db.config(), &[])?;
    let left: i64 = store.query(
        "SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, $1)",
        &[&format!("{}_", db.schema())],
    )?[0]
        .get(0);
    assert_eq!(left, 0, "the run's schemas were not dropped");
    Ok(())
}
