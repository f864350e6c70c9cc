//! The hub journal's crash window (real processes): the hub exits right after a batch of
//! escalations is in its journal and before the unit that indexes them commits
//! (`SOCFED_HUB_FAILPOINT=after-journal:4`, a test hook of the hub binary: the first batch of at
//! least 4), in a backlog the sites queued while it was down. Restarted without
//! it, the hub applies the journaled batch at start-up; the sites carry on and resend what was
//! not acknowledged. Every escalation the sites committed is stored exactly once with its
//! payload, one incident each, and only replayed escalations come back as duplicates.

use socfed_tests::federation::{Federation, Spec};
use socfed_tests::{eventually, ledger};
use std::time::Duration;

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
const FAILPOINT: &str = "SOCFED_HUB_FAILPOINT";
/// `sirt_hub::ingest::failpoint::EXIT_CODE`.
const FAILPOINT_EXIT: i32 = 86;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hub_dying_between_journal_and_index_loses_and_doubles_nothing() -> anyhow::Result<()> {
    let (before, per_site) = (20, 80);
    let total = (SITES.len() * per_site) as u64;
    let fed = Federation::start(Spec::sites(&SITES)).await?;
    // Some escalations stored the ordinary way first.
    fed.raise_range(0, before, 4).await?;
    fed.wait_drained((SITES.len() * before) as u64, Duration::from_secs(120))
        .await?;

    // A backlog queued at the sites while the hub is down, so the batch the hub dies on is a
    // large one (the sites' windows).
    fed.hub.lock().await.kill9()?;
    fed.raise_range(before, per_site, 4).await?;
    {
        let mut hub = fed.hub.lock().await;
        hub.set_env(FAILPOINT, Some("after-journal:4"));
        hub.restart()?;
    }
    let status = eventually(
        "the hub to stop at the failpoint",
        Duration::from_secs(120),
        || async { fed.hub.lock().await.exited().ok().flatten() },
    )
    .await?;
    anyhow::ensure!(
        status.code() == Some(FAILPOINT_EXIT),
        "the hub ended with {status:?}, not at the failpoint:\n{}",
        fed.hub.lock().await.log_tail(20)
    );
    {
        let mut hub = fed.hub.lock().await;
        hub.set_env(FAILPOINT, None);
        hub.restart()?;
    }
    fed.wait_drained(total, Duration::from_secs(300)).await?;
    let sites = fed.check_operator_view(per_site).await?;
    let log = fed.hub.lock().await.log_tail(10_000);
    fed.stop().await?;

    let replayed = replayed_in(&log);
    anyhow::ensure!(
        replayed >= 1,
        "the restarted hub applied nothing from its journal:\n{log}"
    );
    let stored = ledger::read_stopped_hub(&fed.hub_data())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored as u64, total);
    // Duplicates are resends of what the hub already held: the replayed entries, and any
    // smaller batch the failpoint's run stored before the one it died on, whose acks the
    // sites never heard. Either way only escalations queued during the outage, never those
    // acknowledged before it (the sites deleted those).
    let duplicates: u64 = sites.iter().map(|s| s.duplicates).sum();
    let queued_in_outage = (SITES.len() * (per_site - before)) as u64;
    assert!(
        duplicates <= queued_in_outage,
        "{duplicates} duplicates, more than the {queued_in_outage} queued during the outage: {sites:?}"
    );
    eprintln!(
        "journal_crash: {total} escalations from {} sites, hub stopped after a journal write; {replayed} applied from the journal at restart, {duplicates} of them resent and recognised; stored {} exactly once, 0 lost, 0 duplicated",
        SITES.len(),
        verdict.stored
    );
    Ok(())
}

/// How many escalations the hub's start-up replay applied, from its log line.
fn replayed_in(log: &str) -> u64 {
    const MARK: &str = "journal: applied ";
    log.lines()
        .filter_map(|line| {
            let rest = &line[line.find(MARK)? + MARK.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        })
        .sum()
}
