//! The incident page's work log in a real browser (headless Chromium, `chromium.rs`): a
//! Tier 1 analyst signs in with a link, writes a note with markup in it through the page's
//! form, and reads it back as text in the work log, authored by her. A screenshot goes under
//! `target/test-artifacts/`.

use super::chromium::{self, click, element, shot, text_becomes};
use site_agent::soc::Tier;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, add_analyst, alert, login_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_written_in_chromium_shows_in_the_work_log_as_text() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let org = Org::new()?;
    let Some(chromium) = chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let group = ulid::Ulid::from_string(&alert(&agent, "Encoded PowerShell", "ws-014")?)?;
    let incident = agent
        .soc
        .promote(
            &console::manager(),
            &[group],
            Some("Dropper on ws-014".into()),
        )?
        .id;
    let b = &chromium.browser;
    let outcome = async {
        b.goto(&login_url(agent.local_addr, &org.pki, "tina").await?)
            .await?;
        element(b, "#sign-in").await?.click().await?;
        element(b, "nav a[href=\"/kpis\"]").await?;
        b.goto(&format!("{}/incidents/{incident}", console::base(&agent)?))
            .await?;
        let text = "<b>isolated</b> ws-014 & pulled the dropper";
        element(b, "#note-text").await?.send_keys(text).await?;
        click(b, "#add-note").await?;
        text_becomes(b, "#notes li.note p.note-text", text).await?;
        let meta = element(b, "#notes li.note .note-meta")
            .await?
            .text()
            .await?;
        assert!(meta.contains("tina"), "{meta}");
        // Markup in a note is text: no element was made of it.
        let bold = b
            .find_all(fantoccini::Locator::Css("#notes b"))
            .await?
            .len();
        assert_eq!(bold, 1, "only the author's name is bold");
        shot(b, "console-incident-work-log").await?;
        anyhow::Ok(())
    }
    .await;
    if outcome.is_err() {
        let page = b.source().await.unwrap_or_default();
        eprintln!("the page when it failed:\n{page}");
    }
    let _ = chromium.browser.clone().close().await;
    outcome?;
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
