//! The SIRT workbench in a real browser (headless Chromium, `chromium.rs`), over a hub and two
//! real site agents on mutual TLS: the IR lead signs in, triages an incident paris escalated,
//! merges lyon's incident into it, sends a directive to both sites from the incident page and
//! sees each site's result, and a change made through the API, appear in place without a
//! reload (the page's marker survives);
//! she drafts a communication, and the CISO, signed in after her, approves it. A form posted
//! from another origin changes nothing. A screenshot of each page (the incident page at each
//! step, the board, hunts, sites and KPIs) goes to
//! `target/test-artifacts/workbench-*.png`.

use super::chromium::{click, shot, sign_in, text_becomes, text_until};
use fantoccini::Locator;
use socfed_proto::pb;
use socfed_tests::web::login_url;
use socfed_tests::{clients, fixture::Org};
use std::time::Duration;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// A playbook that takes a few seconds (so its result arrives after the page has loaded) and
/// prints markup, as a careless site's might.
const SLOW_PLAYBOOK: &str = r#"[response]
[[response.playbooks]]
kind = "collect_evidence"
command = ["/bin/sh", "-c", "sleep 3; echo '<b>evidence</b> collected'"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ir_lead_works_an_incident_from_two_sites_and_a_second_person_approves_in_chromium()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let paris = org.agent("paris", hub.addr, SLOW_PLAYBOOK).await?;
    let lyon = org.agent("lyon", hub.addr, SLOW_PLAYBOOK).await?;
    let a = org
        .raise_at_site(paris.local_addr, hub.addr, "Exfiltration over DNS")
        .await?;
    let b = org
        .raise_at_site(lyon.local_addr, hub.addr, "DNS tunnel at lyon")
        .await?;
    let Some(chromium) = super::chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let browser = chromium.browser.clone();
    let outcome = drive(&browser, &org, &hub, &a, &b).await;
    if outcome.is_err() {
        let _ = shot(&browser, "workbench-failure").await;
    }
    let _ = browser.close().await;
    outcome?;
    paris.stop().await?;
    lyon.stop().await?;
    hub.stop().await?;
    Ok(())
}

