//! Status flows both ways between a site and the hub, through what people use: a site's own
//! status and owner of an escalated local incident reach `sirt-hub incidents show` (text and
//! JSON) and the dashboard, and the hub's incident id, phase and IR lead reach `site-agent
//! incidents show` (text and JSON), also when they change while the site is offline. In-process
//! hub and agent over real mutual TLS; the real CLIs against them.

use socfed_proto::pb;
use socfed_tests::pki::TestPki;
use socfed_tests::web::{https, login_url, sign_in};
use socfed_tests::{clients, eventually, fixture::Org, procs::binary};
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n\
[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n";
const WAIT: Duration = Duration::from_secs(30);

fn run(
    bin: &str,
    pki: &TestPki,
    who: &str,
    target: (&str, SocketAddr),
    args: &[&str],
) -> anyhow::Result<Output> {
    let files = pki.operator(who)?;
    Ok(Command::new(binary(bin)?)
        .args(args)
        .args([
            target.0,
            &target.1.to_string(),
            "--server-name",
            "127.0.0.1",
        ])
        .env("SOCFED_CA", &files.ca)
        .env("SOCFED_CERT", &files.cert)
        .env("SOCFED_KEY", &files.key)
        .output()?)
}

fn stdout_of(out: Output) -> anyhow::Result<String> {
    anyhow::ensure!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `site-agent ARGS` as tester (a SOC manager of the site).
fn site(pki: &TestPki, agent: SocketAddr, args: &[&str]) -> anyhow::Result<String> {
    stdout_of(run("site-agent", pki, "tester", ("--agent", agent), args)?)
}

/// `sirt-hub ARGS` as ines (the IR lead).
fn hub(pki: &TestPki, hub: SocketAddr, args: &[&str]) -> anyhow::Result<String> {
    stdout_of(run("sirt-hub", pki, "ines", ("--hub", hub), args)?)
}

/// `sirt-hub ARGS` as carla (the CISO, who appoints IR leads).
fn hub_ciso(pki: &TestPki, hub: SocketAddr, args: &[&str]) -> anyhow::Result<String> {
    stdout_of(run("sirt-hub", pki, "carla", ("--hub", hub), args)?)
}

fn json(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(text).ok()
}

/// `site-agent incidents show LOCAL -o json` once its `hub` block satisfies `wanted`.
async fn site_sees(
    pki: &TestPki,
    agent: SocketAddr,
    local: &str,
    what: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> anyhow::Result<serde_json::Value> {
    eventually(what, WAIT, || {
        let shown = site(pki, agent, &["incidents", "show", local, "-o", "json"])
            .ok()
            .and_then(|t| json(&t));
        let ok = shown.as_ref().is_some_and(|s| wanted(&s["hub"]));
        async move { shown.filter(|_| ok) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sites_status_and_owner_reach_the_hub_and_the_hubs_phase_and_lead_reach_the_site()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_server = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub_server.addr, "").await?;
    let hub_id = org
        .raise_at_site(paris.local_addr, hub_server.addr, "beacon")
        .await?;
    let shown = json(&hub(
        &org.pki,
        hub_server.addr,
        &["incidents", "show", &hub_id, "-o", "json"],
    )?)
    .ok_or_else(|| anyhow::anyhow!("show -o json is JSON"))?;
    let local = shown["sightings"][0]["local_incident_ids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(local.starts_with("INC-"), "{shown}");
    assert_eq!(
        shown["sightings"][0]["locals"][0]["status"], "open",
        "{shown}"
    );
    assert_eq!(
        shown["sightings"][0]["locals"][0]["owner"], "tester",
        "{shown}"
    );

    // The first acknowledgement is followed by the hub's state: id and phase, no lead yet.
    let seen = site_sees(
        &org.pki,
        paris.local_addr,
        &local,
        "the hub id at the site",
        |h| h["incident_id"] == hub_id.as_str(),
    )
    .await?;
    assert_eq!(seen["hub"]["phase"], "new", "{seen}");
    assert_eq!(seen["hub"]["ir_lead"], "", "{seen}");

    // The site contains it and hands it to alice: a new revision, shown at the hub.
    site(
        &org.pki,
        paris.local_addr,
        &[
            "incidents",
            "update",
            &local,
            "--status",
            "contained",
            "--owner",
            "alice",
        ],
    )?;
    let at_hub = eventually("the local status and owner at the hub", WAIT, || {
        let shown = hub(
            &org.pki,
            hub_server.addr,
            &["incidents", "show", &hub_id, "-o", "json"],
        )
        .ok()
        .and_then(|t| json(&t));
        let ok = shown.as_ref().is_some_and(|s| {
            let l = &s["sightings"][0]["locals"][0];
            l["status"] == "contained" && l["owner"] == "alice"
        });
        async move { shown.filter(|_| ok) }
    })
    .await?;
    let locals = &at_hub["sightings"][0]["locals"][0];
    assert_eq!(locals["local_incident_id"], local.as_str(), "{at_hub}");
    assert_eq!(
        locals["revision"], 2,
        "the change went as revision 2: {at_hub}"
    );
    assert_eq!(at_hub["sightings"][0]["local_owner"], "alice", "{at_hub}");
    let table = hub(&org.pki, hub_server.addr, &["incidents", "show", &hub_id])?;
    // The sightings table's row of paris (timeline lines name the local incident too).
    let row = table
        .lines()
        .find(|l| l.trim_start_matches(['│', '|', ' ']).starts_with("paris") && l.contains(&local))
        .unwrap_or_default();
    assert!(
        table.contains("local status") && table.contains("local owner"),
        "{table}"
    );
    assert!(
        row.contains("contained") && row.contains("alice"),
        "{table}"
    );

    // The hub assigns an IR lead and moves the phase on: the site sees both.
    hub_ciso(
        &org.pki,
        hub_server.addr,
        &["incidents", "assign", &hub_id, "ines"],
    )?;
    hub(
        &org.pki,
        hub_server.addr,
        &["incidents", "transition", &hub_id, "start-triage"],
    )?;
    hub(
        &org.pki,
        hub_server.addr,
        &["incidents", "transition", &hub_id, "contain"],
    )?;
    let seen = site_sees(
        &org.pki,
        paris.local_addr,
        &local,
        "containment and the lead",
        |h| h["phase"] == "containment" && h["ir_lead"] == "ines",
    )
    .await?;
    assert_eq!(seen["hub"]["incident_id"], hub_id.as_str(), "{seen}");
    let text = site(&org.pki, paris.local_addr, &["incidents", "show", &local])?;
    for part in [
        format!("hub incident:  {hub_id}"),
        "hub phase:     containment".to_string(),
        "hub IR lead:   ines".to_string(),
    ] {
        assert!(text.contains(&part), "{part:?} missing:\n{text}");
    }

    // A change while the site is offline reaches it when it reconnects, and what it recorded
    // is kept across the restart.
    paris.stop().await?;
    hub(
        &org.pki,
        hub_server.addr,
        &["incidents", "transition", &hub_id, "eradicate"],
    )?;
    let paris = org.agent("paris", hub_server.addr, "").await?;
    let seen = site_sees(
        &org.pki,
        paris.local_addr,
        &local,
        "eradication after the restart",
        |h| h["phase"] == "eradication",
    )
    .await?;
    assert_eq!(seen["hub"]["ir_lead"], "ines", "{seen}");
    let audit = site(&org.pki, paris.local_addr, &["audit", "verify"])?;
    assert!(!audit.is_empty());

    paris.stop().await?;
    hub_server.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_each_sites_status_and_owner_escaped_and_bad_values_are_refused()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let extra = format!("{OPERATORS}[dashboard]\nlisten = \"127.0.0.1:0\"\n");
    let hub_server = org.hub(&["paris"], &extra).await?;
    let base = format!(
        "https://{}",
        hub_server
            .dashboard_addr
            .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
    );
    // A hostile site: markup in the one free-text field it may set here, the local id.
    let hostile_id = "<img src=x onerror=alert(1)>";
    let contained = pb::IncidentReport {
        local_status: pb::LocalStatus::Contained as i32,
        local_owner: "alice".into(),
        ..clients::report(hostile_id, "beacon")
    };
    org.escalate_once(hub_server.addr, "paris", contained.clone())
        .await?;
    // Markup as an owner, and a status number nobody defined: refused, kept for review.
    for bad in [
        pb::IncidentReport {
            revision: 2,
            local_owner: "<b>bob</b>".into(),
            ..contained.clone()
        },
        pb::IncidentReport {
            revision: 3,
            local_status: 42,
            ..contained.clone()
        },
    ] {
        org.escalate_once(hub_server.addr, "paris", bad).await?;
    }
    let mut operator = org.operator(hub_server.addr, "ines")?;
    let reasons: Vec<String> = operator
        .list_conflicts(pb::ListConflictsRequest::default())
        .await?
        .into_inner()
        .conflicts
        .into_iter()
        .map(|c| c.reason)
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("local_owner: not a name")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("local_status: unknown local status number 42")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().all(|r| !r.contains("<b>")),
        "refusals do not echo the markup: {reasons:?}"
    );
    let incident = clients::all_incidents(&mut operator)
        .await?
        .into_iter()
        .find(|i| i.title == "beacon")
        .ok_or_else(|| anyhow::anyhow!("the incident is stored"))?;
    let local = &incident.sightings[0].locals[0];
    assert_eq!(
        (local.status, local.owner.as_str(), local.revision),
        (pb::LocalStatus::Contained as i32, "alice", 1),
        "the refused revisions changed nothing"
    );

    let client = https(&org.pki)?;
    let session = sign_in(
        &client,
        &base,
        &login_url(hub_server.addr, &org.pki, "ines").await?,
    )
    .await?;
    let page = client
        .get(format!("{base}/incidents/{}", incident.id))
        .header("cookie", session)
        .send()
        .await?;
    anyhow::ensure!(page.status() == 200, "{}", page.status());
    let page = page.text().await?;
    for part in [
        "<th>Local status</th>",
        "<th>Local owner</th>",
        "&lt;img src=x onerror=alert(1)&gt;",
        "<td>contained</td>",
        "<td>alice</td>",
    ] {
        assert!(page.contains(part), "{part} missing: {page}");
    }
    assert!(!page.contains("<img"), "site text is escaped: {page}");
    hub_server.stop().await?;
    Ok(())
}
