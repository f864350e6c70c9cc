//! Notifications for the SOC manager: things a person must look at (nobody on shift to take a
//! new alert group, an SLA breach, a case that climbed to the SIRT). Stored, logged, listed.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use ulid::Ulid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationKind {
    Unassigned,
    SlaBreach,
    EscalatedToSirt,
    /// Directives from the hub: an incident relinked after a merge or split, an action waiting
    /// for approval.
    FromHub,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Unassigned => "unassigned",
            NotificationKind::SlaBreach => "sla-breach",
            NotificationKind::EscalatedToSirt => "escalated-to-sirt",
            NotificationKind::FromHub => "from-hub",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Ulid,
    pub at_ms: UnixMillis,
    pub kind: NotificationKind,
    pub message: String,
    pub group: Option<Ulid>,
}
