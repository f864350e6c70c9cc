//! Cross-site alert search from the hub, on the hunt machinery: `sirt-hub search alerts`
//! (the real binary) starts a hunt whose sweep at each site searches the site's alert search
//! index; `sirt-hub hunt status` shows per-site progress and exactly the matching groups of
//! each site. Hostile filters are refused by the hub before anything is sent. In-process hub
//! and agents over real mutual TLS.

use socfed_tests::clients::submit_alerts as submit;
use socfed_tests::{eventually, fixture::Org};
use std::collections::BTreeMap;
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

fn alert(rule: &str, title: &str, host: &str, user: &str, technique: &str) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    format!(
        r#"{{"observed_at": "{now}", "product": "EDR", "rule_id": "{rule}", "rule_name": "{title}", "severity": "high", "hosts": ["{host}"], "users": ["{user}"], "techniques": ["{technique}"]}}"#
    )
}

/// Site → (progress, titles of its hits, sorted).
fn per_site(hunt: &serde_json::Value) -> BTreeMap<String, (String, Vec<String>)> {
    let mut out = BTreeMap::new();
    for site in hunt["sites"].as_array().into_iter().flatten() {
        let mut titles: Vec<String> = site["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| h["title"].as_str().unwrap_or_default().to_owned())
            .collect();
        titles.sort();
        out.insert(
            site["site"].as_str().unwrap_or_default().to_owned(),
            (
                site["progress"].as_str().unwrap_or_default().to_owned(),
                titles,
            ),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_across_two_sites_shows_each_sites_progress_and_exact_results()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    submit(
        paris.local_addr,
        &org.pki,
        vec![
            alert("R-1", "Encoded PowerShell", "web-1", "alice", "T1059.001"),
            alert("R-2", "Port scan", "web-1", "alice", "T1046"),
            alert("R-3", "Encoded PowerShell", "db-1", "bob", "T1059.001"),
        ],
    )
    .await?;
    submit(
        lyon.local_addr,
        &org.pki,
        vec![
            alert(
                "R-4",
                "PowerShell download cradle",
                "web-1",
                "carol",
                "T1059.001",
            ),
            alert("R-5", "Mimikatz", "web-2", "alice", "T1003"),
        ],
    )
    .await?;

    let cli = org.hub_cli(hub.addr, "ines")?;
    let started = cli.json(&[
        "search",
        "alerts",
        "--host",
        "WEB-1",
        "--technique",
        "t1059.001",
        "--text",
        "powershell",
    ])?;
    let id = started["hunt_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(started["search"]["hosts"][0], "WEB-1", "{started}");
    let expected: BTreeMap<String, (String, Vec<String>)> = [
        ("lyon", vec!["PowerShell download cradle"]),
        ("paris", vec!["Encoded PowerShell"]),
    ]
    .into_iter()
    .map(|(site, titles)| {
        (
            site.to_owned(),
            (
                "done".to_owned(),
                titles.into_iter().map(str::to_owned).collect(),
            ),
        )
    })
    .collect();
    let status = eventually(
        "both sites done with their results",
        Duration::from_secs(30),
        || {
            let (cli, id, expected) = (&cli, id.clone(), &expected);
            async move {
                let hunt = cli.json(&["hunt", "status", &id]).ok()?;
                (per_site(&hunt) == *expected).then_some(hunt)
            }
        },
    )
    .await?;
    assert_eq!(status["total_hits"], 2, "{status}");
    let hit = &status["sites"][0]["hits"][0];
    assert!(
        hit["indicator"]
            .as_str()
            .is_some_and(|i| i.starts_with("search ") && i.contains("host=web-1")),
        "{hit}"
    );

    // A filter the sites would refuse is refused at the hub: no hunt is started.
    for bad in [
        vec!["search", "alerts"],
        vec!["search", "alerts", "--technique", "T1' OR 1=1"],
        vec!["search", "alerts", "--text", ";--"],
        vec![
            "search", "alerts", "--host", "a", "--host", "b", "--host", "c", "--host", "d",
            "--host", "e",
        ],
        vec![
            "search",
            "alerts",
            "--indicator",
            "domain:\u{1b}[31m.example",
        ],
    ] {
        let refused = cli.fails(&bad)?;
        assert!(
            refused.contains("search") || refused.contains("hunt"),
            "{bad:?}: {refused}"
        );
    }
    let listed = cli.json(&["hunt", "list"])?;
    assert_eq!(listed["total"], 1, "{listed}");

    paris.stop().await?;
    lyon.stop().await?;
    hub.stop().await?;
    Ok(())
}
