//! `site-agent tokens create|list|revoke`: the HTTP API's tokens for integrations (log
//! shippers, SOAR tools), managed by the SOC manager. `create` prints the token once: the
//! agent keeps only its hash.

use super::render;
use super::{Conn, Soc};
use clap::Subcommand;
use serde_json::json;
use socfed_proto::pb;
use socfed_runtime::cli::{OutputFormat, format_millis};

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

fn token_json(t: &pb::ApiToken) -> serde_json::Value {
    json!({
        "id": t.id, "name": t.name, "scopes": t.scopes,
        "created": format_millis(t.created_ms), "created_by": t.created_by,
        "expires": format_millis(t.expires_ms),
        "revoked": (t.revoked_ms != 0).then(|| format_millis(t.revoked_ms)),
        "revoked_by": (!t.revoked_by.is_empty()).then_some(&t.revoked_by),
    })
}

fn tokens_table(tokens: &[pb::ApiToken]) -> render::Table {
    let mut table = render::table(&["ID", "NAME", "SCOPES", "EXPIRES", "STATE"]);
    for t in tokens {
        let state = if t.revoked_ms != 0 {
            format!("revoked by {}", t.revoked_by)
        } else {
            "live".to_owned()
        };
        table.add_row([
            t.id.clone(),
            t.name.clone(),
            t.scopes.join(","),
            format_millis(t.expires_ms),
            state,
        ]);
    }
    table
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
            let token = created.token.unwrap_or_default();
            match conn.format() {
                OutputFormat::Json => {
                    let mut shown = token_json(&token);
                    shown["token"] = created.secret_token.into();
                    render::print_json(&shown)?
                }
                OutputFormat::Table => {
                    socfed_runtime::outln!("{}", created.secret_token);
                    socfed_runtime::outln!(
                        "token {} ({}) for {}, expires {}: shown once, store it now",
                        token.id,
                        render::clean(&token.name),
                        token.scopes.join(","),
                        format_millis(token.expires_ms)
                    );
                }
            }
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
            match conn.format() {
                OutputFormat::Json => {
                    render::print_json(&json!(tokens.iter().map(token_json).collect::<Vec<_>>()))?
                }
                OutputFormat::Table => socfed_runtime::outln!("{}", tokens_table(&tokens)),
            }
        }
        TokensCommand::Revoke { id, conn } => {
            let mut soc = Soc::connect(&conn)?;
            let token = soc
                .client
                .revoke_api_token(pb::RevokeApiTokenRequest { id })
                .await
                .map_err(|s| soc.explain(&s))?
                .into_inner();
            match conn.format() {
                OutputFormat::Json => render::print_json(&token_json(&token))?,
                OutputFormat::Table => socfed_runtime::outln!(
                    "token {} ({}) revoked",
                    token.id,
                    render::clean(&token.name)
                ),
            }
        }
    }
    Ok(())
}
