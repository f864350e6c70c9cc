//! Runbooks on the hub's dashboard: the runbooks page lists them with what they apply to and
//! their text (hostile Markdown escaped, a `javascript:` link kept as text), and a hub
//! incident's page shows the runbooks its techniques and severity match. Over HTTPS.

use socfed_tests::web::Browser;
use socfed_tests::{clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"erin\"\nrole = \"engineer\"\n\
[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_runbooks_and_shows_those_an_incident_matches() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let file = org.dir().join("rb.md");
    std::fs::write(
        &file,
        "# Ransomware <script>alert(1)</script>\n- [ ] Isolate [now](javascript:alert(1)) per [the wiki](https://wiki.example/rw)\n",
    )?;
    let erin = org.hub_cli(hub.addr, "erin")?;
    let added = erin.json(&[
        "runbooks",
        "add",
        &file.display().to_string(),
        "--technique",
        "T1486",
    ])?;
    let id = added["id"].as_str().unwrap_or_default().to_string();
    let other = org.dir().join("other.md");
    std::fs::write(&other, "# Phishing\n- [ ] Pull the mail\n")?;
    erin.ok(&[
        "runbooks",
        "add",
        &other.display().to_string(),
        "--technique",
        "T1566",
    ])?;

    let mut report = clients::report("p-1", "Encrypted shares");
    report.techniques = vec!["T1486".into()];
    org.escalate_once(hub.addr, "paris", report).await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    let incident = clients::all_incidents(&mut ines).await?[0].id.clone();

    let browser = Browser::open(&org.pki, &hub, "ines").await?;
    let (status, list) = browser.get("/runbooks").await?;
    assert_eq!(status, 200, "{list}");
    assert!(list.contains("technique T1486"), "{list}");
    assert!(
        list.contains("&lt;script&gt;") && !list.contains("<script>alert"),
        "{list}"
    );
    assert!(!list.contains("href=\"javascript:"), "{list}");
    assert!(list.contains("href=\"https://wiki.example/rw\""), "{list}");

    let (status, page) = browser.get(&format!("/incidents/{incident}")).await?;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&format!("id=\"runbook-{id}\"")), "{page}");
    assert!(!page.contains("Phishing"), "only what applies: {page}");
    Ok(())
}
