//! The console's alert search in a real browser (headless Chromium, `chromium.rs`): a Tier 1
//! analyst opens Search from the navigation, fills the form (a host, then a technique and
//! words), gets exactly the matching groups newest first, opens one; markup typed into the
//! form comes back as text; a bad technique is refused on a page that says why.

use super::chromium::{self, element, shot, text_until};
use fantoccini::Locator;
use site_agent::soc::Tier;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, add_analyst, alert, login_url};
use std::time::Duration;

/// The result rows' group ids, in order.
async fn result_ids(b: &fantoccini::Client) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for row in b.find_all(Locator::Css("#results tr[data-id]")).await? {
        ids.push(row.attr("data-id").await?.unwrap_or_default());
    }
    Ok(ids)
}

/// Fills the search form's fields (`name` → value; the others cleared), submits it and waits
/// for the results page of that search (its address changes with the filters).
async fn search(b: &fantoccini::Client, fields: &[(&str, &str)]) -> anyhow::Result<()> {
    let before = b.current_url().await?;
    for name in ["indicator", "host", "user", "technique", "text"] {
        let input = element(b, &format!("form[role=search] input[name={name}]")).await?;
        input.clear().await?;
        if let Some((_, value)) = fields.iter().find(|(n, _)| *n == name) {
            input.send_keys(value).await?;
        }
    }
    element(b, "form[role=search] button")
        .await?
        .click()
        .await?;
    socfed_tests::eventually("the results page", Duration::from_secs(20), || async {
        let now = b.current_url().await.ok()?;
        (now != before).then_some(())
    })
    .await?;
    element(b, "#results").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_searches_alerts_from_the_console_in_chromium() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let org = Org::new()?;
    let Some(chromium) = chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "tina", Tier::T1)?;
    // Group ids are made at intake's clock: a pause keeps their order that of the calls.
    let mut ids = Vec::new();
    for (title, host) in [
        ("Encoded PowerShell", "ws-1"),
        ("Beaconing to a new C2", "ws-2"),
        ("PowerShell download cradle", "ws-3"),
    ] {
        ids.push(alert(&agent, title, host)?);
        std::thread::sleep(Duration::from_millis(5));
    }
    let outcome = drive(&chromium.browser, &org, &agent, &ids).await;
    if outcome.is_err() {
        let page = chromium.browser.source().await.unwrap_or_default();
        eprintln!("the page when it failed:\n{page}");
    }
    let _ = chromium.browser.clone().close().await;
    outcome?;
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

async fn drive(
    b: &fantoccini::Client,
    org: &Org,
    agent: &site_agent::app::RunningAgent,
    ids: &[String],
) -> anyhow::Result<()> {
    b.goto(&login_url(agent.local_addr, &org.pki, "tina").await?)
        .await?;
    element(b, "#sign-in").await?.click().await?;
    element(b, "nav a[href=\"/search\"]").await?.click().await?;
    element(b, "form[role=search]").await?;

    search(b, &[("host", "WS-2")]).await?;
    assert_eq!(result_ids(b).await?, [ids[1].clone()]);
    search(b, &[("technique", "t1059.001")]).await?;
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(result_ids(b).await?, newest_first);
    search(
        b,
        &[
            ("indicator", "domain:c2.bad.example"),
            ("text", "powershell"),
        ],
    )
    .await?;
    assert_eq!(result_ids(b).await?, [ids[2].clone(), ids[0].clone()]);
    shot(b, "console-search").await?;
    // A result opens its group.
    element(b, &format!("#results a[href=\"/alerts/{}\"]", ids[2]))
        .await?
        .click()
        .await?;
    text_until(b, "h1", "the group's page", |t| {
        t == "PowerShell download cradle"
    })
    .await?;

    // Markup typed into the form is text on the page, and matches nothing.
    b.goto(&format!("{}/search", current_base(b).await?))
        .await?;
    search(b, &[("text", "<img src=x onerror=alert(1)> powershell")]).await?;
    assert!(result_ids(b).await?.is_empty());
    let value = element(b, "form[role=search] input[name=text]")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert_eq!(value, "<img src=x onerror=alert(1)> powershell");
    assert!(b.find_all(Locator::Css("img")).await?.is_empty());

    // A bad technique: the refusal says why.
    element(b, "form[role=search] input[name=technique]")
        .await?
        .send_keys("T10")
        .await?;
    element(b, "form[role=search] button")
        .await?
        .click()
        .await?;
    text_until(b, "main", "the refusal", |t| t.contains("technique")).await?;
    Ok(())
}

/// `https://host:port` of the page the browser is on.
async fn current_base(b: &fantoccini::Client) -> anyhow::Result<String> {
    let url = b.current_url().await?;
    Ok(url.origin().ascii_serialization())
}
