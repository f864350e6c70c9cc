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

/// Reads an event stream until the server ends it, for at most `within`: what it sent, or
/// why it did not end (the deadline failing means the stream outlived its session by far).
pub async fn read_until_ended(
    mut stream: reqwest::Response,
    within: Duration,
) -> anyhow::Result<String> {
    let mut seen = String::new();
    let ended = tokio::time::timeout(within, async {
        while let Some(chunk) = stream.chunk().await? {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        Ok::<_, reqwest::Error>(())
    })
    .await;
    anyhow::ensure!(
        matches!(ended, Ok(Ok(()))),
        "the stream did not end: {ended:?} after {seen:?}"
    );
    Ok(seen)
}

/// A site agent with its SOC console on, linked to a hub, and the console's clients.
pub mod console {
    use crate::fixture::Org;
    use crate::pki::TestPki;
    use site_agent::app::RunningAgent;
    use site_agent::service::Actor;
    use site_agent::soc::roster::Analyst;
    use site_agent::soc::{Role, Tier};
    use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
    use socfed_proto::vocab::SiteId;
    use socfed_runtime::tls::ExpectedServer;
    use std::net::SocketAddr;

    /// The site every console scenario runs at, and its SOC manager (the config's bootstrap).
    pub const SITE: &str = "paris";
    pub const MANAGER: &str = "mona";

    /// The agent config's tables for a console: `[web]` on an ephemeral port with a session of
    /// `session`; `mona` the SOC manager, and `tester` (who raises incidents in the fixture).
    pub fn config(session: &str) -> String {
        format!(
            "[web]\nlisten = \"127.0.0.1:0\"\nsession = \"{session}\"\n[soc]\nmanagers = [\"{MANAGER}\", \"tester\"]\n"
        )
    }

    /// Starts the agent of [`SITE`] linked to `hub` with `extra` (see [`config`]); with a CRL
    /// file, the agent reads it (and re-reads it every 200 ms).
    pub async fn agent(
        org: &Org,
        hub: SocketAddr,
        extra: &str,
        crl: Option<&std::path::Path>,
    ) -> anyhow::Result<RunningAgent> {
        let path = crate::procs::write_agent_config(
            org.dir(),
            &org.pki,
            SITE,
            hub,
            "127.0.0.1:0".parse()?,
            extra,
        )?;
        if let Some(crl) = crl {
            crate::procs::with_crl(&path, crl)?;
        }
        let config = site_agent::config::AgentConfig::load(&path)?;
        Ok(site_agent::app::start(config).await?)
    }

    /// `https://ADDR` of the agent's console.
    pub fn base(agent: &RunningAgent) -> anyhow::Result<String> {
        Ok(format!(
            "https://{}",
            agent
                .web_addr
                .ok_or_else(|| anyhow::anyhow!("console enabled"))?
        ))
    }

    /// A console sign-in link for `who`, as `site-agent login` gets it.
    pub async fn login_url(agent: SocketAddr, pki: &TestPki, who: &str) -> anyhow::Result<String> {
        let channel = crate::clients::channel(
            agent,
            &pki.operator(who)?,
            &pki.domain,
            ExpectedServer::Site(SiteId::parse(SITE)?),
        )?;
        Ok(SiteSocClient::new(channel)
            .console_login(pb::ConsoleLoginRequest {})
            .await?
            .into_inner()
            .url)
    }

    /// The SOC manager as the application layer knows them (for a scenario's setup).
    pub fn manager() -> Actor {
        Actor {
            name: MANAGER.into(),
            role: Role::SocManager,
            cert: String::new(),
        }
    }

    /// Puts `name` on the roster as an analyst of `tier`, always on shift.
    pub fn add_analyst(agent: &RunningAgent, name: &str, tier: Tier) -> anyhow::Result<()> {
        agent.soc.add_analyst(
            &manager(),
            Analyst {
                name: name.into(),
                display_name: name.into(),
                role: Role::Analyst(tier),
                shifts: Vec::new(),
            },
        )?;
        Ok(())
    }

    /// Submits one native alert titled by `rule_name` on `host`: the id of its group.
    pub fn alert(agent: &RunningAgent, rule_name: &str, host: &str) -> anyhow::Result<String> {
        let line = serde_json::json!({
            "observed_at": socfed_proto::now_millis(),
            "product": "edr",
            "rule_id": format!("R-{host}"),
            "rule_name": rule_name,
            "severity": "high",
            "hosts": [host],
            "indicators": ["domain:c2.bad.example"],
            "techniques": ["T1059.001"],
        })
        .to_string();
        let actor = manager();
        let result =
            agent
                .soc
                .submit(&actor, site_agent::soc::alert::Format::Native, &[(1, line)])?;
        anyhow::ensure!(result.rejected == 0, "{:?}", result.rejections);
        let groups = agent.soc.list_groups(
            &actor,
            &site_agent::store::GroupFilter {
                limit: 1000,
                ..Default::default()
            },
        )?;
        groups
            .iter()
            .find(|g| g.entities.hosts.iter().any(|h| h == host))
            .map(|g| g.id.to_string())
            .ok_or_else(|| anyhow::anyhow!("no group for {host}"))
    }

    /// Posts a console form to `path` with `cookie` and the url-encoded `body`.
    pub async fn post(
        client: &reqwest::Client,
        base: &str,
        path: &str,
        cookie: &str,
        body: &str,
    ) -> anyhow::Result<reqwest::Response> {
        Ok(client
            .post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(body.to_string())
            .send()
            .await?)
    }

    /// `GET path` with `cookie`: (status, body).
    pub async fn get(
        client: &reqwest::Client,
        base: &str,
        path: &str,
        cookie: &str,
    ) -> anyhow::Result<(u16, String)> {
        let r = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .send()
            .await?;
        Ok((r.status().as_u16(), r.text().await?))
    }
}
