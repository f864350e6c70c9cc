//! A threat hunt: indicators swept across sites, one `ioc_sweep` directive per site, and the
//! per-site progress derived from those directives and the site's connection.

use super::directive::{DirectiveRecord, DirectiveState};
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, SiteId};
use ulid::Ulid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HuntRecord {
    pub id: Ulid,
    pub incident: Option<Ulid>,
    pub indicators: Vec<Indicator>,
    pub sites: Vec<SiteId>,
    pub lookback_ms: i64,
    pub duration_ms: i64,
    pub started_at_ms: UnixMillis,
    pub started_by: String,
    /// The incident the hits were attached to.
    pub attached_to: Option<Ulid>,
    /// The sweep directive sent to each site.
    pub directives: Vec<Ulid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteProgress {
    /// The site is connected and has not confirmed the sweep yet.
    Pending,
    /// The site is not connected and has not received the sweep.
    Offline,
    Running,
    Done,
    Failed,
    Expired,
}

impl SiteProgress {
    pub fn of(directive: &DirectiveRecord, connected: bool, now: UnixMillis) -> Self {
        match directive.effective_state(now) {
            DirectiveState::Queued if connected => SiteProgress::Pending,
            DirectiveState::Queued => SiteProgress::Offline,
            DirectiveState::Received
            | DirectiveState::Acknowledged
            | DirectiveState::AwaitingApproval
            | DirectiveState::Running => SiteProgress::Running,
            DirectiveState::Succeeded | DirectiveState::DryRun => SiteProgress::Done,
            DirectiveState::Expired => SiteProgress::Expired,
            DirectiveState::Failed | DirectiveState::Refused | DirectiveState::Interrupted => {
                SiteProgress::Failed
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SiteProgress::Pending => "pending",
            SiteProgress::Offline => "offline",
            SiteProgress::Running => "running",
            SiteProgress::Done => "done",
            SiteProgress::Failed => "failed",
            SiteProgress::Expired => "expired",
        }
    }
}

/// Which time a hunt's lookback is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeBasis {
    /// When the source saw the alert (its own timestamp).
    #[default]
    Observed,
    /// When the site took the alert in: finds old samples ingested late, and alerts arriving
    /// late during a watch.
    Received,
}

impl TimeBasis {
    /// The sweep parameter and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeBasis::Observed => "observed",
            TimeBasis::Received => "received",
        }
    }

    /// Empty is the default (observed), as an unset wire field.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "" | "observed" => Ok(TimeBasis::Observed),
            "received" => Ok(TimeBasis::Received),
            other => Err(format!(
                "time basis {other:?} is neither \"observed\" nor \"received\""
            )),
        }
    }

    /// The basis a sweep directive carries (directives sent before it existed: observed).
    pub fn of_params(params: &std::collections::BTreeMap<String, String>) -> Self {
        params
            .get("time")
            .and_then(|raw| Self::parse(raw).ok())
            .unwrap_or_default()
    }
}

/// The sweep's parameters as the agent reads them.
pub fn sweep_params(
    hunt: &HuntRecord,
    basis: TimeBasis,
) -> std::collections::BTreeMap<String, String> {
    let indicators: Vec<String> = hunt.indicators.iter().map(ToString::to_string).collect();
    [
        ("hunt_id", hunt.id.to_string()),
        ("indicators", indicators.join("\n")),
        ("lookback_ms", hunt.lookback_ms.to_string()),
        ("duration_ms", hunt.duration_ms.to_string()),
        ("time", basis.as_str().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
