//! The dashboard in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs) loads the incident board through a sign-in
//! link and its confirmation button, sees an incident escalated during the test appear without a reload, opens its
//! detail page and starts its triage with the page's form. A screenshot of each page is saved under `target/test-artifacts/`.
//!
//! Without Chromium installed the test says so and passes, unless `SOCFED_REQUIRE_BROWSER=1`
//! (set by `.ci/run`), where a missing browser is a failure.

use fantoccini::{ClientBuilder, Locator};
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::procs::Proc;
use socfed_tests::{clients, eventually, fixture::Org, free_port, pki::TestPki};
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_shows_a_new_incident_live_and_opens_its_detail_page_in_chromium()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let (chromium, driver) = (
        Path::new("/usr/bin/chromium"),
        Path::new("/usr/bin/chromedriver"),
    );
    if !chromium.exists() || !driver.exists() {
        anyhow::ensure!(
            std::env::var("SOCFED_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "Chromium is required: apt-get install chromium chromium-driver"
        );
        eprintln!(
            "SKIPPED: the browser test needs Debian's chromium and chromium-driver (.ci/run installs them)"
        );
        return Ok(());
    }
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let first = org
        .raise_at_site(
            paris.local_addr,
            hub.addr,
            "Ransomware note on a file server",
        )
        .await?;
    let channel = clients::channel(
        hub.addr,
        &org.pki.operator("ines")?,
        &org.pki.domain,
        ExpectedServer::Hub,
    )?;
    let login = OperatorRosterClient::new(channel)
        .dashboard_login(pb::DashboardLoginRequest {})
        .await?
        .into_inner()
        .url;

    let port = free_port()?;
    let _driver = Proc::spawn(
        driver,
        &[&format!("--port={port}")],
        org.dir().join("chromedriver.log"),
        "chromedriver",
    )?;
    let profile = org.dir().join("chromium-profile");
    let capabilities: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
        serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                // The hub's certificate chains to the test CA, which this browser does not know.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--ignore-certificate-errors", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }),
    )?;
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = eventually(
        "chromedriver to accept a session",
        Duration::from_secs(30),
        || {
            let capabilities = capabilities.clone();
            let connector = connector.clone();
            async move {
                ClientBuilder::new(connector)
                    .capabilities(capabilities)
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
                    .ok()
            }
        },
    )
    .await?;
    let outcome = drive(&browser, &login, &first, &paris, &hub, &org.pki).await;
    let _ = browser.close().await;
    outcome?;
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}

async fn drive(
    browser: &fantoccini::Client,
    login: &str,
    first: &str,
    paris: &site_agent::app::RunningAgent,
    hub: &sirt_hub::app::RunningHub,
    pki: &TestPki,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(artifacts())?;
    browser.goto(login).await?;
    // The link only shows who it signs in as; the button signs in.
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("sign-in"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("tr[data-id=\"{first}\"]")))
        .await?;
    std::fs::write(
        artifacts().join("dashboard-board.png"),
        browser.screenshot().await?,
    )?;

    // Escalated while the page is open: it appears without a reload.
    let second =
        clients::raise_at_site(paris.local_addr, hub.addr, pki, "Beaconing to a new C2").await?;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("tr[data-id=\"{second}\"]")))
        .await?;
    let live = browser.find(Locator::Id("live")).await?.text().await?;
    assert!(
        live.starts_with("Live: updated"),
        "the rows were refreshed in place: {live}"
    );
    std::fs::write(
        artifacts().join("dashboard-board-live.png"),
        browser.screenshot().await?,
    )?;

    click(browser, &format!("tr[data-id=\"{second}\"] a")).await?;
    text_becomes(browser, "main h1", "Beaconing to a new C2").await?;
    let page = browser.source().await?;
    for part in ["Sightings per site", "paris", "Timeline"] {
        assert!(page.contains(part), "{part} missing from the detail page");
    }
    std::fs::write(
        artifacts().join("dashboard-incident.png"),
        browser.screenshot().await?,
    )?;

    // Act from the page: the "Start triage" form (plain HTML, posted by the browser with its
    // own Origin) comes back to the incident in triage.
    click(browser, "form:has(input[value=\"start-triage\"]) button").await?;
    let triaged = eventually(
        "the incident page to show triage",
        Duration::from_secs(20),
        || async {
            let line = browser
                .find(Locator::Id("state"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            line.contains(" · triage · ").then_some(())
        },
    )
    .await;
    if let Err(e) = triaged {
        let page = browser.source().await.unwrap_or_default();
        anyhow::bail!("{e}: {page}");
    }
    std::fs::write(
        artifacts().join("dashboard-incident-triaged.png"),
        browser.screenshot().await?,
    )?;

    // Sign out from the page: the session is gone, the board asks to sign in again.
    click(browser, "form.who button").await?;
    text_becomes(browser, "main p", "You are signed out.").await?;
    browser.goto(&format!("{}/", base_of(login))).await?;
    let page = browser.source().await?;
    assert!(page.contains("sirt-hub login"), "signed out: {page}");
    Ok(())
}

/// Clicks the element `css` selects. The board replaces its rows in place on every live
/// update, so an element found just before one is stale: find and click again until a click
/// lands (the condition, not a pause).
async fn click(browser: &fantoccini::Client, css: &str) -> anyhow::Result<()> {
    eventually(
        &format!("a click on {css}"),
        Duration::from_secs(20),
        || {
            let (browser, css) = (browser.clone(), css.to_string());
            async move {
                browser
                    .find(Locator::Css(&css))
                    .await
                    .ok()?
                    .click()
                    .await
                    .ok()
            }
        },
    )
    .await
}

/// Waits until the element `css` selects reads `wanted`: after a click the old page's element
/// may still be found (then goes stale) before the new page is there.
async fn text_becomes(browser: &fantoccini::Client, css: &str, wanted: &str) -> anyhow::Result<()> {
    let last = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let found = eventually(
        &format!("{css} to read {wanted:?}"),
        Duration::from_secs(20),
        || {
            let (browser, css, wanted) = (browser.clone(), css.to_string(), wanted.to_string());
            let last = last.clone();
            async move {
                let text = browser
                    .find(Locator::Css(&css))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                let done = text == wanted;
                *last.lock().unwrap_or_else(|p| p.into_inner()) = text;
                done.then_some(())
            }
        },
    )
    .await;
    found.map_err(|e| {
        let seen = last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        anyhow::anyhow!("{e}; last read {seen:?}")
    })
}

/// `https://host:port` of a sign-in link.
fn base_of(link: &str) -> &str {
    link.split("/login").next().unwrap_or(link)
}
