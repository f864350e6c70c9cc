//! Commands that talk to a running agent over its local API with an operator certificate.

use clap::Args;
use socfed_proto::pb::{self, site_local_client::SiteLocalClient};
use socfed_proto::vocab::{Indicator, Severity, SiteId, Technique, Tlp};
use socfed_runtime::cli::{ClientArgs, Endpoint, OutputFormat, format_age};
use socfed_runtime::tls::ExpectedServer;

/// The agent as operator commands name it: `--agent` (`SOCFED_AGENT`), the site it must be
/// and the name its certificate must carry.
#[derive(Debug, Clone, Args)]
pub struct AgentEndpoint {
    /// Agent local API address (host:port).
    #[arg(long, env = "SOCFED_AGENT", default_value = "127.0.0.1:7601")]
    pub agent: String,
    /// Require the agent to be this site (default: any site of the organisation).
    #[arg(long)]
    pub site: Option<SiteId>,
    /// Name the agent certificate must carry; defaults to the host of --agent.
    #[arg(long)]
    pub server_name: Option<String>,
}

impl Endpoint for AgentEndpoint {
    fn address(&self) -> &str {
        &self.agent
    }
    fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }
    fn expected(&self) -> ExpectedServer {
        self.site
            .clone()
            .map_or(ExpectedServer::AnySite, ExpectedServer::Site)
    }
    fn describe(&self) -> String {
        format!("the site agent at {}", self.agent)
    }
}

/// Where a command connects and how it prints (the flags both binaries share); flattened into
/// every leaf command so the flags go after the subcommand
/// (`site-agent alerts list --agent HOST:PORT -o json`).
pub type Conn = ClientArgs<AgentEndpoint>;

#[derive(Debug, Args)]
pub struct EscalateArgs {
    #[arg(long)]
    pub title: String,
    /// informational, low, medium, high or critical.
    #[arg(long)]
    pub severity: Severity,
    #[arg(long, default_value = "")]
    pub description: String,
    /// TYPE:VALUE (ip, domain, url, sha256, sha1, md5, email, cve); repeatable.
    #[arg(long = "indicator", value_parser = Indicator::parse_typed)]
    pub indicators: Vec<Indicator>,
    /// ATT&CK technique id such as T1059 or T1059.001; repeatable.
    #[arg(long = "technique", value_parser = Technique::parse)]
    pub techniques: Vec<Technique>,
    /// Detection rule id, used for cross-site correlation.
    #[arg(long, default_value = "")]
    pub rule: String,
    /// clear, green, amber, amber+strict or red.
    #[arg(long, default_value = "amber")]
    pub tlp: Tlp,
    /// Idempotency key: retrying with the same id never queues twice.
    #[arg(long, default_value = "")]
    pub request_id: String,
    #[command(flatten)]
    pub target: Conn,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: Conn,
}

pub async fn escalate(args: EscalateArgs) -> anyhow::Result<()> {
    let mut client = SiteLocalClient::new(args.target.channel()?);
    let request = pb::RaiseIncidentRequest {
        request_id: args.request_id,
        title: args.title,
        description: args.description,
        severity: args.severity.to_wire() as i32,
        tlp: args.tlp.to_wire() as i32,
        rule_id: args.rule,
        techniques: args.techniques.iter().map(ToString::to_string).collect(),
        indicators: args.indicators.iter().map(Indicator::to_wire).collect(),
        observed_at_ms: 0,
    };
    let response = client
        .raise_incident(request)
        .await
        .map_err(|s| args.target.explain(&s))?
        .into_inner();
    match args.target.format() {
        OutputFormat::Json => socfed_runtime::outln!(
            "{}",
            serde_json::json!({"local_incident_id": response.local_incident_id, "seq": response.seq, "replayed": response.replayed})
        ),
        OutputFormat::Table => socfed_runtime::outln!(
            "{} {} (outbox sequence {}){}",
            if response.replayed {
                "already queued:"
            } else {
                "queued for escalation:"
            },
            response.local_incident_id,
            response.seq,
            if response.replayed {
                "; nothing new was queued"
            } else {
                ""
            }
        ),
    }
    Ok(())
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let mut client = SiteLocalClient::new(args.target.channel()?);
    let s = client
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(|s| args.target.explain(&s))?
        .into_inner();
    match args.target.format() {
        OutputFormat::Json => socfed_runtime::cli::print_json(&serde_json::json!({
                "site": s.site_id, "store_epoch": s.store_epoch, "hub_connected": s.hub_connected,
                "next_seq": s.next_seq, "acked_through": s.acked_through, "backlog": s.backlog,
                "oldest_unsent_age_ms": s.oldest_unsent_age_ms, "outbox_cap": s.outbox_cap,
                "on_full": s.on_full, "refused_total": s.refused_total, "dropped_total": s.dropped_total,
                "conflicts_reported": s.conflicts_reported, "rejected_reported": s.rejected_reported,
                "last_hub_error": s.last_hub_error, "reconnects": s.reconnects,
                "hub_address": s.hub_address,
                "last_failover": (s.last_failover_at_ms > 0).then(|| serde_json::json!({
                    "at_ms": s.last_failover_at_ms, "from": s.last_failover_from, "to": s.last_failover_to,
                })),
        }))?,
        OutputFormat::Table => {
            socfed_runtime::outln!("site          {}", s.site_id);
            socfed_runtime::outln!("store epoch   {}", s.store_epoch);
            socfed_runtime::outln!(
                "hub           {} {}",
                if s.hub_connected {
                    "connected to"
                } else {
                    "NOT CONNECTED, trying"
                },
                socfed_runtime::terminal::clean(&s.hub_address)
            );
            if s.last_failover_at_ms > 0 {
                socfed_runtime::outln!(
                    "last failover {} -> {}, {} ago",
                    socfed_runtime::terminal::clean(&s.last_failover_from),
                    socfed_runtime::terminal::clean(&s.last_failover_to),
                    format_age((socfed_proto::now_millis() - s.last_failover_at_ms).max(0) as u64)
                );
            }
            socfed_runtime::outln!(
                "sequences     next {}, acknowledged through {}",
                s.next_seq,
                s.acked_through
            );
            socfed_runtime::outln!(
                "outbox        {} of {} waiting{}",
                s.backlog,
                s.outbox_cap,
                if s.backlog > 0 {
                    format!(", oldest {}", format_age(s.oldest_unsent_age_ms))
                } else {
                    String::new()
                }
            );
            socfed_runtime::outln!(
                "at cap        {} ({} refused, {} dropped so far)",
                s.on_full,
                s.refused_total,
                s.dropped_total
            );
            socfed_runtime::outln!(
                "hub notices   {} conflicts, {} rejected",
                s.conflicts_reported,
                s.rejected_reported
            );
            if !s.last_hub_error.is_empty() {
                socfed_runtime::outln!(
                    "last error    {} ({} reconnects)",
                    s.last_hub_error,
                    s.reconnects
                );
            }
        }
    }
    Ok(())
}
