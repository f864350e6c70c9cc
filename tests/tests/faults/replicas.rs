//! Hub replicas over one PostgreSQL schema, with the real binaries: two `sirt-hub` processes
//! share the store, three `site-agent`s list both addresses. Each replica is SIGKILLed in
//! turn while the sites escalate and directives are issued at either replica (some while the
//! site's stream is on the other one): every escalation is stored exactly once (the ledger
//! against the database), no site shows a conflict, every directive ran exactly once at its
//! site and is reported succeeded, both replicas answer with the same incidents, and an API
//! token minted at one replica works at the other.
//!
//! Skips without a test database (`.ci/postgres start`), unless `SOCFED_REQUIRE_PG=1`.
//! `SOCFED_REPLICAS_PER_SITE=N` changes the escalations per site (default 6,000; 10,000 with
//! `SOCFED_LONG_FAULTS=1`).

use socfed_proto::pb;
use socfed_proto::vocab::DirectiveState;
use socfed_tests::federation::{Federation, Spec, payload};
use socfed_tests::{api, clients, eventually, free_ports, ledger, postgres, replicas, web};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n";

/// Escalations per site: 10,000 take about 3.5 minutes in a debug build on two shared cores,
/// so the default suite raises 6,000 (`SOCFED_LONG_FAULTS=1`: 10,000).
fn per_site() -> usize {
    std::env::var("SOCFED_REPLICAS_PER_SITE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(socfed_tests::seed::scale(6_000, 10_000))
}

/// The playbook every agent runs for `collect_evidence`: appends `SITE DIRECTIVE_ID` to `log`.
fn playbook(log: &std::path::Path) -> String {
    format!(
        "[response]\n[[response.playbooks]]\nkind = \"collect_evidence\"\ncommand = [\"/bin/sh\", \"-c\", 'echo \"$1 $2\" >> \"$0\"', \"{}\", \"{{site}}\", \"{{directive_id}}\"]\n",
        log.display()
    )
}

/// A federation of two hub replicas on `db` (dashboards on `dashboards`) and the three sites.
async fn replicated(
    db: &postgres::TestDatabase,
    dir: &std::path::Path,
    dashboards: [u16; 2],
    agent_extra: String,
) -> anyhow::Result<Arc<Federation>> {
    let store = replicas::store_section(db, dir)?;
    let fed = Federation::start(Spec {
        hub_extra: format!("{OPERATORS}{store}"),
        agent_extra,
        replicas: dashboards
            .iter()
            .map(|port| format!("[dashboard]\nlisten = \"127.0.0.1:{port}\"\n"))
            .collect(),
        ..Spec::sites(&SITES)
    })
    .await?;
    // Both replicas opened the store (they start at once) and answer.
    for (index, hub) in fed.hub_addrs().into_iter().enumerate() {
        let answering = eventually("the replica to answer", Duration::from_secs(60), || async {
            let mut op = clients::operator(hub, &fed.operator, &fed.pki.domain).ok()?;
            clients::sites(&mut op).await.ok()
        })
        .await;
        if let Err(e) = answering {
            let proc = match index {
                0 => &fed.hub,
                n => &fed.replicas[n - 1].proc,
            };
            let mut proc = proc.lock().await;
            anyhow::bail!(
                "replica {index} at {hub}: {e} (exited: {:?})\n{}",
                proc.exited()?,
                proc.log_tail(40)
            );
        }
    }
    Ok(fed)
}

/// The incident of escalation 0 of `site` (raised first, so the list is short).
async fn incident_of_first(fed: &Federation, site: &str) -> anyhow::Result<String> {
    let title = payload(site, 0).0;
    eventually("the first incident", Duration::from_secs(120), || async {
        let mut op = fed.op().ok()?;
        let all = clients::all_incidents(&mut op).await.ok()?;
        all.into_iter().find(|i| i.title == title).map(|i| i.id)
    })
    .await
}

/// Issues one `collect_evidence` directive to every site at whichever of `hubs` answers
/// first; returns the (site, directive id) pairs and the replica that took it.
async fn issue(
    fed: &Federation,
    hubs: &[SocketAddr],
    incident: &str,
    item: &str,
) -> anyhow::Result<(Vec<(String, String)>, SocketAddr)> {
    let ines = fed.pki.operator("ines")?;
    eventually(
        "a replica to take a directive",
        Duration::from_secs(60),
        || {
            let ines = ines.clone();
            async move {
                for &hub in hubs {
                    let mut client = clients::response(hub, &ines, &fed.pki.domain).ok()?;
                    let request = pb::IssueDirectiveRequest {
                        incident_id: incident.to_string(),
                        sites: SITES.iter().map(|s| s.to_string()).collect(),
                        kind: "collect_evidence".into(),
                        params: [("item".to_string(), item.to_string())].into(),
                        expires_in_s: 0,
                    };
                    if let Ok(reply) = client.issue_directive(request).await {
                        let pairs = reply
                            .into_inner()
                            .directives
                            .into_iter()
                            .map(|d| (d.site_id, d.directive.unwrap_or_default().directive_id))
                            .collect();
                        return Some((pairs, hub));
                    }
                }
                None
            }
        },
    )
    .await
}

/// Every directive of `incident` as the replica at `hub` lists it (all pages).
async fn directives(
    fed: &Federation,
    hub: SocketAddr,
    incident: &str,
) -> Option<Vec<pb::DirectiveStatus>> {
    let ines = fed.pki.operator("ines").ok()?;
    let mut client = clients::response(hub, &ines, &fed.pki.domain).ok()?;
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = pb::ListDirectivesRequest {
            incident_id: incident.to_string(),
            limit: 200,
            page_token,
            ..Default::default()
        };
        let page = client.list_directives(request).await.ok()?.into_inner();
        all.extend(page.directives);
        if page.next_page_token.is_empty() {
            return Some(all);
        }
        page_token = page.next_page_token;
    }
}