async fn drive(
    browser: &fantoccini::Client,
    org: &Org,
    hub: &sirt_hub::app::RunningHub,
    a: &str,
    b: &str,
) -> anyhow::Result<()> {
    let ines = login_url(hub.addr, &org.pki, "ines").await?;
    let base = super::chromium::base_of(&ines).to_string();
    sign_in(browser, &ines).await?;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("tr[data-id=\"{a}\"]")))
        .await?;
    shot(browser, "workbench-board").await?;

    // Triage paris's incident from its page.
    browser.goto(&format!("{base}/incidents/{a}")).await?;
    click(browser, "form:has(input[value=\"start-triage\"]) button").await?;
    text_until(browser, "#state", "triage", |t| t.contains(" · triage · ")).await?;
    shot(browser, "workbench-incident-triaged").await?;

    // Merge lyon's incident into it, from lyon's incident page: back on paris's, two sites.
    browser.goto(&format!("{base}/incidents/{b}")).await?;
    browser
        .find(Locator::Css("input[name=\"into\"]"))
        .await?
        .send_keys(a)
        .await?;
    click(
        browser,
        &format!("form[action=\"/incidents/{b}/merge\"] button"),
    )
    .await?;
    text_until(browser, "main h1", "paris's incident", |t| {
        t == "Exfiltration over DNS"
    })
    .await?;
    let page = browser.source().await?;
    assert!(page.contains("<td>lyon</td>"), "lyon's sighting merged in");
    shot(browser, "workbench-merged").await?;

    // A directive to both sites; each site's result appears in place, without a reload.
    for site in ["paris", "lyon"] {
        click(
            browser,
            &format!("form[action$=\"/directive\"] input[name=\"site\"][value=\"{site}\"]"),
        )
        .await?;
    }
    browser
        .find(Locator::Css(
            "form[action$=\"/directive\"] input[name=\"kind\"]",
        ))
        .await?
        .send_keys("collect_evidence")
        .await?;
    click(browser, "form[action$=\"/directive\"] button").await?;
    text_until(
        browser,
        "tbody[data-fragment=\"directives\"]",
        "both sites sent",
        |t| t.contains("paris") && t.contains("lyon"),
    )
    .await?;
    browser
        .execute("window.socfedMark = 'loaded once'; return 1;", vec![])
        .await?;
    shot(browser, "workbench-directive-sent").await?;
    let rows = text_until(
        browser,
        "tbody[data-fragment=\"directives\"]",
        "both results",
        |t| t.matches("collect_evidence ines succeeded").count() == 2,
    )
    .await?;
    assert!(
        rows.contains("<b>evidence</b> collected"),
        "shown as text: {rows}"
    );
    let mark = browser
        .execute("return window.socfedMark || 'reloaded';", vec![])
        .await?;
    assert_eq!(mark, serde_json::json!("loaded once"), "no reload");
    let live = browser.find(Locator::Id("live")).await?.text().await?;
    assert!(live.starts_with("Live: updated"), "{live}");
    // A change made elsewhere (the CLI's API) shows in the state line in place too.
    org.operator(hub.addr, "ines")?
        .transition_incident(pb::TransitionIncidentRequest {
            legacy_command: String::new(),
            id: a.to_string(),
            command: pb::LifecycleCommand::SetSeverity.into(),
            argument: "critical".into(),
        })
        .await?;
    text_until(browser, "#state", "critical", |t| {
        t.contains(" · critical · ")
    })
    .await?;
    let mark = browser
        .execute("return window.socfedMark || 'reloaded';", vec![])
        .await?;
    assert_eq!(mark, serde_json::json!("loaded once"), "no reload");
    show(browser, "tbody[data-fragment=\"directives\"]").await?;
    shot(browser, "workbench-directive-results").await?;

    // A communication drafted by the IR lead…
    click(browser, "form[action$=\"/comms\"] button").await?;
    text_until(browser, "main", "the draft", |t| {
        t.contains("drafted by ines")
    })
    .await?;
    show(browser, "div[data-comm]").await?;
    shot(browser, "workbench-comm-drafted").await?;

    // …and the CISO, signed in after the IR lead signs out, approves it.
    click(browser, "form.who button").await?;
    // The sign-out's own page first: a navigation begun while its POST is still in flight can
    // be overtaken by it, and the browser then ends on "signed out", not on the sign-in link.
    text_becomes(browser, "main p", "You are signed out.").await?;
    sign_in(browser, &login_url(hub.addr, &org.pki, "carla").await?).await?;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(&format!("tr[data-id=\"{a}\"]")))
        .await?;
    browser.goto(&format!("{base}/incidents/{a}")).await?;
    click(
        browser,
        "div[data-comm] form:has(input[value=\"approve\"]) button",
    )
    .await?;
    text_until(browser, "tbody[data-fragment=\"comms\"]", "approved", |t| {
        t.contains("approved")
    })
    .await?;
    show(browser, "tbody[data-fragment=\"comms\"]").await?;
    shot(browser, "workbench-comm-approved").await?;

    // The other pages of the workbench, as the CISO sees them.
    for (path, heading, name) in [
        ("/hunts", "Threat hunts", "workbench-hunts"),
        ("/sites", "Sites", "workbench-sites"),
        ("/kpis", "Response KPIs", "workbench-kpis"),
    ] {
        browser.goto(&format!("{base}{path}")).await?;
        text_until(browser, "main h1", heading, |t| t == heading).await?;
        shot(browser, name).await?;
    }

    // A form posted from another origin (even with the page's token) changes nothing: the
    // browser does not send the session along, and the hub would refuse the origin anyway.
    browser.goto(&format!("{base}/incidents/{a}")).await?;
    let token = browser
        .find(Locator::Css("form[action$=\"/act\"] input[name=\"csrf\"]"))
        .await?
        .attr("value")
        .await?
        .unwrap_or_default();
    let forged = format!(
        "data:text/html,<form method=post action=\"{base}/incidents/{a}/act\"><input type=hidden name=csrf value={token}><input type=hidden name=command value=close-as-false-positive><button id=go>Win a prize</button></form>"
    );
    browser.goto(&forged).await?;
    click(browser, "#go").await?;
    let answer = text_until(browser, "main", "a refusal", |t| {
        t.contains("not signed in") || t.contains("nothing was changed")
    })
    .await?;
    assert!(!answer.contains("false positive"), "{answer}");
    shot(browser, "workbench-cross-origin-refused").await?;
    let mut grpc = org.operator(hub.addr, "ines")?;
    let stored = clients::all_incidents(&mut grpc).await?;
    let now = stored
        .iter()
        .find(|i| i.id == a)
        .ok_or_else(|| anyhow::anyhow!("incident {a}"))?;
    assert!(now.resolution.is_empty(), "not closed: {now:?}");
    Ok(())
}

/// Scrolls the element `css` selects into view, for the screenshot that follows.
async fn show(browser: &fantoccini::Client, css: &str) -> anyhow::Result<()> {
    let script = format!("document.querySelector('{css}').scrollIntoView(); return 1;");
    browser.execute(&script, vec![]).await?;
    Ok(())
}
