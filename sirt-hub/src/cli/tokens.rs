//! `sirt-hub tokens`: API tokens for `/api/v1` (admin or CISO). `create` prints the token once
//! (the hub keeps only a hash of its secret); `list` shows them without secrets; `revoke` ends
//! one at once.

use super::HubTarget;
use clap::{Args, Subcommand};
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::cli::tokens::{print_created, print_tokens};

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
            print_created(reply, target.format())
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
