//! The site agent's HTTP/JSON API (`/api/v1`) through a real HTTPS client: API tokens minted,
//! listed and revoked with the `site-agent tokens` CLI and refused or allowed by scope, expiry
//! and revocation; operator certificates checked against the roster; every token use in the
//! audit log, never its secret. Intake itself: `agent_api_intake.rs`.

use serde_json::Value;
use site_agent::service::ManualClock;
use socfed_tests::agent_api::{
    self, NDJSON, agent, audit, code, get, mint, native, post, post_empty,
};
use socfed_tests::fixture::Org;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_refused_and_allowed_by_scope_expiry_revocation_and_roster() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let clock = Arc::new(ManualClock::new(socfed_proto::now_millis()));
    let (agent, api) = agent(&org, clock.clone()).await?;
    let http = agent_api::client(&org.pki, None)?;

    // Without a credential every route but the document is 401.
    for (method, path) in site_agent::api::ROUTES {
        let path = path
            .replace("{id}", "01J00000000000000000000000")
            .replace("{group}", "01J00000000000000000000000");
        let request = match method {
            "post" => http.post(api.url(&path)),
            "delete" => http.delete(api.url(&path)),
            _ => http.get(api.url(&path)),
        };
        let status = request.send().await?.status().as_u16();
        let expected = if path == "/openapi.json" { 200 } else { 401 };
        assert_eq!(status, expected, "{method} {path}");
    }

    let intake = mint(&org, &agent, "vector-paris", "intake")?;
    let reader = mint(&org, &agent, "grafana", "read")?;
    let lines = format!("{}\n{}\n", native("a1", "r1", 1), native("a2", "r2", 2));

    // A read token cannot post alerts: 403 naming the scope it lacks.
    let (status, answer) = post(
        &http,
        &api,
        Some(&reader),
        "native",
        NDJSON,
        false,
        lines.clone().into(),
    )
    .await?;
    assert_eq!(
        (status, code(&answer)),
        (403, "permission_denied"),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("intake"),
        "{answer}"
    );
    // The intake token can.
    let (status, answer) = post(
        &http,
        &api,
        Some(&intake),
        "native",
        NDJSON,
        false,
        lines.into(),
    )
    .await?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(2), Some(0))
    );
    // It cannot read; the read token can.
    let (status, answer) = get(&http, &api, Some(&intake), "/alerts").await?;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("read")
    );
    let (status, groups) = get(&http, &api, Some(&reader), "/alerts").await?;
    assert_eq!(status, 200, "{groups}");
    assert_eq!(groups.as_array().map(Vec::len), Some(2), "{groups}");
    let id = groups[0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, one) = get(&http, &api, Some(&reader), &format!("/alerts/{id}")).await?;
    assert_eq!(status, 200, "{one}");
    assert!(
        one["sample"]
            .as_str()
            .unwrap_or_default()
            .contains("rule_id"),
        "{one}"
    );
    for path in ["/incidents", "/notifications"] {
        assert_eq!(
            get(&http, &api, Some(&reader), path).await?.0,
            200,
            "{path}"
        );
    }

    // Triage: a read token may not act; a triage token acknowledges and escalates, as its
    // minter (the SOC manager) may.
    let triage = mint(&org, &agent, "soar", "triage")?;
    let ack = format!("/alerts/{id}/ack");
    let (status, answer) = post_empty(&http, &api, Some(&reader), &ack).await?;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("triage")
    );
    let (status, group) = post_empty(&http, &api, Some(&triage), &ack).await?;
    assert_eq!(
        (status, group["status"].as_str()),
        (200, Some("acknowledged")),
        "{group}"
    );
    let (status, again) = post_empty(&http, &api, Some(&triage), &ack).await?;
    assert_eq!(
        (status, code(&again)),
        (409, "failed_precondition"),
        "{again}"
    );
    let escalate = format!("/alerts/{id}/escalate");
    let (status, group) = post_empty(&http, &api, Some(&triage), &escalate).await?;
    assert_eq!((status, group["tier"].as_u64()), (200, Some(2)), "{group}");
    // A tier 1 analyst's certificate may not act on the tier 2 group: 403 naming the role.
    let cli = org.agent_cli(agent.local_addr, "tester")?;
    cli.ok(&["roster", "add", "ann", "--role", "tier1"])?;
    let ann = agent_api::client(&org.pki, Some("ann"))?;
    let (status, answer) = post_empty(&ann, &api, None, &escalate).await?;
    assert_eq!(
        (status, code(&answer)),
        (403, "permission_denied"),
        "{answer}"
    );
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("tier 2 analyst or above"), "{message}");
    let entries = audit(&agent)?;
    assert!(
        entries
            .iter()
            .any(|e| e.draft.actor == "api-token:soar" && e.draft.target.contains(&id)),
        "triage by token audited under the token's name"
    );

    // A wrong secret, a malformed token: 401.
    let mut wrong = reader.clone();
    let last = if wrong.ends_with('0') { '1' } else { '0' };
    wrong.pop();
    wrong.push(last);
    assert_eq!(get(&http, &api, Some(&wrong), "/alerts").await?.0, 401);
    assert_eq!(
        get(&http, &api, Some("socfed_nonsense"), "/alerts")
            .await?
            .0,
        401
    );
    let response = http
        .get(api.url("/alerts"))
        .bearer_auth("socfed_nonsense")
        .send()
        .await?;
    let header = response.headers().get("x-socfed-error").cloned();
    assert_eq!(
        header.as_ref().and_then(|v| v.to_str().ok()),
        Some("unauthenticated")
    );

    // Listed without secrets; revoked: 401.
    let listed = cli.json(&["tokens", "list"])?;
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");
    assert!(!listed.to_string().contains(&reader[reader.len() - 64..]));
    let reader_id = listed
        .as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == "grafana"))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    cli.ok(&["tokens", "revoke", &reader_id])?;
    let (status, answer) = get(&http, &api, Some(&reader), "/alerts").await?;
    assert_eq!(
        (status, code(&answer)),
        (401, "unauthenticated"),
        "{answer}"
    );

    // Expired (30 days later): 401.
    clock.advance(Duration::from_secs(31 * 86_400));
    let (status, answer) = post(
        &http,
        &api,
        Some(&intake),
        "native",
        NDJSON,
        false,
        native("a3", "r3", 3).into(),
    )
    .await?;
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired")
    );

    // An operator certificate: a manager reads; someone outside the roster is 403.
    let tester = agent_api::client(&org.pki, Some("tester"))?;
    assert_eq!(get(&tester, &api, None, "/alerts").await?.0, 200);
    let stranger = agent_api::client(&org.pki, Some("mallory"))?;
    let (status, answer) = get(&stranger, &api, None, "/alerts").await?;
    assert_eq!(status, 403, "{answer}");

    // Every use is in the audit log by token id and name, never the secret: intake by its
    // own unit, reads counted and flushed in one entry per token.
    api.stop().await?;
    agent.api.flush_usage().await?;
    let entries = audit(&agent)?;
    let submitted = entries
        .iter()
        .filter(|e| e.draft.action == "alerts.submit" && e.draft.actor == "api-token:vector-paris")
        .count();
    assert_eq!(submitted, 1);
    let read_uses: u64 = entries
        .iter()
        .filter(|e| e.draft.action == "api-token.read")
        .filter_map(|e| serde_json::from_str::<Value>(e.draft.after.as_deref()?).ok())
        .filter_map(|v| v["requests"].as_u64())
        .sum();
    assert_eq!(read_uses, 4, "the reader's four answered reads");
    for secret in [&intake, &reader] {
        let secret = &secret[secret.len() - 64..];
        assert!(
            !entries
                .iter()
                .any(|e| format!("{:?}", e.draft).contains(secret)),
            "a secret in the audit log"
        );
    }
    agent.stop().await?;
    Ok(())
}

