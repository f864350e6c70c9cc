//! Storage faults at a site: a store damaged while the agent was stopped must be refused at
//! open, with a message naming the directory, never replaced by an empty store.

use socfed_proto::pb;
use socfed_tests::{clients, free_port, pki::TestPki};
use std::io::{Seek, SeekFrom, Write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_agent_store_is_refused_at_open_not_silently_emptied() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let tmp = tempfile::tempdir()?;
    let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
    // No hub: the escalations stay queued in the outbox.
    let hub: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = socfed_tests::procs::write_agent_config(
        tmp.path(),
        &pki,
        "paris",
        hub,
        "127.0.0.1:0".parse()?,
        "",
    )?;
    let load = || -> anyhow::Result<site_agent::config::AgentConfig> {
        Ok(site_agent::config::AgentConfig::load(&config)?)
    };
    let agent = site_agent::app::start(load()?).await?;
    let mut local = clients::local(agent.local_addr, &pki.operator("tester")?, &pki.domain)?;
    for n in 0..50 {
        local
            .raise_incident(pb::RaiseIncidentRequest {
                title: format!("queued {n}"),
                description: "x".repeat(2000),
                severity: pb::Severity::High as i32,
                ..Default::default()
            })
            .await?;
    }
    assert_eq!(agent.store.outbox_len(), 50);
    agent.stop().await?;

    // Damage the data file in the middle, where the records are.
    let db = tmp.path().join("paris-data").join("db");
    let len = std::fs::metadata(&db)?.len();
    let mut file = std::fs::OpenOptions::new().write(true).open(&db)?;
    for offset in [len / 4, len / 2, 3 * len / 4] {
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&[0xA5; 4096])?;
    }
    file.sync_all()?;
    drop(file);

    match site_agent::app::start(load()?).await {
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains("is damaged") && message.contains("db import"),
                "{message}"
            );
            assert!(
                message.contains("paris-data"),
                "the message names the directory: {message}"
            );
        }
        Ok(agent) => {
            let backlog = agent.store.outbox_len();
            agent.stop().await?;
            anyhow::bail!("the damaged store opened with {backlog} of 50 queued escalations");
        }
    }
    Ok(())
}
