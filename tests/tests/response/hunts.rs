//! Threat hunts across three sites: sweeps go out over the federation stream, agents search
//! their stored alerts through the indicator index and watch new ones, and the hub rolls up
//! per-site progress and hits. In-process hub and agents over real mutual TLS.

use socfed_proto::pb::{self, response_client::ResponseClient};
use socfed_tests::clients::submit_alerts as submit;
use socfed_tests::{eventually, fixture::Org};
use std::collections::HashMap;
use std::time::Duration;
use tonic::transport::Channel;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

fn alert(rule: &str, host: &str, indicator: &str) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    format!(
        r#"{{"observed_at": "{now}", "product": "EDR", "rule_id": "{rule}", "rule_name": "rule {rule}", "severity": "high", "hosts": ["{host}"], "indicators": ["{indicator}"]}}"#
    )
}

/// Per-site (progress, hit count) of a hunt.
async fn progress(
    client: &ResponseClient<Channel>,
    id: &str,
) -> anyhow::Result<HashMap<String, (String, u64)>> {
    let hunt = client
        .clone()
        .get_hunt(pb::GetHuntRequest { hunt_id: id.into() })
        .await?
        .into_inner();
    Ok(hunt
        .sites
        .into_iter()
        .map(|s| (s.site_id, (s.progress, s.hit_count)))
        .collect())
}

