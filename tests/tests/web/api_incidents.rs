//! The incident list never names a TLP:RED incident to someone who may not read it, not even
//! as a page cursor: an operator outside the incident walks the whole list one row a page,
//! over `/api/v1/incidents` and over gRPC `ListIncidents`, and sees every other incident, in
//! order, and the red one's id nowhere.

use socfed_proto::pb;
use socfed_tests::{api, clients, fixture::Org};

const EXTRA: &str =
    "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_red_incident_is_never_a_cursor_of_the_incident_list() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let base = api::base(&hub)?;
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Older"))
        .await?;
    org.escalate_once(hub.addr, "lyon", clients::report("l-1", "Secret"))
        .await?;
    org.escalate_once(hub.addr, "paris", clients::report("p-2", "Newer"))
        .await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    let all = clients::all_incidents(&mut ines).await?;
    anyhow::ensure!(all.len() == 3, "three incidents: {all:?}");
    let red = all
        .iter()
        .find(|i| i.title.contains("Secret"))
        .map(|i| i.id.clone())
        .ok_or_else(|| anyhow::anyhow!("lyon's incident"))?;
    clients::transition(&mut ines, &red, pb::LifecycleCommand::SetTlp, "red").await?;
    let expected: Vec<String> = all
        .iter()
        .map(|i| i.id.clone())
        .filter(|id| *id != red)
        .collect();

    // HTTP, one row a page.
    let zoe = api::with_certificate(&org.pki, "zoe")?;
    let (mut seen, mut cursors, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
    for _ in 0..10 {
        let mut url = format!("{base}/incidents?limit=1");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = zoe.get(url).send().await?.json().await?;
        for item in page["items"].as_array().cloned().unwrap_or_default() {
            seen.push(item["id"].as_str().unwrap_or_default().to_string());
        }
        cursor = page["next"].as_str().map(str::to_owned);
        match &cursor {
            Some(c) => cursors.push(c.clone()),
            None => break,
        }
    }
    assert!(!cursors.contains(&red), "a cursor names the red incident");
    assert_eq!(seen, expected, "every readable incident, newest first");

    // gRPC, one row a page.
    let mut grpc = org.operator(hub.addr, "zoe")?;
    let (mut seen, mut token) = (Vec::new(), String::new());
    for _ in 0..10 {
        let page = grpc
            .list_incidents(pb::ListIncidentsRequest {
                page_size: 1,
                page_token: token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        seen.extend(page.incidents.into_iter().map(|i| i.id));
        token = page.next_page_token;
        assert_ne!(token, red, "a page token names the red incident");
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, expected, "every readable incident, newest first");
    hub.stop().await?;
    Ok(())
}
