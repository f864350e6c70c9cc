//! One run of a library hunt: the hunt it starts (a sweep to every enrolled site, in
//! detection mode) and the library record after it.
//!
//! A run's sweeps expire when the next run is due, and the sites watch new alerts until
//! then: a site offline for a whole interval gets the later run, never a stale one. The
//! first run searches stored alerts as far back as the library hunt's lookback; later runs
//! search one interval back (the previous run watched the rest), on the time each site
//! received its alerts.

use super::{LibraryError, LibraryHunt, schedule};
use crate::response::hunt::{self, TimeBasis};
use crate::response::order::{HuntOrder, PlannedHunt};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;

/// Who a run's hunt and sweeps name as having started them.
pub const STARTED_BY: &str = "hunt library";
/// The sweep parameter that turns a hit into a local alert at the site.
pub const MODE_DETECT: &str = "detect";

/// What a run stores: the hunt and its sweeps, and the library hunt moved on.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    pub hunt: PlannedHunt,
    pub library: LibraryHunt,
}

/// The run of `library` at `now` to the `enrolled` sites.
pub fn plan(
    library: &LibraryHunt,
    enrolled: &[SiteId],
    now: UnixMillis,
) -> Result<PlannedRun, LibraryError> {
    if enrolled.is_empty() {
        return Err(LibraryError("no site is enrolled to run it".into()));
    }
    let interval_ms = schedule::interval_ms(library.interval_s);
    let next_due_ms = schedule::next_after(library.next_due_ms, interval_ms, now);
    let watch_s = u64::try_from((next_due_ms - now).max(0) / 1000).unwrap_or_default();
    let lookback_s = if library.runs == 0 {
        library.lookback_s
    } else {
        library.lookback_s.min(library.interval_s)
    };
    let order = HuntOrder {
        incident: None,
        indicators: library.indicators.clone(),
        sites: Vec::new(),
        lookback_s,
        duration_s: watch_s,
        basis: TimeBasis::Received,
        search: None,
    };
    let mut planned = order
        .plan(enrolled, STARTED_BY, now)
        .map_err(|e| LibraryError(e.to_string()))?;
    let mut params = hunt::sweep_params(&planned.hunt, TimeBasis::Received);
    params.extend(detection_params(library));
    for sweep in &mut planned.sweeps {
        sweep.params = params.clone();
        // Not run late: past the next run's due time the next run covers it.
        sweep.expires_at_ms = next_due_ms;
    }
    planned.text = format!(
        "library hunt {} ({}) run {} started for {} indicators",
        library.id,
        library.name,
        library.runs.saturating_add(1),
        library.indicators.len()
    );
    let library = LibraryHunt {
        next_due_ms,
        runs: library.runs.saturating_add(1),
        last_run_ms: Some(now),
        ..library.clone()
    };
    Ok(PlannedRun {
        hunt: planned,
        library,
    })
}

/// What the site needs to raise an alert for a hit (checked again there: hostile input).
fn detection_params(library: &LibraryHunt) -> Vec<(String, String)> {
    let techniques: Vec<&str> = library.techniques.iter().map(|t| t.as_str()).collect();
    [
        ("mode", MODE_DETECT.to_string()),
        ("rule_id", library.rule_id()),
        ("title", library.name.clone()),
        ("severity", library.severity.as_str().to_string()),
        ("techniques", techniques.join(",")),
        ("tlp", library.tlp.as_str().to_string()),
        ("library_version", library.version.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
