//! Fault injection: every site agent SIGKILLed repeatedly while callers raise escalations
//! (real processes). No committed escalation is lost (committed = RaiseIncident answered OK),
//! none is stored twice, and every restart reopens the same store: same store epoch, its
//! sequence past everything committed before the kill, serving again.
//!
//! Short variant in the default suite; `SOCFED_LONG_FAULTS=1` kills each agent 20 times.
//! `SOCFED_FAULT_SEED=N` replays the kill moments.

use socfed_tests::federation::{Federation, Spec};
use socfed_tests::seed::{self, Rng};
use socfed_tests::{eventually, ledger};
use std::time::{Duration, Instant};

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agents_killed_while_writing_lose_no_committed_escalation_and_reopen_their_store()
-> anyhow::Result<()> {
    let mut rng = Rng::new(seed::seed_for("faults_agent_crash"));
    let per_site = seed::scale(600, 8_000);
    let kills = seed::scale(3, 20);
    let total = (SITES.len() * per_site) as u64;

    let fed = Federation::start(Spec::sites(&SITES)).await?;
    let started = Instant::now();
    let mut killers = Vec::new();
    for index in 0..fed.agents.len() {
        let mut rng = rng.fork(index as u64);
        // Kill moments: when the agent has queued this many, plus a random delay.
        let points = rng.sorted_points(kills, per_site as u64 / 20, per_site as u64 * 9 / 10);
        let delays: Vec<u64> = (0..kills).map(|_| rng.range(0, 100)).collect();
        let fed = fed.clone();
        killers.push(tokio::spawn(async move {
            let agent = &fed.agents[index];
            let mut restarts = 0;
            for (point, delay) in points.into_iter().zip(delays) {
                let before = eventually(
                    &format!("{} to queue {point}", agent.site),
                    Duration::from_secs(300),
                    || async {
                        let status = fed.agent_status(agent).await.ok()?;
                        (status.next_seq > point).then_some(status)
                    },
                )
                .await?;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                let mut proc = agent.proc.lock().await;
                proc.kill9()?;
                // Everything answered OK before the kill is committed; the restarted agent
                // must continue after it, under the same store epoch.
                let committed = fed.ledger.max_seq(&agent.site);
                proc.restart()?;
                drop(proc);
                let after = fed.agent_status(agent).await?;
                anyhow::ensure!(
                    after.store_epoch == before.store_epoch,
                    "{} restarted with store epoch {} (was {}): its store was not reopened",
                    agent.site,
                    after.store_epoch,
                    before.store_epoch
                );
                anyhow::ensure!(
                    after.next_seq > committed,
                    "{} restarted at next_seq {} but had committed seq {committed}",
                    agent.site,
                    after.next_seq
                );
                restarts += 1;
            }
            anyhow::Ok(restarts)
        }));
    }
    fed.raise_range(0, per_site, 8).await?;
    let raised_in = started.elapsed();
    let mut restarts = 0;
    for killer in killers {
        restarts += killer.await??;
    }
    fed.wait_drained(total, Duration::from_secs(600)).await?;
    let drained_in = started.elapsed();
    let sites = fed.check_operator_view(per_site).await?;
    fed.stop().await?;

    let stored = ledger::read_stopped_hub(&fed.hub_data())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored as u64, total);
    assert_eq!(restarts, kills * SITES.len(), "every planned kill happened");
    let resent: u64 = sites.iter().map(|s| s.duplicates).sum();
    eprintln!(
        "faults_agent_crash: {total} escalations from {} sites, each agent SIGKILLed {kills} times ({restarts} restarts, each reopened its store); stored {} exactly once, 0 lost, 0 duplicated, payload hashes all match; retried requests answered from the agent's record {}; resends recognised as duplicates {resent}; raised in {raised_in:.1?}, drained in {drained_in:.1?}",
        SITES.len(),
        verdict.stored,
        verdict.replayed,
    );
    Ok(())
}
