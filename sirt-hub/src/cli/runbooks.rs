//! `sirt-hub runbooks`: the hub's runbooks, which every site receives over the federation
//! stream. `add` and `update` read a Markdown file (its first `# ` line is the title,
//! `- [ ] step` lines the checklist); security engineers, the SOC manager and the CISO write,
//! every operator reads.

use super::HubTarget;
use clap::{Args, Subcommand};
use socfed_proto::pb::{self, runbooks_client::RunbooksClient};
use socfed_runtime::cli::runbooks::{CriteriaArgs, print_list, print_one};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunbooksArgs {
    #[command(subcommand)]
    pub command: RunbooksCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum RunbooksCommand {
    /// Add a runbook from a Markdown file.
    Add {
        file: PathBuf,
        #[command(flatten)]
        criteria: CriteriaArgs,
    },
    /// A new version of runbook ID from a Markdown file (criteria as given now).
    Update {
        id: String,
        file: PathBuf,
        #[command(flatten)]
        criteria: CriteriaArgs,
    },
    /// Every runbook, latest version.
    List,
    /// One runbook with its history.
    Show {
        id: String,
        /// A past version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
    },
    /// Retire a runbook: it matches nothing from now on, here and at every site.
    Retire { id: String },
}

pub async fn run(args: RunbooksArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let mut client = RunbooksClient::new(target.channel()?);
    let format = target.format();
    let runbook = match args.command {
        RunbooksCommand::Add { file, criteria } => client
            .add_runbook(pb::AddRunbookRequest {
                draft: Some(criteria.draft(&file)?),
            })
            .await
            .map_err(|s| target.explain(&s))?,
        RunbooksCommand::Update { id, file, criteria } => client
            .update_runbook(pb::UpdateRunbookRequest {
                id,
                draft: Some(criteria.draft(&file)?),
            })
            .await
            .map_err(|s| target.explain(&s))?,
        RunbooksCommand::Retire { id } => client
            .retire_runbook(pb::RetireRunbookRequest { id })
            .await
            .map_err(|s| target.explain(&s))?,
        RunbooksCommand::List => {
            let list = client
                .list_runbooks(pb::ListRunbooksRequest {})
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner();
            return print_list(&list.runbooks, format);
        }
        RunbooksCommand::Show { id, version } => {
            let detail = client
                .get_runbook(pb::GetRunbookRequest {
                    id,
                    version: version.unwrap_or(0),
                })
                .await
                .map_err(|s| target.explain(&s))?
                .into_inner();
            let runbook = detail.runbook.unwrap_or_default();
            return print_one(&runbook, &detail.history, format);
        }
    };
    print_one(&runbook.into_inner(), &[], format)
}
