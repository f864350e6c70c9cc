//! The regulatory deadline watch: once a minute, every flagged incident's deadlines are
//! checked; a deadline that becomes due soon is logged as a warning, one that becomes overdue
//! as an error, each once per change, and gauges count both for alerting.

use crate::regulatory::{DeadlineStatus, WarningPolicy};
use crate::store::HubStore;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What was last reported per (incident, deadline kind), so each change is logged once.
type Reported = HashMap<(ulid::Ulid, String), &'static str>;

pub async fn run(store: Arc<HubStore>, every: Duration, shutdown: CancellationToken) {
    let mut reported: Reported = HashMap::new();
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let store = store.clone();
        let scan = tokio::task::spawn_blocking(move || store.regulated_incidents()).await;
        let incidents = match scan {
            Ok(Ok(list)) => list,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "regulatory deadline watch could not read the store");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "regulatory deadline watch task failed");
                continue;
            }
        };
        // Incidents no longer watched (every deadline met) are forgotten here too.
        let watched: std::collections::HashSet<ulid::Ulid> =
            incidents.iter().map(|i| i.id).collect();
        reported.retain(|(id, _), _| watched.contains(id));
        let (due_soon, overdue) = check(&incidents, socfed_proto::now_millis(), &mut reported);
        metrics::gauge!("socfed_hub_regulatory_deadlines", "status" => "due_soon")
            .set(due_soon as f64);
        metrics::gauge!("socfed_hub_regulatory_deadlines", "status" => "overdue")
            .set(overdue as f64);
    }
}

/// Logs changes since the last check; returns how many deadlines are due soon and overdue.
pub fn check(
    incidents: &[crate::incident::IncidentRecord],
    now_ms: i64,
    reported: &mut Reported,
) -> (usize, usize) {
    let (mut due_soon, mut overdue) = (0, 0);
    for incident in incidents {
        for (deadline, status) in incident
            .regulatory
            .status(now_ms, &WarningPolicy::default())
        {
            let word = match status {
                DeadlineStatus::Pending { .. } => "pending",
                DeadlineStatus::DueSoon { .. } => {
                    due_soon += 1;
                    "due_soon"
                }
                DeadlineStatus::Overdue { .. } => {
                    overdue += 1;
                    "overdue"
                }
                DeadlineStatus::Met { .. } => "met",
            };
            let key = (incident.id, deadline.kind.to_string());
            if reported.get(&key) == Some(&word) {
                continue;
            }
            reported.insert(key, word);
            let due = socfed_runtime::cli::format_millis(deadline.due_ms);
            match word {
                "due_soon" => {
                    tracing::warn!(incident = %incident.id, deadline = %deadline.kind, %due, citation = deadline.kind.citation(), "regulatory deadline due soon")
                }
                "overdue" => {
                    tracing::error!(incident = %incident.id, deadline = %deadline.kind, %due, citation = deadline.kind.citation(), "regulatory deadline OVERDUE")
                }
                _ => {}
            }
        }
    }
    (due_soon, overdue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regulatory::Regime;
    use socfed_proto::pb;
    use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};

    #[test]
    fn each_change_of_a_deadline_is_reported_once_in_virtual_time() {
        let report = IncidentReport::from_wire(
            pb::IncidentReport {
                local_incident_id: "x".into(),
                revision: 1,
                title: "t".into(),
                severity: pb::Severity::High as i32,
                ..Default::default()
            },
            &ReportLimits::default(),
        )
        .expect("valid");
        let hour = 3_600_000;
        let mut incident = crate::incident::open(
            ulid::Ulid::from_parts(1, 1),
            &SiteId::parse("paris").expect("valid"),
            &report,
            0,
        );
        incident.regulatory.flag(Regime::Gdpr, 0).expect("flag");
        let mut reported = Reported::new();
        assert_eq!(
            check(std::slice::from_ref(&incident), 59 * hour, &mut reported),
            (0, 0)
        );
        assert_eq!(
            check(std::slice::from_ref(&incident), 61 * hour, &mut reported),
            (1, 0)
        );
        assert_eq!(reported.values().copied().collect::<Vec<_>>(), ["due_soon"]);
        assert_eq!(
            check(std::slice::from_ref(&incident), 73 * hour, &mut reported),
            (0, 1)
        );
        assert_eq!(reported.values().copied().collect::<Vec<_>>(), ["overdue"]);
    }
}