/// Which replica holds each site's stream now, by the agents' status.
async fn streams_at(fed: &Federation) -> BTreeMap<String, String> {
    let mut at = BTreeMap::new();
    for agent in &fed.agents {
        if let Ok(status) = fed.agent_status(agent).await
            && status.hub_connected
        {
            at.insert(agent.site.clone(), status.hub_address);
        }
    }
    at
}

/// SIGKILLs a replica once `point` escalations are stored, restarts it after `down`; returns
/// how long nothing new was stored after the kill (the failover gap).
async fn kill_replica_at(
    fed: &Federation,
    which: usize,
    point: u64,
    down: Duration,
) -> anyhow::Result<Duration> {
    eventually(
        &format!("{point} stored before killing replica {which}"),
        Duration::from_secs(600),
        || async { fed.stored().await.filter(|&n| n >= point) },
    )
    .await?;
    let proc = match which {
        0 => &fed.hub,
        n => &fed.replicas[n - 1].proc,
    };
    proc.lock().await.kill9()?;
    let killed = Instant::now();
    let before = fed.stored().await.unwrap_or(point);
    let resumed = eventually(
        "storing to resume at the other replica",
        Duration::from_secs(120),
        || async {
            fed.stored()
                .await
                .filter(|&n| n > before)
                .map(|_| killed.elapsed())
        },
    );
    let (gap, ()) = tokio::join!(resumed, async {
        tokio::time::sleep(down).await;
    });
    proc.lock().await.restart()?;
    gap
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_three_sites_exactly_once_through_replica_kills() -> anyhow::Result<()> {
    let Some(db) = postgres::test_database() else {
        return Ok(());
    };
    let per_site = per_site();
    let total = (SITES.len() * per_site) as u64;
    let scratch = tempfile::tempdir()?;
    let runs_log = scratch.path().join("directive-runs");
    let dashboards = free_ports::<2>()?;
    let fed = replicated(&db, scratch.path(), dashboards, playbook(&runs_log)).await?;
    let hubs = fed.hub_addrs();
    let started = Instant::now();

    // The incident the directives are about: escalation 0 of the first site.
    fed.raise_range(0, 1, 1).await?;
    let incident = incident_of_first(&fed, SITES[0]).await?;
    let raising = {
        let fed = fed.clone();
        tokio::spawn(async move { fed.raise_range(1, per_site, 8).await })
    };

    // Directives through the run, alternately at each replica (first choice), whichever
    // holds the sites' streams.
    let issuing = {
        let (fed, hubs, incident) = (fed.clone(), hubs.clone(), incident.clone());
        tokio::spawn(async move {
            let mut issued = BTreeSet::new();
            let mut elsewhere = 0usize;
            let mut round = 0usize;
            while fed.stored().await.unwrap_or(0) < total * 95 / 100 {
                let mut order = hubs.clone();
                order.rotate_left(round % hubs.len());
                let (pairs, took) = issue(&fed, &order, &incident, &format!("r{round}")).await?;
                let streams = streams_at(&fed).await;
                elsewhere += streams
                    .values()
                    .filter(|at| **at != took.to_string())
                    .count();
                issued.extend(pairs);
                round += 1;
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
            anyhow::Ok((issued, elsewhere))
        })
    };

    let gap_a = kill_replica_at(&fed, 0, total / 4, Duration::from_secs(2)).await?;
    let gap_b = kill_replica_at(&fed, 1, total * 6 / 10, Duration::from_secs(2)).await?;
    raising.await??;
    let raised_in = started.elapsed();
    let (issued, elsewhere) = issuing.await??;
    fed.wait_drained(total, Duration::from_secs(600)).await?;
    let drained_in = started.elapsed();

    // Every directive final at the hub, succeeded, run exactly once at its site.
    let finals = eventually(
        "every directive succeeded at every site",
        Duration::from_secs(120),
        || async {
            let list = directives(&fed, hubs[1], &incident).await?;
            let done = list.len() >= issued.len()
                && list
                    .iter()
                    .all(|d| DirectiveState::from_wire(d.state).is_some_and(|s| s.is_final()));
            done.then_some(list)
        },
    )
    .await?;
    let mut runs: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in std::fs::read_to_string(&runs_log)?.lines() {
        let (site, id) = line
            .split_once(' ')
            .ok_or_else(|| anyhow::anyhow!("odd line {line:?}"))?;
        *runs.entry((site.into(), id.into())).or_default() += 1;
    }
    let listed: BTreeSet<(String, String)> = finals
        .iter()
        .map(|d| {
            (
                d.site_id.clone(),
                d.directive.clone().unwrap_or_default().directive_id,
            )
        })
        .collect();
    assert!(
        issued.is_subset(&listed),
        "an issued directive is not listed"
    );
    for status in &finals {
        let key = (
            status.site_id.clone(),
            status.directive.clone().unwrap_or_default().directive_id,
        );
        assert_eq!(
            DirectiveState::from_wire(status.state),
            Some(DirectiveState::Succeeded),
            "{key:?}: {}",
            status.detail
        );
        assert_eq!(
            runs.get(&key),
            Some(&1),
            "{key:?} ran {:?} times",
            runs.get(&key)
        );
    }

    // Both replicas answer with the same view: every escalation one incident, per site all
    // stored and acknowledged, no conflicts.
    let at_a = fed.check_operator_view_at(hubs[0], per_site).await?;
    let at_b = fed.check_operator_view_at(hubs[1], per_site).await?;
    // What the store holds is the same at both; `connected` (and what the live stream last
    // reported) is the view of the replica holding the stream.
    let stored_view = |sites: &[pb::SiteSummary]| -> Vec<_> {
        sites
            .iter()
            .map(|s| {
                (
                    s.site_id.clone(),
                    s.store_epoch.clone(),
                    s.acked_through,
                    s.escalations_stored,
                    s.duplicates,
                    s.conflicts,
                    s.rejected,
                )
            })
            .collect()
    };
    if stored_view(&at_a) != stored_view(&at_b) {
        eprintln!("replica A: {at_a:?}\nreplica B: {at_b:?}");
    }
    assert_eq!(stored_view(&at_a), stored_view(&at_b));

    // Sessions and tokens live in the store: minted at one replica, accepted at the other.
    let carl = socfed_tests::fixture::OperatorCli::hub(hubs[0], fed.pki.operator("carl")?);
    let created = carl.json(&["tokens", "create", "replicas", "--scope", "read"])?;
    let token = created["token"].as_str().unwrap_or_default().to_string();
    let plain = web::https(&fed.pki)?;
    let (status, sites) = api::call(
        plain
            .get(format!("https://127.0.0.1:{}/api/v1/sites", dashboards[1]))
            .bearer_auth(&token),
    )
    .await?;
    assert_eq!(status, 200, "{sites}");

    let resent: u64 = at_a.iter().map(|s| s.duplicates).sum();
    fed.stop().await?;
    let stored = ledger::read_postgres_hub(&db.config())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored as u64, total);
    eprintln!(
        "replicas: {total} escalations from {} sites through 2 hub replicas on PostgreSQL, each SIGKILLed once (failover gaps {gap_a:.1?}, {gap_b:.1?}); stored {} exactly once, {resent} resends recognised as duplicates; {} (site, directive) pairs each run once and succeeded ({elsewhere} issued at the replica not holding the site's stream); raised in {raised_in:.1?}, drained in {drained_in:.1?} ({:.0} escalations/s)",
        SITES.len(),
        verdict.stored,
        finals.len(),
        total as f64 / drained_in.as_secs_f64(),
    );
    Ok(())
}

/// `sirt-hub incidents list` at `hub` as the tester: (exit code, stderr).
fn list_incidents(fed: &Federation, hub: SocketAddr) -> anyhow::Result<(Option<i32>, String)> {
    let out = socfed_tests::fixture::OperatorCli::hub(hub, fed.operator.clone()).run(&[
        "incidents",
        "list",
        "--limit",
        "1",
    ])?;
    Ok((
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_restarted_mid_run_loses_nothing() -> anyhow::Result<()> {
    // The rule of every PostgreSQL test (skip or require); the database restarted is this
    // test's own cluster, not the one the other tests share.
    if postgres::test_database().is_none() {
        return Ok(());
    }
    let cluster = postgres::OwnCluster::start()?;
    let db = cluster.database();
    let per_site = per_site() / 5;
    let total = (SITES.len() * per_site) as u64;
    let scratch = tempfile::tempdir()?;
    let fed = replicated(&db, scratch.path(), free_ports::<2>()?, String::new()).await?;
    let hubs = fed.hub_addrs();
    let started = Instant::now();
    let raising = {
        let fed = fed.clone();
        tokio::spawn(async move { fed.raise_range(0, per_site, 8).await })
    };
    eventually(
        "a third stored before the database stops",
        Duration::from_secs(300),
        || async { fed.stored().await.filter(|&n| n >= total / 3) },
    )
    .await?;

    // Down: both replicas answer operators with UNAVAILABLE saying why, and stay up.
    cluster.stop()?;
    let stopped = Instant::now();
    let mut refused = BTreeMap::new();
    while stopped.elapsed() < Duration::from_secs(4) {
        for &hub in &hubs {
            let (code, stderr) = list_incidents(&fed, hub)?;
            assert_ne!(code, Some(0), "{hub} answered with the database down");
            if code == Some(69) {
                let a = fed.hub.lock().await.log_tail(40);
                let b = fed.replicas[0].proc.lock().await.log_tail(40);
                anyhow::bail!(
                    "{hub} stopped answering: {stderr}\nreplica A:\n{a}\nreplica B:\n{b}"
                );
            }
            refused.insert(hub, (code, stderr));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for (hub, (code, stderr)) in &refused {
        assert!(
            stderr.contains("database cannot be reached"),
            "{hub} exit {code:?}: {stderr}"
        );
    }
    assert!(fed.hub.lock().await.exited()?.is_none(), "replica A exited");
    assert!(
        fed.replicas[0].proc.lock().await.exited()?.is_none(),
        "replica B exited"
    );

    // Back: operator calls answer again at both, everything resumes.
    cluster.start_again()?;
    let down_for = stopped.elapsed();
    let restarted = Instant::now();
    for &hub in &hubs {
        eventually(
            "operator calls to answer again",
            Duration::from_secs(60),
            || async {
                list_incidents(&fed, hub)
                    .ok()
                    .filter(|(c, _)| *c == Some(0))
            },
        )
        .await?;
    }
    let answering_after = restarted.elapsed();
    raising.await??;
    fed.wait_drained(total, Duration::from_secs(300)).await?;
    let drained_in = started.elapsed();
    let sites = fed.check_operator_view_at(hubs[1], per_site).await?;
    fed.check_operator_view_at(hubs[0], per_site).await?;
    fed.stop().await?;
    let stored = ledger::read_postgres_hub(&db.config())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored as u64, total);
    let resent: u64 = sites.iter().map(|s| s.duplicates).sum();
    let (code, said) = refused.values().next().cloned().unwrap_or_default();
    eprintln!(
        "replicas_database: {total} escalations from {} sites through 2 replicas; PostgreSQL down {down_for:.1?} mid-run (operator calls refused with exit {code:?}: {}), both replicas answering {answering_after:.1?} after it was back; stored {} exactly once, {resent} resends recognised as duplicates; drained in {drained_in:.1?}",
        SITES.len(),
        said.trim(),
        verdict.stored,
    );
    Ok(())
}
