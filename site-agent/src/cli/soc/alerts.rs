//! `site-agent alerts …`: list and show alert groups, and triage them (`ActOnAlert`).

use super::render;
use super::{AlertStatusFilter, Conn, Soc, Verdict};
use crate::wire::VERDICTS;
use clap::Subcommand;
use socfed_proto::pb::{self, act_on_alert_request::Action};
use socfed_runtime::cli::OutputFormat;

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alert groups (open ones, new and acknowledged, unless --status says otherwise).
    List {
        /// Only groups at this tier (1-4).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4))]
        tier: Option<u32>,
        /// Only groups in this status; default: new and acknowledged.
        #[arg(long, value_enum)]
        status: Option<AlertStatusFilter>,
        /// Only groups assigned to this analyst.
        #[arg(long)]
        assignee: Option<String>,
        /// Most groups to print.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        #[command(flatten)]
        conn: Conn,
    },
    /// Search alert groups by indicator, host, user, technique and words of titles and
    /// comments (every filter given must match), newest first, a page at a time.
    Search {
        #[command(flatten)]
        filters: socfed_runtime::cli::search::SearchFilterArgs,
        /// Results per page (1-200, default 50).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: Option<u32>,
        /// The cursor the previous page printed, for the next page.
        #[arg(long)]
        cursor: Option<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Show one alert group in full, with its comments and a sample record.
    Show {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Acknowledge an alert group (stops its acknowledge SLA clock).
    Ack {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Assign an alert group to an analyst.
    Assign {
        id: String,
        /// Operator name as in the roster.
        name: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Take the assignee off an alert group.
    Unassign {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Add a comment to an alert group (several words are joined with spaces).
    Comment {
        id: String,
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[command(flatten)]
        conn: Conn,
    },
    /// Escalate an alert group to the next tier.
    Escalate {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Close an alert group with a verdict.
    Close {
        id: String,
        #[arg(long, value_enum)]
        verdict: Verdict,
        #[command(flatten)]
        conn: Conn,
    },
    /// Reopen a closed alert group.
    Reopen {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// What an action did, for the line printed before the group.
fn describe(action: &Action) -> String {
    match action {
        Action::Acknowledge(_) => "acknowledged".to_string(),
        Action::Assign(name) => format!("assigned to {}", render::clean(name)),
        Action::Unassign(_) => "unassigned".to_string(),
        Action::Comment(_) => "comment added".to_string(),
        Action::Escalate(_) => "escalated".to_string(),
        Action::Close(verdict) => format!("closed as {}", VERDICTS.show(*verdict)),
        Action::Reopen(_) => "reopened".to_string(),
        Action::LegacyClose(verdict) => format!("closed as {}", render::clean(verdict)),
    }
}

pub async fn run(command: AlertsCommand) -> anyhow::Result<()> {
    let empty = pb::Empty {};
    let (id, action, conn) = match command {
        AlertsCommand::List {
            tier,
            status,
            assignee,
            limit,
            conn,
        } => {
            let (status, all_statuses) =
                status.map_or((pb::AlertStatus::Unspecified, false), |s| s.as_wire());
            let request = pb::ListAlertsRequest {
                tier: tier.unwrap_or(0),
                status: status.into(),
                all_statuses,
                legacy_status: String::new(),
                assignee: assignee.unwrap_or_default(),
                limit,
            };
            return list(request, &conn).await;
        }
        AlertsCommand::Search {
            filters,
            limit,
            cursor,
            conn,
        } => {
            let request = pb::SearchAlertsRequest {
                filters: Some(filters.into_wire()),
                limit: limit.unwrap_or(0),
                cursor: cursor.unwrap_or_default(),
            };
            return search(request, &conn).await;
        }
        AlertsCommand::Show { id, conn } => return show(id, &conn).await,
        AlertsCommand::Ack { id, conn } => (id, Action::Acknowledge(empty), conn),
        AlertsCommand::Assign { id, name, conn } => (id, Action::Assign(name), conn),
        AlertsCommand::Unassign { id, conn } => (id, Action::Unassign(empty), conn),
        AlertsCommand::Comment { id, text, conn } => (id, Action::Comment(text.join(" ")), conn),
        AlertsCommand::Escalate { id, conn } => (id, Action::Escalate(empty), conn),
        AlertsCommand::Close { id, verdict, conn } => {
            (id, Action::Close(verdict.as_wire().into()), conn)
        }
        AlertsCommand::Reopen { id, conn } => (id, Action::Reopen(empty), conn),
    };
    act(id, action, &conn).await
}

async fn list(request: pb::ListAlertsRequest, conn: &Conn) -> anyhow::Result<()> {
    let mut soc = Soc::connect(conn)?;
    let groups = soc
        .client
        .list_alerts(request)
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner()
        .groups;
    match conn.format() {
        OutputFormat::Json => {
            render::print_json(&groups.iter().map(render::alert_json).collect::<Vec<_>>())?
        }
        OutputFormat::Table => {
            let now = socfed_proto::now_millis();
            socfed_runtime::outln!("{}", render::alerts_table(&groups, now));
        }
    }
    Ok(())
}

async fn search(request: pb::SearchAlertsRequest, conn: &Conn) -> anyhow::Result<()> {
    let mut soc = Soc::connect(conn)?;
    let page = soc
        .client
        .search_alerts(request)
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match conn.format() {
        OutputFormat::Json => render::print_json(&serde_json::json!({
            "groups": page.groups.iter().map(render::alert_json).collect::<Vec<_>>(),
            "next_cursor": (!page.next_cursor.is_empty()).then_some(&page.next_cursor),
        }))?,
        OutputFormat::Table => {
            let now = socfed_proto::now_millis();
            socfed_runtime::outln!("{}", render::alerts_table(&page.groups, now));
            if !page.next_cursor.is_empty() {
                socfed_runtime::outln!("more: --cursor {}", render::clean(&page.next_cursor));
            }
        }
    }
    Ok(())
}

async fn show(id: String, conn: &Conn) -> anyhow::Result<()> {
    let mut soc = Soc::connect(conn)?;
    let group = soc
        .client
        .get_alert(pb::GetAlertRequest { id: id.clone() })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    let runbooks = super::runbooks::matched(conn, &id).await?;
    match conn.format() {
        OutputFormat::Json => render::print_json(&super::runbooks::with_runbooks(
            render::alert_json(&group),
            &runbooks,
        ))?,
        OutputFormat::Table => {
            let now = socfed_proto::now_millis();
            socfed_runtime::outln!("{}", render::alert_detail(&group, now));
            socfed_runtime::cli::runbooks::print_matched(&runbooks)?;
        }
    }
    Ok(())
}

async fn act(id: String, action: Action, conn: &Conn) -> anyhow::Result<()> {
    let mut soc = Soc::connect(conn)?;
    let done = describe(&action);
    let group = soc
        .client
        .act_on_alert(pb::ActOnAlertRequest {
            id,
            action: Some(action),
        })
        .await
        .map_err(|s| soc.explain(&s))?
        .into_inner();
    match conn.format() {
        OutputFormat::Json => render::print_json(&render::alert_json(&group))?,
        OutputFormat::Table => {
            let now = socfed_proto::now_millis();
            socfed_runtime::outln!("{done}: {}", render::alert_brief(&group, now));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_describe_themselves() {
        assert_eq!(
            describe(&Action::Close(pb::Verdict::FalsePositive.into())),
            "closed as false-positive"
        );
        assert_eq!(
            describe(&Action::Assign("bob\u{1b}".into())),
            "assigned to bob\\u{1b}"
        );
        assert_eq!(describe(&Action::Acknowledge(pb::Empty {})), "acknowledged");
    }
}
