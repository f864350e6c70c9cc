//! `site-agent roster …` and `site-agent shifts now`: who works at the site, in which role,
//! when, and who is on duty.

use super::render;
use super::{Conn, RosterRole, Soc};
use clap::Subcommand;
use socfed_proto::pb;
use socfed_runtime::cli::OutputFormat;

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// List the analysts, engineers and sensors of the site with their roles and shifts.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Add someone to the site roster.
    Add {
        /// Operator name as in their certificate (spiffe://DOMAIN/operator/NAME).
        name: String,
        #[arg(long, value_enum)]
        role: RosterRole,
        /// Name shown to people; default: NAME.
        #[arg(long)]
        display_name: Option<String>,
        /// Working hours, e.g. "mon-fri 08:00-16:00 Europe/Paris"; repeatable.
        #[arg(long = "shift")]
        shifts: Vec<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Remove someone from the site roster.
    Remove {
        name: String,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Debug, Subcommand)]
pub enum ShiftsCommand {
    /// Who is on shift now per tier, coverage gaps ahead, and job-rotation duty.
    Now {
        /// How far ahead to look for coverage gaps, in hours.
        #[arg(long, default_value_t = 168, value_parser = clap::value_parser!(u32).range(1..))]
        horizon_hours: u32,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn run(command: RosterCommand) -> anyhow::Result<()> {
    let (conn, roster) = match command {
        RosterCommand::List { conn } => {
            let mut soc = Soc::connect(&conn)?;
            let roster = soc
                .client
                .list_roster(pb::ListRosterRequest {})
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            (conn, roster)
        }
        RosterCommand::Add {
            name,
            role,
            display_name,
            shifts,
            conn,
        } => {
            let mut soc = Soc::connect(&conn)?;
            let analyst = pb::Analyst {
                name,
                display_name: display_name.unwrap_or_default(),
                role: role.as_wire().into(),
                legacy_role: String::new(),
                shifts,
            };
            let roster = soc
                .client
                .add_analyst(pb::AddAnalystRequest {
                    analyst: Some(analyst),
                })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            (conn, roster)
        }
        RosterCommand::Remove { name, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let roster = soc
                .client
                .remove_analyst(pb::RemoveAnalystRequest { name })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            (conn, roster)
        }
    };
    match conn.format() {
        OutputFormat::Json => render::print_json(&render::roster_json(&roster))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", render::roster_table(&roster)),
    }
    Ok(())
}

pub async fn run_shifts(command: ShiftsCommand) -> anyhow::Result<()> {
    let ShiftsCommand::Now {
        horizon_hours,
        conn,
    } = command;
    let mut soc = Soc::connect(&conn)?;
    let shifts = soc
        .client
        .shifts_now(pb::ShiftsNowRequest { horizon_hours })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match conn.format() {
        OutputFormat::Json => render::print_json(&render::shifts_json(&shifts))?,
        OutputFormat::Table => {
            socfed_runtime::outln!("{}", render::shifts_text(&shifts, horizon_hours))
        }
    }
    Ok(())
}
