//! `site-agent directives` and `site-agent tasks`: what the SIRT hub asked this site to do.

use super::Conn;
use super::render::{clean, print_json, table};
use clap::Subcommand;
use serde_json::{Value, json};
use socfed_proto::pb::{self, site_response_client::SiteResponseClient, work_task_request::Step};
use socfed_runtime::cli::{OutputFormat, explain, format_age, format_millis};

#[derive(Debug, Subcommand)]
pub enum DirectivesCommand {
    /// Directives from the hub, newest first, with their state here.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        conn: Conn,
    },
    /// One directive with its parameters, result and output.
    Show {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Run a destructive action that waits for approval (tier 3+ or the SOC manager).
    Approve {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Refuse a destructive action; the reason goes to the hub.
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        conn: Conn,
    },
}

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Tasks the hub assigned to this site, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        conn: Conn,
    },
    /// One task: title, details, due time, whether it is overdue, its state here.
    Show {
        id: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Acknowledge a task: the site has seen it.
    Ack {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Mark a task as being worked.
    Start {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Complete a task, with what was found or done.
    Done {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        conn: Conn,
    },
    /// Decline a task, saying why.
    Decline {
        id: String,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        conn: Conn,
    },
}

fn state_word(n: i32) -> String {
    socfed_proto::vocab::DirectiveState::word(n).to_string()
}

/// Latest due time a task may carry: the end of year 9999 (RFC 3339 has four-digit years).
const MAX_DUE_MS: i64 = 253_402_300_799_999;

/// A task's due time from the hub (`due_ms`), if it has a readable one.
fn due_ms(wire: &pb::Directive) -> Option<i64> {
    wire.params
        .get("due_ms")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|ms| (1..=MAX_DUE_MS).contains(ms))
}

/// Past its due time and not finished (by this machine's clock).
fn overdue(d: &pb::SiteDirective, now_ms: i64) -> bool {
    let wire = d.directive.clone().unwrap_or_default();
    let state = d.status.as_ref().map_or(0, |s| s.state);
    let finished =
        socfed_proto::vocab::DirectiveState::from_wire(state).is_some_and(|s| s.is_final());
    due_ms(&wire).is_some_and(|due| now_ms > due && !finished)
}

/// `2026-03-02T10:00:00Z (in 3h 5m)` or `(… ago)`.
fn due_text(due: i64, now_ms: i64) -> String {
    let relative = if due >= now_ms {
        format!("in {}", format_age(due.abs_diff(now_ms)))
    } else {
        format!("{} ago", format_age(now_ms.abs_diff(due)))
    };
    format!("{} ({relative})", format_millis(due))
}

fn directive_json(d: &pb::SiteDirective) -> Value {
    let wire = d.directive.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    let now = socfed_proto::now_millis();
    let mut value = directive_fields(d, &wire, &status);
    if wire.kind == "task" {
        value["title"] = json!(wire.params.get("title"));
        value["details"] = json!(wire.params.get("details"));
        value["due_at"] = json!(due_ms(&wire).map(format_millis));
        value["overdue"] = json!(overdue(d, now));
    }
    value
}

fn directive_fields(
    d: &pb::SiteDirective,
    wire: &pb::Directive,
    status: &pb::DirectiveUpdate,
) -> Value {
    json!({
        "directive_id": wire.directive_id, "incident_id": wire.incident_id, "kind": wire.kind,
        "params": wire.params, "issued_by": wire.issued_by,
        "issued_at": format_millis(wire.issued_at_ms),
        "expires_at": (wire.expires_at_ms > 0).then(|| format_millis(wire.expires_at_ms)),
        "received_at": format_millis(d.received_at_ms), "state": state_word(status.state),
        "detail": status.detail, "exit_code": status.exit_code, "output": status.output,
        "actor": status.actor, "updated_at": format_millis(status.at_ms),
        "hits": status.hits.iter().map(|h| json!({
            "indicator": h.indicator, "group_id": h.group_id, "alert_count": h.alert_count,
            "last_seen": format_millis(h.last_seen_ms),
        })).collect::<Vec<_>>(),
    })
}

/// `tasks list` as a table: the due time and whether it is overdue, in columns.
fn print_tasks(list: &[pb::SiteDirective]) -> anyhow::Result<()> {
    let now = socfed_proto::now_millis();
    let mut t = table(&["TASK", "TITLE", "STATE", "DUE", "OVERDUE", "UPDATED"]);
    for d in list {
        let wire = d.directive.clone().unwrap_or_default();
        let status = d.status.clone().unwrap_or_default();
        t.add_row(vec![
            wire.directive_id.clone(),
            clean(wire.params.get("title").map_or("", String::as_str))
                .chars()
                .take(60)
                .collect(),
            state_word(status.state),
            due_ms(&wire).map_or_else(|| "-".to_string(), |due| due_text(due, now)),
            if overdue(d, now) {
                "OVERDUE".into()
            } else {
                String::new()
            },
            format_millis(status.at_ms),
        ]);
    }
    socfed_runtime::outln!("{t}");
    Ok(())
}

/// `tasks show` as text.
fn show_task(d: &pb::SiteDirective) -> anyhow::Result<()> {
    let now = socfed_proto::now_millis();
    let wire = d.directive.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    let param = |name: &str| clean(wire.params.get(name).map_or("", String::as_str)).into_owned();
    socfed_runtime::outln!("task {}: {}", wire.directive_id, param("title"));
    socfed_runtime::outln!("  incident:  {}", clean(&wire.incident_id));
    socfed_runtime::outln!(
        "  issued:    {} by {}",
        format_millis(wire.issued_at_ms),
        clean(&wire.issued_by)
    );
    match due_ms(&wire) {
        Some(due) => socfed_runtime::outln!("  due:       {}", due_text(due, now)),
        None => socfed_runtime::outln!("  due:       -"),
    }
    socfed_runtime::outln!(
        "  overdue:   {}",
        if overdue(d, now) { "yes" } else { "no" }
    );
    socfed_runtime::outln!("  state:     {}", state_word(status.state));
    if !status.actor.is_empty() {
        socfed_runtime::outln!("  by:        {}", clean(&status.actor));
    }
    socfed_runtime::outln!("  updated:   {}", format_millis(status.at_ms));
    socfed_runtime::outln!("  detail:    {}", clean(&status.detail));
    let details = param("details");
    if !details.is_empty() {
        socfed_runtime::outln!("  details:   {details}");
    }
    Ok(())
}

fn print(list: &[pb::SiteDirective], output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&list.iter().map(directive_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut t = table(&["DIRECTIVE", "KIND", "STATE", "UPDATED", "DETAIL"]);
            for d in list {
                let wire = d.directive.clone().unwrap_or_default();
                let status = d.status.clone().unwrap_or_default();
                let kind = match wire.params.get("title") {
                    Some(title) if wire.kind == "task" => format!("task: {title}"),
                    _ => wire.kind,
                };
                t.add_row(vec![
                    wire.directive_id,
                    kind,
                    state_word(status.state),
                    format_millis(status.at_ms),
                    status.detail.chars().take(100).collect(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}

fn show(d: &pb::SiteDirective, output: OutputFormat) -> anyhow::Result<()> {
    if output == OutputFormat::Json {
        return print_json(&directive_json(d));
    }
    let wire = d.directive.clone().unwrap_or_default();
    let status = d.status.clone().unwrap_or_default();
    socfed_runtime::outln!("directive {} ({})", wire.directive_id, wire.kind);
    socfed_runtime::outln!("  incident:  {}", wire.incident_id);
    socfed_runtime::outln!(
        "  issued:    {} by {}",
        format_millis(wire.issued_at_ms),
        wire.issued_by
    );
    let mut params: Vec<_> = wire.params.iter().collect();
    params.sort();
    for (k, v) in params {
        match due_ms(&wire) {
            Some(due) if k == "due_ms" => {
                socfed_runtime::outln!("  due:       {}", due_text(due, socfed_proto::now_millis()))
            }
            _ => socfed_runtime::outln!("  param:     {k} = {v}"),
        }
    }
    socfed_runtime::outln!("  state:     {}", state_word(status.state));
    socfed_runtime::outln!("  detail:    {}", status.detail);
    if let Some(code) = status.exit_code {
        socfed_runtime::outln!("  exit code: {code}");
    }
    if !status.output.is_empty() {
        socfed_runtime::outln!("  output:\n{}", status.output);
    }
    Ok(())
}

async fn client(
    conn: &Conn,
) -> anyhow::Result<(SiteResponseClient<tonic::transport::Channel>, String)> {
    Ok((SiteResponseClient::new(conn.channel()?), conn.name()))
}

pub async fn run(command: DirectivesCommand) -> anyhow::Result<()> {
    match command {
        DirectivesCommand::List { limit, conn } => list(limit, false, &conn).await,
        DirectivesCommand::Show { id, conn } => {
            let (mut c, name) = client(&conn).await?;
            let d = c
                .get_directive(pb::GetSiteDirectiveRequest { directive_id: id })
                .await
                .map_err(|s| explain(&s, &name))?
                .into_inner();
            show(&d, conn.format())
        }
        DirectivesCommand::Approve { id, conn } => decide(id, true, String::new(), &conn).await,
        DirectivesCommand::Reject { id, reason, conn } => decide(id, false, reason, &conn).await,
    }
}

async fn list(limit: u32, tasks_only: bool, conn: &Conn) -> anyhow::Result<()> {
    let (mut c, name) = client(conn).await?;
    let list = c
        .list_directives(pb::ListSiteDirectivesRequest {
            tasks_only,
            exclude_tasks: !tasks_only,
            limit,
        })
        .await
        .map_err(|s| explain(&s, &name))?
        .into_inner()
        .directives;
    if tasks_only && conn.format() == OutputFormat::Table {
        return print_tasks(&list);
    }
    print(&list, conn.format())
}

async fn decide(id: String, approve: bool, reason: String, conn: &Conn) -> anyhow::Result<()> {
    let (mut c, name) = client(conn).await?;
    let d = c
        .decide_directive(pb::DecideDirectiveRequest {
            directive_id: id,
            approve,
            reason,
        })
        .await
        .map_err(|s| explain(&s, &name))?
        .into_inner();
    show(&d, conn.format())
}

pub async fn run_tasks(command: TasksCommand) -> anyhow::Result<()> {
    let (id, step, note, conn) = match command {
        TasksCommand::List { limit, conn } => return list(limit, true, &conn).await,
        TasksCommand::Show { id, conn } => {
            let (mut c, name) = client(&conn).await?;
            let d = c
                .get_directive(pb::GetSiteDirectiveRequest {
                    directive_id: id.clone(),
                })
                .await
                .map_err(|s| explain(&s, &name))?
                .into_inner();
            if d.directive.as_ref().is_none_or(|w| w.kind != "task") {
                anyhow::bail!("{id} is not a task; `site-agent directives show {id}` shows it");
            }
            if conn.format() == OutputFormat::Json {
                return print_json(&directive_json(&d));
            }
            return show_task(&d);
        }
        TasksCommand::Ack { id, note, conn } => (id, Step::Acknowledge, note, conn),
        TasksCommand::Start { id, note, conn } => (id, Step::Start, note, conn),
        TasksCommand::Done { id, note, conn } => (id, Step::Complete, note, conn),
        TasksCommand::Decline { id, note, conn } => (id, Step::Decline, note, conn),
    };
    let (mut c, name) = client(&conn).await?;
    let d = c
        .work_task(pb::WorkTaskRequest {
            directive_id: id,
            step: step as i32,
            note,
        })
        .await
        .map_err(|s| explain(&s, &name))?
        .into_inner();
    show(&d, conn.format())
}
