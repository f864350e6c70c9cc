//! `/api/v1` authentication through what an integration touches: a real in-process hub over
//! HTTPS, tokens minted over gRPC as `sirt-hub tokens create` does, a real HTTP client. A
//! read-only token reads but cannot transition (403 naming the scope); a token with the
//! respond scope transitions as its creator's role allows; a wrong secret, a revoked and an
//! expired token are 401; an operator certificate without a role is 403 on a change and may
//! read; no credential is 401, with the hub's JSON error body. Every token use is audited
//! with the token's id and name, never its secret.

use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{api, clients, fixture::Org, web};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";
const HOUR_MS: i64 = 3_600_000;

async fn mint(
    org: &Org,
    hub: std::net::SocketAddr,
    who: &str,
    name: &str,
    scopes: &[&str],
) -> Result<pb::CreateApiTokenResponse, tonic::Status> {
    let channel = clients::channel(
        hub,
        &org.pki
            .operator(who)
            .map_err(|e| tonic::Status::internal(e.to_string()))?,
        &org.pki.domain,
        ExpectedServer::Hub,
    )
    .map_err(|e| tonic::Status::internal(e.to_string()))?;
    OperatorRosterClient::new(channel)
        .create_api_token(pb::CreateApiTokenRequest {
            name: name.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            lifetime_ms: HOUR_MS,
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Revokes token `id` as the CISO, as `sirt-hub tokens revoke` does.
async fn revoke(org: &Org, hub: std::net::SocketAddr, id: String) -> anyhow::Result<()> {
    let channel = clients::channel(
        hub,
        &org.pki.operator("carl")?,
        &org.pki.domain,
        ExpectedServer::Hub,
    )?;
    OperatorRosterClient::new(channel)
        .revoke_api_token(pb::RevokeApiTokenRequest { id })
        .await?;
    Ok(())
}

/// The message of an error body.
fn message(body: &serde_json::Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

use socfed_tests::api::call;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_scoped_revocable_and_expire_and_certificates_need_a_role() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Beacon"))
        .await?;
    let root = api::base(&hub)?;
    let plain = web::https(&org.pki)?;

    // Minting is the CISO's (or an admin's): the IR lead is refused.
    let refused = mint(&org, hub.addr, "ines", "soar", &["read"]).await;
    assert_eq!(
        refused.map(|_| ()).map_err(|s| s.code()),
        Err(tonic::Code::PermissionDenied)
    );
    let reader = mint(&org, hub.addr, "carl", "dashboards", &["read"])
        .await?
        .token;
    let responder = mint(&org, hub.addr, "carl", "soar", &["read", "respond"]).await?;

    // No credential: 401 with the hub's error code in the body and the header.
    let r = plain.get(format!("{root}/incidents")).send().await?;
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()
            .get("x-socfed-error")
            .and_then(|v| v.to_str().ok()),
        Some("unauthenticated")
    );
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["error"]["code"], "unauthenticated");

    // The read token lists; it cannot transition, and is told which scope it lacks.
    let (status, page) = call(plain.get(format!("{root}/incidents")).bearer_auth(&reader)).await?;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{page}");
    let id = items[0]["id"].as_str().unwrap_or_default().to_string();
    let triage = serde_json::json!({"command": "start-triage"});
    let (status, body) = call(
        plain
            .post(format!("{root}/incidents/{id}/transition"))
            .bearer_auth(&reader)
            .json(&triage),
    )
    .await?;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("respond"), "{body}");

    // The respond token transitions, as its creator (the CISO) may.
    let (status, body) = call(
        plain
            .post(format!("{root}/incidents/{id}/transition"))
            .bearer_auth(&responder.token)
            .json(&triage),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "triage", "{body}");
    // Malformed input is 400, never a 500.
    let (status, body) = call(
        plain
            .post(format!("{root}/incidents/{id}/transition"))
            .bearer_auth(&responder.token)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    let (status, _) = call(
        plain
            .get(format!("{root}/incidents/nope"))
            .bearer_auth(&reader),
    )
    .await?;
    assert_eq!(status, 400);
    let (status, _) = call(plain.get(format!("{root}/no-such")).bearer_auth(&reader)).await?;
    assert_eq!(status, 404);

    // A wrong secret reads as an unknown token: 401.
    let mut wrong = responder.token.clone();
    let last = if wrong.ends_with('0') { '1' } else { '0' };
    wrong.pop();
    wrong.push(last);
    let (status, _) = call(plain.get(format!("{root}/incidents")).bearer_auth(&wrong)).await?;
    assert_eq!(status, 401);

    // Revoked: 401 from the next call.
    let record = responder.record.clone().unwrap_or_default();
    revoke(&org, hub.addr, record.id.clone()).await?;
    let (status, body) = call(
        plain
            .get(format!("{root}/incidents"))
            .bearer_auth(&responder.token),
    )
    .await?;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("revoked"), "{body}");

    // An operator certificate without a role reads, and is refused a change naming a role.
    let zoe = api::with_certificate(&org.pki, "zoe")?;
    let (status, _) = call(zoe.get(format!("{root}/incidents/{id}"))).await?;
    assert_eq!(status, 200);
    let contain = serde_json::json!({"command": "contain"});
    let (status, body) = call(
        zoe.post(format!("{root}/incidents/{id}/transition"))
            .json(&contain),
    )
    .await?;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("role"), "{body}");
    // The IR lead's certificate acts without a token.
    let ines = api::with_certificate(&org.pki, "ines")?;
    let (status, body) = call(
        ines.post(format!("{root}/incidents/{id}/transition"))
            .json(&contain),
    )
    .await?;
    assert_eq!(status, 200, "{body}");

    // Expired: a token whose expiry has passed (written while the hub is stopped: a token
    // lives at least a minute).
    hub.stop().await?;
    let expired = socfed_runtime::api_token::mint(
        "old",
        &[socfed_runtime::api_token::Scope::Read],
        HOUR_MS,
        "carl",
        "",
        socfed_proto::now_millis() - 2 * HOUR_MS,
    )?;
    let entries = {
        let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
        let mut unit = store.unit()?;
        unit.put_api_token(&expired.record)?;
        unit.commit()?;
        store.commit(&store.sync_point()?)?;
        store.audit_entries()?
    };
    for secret in [&reader, &responder.token] {
        let hex = secret.rsplit('_').next().unwrap_or_default();
        for e in &entries {
            assert!(
                !format!("{e:?}").contains(hex),
                "a secret in the audit: {e:?}"
            );
        }
    }
    for action in ["token.create", "token.revoke", "token.use"] {
        assert!(
            entries.iter().any(|e| e.draft.action == action),
            "no {action} audited"
        );
    }
    let used = entries
        .iter()
        .find(|e| e.draft.action == "token.use")
        .map(|e| format!("{e:?}"))
        .unwrap_or_default();
    assert!(
        used.contains(&record.id) || used.contains("dashboards"),
        "{used}"
    );
    let hub = org.hub(&["paris"], EXTRA).await?;
    let root = api::base(&hub)?;
    let (status, body) = call(
        plain
            .get(format!("{root}/incidents"))
            .bearer_auth(&expired.token),
    )
    .await?;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("expired"), "{body}");
    hub.stop().await?;
    Ok(())
}

