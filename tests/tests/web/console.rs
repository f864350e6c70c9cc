//! The site agent's SOC console over real HTTPS against an in-process hub and agent (real
//! stores in temp dirs): a sign-in link works once; a session ends when its operator leaves the
//! site roster or its certificate is revoked (refusals audited in the site's audit log); every
//! action needs the session's CSRF token and this origin; an oversized form is 413; hostile
//! alert text is escaped; a role refusal names the role needed.

use site_agent::soc::Tier;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, MANAGER, add_analyst, alert, base, get, login_url, post};
use socfed_tests::web::{hidden, https, open_link, read_until_ended, sign_in};
use std::time::Duration;

/// The CSRF token of the first action form of `page` (the navigation's sign-out form carries
/// another).
fn action_csrf(page: &str) -> String {
    let at = page.find("/act\"").unwrap_or_default();
    hidden(&page[at..], "csrf").unwrap_or_default()
}

/// The console's refusals recorded in the agent's audit log: (actor, reason JSON).
fn refusals(agent: &site_agent::app::RunningAgent) -> anyhow::Result<Vec<(String, String)>> {
    Ok(agent
        .store
        .audit_of("console", 100_000, 1000)?
        .into_iter()
        .filter(|d| d.action == "console.refused")
        .map(|d| (d.actor, d.after.unwrap_or_default()))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_session_is_single_use_and_ends_with_the_roster_and_the_crl() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), Some(&crl)).await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    add_analyst(&agent, "tina", Tier::T1)?;

    // A link signs in once; opening it again is refused with what to do.
    let url = login_url(agent.local_addr, &org.pki, "tina").await?;
    let tina = sign_in(&client, &base, &url).await?;
    let (status, page) = get(&client, &base, "/", &tina).await?;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Triage queue") && page.contains("tina (tier 1 analyst)"),
        "{page}"
    );
    let (again, form) = open_link(&client, &url).await?;
    assert_eq!(again, 401);
    assert!(form.is_none());
    let (_, page) = get(&client, &base, "/", "").await?;
    assert!(page.contains("site-agent login"), "{page}");

    // `site-agent login` (the real binary, as a person runs it) prints a link that works once.
    let printed = org.agent_cli(agent.local_addr, "tina")?.ok(&["login"])?;
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/login?token="))
        .ok_or_else(|| anyhow::anyhow!("no link in {printed:?}"))?;
    assert!(link.starts_with(&base), "{link}");
    let cli_session = sign_in(&client, &base, link).await?;
    assert_eq!(get(&client, &base, "/", &cli_session).await?.0, 200);

    // Two sessions of the manager, from two certificates; the second certificate is revoked.
    let first = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, MANAGER).await?,
    )
    .await?;
    let second_files = org.pki.operator(MANAGER)?;
    let second = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, MANAGER).await?,
    )
    .await?;
    sirt_hub::pki::revoke(&org.pki.dir, &second_files.cert, "key compromise")?;
    let text = socfed_tests::eventually(
        "the CRL to end the session",
        Duration::from_secs(20),
        || {
            let (client, base, second) = (client.clone(), base.clone(), second.clone());
            async move {
                let (status, text) = get(&client, &base, "/", &second).await.ok()?;
                (status == 401).then_some(text)
            }
        },
    )
    .await?;
    assert!(text.contains("revoked"), "{text}");
    assert_eq!(get(&client, &base, "/", &first).await?.0, 200);

    // Taken off the roster: refused at the next request, and the live stream too.
    agent.soc.remove_analyst(&console::manager(), "tina")?;
    let (status, text) = get(&client, &base, "/people", &tina).await?;
    assert_eq!(status, 401);
    assert!(
        text.contains("no longer in this site") && text.contains("roster"),
        "{text}"
    );
    assert_eq!(get(&client, &base, "/events", &tina).await?.0, 401);

    // Both refusals are in the site's audit log.
    let audited = refusals(&agent)?;
    for (who, reason) in [("tina", "roster"), (MANAGER, "revoked")] {
        assert!(
            audited.iter().any(|(a, r)| a == who && r.contains(reason)),
            "{who} {reason}: {audited:?}"
        );
    }
    // Sign-out ends the session.
    let (_, page) = get(&client, &base, "/", &first).await?;
    let csrf = hidden(&page, "csrf").unwrap_or_default();
    let out = post(&client, &base, "/logout", &first, &format!("csrf={csrf}")).await?;
    assert_eq!(out.status(), 200);
    assert_eq!(get(&client, &base, "/", &first).await?.0, 401);
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_actions_need_the_token_and_this_origin_and_name_the_role_refused()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let hostile = "<script>alert(1)</script> & \"quoted\"";
    let group = alert(&agent, hostile, "ws-666")?;
    let tina = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "tina").await?,
    )
    .await?;

    // Hostile alert text is text on every page that shows it.
    for path in [
        "/".to_string(),
        format!("/alerts/{group}"),
        "/?fragment=rows".into(),
    ] {
        let (status, page) = get(&client, &base, &path, &tina).await?;
        assert_eq!(status, 200, "{path}");
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: {page}"
        );
    }
    let (_, page) = get(&client, &base, &format!("/alerts/{group}"), &tina).await?;
    let csrf = action_csrf(&page);
    assert_eq!(csrf.len(), 64, "{page}");
    // The group's technique links to its ATT&CK page (name, description, detections).
    assert!(
        page.contains("href=\"https://attack.mitre.org/techniques/T1059/001/\""),
        "{page}"
    );
    let act = format!("/alerts/{group}/act");

    // No token, another session's token, another site, a foreign Origin: 403, nothing done.
    let forged: [(&str, Option<(&str, &str)>); 4] = [
        ("do=ack", None),
        ("do=ack&csrf=00", None),
        ("do=ack&csrf=CSRF", Some(("sec-fetch-site", "cross-site"))),
        ("do=ack&csrf=CSRF", Some(("origin", "https://evil.example"))),
    ];
    for (body, header) in forged {
        let mut request = client
            .post(format!("{base}{act}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &tina)
            .body(body.replace("CSRF", &csrf));
        if let Some((k, v)) = header {
            request = request.header(k, v);
        }
        let r = request.send().await?;
        assert_eq!(r.status(), 403, "{body} {header:?}");
    }
    let (_, page) = get(&client, &base, &format!("/alerts/{group}"), &tina).await?;
    assert!(page.contains("id=\"status\">new"), "{page}");
    // Identical refusals are coalesced: one record each of "no token" and "another site".
    assert!(refusals(&agent)?.len() >= 2, "{:?}", refusals(&agent)?);

    // An oversized form is 413 before anything reads it.
    let big = format!("do=comment&csrf={csrf}&text={}", "a".repeat(40_000));
    assert_eq!(post(&client, &base, &act, &tina, &big).await?.status(), 413);

    // The right token from this origin acts; a role that may not is told the role needed.
    let ok = post(&client, &base, &act, &tina, &format!("do=ack&csrf={csrf}")).await?;
    assert_eq!(ok.status(), 303);
    let refused = post(
        &client,
        &base,
        &act,
        &tina,
        &format!("do=promote&csrf={csrf}"),
    )
    .await?;
    assert_eq!(refused.status(), 403);
    let text = refused.text().await?;
    assert!(text.contains("tier 2 analyst or above"), "{text}");
    assert!(
        refusals(&agent)?
            .iter()
            .any(|(who, r)| who == "tina" && r.contains("tier 2")),
        "{:?}",
        refusals(&agent)?
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tier_2_adds_a_group_to_an_existing_incident_and_sees_the_hub_column() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    add_analyst(&agent, "tom", Tier::T2)?;
    let first = alert(&agent, "Encoded PowerShell", "ws-014")?;
    let second = alert(&agent, "Encoded PowerShell again", "ws-015")?;
    let incident = agent.soc.promote(
        &console::manager(),
        &[ulid::Ulid::from_string(&first)?],
        None,
    )?;
    let tom = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "tom").await?,
    )
    .await?;
    let (_, page) = get(&client, &base, &format!("/alerts/{second}"), &tom).await?;
    assert!(
        page.contains(&incident.id),
        "the incident is offered: {page}"
    );
    let body = format!(
        "do=add-to&incident={}&csrf={}",
        incident.id,
        action_csrf(&page)
    );
    let added = post(
        &client,
        &base,
        &format!("/alerts/{second}/act"),
        &tom,
        &body,
    )
    .await?;
    assert_eq!(added.status(), 303);
    let to = added
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(to, format!("/incidents/{}", incident.id));
    let (status, page) = get(&client, &base, &to, &tom).await?;
    assert_eq!(status, 200);
    for part in [
        first.as_str(),
        second.as_str(),
        "ws-014, ws-015",
        "Hub incident",
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }
    // The same command from the CLI (the gRPC `AddToLocalIncident` the page's call serves).
    let third = alert(&agent, "Encoded PowerShell once more", "ws-016")?;
    let out =
        org.agent_cli(agent.local_addr, "tom")?
            .ok(&["incidents", "add", &incident.id, &third])?;
    assert!(out.contains(&incident.id), "{out}");
    let (_, page) = get(&client, &base, &to, &tom).await?;
    assert!(page.contains(&third) && page.contains("ws-016"), "{page}");

    // The incident page changes its status (Tier 2 may), through `update_incident`.
    let (_, page) = get(&client, &base, &to, &tom).await?;
    let body = format!("do=status&status=contained&csrf={}", action_csrf(&page));
    let changed = post(&client, &base, &format!("{to}/act"), &tom, &body).await?;
    assert_eq!(changed.status(), 303);
    let (_, page) = get(&client, &base, &to, &tom).await?;
    assert!(page.contains("<dt>Status</dt><dd>contained</dd>"), "{page}");

    // High severity: the policy escalated it; the hub's view comes back to the list.
    let list = socfed_tests::eventually(
        "the hub's view of the incident",
        Duration::from_secs(20),
        || {
            let (client, base, tom) = (client.clone(), base.clone(), tom.clone());
            async move {
                let (_, list) = get(&client, &base, "/incidents", &tom).await.ok()?;
                (list.contains("yes (revision") && !list.contains("not confirmed")).then_some(list)
            }
        },
    )
    .await?;
    assert!(list.contains(&incident.id), "{list}");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

/// The live queue's stream tells of a new group, and ends (`signed-out`) with its session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_queue_tells_of_new_groups_and_ends_with_its_session() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("6s"), None).await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    let session = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, MANAGER).await?,
    )
    .await?;
    let streaming = socfed_tests::web::https_with_timeout(&org.pki, Duration::from_secs(120))?;
    let events = streaming
        .get(format!("{base}/events"))
        .header("cookie", &session)
        .send()
        .await?;
    assert_eq!(events.status(), 200);
    alert(&agent, "Beaconing", "ws-100")?;
    let seen = read_until_ended(events, Duration::from_secs(60)).await?;
    assert!(
        seen.contains("data: groups"),
        "the new group was told: {seen}"
    );
    assert!(seen.contains("event: signed-out"), "{seen}");
    assert_eq!(get(&client, &base, "/", &session).await?.0, 401);
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

