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

/// A signed-in person's browser, as plain HTTP: GET a page, POST a form (no redirects
/// followed, so a 303 and its `Location` are seen).
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub session: String,
}

impl Browser {
    /// Signs `who` in to `hub`'s dashboard with a link minted with their certificate.
    pub async fn open(
        pki: &TestPki,
        hub: &sirt_hub::app::RunningHub,
        who: &str,
    ) -> anyhow::Result<Self> {
        let base = format!(
            "https://{}",
            hub.dashboard_addr
                .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
        );
        let client = https(pki)?;
        let session = sign_in(&client, &base, &login_url(hub.addr, pki, who).await?).await?;
        Ok(Self {
            client,
            base,
            session,
        })
    }

    /// (status, body) of `path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.session)
            .send()
            .await?;
        Ok((r.status().as_u16(), r.text().await?))
    }

    /// The action token of the incident page's forms (the nav's sign-out token comes first).
    pub async fn action_token(&self, id: &str) -> anyhow::Result<String> {
        let (status, page) = self.get(&format!("/incidents/{id}")).await?;
        anyhow::ensure!(status == 200, "{status}: {page}");
        let at = page
            .find("<h2>Actions</h2>")
            .or_else(|| page.find("<h2>Respond</h2>"))
            .ok_or_else(|| anyhow::anyhow!("no actions: {page}"))?;
        hidden(&page[at..], "csrf").ok_or_else(|| anyhow::anyhow!("no token: {page}"))
    }

    /// Posts `body` (form-encoded) to `path` with extra `headers`: (status, Location, page).
    pub async fn post_to(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(u16, String, String)> {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &self.session)
            .body(body.to_string());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let r = request.send().await?;
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((status, location, r.text().await?))
    }

    /// Posts `body` to the incident's lifecycle action URL.
    pub async fn post(
        &self,
        id: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<(u16, String, String)> {
        self.post_to(&format!("/incidents/{id}/act"), body, headers)
            .await
    }

    /// Posts one lifecycle action as the page's form does; expects the redirect back.
    pub async fn act(&self, id: &str, command: &str, argument: &str) -> anyhow::Result<()> {
        let csrf = self.action_token(id).await?;
        let body = format!("csrf={csrf}&command={command}&argument={argument}");
        let (status, location, page) = self.post(id, &body, &[]).await?;
        anyhow::ensure!(
            status == 303 && location == format!("/incidents/{id}"),
            "{command}: {status} {location}: {page}"
        );
        Ok(())
    }

    /// Posts `fields` (already form-encoded, without the token) to the incident's form
    /// `/incidents/{id}/{form}` with the page's token: (status, Location, page).
    pub async fn submit(
        &self,
        id: &str,
        form: &str,
        fields: &str,
    ) -> anyhow::Result<(u16, String, String)> {
        let csrf = self.action_token(id).await?;
        self.post_to(
            &format!("/incidents/{id}/{form}"),
            &format!("csrf={csrf}&{fields}"),
            &[],
        )
        .await
    }

    /// The incident page's state line.
    pub async fn state_line(&self, id: &str) -> anyhow::Result<String> {
        let (_, page) = self.get(&format!("/incidents/{id}")).await?;
        let at = page
            .find("id=\"state\">")
            .ok_or_else(|| anyhow::anyhow!("no state line: {page}"))?;
        Ok(page[at..].lines().next().unwrap_or_default().to_string())
    }
}
