//! The HTTP API refuses a browser's operator certificate on a request another site starts:
//! the listener asks for client certificates, so a page elsewhere could make the browser post
//! to `/api/v1` with the operator's certificate. A certificate on a request whose `Origin` or
//! `Sec-Fetch-Site` names another site is 403 and changes nothing; intake takes only a JSON
//! Content-Type (415 otherwise: a `text/plain` form cannot smuggle a JSON line). Tools, which
//! send neither header, and API tokens work as before.

use serde_json::Value;
use site_agent::service::ManualClock;
use socfed_tests::agent_api::{self, NDJSON, ServedApi, agent, code, get, mint, native, post};
use socfed_tests::fixture::Org;
use std::sync::Arc;

/// `POST path` with the certificate client `http` and extra headers; status and answer.
async fn post_with(
    http: &reqwest::Client,
    api: &ServedApi,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http.post(api.url(path)).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_on_a_cross_site_request_is_refused_and_intake_wants_json()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let clock = Arc::new(ManualClock::new(socfed_proto::now_millis()));
    let (agent, api) = agent(&org, clock).await?;
    let tokens = agent_api::client(&org.pki, None)?;
    let operator = agent_api::client(&org.pki, Some("tester"))?;
    let intake = mint(&org, &agent, "vector-paris", "intake")?;

    // The token path: JSON lines with their Content-Type.
    let line = native("a1", "r1", 1);
    let (status, answer) = post(
        &tokens,
        &api,
        Some(&intake),
        "native",
        NDJSON,
        false,
        line.clone().into(),
    )
    .await?;
    assert_eq!(status, 200, "{answer}");
    let (status, groups) = get(&operator, &api, None, "/alerts").await?;
    assert_eq!(status, 200, "{groups}");
    let id = groups[0]["id"].as_str().unwrap_or_default().to_owned();
    let before = get(&operator, &api, None, &format!("/alerts/{id}"))
        .await?
        .1;

    // Another site's page making the browser post with the operator's certificate: 403.
    let ack = format!("/alerts/{id}/ack");
    let escalate = format!("/alerts/{id}/escalate");
    let forged = native("x1", "rx", 5);
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        for path in [ack.as_str(), escalate.as_str()] {
            let (status, answer) = post_with(&operator, &api, path, &headers, "").await?;
            assert_eq!(
                (status, code(&answer)),
                (403, "permission_denied"),
                "{path} {headers:?}: {answer}"
            );
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains("a browser sent the request"), "{message}");
        }
        let mut intake_headers = headers.clone();
        intake_headers.push(("content-type", "text/plain"));
        let (status, answer) = post_with(
            &operator,
            &api,
            "/alerts?format=native",
            &intake_headers,
            &forged,
        )
        .await?;
        assert_eq!(status, 403, "{headers:?}: {answer}");
    }
    // Nothing changed: the group as it was, no forged alert.
    assert_eq!(
        get(&operator, &api, None, &format!("/alerts/{id}"))
            .await?
            .1,
        before
    );
    let (_, groups) = get(&operator, &api, None, "/alerts").await?;
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");

    // A form's body types are not JSON: 415 by token and by certificate alike.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, answer) = post(
            &tokens,
            &api,
            Some(&intake),
            "native",
            content_type,
            false,
            forged.clone().into(),
        )
        .await?;
        assert_eq!(
            (status, code(&answer)),
            (415, "invalid_argument"),
            "{content_type}: {answer}"
        );
        let (status, _) = post_with(
            &operator,
            &api,
            "/alerts?format=native",
            &[("content-type", content_type)],
            &forged,
        )
        .await?;
        assert_eq!(status, 415, "{content_type}");
    }
    let (status, _) = post_with(&operator, &api, "/alerts?format=native", &[], &forged).await?;
    assert_eq!(status, 415, "no Content-Type");
    let (_, groups) = get(&operator, &api, None, "/alerts").await?;
    assert_eq!(groups.as_array().map(Vec::len), Some(1), "{groups}");

    // Any sign of a browser refuses the certificate: this listener's own origin (the console
    // never calls the API from a page), `Origin: null` (a page sending no referrer) and
    // `Sec-Fetch-Site: same-origin` alike. A tool (neither header) is served.
    let own = api.base.trim_end_matches("/api/v1").to_owned();
    for header in [
        ("origin", own.as_str()),
        ("origin", "null"),
        ("sec-fetch-site", "same-origin"),
    ] {
        let (status, body) = post_with(&operator, &api, &ack, &[header], "").await?;
        assert_eq!(status, 403, "{header:?}: {body}");
    }
    let (status, group) = post_with(&operator, &api, &ack, &[], "").await?;
    assert_eq!(
        (status, group["status"].as_str()),
        (200, Some("acknowledged")),
        "{group}"
    );
    let (status, group) = post_with(&operator, &api, &escalate, &[], "").await?;
    assert_eq!(status, 200, "{group}");
    let (status, answer) = post_with(
        &operator,
        &api,
        "/alerts?format=native",
        &[("content-type", "application/json; charset=utf-8")],
        &format!("[{forged}]"),
    )
    .await?;
    assert_eq!(
        (status, answer["accepted"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );

    api.stop().await?;
    agent.stop().await?;
    Ok(())
}
