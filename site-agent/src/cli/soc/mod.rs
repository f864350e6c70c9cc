//! Operator commands for the local SOC (`SiteSoc` on the agent's local API): alert intake,
//! triage, local incidents, roster and shifts, notifications and the audit log.
//!
//! The proto carries statuses, verdicts and roles as enums; each has a clap `ValueEnum` here
//! whose command-line spelling is the domain's word (so a bad value fails at parse time, and
//! help and completions list the choices), mapped to its wire value.

pub mod alerts;
pub mod audit;
pub mod casework;
pub mod directives;
pub mod incidents;
pub mod ingest;
pub mod login;
pub mod notifications;
mod render;
pub mod roster;
pub mod runbooks;
pub mod tokens;

pub(crate) use super::client::Conn;
use clap::ValueEnum;
use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
use socfed_runtime::cli::ClientError;
use tonic::transport::Channel;

pub use alerts::AlertsCommand;
pub use audit::AuditCommand;
pub use casework::KpisArgs;
pub use directives::{DirectivesCommand, TasksCommand};
pub use incidents::IncidentsCommand;
pub use ingest::IngestArgs;
pub use login::LoginArgs;
pub use notifications::NotificationsArgs;
pub use roster::{RosterCommand, ShiftsCommand};
pub use runbooks::RunbooksCommand;
pub use tokens::TokensCommand;

/// A `SiteSoc` client and the name of the agent for error messages.
struct Soc {
    client: SiteSocClient<Channel>,
    name: String,
}

impl Soc {
    fn connect(conn: &Conn) -> anyhow::Result<Self> {
        Ok(Self {
            client: SiteSocClient::new(conn.channel()?),
            name: conn.name(),
        })
    }

    /// A failed call as a sentence with a next step.
    fn explain(&self, status: &tonic::Status) -> ClientError {
        socfed_runtime::cli::explain(status, &self.name)
    }
}

/// Input formats for `ingest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IngestFormat {
    /// socfed's own alert JSON.
    Native,
    /// OCSF Detection Finding records (JSON lines, or one JSON array).
    Ocsf,
    /// Suricata EVE JSON (`event_type: alert`; other events are skipped).
    SuricataEve,
    /// Wazuh alerts.json.
    Wazuh,
}

impl IngestFormat {
    pub fn to_wire(self) -> pb::AlertFormat {
        match self {
            IngestFormat::Native => pb::AlertFormat::Native,
            IngestFormat::Ocsf => pb::AlertFormat::Ocsf,
            IngestFormat::SuricataEve => pb::AlertFormat::SuricataEve,
            IngestFormat::Wazuh => pb::AlertFormat::Wazuh,
        }
    }
}

/// `alerts list --status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertStatusFilter {
    New,
    Acknowledged,
    Closed,
    Promoted,
    All,
}

impl AlertStatusFilter {
    /// The request's `status` and `all_statuses`.
    pub fn as_wire(self) -> (pb::AlertStatus, bool) {
        match self {
            AlertStatusFilter::New => (pb::AlertStatus::New, false),
            AlertStatusFilter::Acknowledged => (pb::AlertStatus::Acknowledged, false),
            AlertStatusFilter::Closed => (pb::AlertStatus::Closed, false),
            AlertStatusFilter::Promoted => (pb::AlertStatus::Promoted, false),
            AlertStatusFilter::All => (pb::AlertStatus::Unspecified, true),
        }
    }
}

/// How a closed alert group turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    Benign,
    Duplicate,
}

impl Verdict {
    pub fn as_wire(self) -> pb::Verdict {
        match self {
            Verdict::TruePositive => pb::Verdict::TruePositive,
            Verdict::FalsePositive => pb::Verdict::FalsePositive,
            Verdict::Benign => pb::Verdict::Benign,
            Verdict::Duplicate => pb::Verdict::Duplicate,
        }
    }
}

/// Status of a local incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IncidentStatus {
    Open,
    Contained,
    Resolved,
    Closed,
}

impl IncidentStatus {
    pub fn as_wire(self) -> pb::LocalStatus {
        match self {
            IncidentStatus::Open => pb::LocalStatus::Open,
            IncidentStatus::Contained => pb::LocalStatus::Contained,
            IncidentStatus::Resolved => pb::LocalStatus::Resolved,
            IncidentStatus::Closed => pb::LocalStatus::Closed,
        }
    }
}

