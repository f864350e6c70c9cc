//! Failover between hub addresses (`hub.addresses`, `sirt-hub --hub A,B`), with the real
//! binaries. Two hub processes never run at once here: one data directory, used by a hub on
//! one port and then by a hub on another, stands in for replicas over one database.
//!
//! The agent lists a dead address first and connects to the live one; that hub is SIGKILLed
//! while escalations are being raised and a hub on the first address takes over the same
//! store: the agent fails over, and every escalation is stored exactly once. The operator
//! CLI given a dead and a live address answers from the live one.

use socfed_proto::pb;
use socfed_tests::federation::{Federation, Spec};
use socfed_tests::fixture::{OperatorCli, Org};
use socfed_tests::procs::{Proc, binary, write_agent_config};
use socfed_tests::{clients, eventually, free_port, ledger};
use std::net::SocketAddr;
use std::time::Duration;

const SITE: &str = "paris";

/// The agent's status once `check` holds for it.
async fn status_when(
    fed: &Federation,
    what: &str,
    check: impl Fn(&pb::AgentStatus) -> bool,
) -> anyhow::Result<pb::AgentStatus> {
    let agent = &fed.agents[0];
    let client = clients::local(agent.addr, &fed.operator, &fed.pki.domain)?;
    eventually(what, Duration::from_secs(60), || {
        let mut client = client.clone();
        let check = &check;
        async move {
            let status = client.get_status(pb::GetStatusRequest {}).await.ok()?;
            let status = status.into_inner();
            check(&status).then_some(status)
        }
    })
    .await
}

