//! `/api/v1/sites/enrolled`: the enrolled sites over HTTPS. Listing with the `read` scope;
//! enrolling and removing with `respond` and the admin or CISO role (a `read` token and a tier 3
//! analyst refused, each told what is missing); an enrolment takes effect on the site's next
//! stream, a removal refuses it.

use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{api, clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ada\"\nrole = \"admin\"\n[[operators]]\nname = \"tom\"\nrole = \"tier3\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

use socfed_tests::api::call;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_are_enrolled_and_removed_over_the_api_by_an_admin_only() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let root = api::base(&hub)?;
    let ada = api::with_certificate(&org.pki, "ada")?;
    let tom = api::with_certificate(&org.pki, "tom")?;
    let channel = clients::channel(
        hub.addr,
        &org.pki.operator("ada")?,
        &org.pki.domain,
        ExpectedServer::Hub,
    )?;
    let reader = OperatorRosterClient::new(channel)
        .create_api_token(pb::CreateApiTokenRequest {
            name: "dashboards".into(),
            scopes: vec!["read".into()],
            lifetime_ms: 3_600_000,
        })
        .await?
        .into_inner()
        .token;
    let plain = socfed_tests::web::https(&org.pki)?;
    let enrolled = format!("{root}/sites/enrolled");
    let berlin = serde_json::json!({"site": "berlin", "name": "Berlin office"});

    // A read token lists, and may not enrol.
    let (status, page) = call(plain.get(&enrolled).bearer_auth(&reader)).await?;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["site"], "paris");
    assert_eq!(page["items"][0]["reason"], "seeded from config");
    let (status, body) = call(plain.post(&enrolled).bearer_auth(&reader).json(&berlin)).await?;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.to_string().contains("respond"),
        "names the scope: {body}"
    );
    // A tier 3 analyst may not either, and is told who may.
    let (status, body) = call(tom.post(&enrolled).json(&berlin)).await?;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.to_string().contains("needs an admin or the CISO"),
        "{body}"
    );
    // A site id that is none: 400, saying what a site id is.
    let bad = serde_json::json!({"site": "Berlin!"});
    let (status, body) = call(ada.post(&enrolled).json(&bad)).await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("site id"), "{body}");

    // The admin enrols berlin: its next stream is accepted.
    let (status, body) = call(ada.post(&enrolled).json(&berlin)).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["enrolled_by"], "ada");
    assert_eq!(body["name"], "Berlin office");
    org.escalate_once(hub.addr, "berlin", clients::report("b-1", "Beacon"))
        .await?;

    // Removed: its next stream is refused; a second removal is a 404.
    let (status, body) = call(ada.delete(format!("{enrolled}/berlin"))).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["removed"]["by"], "ada");
    let refused = org
        .escalate_once(hub.addr, "berlin", clients::report("b-2", "Beacon"))
        .await
        .expect_err("berlin was removed");
    assert!(
        refused.to_string().contains("sirt-hub sites enrol berlin"),
        "{refused:#}"
    );
    let (status, body) = call(ada.delete(format!("{enrolled}/berlin"))).await?;
    assert_eq!(status, 404, "{body}");
    let (_, page) = call(
        plain
            .get(format!("{enrolled}?removed=true"))
            .bearer_auth(&reader),
    )
    .await?;
    let sites: Vec<&str> = page["items"]
        .as_array()
        .map(|l| l.iter().filter_map(|s| s["site"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(sites, ["berlin", "paris"], "{page}");
    hub.stop().await?;
    Ok(())
}
