//! Checks the hub's filtered incident listings against its unfiltered one. The unfiltered
//! listing reads the incident records themselves; every filtered one (site, status, minimum
//! severity, and their combinations) is answered from the listing indexes, so agreement on
//! every combination, paged two at a time, shows the indexes are in step with the records.

use socfed_proto::pb;
use socfed_proto::pb::operator_client::OperatorClient;
use tonic::transport::Channel;

/// What `sirt-hub incidents list` would show for one filter: incident ids, newest first.
pub async fn ids(
    op: &mut OperatorClient<Channel>,
    site: &str,
    status: pb::IncidentStatus,
    min_severity: pb::Severity,
    page_size: u32,
) -> anyhow::Result<Vec<String>> {
    let mut request = pb::ListIncidentsRequest {
        site_id: site.into(),
        status: status as i32,
        min_severity: min_severity as i32,
        page_size,
        page_token: String::new(),
    };
    let mut out = Vec::new();
    loop {
        let page = op.list_incidents(request.clone()).await?.into_inner();
        out.extend(page.incidents.into_iter().map(|i| i.id));
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        request.page_token = page.next_page_token;
    }
}

/// Every combination of filters (each site seen in a sighting or none, each status or none,
/// each minimum severity or none) lists exactly the incidents of the unfiltered listing that
/// match it, in the same order. Returns the unfiltered listing.
pub async fn assert_filters_agree(
    op: &mut OperatorClient<Channel>,
) -> anyhow::Result<Vec<pb::HubIncident>> {
    let all = crate::clients::all_incidents(op).await?;
    let mut sites: Vec<String> = all
        .iter()
        .flat_map(|i| i.sightings.iter().map(|s| s.site_id.clone()))
        .collect();
    sites.sort();
    sites.dedup();
    sites.insert(0, String::new());
    let statuses = (0..=7).filter_map(|n| pb::IncidentStatus::try_from(n).ok());
    let statuses: Vec<pb::IncidentStatus> = statuses.collect();
    let severities: Vec<pb::Severity> = (0..=5)
        .filter_map(|n| pb::Severity::try_from(n).ok())
        .collect();
    for site in &sites {
        for &status in &statuses {
            for &severity in &severities {
                let expected: Vec<String> = all
                    .iter()
                    .filter(|i| site.is_empty() || i.sightings.iter().any(|s| &s.site_id == site))
                    .filter(|i| {
                        status == pb::IncidentStatus::Unspecified || i.status == status as i32
                    })
                    .filter(|i| i.severity >= severity as i32)
                    .map(|i| i.id.clone())
                    .collect();
                let got = ids(op, site, status, severity, 2).await?;
                anyhow::ensure!(
                    got == expected,
                    "listing --site {site:?} --status {status:?} --severity {severity:?}: got {got:?}, expected {expected:?}"
                );
            }
        }
    }
    Ok(all)
}
