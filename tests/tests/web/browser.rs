//! A real browser for the web scenarios: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs) driven over WebDriver (fantoccini), and the
//! waits the scenarios share. Without Chromium a scenario says so and passes, unless
//! `SOCFED_REQUIRE_BROWSER=1` (set by `.ci/run`), where a missing browser is a failure.
//! Screenshots go under `target/test-artifacts/`.

use fantoccini::{ClientBuilder, Locator};
use socfed_tests::procs::Proc;
use socfed_tests::{eventually, free_port};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts")
}

/// Saves a screenshot of the page the browser shows as `name` under [`artifacts`].
pub async fn screenshot(browser: &fantoccini::Client, name: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(artifacts())?;
    std::fs::write(artifacts().join(name), browser.screenshot().await?)?;
    Ok(())
}

/// A browser session and the chromedriver serving it (ended when dropped).
pub struct Browser {
    pub client: fantoccini::Client,
    _driver: Proc,
}

/// Starts chromedriver and a headless Chromium with its profile under `dir`; `None` (the
/// scenario passes, saying why) when Chromium is not installed and not required.
pub async fn start(dir: &Path) -> anyhow::Result<Option<Browser>> {
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
    let client = eventually(
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
    Ok(Some(Browser {
        client,
        _driver: driver,
    }))
}

/// Clicks the element `css` selects. Live pages replace their rows in place on every update,
/// so an element found just before one is stale: find and click again until a click lands
/// (the condition, not a pause).
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

/// Waits until the element `css` selects reads `wanted`: after a click the old page's element
/// may still be found (then goes stale) before the new page is there.
pub async fn text_becomes(
    browser: &fantoccini::Client,
    css: &str,
    wanted: &str,
) -> anyhow::Result<()> {
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
