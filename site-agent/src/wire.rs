//! The agent's enums on the wire: one [`WireTable`] per status, verdict, role or phase that
//! the `SiteSoc` API carries as a number. The service converts through these tables and the
//! CLI turns the numbers back into the domain's words, so a word is spelled in one place (the
//! domain) and a number in one place (here).

use crate::soc::incident::IncidentStatus;
use crate::soc::triage::{StatusKind, Verdict};
use crate::soc::{Role, Tier};
use socfed_proto::pb;
use socfed_proto::vocab::{HubPhase, WireTable};

pub static ALERT_STATUSES: WireTable<StatusKind, pb::AlertStatus> = WireTable {
    field: "status",
    word: StatusKind::as_str,
    pairs: &[
        (StatusKind::New, pb::AlertStatus::New),
        (StatusKind::Acknowledged, pb::AlertStatus::Acknowledged),
        (StatusKind::Closed, pb::AlertStatus::Closed),
        (StatusKind::Promoted, pb::AlertStatus::Promoted),
    ],
};

pub static VERDICTS: WireTable<Verdict, pb::Verdict> = WireTable {
    field: "verdict",
    word: Verdict::as_str,
    pairs: &[
        (Verdict::TruePositive, pb::Verdict::TruePositive),
        (Verdict::FalsePositive, pb::Verdict::FalsePositive),
        (Verdict::Benign, pb::Verdict::Benign),
        (Verdict::Duplicate, pb::Verdict::Duplicate),
    ],
};

pub static ROLES: WireTable<Role, pb::SiteRole> = WireTable {
    field: "role",
    word: Role::word,
    pairs: &[
        (Role::Analyst(Tier::T1), pb::SiteRole::Tier1),
        (Role::Analyst(Tier::T2), pb::SiteRole::Tier2),
        (Role::Analyst(Tier::T3), pb::SiteRole::Tier3),
        (Role::Analyst(Tier::T4), pb::SiteRole::Tier4),
        (Role::Engineer, pb::SiteRole::Engineer),
        (Role::SocManager, pb::SiteRole::SocManager),
        (Role::Sensor, pb::SiteRole::Sensor),
    ],
};

pub static INCIDENT_STATUSES: WireTable<IncidentStatus, pb::LocalStatus> = WireTable {
    field: "status",
    word: IncidentStatus::as_str,
    pairs: &[
        (IncidentStatus::Open, pb::LocalStatus::Open),
        (IncidentStatus::Contained, pb::LocalStatus::Contained),
        (IncidentStatus::Resolved, pb::LocalStatus::Resolved),
        (IncidentStatus::Closed, pb::LocalStatus::Closed),
    ],
};

pub static PHASES: WireTable<HubPhase, pb::IncidentStatus> = WireTable {
    field: "hub.phase",
    word: HubPhase::as_str,
    pairs: &[
        (HubPhase::New, pb::IncidentStatus::New),
        (HubPhase::Triage, pb::IncidentStatus::Triage),
        (HubPhase::Containment, pb::IncidentStatus::Containment),
        (HubPhase::Eradication, pb::IncidentStatus::Eradication),
        (HubPhase::Recovery, pb::IncidentStatus::Recovery),
        (HubPhase::PostIncident, pb::IncidentStatus::PostIncident),
        (HubPhase::Closed, pb::IncidentStatus::Closed),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_holds_every_value_once() {
        let sound = (Vec::<String>::new(), Vec::<String>::new());
        assert_eq!(ALERT_STATUSES.defects(&StatusKind::ALL), sound);
        assert_eq!(VERDICTS.defects(&Verdict::ALL), sound);
        assert_eq!(ROLES.defects(&Role::ALL), sound);
        let statuses = [
            IncidentStatus::Open,
            IncidentStatus::Contained,
            IncidentStatus::Resolved,
            IncidentStatus::Closed,
        ];
        assert_eq!(INCIDENT_STATUSES.defects(&statuses), sound);
        let phases = [
            HubPhase::New,
            HubPhase::Triage,
            HubPhase::Containment,
            HubPhase::Eradication,
            HubPhase::Recovery,
            HubPhase::PostIncident,
            HubPhase::Closed,
        ];
        assert_eq!(PHASES.defects(&phases), sound);
    }

    #[test]
    fn each_pair_matches_by_name() {
        let none = Vec::<String>::new();
        assert_eq!(
            ALERT_STATUSES.misnamed(|w| w.as_str_name(), "ALERT_STATUS_"),
            none
        );
        assert_eq!(VERDICTS.misnamed(|w| w.as_str_name(), "VERDICT_"), none);
        assert_eq!(ROLES.misnamed(|w| w.as_str_name(), "SITE_ROLE_"), none);
        assert_eq!(
            INCIDENT_STATUSES.misnamed(|w| w.as_str_name(), "LOCAL_STATUS_"),
            none
        );
        assert_eq!(
            PHASES.misnamed(|w| w.as_str_name(), "INCIDENT_STATUS_"),
            none
        );
    }

    #[test]
    fn words_round_trip_through_the_wire() {
        for role in Role::ALL {
            assert_eq!(ROLES.from_wire(ROLES.to_wire(role) as i32), Ok(role));
            assert_eq!(role.word().parse::<Role>(), Ok(role));
        }
        assert_eq!(
            VERDICTS.show(pb::Verdict::FalsePositive as i32),
            "false-positive"
        );
        assert_eq!(VERDICTS.show(0), "");
        assert_eq!(PHASES.show(99), "unknown (99)");
    }
}