/// The console's listener also serves the site's HTTP API under `/api/v1`: its document without
/// a credential, its data only to a token or a client certificate. A console session cookie
/// is not an API credential (a page of another site could otherwise make the browser call the
/// API with it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_listener_serves_the_api_to_tokens_and_not_to_sessions() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    let url = login_url(agent.local_addr, &org.pki, MANAGER).await?;
    let mona = sign_in(&client, &base, &url).await?;

    let (status, document) = get(&client, &base, "/api/v1/openapi.json", "").await?;
    assert_eq!(status, 200, "{document}");
    assert!(document.contains("\"/alerts\""), "{document}");
    let (status, body) = get(&client, &base, "/api/v1/alerts", &mona).await?;
    assert_eq!(status, 401, "a session cookie is no API credential: {body}");

    let minted = agent.soc.create_api_token(
        &console::manager(),
        "",
        "shipper",
        &[socfed_runtime::api_token::Scope::Intake],
        3_600_000,
    )?;
    let line = serde_json::json!({
        "observed_at": socfed_proto::now_millis(),
        "product": "edr",
        "rule_id": "R-api",
        "rule_name": "Sent over the console listener",
        "severity": "high",
        "hosts": ["ws-api-01"],
    });
    let answer = client
        .post(format!("{base}/api/v1/alerts?format=native"))
        .header("authorization", format!("Bearer {}", minted.token))
        .header("content-type", "application/x-ndjson")
        .body(format!("{line}\n"))
        .send()
        .await?;
    let status = answer.status().as_u16();
    let text = answer.text().await?;
    assert_eq!(status, 200, "{text}");
    let (_, queue) = get(&client, &base, "/", &mona).await?;
    assert!(queue.contains("Sent over the console listener"), "{queue}");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
