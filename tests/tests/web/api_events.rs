//! The hub event log over `/api/v1/events` (SSE) and `sirt-hub incidents watch --since`: a
//! client that disconnects and resumes with `Last-Event-ID` gets every event that became
//! durable meanwhile (escalations from a site's real stream, an operator's transitions),
//! none twice and in order; the CLI binary resumes the same way with `--since`. The route
//! list and the OpenAPI document agree over HTTP as in the unit test.

use socfed_proto::pb;
use socfed_tests::{api, clients, fixture::Org};
use std::io::BufRead;
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";
const WAIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_resumes_after_a_disconnect_with_nothing_missed_or_repeated()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let base = api::base(&hub)?;
    let client = api::with_certificate(&org.pki, "ines")?;

    // The document lists every route; each documented one answers (401 without a
    // credential, never 404 or 405).
    let doc: serde_json::Value = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    let anonymous = socfed_tests::web::https(&org.pki)?;
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        if path.ends_with("openapi.json") {
            continue;
        }
        let url = format!(
            "https://{}{}",
            base.trim_start_matches("https://")
                .split('/')
                .next()
                .unwrap_or_default(),
            path.replace("{id}", "01J0000000000000000000000A")
        );
        for method in item.as_object().cloned().unwrap_or_default().keys() {
            let request = match method.as_str() {
                "post" => anonymous.post(&url).json(&serde_json::json!({})),
                "put" => anonymous.put(&url).json(&serde_json::json!({})),
                "delete" => anonymous.delete(&url),
                _ => anonymous.get(&url),
            };
            let status = request.send().await?.status().as_u16();
            assert_eq!(status, 401, "{method} {path}");
        }
    }

    // From the start: the first incident's creation.
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Beacon"))
        .await?;
    let response = client.get(format!("{base}/events?since=0")).send().await?;
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = api::SseReader::new(response);
    let first = stream.next(WAIT).await?;
    assert_eq!(
        (first.id, first.event.as_str()),
        (Some(1), "incident_created")
    );
    let created: serde_json::Value = serde_json::from_str(&first.data)?;
    let id = created["incident"].as_str().unwrap_or_default().to_string();
    assert_eq!(created["seq"], 1);
    drop(stream);

    // While nobody listens: an operator's two changes and another site's escalation.
    let mut grpc = org.operator(hub.addr, "ines")?;
    clients::transition(&mut grpc, &id, pb::LifecycleCommand::StartTriage, "").await?;
    clients::transition(
        &mut grpc,
        &id,
        pb::LifecycleCommand::SetSeverity,
        "critical",
    )
    .await?;
    org.escalate_once(hub.addr, "lyon", clients::report("l-9", "Other beacon"))
        .await?;

    let response = client
        .get(format!("{base}/events"))
        .header("last-event-id", "1")
        .send()
        .await?;
    let mut stream = api::SseReader::new(response);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let e = stream.next(WAIT).await?;
        seen.push((e.id, e.event));
    }
    assert_eq!(
        seen.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        vec![Some(2), Some(3), Some(4)],
        "{seen:?}"
    );
    assert_eq!(seen[0].1, "incident_changed");
    assert_eq!(seen[1].1, "incident_changed");
    // And then live: a change made now arrives next, once.
    clients::transition(&mut grpc, &id, pb::LifecycleCommand::Contain, "").await?;
    let live = stream.next(WAIT).await?;
    assert_eq!(
        (live.id, live.event.as_str()),
        (Some(5), "incident_changed")
    );
    drop(stream);

    // The CLI binary resumes after 2 and prints 3, 4, 5 with their sequences.
    let cli = org.hub_cli(hub.addr, "ines")?;
    let mut child = cli.spawn(&["incidents", "watch", "--since", "2", "-o", "json"])?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("piped stdout"))?;
    let lines = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .take(3)
            .collect::<Result<Vec<_>, _>>()
    });
    let lines = tokio::time::timeout(WAIT, lines).await;
    child.kill()?;
    child.wait()?;
    let lines = lines.map_err(|_| anyhow::anyhow!("watch printed nothing"))???;
    let seqs: Vec<u64> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).map(|v| v["seq"].as_u64().unwrap_or(0))
        })
        .collect::<Result<_, _>>()?;
    assert_eq!(seqs, vec![3, 4, 5], "{lines:?}");
    hub.stop().await?;
    Ok(())
}

