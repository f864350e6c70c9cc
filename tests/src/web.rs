//! A dashboard client: HTTPS trusting only the organisation CA, sign-in links minted with an
//! operator certificate (as `sirt-hub login` does), and the confirmation form a person submits.

use crate::pki::TestPki;
use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use std::time::Duration;

/// An HTTPS client that trusts only the test CA and follows no redirects.
pub fn https(pki: &TestPki) -> anyhow::Result<reqwest::Client> {
    https_with_timeout(pki, Duration::from_secs(10))
}

/// [`https`] with another whole-request timeout (for long event streams).
pub fn https_with_timeout(pki: &TestPki, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    https_trusting(&pki.ca(), timeout)
}

/// An HTTPS client that trusts only the CA certificate in the PEM file `ca` (a PKI the test
/// did not make, such as the one `sirt-hub demo` writes) and follows no redirects.
pub fn https_trusting(ca: &std::path::Path, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca)?)?;
    Ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()?)
}

/// A sign-in link for `who`, as `sirt-hub login` gets it.
pub async fn login_url(
    hub: std::net::SocketAddr,
    pki: &TestPki,
    who: &str,
) -> anyhow::Result<String> {
    let channel =
        crate::clients::channel(hub, &pki.operator(who)?, &pki.domain, ExpectedServer::Hub)?;
    Ok(OperatorRosterClient::new(channel)
        .dashboard_login(pb::DashboardLoginRequest {})
        .await?
        .into_inner()
        .url)
}

/// The value of `name="NAME" value="…"` in a served page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// `name=value` of the cookie `name` set by `response`, if any.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .find(|kv| kv.starts_with(&format!("{name}=")))
}

/// The confirmation page of `url`: (its login cookie, the form's token and CSRF fields).
pub async fn open_link(
    client: &reqwest::Client,
    url: &str,
) -> anyhow::Result<(reqwest::StatusCode, Option<(String, String, String)>)> {
    let r = client.get(url).send().await?;
    let status = r.status();
    let cookie = set_cookie(&r, "__Host-socfed_login");
    let html = r.text().await?;
    let form = match (cookie, hidden(&html, "token"), hidden(&html, "csrf")) {
        (Some(c), Some(t), Some(x)) => Some((c, t, x)),
        _ => None,
    };
    Ok((status, form))
}

/// Posts the confirmation form (`cookie` is what the browser sends along, if anything).
pub async fn confirm(
    client: &reqwest::Client,
    base: &str,
    cookie: Option<&str>,
    token: &str,
    csrf: &str,
) -> anyhow::Result<reqwest::Response> {
    let mut request = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}&csrf={csrf}"));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    Ok(request.send().await?)
}

/// Signs in with `url` as a person does (open, press "Sign in"); returns the session cookie
/// (`__Host-socfed_session=…`).
pub async fn sign_in(client: &reqwest::Client, base: &str, url: &str) -> anyhow::Result<String> {
    let (status, form) = open_link(client, url).await?;
    let (cookie, token, csrf) =
        form.ok_or_else(|| anyhow::anyhow!("no confirmation form at {url} ({status})"))?;
    let r = confirm(client, base, Some(&cookie), &token, &csrf).await?;
    anyhow::ensure!(r.status() == 303, "sign-in answered {}", r.status());
    set_cookie(&r, "__Host-socfed_session").ok_or_else(|| anyhow::anyhow!("no session cookie"))
}
