//! Alert search at a site through what users touch: alerts taken in over the HTTP API, then
//! searched with `site-agent alerts search` (the real binary, over mTLS) and `GET
//! /api/v1/alerts/search` with a `read` token: exact result sets for each filter and their
//! combinations, comments searchable once added, pages without duplicates or gaps, and
//! hostile filters, limits and cursors refused without harm.

use serde_json::Value;
use site_agent::service::ManualClock;
use socfed_tests::agent_api::{self, NDJSON, agent, get, mint, post};
use socfed_tests::fixture::{OperatorCli, Org};
use std::sync::Arc;

/// Six alerts, each its own group (rule `R-i`): hosts web-1/db-1/fw-1, users alice/bob/svc,
/// techniques T1059/T1003/T1046, an indicator on three.
fn alerts(at_ms: i64) -> String {
    let rows = [
        ("Encoded PowerShell", "web-1", "alice", "T1059", ""),
        ("Mimikatz credential dump", "web-1", "bob", "T1003", ""),
        (
            "Encoded PowerShell",
            "db-1",
            "alice",
            "T1059",
            "domain:c2.bad.example",
        ),
        (
            "LSASS access",
            "db-1",
            "bob",
            "T1003",
            "domain:c2.bad.example",
        ),
        (
            "PowerShell download cradle",
            "WEB-1",
            "alice",
            "T1059.001",
            "domain:c2.bad.example",
        ),
        ("Port scan", "fw-1", "svc", "T1046", ""),
    ];
    rows.iter()
        .enumerate()
        .map(|(i, (title, host, user, technique, indicator))| {
            let indicators = if indicator.is_empty() {
                String::new()
            } else {
                format!(r#""{indicator}""#)
            };
            format!(
                r#"{{"id":"a{i}","observed_at":{},"product":"edr","rule_id":"R-{i}","rule_name":"{title}","severity":"high","hosts":["{host}"],"users":["{user}"],"techniques":["{technique}"],"indicators":[{indicators}]}}"#,
                at_ms + i as i64
            ) + "\n"
        })
        .collect()
}

/// The rule ids of a page's groups, in order.
fn rules(groups: &Value) -> Vec<String> {
    groups
        .as_array()
        .map(|gs| {
            gs.iter()
                .map(|g| g["rule_id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every page of `alerts search ARGS --limit LIMIT` through the CLI, rule ids in order.
fn cli_all(cli: &OperatorCli, args: &[&str], limit: usize) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let limit = limit.to_string();
    loop {
        let mut all = vec!["alerts", "search"];
        all.extend_from_slice(args);
        all.extend(["--limit", &limit]);
        if let Some(c) = &cursor {
            all.extend(["--cursor", c]);
        }
        let page = cli.json(&all)?;
        let found = rules(&page["groups"]);
        anyhow::ensure!(found.len() <= limit.parse()?, "page over its limit: {page}");
        out.extend(found);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(out),
        }
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_found_by_each_filter_combined_and_paged_in_cli_and_api() -> anyhow::Result<()> {
    let org = Org::new()?;
    let clock = Arc::new(ManualClock::new(socfed_proto::now_millis()));
    let (agent, api) = agent(&org, clock.clone()).await?;
    let http = agent_api::client(&org.pki, None)?;
    let intake = mint(&org, &agent, "shipper", "intake")?;
    let reader = mint(&org, &agent, "grafana", "read")?;
    // One request per alert, the clock moved between them: group ids (creation order, what
    // "newest first" sorts by) are made at the commit's time.
    for line in alerts(socfed_proto::now_millis()).lines() {
        let body = format!("{line}\n").into_bytes();
        let (status, answer) =
            post(&http, &api, Some(&intake), "native", NDJSON, false, body).await?;
        assert_eq!(
            (status, answer["accepted"].as_u64()),
            (200, Some(1)),
            "{answer}"
        );
        clock.advance(std::time::Duration::from_millis(5));
    }
    let cli = org.agent_cli(agent.local_addr, "tester")?;

    // Each filter alone, newest first.
    let cases: [(&[&str], &[&str]); 7] = [
        (&["--host", "web-1"], &["R-4", "R-1", "R-0"]),
        (&["--user", "BOB"], &["R-3", "R-1"]),
        (&["--technique", "t1059"], &["R-2", "R-0"]),
        (&["--technique", "T1059.001"], &["R-4"]),
        (
            &["--indicator", "domain:C2.Bad.Example."],
            &["R-4", "R-3", "R-2"],
        ),
        (&["--text", "powershell"], &["R-4", "R-2", "R-0"]),
        (&["--host", "nowhere"], &[]),
    ];
    for (args, expected) in cases {
        assert_eq!(cli_all(&cli, args, 50)?, ids(expected), "{args:?}");
    }
    // Combined: every filter must match.
    let combined = [
        "--host",
        "web-1",
        "--user",
        "alice",
        "--text",
        "PowerShell",
        "cradle",
    ];
    assert_eq!(cli_all(&cli, &combined, 50)?, ids(&["R-4"]));
    let two = ["--user", "alice", "--indicator", "domain:c2.bad.example"];
    assert_eq!(cli_all(&cli, &two, 50)?, ids(&["R-4", "R-2"]));
    // Pages of every size walk the same results, without duplicates or gaps.
    for limit in 1..=3 {
        assert_eq!(
            cli_all(&cli, &["--host", "web-1"], limit)?,
            ids(&["R-4", "R-1", "R-0"]),
            "limit {limit}"
        );
    }
    // A comment's words are found once it is added.
    assert!(cli_all(&cli, &["--text", "beaconing"], 50)?.is_empty());
    let port_scan = cli.json(&["alerts", "search", "--text", "port", "scan"])?;
    let id = port_scan["groups"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    cli.ok(&["alerts", "comment", &id, "Beaconing", "to", "a", "C2"])?;
    assert_eq!(cli_all(&cli, &["--text", "beaconing"], 50)?, ids(&["R-5"]));
    // The table output tells where the next page starts.
    let table = cli.ok(&["alerts", "search", "--host", "web-1", "--limit", "1"])?;
    assert!(
        table.contains("download cradle") && table.contains("more: --cursor c"),
        "{table}"
    );

    // The API: same answers with a read token; an intake token is refused.
    let path = "/alerts/search?host=web-1&limit=2";
    let (status, page) = get(&http, &api, Some(&reader), path).await?;
    assert_eq!(status, 200, "{page}");
    assert_eq!(rules(&page["groups"]), ids(&["R-4", "R-1"]));
    let next = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    let (status, rest) = get(
        &http,
        &api,
        Some(&reader),
        &format!("/alerts/search?host=web-1&limit=2&cursor={next}"),
    )
    .await?;
    assert_eq!(
        (status, rules(&rest["groups"])),
        (200, ids(&["R-0"])),
        "{rest}"
    );
    assert!(rest["next_cursor"].is_null(), "{rest}");
    let (status, found) = get(
        &http,
        &api,
        Some(&reader),
        "/alerts/search?technique=T1003&text=credential%20mimikatz",
    )
    .await?;
    assert_eq!(
        (status, rules(&found["groups"])),
        (200, ids(&["R-1"])),
        "{found}"
    );
    let (status, _) = get(&http, &api, Some(&intake), "/alerts/search?host=web-1").await?;
    assert_eq!(status, 403);

    // Hostile or malformed: refused with 400 (API) or a failed command (CLI), nothing found
    // by a string that is not a term.
    let long = "a".repeat(3000);
    let hostile = [
        "/alerts/search".to_owned(),
        "/alerts/search?text=%20-%20%3B".to_owned(),
        format!("/alerts/search?text={long}"),
        "/alerts/search?text=a1%20b2%20c3%20d4%20e5%20f6%20g7%20h8%20i9".to_owned(),
        "/alerts/search?technique=T1%27%20OR%201=1".to_owned(),
        "/alerts/search?indicator=domain:%00".to_owned(),
        "/alerts/search?host=web-1&limit=201".to_owned(),
        "/alerts/search?host=web-1&limit=-1".to_owned(),
        "/alerts/search?host=web-1&cursor=zzz".to_owned(),
        "/alerts/search?host=web-1&cursor=c00".to_owned(),
    ];
    for path in &hostile {
        let (status, answer) = get(&http, &api, Some(&reader), path).await?;
        assert_eq!(status, 400, "{path}: {answer}");
    }
    for path in [
        "/alerts/search?host=web-1%00",
        "/alerts/search?host=%1b%5b31mweb-1",
        "/alerts/search?text=%E2%80%AEpowershell",
    ] {
        let (status, answer) = get(&http, &api, Some(&reader), path).await?;
        // Controls are dropped from a token as they are at indexing: found, or nothing.
        assert_eq!(status, 200, "{path}: {answer}");
    }
    let refused = cli.fails(&["alerts", "search"])?;
    assert!(refused.contains("at least one"), "{refused}");
    let refused = cli.fails(&["alerts", "search", "--host", "web-1", "--cursor", "c12"])?;
    assert!(refused.contains("cursor"), "{refused}");
    api.stop().await?;
    agent.stop().await?;
    Ok(())
}
