//! The agent's sample journal's crash window (real processes): the agent exits right after an
//! intake commit's block of samples is durable and before the unit that names it commits
//! (`SOCFED_AGENT_FAILPOINT=after-samples`, a test hook of the agent binary). The batch was
//! never acknowledged; restarted without the hook, the agent opens with an unreferenced
//! block, the retried batch is taken in, and every group shows its own original record:
//! nothing acknowledged lost, no reference to a block that is not there.

use socfed_tests::eventually;
use socfed_tests::fixture::Org;
use socfed_tests::intake::{agent_cli, all_groups, describe, ingest_file, start_agent};
use std::time::Duration;

const FAILPOINT: &str = "SOCFED_AGENT_FAILPOINT";
/// `site_agent::store::samples::FAILPOINT_EXIT`.
const FAILPOINT_EXIT: i32 = 86;

fn line(rule: &str, host: &str) -> String {
    format!(
        r#"{{"observed_at":"2026-03-02T09:58:00Z","product":"EDR","rule_id":"{rule}","severity":"high","hosts":["{host}"]}}"#
    )
}

/// Waits until the (re)started agent's local API answers.
async fn ready(
    addr: std::net::SocketAddr,
    operator: &socfed_runtime::tls::TlsFiles,
    org: &Org,
) -> anyhow::Result<()> {
    let local = socfed_tests::clients::local(addr, operator, &org.pki.domain)?;
    eventually("the agent to answer", Duration::from_secs(30), || {
        let mut local = local.clone();
        async move {
            local
                .get_status(socfed_proto::pb::GetStatusRequest {})
                .await
                .ok()
        }
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_dying_between_sample_block_and_unit_loses_nothing() -> anyhow::Result<()> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, "").await?;
    let first: Vec<String> = (0..3).map(|i| line(&format!("A{i}"), "ws-1")).collect();
    let second: Vec<String> = (0..3).map(|i| line(&format!("B{i}"), "ws-2")).collect();
    let (a, b) = (org.dir().join("a.jsonl"), org.dir().join("b.jsonl"));
    std::fs::write(&a, first.join("\n") + "\n")?;
    std::fs::write(&b, second.join("\n") + "\n")?;
    let out = ingest_file(addr, &operator, &a, "native")?;
    anyhow::ensure!(out.status.success(), "{}", describe(&out));

    agent.set_env(FAILPOINT, Some("after-samples"));
    agent.restart()?;
    ready(addr, &operator, &org).await?;
    let out = ingest_file(addr, &operator, &b, "native")?;
    anyhow::ensure!(
        !out.status.success(),
        "the batch was acknowledged past the failpoint: {}",
        describe(&out)
    );
    let status = eventually(
        "the agent to stop at the failpoint",
        Duration::from_secs(30),
        || std::future::ready(agent.exited().ok().flatten()),
    )
    .await?;
    anyhow::ensure!(
        status.code() == Some(FAILPOINT_EXIT),
        "the agent ended with {status:?}:\n{}",
        agent.log_tail(30)
    );

    agent.set_env(FAILPOINT, None);
    agent.restart()?;
    ready(addr, &operator, &org).await?;
    // The retry the caller makes of a batch it was not told was stored.
    let out = ingest_file(addr, &operator, &b, "native")?;
    anyhow::ensure!(out.status.success(), "{}", describe(&out));

    let groups = all_groups(addr, &operator)?;
    let mut shown: Vec<(String, String)> = groups
        .iter()
        .map(|g| {
            (
                g["rule_id"].as_str().unwrap_or_default().to_string(),
                g["sample_raw"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    shown.sort();
    let mut expected: Vec<(String, String)> = first
        .iter()
        .chain(&second)
        .zip(["A0", "A1", "A2", "B0", "B1", "B2"])
        .map(|(l, r)| (r.to_string(), l.clone()))
        .collect();
    expected.sort();
    assert_eq!(shown, expected, "every group once, with its own record");
    // `alerts show` reads the same record from the journal.
    let id = groups[0]["id"].as_str().unwrap_or_default().to_string();
    let out = agent_cli(
        addr,
        &operator,
        &["alerts", "show", &id, "--output", "json"],
    )?
    .output()?;
    anyhow::ensure!(out.status.success(), "{}", describe(&out));
    let one: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(one["sample_raw"], groups[0]["sample_raw"]);
    assert_eq!(agent.terminate()?, Some(0));
    Ok(())
}
