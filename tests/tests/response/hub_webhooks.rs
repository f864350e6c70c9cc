//! The hub's outbound event webhooks over its event log, with real site agents: an incident
//! raised at a site is `incident-created` at the receiver, a transition `incident-changed`, a
//! directive the site refuses `directive-failed`. The receiver (HTTPS, every signature and
//! the auth header verified) refuses the first attempts and, later, everything while the hub
//! restarts: each event id is still taken exactly once and in order, the bodies' `data` is
//! what `/api/v1/events` streams for the same sequence, and nothing is lost across the
//! restart. A TLP:RED incident's events are never sent.

use socfed_proto::pb;
use socfed_tests::webhook_receiver::{Answer, Receiver};
use socfed_tests::{api, clients, eventually, fixture::Org, free_port};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "9a0b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccddeeff";
const AUTH: &str = "Bearer soar-token-41f2";
const WAIT: Duration = Duration::from_secs(30);
const KINDS: &str = r#"["incident-created", "incident-changed", "directive-failed", "hunt-hit"]"#;

/// The hub's extra config: an IR lead, the dashboard (for the event stream), one sink.
fn hub_extra(dir: &Path, ca: &Path, receiver: &Receiver) -> anyhow::Result<String> {
    let (secret, auth) = (dir.join("soar-hmac"), dir.join("soar-auth"));
    std::fs::write(&secret, format!("{SECRET}\n"))?;
    std::fs::write(&auth, format!("{AUTH}\n"))?;
    Ok(format!(
        "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n\
         [[webhooks]]\nname = \"soar\"\nurl = \"{}\"\nevents = {KINDS}\nsecret_file = {secret:?}\n\
         ca_file = {ca:?}\nheaders = {{ Authorization = {auth:?} }}\ntimeout = \"2s\"\n\
         max_age = \"1h\"\nbackoff_initial = \"50ms\"\nbackoff_max = \"200ms\"\n",
        receiver.url(),
    ))
}

/// Raises an incident at `agent` marked `tlp`; its hub id once the IR lead sees it at the hub
/// (she may read a RED incident that has no lead yet).
async fn raise(
    org: &Org,
    agent: SocketAddr,
    hub: SocketAddr,
    title: &str,
    tlp: pb::Tlp,
) -> anyhow::Result<String> {
    let request = pb::RaiseIncidentRequest {
        title: title.into(),
        severity: pb::Severity::High as i32,
        tlp: tlp as i32,
        ..Default::default()
    };
    clients::raise_and_find(agent, hub, &org.pki, request, "ines").await
}

async fn transition(
    org: &Org,
    hub: SocketAddr,
    id: &str,
    command: pb::LifecycleCommand,
    argument: &str,
) -> anyhow::Result<()> {
    clients::transition(&mut org.operator(hub, "ines")?, id, command, argument).await
}

/// Issues a directive no playbook at `site` runs and waits until the site has refused it.
async fn refused_directive(
    org: &Org,
    hub: SocketAddr,
    incident: &str,
    site: &str,
) -> anyhow::Result<()> {
    let response = org.response(hub, "ines")?;
    response
        .clone()
        .issue_directive(pb::IssueDirectiveRequest {
            incident_id: incident.into(),
            sites: vec![site.into()],
            kind: "wipe_disk".into(),
            ..Default::default()
        })
        .await?;
    eventually("the site to refuse the directive", WAIT, || {
        let mut response = response.clone();
        let request = pb::ListDirectivesRequest {
            incident_id: incident.into(),
            ..Default::default()
        };
        async move {
            let list = response.list_directives(request).await.ok()?.into_inner();
            list.directives
                .into_iter()
                .any(|d| d.state == pb::DirectiveState::Refused as i32)
                .then_some(())
        }
    })
    .await
}

