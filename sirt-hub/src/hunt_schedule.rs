//! The hunt library's scheduler: every [`TICK`] (and once at start) it starts a run of each
//! enabled library hunt whose due time has come, as a hunt to every enrolled site in
//! detection mode (`crate::hunt_library::run`).
//!
//! The due times are durable (`hunt_library`), and the writer applies a scheduled run only if
//! the library hunt is still due at its own clock, storing the run and the next due time in
//! one unit: a pass repeated, or a restart between the read and the run, never runs it twice,
//! and a run due while the hub was down is made at the first pass after the start.

use crate::hunt_library::schedule;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the scheduler looks for due library hunts: schedules are 5 minutes apart at
/// least, so a run starts within a few seconds of its slot.
pub const TICK: Duration = Duration::from_secs(2);

/// Runs until `shutdown`.
pub async fn run(
    store: Arc<HubStore>,
    ingest: IngestHandle,
    enrolled: crate::enrolment::Enrolled,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        // Read each pass: a site enrolled or removed since runs the next sweep (or not).
        let sites = match enrolled.sites() {
            Ok(sites) => sites,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the enrolled sites");
                continue;
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = pass(&store, &ingest, &sites, socfed_proto::now_millis()) => {}
        }
    }
}

/// One pass: a run of every library hunt due at `now` (the writer checks again at its own
/// time). Failures are logged; the hunt stays due and the next pass tries again.
pub async fn pass(
    store: &Arc<HubStore>,
    ingest: &IngestHandle,
    enrolled: &[SiteId],
    now: UnixMillis,
) {
    let library = match crate::view::read(store, |s| s.library()).await {
        Ok(library) => library,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the hunt library");
            return;
        }
    };
    for hunt in library.iter().filter(|h| schedule::is_due(h, now)) {
        match Commands::on(ingest)
            .run_due_library_hunt(hunt.id, enrolled)
            .await
        {
            Ok(Some(run)) => {
                metrics::counter!("socfed_hub_library_runs_total").increment(1);
                tracing::info!(library = %hunt.id, hunt = %run.id, sites = run.sites.len(), "library hunt run started");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(library = %hunt.id, error = %e, "library hunt run failed"),
        }
    }
}
