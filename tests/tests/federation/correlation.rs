//! Cross-site correlation through real agents: the same threat at two sites is one hub
//! incident with one sighting per site; operators watching see it live.

use futures_util::StreamExt;
use socfed_proto::pb;
use socfed_proto::pb::IncidentStatus as St;
use socfed_proto::pb::Severity as Sev;
use socfed_tests::clients;
use socfed_tests::listing::{assert_filters_agree, ids};
use socfed_tests::{eventually, fixture::Org};
use std::time::Duration;

fn beacon(title: &str, domain: &str, severity: pb::Severity) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: title.into(),
        severity: severity as i32,
        techniques: vec!["T1071.001".into()],
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: domain.into(),
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn two_sites_escalating_the_same_threat_make_one_incident_with_two_sightings()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon", "oslo"], "").await?;
    let agents = [
        org.agent("paris", hub.addr, "").await?,
        org.agent("lyon", hub.addr, "").await?,
        org.agent("oslo", hub.addr, "").await?,
    ];
    let operator = org.pki.operator("ir-lead")?;
    let mut op = clients::operator(hub.addr, &operator, &org.pki.domain)?;
    let mut watch = op
        .watch_incidents(pb::WatchIncidentsRequest {})
        .await?
        .into_inner();

    let local = |i: usize| clients::local(agents[i].local_addr, &operator, &org.pki.domain);
    local(0)?
        .raise_incident(beacon(
            "C2 beacon to update-check",
            "Update-Check.example.",
            pb::Severity::Medium,
        ))
        .await?;
    local(1)?
        .raise_incident(beacon(
            "beaconing host in lyon",
            "update-check.example",
            pb::Severity::Critical,
        ))
        .await?;
    // Same technique, different indicator: a different threat.
    local(2)?
        .raise_incident(beacon(
            "unrelated beacon",
            "other.example",
            pb::Severity::Low,
        ))
        .await?;

    let incidents = eventually("three escalations to land", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move {
            let incidents = clients::all_incidents(&mut op).await.ok()?;
            let sightings: usize = incidents.iter().map(|i| i.sightings.len()).sum();
            (sightings == 3).then_some(incidents)
        }
    })
    .await?;
    assert_eq!(incidents.len(), 2, "{incidents:#?}");
    let shared = incidents
        .iter()
        .find(|i| i.sightings.len() == 2)
        .expect("one incident seen at two sites");
    let mut sites: Vec<_> = shared
        .sightings
        .iter()
        .map(|s| s.site_id.as_str())
        .collect();
    sites.sort();
    assert_eq!(sites, ["lyon", "paris"]);
    assert_eq!(
        shared.severity,
        pb::Severity::Critical as i32,
        "the incident takes the highest site severity"
    );
    let joined = shared
        .sightings
        .iter()
        .find(|s| s.joined_because != "opened the incident")
        .expect("a joining sighting");
    assert!(
        joined
            .joined_because
            .contains("domain:update-check.example"),
        "{}",
        joined.joined_because
    );
    assert!(
        joined.joined_because.contains("T1071.001"),
        "{}",
        joined.joined_because
    );

    // The watcher saw the incident created, then updated with the second site.
    let mut seen_two_sites = false;
    while !seen_two_sites {
        let event = tokio::time::timeout(Duration::from_secs(10), watch.next())
            .await?
            .expect("watch open")?;
        seen_two_sites = event
            .incident
            .is_some_and(|i| i.id == shared.id && i.sightings.len() == 2);
    }

    let mut by_site = op
        .list_incidents(pb::ListIncidentsRequest {
            site_id: "lyon".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .incidents;
    assert_eq!(by_site.len(), 1);
    assert_eq!(by_site.remove(0).id, shared.id);
    let critical = op
        .list_incidents(pb::ListIncidentsRequest {
            min_severity: pb::Severity::High as i32,
            ..Default::default()
        })
        .await?
        .into_inner()
        .incidents;
    assert_eq!(critical.len(), 1);
    // Paris reported medium; the incident it is listed under was raised to critical by Lyon.
    assert_eq!(
        ids(&mut op, "paris", St::New, Sev::Critical, 10).await?,
        vec![shared.id.clone()]
    );
    assert!(
        ids(&mut op, "oslo", St::Unspecified, Sev::Medium, 10)
            .await?
            .is_empty()
    );
    assert_filters_agree(&mut op).await?;

    for agent in agents {
        agent.stop().await?;
    }
    hub.stop().await?;
    Ok(())
}

fn wire(local: &str, technique: &str, domains: &[&str]) -> pb::IncidentReport {
    pb::IncidentReport {
        local_incident_id: local.into(),
        revision: 1,
        title: format!("report {local}"),
        severity: pb::Severity::High as i32,
        techniques: vec![technique.into()],
        indicators: domains
            .iter()
            .map(|d| pb::Indicator {
                kind: pb::IndicatorKind::Domain as i32,
                value: d.to_string(),
            })
            .collect(),
        ..Default::default()
    }
}

/// A labelled set: paris and oslo share nothing with each other, lyon shares one indicator
/// with each (one campaign, three sites); rome is similar (same technique) but unrelated.
#[tokio::test]
async fn correlation_does_not_depend_on_arrival_order_and_never_merges_the_unrelated()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let reports = [
        ("paris", wire("p-1", "T1071.001", &["c2-a.bad.example"])),
        (
            "lyon",
            wire(
                "l-1",
                "T1071.001",
                &["c2-a.bad.example", "c2-b.bad.example"],
            ),
        ),
        ("oslo", wire("o-1", "T1071.001", &["c2-b.bad.example"])),
        ("rome", wire("r-1", "T1071.001", &["cdn.good.example"])),
    ];
    let orders: [[usize; 4]; 6] = [
        [0, 1, 2, 3],
        [0, 2, 1, 3],
        [1, 0, 2, 3],
        [1, 2, 0, 3],
        [2, 0, 1, 3],
        [3, 2, 0, 1],
    ];
    for order in orders {
        let org = Org::new()?;
        let hub = org.hub(&["paris", "lyon", "oslo", "rome"], "").await?;
        for index in order {
            let (site, report) = &reports[index];
            org.escalate_once(hub.addr, site, report.clone()).await?;
        }
        let mut op = org.operator(hub.addr, "auditor")?;
        let incidents = clients::all_incidents(&mut op).await?;
        let open: Vec<&pb::HubIncident> = incidents
            .iter()
            .filter(|i| i.status != pb::IncidentStatus::Closed as i32)
            .collect();
        let mut groups: Vec<Vec<String>> = open
            .iter()
            .map(|i| {
                let mut sites: Vec<String> =
                    i.sightings.iter().map(|s| s.site_id.clone()).collect();
                sites.sort();
                sites
            })
            .collect();
        groups.sort();
        assert_eq!(
            groups,
            [vec!["lyon", "oslo", "paris"], vec!["rome"]],
            "order {order:?}"
        );
        // The listings agree with the records after every automatic merge.
        let campaign = open
            .iter()
            .find(|i| i.sightings.len() == 3)
            .map(|i| i.id.clone())
            .expect("the campaign incident");
        assert_eq!(
            ids(&mut op, "oslo", St::New, Sev::High, 10).await?,
            vec![campaign.clone()],
            "order {order:?}"
        );
        assert_eq!(
            ids(&mut op, "", St::Closed, Sev::Unspecified, 10)
                .await?
                .len(),
            incidents.len() - 2,
            "order {order:?}"
        );
        assert_filters_agree(&mut op).await?;
        // Any incident merged away says where it went.
        for closed in incidents
            .iter()
            .filter(|i| i.status == pb::IncidentStatus::Closed as i32)
        {
            assert!(
                closed.resolution.starts_with("duplicate of "),
                "{}",
                closed.resolution
            );
        }
        hub.stop().await?;
    }
    Ok(())
}
