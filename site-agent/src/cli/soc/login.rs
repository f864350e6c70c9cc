//! `site-agent login`: a one-time sign-in link for the site's SOC console (valid for 5
//! minutes), for your operator certificate; the session it opens ends when you leave the
//! roster or that certificate is revoked.

use super::{Conn, Soc};
use clap::Args;
use socfed_proto::pb;
use socfed_runtime::cli::{OutputFormat, format_millis};

#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub conn: Conn,
}

pub async fn run(args: LoginArgs) -> anyhow::Result<()> {
    let mut soc = Soc::connect(&args.conn)?;
    let reply = soc
        .client
        .console_login(pb::ConsoleLoginRequest {})
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match args.conn.format() {
        OutputFormat::Json => super::render::print_json(&serde_json::json!({
            "url": reply.url, "expires_at": format_millis(reply.expires_at_ms),
        }))?,
        OutputFormat::Table => socfed_runtime::outln!(
            "Open this link in your browser and press \"Sign in\" (one use, valid until {}; it signs in as you, do not share it):\n{}",
            format_millis(reply.expires_at_ms),
            reply.url
        ),
    }
    Ok(())
}
