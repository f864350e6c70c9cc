//! `site-agent runbooks …`: the site's runbooks (its own, kept by a security engineer or the
//! SOC manager) and the hub's (read-only here, marked `hub`), over `SiteRunbooks`; and the
//! runbooks matched to an alert group or local incident with its checklist progress, which
//! `alerts show`, `incidents show` and `incidents runbook` print.

use super::Conn;
use clap::Subcommand;
use socfed_proto::pb::{self, site_runbooks_client::SiteRunbooksClient};
use socfed_runtime::cli::runbooks::{CriteriaArgs, print_list, print_one};
use std::path::PathBuf;
use tonic::transport::Channel;

#[derive(Debug, Subcommand)]
pub enum RunbooksCommand {
    /// Add one of the site's own runbooks from a Markdown file (first line `# Title`,
    /// `- [ ] step` lines the checklist).
    Add {
        file: PathBuf,
        #[command(flatten)]
        criteria: CriteriaArgs,
        #[command(flatten)]
        conn: Conn,
    },
    /// A new version of one of the site's own runbooks.
    Update {
        id: String,
        file: PathBuf,
        #[command(flatten)]
        criteria: CriteriaArgs,
        #[command(flatten)]
        conn: Conn,
    },
    /// Every runbook here, the hub's and the site's, latest version.
    List {
        #[command(flatten)]
        conn: Conn,
    },
    /// One runbook with its history.
    Show {
        id: String,
        /// A past version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Retire one of the site's own runbooks.
    Retire {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

struct Client {
    client: SiteRunbooksClient<Channel>,
    name: String,
}

impl Client {
    fn connect(conn: &Conn) -> anyhow::Result<Self> {
        Ok(Self {
            client: SiteRunbooksClient::new(conn.channel()?),
            name: conn.name(),
        })
    }

    fn explain(&self, status: &tonic::Status) -> socfed_runtime::cli::ClientError {
        socfed_runtime::cli::explain(status, &self.name)
    }
}

pub async fn run(command: RunbooksCommand) -> anyhow::Result<()> {
    let (runbook, conn) = match command {
        RunbooksCommand::Add {
            file,
            criteria,
            conn,
        } => {
            let mut c = Client::connect(&conn)?;
            let draft = Some(criteria.draft(&file)?);
            let r = c.client.add_runbook(pb::AddRunbookRequest { draft }).await;
            (r.map_err(|s| c.explain(&s))?, conn)
        }
        RunbooksCommand::Update {
            id,
            file,
            criteria,
            conn,
        } => {
            let mut c = Client::connect(&conn)?;
            let draft = Some(criteria.draft(&file)?);
            let r = c
                .client
                .update_runbook(pb::UpdateRunbookRequest { id, draft })
                .await;
            (r.map_err(|s| c.explain(&s))?, conn)
        }
        RunbooksCommand::Retire { id, conn } => {
            let mut c = Client::connect(&conn)?;
            let r = c
                .client
                .retire_runbook(pb::RetireRunbookRequest { id })
                .await;
            (r.map_err(|s| c.explain(&s))?, conn)
        }
        RunbooksCommand::List { conn } => {
            let mut c = Client::connect(&conn)?;
            let list = c
                .client
                .list_runbooks(pb::ListRunbooksRequest {})
                .await
                .map_err(|s| c.explain(&s))?
                .into_inner();
            return print_list(&list.runbooks, conn.format());
        }
        RunbooksCommand::Show { id, version, conn } => {
            let mut c = Client::connect(&conn)?;
            let detail = c
                .client
                .get_runbook(pb::GetRunbookRequest {
                    id,
                    version: version.unwrap_or(0),
                })
                .await
                .map_err(|s| c.explain(&s))?
                .into_inner();
            let runbook = detail.runbook.unwrap_or_default();
            return print_one(&runbook, &detail.history, conn.format());
        }
    };
    print_one(&runbook.into_inner(), &[], conn.format())
}

/// The runbooks matched to alert group or local incident `subject`, with its progress.
pub async fn matched(conn: &Conn, subject: &str) -> anyhow::Result<Vec<pb::MatchedRunbook>> {
    let mut c = Client::connect(conn)?;
    Ok(c.client
        .matched_runbooks(pb::GetMatchedRunbooksRequest {
            subject: subject.to_string(),
        })
        .await
        .map_err(|s| c.explain(&s))?
        .into_inner()
        .runbooks)
}

/// Ticks or unticks a step of runbook `runbook` (default: the first matched) on `subject`.
pub async fn step(
    conn: &Conn,
    subject: String,
    runbook: Option<String>,
    step: u32,
    done: bool,
) -> anyhow::Result<()> {
    let runbook_id = match runbook {
        Some(id) => id,
        None => matched(conn, &subject)
            .await?
            .first()
            .and_then(|m| m.runbook.as_ref())
            .map(|r| r.id.clone())
            .ok_or_else(|| anyhow::anyhow!("no runbook applies to {subject}"))?,
    };
    let mut c = Client::connect(conn)?;
    let now = c
        .client
        .set_runbook_step(pb::SetRunbookStepRequest {
            subject,
            runbook_id,
            step,
            done,
        })
        .await
        .map_err(|s| c.explain(&s))?
        .into_inner();
    print_matched(&now.runbooks, conn.format())
}

/// Matched runbooks as `show` commands print them: after the record in table output, as a
/// `runbooks` array in JSON (see [`with_runbooks`]).
pub fn print_matched(
    matched: &[pb::MatchedRunbook],
    format: socfed_runtime::cli::OutputFormat,
) -> anyhow::Result<()> {
    match format {
        socfed_runtime::cli::OutputFormat::Json => socfed_runtime::cli::print_json(
            &matched
                .iter()
                .map(socfed_runtime::cli::runbooks::matched_json)
                .collect::<Vec<_>>(),
        ),
        socfed_runtime::cli::OutputFormat::Table => {
            socfed_runtime::cli::runbooks::print_matched(matched)
        }
    }
}

/// `value` (a `show` command's JSON) with the matched runbooks under `runbooks`.
pub fn with_runbooks(
    mut value: serde_json::Value,
    matched: &[pb::MatchedRunbook],
) -> serde_json::Value {
    value["runbooks"] = matched
        .iter()
        .map(socfed_runtime::cli::runbooks::matched_json)
        .collect();
    value
}
