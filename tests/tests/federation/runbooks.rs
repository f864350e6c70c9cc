//! Runbooks written at the hub reach every site over the federation stream, durably: a site
//! connected at the time gets each version live, a site offline at the time gets every version
//! when it comes back, each stored exactly once per version, and a retirement retires the
//! runbook at the sites. At a site the runbook shows on the alert group it matches, with the
//! checklist progress an analyst ticks; the hub's runbooks are read-only there; writes are
//! refused to roles that may not keep runbooks, naming the role needed. Hostile Markdown
//! reaches no terminal raw. In-process hub and agents over real mutual TLS; the real CLIs.

use socfed_tests::{eventually, fixture::Org};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const OPERATORS: &str = "[[operators]]\nname = \"erin\"\nrole = \"engineer\"\n\
[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n";
const RUNBOOK: &str = "# Encoded PowerShell\n\nStart with the host.\n\n- [ ] Isolate the host\n- [ ] Pull the process tree\n- [ ] Reset the user's password\n";

/// The versions of runbook `id` a site holds, from `runbooks show ID -o json` (its history).
fn versions_at(site: &socfed_tests::fixture::OperatorCli, id: &str) -> Option<Vec<u64>> {
    let shown = site.json(&["runbooks", "show", id]).ok()?;
    Some(
        shown["history"]
            .as_array()?
            .iter()
            .filter_map(|v| v["version"].as_u64())
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_runbook_reaches_every_site_once_per_version_and_guides_an_alert_group()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "berlin"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let berlin = org.agent("berlin", hub.addr, "").await?;
    let berlin_addr = berlin.local_addr;
    // Berlin goes offline before anything is written.
    berlin.stop().await?;

    let dir = org.dir();
    let file = dir.join("encoded-powershell.md");
    std::fs::write(&file, RUNBOOK)?;
    let file = file.display().to_string();
    let erin = org.hub_cli(hub.addr, "erin")?;
    let tom = org.hub_cli(hub.addr, "tom")?;

    // A tier 1 analyst may read but not write, and is told who may.
    let refused = tom.fails(&["runbooks", "add", &file, "--rule", "EDR-17"])?;
    assert!(
        refused.contains("keeping runbooks needs a security engineer, a SOC manager or the CISO"),
        "{refused}"
    );
    let added = erin.json(&[
        "runbooks",
        "add",
        &file,
        "--rule",
        "EDR-17",
        "--technique",
        "T1059",
    ])?;
    let id = added["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(added["version"], 1);
    assert_eq!(added["title"], "Encoded PowerShell");
    assert_eq!(tom.json(&["runbooks", "list"])?[0]["id"], id.as_str());

    // Paris, connected, gets version 1 live, marked as the hub's.
    let at_paris = org.agent_cli(paris.local_addr, "tester")?;
    eventually("paris holds version 1", WAIT, || {
        let ok = versions_at(&at_paris, &id) == Some(vec![1]);
        async move { ok.then_some(()) }
    })
    .await?;
    let listed = at_paris.json(&["runbooks", "list"])?;
    assert_eq!(listed[0]["origin"], "hub");
    // Read-only at the site.
    let site_edit = at_paris.fails(&["runbooks", "retire", &id])?;
    assert!(site_edit.contains("read-only at the site"), "{site_edit}");

    // An edit while Berlin is still away.
    std::fs::write(
        dir.join("v2.md"),
        RUNBOOK.replace("Reset", "Force a reset of"),
    )?;
    let v2 = dir.join("v2.md").display().to_string();
    let edited = erin.json(&[
        "runbooks",
        "update",
        &id,
        &v2,
        "--rule",
        "EDR-17",
        "--technique",
        "T1059",
    ])?;
    assert_eq!(edited["version"], 2);
    eventually("paris holds version 2", WAIT, || {
        let ok = versions_at(&at_paris, &id) == Some(vec![1, 2]);
        async move { ok.then_some(()) }
    })
    .await?;

    // Berlin comes back on the same store: it gets both versions, once each.
    let berlin = org.agent("berlin", hub.addr, "").await?;
    let at_berlin = org.agent_cli(berlin.local_addr, "tester")?;
    eventually("berlin holds versions 1 and 2", WAIT, || {
        let ok = versions_at(&at_berlin, &id) == Some(vec![1, 2]);
        async move { ok.then_some(()) }
    })
    .await?;
    let _ = berlin_addr;

    // An alert at Paris that the runbook matches (rule and a sub-technique) shows it, with
    // progress an analyst ticks.
    let alert = dir.join("alert.json");
    std::fs::write(
        &alert,
        r#"{"observed_at":"2026-03-02T09:58:00Z","product":"edr","rule_id":"EDR-17","rule_name":"Encoded PowerShell","severity":"high","techniques":["T1059.001"],"hosts":["ws-014"]}"#,
    )?;
    at_paris.ok(&["ingest", &alert.display().to_string(), "--format", "native"])?;
    let groups = at_paris.json(&["alerts", "list", "--status", "all"])?;
    let group = groups[0]["id"].as_str().unwrap_or_default().to_string();
    let shown = at_paris.json(&["alerts", "show", &group])?;
    assert_eq!(shown["runbooks"][0]["id"], id.as_str());
    assert_eq!(shown["runbooks"][0]["progress"], "0/3");
    at_paris.ok(&["incidents", "runbook", &group, "--step", "2", "--done"])?;
    let table = at_paris.ok(&["alerts", "show", &group])?;
    assert!(table.contains("1/3 steps done"), "{table}");
    assert!(table.contains("[x] 2. Pull the process tree"), "{table}");
    assert!(table.contains("from the hub"), "{table}");
    let past = at_paris.fails(&["incidents", "runbook", &group, "--step", "9", "--done"])?;
    assert!(past.contains("step 9"), "{past}");

    // Retired at the hub: retired at both sites, and no longer shown on the group.
    let retired = erin.json(&["runbooks", "retire", &id])?;
    assert_eq!(
        (retired["version"].as_u64(), retired["retired"].as_bool()),
        (Some(3), Some(true))
    );
    for site in [&at_paris, &at_berlin] {
        eventually("the runbook is retired at the site", WAIT, || {
            let ok = versions_at(site, &id) == Some(vec![1, 2, 3]);
            async move { ok.then_some(()) }
        })
        .await?;
    }
    let shown = at_paris.json(&["alerts", "show", &group])?;
    assert_eq!(shown["runbooks"].as_array().map(Vec::len), Some(0));
    berlin.stop().await?;
    paris.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_markdown_reaches_no_terminal_raw_and_a_site_keeps_its_own() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let dir = org.dir();
    let at_paris = org.agent_cli(paris.local_addr, "tester")?;
    // Terminal escapes are refused outright, and not echoed.
    let escape = dir.join("escape.md");
    std::fs::write(&escape, "# t\n- [ ] run \u{1b}]52;c;aWQ=\u{7} now\n")?;
    let refused = at_paris.fails(&[
        "runbooks",
        "add",
        &escape.display().to_string(),
        "--rule",
        "R",
    ])?;
    assert!(refused.contains("U+001B"), "{refused}");
    assert!(!refused.contains('\u{1b}'), "{refused:?}");
    // Markup and script links stay inert text: the terminal shows them as text, the link's
    // target only when it is a web address.
    let hostile = dir.join("hostile.md");
    std::fs::write(
        &hostile,
        "# Phish <script>alert(1)</script>\n- [ ] see [docs](javascript:alert(1)) and [wiki](https://wiki.example/ir)\n",
    )?;
    let added = at_paris.json(&[
        "runbooks",
        "add",
        &hostile.display().to_string(),
        "--rule",
        "mail:*",
        "--kind",
        "alert-group",
    ])?;
    assert_eq!(added["origin"], "site");
    let id = added["id"].as_str().unwrap_or_default().to_string();
    let shown = at_paris.ok(&["runbooks", "show", &id])?;
    assert!(
        shown.contains("[ ] 1. see docs and wiki <https://wiki.example/ir>"),
        "{shown}"
    );
    assert!(!shown.contains("javascript:"), "{shown}");
    // A prefix rule matches a hunt-style rule id.
    let alert = dir.join("alert.json");
    std::fs::write(
        &alert,
        r#"{"observed_at":"2026-03-02T09:58:00Z","product":"mail","rule_id":"mail:phish-3","rule_name":"Phish","severity":"low","hosts":["mx-1"]}"#,
    )?;
    at_paris.ok(&["ingest", &alert.display().to_string(), "--format", "native"])?;
    let groups = at_paris.json(&["alerts", "list", "--status", "all"])?;
    let group = groups[0]["id"].as_str().unwrap_or_default().to_string();
    let shown = at_paris.json(&["alerts", "show", &group])?;
    assert_eq!(shown["runbooks"][0]["origin"], "site");
    paris.stop().await?;
    Ok(())
}
