//! The hunt library as detection (issue 15, item 6): a library hunt imported at the hub from a
//! STIX 2.1 bundle runs at
//! once as a hunt to both sites; the ONE site whose stored alerts match raises a local alert
//! with rule id `hunt:<id>` that enters its Tier 1 queue (`site-agent alerts list`), the other
//! raises none; the statistics show the run and the hit per site; a hub restart does not run
//! it again. In-process hub and agents over real mutual TLS, driven by the real binaries.

use serde_json::Value;
use socfed_tests::clients::submit_alerts as submit;
use socfed_tests::eventually;
use socfed_tests::fixture::{OperatorCli, Org};
use std::sync::Arc;
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n\n\
                         [[operators]]\nname = \"tom\"\nrole = \"tier1\"\n\n\
                         [[operators]]\nname = \"erin\"\nrole = \"engineer\"\n";
const AGENT: &str = "[soc]\nmanagers = [\"mona\", \"tester\"]\n";
const WAIT: Duration = Duration::from_secs(30);

fn alert(rule: &str, host: &str, indicator: &str) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    format!(
        r#"{{"observed_at": "{now}", "product": "EDR", "rule_id": "{rule}", "rule_name": "rule {rule}", "severity": "low", "hosts": ["{host}"], "indicators": ["{indicator}"]}}"#
    )
}

/// Runs a CLI off the runtime that serves the in-process hub and agents.
async fn json(cli: &Arc<OperatorCli>, args: &[&str]) -> anyhow::Result<Value> {
    let cli = cli.clone();
    let args: Vec<String> = args.iter().map(ToString::to_string).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli.json(&args)
    })
    .await?
}

/// The alert groups a library hunt raised at a site, from `site-agent alerts list`.
async fn hunt_alerts(cli: &Arc<OperatorCli>) -> anyhow::Result<Vec<Value>> {
    let groups = json(
        cli,
        &["alerts", "list", "--status", "all", "--limit", "500"],
    )
    .await?;
    Ok(groups
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|g| {
            g["rule_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("hunt:"))
        })
        .collect())
}

