//! The enrolled sites on the dashboard's sites page, through plain form posts to a real
//! in-process hub: the CISO enrols a site (its name escaped on the page) and its next stream is
//! accepted, then removes it and its next stream is refused; a tier 3 analyst sees the list
//! without the forms and a forged post is refused; a form without the session's token changes
//! nothing.

use socfed_tests::clients;
use socfed_tests::fixture::Org;
use socfed_tests::web::{Browser, hidden};

const EXTRA: &str = "[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[[operators]]\nname = \"tom\"\nrole = \"tier3\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// The enrolled sites' rows of the sites page: (site, row).
fn enrolled_rows(page: &str) -> Vec<(String, String)> {
    page.split("<tr data-site=\"")
        .skip(1)
        .filter_map(|rest| {
            let (site, row) = rest.split_once('"')?;
            Some((site.to_string(), row.split("</tr>").next()?.to_string()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ciso_enrols_and_removes_a_site_from_the_sites_page() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let carl = Browser::open(&org.pki, &hub, "carl").await?;
    let (status, page) = carl.get("/sites").await?;
    assert_eq!(status, 200, "{page}");
    let at = page
        .find("<h2>Enrolled sites</h2>")
        .ok_or_else(|| anyhow::anyhow!("no enrolled section: {page}"))?;
    let csrf = hidden(&page[at..], "csrf").ok_or_else(|| anyhow::anyhow!("no forms: {page}"))?;
    let rows = enrolled_rows(&page);
    assert_eq!(rows.len(), 1, "{page}");
    assert!(rows[0].1.contains("seeded from config"), "{rows:?}");

    // Without the session's token: refused, nothing enrolled.
    let (status, _, _) = carl
        .post_to("/sites/enrolled", "site=berlin&name=x", &[])
        .await?;
    assert_eq!(status, 403);

    let fields = format!("csrf={csrf}&site=berlin&name=%3Cb%3EBerlin%3C%2Fb%3E");
    let (status, location, page) = carl.post_to("/sites/enrolled", &fields, &[]).await?;
    assert_eq!((status, location.as_str()), (303, "/sites"), "{page}");
    let (_, page) = carl.get("/sites").await?;
    let rows = enrolled_rows(&page);
    let berlin = rows
        .iter()
        .find(|(s, _)| s == "berlin")
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    assert!(
        berlin.contains("&lt;b&gt;Berlin&lt;/b&gt;"),
        "escaped: {berlin}"
    );
    assert!(berlin.contains("<td>carl</td>"), "{berlin}");
    org.escalate_once(hub.addr, "berlin", clients::report("b-1", "Beacon"))
        .await?;

    // A tier 3 analyst sees the list, no forms; a post of his is refused naming the roles.
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (_, page) = tom.get("/sites").await?;
    assert_eq!(enrolled_rows(&page).len(), 2, "{page}");
    assert!(!page.contains("/sites/enrolled/berlin/remove"), "{page}");
    // His action token, from the hunts page's start form (a tier 3 analyst hunts).
    let (_, hunts) = tom.get("/hunts").await?;
    let at = hunts.find("action=\"/hunts\"").unwrap_or_default();
    let tom_csrf = hidden(&hunts[at..], "csrf").unwrap_or_default();
    let (status, _, refused) = tom
        .post_to(
            "/sites/enrolled/berlin/remove",
            &format!("csrf={tom_csrf}"),
            &[],
        )
        .await?;
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("needs an admin or the CISO"), "{refused}");

    // The CISO removes berlin: its next stream is refused.
    let (status, location, page) = carl
        .post_to(
            "/sites/enrolled/berlin/remove",
            &format!("csrf={csrf}"),
            &[],
        )
        .await?;
    assert_eq!((status, location.as_str()), (303, "/sites"), "{page}");
    let refused = org
        .escalate_once(hub.addr, "berlin", clients::report("b-2", "Beacon"))
        .await
        .expect_err("berlin was removed");
    assert!(refused.to_string().contains("not enrolled"), "{refused:#}");
    let (_, page) = carl.get("/sites").await?;
    assert!(
        enrolled_rows(&page).iter().all(|(s, _)| s != "berlin"),
        "{page}"
    );
    hub.stop().await?;
    Ok(())
}
