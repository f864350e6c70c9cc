//! Commands that talk to a running agent over its local API with an operator certificate.

use clap::Args;
use socfed_proto::pb::{self, site_local_client::SiteLocalClient};
use socfed_proto::vocab::{Indicator, Severity, SiteId, Technique, Tlp};
use socfed_runtime::cli::{ClientTlsArgs, OutputFormat, explain, format_age};
use socfed_runtime::tls::ExpectedServer;
use tonic::transport::Channel;

#[derive(Debug, Clone, Args)]
pub struct AgentTarget {
    /// Agent local API address (host:port).
    #[arg(long, env = "SOCFED_AGENT", default_value = "127.0.0.1:7601")]
    pub agent: String,
    /// Require the agent to be this site (default: any site of the organisation).
    #[arg(long)]
    pub site: Option<SiteId>,
    /// Name the agent certificate must carry; defaults to the host of --agent.
    #[arg(long)]
    pub server_name: Option<String>,
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

impl AgentTarget {
    fn client(&self) -> anyhow::Result<SiteLocalClient<Channel>> {
        Ok(SiteLocalClient::new(self.channel()?))
    }

    /// A mutual-TLS channel to the agent's local API, for any of its services.
    pub(crate) fn channel(&self) -> anyhow::Result<Channel> {
        let expected = self
            .site
            .clone()
            .map_or(ExpectedServer::AnySite, ExpectedServer::Site);
        Ok(self
            .tls
            .channel(&self.agent, self.server_name.as_deref(), expected)?)
    }

    pub(crate) fn name(&self) -> String {
        format!("the site agent at {}", self.agent)
    }
}

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
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
    #[command(flatten)]
    pub target: AgentTarget,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
    #[command(flatten)]
    pub target: AgentTarget,
}

pub async fn escalate(args: EscalateArgs) -> anyhow::Result<()> {
    let mut client = args.target.client()?;
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
        .map_err(|s| explain(&s, &args.target.name()))?
        .into_inner();
    match args.output {
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
    let mut client = args.target.client()?;
    let s = client
        .get_status(pb::GetStatusRequest {})
        .await
        .map_err(|e| explain(&e, &args.target.name()))?
        .into_inner();
    match args.output {
        OutputFormat::Json => socfed_runtime::cli::print_json(&serde_json::json!({
                "site": s.site_id, "store_epoch": s.store_epoch, "hub_connected": s.hub_connected,
                "next_seq": s.next_seq, "acked_through": s.acked_through, "backlog": s.backlog,
                "oldest_unsent_age_ms": s.oldest_unsent_age_ms, "outbox_cap": s.outbox_cap,
                "on_full": s.on_full, "refused_total": s.refused_total, "dropped_total": s.dropped_total,
                "conflicts_reported": s.conflicts_reported, "rejected_reported": s.rejected_reported,
                "last_hub_error": s.last_hub_error, "reconnects": s.reconnects,
        }))?,
        OutputFormat::Table => {
            socfed_runtime::outln!("site          {}", s.site_id);
            socfed_runtime::outln!("store epoch   {}", s.store_epoch);
            socfed_runtime::outln!(
                "hub           {}",
                if s.hub_connected {
                    "connected"
                } else {
                    "NOT CONNECTED"
                }
            );
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