/// `sirt-hub tokens` as the CISO types it: the token printed once works over HTTP, is listed
/// without its secret, and stops working once revoked; the IR lead may not mint one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_mints_lists_and_revokes_tokens() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let root = api::base(&hub)?;
    let plain = web::https(&org.pki)?;
    let carl = org.hub_cli(hub.addr, "carl")?;
    let created = carl.json(&[
        "tokens",
        "create",
        "ci",
        "--scope",
        "read",
        "--expires",
        "1h",
    ])?;
    let token = created["token"].as_str().unwrap_or_default().to_string();
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert!(token.starts_with(&format!("socfed_{id}_")), "{created}");
    let (status, _) = call(plain.get(format!("{root}/sites")).bearer_auth(&token)).await?;
    assert_eq!(status, 200);

    let listed = carl.json(&["tokens", "list"])?;
    let text = listed.to_string();
    assert!(text.contains("\"ci\"") && text.contains(&id), "{text}");
    assert!(
        !text.contains(token.rsplit('_').next().unwrap_or("-")),
        "a secret listed"
    );

    carl.ok(&["tokens", "revoke", &id])?;
    let (status, _) = call(plain.get(format!("{root}/sites")).bearer_auth(&token)).await?;
    assert_eq!(status, 401);
    let refused = org
        .hub_cli(hub.addr, "ines")?
        .fails(&["tokens", "create", "x", "--scope", "read"])?;
    assert!(
        refused.contains("admin") || refused.contains("CISO"),
        "{refused}"
    );
    hub.stop().await?;
    Ok(())
}

/// A token's event stream ends when the token is revoked (the credential is checked again at
/// each event), and a body over the limit is refused with 400, not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_ends_its_event_stream_and_bodies_are_bounded() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let root = api::base(&hub)?;
    let plain = web::https(&org.pki)?;
    let minted = mint(&org, hub.addr, "carl", "siem", &["read", "respond"]).await?;
    let big = format!(
        "{{\"command\":\"contain\",\"argument\":\"{}\"}}",
        "x".repeat(70_000)
    );
    let (status, body) = call(
        plain
            .post(format!(
                "{root}/incidents/01J0000000000000000000000A/transition"
            ))
            .bearer_auth(&minted.token)
            .header("content-type", "application/json")
            .body(big),
    )
    .await?;
    assert_eq!(status, 400, "{body}");

    let response = plain
        .get(format!("{root}/events"))
        .bearer_auth(&minted.token)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = api::SseReader::new(response);
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Beacon"))
        .await?;
    let created = stream.next(std::time::Duration::from_secs(15)).await?;
    assert_eq!(created.event, "incident_created");

    revoke(&org, hub.addr, minted.record.clone().unwrap_or_default().id).await?;
    // The next event is not sent on the revoked token: the stream ends instead.
    org.escalate_once(hub.addr, "paris", clients::report("p-2", "Another"))
        .await?;
    let end = stream.next(std::time::Duration::from_secs(20)).await?;
    assert_eq!(end.event, "end", "{end:?}");
    hub.stop().await?;
    Ok(())
}
