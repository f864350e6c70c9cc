//! The incident page's observables section in headless Chromium: a tier 3 analyst signs in,
//! sees a site's hostile URL as text (no script runs), adds an observable with the page's
//! plain form (IOC, a tag) and sees it listed, then follows the "also in" link to the other
//! incident holding the shared domain. Screenshots under `target/test-artifacts/`.

use super::chromium::{click, element, shot, sign_in, text_becomes};
use fantoccini::Locator;
use socfed_proto::pb;
use socfed_tests::{clients, eventually, fixture::Org};
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"tara\"\nrole = \"tier3\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

fn report(local: &str, title: &str, rule: &str, urls: &[&str]) -> pb::IncidentReport {
    let mut indicators = vec![pb::Indicator {
        kind: pb::IndicatorKind::Domain as i32,
        value: "c2.example".into(),
    }];
    indicators.extend(urls.iter().map(|u| pb::Indicator {
        kind: pb::IndicatorKind::Url as i32,
        value: (*u).into(),
    }));
    pb::IncidentReport {
        rule_id: rule.into(),
        indicators,
        ..clients::report(local, title)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_adds_an_observable_and_follows_also_in_in_chromium() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let hostile = "https://evil.example/\"><script>alert(1)</script>";
    org.escalate_once(
        hub.addr,
        "paris",
        report("p-1", "Paris beacon", "paris-dns", &[hostile]),
    )
    .await?;
    org.escalate_once(
        hub.addr,
        "lyon",
        report("l-1", "Lyon beacon", "lyon-proxy", &[]),
    )
    .await?;
    let mut grpc = org.operator(hub.addr, "tara")?;
    let all = clients::all_incidents(&mut grpc).await?;
    let id_of = |title: &str| {
        all.iter()
            .find(|i| i.title == title)
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("{title} in {all:?}"))
    };
    let (a, b) = (id_of("Paris beacon")?, id_of("Lyon beacon")?);
    let login = socfed_tests::web::login_url(hub.addr, &org.pki, "tara").await?;
    let Some(chromium) = super::chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let browser = chromium.browser.clone();
    let outcome = drive(&browser, &login, &a, &b).await;
    let _ = browser.close().await;
    outcome?;
    hub.stop().await?;
    Ok(())
}

async fn drive(browser: &fantoccini::Client, login: &str, a: &str, b: &str) -> anyhow::Result<()> {
    sign_in(browser, login).await?;
    element(browser, "main h1").await?;
    let base = super::chromium::base_of(login);
    browser.goto(&format!("{base}/incidents/{a}")).await?;
    text_becomes(browser, "main h1", "Paris beacon").await?;
    let table = element(browser, "table.observables").await?.text().await?;
    assert!(
        table.contains("url:https://evil.example/\"><script>alert(1)</script>"),
        "the hostile URL shown as text: {table}"
    );
    assert!(browser.get_alert_text().await.is_err(), "no script ran");
    shot(browser, "dashboard-observables").await?;

    // Add one with the page's form, as a person fills it in.
    element(browser, "input[name=\"indicator\"][required]")
        .await?
        .send_keys("ip:198.51.100.7")
        .await?;
    click(
        browser,
        "form.respond:has(input[value=\"add\"]) input[name=\"ioc\"]",
    )
    .await?;
    browser
        .find(Locator::Css(
            "form.respond:has(input[value=\"add\"]) input[name=\"tag\"]",
        ))
        .await?
        .send_keys("scan")
        .await?;
    click(browser, "form.respond:has(input[value=\"add\"]) button").await?;
    eventually(
        "the new observable listed",
        Duration::from_secs(20),
        || async {
            let text = browser
                .find(Locator::Css("table.observables"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (text.contains("ipv4:198.51.100.7") && text.contains("IOC, tags scan")).then_some(())
        },
    )
    .await?;
    shot(browser, "dashboard-observables-added").await?;

    // "Also in": the other incident holding the shared domain, one click away.
    click(
        browser,
        &format!("table.observables a[href=\"/incidents/{b}\"]"),
    )
    .await?;
    text_becomes(browser, "main h1", "Lyon beacon").await?;
    let back = element(browser, "table.observables").await?.text().await?;
    assert!(
        back.contains(a),
        "B's page names A as also holding it: {back}"
    );
    Ok(())
}
