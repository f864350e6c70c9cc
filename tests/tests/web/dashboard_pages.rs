//! What the dashboard's pages show, asserted on the HTML a real in-process hub serves over
//! HTTPS: an incident's indicators and ATT&CK techniques; the board's marking, priority and IR
//! lead columns; merged-away duplicates off the open board (and on the closed one); and text
//! from sites, operators and the query string escaped on every page, in text and attributes
//! (the templates escape by construction).

use socfed_proto::pb;
use socfed_tests::web::{https, login_url, sign_in};
use socfed_tests::{clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// A site-controlled title, and a URL indicator (free text past the host), that would run a
/// script, close an attribute or start an entity if a page did not escape them.
const HOSTILE_TITLE: &str = "Beacon <script>alert(\"t&t\")</script> 'one'";
const HOSTILE_URL: &str = "https://c2-one.example/<script>alert(\"u&u\")</script>'";
/// A hunt's indicator, given by an operator.
const HOSTILE_HUNT: &str = "url:https://hunt.example/<script>alert(\"h&h\")</script>'";

fn report(local: &str, title: &str, indicator: &str, technique: &str) -> pb::IncidentReport {
    pb::IncidentReport {
        tlp: pb::Tlp::Amber as i32,
        techniques: vec![technique.into()],
        indicators: vec![
            pb::Indicator {
                kind: pb::IndicatorKind::Domain as i32,
                value: indicator.into(),
            },
            pb::Indicator {
                kind: pb::IndicatorKind::Url as i32,
                value: HOSTILE_URL.into(),
            },
        ],
        ..clients::report(local, title)
    }
}

/// Nothing of the hostile strings is markup: no script element, no raw quote or ampersand
/// from them; their escaped forms are what the page shows.
fn assert_escaped(path: &str, html: &str, shown: &[&str]) {
    assert!(
        !html.contains("<script>"),
        "{path}: a script element: {html}"
    );
    for raw in ["\"t&t\"", "\"u&u\"", "\"h&h\"", "\"q&q\"", "</script>'"] {
        assert!(!html.contains(raw), "{path}: {raw} unescaped: {html}");
    }
    for part in shown {
        assert!(html.contains(part), "{path}: {part} missing: {html}");
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
    let first = report("p-1", HOSTILE_TITLE, "c2-one.example", "T1071.001");
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
    let (one, two) = (id_of(HOSTILE_TITLE)?, id_of("Beacon two")?);
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
    ] {
        assert!(detail.contains(part), "{part} missing: {detail}");
    }

    // Escaped by construction, on every page that shows the text.
    org.response(hub.addr, "ines")?
        .start_hunt(pb::StartHuntRequest {
            indicators: vec![HOSTILE_HUNT.into()],
            sites: vec!["all".into()],
            ..Default::default()
        })
        .await?;
    let title = "Beacon &lt;script&gt;alert(&quot;t&amp;t&quot;)&lt;/script&gt; &#39;one&#39;";
    let url = "c2-one.example/&lt;script&gt;alert(&quot;u&amp;u&quot;)&lt;/script&gt;&#39;";
    let hunt = "hunt.example/&lt;script&gt;alert(&quot;h&amp;h&quot;)&lt;/script&gt;&#39;";
    assert_escaped("/", &board, &[title]);
    let rows = get("/?fragment=rows".into()).await?;
    assert_escaped("rows", &rows, &[title]);
    assert_escaped("incident", &detail, &[&format!("<h1>{title}</h1>"), url]);
    assert_escaped("hunts", &get("/hunts".into()).await?, &[hunt]);
    assert_escaped(
        "sites",
        &get("/sites".into()).await?,
        &["<th>Warnings</th>"],
    );
    // The board's filter repeats the query in an attribute: quoted, not closed.
    let echoed = get("/?site=%22%3E%3Cscript%3E%22q%26q%22".into()).await?;
    assert_escaped(
        "filter",
        &echoed,
        &["value=\"&quot;&gt;&lt;script&gt;&quot;q&amp;q&quot;\""],
    );
    hub.stop().await?;
    Ok(())
}