/// Role of a roster entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RosterRole {
    Tier1,
    Tier2,
    Tier3,
    Tier4,
    Engineer,
    SocManager,
    Sensor,
}

impl RosterRole {
    pub fn as_wire(self) -> pb::SiteRole {
        match self {
            RosterRole::Tier1 => pb::SiteRole::Tier1,
            RosterRole::Tier2 => pb::SiteRole::Tier2,
            RosterRole::Tier3 => pb::SiteRole::Tier3,
            RosterRole::Tier4 => pb::SiteRole::Tier4,
            RosterRole::Engineer => pb::SiteRole::Engineer,
            RosterRole::SocManager => pb::SiteRole::SocManager,
            RosterRole::Sensor => pb::SiteRole::Sensor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command-line spelling of every value is the word the proto expects.
    fn assert_clap_names_are_wire_words<T: ValueEnum>(wire: impl Fn(&T) -> String) {
        for value in T::value_variants() {
            let name = value
                .to_possible_value()
                .map(|p| p.get_name().to_string())
                .unwrap_or_default();
            assert_eq!(name, wire(value));
        }
    }

    #[test]
    fn value_enums_spell_the_wire_words() {
        use crate::wire::{ALERT_STATUSES, INCIDENT_STATUSES, ROLES, VERDICTS};
        assert_clap_names_are_wire_words::<AlertStatusFilter>(|v| match v.as_wire() {
            (_, true) => "all".to_string(),
            (status, false) => ALERT_STATUSES.show(status.into()),
        });
        assert_clap_names_are_wire_words::<Verdict>(|v| VERDICTS.show(v.as_wire().into()));
        assert_clap_names_are_wire_words::<IncidentStatus>(|v| {
            INCIDENT_STATUSES.show(v.as_wire().into())
        });
        assert_clap_names_are_wire_words::<RosterRole>(|v| ROLES.show(v.as_wire().into()));
        assert_clap_names_are_wire_words::<IngestFormat>(|v| {
            match v {
                IngestFormat::Native => "native",
                IngestFormat::Ocsf => "ocsf",
                IngestFormat::SuricataEve => "suricata-eve",
                IngestFormat::Wazuh => "wazuh",
            }
            .to_string()
        });
    }

    #[test]
    fn the_command_tree_is_well_formed() {
        use clap::CommandFactory as _;
        crate::cli::Cli::command().debug_assert();
    }

    #[test]
    fn connection_flags_go_after_the_subcommand() -> anyhow::Result<()> {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from([
            "site-agent",
            "alerts",
            "close",
            "ag-1",
            "--verdict",
            "false-positive",
            "--agent",
            "10.0.0.5:7601",
            "-o",
            "json",
        ])?;
        let crate::cli::Command::Alerts(AlertsCommand::Close { id, verdict, conn }) = cli.command
        else {
            anyhow::bail!("parsed as {:?}", cli.command);
        };
        assert_eq!(id, "ag-1");
        assert_eq!(verdict, Verdict::FalsePositive);
        assert_eq!(conn.endpoint.agent, "10.0.0.5:7601");
        assert_eq!(conn.format(), socfed_runtime::cli::OutputFormat::Json);
        Ok(())
    }

    /// The agent's refusals reach an operator as their message plus the next step the stable
    /// code in the metadata chooses, the same path as the hub's.
    #[test]
    fn agent_refusals_are_explained_from_their_stable_code() {
        use crate::error::AgentError;
        let agent = "the site agent at h:1";
        for (error, next) in [
            (AgentError::invalid("bad group id"), "--help"),
            (AgentError::internal("defect"), "report it"),
        ] {
            let message = error.to_string();
            let status = tonic::Status::from(error);
            let explained = socfed_runtime::cli::explain(&status, agent).to_string();
            assert!(
                explained.contains(&message) && explained.contains(next),
                "{explained}"
            );
        }
    }

    #[test]
    fn ingest_formats_map_to_distinct_wire_formats() {
        let wire: Vec<i32> = IngestFormat::value_variants()
            .iter()
            .map(|f| f.to_wire() as i32)
            .collect();
        assert_eq!(
            wire,
            vec![
                pb::AlertFormat::Native as i32,
                pb::AlertFormat::Ocsf as i32,
                pb::AlertFormat::SuricataEve as i32,
                pb::AlertFormat::Wazuh as i32
            ]
        );
    }
}
