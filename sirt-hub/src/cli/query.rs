//! Operator queries against a running hub: `incidents`, `sites`, `conflicts`.

use super::HubTarget;
use super::render;
use crate::lifecycle::CommandKind;
use crate::view::wire::COMMANDS;
use clap::{Args, Subcommand};
use socfed_proto::pb::{self, operator_client::OperatorClient};
use socfed_proto::vocab::Severity;
use socfed_runtime::cli::{OutputFormat, explain};
use tonic::transport::Channel;

#[derive(Debug, Args)]
pub struct IncidentsArgs {
    #[command(subcommand)]
    pub command: IncidentsCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// List incidents across sites, newest first.
    List {
        /// Only incidents with a sighting at this site.
        #[arg(long)]
        site: Option<String>,
        /// Only incidents in this status (new, triage, containment, eradication, recovery, post-incident, closed).
        #[arg(long)]
        status: Option<String>,
        /// Only incidents at or above this severity.
        #[arg(long)]
        severity: Option<Severity>,
        /// Most incidents to print (all pages are fetched up to this many).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Search incidents by indicator, technique and words of titles (and notes), every filter
    /// given must match; newest first, a page at a time.
    Search {
        /// Hosts and users are refused: hub incidents carry none.
        #[command(flatten)]
        filters: socfed_runtime::cli::search::SearchFilterArgs,
        /// Results per page (1-200, default 50).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
        /// The cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show one incident with its sightings per site.
    Show { id: String },
    /// Follow the hub event log (incidents created and changed, failed directives, hunt
    /// hits), each with its sequence, until interrupted; reconnects with backoff and resumes
    /// after the last event printed. `--since N` resumes after event N.
    Watch {
        /// Print every event after this sequence first (as an earlier watch printed them).
        #[arg(long)]
        since: Option<u64>,
    },
    /// Move an incident through its lifecycle or change its severity, priority, TLP,
    /// techniques or IR lead (needs a role in the hub's [[operators]]).
    Transition {
        id: String,
        /// start-triage, contain, eradicate, recover, start-review, close, close-false-positive,
        /// close-duplicate, reopen, set-severity, set-priority, set-tlp, add-technique, assign-ir-lead.
        command: CommandKind,
        /// The command's argument (an id, a reason, a value or an operator), where it takes one.
        argument: Option<String>,
    },
    /// Make OPERATOR the incident's IR lead (SOC manager, IR lead or CISO).
    Assign { id: String, operator: String },
    /// Add an operator to an incident (or remove one): members may read it when it is TLP:RED.
    /// The incident's IR lead or the CISO.
    #[command(subcommand)]
    Members(MembersCommand),
    /// An incident's notes (its work log), oldest first; a TLP:RED note's text only for the
    /// CISO, the IR lead and the incident's members.
    Notes { id: String },
    /// Write a note on an incident (you are its author; the time is the hub's). IR lead,
    /// CISO, SOC manager, tier 3 or tier 4.
    Note {
        id: String,
        /// The note (at most 4,000 characters).
        #[arg(long)]
        text: String,
        /// A marking of its own (`red`: the CISO, the IR lead and members read its text).
        #[arg(long, value_parser = super::notes::parse_tlp)]
        tlp: Option<socfed_proto::vocab::Tlp>,
    },
    /// Merge OTHER into SURVIVOR (one threat seen as two incidents); IR lead or CISO.
    Merge {
        survivor: String,
        other: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Split one site's sighting off into a new incident; IR lead or CISO.
    Split {
        id: String,
        #[arg(long)]
        site: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Flag a regulatory regime (gdpr, nis2, sec_material), starting its notification clocks.
    Flag {
        id: String,
        regime: String,
        /// When the clock started (awareness or determination), RFC 3339; default now.
        #[arg(long)]
        started: Option<humantime::Timestamp>,
    },
    /// Send a response action to sites (IR lead or CISO); agents run it through their playbooks.
    Directive(super::response::DirectiveArgs),
    /// Assign a task to sites (IR lead or CISO).
    Task(super::response::TaskArgs),
    /// Communications to executives, board, legal, clients and regulators.
    #[command(subcommand)]
    Comms(super::comms::CommsCommand),
    /// The incident's observables: flags, per-site reports, and the other incidents holding
    /// each.
    Observables { id: String },
    /// Add, flag, unflag or remove one of the incident's observables (IR lead, CISO, tier 3
    /// and tier 4 analysts).
    Observable(super::observables::ObservableArgs),
    /// The directives and tasks of an incident, with each site's result, in issue order, a
    /// page at a time.
    Directives {
        id: String,
        #[arg(long)]
        site: Option<String>,
        /// Most directives to show (the hub sends at most 200 at a time).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after the page that printed this token.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Record that a notification was filed (gdpr_notification, nis2_early_warning,
    /// nis2_incident_notification, nis2_final_report, sec_form_8k).
    Filed {
        id: String,
        kind: String,
        /// When it was filed, RFC 3339; default now.
        #[arg(long)]
        at: Option<humantime::Timestamp>,
    },
    /// Export an incident as a STIX 2.1 bundle, an OCSF Incident Finding or a MISP event,
    /// redacted to `--tlp-max` (default: the incident's own marking, nothing withheld).
    Export(super::export::ExportArgs),
}

#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// Add NAME (an operator of the roster) to incident ID.
    Add { id: String, name: String },
    /// Remove NAME from incident ID.
    Remove { id: String, name: String },
}

#[derive(Debug, Args)]
pub struct SitesArgs {
    /// Without one: every enrolled (or ever seen) site's federation status.
    #[command(subcommand)]
    pub command: Option<super::sites::SitesCommand>,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Args)]
pub struct ConflictsArgs {
    #[arg(long)]
    pub site: Option<String>,
    /// Most records to show (the hub sends at most 1,000 at a time).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Continue after the page that printed this token.
    #[arg(long)]
    pub page_token: Option<String>,
    #[command(flatten)]
    pub target: HubTarget,
}

pub(super) fn client(target: &HubTarget) -> anyhow::Result<OperatorClient<Channel>> {
    Ok(OperatorClient::new(target.channel()?))
}

fn parse_status(raw: &str) -> anyhow::Result<pb::IncidentStatus> {
    crate::incident::IncidentStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .map(crate::view::convert::status_to_wire)
        .ok_or_else(|| anyhow::anyhow!("unknown status {raw:?}; use new, triage, containment, eradication, recovery, post-incident or closed"))
}

async fn transition(
    client: &mut OperatorClient<Channel>,
    target: &str,
    output: OutputFormat,
    id: String,
    command: CommandKind,
    argument: Option<String>,
) -> anyhow::Result<()> {
    let incident = client
        .transition_incident(pb::TransitionIncidentRequest {
            id,
            command: COMMANDS.to_wire(command).into(),
            legacy_command: String::new(),
            argument: argument.unwrap_or_default(),
        })
        .await
        .map_err(|s| explain(&s, target))?
        .into_inner();
    match output {
        OutputFormat::Json => render::print_json(&render::incident_json(&incident)),
        OutputFormat::Table => {
            socfed_runtime::outln!("{}", render::incident_detail(&incident));
            Ok(())
        }
    }
}

/// Fetches up to `limit` incidents, following page tokens.
pub async fn list_incidents(
    client: &mut OperatorClient<Channel>,
    mut request: pb::ListIncidentsRequest,
    limit: usize,
) -> Result<Vec<pb::HubIncident>, tonic::Status> {
    let mut out = Vec::new();
    loop {
        request.page_size =
            u32::try_from(limit.saturating_sub(out.len()).min(1000)).unwrap_or(1000);
        let page = client.list_incidents(request.clone()).await?.into_inner();
        out.extend(page.incidents);
        if page.next_page_token.is_empty() || out.len() >= limit {
            return Ok(out);
        }
        request.page_token = page.next_page_token;
    }
}

pub async fn incidents(args: IncidentsArgs) -> anyhow::Result<()> {
    let mut client = client(&args.target)?;
    let target = args.target.name();
    let output = args.target.format();
    match args.command {
        IncidentsCommand::Search {
            filters,
            limit,
            cursor,
        } => {
            let request = pb::SearchIncidentsRequest {
                filters: Some(filters.into_wire()),
                limit,
                cursor: cursor.unwrap_or_default(),
            };
            let page = client
                .search_incidents(request)
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            match output {
                OutputFormat::Json => render::print_json(&serde_json::json!({
                    "incidents": page.incidents.iter().map(render::incident_json).collect::<Vec<_>>(),
                    "next_cursor": (!page.next_cursor.is_empty()).then_some(&page.next_cursor),
                }))?,
                OutputFormat::Table => {
                    socfed_runtime::outln!("{}", render::incidents_table(&page.incidents));
                    if !page.next_cursor.is_empty() {
                        socfed_runtime::outln!("more: --cursor {}", page.next_cursor);
                    }
                }
            }
        }
        IncidentsCommand::List {
            site,
            status,
            severity,
            limit,
        } => {
            let request = pb::ListIncidentsRequest {
                site_id: site.unwrap_or_default(),
                status: status
                    .as_deref()
                    .map(parse_status)
                    .transpose()?
                    .map_or(0, |s| s as i32),
                min_severity: severity.map_or(0, |s| s.to_wire() as i32),
                ..Default::default()
            };
            let incidents = list_incidents(&mut client, request, limit)
                .await
                .map_err(|s| explain(&s, &target))?;
            match output {
                OutputFormat::Json => render::print_json(
                    &incidents
                        .iter()
                        .map(render::incident_json)
                        .collect::<Vec<_>>(),
                )?,
                OutputFormat::Table => {
                    socfed_runtime::outln!("{}", render::incidents_table(&incidents))
                }
            }
        }
        IncidentsCommand::Show { id } => {
            let incident = client
                .get_incident(pb::GetIncidentRequest { id })
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            match output {
                OutputFormat::Json => render::print_json(&render::incident_json(&incident))?,
                OutputFormat::Table => {
                    socfed_runtime::outln!("{}", render::incident_detail(&incident))
                }
            }
        }
        IncidentsCommand::Transition {
            id,
            command,
            argument,
        } => {
            transition(&mut client, &target, output, id, command, argument).await?;
        }
        IncidentsCommand::Assign { id, operator } => {
            let command = CommandKind::AssignIrLead;
            transition(&mut client, &target, output, id, command, Some(operator)).await?;
        }
        IncidentsCommand::Merge {
            survivor,
            other,
            reason,
        } => {
            let incident = client
                .merge_incidents(pb::MergeIncidentsRequest {
                    survivor_id: survivor,
                    other_id: other,
                    reason,
                })
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            show(&incident, output)?;
        }
        IncidentsCommand::Directive(directive) => {
            super::response::directive(directive, &args.target).await?;
        }
        IncidentsCommand::Task(task) => super::response::task(task, &args.target).await?,
        IncidentsCommand::Comms(command) => super::comms::run(command, &args.target).await?,
        IncidentsCommand::Observables { id } => super::observables::list(id, &args.target).await?,
        IncidentsCommand::Observable(change) => {
            super::observables::change(change, &args.target).await?
        }
        IncidentsCommand::Directives {
            id,
            site,
            limit,
            page_token,
        } => {
            let request = pb::ListDirectivesRequest {
                incident_id: id,
                site_id: site.unwrap_or_default(),
                hunt_id: String::new(),
                limit,
                page_token: page_token.unwrap_or_default(),
            };
            super::response::directives(request, &args.target).await?;
        }
        IncidentsCommand::Notes { id } => super::notes::notes(&args.target, id).await?,
        IncidentsCommand::Note { id, text, tlp } => {
            super::notes::note(&args.target, id, text, tlp).await?
        }
        IncidentsCommand::Members(command) => {
            let (id, name, remove) = match command {
                MembersCommand::Add { id, name } => (id, name, false),
                MembersCommand::Remove { id, name } => (id, name, true),
            };
            let members = client
                .set_incident_member(pb::SetIncidentMemberRequest { id, name, remove })
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            match output {
                OutputFormat::Json => render::print_json(&serde_json::json!({
                    "id": members.id,
                    "members": members.names,
                }))?,
                OutputFormat::Table => socfed_runtime::outln!(
                    "incident {} members: {}",
                    members.id,
                    if members.names.is_empty() {
                        "(none)".to_string()
                    } else {
                        members.names.join(", ")
                    }
                ),
            }
        }
        IncidentsCommand::Split { id, site, reason } => {
            let incident = client
                .split_sighting(pb::SplitSightingRequest {
                    id,
                    site_id: site,
                    reason,
                })
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            show(&incident, output)?;
        }
        IncidentsCommand::Flag {
            id,
            regime,
            started,
        } => {
            let request = pb::UpdateRegulatoryRequest {
                id,
                change: Some(pb::update_regulatory_request::Change::Flag(regime)),
                at_ms: millis(started),
            };
            let incident = client
                .update_regulatory(request)
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            show(&incident, output)?;
        }
        IncidentsCommand::Filed { id, kind, at } => {
            let request = pb::UpdateRegulatoryRequest {
                id,
                change: Some(pb::update_regulatory_request::Change::Filed(kind)),
                at_ms: millis(at),
            };
            let incident = client
                .update_regulatory(request)
                .await
                .map_err(|s| explain(&s, &target))?
                .into_inner();
            show(&incident, output)?;
        }
        IncidentsCommand::Export(export) => {
            super::export::run(&mut client, export, &args.target, &target).await?
        }
        IncidentsCommand::Watch { since } => {
            drop(client);
            super::watch::run(&args.target, since).await?;
        }
    }
    Ok(())
}

pub async fn sites(args: SitesArgs) -> anyhow::Result<()> {
    if let Some(command) = args.command {
        return super::sites::run(command, &args.target).await;
    }
    let mut client = client(&args.target)?;
    let sites = client
        .list_sites(pb::ListSitesRequest {})
        .await
        .map_err(|s| explain(&s, &args.target.name()))?
        .into_inner()
        .sites;
    match args.target.format() {
        OutputFormat::Json => {
            render::print_json(&sites.iter().map(render::site_json).collect::<Vec<_>>())?
        }
        OutputFormat::Table => socfed_runtime::outln!("{}", render::sites_table(&sites)),
    }
    Ok(())
}

pub async fn conflicts(args: ConflictsArgs) -> anyhow::Result<()> {
    let mut client = client(&args.target)?;
    let pb::ListConflictsResponse {
        conflicts,
        next_page_token,
        total,
    } = client
        .list_conflicts(pb::ListConflictsRequest {
            site_id: args.site.unwrap_or_default(),
            limit: args.limit,
            page_token: args.page_token.unwrap_or_default(),
        })
        .await
        .map_err(|s| explain(&s, &args.target.name()))?
        .into_inner();
    match args.target.format() {
        OutputFormat::Json => {
            let rows: Vec<_> = conflicts
                .iter()
                .map(|c| serde_json::json!({
                    "site": c.site_id, "store_epoch": c.store_epoch, "seq": c.seq, "kind": c.kind,
                    "reason": c.reason, "recorded_at": socfed_runtime::cli::format_millis(c.recorded_at_ms),
                    "stored_hash": c.stored_hash, "offered_hash": c.offered_hash,
                }))
                .collect();
            render::print_json(&serde_json::json!({
                "conflicts": rows, "total": total, "next_page_token": next_page_token,
            }))?;
        }
        OutputFormat::Table => {
            let mut t = render::table(&["site", "epoch", "seq", "kind", "recorded", "reason"]);
            for c in &conflicts {
                t.add_row(vec![
                    c.site_id.clone(),
                    c.store_epoch.clone(),
                    c.seq.to_string(),
                    c.kind.clone(),
                    socfed_runtime::cli::format_millis(c.recorded_at_ms),
                    c.reason.clone(),
                ]);
            }
            socfed_runtime::outln!("{t}");
            socfed_runtime::outln!("{} shown; {total} counted in all", conflicts.len());
            if !next_page_token.is_empty() {
                socfed_runtime::outln!("more: add --page-token {next_page_token}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hub's keyed hash-chained audit log; exit 65 if any entry was edited, inserted or
    /// removed (1: the hub could not be asked).
    Verify,
}

pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let mut client = client(&args.target)?;
    let AuditCommand::Verify = args.command;
    let report = client
        .verify_audit(pb::VerifyHubAuditRequest {})
        .await
        .map_err(|s| explain(&s, &args.target.name()))?
        .into_inner();
    match args.target.format() {
        OutputFormat::Json => render::print_json(
            &serde_json::json!({"intact": report.intact, "entries": report.entries, "problem": report.problem}),
        )?,
        OutputFormat::Table if report.intact => {
            socfed_runtime::outln!("audit log intact: {} entries", report.entries)
        }
        OutputFormat::Table => socfed_runtime::outln!("AUDIT LOG TAMPERED: {}", report.problem),
    }
    if report.intact {
        Ok(())
    } else {
        Err(socfed_runtime::cli::AuditBroken.into())
    }
}

fn millis(t: Option<humantime::Timestamp>) -> i64 {
    t.and_then(|t| {
        std::time::SystemTime::from(t)
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
    })
    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}

fn show(incident: &pb::HubIncident, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => render::print_json(&render::incident_json(incident))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", render::incident_detail(incident)),
    }
    Ok(())
}
