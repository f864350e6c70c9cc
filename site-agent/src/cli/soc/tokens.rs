//! `site-agent tokens create|list|revoke`: the HTTP API's tokens for integrations (log
//! shippers, SOAR tools), managed by the SOC manager. `create` prints the token once: the
//! agent keeps only its hash.

use super::{Conn, Soc};
use clap::Subcommand;
use socfed_proto::pb;
use socfed_runtime::cli::tokens::{print_created, print_tokens};

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Mint a token; it is printed once (send it as `Authorization: Bearer TOKEN`).
    Create {
        /// A label for the integration: letters, digits, '-', '_', '.' (at most 64).
        name: String,
        /// What it may do (repeat or comma-separate): read, intake, triage.
        #[arg(long = "scope", required = true, value_delimiter = ',')]
        scopes: Vec<String>,
        /// How long it lives (e.g. 30d, 12h; at most a year).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires: std::time::Duration,
        #[command(flatten)]
        conn: Conn,
    },
    /// Every token: id, name, scopes, expiry, whether revoked (never the secret).
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// Revoke a token by id: every later request with it is refused (401).
    Revoke {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

pub async fn run(command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create {
            name,
            scopes,
            expires,
            conn,
        } => {
            let mut soc = Soc::connect(&conn)?;
            let created = soc
                .client
                .create_api_token(pb::CreateApiTokenRequest {
                    name,
                    scopes,
                    lifetime_ms: i64::try_from(expires.as_millis()).unwrap_or(i64::MAX),
                })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            print_created(created, conn.format())?;
        }
        TokensCommand::List { conn } => {
            let mut soc = Soc::connect(&conn)?;
            let tokens = soc
                .client
                .list_api_tokens(pb::ListApiTokensRequest {})
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner()
                .tokens;
            print_tokens(&tokens, conn.format())?;
        }
        TokensCommand::Revoke { id, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let token = soc
                .client
                .revoke_api_token(pb::RevokeApiTokenRequest { id })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            print_tokens(&[token], conn.format())?;
        }
    }
    Ok(())
}
