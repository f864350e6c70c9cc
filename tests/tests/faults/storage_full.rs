//! A full disk under the real binaries: the store's directory is on a small tmpfs
//! (`socfed_tests::small_fs`, needs root; skipped otherwise unless `SOCFED_REQUIRE_FULL_DISK=1`)
//! that a filler file fills up while escalations keep coming.
//!
//! - Agent: the call that cannot be stored is refused with `RESOURCE_EXHAUSTED` and a message
//!   naming the full disk; the agent then stops with a non-zero exit (its store takes no more
//!   writes after a failed one), a restart on the still-full disk is refused with the same
//!   reason, and once space is freed it reopens its store and every escalation it accepted
//!   reaches the hub exactly once.
//! - Hub: while it cannot store, nothing is acknowledged that is not durable (checked by a
//!   SIGKILL and restart: every acknowledged sequence is still there), sites keep their
//!   escalations queued, and once space is freed everything arrives exactly once.

use socfed_proto::pb;
use socfed_tests::procs::{Proc, binary, write_agent_config, write_hub_config};
use socfed_tests::small_fs::SmallFs;
use socfed_tests::{clients, eventually, free_port, pki::TestPki};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tonic::Code;
use tonic::transport::Channel;

type Local = pb::site_local_client::SiteLocalClient<Channel>;

/// 16 MiB: room for a few thousand escalations, filled in a moment by the filler file.
const DISK_BYTES: u64 = 16 << 20;

fn raise(site: &str, i: usize) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        request_id: format!("{site}-{i}"),
        title: format!("{site} full disk {i}"),
        description: format!("evidence {i} ").repeat(40),
        severity: pb::Severity::Medium as i32,
        ..Default::default()
    }
}

fn addr() -> anyhow::Result<SocketAddr> {
    Ok(format!("127.0.0.1:{}", free_port()?).parse()?)
}

fn serve(bin: &str, config: &Path, log: std::path::PathBuf, name: &str) -> anyhow::Result<Proc> {
    let config = config.display().to_string();
    Proc::spawn(&binary(bin)?, &["serve", "--config", &config], log, name)
}

async fn answers(local: &Local) -> anyhow::Result<pb::AgentStatus> {
    eventually("the agent to answer", Duration::from_secs(60), || {
        let mut local = local.clone();
        async move {
            let status = local.get_status(pb::GetStatusRequest {}).await.ok()?;
            Some(status.into_inner())
        }
    })
    .await
}

/// Every request id an agent answered OK, with the local incident it named. A second OK for
/// the same request id (a retry) must name the same incident.
#[derive(Default)]
struct Accepted(BTreeMap<String, String>);

impl Accepted {
    fn record(&mut self, request_id: &str, answer: pb::RaiseIncidentResponse) {
        let first = self
            .0
            .entry(request_id.to_string())
            .or_insert_with(|| answer.local_incident_id.clone());
        assert_eq!(
            *first, answer.local_incident_id,
            "request {request_id} was answered OK with two different incidents: the first OK was not durable"
        );
    }
}