async fn wait_for(
    client: &ResponseClient<Channel>,
    id: &str,
    site: &str,
    wanted: (&str, u64),
) -> anyhow::Result<()> {
    eventually(
        &format!("{site} to be {wanted:?} in hunt {id}"),
        Duration::from_secs(20),
        || {
            let client = client.clone();
            async move {
                let now = progress(&client, id).await.ok()?;
                (now.get(site).map(|(p, n)| (p.as_str(), *n)) == Some(wanted)).then_some(())
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunt_across_three_sites_rolls_up_exact_progress_and_hits() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon", "berlin"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    // Berlin is offline when the hunt starts.
    submit(
        paris.local_addr,
        &org.pki,
        vec![
            alert("C2-1", "ws-1", "ip:203.0.113.7"),
            alert("C2-1", "ws-1", "ip:203.0.113.7"),
            alert("PHISH", "ws-2", "domain:unrelated.example"),
        ],
    )
    .await?;
    submit(
        lyon.local_addr,
        &org.pki,
        vec![alert("C2-1", "ws-9", "domain:other.example")],
    )
    .await?;

    let ines = org.response(hub.addr, "ines")?;
    let hunt = ines
        .clone()
        .start_hunt(pb::StartHuntRequest {
            indicators: vec!["ip:203.0.113.7".into()],
            sites: vec!["all".into()],
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(hunt.sites.len(), 3);
    wait_for(&ines, &hunt.hunt_id, "paris", ("done", 1)).await?;
    wait_for(&ines, &hunt.hunt_id, "lyon", ("done", 0)).await?;
    let now = progress(&ines, &hunt.hunt_id).await?;
    assert_eq!(now["berlin"], ("offline".to_string(), 0));

    let full = ines
        .clone()
        .get_hunt(pb::GetHuntRequest {
            hunt_id: hunt.hunt_id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        full.total_hits, 1,
        "two alerts folded into one group: one hit"
    );
    let paris_hits = &full
        .sites
        .iter()
        .find(|s| s.site_id == "paris")
        .expect("paris")
        .hits;
    assert_eq!(paris_hits[0].indicator, "ipv4:203.0.113.7");
    assert_eq!(paris_hits[0].alert_count, 2);
    // A listing states the counts and leaves the hits to `GetHunt`.
    let listed = ines
        .clone()
        .list_hunts(pb::ListHuntsRequest::default())
        .await?
        .into_inner();
    assert_eq!(listed.total, 1);
    let listed_paris = listed.hunts[0].sites.iter().find(|s| s.site_id == "paris");
    assert_eq!(
        listed_paris.map(|s| (s.hit_count, s.hits.len())),
        Some((1, 0))
    );
    assert_eq!(listed.hunts[0].total_hits, 1);

    // Berlin connects and completes the sweep it missed.
    let berlin = org.agent("berlin", hub.addr, "").await?;
    wait_for(&ines, &hunt.hunt_id, "berlin", ("done", 0)).await?;

    // A hunt with a duration also watches new alerts.
    let watch = ines
        .clone()
        .start_hunt(pb::StartHuntRequest {
            indicators: vec!["domain:late.example".into()],
            sites: vec!["lyon".into()],
            duration_s: 60,
            ..Default::default()
        })
        .await?
        .into_inner();
    wait_for(&ines, &watch.hunt_id, "lyon", ("running", 0)).await?;
    submit(
        lyon.local_addr,
        &org.pki,
        vec![alert("DNS", "ws-4", "domain:late.example")],
    )
    .await?;
    wait_for(&ines, &watch.hunt_id, "lyon", ("running", 1)).await?;

    // Attaching the first hunt to an incident opens a task where the hits are.
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "C2 beaconing")
        .await?;
    let attached = ines
        .clone()
        .attach_hunt(pb::AttachHuntRequest {
            hunt_id: hunt.hunt_id.clone(),
            incident_id: incident.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(attached.attached_to, incident);
    let tasks = ines
        .clone()
        .list_directives(pb::ListDirectivesRequest {
            incident_id: incident.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .directives;
    let tasks: Vec<_> = tasks.iter().filter(|d| !d.task_title.is_empty()).collect();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].site_id, "paris");
    let paris_local = org.site_response(paris.local_addr, "tester")?;
    eventually("the task to reach paris", Duration::from_secs(20), || {
        let mut paris_local = paris_local.clone();
        async move {
            let list = paris_local
                .list_directives(pb::ListSiteDirectivesRequest {
                    tasks_only: true,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .directives;
            (list.len() == 1).then_some(())
        }
    })
    .await?;
    let again = ines
        .clone()
        .attach_hunt(pb::AttachHuntRequest {
            hunt_id: hunt.hunt_id.clone(),
            incident_id: incident.clone(),
        })
        .await
        .expect_err("attached once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);

    for agent in [paris, lyon, berlin] {
        agent.stop().await?;
    }
    hub.stop().await?;
    Ok(())
}

/// An alert observed long ago (an old sample, or a source that delivers late) and ingested
/// now: a hunt on observed time does not find it within its lookback, one on received time
/// does; a watch on received time also counts a late-arriving alert. An unknown basis is
/// refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunt_on_received_time_finds_alerts_that_arrived_late() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let late = |indicator: &str| {
        alert("C2-OLD", "ws-1", indicator).replacen(
            &humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..4],
            "2019",
            1,
        )
    };
    submit(paris.local_addr, &org.pki, vec![late("ip:198.51.100.9")]).await?;
    let ines = org.response(hub.addr, "ines")?;
    let start = |basis: &str, ioc: &str, duration_s: u64| pb::StartHuntRequest {
        indicators: vec![ioc.into()],
        sites: vec!["paris".into()],
        lookback_s: 86_400,
        duration_s,
        time_basis: basis.into(),
        ..Default::default()
    };
    let observed = ines
        .clone()
        .start_hunt(start("", "ip:198.51.100.9", 0))
        .await?
        .into_inner();
    assert_eq!(observed.time_basis, "observed");
    wait_for(&ines, &observed.hunt_id, "paris", ("done", 0)).await?;
    let received = ines
        .clone()
        .start_hunt(start("received", "ip:198.51.100.9", 0))
        .await?
        .into_inner();
    assert_eq!(received.time_basis, "received");
    wait_for(&ines, &received.hunt_id, "paris", ("done", 1)).await?;

    // Watching: a late alert arriving during the watch counts on received time only.
    let watch_observed = ines
        .clone()
        .start_hunt(start("observed", "domain:late.example", 60))
        .await?
        .into_inner();
    let watch_received = ines
        .clone()
        .start_hunt(start("received", "domain:late.example", 60))
        .await?
        .into_inner();
    wait_for(&ines, &watch_observed.hunt_id, "paris", ("running", 0)).await?;
    wait_for(&ines, &watch_received.hunt_id, "paris", ("running", 0)).await?;
    submit(
        paris.local_addr,
        &org.pki,
        vec![late("domain:late.example")],
    )
    .await?;
    wait_for(&ines, &watch_received.hunt_id, "paris", ("running", 1)).await?;
    let now = progress(&ines, &watch_observed.hunt_id).await?;
    assert_eq!(now["paris"], ("running".to_string(), 0));

    let refused = ines
        .clone()
        .start_hunt(start("ingested", "ip:198.51.100.9", 0))
        .await
        .expect_err("an unknown time basis");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("ingested"), "{refused:?}");
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
