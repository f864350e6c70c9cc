//! What the outbox does at its cap. Pure: the store asks, this module decides.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFull {
    /// Refuse new escalations with RESOURCE_EXHAUSTED; nothing queued is lost. The default.
    RefuseNew,
    /// Drop the oldest unacknowledged escalation to admit the new one; every drop is counted,
    /// logged and reported to the hub.
    DropOldest,
}

impl OnFull {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFull::RefuseNew => "refuse-new",
            OnFull::DropOldest => "drop-oldest",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admit,
    Refuse,
    /// Admit after dropping this many of the oldest entries.
    AdmitDroppingOldest(u64),
}

pub fn admit(len: u64, cap: u64, policy: OnFull) -> Admission {
    if len < cap {
        return Admission::Admit;
    }
    match policy {
        OnFull::RefuseNew => Admission::Refuse,
        // The cap may have been lowered since entries were queued: drop down to cap - 1.
        OnFull::DropOldest => Admission::AdmitDroppingOldest(len + 1 - cap),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_below_cap_and_applies_the_policy_at_it() {
        assert_eq!(admit(9, 10, OnFull::RefuseNew), Admission::Admit);
        assert_eq!(admit(10, 10, OnFull::RefuseNew), Admission::Refuse);
        assert_eq!(
            admit(10, 10, OnFull::DropOldest),
            Admission::AdmitDroppingOldest(1)
        );
        assert_eq!(
            admit(15, 10, OnFull::DropOldest),
            Admission::AdmitDroppingOldest(6)
        );
    }
}
