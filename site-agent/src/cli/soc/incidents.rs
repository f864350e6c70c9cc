//! `site-agent incidents …`: local incidents, promoted from alert groups and escalated to the
//! SIRT hub through the durable outbox.

use super::render;
use super::{Conn, IncidentStatus, Soc};
use clap::Subcommand;
use socfed_proto::pb;
use socfed_runtime::cli::OutputFormat;

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// List local incidents.
    List {
        /// Most incidents to print.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        #[command(flatten)]
        conn: Conn,
    },
    /// Tick (or untick) a checklist step of a runbook that applies to incident (or alert
    /// group) ID.
    Runbook {
        id: String,
        /// The step's number (from 1).
        #[arg(long)]
        step: u32,
        /// Tick it.
        #[arg(long, conflicts_with = "undone", required_unless_present = "undone")]
        done: bool,
        /// Untick it.
        #[arg(long)]
        undone: bool,
        /// The runbook (default: the first that applies).
        #[arg(long)]
        runbook: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Show one local incident.
    Show {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Create a local incident from one or more alert groups.
    Promote {
        /// Alert group ids.
        #[arg(required = true, num_args = 1..)]
        group_ids: Vec<String>,
        /// Title of the incident; default: the first group's title.
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Add an open alert group to an existing local incident.
    Add {
        /// The local incident.
        id: String,
        /// The alert group.
        group_id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Escalate a local incident to the SIRT hub (queued in the durable outbox).
    Escalate {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Change a local incident's status or owner.
    #[command(group(
        clap::ArgGroup::new("change").required(true).multiple(true).args(["status", "owner"])
    ))]
    Update {
        id: String,
        #[arg(long, value_enum)]
        status: Option<IncidentStatus>,
        /// Operator name of the new owner.
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Take an alert group out of a local incident (it returns to the queue, reopened).
    Remove {
        /// The local incident.
        id: String,
        /// The alert group.
        group_id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// An incident's notes (its work log), oldest first.
    Notes {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Write a note on a local incident (you are its author; the time is the agent's).
    Note {
        id: String,
        /// The note (at most 4,000 characters).
        #[arg(long)]
        text: String,
        /// A marking of its own: at `red`, only you, the incident's owner and the SOC manager
        /// read its text.
        #[arg(long, value_parser = super::casework::parse_tlp)]
        tlp: Option<socfed_proto::vocab::Tlp>,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn run(command: IncidentsCommand) -> anyhow::Result<()> {
    match command {
        IncidentsCommand::List { limit, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let incidents = soc
                .client
                .list_local_incidents(pb::ListLocalIncidentsRequest { limit })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner()
                .incidents;
            match conn.format() {
                OutputFormat::Json => render::print_json(
                    &incidents
                        .iter()
                        .map(render::incident_json)
                        .collect::<Vec<_>>(),
                )?,
                OutputFormat::Table => {
                    socfed_runtime::outln!("{}", render::incidents_table(&incidents))
                }
            }
            Ok(())
        }
        IncidentsCommand::Runbook {
            id,
            step,
            done,
            runbook,
            conn,
            ..
        } => super::runbooks::step(&conn, id, runbook, step, done).await,
        IncidentsCommand::Show { id, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let incident = soc
                .client
                .get_local_incident(pb::GetLocalIncidentRequest { id: id.clone() })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            let runbooks = super::runbooks::matched(&conn, &id).await?;
            match conn.format() {
                OutputFormat::Json => render::print_json(&super::runbooks::with_runbooks(
                    render::incident_json(&incident),
                    &runbooks,
                ))?,
                OutputFormat::Table => {
                    socfed_runtime::outln!("{}", render::incident_detail(&incident));
                    socfed_runtime::cli::runbooks::print_matched(&runbooks)?;
                }
            }
            Ok(())
        }
        IncidentsCommand::Promote {
            group_ids,
            title,
            conn,
        } => {
            let mut soc = Soc::connect(&conn)?;
            let incident = soc
                .client
                .promote_alerts(pb::PromoteAlertsRequest {
                    alert_group_ids: group_ids,
                    title: title.unwrap_or_default(),
                })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            print_changed("promoted", &incident, conn.format())
        }
        IncidentsCommand::Add { id, group_id, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let incident = soc
                .client
                .add_to_local_incident(pb::AddToLocalIncidentRequest {
                    incident_id: id,
                    alert_group_id: group_id,
                })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            print_changed("added to", &incident, conn.format())
        }
        IncidentsCommand::Escalate { id, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let incident = soc
                .client
                .escalate_local_incident(pb::EscalateLocalIncidentRequest { id })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            print_changed("queued for escalation", &incident, conn.format())
        }
        IncidentsCommand::Update {
            id,
            status,
            owner,
            conn,
        } => {
            let mut soc = Soc::connect(&conn)?;
            let incident = soc
                .client
                .update_local_incident(pb::UpdateLocalIncidentRequest {
                    id,
                    status: status.map_or(0, |s| s.as_wire().into()),
                    legacy_status: String::new(),
                    owner: owner.unwrap_or_default(),
                })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            print_changed("updated", &incident, conn.format())
        }
        IncidentsCommand::Remove { id, group_id, conn } => {
            super::casework::remove(id, group_id, conn).await
        }
        IncidentsCommand::Notes { id, conn } => super::casework::notes(id, conn).await,
        IncidentsCommand::Note {
            id,
            text,
            tlp,
            conn,
        } => super::casework::note(id, text, tlp, conn).await,
    }
}

fn print_changed(
    done: &str,
    incident: &pb::LocalIncident,
    output: OutputFormat,
) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => render::print_json(&render::incident_json(incident))?,
        OutputFormat::Table => {
            socfed_runtime::outln!("{done}: {}", render::incident_brief(incident))
        }
    }
    Ok(())
}
