//! A standalone hunt's events follow the incident it is later attached to: once the hunt is
//! attached to a TLP:RED incident, its `hunt_hit` events (made before the attach, naming no
//! incident) are shown on `/api/v1/events` only to those who may read that incident, and the
//! hub's webhooks withhold them. Real in-process hub and agent over mutual TLS.

use socfed_proto::pb;
use socfed_tests::{api, clients, eventually, fixture::Org};
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";
const WAIT: Duration = Duration::from_secs(20);

/// The kinds `reader` is streamed from the start up to the first event about `until`.
async fn kinds_until(
    reader: &reqwest::Client,
    base: &str,
    until: &str,
) -> anyhow::Result<Vec<String>> {
    let response = reader.get(format!("{base}/events?since=0")).send().await?;
    anyhow::ensure!(response.status().as_u16() == 200, "the stream opens");
    let mut stream = api::SseReader::new(response);
    let mut kinds = Vec::new();
    loop {
        let event = stream
            .next(WAIT)
            .await
            .map_err(|e| anyhow::anyhow!("{e} after {kinds:?}"))?;
        kinds.push(event.event.clone());
        if event.event == "incident_changed" && event.data.contains(until) {
            return Ok(kinds);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standalone_hunts_events_follow_the_red_incident_it_is_attached_to() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let base = api::base(&hub)?;
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Secret"))
        .await?;
    org.escalate_once(hub.addr, "paris", clients::report("p-2", "Ordinary"))
        .await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    let all = clients::all_incidents(&mut ines).await?;
    let id_of = |title: &str| {
        all.iter()
            .find(|i| i.title.contains(title))
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("{title} stored: {all:?}"))
    };
    let (red, ordinary) = (id_of("Secret")?, id_of("Ordinary")?);
    clients::transition(&mut ines, &red, pb::LifecycleCommand::SetTlp, "red").await?;

    // A hunt started on its own, with a hit at paris: its event names no incident.
    let paris = org.agent("paris", hub.addr, "").await?;
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let line = format!(
        r#"{{"observed_at": "{now}", "product": "EDR", "rule_id": "C2-1", "rule_name": "beacon", "severity": "high", "hosts": ["ws-1"], "indicators": ["ip:203.0.113.7"]}}"#
    );
    clients::submit_alerts(paris.local_addr, &org.pki, vec![line]).await?;
    let mut response = org.response(hub.addr, "ines")?;
    let hunt = response
        .start_hunt(pb::StartHuntRequest {
            indicators: vec!["ip:203.0.113.7".into()],
            sites: vec!["paris".into()],
            lookback_s: 86_400,
            ..Default::default()
        })
        .await?
        .into_inner();
    eventually("the hunt's hit", WAIT, || {
        let mut response = response.clone();
        let id = hunt.hunt_id.clone();
        async move {
            let hunt = response
                .get_hunt(pb::GetHuntRequest { hunt_id: id })
                .await
                .ok()?
                .into_inner();
            hunt.sites.iter().any(|s| s.hit_count > 0).then_some(())
        }
    })
    .await?;
    response
        .attach_hunt(pb::AttachHuntRequest {
            hunt_id: hunt.hunt_id.clone(),
            incident_id: red.clone(),
        })
        .await?;
    // An event everyone may see, after which the stream is read no further.
    clients::transition(&mut ines, &ordinary, pb::LifecycleCommand::SetTlp, "green").await?;

    let as_ines = api::with_certificate(&org.pki, "ines")?;
    let seen = kinds_until(&as_ines, &base, &ordinary).await?;
    assert!(
        seen.iter().any(|k| k == "hunt_hit"),
        "ines reads the red incident: {seen:?}"
    );
    let zoe = api::with_certificate(&org.pki, "zoe")?;
    let seen = kinds_until(&zoe, &base, &ordinary).await?;
    assert!(
        !seen.iter().any(|k| k == "hunt_hit"),
        "zoe may not: {seen:?}"
    );
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
