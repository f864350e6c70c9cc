//! Dashboard sessions over real HTTPS against an in-process hub: a sign-in link works once and
//! only through its confirmation form (no login CSRF), the session it gives lives in the hub
//! store (it survives a restart), and it ends on sign-out, when its operator leaves the roster,
//! when its certificate is revoked, and at expiry (the event stream included).

use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::web::{
    confirm, hidden, https, login_url, open_link, read_until_ended, set_cookie, sign_in,
};
use socfed_tests::{clients, eventually, fixture::Org};
use std::time::Duration;

const ROSTER: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n";

fn dashboard(session: &str) -> String {
    format!("{ROSTER}[dashboard]\nlisten = \"127.0.0.1:0\"\nsession = \"{session}\"\n")
}

fn base(hub: &sirt_hub::app::RunningHub) -> anyhow::Result<String> {
    Ok(format!(
        "https://{}",
        hub.dashboard_addr
            .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
    ))
}

async fn status_of(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
) -> anyhow::Result<(u16, String)> {
    let r = client.get(url).header("cookie", cookie).send().await?;
    Ok((r.status().as_u16(), r.text().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_link_works_once_and_only_through_its_confirmation_form() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], &dashboard("1h")).await?;
    let base = base(&hub)?;
    let client = https(&org.pki)?;
    let url = login_url(hub.addr, &org.pki, "ines").await?;
    let token = url.split("token=").nth(1).unwrap_or_default().to_string();
    assert_eq!(token.len(), 64, "a 256-bit secret: {url}");

    // Opening the link (as a victim lured to it would) signs nobody in.
    let r = client.get(&url).send().await?;
    assert_eq!(r.status(), 200);
    assert!(set_cookie(&r, "__Host-socfed_session").is_none());
    let login_cookie = set_cookie(&r, "__Host-socfed_login").unwrap_or_default();
    let html = r.text().await?;
    assert!(html.contains("id=\"operator\">ines<"), "names who: {html}");
    let csrf = hidden(&html, "csrf").unwrap_or_default();
    let (status, _) = status_of(&client, &format!("{base}/"), &login_cookie).await?;
    assert_eq!(status, 401, "the confirmation page is not a session");

    // A cross-site form post: the browser does not send the SameSite=Strict login cookie, and
    // the attacker cannot know its value.
    let forged = confirm(&client, &base, None, &token, &csrf).await?;
    assert_eq!(forged.status(), 403);
    let guessed = confirm(&client, &base, Some(&login_cookie), &token, "00").await?;
    assert_eq!(guessed.status(), 403);
    let cross = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &login_cookie)
        .header("sec-fetch-site", "cross-site")
        .body(format!("token={token}&csrf={csrf}"))
        .send()
        .await?;
    assert_eq!(cross.status(), 403);

    // The link was not spent by any of that: the person's own confirmation signs in, once.
    let ok = confirm(&client, &base, Some(&login_cookie), &token, &csrf).await?;
    assert_eq!(ok.status(), 303);
    let session = set_cookie(&ok, "__Host-socfed_session").unwrap_or_default();
    assert_eq!(session.len(), "__Host-socfed_session=".len() + 64);
    assert_eq!(
        status_of(&client, &format!("{base}/"), &session).await?.0,
        200
    );
    let again = confirm(&client, &base, Some(&login_cookie), &token, &csrf).await?;
    assert_eq!(again.status(), 401, "a link is good for one sign-in");
    let (status, form) = open_link(&client, &url).await?;
    assert_eq!(status, 401);
    assert!(form.is_none());

    // Sign-out needs the page's token; then the session is gone.
    let post_logout = |csrf: String| {
        client
            .post(format!("{base}/logout"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &session)
            .body(format!("csrf={csrf}"))
            .send()
    };
    assert_eq!(post_logout("00".into()).await?.status(), 403);
    let (_, board) = status_of(&client, &format!("{base}/"), &session).await?;
    let logout_csrf = hidden(&board, "csrf").unwrap_or_default();
    let out = post_logout(logout_csrf).await?;
    assert_eq!(out.status(), 200);
    let (status, text) = status_of(&client, &format!("{base}/"), &session).await?;
    assert_eq!(status, 401);
    assert!(text.contains("sirt-hub login"), "{text}");
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_survives_a_restart_and_ends_with_the_roster_and_the_crl() -> anyhow::Result<()> {
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let extra = dashboard("1h");
    let config = socfed_tests::procs::write_hub_config(
        org.dir(),
        &org.pki,
        "127.0.0.1:0".parse()?,
        &["paris"],
        &extra,
    )?;
    socfed_tests::procs::with_crl(&config, &crl)?;
    let start = || async {
        Ok::<_, anyhow::Error>(
            sirt_hub::app::start(sirt_hub::config::HubConfig::load(&config)?).await?,
        )
    };
    let hub = start().await?;
    let client = https(&org.pki)?;
    let ines = sign_in(
        &client,
        &base(&hub)?,
        &login_url(hub.addr, &org.pki, "ines").await?,
    )
    .await?;
    let ines_files = org.pki.operator("ines")?;
    let channel = clients::channel(hub.addr, &ines_files, &org.pki.domain, ExpectedServer::Hub)?;
    let url = OperatorRosterClient::new(channel)
        .dashboard_login(pb::DashboardLoginRequest {})
        .await?
        .into_inner()
        .url;
    let ines_second = sign_in(&client, &base(&hub)?, &url).await?;
    let carl = sign_in(
        &client,
        &base(&hub)?,
        &login_url(hub.addr, &org.pki, "carl").await?,
    )
    .await?;

    // Restart: sessions are in the store, not in the process.
    hub.stop().await?;
    let hub = start().await?;
    let base = base(&hub)?;
    for session in [&ines, &ines_second, &carl] {
        assert_eq!(
            status_of(&client, &format!("{base}/"), session).await?.0,
            200
        );
    }

    // Revoking the certificate that asked for a link ends the sessions it gave, not others.
    sirt_hub::pki::revoke(&org.pki.dir, &ines_files.cert, "key compromise")?;
    let text = eventually(
        "the revocation to end the session",
        Duration::from_secs(20),
        || {
            let (client, url, session) = (client.clone(), format!("{base}/"), ines_second.clone());
            async move {
                let (status, text) = status_of(&client, &url, &session).await.ok()?;
                (status == 401).then_some(text)
            }
        },
    )
    .await?;
    assert!(text.contains("revoked"), "{text}");
    assert_eq!(status_of(&client, &format!("{base}/"), &ines).await?.0, 200);

    // An operator removed from the roster is signed out at the next request.
    let channel = clients::channel(
        hub.addr,
        &org.pki.operator("carl")?,
        &org.pki.domain,
        ExpectedServer::Hub,
    )?;
    OperatorRosterClient::new(channel)
        .remove_operator(pb::RemoveOperatorRequest {
            name: "ines".into(),
        })
        .await?;
    let (status, text) = status_of(&client, &format!("{base}/sites"), &ines).await?;
    assert_eq!(status, 401);
    assert!(text.contains("no longer in the hub roster"), "{text}");
    let events = client
        .get(format!("{base}/events"))
        .header("cookie", &ines)
        .send()
        .await?;
    assert_eq!(events.status(), 401);
    assert_eq!(status_of(&client, &format!("{base}/"), &carl).await?.0, 200);
    hub.stop().await?;
    // Both refusals are in the audit chain, as the same people refused over gRPC would be.
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    for reason in ["revoked", "no longer in the hub roster"] {
        assert!(
            socfed_tests::audit::count(&refusals, "dashboard: session", "ines", reason) >= 1,
            "{reason}: {refusals:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_ends_when_its_session_expires() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], &dashboard("6s")).await?;
    let base = base(&hub)?;
    let client = https(&org.pki)?;
    let session = sign_in(
        &client,
        &base,
        &login_url(hub.addr, &org.pki, "ines").await?,
    )
    .await?;
    let streaming = socfed_tests::web::https_with_timeout(&org.pki, Duration::from_secs(120))?;
    let events = streaming
        .get(format!("{base}/events"))
        .header("cookie", &session)
        .send()
        .await?;
    assert_eq!(events.status(), 200);
    let seen = read_until_ended(events, Duration::from_secs(60)).await?;
    assert!(seen.contains("event: signed-out"), "{seen}");
    let (status, _) = status_of(&client, &format!("{base}/"), &session).await?;
    assert_eq!(status, 401);
    hub.stop().await?;
    Ok(())
}

/// Whether `response` tells the browser to set or clear the session cookie.
fn touches_session(response: &reqwest::Response) -> bool {
    response.headers().get_all("set-cookie").iter().any(|v| {
        v.to_str()
            .unwrap_or_default()
            .starts_with("__Host-socfed_session=")
    })
}

/// Another site cannot sign a person out: a cross-site form post arrives without the
/// SameSite=Strict session cookie, and a lure to a bogus sign-in link carries none either; the
/// refusal must not clear the cookie the browser keeps. A refused cookie that was sent is
/// cleared (at both web surfaces: the console shares the rule, `tests/web/console.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_clears_the_session_cookie_only_when_one_was_sent() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], &dashboard("1h")).await?;
    let base = base(&hub)?;
    let client = https(&org.pki)?;

    let cross_site = client
        .post(format!("{base}/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://attacker.example")
        .header("sec-fetch-site", "cross-site")
        .body("csrf=x")
        .send()
        .await?;
    assert_eq!(cross_site.status(), 401);
    assert!(
        !touches_session(&cross_site),
        "a cookie-less refusal keeps the browser's cookie"
    );
    let lure = client
        .get(format!("{base}/login?token={}", "ab".repeat(32)))
        .send()
        .await?;
    assert_eq!(lure.status(), 401);
    assert!(
        !touches_session(&lure),
        "a bogus link keeps the browser's cookie"
    );

    let stale = client
        .get(format!("{base}/"))
        .header(
            "cookie",
            format!("__Host-socfed_session={}", "cd".repeat(32)),
        )
        .send()
        .await?;
    assert_eq!(stale.status(), 401);
    assert!(
        touches_session(&stale),
        "a refused session cookie is cleared"
    );
    hub.stop().await?;
    Ok(())
}
