//! Storage faults at a site: a store damaged while the agent was stopped must be refused at
//! open, with a message naming the directory, never replaced by an empty store.

use socfed_proto::pb;
use socfed_tests::{clients, fixture::Org, free_port};
use std::io::{Seek, SeekFrom, Write};

/// Starts `binary serve --config config` and expects it to refuse: a non-zero exit within 30 s,
/// never serving. Returns what it printed.
fn refuses_to_start(binary: &str, config: &std::path::Path) -> anyhow::Result<String> {
    let mut child = std::process::Command::new(socfed_tests::procs::binary(binary)?)
        .args(["serve", "--config"])
        .arg(config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            let mut err = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                std::io::Read::read_to_string(&mut pipe, &mut err)?;
            }
            anyhow::ensure!(
                !status.success(),
                "{binary} exited 0 on a damaged store: {err}"
            );
            return Ok(err);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            anyhow::bail!("{binary} started on a damaged store");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_agent_store_is_refused_at_open_not_silently_emptied() -> anyhow::Result<()> {
    let org = Org::new()?;
    // No hub: the escalations stay queued in the outbox.
    let hub: std::net::SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = socfed_tests::procs::write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub,
        "127.0.0.1:0".parse()?,
        "",
    )?;
    let load = || -> anyhow::Result<site_agent::config::AgentConfig> {
        Ok(site_agent::config::AgentConfig::load(&config)?)
    };
    let agent = site_agent::app::start(load()?).await?;
    let mut local = org.local(agent.local_addr, "tester")?;
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
    let db = org.dir().join("paris-data").join("db");
    let len = std::fs::metadata(&db)?.len();
    let mut file = std::fs::OpenOptions::new().write(true).open(&db)?;
    for offset in [len / 4, len / 2, 3 * len / 4] {
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&[0xA5; 4096])?;
    }
    file.sync_all()?;
    drop(file);

    // Refused with the reason (or, when the damage hits sled's own page tables, sled gives up):
    // either way the agent never starts with the escalations it lost.
    let said = refuses_to_start("site-agent", &config)?;
    assert!(
        said.contains("is damaged") || said.contains("panicked"),
        "{said}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_hub_store_is_refused_at_open() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let channel = org.site_channel(hub.addr, "paris")?;
    let (mut stream, _) =
        clients::RawStream::open_welcomed(channel, clients::hello("paris", ulid::Ulid::new(), 1))
            .await?;
    for seq in 1..=200 {
        let mut report = clients::report(&format!("p-{seq}"), "stored at the hub");
        report.description = "y".repeat(2000);
        stream.send(seq, report).await?;
    }
    stream.ack_through(200).await?;
    drop(stream);
    hub.stop().await?;

    let db = org.dir().join("hub-data").join("db");
    let len = std::fs::metadata(&db)?.len();
    let mut file = std::fs::OpenOptions::new().write(true).open(&db)?;
    for offset in [len / 4, len / 2, 3 * len / 4] {
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(&[0x5A; 4096])?;
    }
    file.sync_all()?;
    drop(file);

    let said = refuses_to_start("sirt-hub", &org.dir().join("hub.toml"))?;
    assert!(
        said.contains("is damaged") || said.contains("panicked"),
        "{said}"
    );
    Ok(())
}
