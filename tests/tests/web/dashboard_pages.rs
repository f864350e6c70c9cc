//! What the dashboard's pages show, asserted on the HTML a real in-process hub serves over
//! HTTPS: an incident's indicators and ATT&CK techniques; the board's marking, priority and IR
//! lead columns; merged-away duplicates off the open board (and on the closed one).

use socfed_proto::pb;
use socfed_tests::web::{https, login_url, sign_in};
use socfed_tests::{clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

fn report(local: &str, title: &str, indicator: &str, technique: &str) -> pb::IncidentReport {
    pb::IncidentReport {
        tlp: pb::Tlp::Amber as i32,
        techniques: vec![technique.into()],
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: indicator.into(),
        }],
        ..clients::report(local, title)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_indicators_techniques_marking_priority_lead_and_hide_merged_duplicates()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let base = format!(
        "https://{}",
        hub.dashboard_addr
            .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
    );
    let first = report("p-1", "Beacon <b>one</b>", "c2-one.example", "T1071.001");
    org.escalate_once(hub.addr, "paris", first).await?;
    let second = report("l-1", "Beacon two", "c2-two.example", "T1566");
    org.escalate_once(hub.addr, "lyon", second).await?;
    let mut operator = org.operator(hub.addr, "carl")?;
    let all = clients::all_incidents(&mut operator).await?;
    let id_of = |title: &str| {
        all.iter()
            .find(|i| i.title == title)
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("{title} stored"))
    };
    let (one, two) = (id_of("Beacon <b>one</b>")?, id_of("Beacon two")?);
    operator
        .transition_incident(pb::TransitionIncidentRequest {
            legacy_command: String::new(),
            id: one.clone(),
            command: pb::LifecycleCommand::AssignIrLead.into(),
            argument: "ines".into(),
        })
        .await?;
    operator
        .merge_incidents(pb::MergeIncidentsRequest {
            survivor_id: one.clone(),
            other_id: two.clone(),
            reason: "same C2 operator".into(),
        })
        .await?;

    let prio = clients::all_incidents(&mut operator)
        .await?
        .into_iter()
        .find(|i| i.id == one)
        .map(|i| i.priority)
        .unwrap_or_default();
    assert!(prio.starts_with('P'), "{prio}");
    let client = https(&org.pki)?;
    let session = sign_in(
        &client,
        &base,
        &login_url(hub.addr, &org.pki, "ines").await?,
    )
    .await?;
    let get = |path: String| {
        let (client, session) = (client.clone(), session.clone());
        let url = format!("{base}{path}");
        async move {
            let r = client.get(url).header("cookie", session).send().await?;
            anyhow::ensure!(r.status() == 200, "{}", r.status());
            Ok::<_, anyhow::Error>(r.text().await?)
        }
    };

    let board = get("/".into()).await?;
    for column in ["<th>Priority</th>", "<th>Marking</th>", "<th>IR lead</th>"] {
        assert!(board.contains(column), "{column} missing: {board}");
    }
    let row = board
        .split("<tr data-id=")
        .find(|r| r.starts_with(&format!("\"{one}\"")))
        .ok_or_else(|| anyhow::anyhow!("the survivor is on the board: {board}"))?;
    for cell in [&format!("<td>{prio}</td>"), "TLP:AMBER", "<td>ines</td>"] {
        assert!(row.contains(cell), "{cell} missing from {row}");
    }
    assert!(
        !board.contains(&two),
        "the merged-away duplicate is not an open incident: {board}"
    );
    let closed = get("/?status=closed".into()).await?;
    assert!(
        closed.contains(&two) && closed.contains(&format!("duplicate of {one}")),
        "{closed}"
    );
    assert!(get("/?status=all".into()).await?.contains(&two));

    let detail = get(format!("/incidents/{one}")).await?;
    for part in [
        "<h2>Indicators</h2>",
        "c2-one.example",
        "c2-two.example",
        "<h2>ATT&amp;CK techniques</h2>",
        "T1071.001",
        "T1566",
        "Beacon &lt;b&gt;one&lt;/b&gt;",
    ] {
        assert!(detail.contains(part), "{part} missing: {detail}");
    }
    assert!(!detail.contains("<b>one</b>"), "site text is escaped");
    hub.stop().await?;
    Ok(())
}
