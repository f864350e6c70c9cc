//! `site-agent notifications`: what the agent raised for people (unassigned alerts, SLA
//! breaches, escalations to the SIRT hub).

use super::render;
use super::{Conn, Soc};
use clap::Args;
use socfed_proto::pb;
use socfed_runtime::cli::OutputFormat;

#[derive(Debug, Args)]
pub struct NotificationsArgs {
    /// Most notifications to print.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    #[command(flatten)]
    pub conn: Conn,
}

pub async fn run(args: NotificationsArgs) -> anyhow::Result<()> {
    let mut soc = Soc::connect(&args.conn)?;
    let notifications = soc
        .client
        .list_notifications(pb::ListNotificationsRequest { limit: args.limit })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner()
        .notifications;
    match args.conn.format() {
        OutputFormat::Json => render::print_json(&render::notifications_json(&notifications))?,
        OutputFormat::Table => {
            socfed_runtime::outln!("{}", render::notifications_table(&notifications))
        }
    }
    Ok(())
}
