//! Exactly-once escalation with real processes: three site agents and a hub as separate
//! binaries on loopback, real mTLS, real sled directories; hub and agents SIGKILLed mid-run.
//! The machinery (processes, raising with request ids, the ledger of committed escalations and
//! the check against the hub's store) is `socfed_tests::federation` and `socfed_tests::ledger`,
//! shared with the `faults_*` tests.

use socfed_tests::federation::{Federation, Spec};
use socfed_tests::{eventually, ledger};
use std::sync::Arc;
use std::time::Duration;

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
const PER_SITE: usize = 1000;
const SUBMITTERS_PER_SITE: usize = 8;

/// The hub holds exactly one record per raised incident, none lost, none duplicated, no
/// conflicts, every agent's outbox drained, and both sides exit cleanly on SIGTERM.
async fn assert_exactly_once(fed: &Arc<Federation>) -> anyhow::Result<()> {
    let total = (SITES.len() * PER_SITE) as u64;
    fed.wait_drained(total, Duration::from_secs(120)).await?;
    for site in fed.check_operator_view(PER_SITE).await? {
        eprintln!(
            "{}: stored {} duplicates {} epoch changes {}",
            site.site_id, site.escalations_stored, site.duplicates, site.epoch_changes
        );
    }
    fed.stop().await?;
    let stored = ledger::read_stopped_hub(&fed.hub_data())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored as u64, total);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_sites_thousand_escalations_each_arrive_exactly_once() -> anyhow::Result<()> {
    let fed = Federation::start(Spec::sites(&SITES)).await?;
    fed.raise_range(0, PER_SITE, SUBMITTERS_PER_SITE).await?;
    assert_exactly_once(&fed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hub_killed_and_restarted_three_times_mid_run_loses_and_duplicates_nothing()
-> anyhow::Result<()> {
    let fed = Federation::start(Spec::sites(&SITES)).await?;
    let killer = {
        let fed = fed.clone();
        tokio::spawn(async move {
            for threshold in [400u64, 1200, 2000] {
                eventually(
                    &format!("{threshold} stored before the next kill"),
                    Duration::from_secs(60),
                    || async { (fed.stored().await? >= threshold).then_some(()) },
                )
                .await?;
                fed.hub.lock().await.restart()?;
            }
            anyhow::Ok(())
        })
    };
    fed.raise_range(0, PER_SITE, SUBMITTERS_PER_SITE).await?;
    killer.await??;
    assert_exactly_once(&fed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_killed_and_restarted_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()>
{
    let fed = Federation::start(Spec::sites(&SITES)).await?;
    let killer = {
        let fed = fed.clone();
        tokio::spawn(async move {
            let victim = &fed.agents[0];
            for threshold in [200u64, 500, 800] {
                eventually(
                    &format!("{} to queue {threshold}", victim.site),
                    Duration::from_secs(60),
                    || async {
                        let status = fed.agent_status(victim).await.ok()?;
                        (status.next_seq > threshold).then_some(())
                    },
                )
                .await?;
                victim.proc.lock().await.restart()?;
            }
            anyhow::Ok(())
        })
    };
    fed.raise_range(0, PER_SITE, SUBMITTERS_PER_SITE).await?;
    killer.await??;
    assert_exactly_once(&fed).await
}
