//! The SOC console in a real browser (headless Chromium over WebDriver, `chromium.rs`): a
//! Tier 1 analyst signs in with a link from `site-agent login`, sees a new alert group appear
//! in the triage queue without a reload, and acknowledges then escalates it with the queue's
//! keys (j, a, e: the shared script submitting the row's forms; m assigns another to them, c
//! puts the focus on its verdict); a Tier 2 analyst signs in and
//! promotes it to a local incident from the alert group's page. A screenshot of each page goes
//! under `target/test-artifacts/`.

use super::chromium::{self, click, element, shot, text_becomes};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use site_agent::soc::Tier;
use site_agent::soc::triage::StatusKind;
use socfed_tests::eventually;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, add_analyst, alert, login_url};
use std::time::Duration;

/// Presses and releases `key` on the page (as a person types it, outside any field).
async fn press(browser: &fantoccini::Client, key: char) -> anyhow::Result<()> {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    browser.perform_actions(keys).await?;
    Ok(())
}

/// Selects the row of group `id` with the keys (pressed until it is selected: the queue may
/// refresh under them).
async fn select_row(b: &fantoccini::Client, id: &str) -> anyhow::Result<()> {
    let css = format!("tr[data-id=\"{id}\"]");
    element(b, &css).await?;
    eventually("the row selected", Duration::from_secs(20), || async {
        let class = b
            .find(fantoccini::Locator::Css(&css))
            .await
            .ok()?
            .attr("class")
            .await
            .ok()?
            .unwrap_or_default();
        if class.contains("sel") {
            return Some(());
        }
        // Past the last row j stays there: go back up with k.
        let rows = b
            .find_all(fantoccini::Locator::Css("tr[data-row]"))
            .await
            .ok()?;
        let last = rows.last()?.attr("class").await.ok()?.unwrap_or_default();
        press(b, if last.contains("sel") { 'k' } else { 'j' })
            .await
            .ok()?;
        None
    })
    .await
}

/// Waits until the group `id` satisfies `done` in the agent's store.
async fn group_becomes(
    agent: &site_agent::app::RunningAgent,
    id: &str,
    what: &str,
    done: impl Fn(&site_agent::soc::group::AlertGroup) -> bool,
) -> anyhow::Result<()> {
    let id = ulid::Ulid::from_string(id)?;
    eventually(what, Duration::from_secs(20), || {
        let reached = agent
            .soc
            .get_group(&console::manager(), id)
            .ok()
            .filter(|g| done(g))
            .map(|_| ());
        async move { reached }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_1_acks_and_escalates_from_the_queue_and_tier_2_promotes_in_chromium()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let org = Org::new()?;
    let Some(chromium) = chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "tina", Tier::T1)?;
    add_analyst(&agent, "tom", Tier::T2)?;
    let outcome = drive(&chromium.browser, &org, &agent).await;
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
) -> anyhow::Result<()> {
    let first = alert(agent, "Encoded PowerShell", "ws-014")?;
    b.goto(&login_url(agent.local_addr, &org.pki, "tina").await?)
        .await?;
    shot(b, "console-sign-in").await?;
    element(b, "#sign-in").await?.click().await?;
    element(b, &format!("tr[data-id=\"{first}\"]")).await?;

    // A group opened while the queue is open appears without a reload.
    let second = alert(agent, "Beaconing to a new C2", "ws-015")?;
    element(b, &format!("tr[data-id=\"{second}\"]")).await?;
    let live = b
        .find(fantoccini::Locator::Id("live"))
        .await?
        .text()
        .await?;
    assert!(
        live.starts_with("Live: updated"),
        "refreshed in place: {live}"
    );
    shot(b, "console-queue").await?;

    // Keys: select the first group's row, acknowledge it (the page comes back), escalate it.
    let row_of = |id: &str| format!("tr[data-id=\"{id}\"]");
    select_row(b, &first).await?;
    press(b, 'a').await?;
    group_becomes(agent, &first, "the group acknowledged", |g| {
        g.state.status.kind() == StatusKind::Acknowledged
    })
    .await?;
    select_row(b, &first).await?;
    shot(b, "console-queue-selected").await?;
    press(b, 'e').await?;
    group_becomes(agent, &first, "the group at tier 2", |g| {
        g.state.tier == Tier::T2
    })
    .await?;
    // m gives the selected group to me; c puts the focus on its verdict.
    select_row(b, &second).await?;
    press(b, 'm').await?;
    group_becomes(agent, &second, "the group assigned to tina", |g| {
        g.state.assignee.as_deref() == Some("tina")
    })
    .await?;
    select_row(b, &second).await?;
    press(b, 'c').await?;
    let focused = b
        .execute("return document.activeElement.name", Vec::new())
        .await?;
    assert_eq!(focused.as_str(), Some("verdict"), "c focuses the verdict");
    b.goto(&format!("{}/alerts/{first}", console::base(agent)?))
        .await?;
    text_becomes(b, "#tier", "2").await?;
    shot(b, "console-alert-group").await?;
    for (path, name) in [
        ("/people", "console-people"),
        ("/directives", "console-directives"),
    ] {
        b.goto(&format!("{}{path}", console::base(agent)?)).await?;
        element(b, "main h1").await?;
        shot(b, name).await?;
    }

    // Tina signs out; Tom (Tier 2) signs in and promotes the group to a local incident.
    click(b, "form.who button").await?;
    text_becomes(b, "main p", "You are signed out.").await?;
    b.goto(&login_url(agent.local_addr, &org.pki, "tom").await?)
        .await?;
    element(b, "#sign-in").await?.click().await?;
    element(b, &row_of(&first)).await?;
    b.goto(&format!("{}/alerts/{first}", console::base(agent)?))
        .await?;
    element(b, "input[name=title]")
        .await?
        .send_keys("Encoded PowerShell on ws-014")
        .await?;
    click(b, "#promote").await?;
    text_becomes(b, "main h1", "Encoded PowerShell on ws-014").await?;
    let incident = b
        .find(fantoccini::Locator::Id("incident-id"))
        .await?
        .text()
        .await?;
    assert!(incident.starts_with("INC-"), "{incident}");
    shot(b, "console-incident").await?;
    group_becomes(agent, &first, "the group promoted", |g| {
        g.state.status.kind() == StatusKind::Promoted
    })
    .await?;
    b.goto(&format!("{}/incidents", console::base(agent)?))
        .await?;
    element(b, &format!("a[href=\"/incidents/{incident}\"]")).await?;
    shot(b, "console-incidents").await?;
    Ok(())
}