/// Events about a TLP:RED incident reach only those who may read it: an operator outside
/// it resumes from the start and gets the next incident's event first, nothing of the red
/// one (not even that it exists).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_a_red_incident_reach_only_its_readers() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let base = api::base(&hub)?;
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Secret"))
        .await?;
    let mut grpc = org.operator(hub.addr, "ines")?;
    let red = clients::all_incidents(&mut grpc)
        .await?
        .first()
        .map(|i| i.id.clone())
        .ok_or_else(|| anyhow::anyhow!("stored"))?;
    clients::transition(&mut grpc, &red, pb::LifecycleCommand::SetTlp, "red").await?;
    org.escalate_once(hub.addr, "lyon", clients::report("l-1", "Ordinary"))
        .await?;

    let zoe = api::with_certificate(&org.pki, "zoe")?;
    let response = zoe.get(format!("{base}/events?since=0")).send().await?;
    let mut stream = api::SseReader::new(response);
    let first = stream.next(WAIT).await?;
    assert_eq!(
        (first.id, first.event.as_str()),
        (Some(3), "incident_created")
    );
    assert!(!first.data.contains(&red), "{first:?}");
    drop(stream);
    hub.stop().await?;
    Ok(())
}

/// `incidents watch` outlives a hub restart: the stream drops, the binary reconnects with
/// backoff and resumes after the last event it printed, so the change made after the restart
/// is printed once and nothing before it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_watch_reconnects_and_resumes_after_a_hub_restart() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let addr = hub.addr;
    org.escalate_once(addr, "paris", clients::report("p-1", "Beacon"))
        .await?;
    let mut child =
        org.hub_cli(addr, "ines")?
            .spawn(&["incidents", "watch", "--since", "0", "-o", "json"])?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("piped stdout"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if line.map(|l| tx.send(l)).is_err() {
                break;
            }
        }
    });
    let seq_of = |line: String| -> anyhow::Result<u64> {
        let v: serde_json::Value = serde_json::from_str(&line)?;
        v["seq"]
            .as_u64()
            .ok_or_else(|| anyhow::anyhow!("no seq in {line}"))
    };
    let outcome = async {
        // Off the async workers: the hub under test runs on them.
        let first = tokio::task::block_in_place(|| rx.recv_timeout(WAIT))?;
        anyhow::ensure!(seq_of(first)? == 1, "the first event");
        let mut grpc = org.operator(addr, "ines")?;
        let id = clients::all_incidents(&mut grpc)
            .await?
            .first()
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("stored"))?;
        drop(grpc);
        hub.stop().await?;
        let hub = org.hub_on(addr, &["paris"], EXTRA).await?;
        let mut grpc = org.operator(addr, "ines")?;
        clients::transition(&mut grpc, &id, pb::LifecycleCommand::StartTriage, "").await?;
        let next = tokio::task::block_in_place(|| rx.recv_timeout(Duration::from_secs(40)))?;
        anyhow::ensure!(seq_of(next)? == 2, "resumed after 1");
        hub.stop().await?;
        Ok(())
    }
    .await;
    child.kill()?;
    child.wait()?;
    outcome
}

/// One credential holds a bounded number of event streams: past
/// `limits.max_watches_per_operator` the next is 429 naming the limit, another caller is not
/// affected, and a closed stream frees its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_caller() -> anyhow::Result<()> {
    let org = Org::new()?;
    let extra = format!("{EXTRA}[limits]\nmax_watches_per_operator = 2\n");
    let hub = org.hub(&["paris"], &extra).await?;
    let base = api::base(&hub)?;
    let zoe = api::with_certificate(&org.pki, "zoe")?;
    let open = |client: reqwest::Client| {
        let url = format!("{base}/events");
        async move { client.get(url).send().await }
    };
    let first = open(zoe.clone()).await?;
    let second = open(zoe.clone()).await?;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open(zoe.clone()).await?;
    assert_eq!(third.status().as_u16(), 429);
    let body = third.text().await?;
    assert!(body.contains("max_watches_per_operator"), "{body}");
    let ines = api::with_certificate(&org.pki, "ines")?;
    assert_eq!(open(ines).await?.status().as_u16(), 200, "another caller");
    drop(first);
    socfed_tests::eventually("a closed stream to free its slot", WAIT, || {
        let zoe = zoe.clone();
        async move {
            let r = open(zoe).await.ok()?;
            (r.status().as_u16() == 200).then_some(())
        }
    })
    .await?;
    drop(second);
    hub.stop().await?;
    Ok(())
}