/// Waits until the hub holds exactly the accepted escalations, once each.
async fn hub_holds_exactly(
    op: &pb::operator_client::OperatorClient<Channel>,
    accepted: &Accepted,
) -> anyhow::Result<()> {
    let want: std::collections::BTreeSet<&str> = accepted.0.values().map(String::as_str).collect();
    let seen = eventually(
        "the hub to hold every accepted escalation",
        Duration::from_secs(60),
        || {
            let mut op = op.clone();
            let want = &want;
            async move {
                let incidents = clients::all_incidents(&mut op).await.ok()?;
                let ids: Vec<String> = incidents
                    .iter()
                    .flat_map(|i| i.sightings.iter())
                    .flat_map(|s| s.local_incident_ids.iter().cloned())
                    .collect();
                (ids.len() >= want.len()).then_some(ids)
            }
        },
    )
    .await?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &seen {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    let lost: Vec<_> = want.iter().filter(|id| !counts.contains_key(*id)).collect();
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    anyhow::ensure!(lost.is_empty(), "accepted but not at the hub: {lost:?}");
    anyhow::ensure!(twice.is_empty(), "stored more than once: {twice:?}");
    anyhow::ensure!(
        seen.len() == want.len(),
        "the hub holds {} escalations, {} were accepted",
        seen.len(),
        want.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_at_the_agent_is_refused_explicitly_and_loses_nothing_committed()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let tmp = tempfile::tempdir()?;
    let Some(disk) = SmallFs::mount_or_skip(&tmp.path().join("disk"), DISK_BYTES)? else {
        return Ok(());
    };
    let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
    let operator = pki.operator("tester")?;
    // The hub (on a normal directory) starts only once space is back: until then every
    // accepted escalation waits in the outbox on the full disk.
    let hub_addr = addr()?;
    let hub_config = write_hub_config(tmp.path(), &pki, hub_addr, &["paris"], "")?;
    let (local_addr, admin) = (addr()?, addr()?);
    let admin_toml = format!("[admin]\nlisten = \"{admin}\"\n");
    let config = write_agent_config(
        disk.path(),
        &pki,
        "paris",
        hub_addr,
        local_addr,
        &admin_toml,
    )?;
    let agent_log = tmp.path().join("paris.log");
    let mut agent = serve("site-agent", &config, agent_log.clone(), "paris")?;
    let local = clients::local(local_addr, &operator, &pki.domain)?;
    answers(&local).await?;

    let mut accepted = Accepted::default();
    for i in 0..40 {
        let answer = local.clone().raise_incident(raise("paris", i)).await?;
        accepted.record(&format!("paris-{i}"), answer.into_inner());
    }
    let filled = disk.fill()?;

    // Raise until the agent cannot store: that call is refused, saying why and what to do.
    let mut refused = None;
    for i in 40..2_000 {
        match local.clone().raise_incident(raise("paris", i)).await {
            Ok(answer) => accepted.record(&format!("paris-{i}"), answer.into_inner()),
            Err(status) => {
                refused = Some((i, status));
                break;
            }
        }
    }
    let (first_refused, status) = refused.ok_or_else(|| anyhow::anyhow!("never refused"))?;
    eprintln!(
        "agent: filled {filled} bytes; {} accepted, #{first_refused} refused: {:?} {:?}",
        accepted.0.len(),
        status.code(),
        status.message()
    );
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("disk is full"), "{status:?}");
    assert!(status.message().contains("free space"), "{status:?}");

    // The store takes no more writes after a failed one: the agent stops, non-zero, saying why.
    let exit = eventually("the agent to stop", Duration::from_secs(30), || {
        let exited = agent.exited().ok().flatten();
        async move { exited }
    })
    .await?;
    let said = std::fs::read_to_string(&agent_log)?;
    eprintln!("agent: exited {exit}; {}", last_line(&said));
    assert_eq!(exit.code(), Some(1), "{}", agent.log_tail(5));
    assert!(said.contains("free space on that disk"), "{said}");

    // A supervisor restarts it; on the still-full disk it refuses to start, naming the cause.
    let restarted = std::fs::metadata(&agent_log)?.len() as usize;
    agent.restart()?;
    let exit = eventually(
        "the restart on a full disk to end",
        Duration::from_secs(30),
        || {
            let exited = agent.exited().ok().flatten();
            async move { exited }
        },
    )
    .await?;
    let said = std::fs::read_to_string(&agent_log)?[restarted..].to_string();
    eprintln!(
        "agent: restart on the full disk exited {exit}; {}",
        last_line(&said)
    );
    assert_ne!(exit.code(), Some(0));
    assert!(said.contains("full"), "{said}");

    // Space back: the agent reopens its store; the refused request is retried by its id.
    disk.free()?;
    agent.restart()?;
    let status = answers(&local).await?;
    eprintln!(
        "agent: reopened with backlog {}, next seq {}",
        status.backlog, status.next_seq
    );
    for i in first_refused..first_refused + 10 {
        let answer = local.clone().raise_incident(raise("paris", i)).await?;
        accepted.record(&format!("paris-{i}"), answer.into_inner());
    }
    let mut hub = serve("sirt-hub", &hub_config, tmp.path().join("hub.log"), "hub")?;
    let op = clients::operator(hub_addr, &operator, &pki.domain)?;
    hub_holds_exactly(&op, &accepted).await?;
    let sites = clients::sites(&mut op.clone()).await?;
    let paris = &sites[0];
    eprintln!(
        "agent: {} accepted, hub stored {} (acked through {}, {} duplicates)",
        accepted.0.len(),
        paris.escalations_stored,
        paris.acked_through,
        paris.duplicates
    );
    assert_eq!(paris.escalations_stored, accepted.0.len() as u64);
    assert_eq!((paris.conflicts, paris.sequence_gaps), (0, 0));
    assert_eq!(agent.terminate()?, Some(0));
    assert_eq!(hub.terminate()?, Some(0));
    drop(disk);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_at_the_hub_acknowledges_nothing_it_did_not_store_and_loses_nothing()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let tmp = tempfile::tempdir()?;
    let Some(disk) = SmallFs::mount_or_skip(&tmp.path().join("disk"), DISK_BYTES)? else {
        return Ok(());
    };
    let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
    let operator = pki.operator("tester")?;
    let sites = ["paris", "lyon"];
    let (hub_addr, hub_admin) = (addr()?, addr()?);
    let admin_toml = format!("[admin]\nlisten = \"{hub_admin}\"\n");
    // The hub's config and data on the small disk; the agents on the normal one.
    let hub_config = write_hub_config(disk.path(), &pki, hub_addr, &sites, &admin_toml)?;
    let hub_log = tmp.path().join("hub.log");
    let mut hub = serve("sirt-hub", &hub_config, hub_log.clone(), "hub")?;
    let mut agents = Vec::new();
    for site in sites {
        let local_addr = addr()?;
        let config = write_agent_config(tmp.path(), &pki, site, hub_addr, local_addr, "")?;
        let log = tmp.path().join(format!("{site}.log"));
        let proc = serve("site-agent", &config, log, site)?;
        let local = clients::local(local_addr, &operator, &pki.domain)?;
        answers(&local).await?;
        agents.push((site, proc, local));
    }
    let op = clients::operator(hub_addr, &operator, &pki.domain)?;
    let mut accepted = Accepted::default();
    let locals: Vec<(&str, Local)> = agents.iter().map(|(s, _, l)| (*s, l.clone())).collect();
    raise_all(&locals, 0..30, &mut accepted).await?;
    hub_holds_exactly(&op, &accepted).await?;

    // The hub's disk fills while both sites go on raising (their own disks are fine).
    let filled = disk.fill()?;
    raise_all(&locals, 30..130, &mut accepted).await?;
    // sled refuses every write after its first I/O error, so the hub stops itself with a
    // failure status for its supervisor to restart it once space is back.
    let exited = eventually("the hub to stop itself", Duration::from_secs(30), || {
        let status = hub.exited().ok().flatten();
        async move { status }
    })
    .await?;
    eprintln!("hub: filled {filled} bytes; then exited {exited:?}");
    assert!(
        !exited.success(),
        "a hub that can no longer store must exit non-zero"
    );
    // What the sites were told before it went (their logs keep it; their status moves on to
    // the refused reconnects).
    let said = agents
        .iter()
        .flat_map(|(_, proc, _)| {
            proc.log_tail(400)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .find(|line| line.contains("disk is full"))
        .unwrap_or_default();
    eprintln!("hub: a site was told: {said}");
    assert!(
        said.contains("Some resource has been exhausted"),
        "no site heard that the hub's disk is full"
    );
    let mut acked = BTreeMap::new();
    for (site, _, local) in &agents {
        let status = answers(local).await?;
        eprintln!(
            "hub: {site} acknowledged through {} of {}, backlog {}",
            status.acked_through,
            status.next_seq - 1,
            status.backlog
        );
        acked.insert(site.to_string(), status.acked_through);
    }

    // What was acknowledged must be durable: stop the sites, SIGKILL the hub (nothing more is
    // flushed), free the space and reopen the hub's store.
    for (site, proc, _) in &mut agents {
        assert_eq!(proc.terminate()?, Some(0), "agent {site}");
    }
    hub.kill9()?;
    disk.free()?;
    hub.restart()?;
    let stored = eventually("the hub to reopen", Duration::from_secs(60), || {
        let mut op = op.clone();
        async move { clients::sites(&mut op).await.ok() }
    })
    .await?;
    for site in &stored {
        let acked = acked.get(&site.site_id).copied().unwrap_or(u64::MAX);
        eprintln!(
            "hub: after SIGKILL and reopen, {} stored {} (acknowledged through {acked})",
            site.site_id, site.escalations_stored
        );
        assert!(
            site.escalations_stored >= acked,
            "{}: acknowledged through {acked} but only {} durable",
            site.site_id,
            site.escalations_stored
        );
    }

    // The sites come back, drain their backlogs and go on: everything arrives exactly once.
    for (_, proc, local) in &mut agents {
        proc.restart()?;
        answers(local).await?;
    }
    raise_all(&locals, 130..150, &mut accepted).await?;
    hub_holds_exactly(&op, &accepted).await?;
    for site in clients::sites(&mut op.clone()).await? {
        eprintln!(
            "hub: {} stored {} (acked through {}, {} duplicates)",
            site.site_id, site.escalations_stored, site.acked_through, site.duplicates
        );
        assert_eq!((site.escalations_stored, site.acked_through), (150, 150));
        assert_eq!((site.conflicts, site.sequence_gaps), (0, 0));
    }
    for (site, proc, _) in &mut agents {
        assert_eq!(proc.terminate()?, Some(0), "agent {site}");
    }
    assert_eq!(hub.terminate()?, Some(0));
    drop(disk);
    Ok(())
}

async fn raise_all(
    locals: &[(&str, Local)],
    range: std::ops::Range<usize>,
    accepted: &mut Accepted,
) -> anyhow::Result<()> {
    for (site, local) in locals {
        for i in range.clone() {
            let answer = local.clone().raise_incident(raise(site, i)).await?;
            accepted.record(&format!("{site}-{i}"), answer.into_inner());
        }
    }
    Ok(())
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}
