//! Headless Chromium for the browser scenarios of both web surfaces: Debian's `chromium` and
//! `chromium-driver` (which `.ci/run` installs) driven over WebDriver, and the waits every
//! scenario needs (a click that lands, a text that appears, a screenshot per page).
//!
//! Without Chromium installed, [`start`] says so and answers `None` (the scenario passes),
//! unless `SOCFED_REQUIRE_BROWSER=1` (set by `.ci/run`), where a missing browser is a failure.

use fantoccini::{ClientBuilder, Locator};
use socfed_tests::{eventually, free_port, procs::Proc};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where screenshots go: `target/test-artifacts/`.
pub fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts")
}

/// A running chromedriver and a browser session on it (ended when the driver is dropped).
pub struct Chromium {
    pub browser: fantoccini::Client,
    _driver: Proc,
}

/// Chromium with its profile and driver log under `dir`, or `None` when it is not installed.
pub async fn start(dir: &Path) -> anyhow::Result<Option<Chromium>> {
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
        return Ok(None);
    }
    let port = free_port()?;
    let driver = Proc::spawn(
        driver,
        &[&format!("--port={port}")],
        dir.join("chromedriver.log"),
        "chromedriver",
    )?;
    let profile = dir.join("chromium-profile");
    let capabilities: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
        serde_json::json!({
            "goog:chromeOptions": {
                "binary": chromium,
                // The services' certificates chain to the test CA, which this browser does not know.
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
    Ok(Some(Chromium {
        browser,
        _driver: driver,
    }))
}

/// Saves a screenshot of the page as `target/test-artifacts/NAME.png`.
pub async fn shot(browser: &fantoccini::Client, name: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(artifacts())?;
    std::fs::write(
        artifacts().join(format!("{name}.png")),
        browser.screenshot().await?,
    )?;
    Ok(())
}

/// Opens a sign-in link and presses its button (the link alone only shows who it is for).
pub async fn sign_in(browser: &fantoccini::Client, link: &str) -> anyhow::Result<()> {
    browser.goto(link).await?;
    browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("sign-in"))
        .await?
        .click()
        .await?;
    // Until the confirmation's POST has answered (a redirect off `/login`): a navigation the
    // caller begins before then can be overtaken by it, and the browser ends on the front page.
    eventually("the sign-in to land", Duration::from_secs(20), || {
        let browser = browser.clone();
        async move {
            let url = browser.current_url().await.ok()?;
            (!url.path().starts_with("/login")).then_some(())
        }
    })
    .await
}

/// Clicks the element `css` selects. Live pages replace parts of themselves in place, so an
/// element found just before one is stale: find and click again until a click lands (the
/// condition, not a pause).
pub async fn click(browser: &fantoccini::Client, css: &str) -> anyhow::Result<()> {
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

/// Waits until the text of the element `css` selects passes `done`: after a click the old
/// page's element may still be found (then goes stale) before the new page is there.
pub async fn text_until(
    browser: &fantoccini::Client,
    css: &str,
    what: &str,
    done: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let last = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let done = &done;
    let found = eventually(
        &format!("{css} to read {what}"),
        Duration::from_secs(30),
        || {
            let (browser, css) = (browser.clone(), css.to_string());
            let last = last.clone();
            async move {
                let text = browser
                    .find(Locator::Css(&css))
                    .await
                    .ok()?
                    .text()
                    .await
                    .ok()?;
                let ok = done(&text);
                *last.lock().unwrap_or_else(|p| p.into_inner()) = text.clone();
                ok.then_some(text)
            }
        },
    )
    .await;
    found.map_err(|e| {
        let seen = last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        anyhow::anyhow!("{e}; last read {seen:?}")
    })
}

/// Waits until the element `css` selects reads `wanted`.
pub async fn text_becomes(
    browser: &fantoccini::Client,
    css: &str,
    wanted: &str,
) -> anyhow::Result<()> {
    text_until(browser, css, &format!("{wanted:?}"), |t| t == wanted)
        .await
        .map(drop)
}

/// `https://host:port` of a sign-in link.
pub fn base_of(link: &str) -> &str {
    link.split("/login").next().unwrap_or(link)
}

/// Waits for the element `css` selects.
pub async fn element(
    browser: &fantoccini::Client,
    css: &str,
) -> anyhow::Result<fantoccini::elements::Element> {
    Ok(browser
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await?)
}
