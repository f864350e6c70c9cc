//! The hub's incident domain through a real hub and the real `sirt-hub` CLI: lifecycle state
//! has one source of truth (what an operator adds shows everywhere and correlates), who may lead
//! an incident, what the timeline records, KPIs, reports and hunts' arguments.

use socfed_proto::pb;
use socfed_tests::clients::{self, report};
use socfed_tests::fixture::Org;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n\
[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n\
[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n\
[[operators]]\nname = \"sam\"\nrole = \"soc-manager\"\n";

fn domain(value: &str) -> pb::Indicator {
    pb::Indicator {
        kind: pb::IndicatorKind::Domain as i32,
        value: value.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_added_technique_shows_everywhere_and_correlates_the_next_report()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    // Paris reports an indicator but no technique: nothing to correlate on yet.
    let paris = pb::IncidentReport {
        indicators: vec![domain("c2.bad.example")],
        ..report("p-1", "web shell on the intranet")
    };
    org.escalate_once(hub.addr, "paris", paris).await?;
    let ines = org.hub_cli(hub.addr, "ines")?;
    let listed = ines.json(&["incidents", "list"])?;
    let id = listed[0]["id"].as_str().unwrap_or_default().to_string();
    ines.ok(&["incidents", "transition", &id, "add-technique", "T1190"])?;

    let shown = ines.json(&["incidents", "show", &id])?;
    assert_eq!(shown["techniques"], serde_json::json!(["T1190"]), "{shown}");
    let table = ines.ok(&["incidents", "show", &id])?;
    assert!(table.contains("T1190"), "{table}");
    let report = ines.ok(&["report", &id, "--format", "markdown"])?;
    assert!(report.contains("T1190"), "{report}");

    // Lyon sees the same technique against the same domain: it joins the incident.
    let lyon = pb::IncidentReport {
        techniques: vec!["T1190".into()],
        indicators: vec![domain("c2.bad.example")],
        ..clients::report("l-1", "exploit of the VPN portal")
    };
    org.escalate_once(hub.addr, "lyon", lyon).await?;
    let listed = ines.json(&["incidents", "list"])?;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "lyon's report joined the incident: {listed}"
    );
    let shown = ines.json(&["incidents", "show", &id])?;
    assert_eq!(
        shown["sightings"].as_array().map(Vec::len),
        Some(2),
        "{shown}"
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_rostered_lead_can_lead_and_a_merged_away_incident_takes_no_directives()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    for site in ["paris", "lyon"] {
        let report = report(&format!("{site}-1"), &format!("odd logins at {site}"));
        org.escalate_once(hub.addr, site, report).await?;
    }
    let sam = org.hub_cli(hub.addr, "sam")?;
    let listed = sam.json(&["incidents", "list"])?;
    let (newer, older) = (
        listed[0]["id"].as_str().unwrap_or_default().to_string(),
        listed[1]["id"].as_str().unwrap_or_default().to_string(),
    );

    let unknown = sam.fails(&["incidents", "assign", &older, "ghost"])?;
    assert!(
        unknown.contains("not in the hub roster") && unknown.contains("ir-lead or ciso"),
        "{unknown}"
    );
    let analyst = sam.fails(&["incidents", "transition", &older, "assign-ir-lead", "tom"])?;
    assert!(analyst.contains("tier 1 analyst"), "{analyst}");
    let manager = sam.fails(&["incidents", "assign", &older, "sam"])?;
    assert!(manager.contains("SOC manager"), "{manager}");
    sam.ok(&["incidents", "assign", &older, "carla"])?;
    let shown = sam.json(&["incidents", "show", &older])?;
    assert_eq!(shown["ir_lead"], "carla", "{shown}");

    let ines = org.hub_cli(hub.addr, "ines")?;
    ines.ok(&[
        "incidents",
        "merge",
        &older,
        &newer,
        "--reason",
        "same spray",
    ])?;
    let directive = ines.fails(&[
        "incidents",
        "directive",
        &newer,
        "--sites",
        "lyon",
        "--kind",
        "collect_evidence",
    ])?;
    assert!(
        directive.contains(&format!("merged into incident {older}")),
        "{directive}"
    );
    let task = ines.fails(&[
        "incidents",
        "task",
        &newer,
        "--sites",
        "lyon",
        "--title",
        "check the VPN logs",
    ])?;
    assert!(
        task.contains(&format!("send them to incident {older}")),
        "{task}"
    );
    // The survivor still takes them.
    ines.ok(&[
        "incidents",
        "task",
        &older,
        "--sites",
        "lyon",
        "--title",
        "check the VPN logs",
    ])?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_records_sites_joining_and_revising_and_a_split_keeps_the_priority_rule()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let beacon = |local: &str, revision: u32, severity: pb::Severity| pb::IncidentReport {
        revision,
        severity: severity as i32,
        techniques: vec!["T1071".into()],
        indicators: vec![domain("c2.bad.example")],
        ..report(local, "beacon")
    };
    org.escalate_once(hub.addr, "paris", beacon("p-1", 1, pb::Severity::High))
        .await?;
    org.escalate_once(hub.addr, "lyon", beacon("l-1", 1, pb::Severity::Critical))
        .await?;
    org.escalate_once(hub.addr, "paris", beacon("p-1", 2, pb::Severity::Critical))
        .await?;
    let ines = org.hub_cli(hub.addr, "ines")?;
    let listed = ines.json(&["incidents", "list"])?;
    let id = listed[0]["id"].as_str().unwrap_or_default().to_string();
    let shown = ines.json(&["incidents", "show", &id])?;
    let texts: Vec<String> = shown["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|e| format!("{}: {}", e["actor"], e["text"]))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(
        texts[1].contains("site lyon joined") && texts[1].contains("l-1"),
        "{texts:#?}"
    );
    assert!(
        texts[2].contains("site paris sent revision 2 of local incident p-1"),
        "{texts:#?}"
    );
    // Critical now: the same priority as any critical incident, and as the split-off one.
    assert_eq!(shown["severity"], "critical", "{shown}");
    assert_eq!(shown["priority"], "P1", "{shown}");
    ines.ok(&["incidents", "split", &id, "--site", "lyon"])?;
    let listed = ines.json(&["incidents", "list"])?;
    let split = listed
        .as_array()
        .and_then(|all| all.iter().find(|i| i["id"] != id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&split["severity"], &split["priority"]),
        (&shown["severity"], &shown["priority"]),
        "{listed}"
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_skip_duplicates_and_reopened_incidents_and_reports_carry_marking_and_indicators()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon", "oslo"], OPERATORS).await?;
    for site in ["paris", "lyon", "oslo"] {
        let report = pb::IncidentReport {
            indicators: vec![domain(&format!("{site}.bad.example"))],
            ..report(&format!("{site}-1"), &format!("odd logins at {site}"))
        };
        org.escalate_once(hub.addr, site, report).await?;
    }
    let ines = org.hub_cli(hub.addr, "ines")?;
    let listed = ines.json(&["incidents", "list"])?;
    let id_of = |site: &str| {
        listed
            .as_array()
            .and_then(|all| all.iter().find(|i| i["sightings"][0]["site"] == site))
            .and_then(|i| i["id"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (paris, lyon, oslo) = (id_of("paris"), id_of("lyon"), id_of("oslo"));
    // Oslo's is merged into Lyon's; Lyon's is closed; Paris's is closed, then reopened.
    ines.ok(&["incidents", "merge", &lyon, &oslo])?;
    for id in [&lyon, &paris] {
        ines.ok(&["incidents", "transition", id, "start-triage"])?;
        ines.ok(&["incidents", "transition", id, "close-false-positive"])?;
    }
    ines.ok(&["incidents", "transition", &paris, "reopen", "new evidence"])?;
    ines.ok(&["incidents", "transition", &paris, "set-tlp", "red"])?;

    let kpis = ines.json(&["kpis"])?;
    assert_eq!(
        kpis["overall"]["incidents"], 2,
        "the duplicate is not counted: {kpis}"
    );
    assert!(
        kpis["sites"]["paris"]["to_resolve_ms"].is_null(),
        "reopened and open: not resolved: {kpis}"
    );
    assert!(kpis["sites"]["lyon"]["to_resolve_ms"].is_i64(), "{kpis}");

    let report = ines.ok(&["report", &paris, "--format", "markdown"])?;
    assert!(report.starts_with("**TLP:RED"), "{report}");
    assert!(report.trim_end().ends_with("share further**"), "{report}");
    assert!(
        report.contains("## Indicators") && report.contains("paris.bad.example"),
        "{report}"
    );
    assert!(!report.contains("| closed |"), "reopened: {report}");
    assert!(report.contains("| reopened | once |"), "{report}");
    let html = ines.ok(&["report", &paris, "--format", "html"])?;
    assert!(html.contains("<title>TLP:RED"), "{html}");
    let json = ines.json(&["report", &paris])?;
    assert_eq!(json["marking"], "TLP:RED", "{json}");
    assert_eq!(json["id"], paris.as_str());
    assert!(
        json["sections"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["title"] == "Indicators")),
        "{json}"
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunt_lookback_of_zero_or_beyond_the_maximum_is_refused_not_changed() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let ines = org.hub_cli(hub.addr, "ines")?;
    let hunt = |lookback: &str| {
        ines.run(&[
            "hunt",
            "start",
            "--ioc",
            "domain:c2.bad.example",
            "--lookback",
            lookback,
        ])
    };
    let zero = hunt("0s")?;
    assert_eq!(zero.status.code(), Some(2), "a usage error");
    assert!(
        String::from_utf8_lossy(&zero.stderr).contains("searches no stored alert"),
        "{}",
        String::from_utf8_lossy(&zero.stderr)
    );
    let long = hunt("400d")?;
    assert!(!long.status.success());
    assert!(
        String::from_utf8_lossy(&long.stderr).contains("at most 365 days"),
        "{}",
        String::from_utf8_lossy(&long.stderr)
    );
    let listed = ines.json(&["hunt", "list"])?;
    assert_eq!(
        listed["hunts"].as_array().map(Vec::len),
        Some(0),
        "{listed}"
    );
    assert_eq!(listed["total"], 0, "{listed}");
    let started = ines.json(&[
        "hunt",
        "start",
        "--ioc",
        "domain:c2.bad.example",
        "--lookback",
        "365d",
    ])?;
    assert_eq!(started["lookback_s"], 365 * 86_400, "{started}");
    hub.stop().await?;
    Ok(())
}

/// `hunt list` pages: newest first, `--limit` at a time with a stated total, and the printed
/// token continues where the page ended, until a page without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hunts_are_listed_a_page_at_a_time_with_their_total() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let ines = org.hub_cli(hub.addr, "ines")?;
    let mut started = Vec::new();
    for n in 0..3 {
        let ioc = format!("domain:c2-{n}.bad.example");
        let hunt = ines.json(&["hunt", "start", "--ioc", &ioc])?;
        started.push(hunt["hunt_id"].as_str().unwrap_or_default().to_string());
    }
    started.reverse();
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["hunts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h["hunt_id"].as_str().map(str::to_string))
            .collect()
    };
    let first = ines.json(&["hunt", "list", "--limit", "2"])?;
    assert_eq!(first["total"], 3, "{first}");
    assert_eq!(ids(&first), started[..2], "newest first: {first}");
    let token = first["next_page_token"].as_str().unwrap_or_default();
    assert!(!token.is_empty(), "{first}");
    let second = ines.json(&["hunt", "list", "--limit", "2", "--page-token", token])?;
    assert_eq!(ids(&second), started[2..], "{second}");
    assert_eq!(second["next_page_token"], "", "the last page: {second}");
    let table = ines.ok(&["hunt", "list", "--limit", "2", "-o", "table"])?;
    assert!(table.contains("2 shown; 3 in all"), "{table}");
    assert!(table.contains(&format!("--page-token {token}")), "{table}");
    let over = ines.run(&["hunt", "list", "--limit", "201"])?;
    assert!(!over.status.success());
    hub.stop().await?;
    Ok(())
}
