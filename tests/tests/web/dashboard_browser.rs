//! The dashboard in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs) loads the incident board through a sign-in
//! link and its confirmation button, sees an incident escalated during the test appear without a reload, opens its
//! detail page and starts its triage with the page's form. A screenshot of each page is saved under `target/test-artifacts/`.
//!
//! The browser and its waits are `chromium.rs` (without Chromium installed the test says so
//! and passes, unless `SOCFED_REQUIRE_BROWSER=1`).

use super::chromium::{base_of, click, shot, sign_in, text_becomes, text_until};
use fantoccini::Locator;
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{clients, eventually, fixture::Org, pki::TestPki};
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_shows_a_new_incident_live_and_opens_its_detail_page_in_chromium()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
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

    let Some(chromium) = super::chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let browser = chromium.browser.clone();
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
    // The link only shows who it signs in as; the button signs in.
    sign_in(browser, login).await?;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("tr[data-id=\"{first}\"]")))
        .await?;
    shot(browser, "dashboard-board").await?;

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
    shot(browser, "dashboard-board-live").await?;

    click(browser, &format!("tr[data-id=\"{second}\"] a")).await?;
    text_becomes(browser, "main h1", "Beaconing to a new C2").await?;
    let page = browser.source().await?;
    for part in ["Sightings per site", "paris", "Timeline"] {
        assert!(page.contains(part), "{part} missing from the detail page");
    }
    shot(browser, "dashboard-incident").await?;

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
    shot(browser, "dashboard-incident-triaged").await?;

    // Sign out from the page: the session is gone, the board asks to sign in again.
    click(browser, "form.who button").await?;
    text_becomes(browser, "main p", "You are signed out.").await?;
    browser.goto(&format!("{}/", base_of(login))).await?;
    text_until(browser, "main", "the sign-in hint", |t| {
        t.contains("sirt-hub login")
    })
    .await?;
    Ok(())
}
