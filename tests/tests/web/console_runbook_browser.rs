//! A runbook's checklist ticked in a real browser (headless Chromium, `chromium.rs`): a Tier 1
//! analyst opens the alert group's page, clicks step 1 of the runbook that applies, and the
//! page comes back with the step ticked and the progress "1/2"; clicking again unticks it.
//! A screenshot goes under `target/test-artifacts/`.

use super::chromium::{self, click, shot, text_becomes};
use site_agent::soc::Tier;
use socfed_proto::vocab::runbook::{Criteria, Draft, RulePattern};
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, add_analyst, alert, base, login_url, manager};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_1_ticks_a_runbook_step_on_an_alert_group_in_chromium() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let org = Org::new()?;
    let Some(chromium) = chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let group = alert(&agent, "Encoded PowerShell", "ws-014")?;
    let runbook = agent.soc.add_runbook(
        &manager(),
        Draft::from_markdown(
            "# Encoded PowerShell\n- [ ] Isolate the host\n- [ ] Pull the process tree\n",
            Criteria {
                rules: vec![RulePattern::parse("R-ws-014")?],
                ..Criteria::default()
            },
        )?,
    )?;
    let b = &chromium.browser;
    let outcome = async {
        chromium::sign_in(b, &login_url(agent.local_addr, &org.pki, "tina").await?).await?;
        b.goto(&format!("{}/alerts/{group}", base(&agent)?)).await?;
        let progress = format!("#progress-{}", runbook.id);
        let step = format!("#step-{}-1", runbook.id);
        text_becomes(b, &progress, "0/2").await?;
        click(b, &step).await?;
        text_becomes(b, &progress, "1/2").await?;
        text_becomes(b, &step, "[x] 1.").await?;
        shot(b, "console-runbook-step").await?;
        click(b, &step).await?;
        text_becomes(b, &progress, "0/2").await?;
        anyhow::Ok(())
    }
    .await;
    if outcome.is_err() {
        eprintln!(
            "the page when it failed:\n{}",
            b.source().await.unwrap_or_default()
        );
    }
    let _ = chromium.browser.clone().close().await;
    outcome?;
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
