//! The workbench's oversight pages and regulatory forms, through what a person touches (a real
//! in-process hub and a real site agent over mutual TLS, plain HTTP): the IR lead flags an
//! incident for the GDPR from its page and records the filing, and the page shows the
//! deadline and then that it was met; a tier 1 analyst is refused (403 naming the roles) and a
//! forged form changes nothing. The KPIs page shows the medians `sirt-hub kpis` computes; the
//! sites page says which site's stream is up, which is down, and why it needs attention.

use socfed_tests::fixture::Org;
use socfed_tests::web::Browser;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// The regulatory clocks table of an incident's page.
async fn clocks(b: &Browser, id: &str) -> anyhow::Result<String> {
    let (_, page) = b.get(&format!("/incidents/{id}")).await?;
    Ok(page
        .split("<h2>Regulatory clocks</h2>")
        .nth(1)
        .and_then(|rest| rest.split("<h2>").next())
        .unwrap_or_default()
        .to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regulatory_clocks_kpis_and_site_health_from_the_workbench() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let id = org
        .raise_at_site(
            paris.local_addr,
            hub.addr,
            "<i>Customer</i> records exposed",
        )
        .await?;
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    let tom = Browser::open(&org.pki, &hub, "tom").await?;

    // A tier 1 analyst is not offered the regulatory forms and is refused them.
    let (_, page) = tom.get(&format!("/incidents/{id}")).await?;
    assert!(!page.contains("/regulatory\""), "not offered to tier 1");
    let (status, _, page) = tom.submit(&id, "regulatory", "flag=gdpr").await?;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("regulatory flags and filings needs an IR lead or the CISO"),
        "{page}"
    );
    let good = ines.action_token(&id).await?;
    let (status, _, _) = ines
        .post_to(
            &format!("/incidents/{id}/regulatory"),
            &format!("csrf={good}&flag=gdpr"),
            &[("sec-fetch-site", "cross-site")],
        )
        .await?;
    assert_eq!(status, 403);
    assert!(
        clocks(&ines, &id).await?.contains("None."),
        "nothing flagged"
    );
    for bad in ["flag=hipaa", "", "flag=gdpr&filed=gdpr_notification"] {
        let (status, _, page) = ines.submit(&id, "regulatory", bad).await?;
        assert_eq!(status, 400, "{bad}: {page}");
    }

    // The IR lead flags it for the GDPR: a 72-hour notification clock; then files it.
    let (status, _, page) = ines.submit(&id, "regulatory", "flag=gdpr").await?;
    assert_eq!(status, 303, "{page}");
    let table = clocks(&ines, &id).await?;
    assert!(
        table.contains("gdpr_notification") && table.contains("pending"),
        "{table}"
    );
    let (status, _, page) = ines
        .submit(&id, "regulatory", "filed=gdpr_notification")
        .await?;
    assert_eq!(status, 303, "{page}");
    let table = clocks(&ines, &id).await?;
    assert!(table.contains("<td>met</td>"), "{table}");

    // KPIs: one incident, triaged now, so a median time to triage and none to contain yet.
    ines.act(&id, "start-triage", "").await?;
    let (status, kpis) = ines.get("/kpis").await?;
    assert_eq!(status, 200, "{kpis}");
    let all = kpis
        .split("<td>all sites</td>")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_default();
    assert!(all.starts_with("<td>1</td>"), "{all}");
    assert!(
        all.ends_with("<td>-</td><td>-</td>"),
        "not contained or resolved: {all}"
    );
    assert!(kpis.contains("<td>paris</td><td>1</td>"), "{kpis}");
    assert!(kpis.contains("aria-current=\"page\">KPIs"), "{kpis}");

    // Sites: paris's stream is up; lyon never connected, which needs attention.
    let (_, sites) = ines.get("/sites").await?;
    assert!(
        sites.contains("<td>paris</td><td>up</td><td>ok</td>"),
        "{sites}"
    );
    assert!(
        sites.contains("<td>lyon</td><td>down</td><td>attention</td>"),
        "{sites}"
    );
    assert!(sites.contains("never connected"), "{sites}");

    paris.stop().await?;
    hub.stop().await?;
    let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
    let entries = store.audit_entries()?;
    for action in ["incident.flag", "incident.filed"] {
        assert!(
            entries.iter().any(|e| e.draft.action == action
                && e.draft.target == id
                && e.draft.actor_cert.starts_with("serial ")),
            "{action} audited under the session"
        );
    }
    Ok(())
}
