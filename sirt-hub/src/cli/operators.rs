//! `sirt-hub operators`: the hub's operator roster (changes need the admin or the CISO).

use super::HubTarget;
use super::render::{print_json, table};
use crate::lifecycle::HubRole;
use crate::view::wire::ROLES;
use crate::view::words;
use clap::{Args, Subcommand};
use serde_json::json;
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::cli::{OutputFormat, format_millis};

#[derive(Debug, Args)]
pub struct OperatorsArgs {
    #[command(subcommand)]
    pub command: OperatorsCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Everyone in the roster, with their role and who set it.
    List,
    /// Add an operator (the name in their certificate) with a role.
    Add {
        name: String,
        /// tier1, tier2, tier3, tier4, engineer, soc-manager, ir-lead, ciso, admin.
        #[arg(long)]
        role: HubRole,
    },
    /// Change an operator's role; it applies to their next call.
    SetRole { name: String, role: HubRole },
    /// Remove an operator: they keep read access with their certificate, and nothing else.
    Remove { name: String },
}

/// `sirt-hub login`: a one-time sign-in link for the web dashboard (valid for 5 minutes), for
/// your operator certificate; the session it opens ends when that certificate is revoked.
#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub target: HubTarget,
}

pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let channel = target.channel()?;
    let reply = OperatorRosterClient::new(channel)
        .dashboard_login(pb::DashboardLoginRequest {})
        .await
        .map_err(|s| target.explain(&s))?
        .into_inner();
    match target.format() {
        OutputFormat::Json => print_json(&json!({
            "url": reply.url, "expires_at": format_millis(reply.expires_at_ms),
        })),
        OutputFormat::Table => {
            socfed_runtime::outln!(
                "Open this link in your browser and press \"Sign in\" (one use, valid until {}; it signs in as you, do not share it):\n{}",
                format_millis(reply.expires_at_ms),
                reply.url
            );
            Ok(())
        }
    }
}

pub async fn run(args: OperatorsArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let channel = target.channel()?;
    let mut client = OperatorRosterClient::new(channel);
    let reply = match args.command {
        OperatorsCommand::List => client.list_operators(pb::ListOperatorsRequest {}).await,
        OperatorsCommand::Add { name, role } | OperatorsCommand::SetRole { name, role } => {
            client
                .set_operator(pb::SetOperatorRequest {
                    name,
                    role: ROLES.to_wire(role).into(),
                    legacy_role: String::new(),
                })
                .await
        }
        OperatorsCommand::Remove { name } => {
            client
                .remove_operator(pb::RemoveOperatorRequest { name })
                .await
        }
    };
    let list = reply
        .map_err(|s| target.explain(&s))?
        .into_inner()
        .operators;
    match target.format() {
        OutputFormat::Json => print_json(
            &list
                .iter()
                .map(|o| {
                    json!({"name": o.name, "role": words::role(o.role), "since": format_millis(o.since_ms), "set_by": o.set_by})
                })
                .collect::<Vec<_>>(),
        ),
        OutputFormat::Table => {
            let mut t = table(&["OPERATOR", "ROLE", "SINCE", "SET BY"]);
            for o in &list {
                t.add_row(vec![
                    o.name.clone(),
                    words::role(o.role),
                    format_millis(o.since_ms),
                    o.set_by.clone(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}
