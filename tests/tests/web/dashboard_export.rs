//! The incident page's export downloads over HTTPS, as a signed-in browser follows them: the
//! links and the redaction form on the page, each format served as an attachment with its
//! media type, TLP:GREEN leaving the AMBER indicators out, a format that does not exist
//! refused, and a TLP:RED incident's export refused to a reader the RED rule leaves out.

use socfed_proto::pb;
use socfed_tests::web::Browser;
use socfed_tests::{clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

fn report(local: &str) -> pb::IncidentReport {
    pb::IncidentReport {
        tlp: pb::Tlp::Amber as i32,
        rule_id: "C2-BEACON".into(),
        techniques: vec!["T1071".into()],
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: "c2.evil.example".into(),
        }],
        ..clients::report(local, "Beacon <b>\"x\"</b>")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_page_offers_each_export_as_a_download() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    org.escalate_once(hub.addr, "paris", report("p-1")).await?;
    org.escalate_once(hub.addr, "lyon", report("l-1")).await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    let all = clients::all_incidents(&mut ines).await?;
    anyhow::ensure!(all.len() == 1 && all[0].sightings.len() == 2, "{all:?}");
    let id = all[0].id.clone();

    let browser = Browser::open(&org.pki, &hub, "ines").await?;
    let (status, page) = browser.get(&format!("/incidents/{id}")).await?;
    assert_eq!(status, 200);
    assert!(page.contains("<h2>Export</h2>"), "{page}");
    for format in ["stix", "ocsf", "misp"] {
        let link = format!("/incidents/{id}/export?format={format}");
        assert!(page.contains(&link), "{link} not on the page");
        let r = browser
            .client
            .get(format!("{}{link}", browser.base))
            .header("cookie", &browser.session)
            .send()
            .await?;
        assert_eq!(r.status(), 200, "{link}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let expected = if format == "stix" {
            "application/stix+json;version=2.1"
        } else {
            "application/json"
        };
        assert_eq!(header("content-type"), expected);
        assert_eq!(
            header("content-disposition"),
            format!("attachment; filename=\"incident-{id}.{format}.json\"")
        );
        let doc: serde_json::Value = r.json().await?;
        let text = doc.to_string();
        assert!(text.contains("c2.evil.example") && text.contains("Beacon <b>\\\"x\\\"</b>"));
    }
    assert!(page.contains("action=\"/incidents/"), "the redaction form");
    let (status, green) = browser
        .get(&format!("/incidents/{id}/export?format=misp&tlp_max=green"))
        .await?;
    assert_eq!(status, 200);
    assert!(
        !green.contains("c2.evil.example") && !green.contains("Beacon"),
        "{green}"
    );
    assert!(green.contains("tlp:green"), "{green}");
    let (status, _) = browser
        .get(&format!("/incidents/{id}/export?format=pdf"))
        .await?;
    assert_eq!(status, 400);

    clients::transition(&mut ines, &id, pb::LifecycleCommand::SetTlp, "red").await?;
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (status, body) = tom
        .get(&format!("/incidents/{id}/export?format=stix"))
        .await?;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("c2.evil.example"));
    let (status, red) = browser
        .get(&format!("/incidents/{id}/export?format=stix"))
        .await?;
    assert_eq!(status, 200);
    assert!(red.contains("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"));
    Ok(())
}

/// In Chromium: the Export links and form on the incident page, followed with the browser's
/// own session (the page's links fetched from the page, the form's query as it builds it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_downloads_the_exports_from_the_incident_page() -> anyhow::Result<()> {
    use super::chromium::{element, shot, sign_in};
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    org.escalate_once(hub.addr, "paris", report("p-1")).await?;
    org.escalate_once(hub.addr, "lyon", report("l-1")).await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    let id = clients::all_incidents(&mut ines)
        .await?
        .first()
        .map(|i| i.id.clone())
        .ok_or_else(|| anyhow::anyhow!("the incident"))?;
    let login = socfed_tests::web::login_url(hub.addr, &org.pki, "ines").await?;
    let Some(chromium) = super::chromium::start(org.dir()).await? else {
        return Ok(());
    };
    let browser = chromium.browser.clone();
    let outcome = async {
        sign_in(&browser, &login).await?;
        element(&browser, "main h1").await?;
        browser
            .goto(&format!("{}/incidents/{id}", super::chromium::base_of(&login)))
            .await?;
        let link = element(&browser, "a[href$=\"format=stix\"]").await?;
        let href = link
            .attr("href")
            .await?
            .ok_or_else(|| anyhow::anyhow!("no href"))?;
        browser
            .execute(
                "arguments[0].scrollIntoView();",
                vec![serde_json::to_value(&link)?],
            )
            .await?;
        shot(&browser, "dashboard-incident-export").await?;
        let fetch = "return fetch(arguments[0]).then(r => r.text().then(t => [r.status, r.headers.get('content-type'), t]));";
        let got = browser.execute(fetch, vec![serde_json::json!(href)]).await?;
        assert_eq!(got[0], 200, "{got}");
        assert_eq!(got[1], "application/stix+json;version=2.1");
        let bundle: serde_json::Value =
            serde_json::from_str(got[2].as_str().unwrap_or_default())?;
        assert_eq!(bundle["type"], "bundle");
        assert!(bundle.to_string().contains("c2.evil.example"));
        // The redaction form as the browser would submit it, TLP:GREEN picked.
        let query = "const f = document.querySelector('form[action$=\"/export\"]'); \
            f.querySelector('select[name=tlp_max]').value = 'green'; \
            f.querySelector('select[name=format]').value = 'ocsf'; \
            const u = f.action + '?' + new URLSearchParams(new FormData(f)); \
            return fetch(u).then(r => r.text());";
        let green = browser.execute(query, vec![]).await?;
        let finding: serde_json::Value =
            serde_json::from_str(green.as_str().unwrap_or_default())?;
        assert_eq!(finding["class_uid"], 2005);
        assert!(!finding.to_string().contains("c2.evil.example"), "{finding}");
        anyhow::Ok(())
    }
    .await;
    let _ = browser.close().await;
    outcome?;
    hub.stop().await?;
    Ok(())
}
