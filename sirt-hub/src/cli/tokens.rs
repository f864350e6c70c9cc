//! `sirt-hub tokens`: API tokens for `/api/v1` (admin or CISO). `create` prints the token once
//! (the hub keeps only a hash of its secret); `list` shows them without secrets; `revoke` ends
//! one at once.

use super::HubTarget;
use super::render::{print_json, table};
use clap::{Args, Subcommand};
use serde_json::json;
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::cli::{OutputFormat, format_millis};

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Mint a token for an integration; it is printed once. It acts as you, within its
    /// scopes and your role at each call.
    Create {
        /// A label such as `soar-prod` (letters, digits, '-', '_', '.').
        name: String,
        /// Comma-separated: read, respond (and intake, triage for site agents).
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// How long it lives (e.g. 30d, 12h; at most a year).
        #[arg(long, default_value = "90days")]
        expires: humantime::Duration,
    },
    /// Every token: id, name, scopes, creator, expiry, revocation.
    List,
    /// Revoke a token by id (the 26 characters after `socfed_`).
    Revoke { id: String },
}

fn token_json(t: &pb::ApiToken) -> serde_json::Value {
    json!({
        "id": t.id,
        "name": t.name,
        "scopes": t.scopes,
        "created_by": t.created_by,
        "created_at": format_millis(t.created_at_ms),
        "expires_at": format_millis(t.expires_at_ms),
        "revoked_at": (t.revoked_at_ms > 0).then(|| format_millis(t.revoked_at_ms)),
        "revoked_by": (!t.revoked_by.is_empty()).then(|| t.revoked_by.clone()),
    })
}

fn print_tokens(tokens: &[pb::ApiToken], output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&tokens.iter().map(token_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut t = table(&["ID", "NAME", "SCOPES", "CREATED BY", "EXPIRES", "REVOKED"]);
            for token in tokens {
                t.add_row(vec![
                    token.id.clone(),
                    token.name.clone(),
                    token.scopes.join(","),
                    token.created_by.clone(),
                    format_millis(token.expires_at_ms),
                    if token.revoked_at_ms > 0 {
                        format!(
                            "{} by {}",
                            format_millis(token.revoked_at_ms),
                            token.revoked_by
                        )
                    } else {
                        "-".into()
                    },
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}

pub async fn run(args: TokensArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let mut client = OperatorRosterClient::new(target.channel()?);
    match args.command {
        TokensCommand::Create {
            name,
            scope,
            expires,
        } => {
            let lifetime_ms = i64::try_from(expires.as_millis()).unwrap_or(i64::MAX);
            let reply = client
                .create_api_token(pb::CreateApiTokenRequest {
                    name,
                    scopes: scope,
                    lifetime_ms,
                })
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner();
            let record = reply.record.unwrap_or_default();
            match target.format() {
                OutputFormat::Json => {
                    let mut value = token_json(&record);
                    value["token"] = reply.token.into();
                    print_json(&value)
                }
                OutputFormat::Table => {
                    socfed_runtime::outln!(
                        "API token {} ({}), scopes {}, expires {}. It is shown only now; store it as a secret:\n{}",
                        record.id,
                        record.name,
                        record.scopes.join(","),
                        format_millis(record.expires_at_ms),
                        reply.token
                    );
                    Ok(())
                }
            }
        }
        TokensCommand::List => {
            let list = client
                .list_api_tokens(pb::ListApiTokensRequest {})
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner();
            print_tokens(&list.tokens, target.format())
        }
        TokensCommand::Revoke { id } => {
            let token = client
                .revoke_api_token(pb::RevokeApiTokenRequest { id })
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner();
            print_tokens(&[token], target.format())
        }
    }
}
