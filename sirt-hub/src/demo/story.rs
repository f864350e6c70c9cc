//! The demo's story, told through the APIs a site's people use: incidents raised at the sites
//! (one phishing campaign at two of them), an alert at Oslo that nobody escalated (a hunt
//! finds it), and the cross-site status printed from the hub.

use super::procs::retry;
use crate::cli::render;
use socfed_proto::pb::{
    self, operator_client::OperatorClient, site_local_client::SiteLocalClient,
    site_soc_client::SiteSocClient,
};
use std::time::Duration;
use tonic::transport::Channel;

/// The campaign's domain: on the incidents of two sites, and in an alert at a third.
pub const PHISHING_DOMAIN: &str = "login-m1crosoft.example";

fn incident(
    title: &str,
    severity: pb::Severity,
    technique: &str,
    indicator: (pb::IndicatorKind, &str),
) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: title.into(),
        severity: severity as i32,
        techniques: vec![technique.into()],
        indicators: vec![pb::Indicator {
            kind: indicator.0 as i32,
            value: indicator.1.into(),
        }],
        ..Default::default()
    }
}

/// (site index, incident) in the order the story tells them.
fn incidents() -> Vec<(usize, pb::RaiseIncidentRequest)> {
    use pb::IndicatorKind::{Domain, Email, Ipv4, Sha256};
    use pb::Severity::{Critical, High, Medium};
    vec![
        (
            0,
            incident(
                "Credential phishing wave against finance",
                High,
                "T1566.002",
                (Domain, PHISHING_DOMAIN),
            ),
        ),
        (
            1,
            incident(
                "Phishing link clicked by 4 users",
                Critical,
                "T1566.002",
                (Domain, "LOGIN-M1CROSOFT.example"),
            ),
        ),
        (
            2,
            incident(
                "Encoded PowerShell on build server",
                Medium,
                "T1059.001",
                (
                    Sha256,
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                ),
            ),
        ),
        (
            0,
            incident(
                "RDP brute force from known scanner",
                Medium,
                "T1110.001",
                (Ipv4, "203.0.113.45"),
            ),
        ),
        (
            1,
            incident(
                "Impossible-travel sign-in for the CFO",
                High,
                "T1078.004",
                (Email, "cfo@corp.example"),
            ),
        ),
        (
            2,
            incident(
                "Mass file renames on the NAS",
                Critical,
                "T1486",
                (Ipv4, "198.51.100.23"),
            ),
        ),
    ]
}

/// Raises the story's incidents at `sites` (local API clients, in `setup::SITES` order) and
/// waits for the hub to hold every escalation; returns the hub's incidents.
pub async fn raise_incidents(
    hub: &OperatorClient<Channel>,
    sites: &[(&str, SiteLocalClient<Channel>)],
) -> anyhow::Result<(usize, Vec<pb::HubIncident>)> {
    let raised = incidents();
    for (done, (index, request)) in raised.iter().enumerate() {
        let (site, local) = &sites[*index];
        let response = local
            .clone()
            .raise_incident(request.clone())
            .await
            .map_err(|s| anyhow::anyhow!("raising at {site}: {}", s.message()))?;
        socfed_runtime::outln!(
            "  {site:<6} raised {} \"{}\"",
            response.into_inner().local_incident_id,
            request.title
        );
        // Sites deliver independently; waiting for each keeps the story (and its output) in
        // the order it was told.
        wait_for_sightings(hub, done + 1).await?;
    }
    Ok((raised.len(), wait_for_sightings(hub, raised.len()).await?))
}

/// One alert at `site` from its web proxy: a workstation reached the phishing domain. It
/// stays an alert group in the site's queue (no incident, nothing escalated), where a hunt
/// for the campaign's indicators finds it.
pub async fn proxy_alert(site: &str, soc: SiteSocClient<Channel>) -> anyhow::Result<()> {
    let observed = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let line = serde_json::json!({
        "observed_at": observed.to_string(),
        "product": "Web proxy",
        "rule_id": "proxy-newly-seen-domain",
        "rule_name": "Request to a newly seen domain",
        "severity": "medium",
        "hosts": [format!("{site}-ws-017")],
        "indicators": [format!("domain:{PHISHING_DOMAIN}")],
    });
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: vec![pb::RawLine {
            line_no: 1,
            text: line.to_string(),
        }],
    };
    let summary = soc
        .clone()
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await
        .map_err(|s| anyhow::anyhow!("alert intake at {site}: {}", s.message()))?
        .into_inner();
    anyhow::ensure!(
        summary.accepted == 1,
        "alert intake at {site} did not take the proxy alert in: {summary:?}"
    );
    socfed_runtime::outln!(
        "  {site:<6} took in 1 alert: {site}-ws-017 requested {PHISHING_DOMAIN} (not escalated)"
    );
    Ok(())
}

/// Prints the hub's incidents, the one seen at several sites in detail, and the sites.
pub async fn print_status(
    hub: &OperatorClient<Channel>,
    escalations: usize,
    incidents: &[pb::HubIncident],
) -> anyhow::Result<()> {
    let sites = retry("sites", Duration::from_secs(10), || {
        let mut hub = hub.clone();
        async move {
            Ok(hub
                .list_sites(pb::ListSitesRequest {})
                .await?
                .into_inner()
                .sites)
        }
    })
    .await?;
    socfed_runtime::outln!(
        "\ncross-site incidents at the hub ({escalations} escalations, {} incidents):",
        incidents.len()
    );
    socfed_runtime::outln!("{}", render::incidents_table(incidents));
    if let Some(shared) = shared(incidents) {
        socfed_runtime::outln!(
            "\none threat, {} sites:\n{}",
            shared.sightings.len(),
            render::incident_detail(shared)
        );
    }
    socfed_runtime::outln!("\nsites:\n{}", render::sites_table(&sites));
    Ok(())
}

/// The incident seen at more than one site (the phishing campaign).
pub fn shared(incidents: &[pb::HubIncident]) -> Option<&pb::HubIncident> {
    incidents.iter().find(|i| i.sightings.len() > 1)
}

/// Polls the hub until it holds `expected` sightings in all; returns the incidents.
async fn wait_for_sightings(
    hub: &OperatorClient<Channel>,
    expected: usize,
) -> anyhow::Result<Vec<pb::HubIncident>> {
    retry(
        "the hub did not receive every escalation in time",
        Duration::from_secs(30),
        || {
            let mut hub = hub.clone();
            async move {
                let list = hub
                    .list_incidents(pb::ListIncidentsRequest::default())
                    .await?
                    .into_inner()
                    .incidents;
                let sightings: usize = list.iter().map(|i| i.sightings.len()).sum();
                if sightings == expected {
                    Ok(list)
                } else {
                    Err(tonic::Status::unavailable("not yet"))
                }
            }
        },
    )
    .await
}