/// Escalations the hub at `hub` holds (None while nothing answers there).
async fn stored_at(fed: &Federation, hub: SocketAddr) -> Option<u64> {
    let mut op = clients::operator(hub, &fed.operator, &fed.pki.domain).ok()?;
    let sites = clients::sites(&mut op).await.ok()?;
    Some(sites.iter().map(|s| s.escalations_stored).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_fails_over_to_the_next_hub_address_and_loses_nothing() -> anyhow::Result<()> {
    let fed = Federation::start(Spec::sites(&[SITE])).await?;
    let live = fed.hub_addr;
    let spare: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    // The agent again, now with the spare address (nothing listens there yet) first.
    let config = fed.tmp.path().join(format!("{SITE}.toml"));
    {
        let mut agent = fed.agents[0].proc.lock().await;
        agent.terminate()?;
        let text = std::fs::read_to_string(&config)?;
        let text = text.replacen(
            &format!("address = \"{live}\""),
            &format!("addresses = [\"{spare}\", \"{live}\"]"),
            1,
        );
        anyhow::ensure!(text.contains("addresses = ["), "config not rewritten");
        std::fs::write(&config, text)?;
        agent.restart()?;
    }
    let first = status_when(&fed, "the agent connected past the dead address", |s| {
        s.hub_connected && s.hub_address == live.to_string()
    })
    .await?;
    assert_eq!(
        first.last_failover_at_ms, 0,
        "a first connection is no failover"
    );

    // Delivered through the second address.
    let per_site = 300;
    fed.raise_range(0, 100, 4).await?;
    eventually(
        "100 stored at the live hub",
        Duration::from_secs(60),
        || async { stored_at(&fed, live).await.filter(|&n| n == 100) },
    )
    .await?;

    // The live hub dies while more are raised; a hub on the spare address takes the store over.
    let raising = {
        let fed = fed.clone();
        tokio::spawn(async move { fed.raise_range(100, per_site, 4).await })
    };
    eventually(
        "some of the rest stored",
        Duration::from_secs(60),
        || async { stored_at(&fed, live).await.filter(|&n| n >= 130) },
    )
    .await?;
    fed.hub.lock().await.kill9()?;
    let spare_config = fed.tmp.path().join("hub-spare.toml");
    let hub_config = std::fs::read_to_string(fed.tmp.path().join("hub.toml"))?;
    std::fs::write(
        &spare_config,
        hub_config.replacen(
            &format!("listen = \"{live}\""),
            &format!("listen = \"{spare}\""),
            1,
        ),
    )?;
    let mut spare_hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", &spare_config.display().to_string()],
        fed.tmp.path().join("hub-spare.log"),
        "hub-spare",
    )?;
    raising.await??;
    let moved = status_when(&fed, "the agent failed over to the spare address", |s| {
        s.hub_connected && s.hub_address == spare.to_string() && s.backlog == 0
    })
    .await?;
    assert_eq!(
        (
            moved.last_failover_from.as_str(),
            moved.last_failover_to.as_str()
        ),
        (live.to_string().as_str(), spare.to_string().as_str())
    );
    assert!(moved.last_failover_at_ms > 0);
    // What an operator at the site reads.
    let status = OperatorCli::agent(fed.agents[0].addr, fed.operator.clone()).ok(&["status"])?;
    assert!(
        status.contains(&format!("connected to {spare}"))
            && status.contains(&format!("last failover {live} -> {spare}")),
        "{status}"
    );
    let at_spare = eventually(
        "all stored at the spare hub",
        Duration::from_secs(60),
        || {
            let fed = &fed;
            async move {
                stored_at(fed, spare)
                    .await
                    .filter(|&n| n == per_site as u64)
            }
        },
    )
    .await;
    if let Err(e) = at_spare {
        anyhow::bail!("{e}\nspare hub log:\n{}", spare_hub.log_tail(30));
    }

    // Back to the first hub process's address (the same store), so the federation's own
    // checks run against it; then every escalation is stored exactly once.
    let code = spare_hub.terminate()?;
    anyhow::ensure!(code == Some(0), "spare hub exited {code:?}");
    fed.hub.lock().await.restart()?;
    fed.wait_drained(per_site as u64, Duration::from_secs(60))
        .await?;
    let sites = fed.check_operator_view(per_site).await?;
    let resent: u64 = sites.iter().map(|s| s.duplicates).sum();
    let back = status_when(&fed, "the agent back on the first hub", |s| {
        s.hub_connected && s.hub_address == live.to_string()
    })
    .await?;
    assert_eq!(back.last_failover_to, live.to_string());
    fed.stop().await?;
    let stored = ledger::read_stopped_hub(&fed.hub_data())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored, per_site);
    eprintln!(
        "faults_hub_failover: {per_site} escalations over two failovers ({live} -> {spare} -> {live}), stored {} exactly once, {resent} resends recognised as duplicates, {} reconnects",
        verdict.stored, back.reconnects
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_cli_answers_from_the_first_hub_address_that_connects() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&[SITE], "").await?;
    org.escalate_once(hub.addr, SITE, clients::report("p-1", "phishing wave"))
        .await?;
    let dead = format!("127.0.0.1:{}", free_port()?);
    let files = org.pki.operator("tester")?;
    let cli = |hub_flag: &str| -> anyhow::Result<std::process::Output> {
        Ok(std::process::Command::new(binary("sirt-hub")?)
            .args(["incidents", "list", "--hub", hub_flag, "--output", "json"])
            .env("SOCFED_CA", &files.ca)
            .env("SOCFED_CERT", &files.cert)
            .env("SOCFED_KEY", &files.key)
            .output()?)
    };
    let both = cli(&format!("{dead},{}", hub.addr))?;
    let stderr = String::from_utf8_lossy(&both.stderr);
    assert!(both.status.success(), "{stderr}");
    let listed: serde_json::Value = serde_json::from_slice(&both.stdout)?;
    assert_eq!(listed[0]["title"], "phishing wave", "{listed}");
    // The same through the environment, as a shell profile would set it.
    let env = std::process::Command::new(binary("sirt-hub")?)
        .args(["incidents", "list", "--output", "json"])
        .env("SOCFED_HUB", format!("{dead},{}", hub.addr))
        .env("SOCFED_CA", &files.ca)
        .env("SOCFED_CERT", &files.cert)
        .env("SOCFED_KEY", &files.key)
        .output()?;
    assert!(
        env.status.success(),
        "{}",
        String::from_utf8_lossy(&env.stderr)
    );
    // Only dead addresses: unreachable (exit 69), every address named.
    let other_dead = format!("127.0.0.1:{}", free_port()?);
    let none = cli(&format!("{dead},{other_dead}"))?;
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert_eq!(none.status.code(), Some(69), "{stderr}");
    assert!(
        stderr.contains(&dead) && stderr.contains(&other_dead),
        "{stderr}"
    );
    hub.stop().await?;
    Ok(())
}

#[test]
fn an_agent_config_with_both_address_and_addresses_is_refused() -> anyhow::Result<()> {
    let org = Org::new()?;
    let path = write_agent_config(
        org.dir(),
        &org.pki,
        SITE,
        "127.0.0.1:7443".parse()?,
        "127.0.0.1:0".parse()?,
        "",
    )?;
    let text = std::fs::read_to_string(&path)?.replacen(
        "[hub]\n",
        "[hub]\naddresses = [\"127.0.0.1:7444\", \"127.0.0.1:7445\"]\n",
        1,
    );
    std::fs::write(&path, text)?;
    let out = std::process::Command::new(binary("site-agent")?)
        .args(["config", "check", &path.display().to_string()])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("hub.addresses") && stderr.contains("not both"),
        "{stderr}"
    );
    Ok(())
}
