//! What `sirt-hub demo --keep-running` prints once the story is told: the dashboard and each
//! site's SOC console with a sign-in link, the metrics URLs, and commands that work as printed against this federation
//! (README.md's quick start shows the same lines; tests/tests/operations/demo.rs runs them).

use super::setup::{Layout, OPERATOR};
use super::story::PHISHING_DOMAIN;
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use std::path::Path;
use tonic::transport::Channel;

/// Where the commands and files are.
pub struct Context<'a> {
    pub hub_bin: &'a Path,
    pub agent_bin: &'a Path,
    pub dir: &'a Path,
    pub layout: &'a Layout,
    /// The incident seen at two sites: the commands act on it.
    pub incident: &'a str,
}

/// A one-time dashboard sign-in link for the demo operator, as `sirt-hub login` gets it.
pub async fn sign_in_link(
    roster: OperatorRosterClient<Channel>,
) -> anyhow::Result<pb::DashboardLoginResponse> {
    Ok(roster
        .clone()
        .dashboard_login(pb::DashboardLoginRequest {})
        .await
        .map_err(|s| anyhow::anyhow!("dashboard sign-in link: {}", s.message()))?
        .into_inner())
}

/// A one-time SOC console sign-in link for the demo operator at one site, as
/// `site-agent login` gets it.
pub async fn console_link(
    soc: socfed_proto::pb::site_soc_client::SiteSocClient<Channel>,
) -> anyhow::Result<pb::ConsoleLoginResponse> {
    Ok(soc
        .clone()
        .console_login(pb::ConsoleLoginRequest {})
        .await
        .map_err(|s| anyhow::anyhow!("console sign-in link: {}", s.message()))?
        .into_inner())
}

pub fn print(
    context: &Context<'_>,
    link: &pb::DashboardLoginResponse,
    consoles: &[(&str, pb::ConsoleLoginResponse)],
) -> anyhow::Result<()> {
    let Context {
        hub_bin,
        agent_bin,
        dir,
        layout,
        incident,
    } = context;
    let (exe, agent) = (hub_bin.display(), agent_bin.display());
    let hub = layout.hub.grpc;
    let (paris, oslo) = (layout.agents[0].at.grpc, layout.agents[2].at.grpc);
    socfed_runtime::outln!("\nThe federation keeps running (Ctrl-C stops it).\n");
    socfed_runtime::outln!(
        "dashboard: https://{} (its certificate comes from the demo CA, {})",
        layout.dashboard,
        layout.pki_dir.join("ca.crt").display()
    );
    socfed_runtime::outln!(
        "  sign in as {OPERATOR} (one use, valid until {}; `sirt-hub login` makes another): {}",
        socfed_runtime::cli::format_millis(link.expires_at_ms),
        link.url
    );
    socfed_runtime::outln!(
        "SOC consoles (one per site; sign in as {OPERATOR}, SOC manager there; one use each, `site-agent login` makes another):"
    );
    for (site, console) in consoles {
        socfed_runtime::outln!("  {site}: {}", console.url);
    }
    let metrics: Vec<String> = std::iter::once(("hub", layout.hub.admin))
        .chain(layout.agents.iter().map(|a| (a.site, a.at.admin)))
        .map(|(who, at)| format!("http://{at}/metrics ({who})"))
        .collect();
    socfed_runtime::outln!("metrics: {}", metrics.join(", "));
    socfed_runtime::outln!(
        "\n{OPERATOR} is CISO at the hub and SOC manager at every site. In another shell:\n"
    );
    socfed_runtime::outln!(
        "  export SOCFED_CA={} SOCFED_CERT={} SOCFED_KEY={}",
        layout.operator.ca.display(),
        layout.operator.cert.display(),
        layout.operator.key.display()
    );
    let commands = [
        format!("{exe} incidents list --hub {hub}"),
        format!("{exe} incidents watch --hub {hub}"),
        format!("{exe} sites --hub {hub} --output json"),
        format!("{exe} incidents transition {incident} start-triage --hub {hub}"),
        format!(
            "{exe} incidents directive {incident} --sites paris,lyon --kind block_indicator --param indicator={PHISHING_DOMAIN} --hub {hub}   # the sites' playbook runs echo"
        ),
        format!(
            "{exe} incidents directive {incident} --sites paris --kind isolate_host --param host=paris-ws-042 --hub {hub}   # a dry-run playbook: recorded, not run"
        ),
        format!("{exe} incidents directives {incident} --hub {hub}"),
        format!(
            "{exe} hunt start --incident {incident} --sites all --lookback 1d --hub {hub}   # oslo holds an alert with the domain"
        ),
        format!("{exe} hunt list --hub {hub}"),
        format!("{exe} login --hub {hub}   # another dashboard sign-in link"),
        format!(
            "{agent} escalate --agent {oslo} --title \"Beacon to {PHISHING_DOMAIN}\" --severity high --indicator domain:{PHISHING_DOMAIN} --technique T1566.002"
        ),
        format!("{agent} status --agent {paris}"),
        format!("{agent} directives list --agent {paris}"),
        format!("{agent} login --agent {paris}   # another SOC console sign-in link (paris)"),
    ];
    for command in commands {
        socfed_runtime::outln!("  {command}");
    }
    socfed_runtime::outln!("\nlogs: {}/logs", dir.display());
    Ok(())
}
