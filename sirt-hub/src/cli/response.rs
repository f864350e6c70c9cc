//! Operator commands for the coordinated response: directives, tasks and threat hunts.

use super::HubTarget;
use super::render::{print_json, table};
use crate::response::directive::plural;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use socfed_proto::pb::{self, response_client::ResponseClient};
use socfed_runtime::cli::{OutputFormat, explain, format_millis};
use std::time::Duration;
use tonic::transport::Channel;

/// `incidents directive ID ...`: a response action for one or more sites.
#[derive(Debug, Args)]
pub struct DirectiveArgs {
    pub id: String,
    /// Site ids, comma-separated, or "all".
    #[arg(long, value_delimiter = ',', required = true)]
    pub sites: Vec<String>,
    /// block_indicator, isolate_host, disable_account, collect_evidence, or a kind the sites'
    /// playbooks map.
    #[arg(long)]
    pub kind: String,
    /// NAME=VALUE, filling the playbook's templates; repeat for more.
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Sites do not run it after this long (e.g. 4h); default 24h.
    #[arg(long)]
    pub expires: Option<humantime::Duration>,
}

/// `incidents task ID ...`: work for the analysts of one or more sites.
#[derive(Debug, Args)]
pub struct TaskArgs {
    pub id: String,
    #[arg(long, value_delimiter = ',', required = true)]
    pub sites: Vec<String>,
    #[arg(long)]
    pub title: String,
    #[arg(long, default_value = "")]
    pub details: String,
    /// Due this long from now (e.g. 8h); flagged overdue after.
    #[arg(long)]
    pub due: Option<humantime::Duration>,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    #[command(subcommand)]
    pub command: HuntCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum HuntCommand {
    /// Sweep sites for an incident's indicators and/or the ones given.
    Start {
        #[arg(long)]
        incident: Option<String>,
        /// TYPE:VALUE (ip, domain, url, sha256, sha1, md5, email, cve); repeat for more.
        #[arg(long = "ioc")]
        iocs: Vec<String>,
        /// Site ids, comma-separated, or "all".
        #[arg(long, value_delimiter = ',', default_value = "all")]
        sites: Vec<String>,
        /// How far back to search stored alerts (at most 365d), measured on the time
        /// `--time` names.
        #[arg(long, default_value = "30d", value_parser = parse_lookback)]
        lookback: humantime::Duration,
        /// `observed`: the alert's own time (when the source saw it; an old sample ingested
        /// today is outside a short lookback). `received`: when the site took it in (finds
        /// late-ingested alerts, and alerts arriving late during a watch).
        #[arg(long = "time", default_value = "observed", value_parser = ["observed", "received"])]
        time_basis: String,
        /// How long sites keep watching new alerts (0s = stored alerts only).
        #[arg(long, default_value = "0s")]
        duration: humantime::Duration,
    },
    /// Per-site progress (pending, offline, running, done) and hits of a hunt.
    Status { id: String },
    /// Hunts, newest first, a page at a time; each with its hit counts (`status` shows hits).
    List {
        /// Most hunts to show (the hub sends at most 200 at a time).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after the page that printed this token.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Record a hunt's hits on an incident and open a task at each site with hits.
    Attach {
        id: String,
        #[arg(long)]
        incident: String,
    },
    /// The hunt library: IOC sets run on a schedule as detection at every site.
    Library {
        #[command(subcommand)]
        command: super::hunt_library::LibraryCommand,
    },
}

fn parse_param(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{raw:?} is not NAME=VALUE"))
}

/// A positive lookback: `0s` would search nothing stored, and the API reads 0 as "default".
pub(super) fn parse_lookback(raw: &str) -> Result<humantime::Duration, String> {
    let value: humantime::Duration = raw.parse().map_err(|e| format!("{e}"))?;
    if Duration::from(value).as_secs() == 0 {
        return Err(
            "a lookback of less than a second searches no stored alert; give one such as 1h \
             or 7d (at most 365d)"
                .into(),
        );
    }
    Ok(value)
}

/// The most directives the hub sends in one `ListDirectives` answer.
const MAX_DIRECTIVES_PAGE: u32 = 200;

pub(super) fn client(target: &HubTarget) -> anyhow::Result<ResponseClient<Channel>> {
    let channel = target.channel()?;
    Ok(ResponseClient::new(channel))
}

fn secs(d: Option<humantime::Duration>) -> u64 {
    d.map_or(0, |d| Duration::from(d).as_secs().max(1))
}

pub async fn directive(args: DirectiveArgs, target: &HubTarget) -> anyhow::Result<()> {
    let request = pb::IssueDirectiveRequest {
        incident_id: args.id,
        sites: args.sites,
        kind: args.kind,
        params: args.params.into_iter().collect(),
        expires_in_s: secs(args.expires),
    };
    let reply = client(target)?
        .issue_directive(request)
        .await
        .map_err(|s| target.explain(&s))?;
    print_directives(&reply.into_inner().directives, target.format())
}

pub async fn task(args: TaskArgs, target: &HubTarget) -> anyhow::Result<()> {
    let request = pb::AssignTaskRequest {
        incident_id: args.id,
        sites: args.sites,
        title: args.title,
        details: args.details,
        due_in_s: secs(args.due),
    };
    let reply = client(target)?
        .assign_task(request)
        .await
        .map_err(|s| target.explain(&s))?;
    print_directives(&reply.into_inner().directives, target.format())
}

/// One page of directives: JSON `{directives, total, next_page_token}`, or a table with the
/// count and the token for the next page.
pub async fn directives(
    request: pb::ListDirectivesRequest,
    target: &HubTarget,
) -> anyhow::Result<()> {
    let pb::ListDirectivesResponse {
        directives,
        next_page_token,
        total,
    } = client(target)?
        .list_directives(request)
        .await
        .map_err(|s| target.explain(&s))?
        .into_inner();
    match target.format() {
        OutputFormat::Json => print_json(&json!({
            "directives": directives.iter().map(directive_json).collect::<Vec<_>>(),
            "total": total, "next_page_token": next_page_token,
        })),
        OutputFormat::Table => {
            print_directives(&directives, OutputFormat::Table)?;
            socfed_runtime::outln!("{} shown; {total} in all", directives.len());
            if !next_page_token.is_empty() {
                socfed_runtime::outln!("more: add --page-token {next_page_token}");
            }
            Ok(())
        }
    }
}

/// An incident's directives (tasks included) and communications, for reports.
pub async fn incident_extras(
    incident: &str,
    target: &HubTarget,
) -> anyhow::Result<(Vec<pb::DirectiveStatus>, Vec<pb::Communication>)> {
    let hub = target.name();
    // A report carries every directive of the incident: all pages.
    let mut directives = Vec::new();
    let mut response = client(target)?;
    let mut page_token = String::new();
    loop {
        let page = response
            .list_directives(pb::ListDirectivesRequest {
                incident_id: incident.into(),
                limit: MAX_DIRECTIVES_PAGE,
                page_token,
                ..Default::default()
            })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner();
        directives.extend(page.directives);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let channel = target.channel()?;
    let communications = pb::communications_client::CommunicationsClient::new(channel)
        .list(pb::ListCommunicationsRequest {
            incident_id: incident.into(),
        })
        .await
        .map_err(|s| explain(&s, &hub))?
        .into_inner()
        .communications;
    Ok((directives, communications))
}

pub async fn hunt(args: HuntArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let hub = target.name();
    if let HuntCommand::Library { command } = args.command {
        return super::hunt_library::run(command, target).await;
    }
    let mut client = client(target)?;
    let hunt = match args.command {
        HuntCommand::Start {
            incident,
            iocs,
            sites,
            lookback,
            duration,
            time_basis,
        } => client
            .start_hunt(pb::StartHuntRequest {
                time_basis,
                incident_id: incident.unwrap_or_default(),
                indicators: iocs,
                sites,
                lookback_s: Duration::from(lookback).as_secs(),
                duration_s: Duration::from(duration).as_secs(),
                search: None,
            })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner(),
        HuntCommand::Status { id } => client
            .get_hunt(pb::GetHuntRequest { hunt_id: id })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner(),
        HuntCommand::Attach { id, incident } => client
            .attach_hunt(pb::AttachHuntRequest {
                hunt_id: id,
                incident_id: incident,
            })
            .await
            .map_err(|s| explain(&s, &hub))?
            .into_inner(),
        // Taken above, before a Response client is made.
        HuntCommand::Library { .. } => return Ok(()),
        HuntCommand::List { limit, page_token } => {
            let pb::ListHuntsResponse {
                hunts,
                next_page_token,
                total,
            } = client
                .list_hunts(pb::ListHuntsRequest {
                    limit,
                    page_token: page_token.unwrap_or_default(),
                })
                .await
                .map_err(|s| explain(&s, &hub))?
                .into_inner();
            return match target.format() {
                OutputFormat::Json => print_json(&json!({
                    "hunts": hunts.iter().map(hunt_json).collect::<Vec<_>>(),
                    "total": total, "next_page_token": next_page_token,
                })),
                OutputFormat::Table => {
                    let mut t = table(&["HUNT", "STARTED", "BY", "INDICATORS", "SITES", "HITS"]);
                    for h in &hunts {
                        let done = h.sites.iter().filter(|s| s.progress == "done").count();
                        t.add_row(vec![
                            h.hunt_id.clone(),
                            format_millis(h.started_at_ms),
                            h.started_by.clone(),
                            h.indicators.len().to_string(),
                            format!("{done}/{} done", h.sites.len()),
                            h.total_hits.to_string(),
                        ]);
                    }
                    socfed_runtime::outln!("{t}");
                    socfed_runtime::outln!("{} shown; {total} in all", hunts.len());
                    if !next_page_token.is_empty() {
                        socfed_runtime::outln!("more: add --page-token {next_page_token}");
                    }
                    Ok(())
                }
            };
        }
    };
    print_hunt(&hunt, target.format())
}

/// A hunt with its per-site progress and hits (`hunt start|status`, `search alerts`).
pub fn print_hunt(hunt: &pb::Hunt, format: OutputFormat) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => print_json(&hunt_json(hunt)),
        OutputFormat::Table => {
            socfed_runtime::outln!(
                "hunt {} by {} at {}: {}, {}{}",
                hunt.hunt_id,
                hunt.started_by,
                format_millis(hunt.started_at_ms),
                plural(hunt.indicators.len(), "indicator", "indicators"),
                plural(
                    usize::try_from(hunt.total_hits).unwrap_or(usize::MAX),
                    "hit",
                    "hits"
                ),
                if hunt.attached_to.is_empty() {
                    String::new()
                } else {
                    format!(", attached to incident {}", hunt.attached_to)
                }
            );
            let mut t = table(&["SITE", "PROGRESS", "HITS", "DETAIL"]);
            for s in &hunt.sites {
                t.add_row(vec![
                    s.site_id.clone(),
                    s.progress.clone(),
                    s.hit_count.to_string(),
                    s.detail.clone(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            let mut hits = table(&["SITE", "INDICATOR", "ALERT GROUP", "ALERTS", "LAST SEEN"]);
            let mut any = false;
            for s in &hunt.sites {
                for h in &s.hits {
                    any = true;
                    hits.add_row(vec![
                        s.site_id.clone(),
                        h.indicator.clone(),
                        h.group_id.clone(),
                        h.alert_count.to_string(),
                        format_millis(h.last_seen_ms),
                    ]);
                }
            }
            if any {
                socfed_runtime::outln!("{hits}");
            }
            Ok(())
        }
    }
}

fn state_word(n: i32) -> String {
    socfed_proto::vocab::DirectiveState::word(n).to_string()
}

fn hit_json(h: &pb::HuntHit) -> Value {
    json!({
        "indicator": h.indicator, "group_id": h.group_id, "title": h.title,
        "alert_count": h.alert_count, "first_seen": format_millis(h.first_seen_ms),
        "last_seen": format_millis(h.last_seen_ms), "local_incident_id": h.local_incident_id,
    })
}

pub fn directive_json(d: &pb::DirectiveStatus) -> Value {
    let wire = d.directive.clone().unwrap_or_default();
    json!({
        "directive_id": wire.directive_id, "incident_id": wire.incident_id, "site": d.site_id,
        "kind": wire.kind, "params": wire.params, "state": state_word(d.state),
        "detail": d.detail, "exit_code": d.exit_code, "output": d.output, "actor": d.actor,
        "issued_by": wire.issued_by, "issued_at": format_millis(wire.issued_at_ms),
        "expires_at": (wire.expires_at_ms > 0).then(|| format_millis(wire.expires_at_ms)),
        "updated_at": format_millis(d.updated_at_ms), "hunt_id": d.hunt_id,
        "task_title": d.task_title, "due": (d.due_ms > 0).then(|| format_millis(d.due_ms)),
        "overdue": d.overdue, "hits": d.hits.iter().map(hit_json).collect::<Vec<_>>(),
    })
}

pub fn hunt_json(h: &pb::Hunt) -> Value {
    json!({
        "hunt_id": h.hunt_id, "incident_id": h.incident_id, "indicators": h.indicators,
        "started_at": format_millis(h.started_at_ms), "started_by": h.started_by,
        "lookback_s": h.lookback_s, "time_basis": h.time_basis, "duration_s": h.duration_s,
        "total_hits": h.total_hits,
        "attached_to": h.attached_to,
        "search": h.search.as_ref().map(|s| json!({
            "indicators": s.indicators, "hosts": s.hosts, "users": s.users,
            "techniques": s.techniques, "text": s.text,
        })),
        "sites": h.sites.iter().map(|s| json!({
            "site": s.site_id, "progress": s.progress, "hit_count": s.hit_count,
            "directive_id": s.directive_id, "detail": s.detail,
            "hits": s.hits.iter().map(hit_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub fn print_directives(list: &[pb::DirectiveStatus], output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&list.iter().map(directive_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut t = table(&["DIRECTIVE", "SITE", "WHAT", "STATE", "UPDATED", "DETAIL"]);
            for d in list {
                let wire = d.directive.clone().unwrap_or_default();
                let what = if d.task_title.is_empty() {
                    wire.kind
                } else {
                    format!("task: {}", d.task_title)
                };
                let mut state = state_word(d.state);
                if d.overdue {
                    state.push_str(" (overdue)");
                }
                t.add_row(vec![
                    wire.directive_id,
                    d.site_id.clone(),
                    what,
                    state,
                    format_millis(d.updated_at_ms),
                    d.detail.chars().take(80).collect(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            Ok(())
        }
    }
}
