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

/// The sweep's parameters as the agent reads them.
pub fn sweep_params(hunt: &HuntRecord) -> std::collections::BTreeMap<String, String> {
    let indicators: Vec<String> = hunt.indicators.iter().map(ToString::to_string).collect();
    [
        ("hunt_id", hunt.id.to_string()),
        ("indicators", indicators.join("\n")),
        ("lookback_ms", hunt.lookback_ms.to_string()),
        ("duration_ms", hunt.duration_ms.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
