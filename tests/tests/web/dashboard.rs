//! The web dashboard over HTTPS: sign-in with a link minted by the operator's certificate,
//! the cross-site board, an incident's detail page, live events, and refusals without a valid
//! session. The hub runs in-process; the client is a real HTTPS client trusting only the
//! organisation CA.

use socfed_tests::fixture::Org;
use socfed_tests::web::{https, login_url, set_cookie};
use std::time::Duration;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\nsession = \"1h\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_sign_in_with_a_certificate_minted_link_and_see_cross_site_status()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let base = format!(
        "https://{}",
        hub.dashboard_addr
            .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
    );
    let paris = org.agent("paris", hub.addr, "").await?;
    let first = org
        .raise_at_site(paris.local_addr, hub.addr, "Beaconing <script>x</script>")
        .await?;
    let client = https(&org.pki)?;

    // No session: a sign-in page that says what to do, for every private page.
    for path in [
        "/",
        "/sites",
        "/hunts",
        &format!("/incidents/{first}"),
        "/events",
    ] {
        let r = client.get(format!("{base}{path}")).send().await?;
        assert_eq!(r.status(), 401, "{path}");
        assert!(r.text().await?.contains("sirt-hub login"));
    }
    let forged = client
        .get(format!("{base}/login?token={}", "00".repeat(32)))
        .send()
        .await?;
    assert_eq!(forged.status(), 401);

    // Sign in: the link shows a confirmation; pressing it sets a session cookie that scripts
    // cannot read.
    let url = login_url(hub.addr, &org.pki, "ines").await?;
    assert!(url.starts_with(&base), "{url}");
    let (status, form) = socfed_tests::web::open_link(&client, &url).await?;
    assert_eq!(status, 200);
    let (login_cookie, token, csrf) = form.ok_or_else(|| anyhow::anyhow!("a confirmation form"))?;
    let signed_in =
        socfed_tests::web::confirm(&client, &base, Some(&login_cookie), &token, &csrf).await?;
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-socfed_session="))
        .unwrap_or_default()
        .to_string();
    // `__Host-`: only this origin over HTTPS may set it (no sibling host can plant one).
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    assert!(set_cookie(&signed_in, "__Host-socfed_session").is_some());
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let get = |path: String| {
        client
            .get(format!("{base}{path}"))
            .header("cookie", session.clone())
            .send()
    };

    let board = get("/".into()).await?;
    assert_eq!(board.status(), 200);
    assert!(board.headers().get("content-security-policy").is_some());
    let html = board.text().await?;
    assert!(
        html.contains(&first) && html.contains("Beaconing &lt;script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>x</script>"), "site text is escaped");
    let filtered = get("/?site=lyon".into()).await?.text().await?;
    assert!(!filtered.contains(&first), "the site filter applies");

    // Live: an incident escalated now is announced on the event stream.
    let mut events = get("/events".into()).await?;
    assert_eq!(events.status(), 200);
    let second = org
        .raise_at_site(paris.local_addr, hub.addr, "Second wave")
        .await?;
    let mut seen = String::new();
    while !seen.contains(&second) {
        let chunk = tokio::time::timeout(Duration::from_secs(20), events.chunk()).await??;
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap_or_default()));
    }
    let rows = get("/?fragment=rows".into()).await?.text().await?;
    assert!(rows.contains(&second) && !rows.contains("<html"), "{rows}");

    let detail = get(format!("/incidents/{second}")).await?.text().await?;
    for part in [
        "Second wave",
        "Sightings per site",
        "paris",
        "Timeline",
        "Directives and results",
        "Communications",
        "Regulatory clocks",
    ] {
        assert!(detail.contains(part), "{part} missing");
    }
    let sites = get("/sites".into()).await?.text().await?;
    assert!(
        sites.contains("<td>paris</td><td>up</td>") && sites.contains("<td>lyon</td><td>down</td>"),
        "{sites}"
    );
    assert_eq!(get("/hunts".into()).await?.status(), 200);

    drop(events);
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