/// A token dies with the certificate that minted it: the SOC manager's certificate revoked
/// (`sirt-hub pki revoke`, the CRL re-read by the running agent) takes its tokens with it
/// (401 saying to mint a new one); a token minted with another certificate keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_refused_once_the_certificate_that_minted_it_is_revoked() -> anyhow::Result<()> {
    use socfed_tests::fixture::OperatorCli;
    use socfed_tests::web::console;
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let hub = format!("127.0.0.1:{}", socfed_tests::free_port()?).parse()?;
    let agent = console::agent(&org, hub, &console::config("1h"), Some(&crl)).await?;
    let api = agent_api::serve(&agent, &org.pki, "paris").await?;
    let http = agent_api::client(&org.pki, None)?;

    let mint_with = |files, name: &str| {
        agent_api::mint_with(&OperatorCli::agent(agent.local_addr, files), name, "read")
    };
    // Each certificate issued to tester replaces the files of the one before: the one
    // revoked is issued last.
    let kept_token = mint_with(org.pki.operator("tester")?, "kept")?;
    let stolen = org.pki.operator("tester")?;
    let stolen_token = mint_with(stolen.clone(), "stolen")?;
    assert_eq!(
        get(&http, &api, Some(&stolen_token), "/alerts").await?.0,
        200
    );

    sirt_hub::pki::revoke(&org.pki.dir, &stolen.cert, "key compromise")?;
    let answer = socfed_tests::eventually(
        "the revocation to refuse the token",
        Duration::from_secs(20),
        || {
            let (http, url, token) = (http.clone(), api.url("/alerts"), stolen_token.clone());
            async move {
                let r = http.get(url).bearer_auth(token).send().await.ok()?;
                (r.status().as_u16() == 401).then_some(())?;
                r.json::<Value>().await.ok()
            }
        },
    )
    .await?;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the certificate that minted this token was revoked"),
        "{answer}"
    );
    assert_eq!(get(&http, &api, Some(&kept_token), "/alerts").await?.0, 200);
    api.stop().await?;
    agent.stop().await?;
    Ok(())
}
