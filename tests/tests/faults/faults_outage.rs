//! Fault injection: the hub unreachable for a long stretch, compressed in time. The hub is
//! SIGKILLed and stays down while every site raises a backlog (and each agent is restarted once
//! with the backlog in its outbox); then the hub returns. The backlog drains, nothing is lost or
//! stored twice, and each site's escalations are stored in the order the site committed them:
//! sequence order equals commit order, receive times never go backwards, and the
//! acknowledged-through mark only ever rises, at the agent and at the hub.
//!
//! Short variant in the default suite; `SOCFED_LONG_FAULTS=1` queues 20,000 per site at five
//! sites (100,000 in all).

use socfed_tests::federation::{Federation, Spec};
use socfed_tests::{eventually, ledger, seed};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BEFORE: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backlog_raised_while_the_hub_is_down_drains_in_site_order_with_nothing_lost()
-> anyhow::Result<()> {
    let _ = seed::seed_for("faults_outage");
    let sites: &[&str] = seed::scale(
        &["paris", "lyon", "oslo"],
        &["paris", "lyon", "oslo", "madrid", "rome"],
    );
    let per_site = seed::scale(1_000, 20_000);
    let total = (sites.len() * per_site) as u64;
    let fed = Federation::start(Spec::sites(sites)).await?;

    // Connected and delivering first, so the outage interrupts live streams.
    fed.raise_range(0, BEFORE, 2).await?;
    fed.wait_drained((sites.len() * BEFORE) as u64, Duration::from_secs(60))
        .await?;
    fed.hub.lock().await.kill9()?;
    let outage = Instant::now();
    fed.raise_range(BEFORE, per_site, 8).await?;
    // The backlog survives an agent restart during the outage.
    for agent in &fed.agents {
        agent.proc.lock().await.restart()?;
    }
    let backlog = (per_site - BEFORE) as u64;
    for agent in &fed.agents {
        let status = fed.agent_status(agent).await?;
        assert_eq!(
            (status.backlog, status.hub_connected),
            (backlog, false),
            "{}: the whole backlog is queued while the hub is down",
            agent.site
        );
    }
    let down_for = outage.elapsed();

    fed.hub.lock().await.restart()?;
    let back = Instant::now();
    // Sample the acknowledged-through marks until everything is stored: they only rise.
    let marks: Mutex<HashMap<String, (u64, u64, usize)>> = Mutex::new(HashMap::new());
    let marks = &marks;
    eventually("the backlog to drain", Duration::from_secs(600), || async {
        let mut drained = true;
        for agent in &fed.agents {
            let status = fed.agent_status(agent).await.ok()?;
            let hub = fed
                .sites()
                .await
                .and_then(|s| s.into_iter().find(|s| s.site_id == agent.site));
            let mut marks = marks.lock().ok()?;
            let (agent_mark, hub_mark, samples) = marks.entry(agent.site.clone()).or_default();
            assert!(
                status.acked_through >= *agent_mark,
                "{}: agent acked-through went back from {agent_mark} to {}",
                agent.site,
                status.acked_through
            );
            *agent_mark = status.acked_through;
            if let Some(hub) = hub {
                assert!(
                    hub.acked_through >= *hub_mark,
                    "{}: hub acked-through went back from {hub_mark} to {}",
                    agent.site,
                    hub.acked_through
                );
                *hub_mark = hub.acked_through;
            }
            *samples += 1;
            drained &= status.backlog == 0;
        }
        (drained && fed.stored().await? == total).then_some(())
    })
    .await?;
    let drain = back.elapsed();
    fed.check_operator_view(per_site).await?;
    fed.stop().await?;

    let committed = fed.ledger.entries();
    let stored = ledger::read_stopped_hub(&fed.hub_data())?;
    // check_exactly_once also checks the order: one epoch per site, receive times
    // non-decreasing in sequence order, each escalation under the sequence it was committed as.
    let verdict = ledger::check_exactly_once(&committed, &stored)?;
    assert_eq!(verdict.stored as u64, total);
    let samples: usize = marks
        .lock()
        .map_err(|_| anyhow::anyhow!("sampler panicked"))?
        .values()
        .map(|v| v.2)
        .sum();
    eprintln!(
        "faults_outage: {} sites, hub down {down_for:.1?} while {} escalations queued ({backlog} per site, agents restarted once during the outage); backlog drained in {drain:.1?} ({:.0}/s); stored {} exactly once in site order, 0 lost, 0 duplicated; acked-through sampled {samples} times, never went back",
        sites.len(),
        backlog * sites.len() as u64,
        (backlog * sites.len() as u64) as f64 / drain.as_secs_f64(),
        verdict.stored,
    );
    Ok(())
}