/// The hub's event log from the start to `last` over `/api/v1/events`, as the IR lead sees it
/// (RED incidents included): `(seq, incident, the JSON of the event)`.
async fn logged(
    org: &Org,
    hub: &sirt_hub::app::RunningHub,
    last: u64,
) -> anyhow::Result<Vec<(u64, String, serde_json::Value)>> {
    let client = api::with_certificate(&org.pki, "ines")?;
    let response = client
        .get(format!("{}/events?since=0", api::base(hub)?))
        .send()
        .await?;
    let mut stream = api::SseReader::new(response);
    let mut out = Vec::new();
    loop {
        let event = stream.next(WAIT).await?;
        let seq = event.id.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&event.data)?;
        let incident = json["incident"].as_str().unwrap_or_default().to_string();
        out.push((seq, incident, json));
        if seq >= last {
            return Ok(out);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_events_reach_the_receiver_once_in_order_across_a_restart_and_red_stays_in()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let receiver = Receiver::start(
        &org.pki.hub(),
        SECRET.as_bytes(),
        AUTH,
        vec![Answer::Status(500), Answer::Status(500)],
    )
    .await?;
    let extra = hub_extra(org.dir(), &org.pki.ca(), &receiver)?;
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let sites = ["paris", "lyon"];
    let hub = org.hub_on(listen, &sites, &extra).await?;
    let paris = org.agent("paris", listen, "").await?;
    let lyon = org.agent("lyon", listen, "").await?;

    // An escalation creates an incident: taken after two refusals.
    let open = raise(&org, paris.local_addr, listen, "beaconing", pb::Tlp::Amber).await?;
    eventually("incident-created taken", WAIT, || async {
        (!receiver.taken_ids().is_empty()).then_some(())
    })
    .await?;
    assert!(receiver.attempts() >= 3, "{}", receiver.attempts());

    // Everything refused from now on; a transition and a refused directive happen, and the
    // hub stops while they wait.
    receiver.rescript(vec![Answer::Status(500); 10_000]);
    transition(&org, listen, &open, pb::LifecycleCommand::StartTriage, "").await?;
    refused_directive(&org, listen, &open, "paris").await?;
    let attempts = receiver.attempts();
    eventually("deliveries refused", WAIT, || async {
        (receiver.attempts() >= attempts + 2).then_some(())
    })
    .await?;
    let before_stop = receiver.taken_ids();
    hub.stop().await?;
    receiver.clear_script();

    // Restarted on the same data and address: the sites reconnect; a RED incident is raised
    // and changed, then an amber change follows as the marker of the end.
    let hub = org.hub_on(listen, &sites, &extra).await?;
    let red = raise(&org, lyon.local_addr, listen, "board member", pb::Tlp::Red).await?;
    transition(&org, listen, &red, pb::LifecycleCommand::StartTriage, "").await?;
    transition(
        &org,
        listen,
        &open,
        pb::LifecycleCommand::SetSeverity,
        "critical",
    )
    .await?;
    let last = eventually("the severity change taken", WAIT, || async {
        receiver.taken().into_iter().find_map(|(id, body)| {
            (body["data"]["data"]["severity"] == "critical")
                .then(|| id.parse::<u64>().ok())
                .flatten()
        })
    })
    .await?;

    // Every event of the log but the RED incident's, each once, in order, as the API
    // streams it.
    let log = logged(&org, &hub, last).await?;
    assert!(
        log.iter()
            .filter(|(_, incident, _)| *incident == red)
            .count()
            >= 2,
        "{log:?}"
    );
    let expected: Vec<(String, serde_json::Value)> = log
        .into_iter()
        .filter(|(_, incident, _)| *incident != red)
        .map(|(seq, _, json)| (seq.to_string(), json))
        .collect();
    let taken = receiver.taken();
    let ids: Vec<&str> = taken.iter().map(|(id, _)| id.as_str()).collect();
    let wanted: Vec<&str> = expected.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, wanted);
    // The refused directive happened while everything was refused: it was taken only after
    // the restart.
    let failed_id = taken
        .iter()
        .find(|(_, b)| b["kind"] == "directive-failed")
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    assert!(!before_stop.contains(&failed_id), "{before_stop:?}");
    for ((id, body), (_, api)) in taken.iter().zip(&expected) {
        assert_eq!(body["id"], id.as_str());
        assert_eq!(&body["data"], api, "{body}");
        let kind = api["kind"].as_str().unwrap_or_default().replace('_', "-");
        assert_eq!(body["kind"], kind.as_str());
        assert_ne!(body["data"]["data"]["tlp"], "red", "{body}");
    }
    let kinds: Vec<&str> = taken
        .iter()
        .filter_map(|(_, body)| body["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"incident-created"));
    assert!(kinds.contains(&"directive-failed"), "{kinds:?}");
    assert!(
        taken.iter().any(|(_, b)| b["kind"] == "incident-changed"
            && b["data"]["data"]["phase"] == "triage"),
        "{taken:?}"
    );
    let failed = taken
        .iter()
        .find(|(_, b)| b["kind"] == "directive-failed")
        .map(|(_, b)| b["data"]["data"].clone())
        .unwrap_or_default();
    assert_eq!(
        (&failed["directive_kind"], &failed["state"], &failed["site"]),
        (
            &serde_json::json!("wipe_disk"),
            &serde_json::json!("refused"),
            &serde_json::json!("paris")
        )
    );
    assert_eq!(receiver.refused(), Vec::<String>::new());

    lyon.stop().await?;
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
