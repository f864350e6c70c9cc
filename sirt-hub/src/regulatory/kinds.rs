//! The regimes an incident can be flagged under and the notifications each requires, with
//! their names on the wire and on the command line and their legal citations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::RegulatoryError;

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// Business days a registrant has to file Form 8-K Item 1.05.
pub const SEC_BUSINESS_DAYS: u32 = 4;

/// A regulatory regime an incident can be flagged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Personal-data breach under the GDPR.
    Gdpr,
    /// Significant incident under NIS2.
    Nis2,
    /// Material cybersecurity incident of an SEC registrant.
    SecMaterial,
}

impl Regime {
    pub const ALL: [Regime; 3] = [Regime::Gdpr, Regime::Nis2, Regime::SecMaterial];

    /// The stable snake_case name, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Gdpr => "gdpr",
            Regime::Nis2 => "nis2",
            Regime::SecMaterial => "sec_material",
        }
    }

    /// The deadlines a flag of this regime starts, in the order they fall due.
    pub fn deadline_kinds(self) -> &'static [DeadlineKind] {
        match self {
            Regime::Gdpr => &[DeadlineKind::GdprNotification],
            Regime::Nis2 => &[
                DeadlineKind::Nis2EarlyWarning,
                DeadlineKind::Nis2IncidentNotification,
                DeadlineKind::Nis2FinalReport,
            ],
            Regime::SecMaterial => &[DeadlineKind::SecForm8K],
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Regime {
    type Err = RegulatoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Regime::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| RegulatoryError::UnknownRegime(s.to_string()))
    }
}

/// One notification a regime requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// GDPR Art. 33(1): notification to the supervisory authority within 72 hours.
    GdprNotification,
    /// NIS2 Art. 23(4)(a): early warning within 24 hours.
    Nis2EarlyWarning,
    /// NIS2 Art. 23(4)(b): incident notification within 72 hours.
    Nis2IncidentNotification,
    /// NIS2 Art. 23(4)(d): final report within one month of the incident notification.
    Nis2FinalReport,
    /// Form 8-K Item 1.05 within four business days of determining materiality.
    #[serde(rename = "sec_form_8k")]
    SecForm8K,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 5] = [
        DeadlineKind::GdprNotification,
        DeadlineKind::Nis2EarlyWarning,
        DeadlineKind::Nis2IncidentNotification,
        DeadlineKind::Nis2FinalReport,
        DeadlineKind::SecForm8K,
    ];

    /// The stable snake_case name, as in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::GdprNotification => "gdpr_notification",
            DeadlineKind::Nis2EarlyWarning => "nis2_early_warning",
            DeadlineKind::Nis2IncidentNotification => "nis2_incident_notification",
            DeadlineKind::Nis2FinalReport => "nis2_final_report",
            DeadlineKind::SecForm8K => "sec_form_8k",
        }
    }

    /// The regime whose flag starts this deadline.
    pub fn regime(self) -> Regime {
        match self {
            DeadlineKind::GdprNotification => Regime::Gdpr,
            DeadlineKind::Nis2EarlyWarning
            | DeadlineKind::Nis2IncidentNotification
            | DeadlineKind::Nis2FinalReport => Regime::Nis2,
            DeadlineKind::SecForm8K => Regime::SecMaterial,
        }
    }

    /// The provision the deadline comes from, for reports and messages.
    pub fn citation(self) -> &'static str {
        match self {
            DeadlineKind::GdprNotification => "GDPR Art. 33(1)",
            DeadlineKind::Nis2EarlyWarning => "NIS2 Art. 23(4)(a)",
            DeadlineKind::Nis2IncidentNotification => "NIS2 Art. 23(4)(b)",
            DeadlineKind::Nis2FinalReport => "NIS2 Art. 23(4)(d)",
            DeadlineKind::SecForm8K => "SEC Form 8-K Item 1.05",
        }
    }
}

impl fmt::Display for DeadlineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeadlineKind {
    type Err = RegulatoryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeadlineKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| RegulatoryError::UnknownDeadlineKind(s.to_string()))
    }
}