fn site<'a>(stats: &'a Value, name: &str) -> Option<&'a Value> {
    stats["sites"]
        .as_array()?
        .iter()
        .find(|s| s["site"] == name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_hunt_raises_a_tier1_alert_only_at_the_site_whose_alerts_match()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let listen = hub.addr;
    let paris = org.agent("paris", listen, AGENT).await?;
    let lyon = org.agent("lyon", listen, AGENT).await?;
    submit(
        paris.local_addr,
        &org.pki,
        vec![
            alert("C2-1", "ws-1", "domain:evil.example"),
            alert("PHISH", "ws-2", "domain:unrelated.example"),
        ],
    )
    .await?;
    submit(
        lyon.local_addr,
        &org.pki,
        vec![alert("C2-1", "ws-9", "domain:other.example")],
    )
    .await?;

    let ines = Arc::new(org.hub_cli(listen, "ines")?);
    // A Tier 1 analyst does not keep the library.
    let tom = Arc::new(org.hub_cli(listen, "tom")?);
    let add = [
        "hunt",
        "library",
        "add",
        "--name",
        "Emotet C2",
        "--ioc",
        "domain:evil.example",
        "--technique",
        "T1071",
        "--severity",
        "high",
        "--every",
        "1h",
        "--lookback",
        "7d",
    ];
    let refused = {
        let tom = tom.clone();
        tokio::task::spawn_blocking(move || tom.fails(&add)).await??
    };
    assert!(
        refused.contains("keeping the hunt library needs"),
        "{refused}"
    );

    // A security engineer's hub runbook for every hunt-raised alert (rule prefix `hunt:*`),
    // sent to both sites over the federation stream.
    let runbook = org.dir().join("hunt-hit.md");
    std::fs::write(
        &runbook,
        "# A hunt hit\n\n- [ ] Confirm the match in the raw alert\n- [ ] Isolate the host if it beacons\n",
    )?;
    let erin = Arc::new(org.hub_cli(listen, "erin")?);
    let path = runbook.display().to_string();
    let added = json(&erin, &["runbooks", "add", &path, "--rule", "hunt:*"]).await?;
    let runbook_id = added["id"].as_str().unwrap_or_default().to_string();
    assert!(!runbook_id.is_empty(), "the runbook has an id");

    // The IOC set arrives as a STIX 2.1 bundle (an indicator with its ATT&CK technique, and an
    // identity read as context).
    let bundle = serde_json::json!({
        "type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
        "objects": [
            {"type": "identity", "spec_version": "2.1", "id": "identity--0b8a7c4e-7d5b-4b6f-9c1e-2f1a3b4c5d6e",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": "CERT partner", "identity_class": "organization"},
            {"type": "indicator", "spec_version": "2.1",
             "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": "Emotet C2 domain", "pattern": "[domain-name:value = 'evil.example']",
             "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
             "external_references": [{"source_name": "mitre-attack", "external_id": "T1071"}]},
        ],
    });
    let file = org.dir().join("emotet.stix.json");
    std::fs::write(&file, bundle.to_string())?;
    let path = file.display().to_string();
    let imported = json(
        &ines,
        &[
            "hunt",
            "library",
            "import",
            &path,
            "--format",
            "stix",
            "--name",
            "Emotet C2",
            "--severity",
            "high",
            "--every",
            "1h",
            "--lookback",
            "7d",
        ],
    )
    .await?;
    assert_eq!(imported["taken"], 1, "{imported}");
    let added = imported["hunt"].clone();
    assert_eq!(added["techniques"], serde_json::json!(["T1071"]));
    let id = added["id"].as_str().unwrap_or_default().to_string();
    let rule = format!("hunt:{id}");
    assert_eq!(added["rule_id"], rule.as_str());
    assert_eq!(added["enabled"], true);

    // The scheduler runs it at once; Paris's stored alert raises a local alert.
    let paris_cli = Arc::new(org.agent_cli(paris.local_addr, "mona")?);
    let raised = eventually("the hunt alert in the Paris queue", WAIT, || {
        let cli = paris_cli.clone();
        async move {
            let alerts = hunt_alerts(&cli).await.ok()?;
            (!alerts.is_empty()).then_some(alerts)
        }
    })
    .await?;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let alert = &raised[0];
    assert_eq!(alert["rule_id"], rule.as_str());
    assert_eq!(alert["title"], "Emotet C2");
    assert_eq!(alert["severity"], "high");
    assert_eq!(
        alert["status"], "new",
        "in the triage queue like any detection"
    );
    assert_eq!(alert["tier"], 1);
    assert_eq!(alert["techniques"], serde_json::json!(["T1071"]));
    assert_eq!(alert["entities"]["hosts"], serde_json::json!(["ws-1"]));
    assert_ne!(alert["sla_due"], "", "an SLA clock runs");
    // …and the Tier 1 analyst who opens it gets the hub's runbook for hunt hits, unticked.
    let group = alert["id"].as_str().unwrap_or_default().to_string();
    let shown = eventually("the hunt runbook on the alert at Paris", WAIT, || {
        let (cli, group, runbook_id) = (paris_cli.clone(), group.clone(), runbook_id.clone());
        async move {
            let shown = json(&cli, &["alerts", "show", &group]).await.ok()?;
            (shown["runbooks"][0]["id"] == runbook_id.as_str()).then_some(shown)
        }
    })
    .await?;
    assert_eq!(shown["runbooks"][0]["progress"], "0/2", "{shown}");

    // Statistics: one run, the hit at Paris, none at Lyon (whose sweep finished).
    let stats = eventually("both sites' sweeps confirmed", WAIT, || {
        let ines = ines.clone();
        let id = id.clone();
        async move {
            let stats = json(&ines, &["hunt", "library", "stats", &id]).await.ok()?;
            let confirmed = |name| site(&stats, name).and_then(|s| s["runs_confirmed"].as_u64());
            let paris_hits = site(&stats, "paris").and_then(|s| s["hits"].as_u64());
            (confirmed("paris") == Some(1) && confirmed("lyon") == Some(1) && paris_hits == Some(1))
                .then_some(stats)
        }
    })
    .await?;
    assert_eq!(stats["runs"], 1, "{stats}");
    assert_eq!(
        site(&stats, "lyon").map(|s| &s["hits"]),
        Some(&Value::from(0))
    );
    assert_ne!(stats["last_run_ms"], 0);
    assert_ne!(stats["last_hit_ms"], 0);
    let lyon_cli = Arc::new(org.agent_cli(lyon.local_addr, "mona")?);
    assert!(hunt_alerts(&lyon_cli).await?.is_empty(), "no alert at Lyon");

    // Restarted, the hub does not run it again (its next run is an hour away).
    hub.stop().await?;
    let hub = org.hub_on(listen, &["paris", "lyon"], OPERATORS).await?;
    // Something that must NOT happen has no event to wait for: three scheduler passes.
    tokio::time::sleep(sirt_hub::hunt_schedule::TICK * 3).await;
    let after = json(&ines, &["hunt", "library", "show", &id]).await?;
    assert_eq!(after["hunt"]["runs"], 1, "{after}");
    assert_eq!(hunt_alerts(&paris_cli).await?.len(), 1);

    // Disabled, then run now by hand: a second run; edited: a second version, the first kept.
    let disabled = json(&ines, &["hunt", "library", "disable", &id]).await?;
    assert_eq!(disabled["enabled"], false);
    let run = json(&ines, &["hunt", "library", "run", &id]).await?;
    assert_eq!(run["library"]["runs"], 2);
    let updated = json(
        &ines,
        &["hunt", "library", "update", &id, "--name", "Emotet C2 v2"],
    )
    .await?;
    assert_eq!(updated["version"], 2);
    let shown = json(&ines, &["hunt", "library", "show", &id]).await?;
    assert_eq!(shown["versions"][0]["name"], "Emotet C2");
    drop((hub, paris, lyon));
    Ok(())
}

/// `/api/v1/hunt-library` over HTTPS with operator certificates: the keepers add, edit, run
/// and read statistics; a Tier 1 analyst reads but may not add; the routes are documented.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hunt_library_api_adds_edits_runs_and_refuses_who_does_not_keep_it()
-> anyhow::Result<()> {
    use socfed_tests::api;
    let org = Org::new()?;
    let extra = format!("{OPERATORS}[dashboard]\nlisten = \"127.0.0.1:0\"\n");
    let hub = org.hub(&["paris"], &extra).await?;
    let root = api::base(&hub)?;
    let ines = api::with_certificate(&org.pki, "ines")?;
    let tom = api::with_certificate(&org.pki, "tom")?;
    let body = serde_json::json!({
        "name": "Qakbot", "indicators": ["ip:198.51.100.9"], "techniques": ["T1105"],
        "severity": "critical", "interval_s": 600, "lookback_s": 3600, "disabled": true,
    });
    let refused = tom
        .post(format!("{root}/hunt-library"))
        .json(&body)
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    let added: Value = ines
        .post(format!("{root}/hunt-library"))
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = added["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(added["enabled"], false);
    assert_eq!(
        added["indicators"],
        serde_json::json!(["ipv4:198.51.100.9"])
    );
    let bad = ines
        .post(format!("{root}/hunt-library"))
        .json(
            &serde_json::json!({"name": "x", "indicators": ["ip:1.2.3.4"],
            "severity": "high", "interval_s": 60, "lookback_s": 60}),
        )
        .send()
        .await?;
    assert_eq!(bad.status(), 400, "an interval under 5 minutes");

    // A TLP:RED entry (a feed shared under RED) is for the library's keepers only: a tier 1
    // analyst neither lists it nor learns that it exists.
    let mut red = body.clone();
    red["name"] = "Partner feed".into();
    red["tlp"] = "red".into();
    let red: Value = ines
        .post(format!("{root}/hunt-library"))
        .json(&red)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let red_id = red["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(red["tlp"], "red", "{red}");
    for path in [
        format!("{root}/hunt-library/{red_id}"),
        format!("{root}/hunt-library/{red_id}/stats"),
    ] {
        assert_eq!(tom.get(&path).send().await?.status(), 404, "{path}");
        assert_eq!(ines.get(&path).send().await?.status(), 200, "{path}");
    }
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| h["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let as_tom: Value = tom
        .get(format!("{root}/hunt-library"))
        .send()
        .await?
        .json()
        .await?;
    assert!(
        !names(&as_tom).contains(&"Partner feed".to_string()),
        "{as_tom}"
    );
    let as_ines: Value = ines
        .get(format!("{root}/hunt-library"))
        .send()
        .await?
        .json()
        .await?;
    assert!(
        names(&as_ines).contains(&"Partner feed".to_string()),
        "{as_ines}"
    );

    let mut edit = body.clone();
    edit["name"] = "Qakbot 2".into();
    let edited: Value = ines
        .put(format!("{root}/hunt-library/{id}"))
        .json(&edit)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(edited["version"], 2);
    let run: Value = ines
        .post(format!("{root}/hunt-library/{id}/run"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(run["library"]["runs"], 1);
    assert_ne!(run["hunt_id"], "");
    let stats: Value = tom
        .get(format!("{root}/hunt-library/{id}/stats"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(stats["runs"], 1);
    assert_eq!(
        site(&stats, "paris").map(|s| &s["runs"]),
        Some(&Value::from(1))
    );
    let listed: Value = tom
        .get(format!("{root}/hunt-library"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(listed["items"][0]["name"], "Qakbot 2");
    // An import: the STIX bundle as the body, the choices in the query.
    let bundle = serde_json::json!({"type": "bundle",
        "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
        {"type": "indicator", "spec_version": "2.1",
         "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
         "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
         "name": "Qakbot C2", "pattern": "[ipv4-addr:value = '198.51.100.10']",
         "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}]});
    let url = format!("{root}/hunt-library/import?format=stix&severity=high&disabled=true");
    let refused = tom.post(&url).body(bundle.to_string()).send().await?;
    assert_eq!(refused.status(), 403);
    let imported: Value = ines
        .post(&url)
        .body(bundle.to_string())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(imported["taken"], 1, "{imported}");
    assert_eq!(imported["hunt"]["name"], "Qakbot C2");
    assert_eq!(
        imported["hunt"]["indicators"],
        serde_json::json!(["ipv4:198.51.100.10"])
    );
    let doc: Value = tom
        .get(format!("{root}/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    assert!(doc["paths"]["/api/v1/hunt-library/{id}/stats"].is_object());
    Ok(())
}
