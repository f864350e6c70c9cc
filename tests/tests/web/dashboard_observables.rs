//! Observables on the incident page and in `/api/v1`, through what a person or a tool
//! touches (a real in-process hub over HTTPS, plain form posts, JSON with a client
//! certificate): a site's hostile value shown as text, "also in" links to the other incident,
//! forms offered and accepted only for the roles that may judge observables (403 naming them
//! otherwise, a forged form changes nothing), the API's list, change and lookup, and a
//! TLP:RED incident named by neither the page nor the lookup to whoever may not read it.

use socfed_proto::pb;
use socfed_tests::web::Browser;
use socfed_tests::{api, clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tara\"\nrole = \"tier3\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";
const HOSTILE: &str = "https://evil.example/<script>alert(1)</script>";

fn report(local: &str, rule: &str, indicators: &[(pb::IndicatorKind, &str)]) -> pb::IncidentReport {
    pb::IncidentReport {
        rule_id: rule.into(),
        indicators: clients::indicators(indicators),
        ..clients::report(local, &format!("<b>{rule}</b> beacon"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_page_and_the_api_show_and_change_observables_by_role() -> anyhow::Result<()> {
    use pb::IndicatorKind::{Domain, Url};
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    org.escalate_once(
        hub.addr,
        "paris",
        report(
            "p-1",
            "paris-dns",
            &[(Domain, "c2.example"), (Url, HOSTILE)],
        ),
    )
    .await?;
    org.escalate_once(
        hub.addr,
        "lyon",
        report("l-1", "lyon-proxy", &[(Domain, "c2.example")]),
    )
    .await?;
    let mut grpc = org.operator(hub.addr, "ines")?;
    let all = clients::all_incidents(&mut grpc).await?;
    let id_of = |rule: &str| {
        all.iter()
            .find(|i| i.title.contains(rule))
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("{rule}'s incident in {all:?}"))
    };
    let (a, b) = (id_of("paris-dns")?, id_of("lyon-proxy")?);

    // Tier 1 reads: the hostile value as text, the other incident as a link, no forms.
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (_, page) = tom.get(&format!("/incidents/{a}")).await?;
    assert!(
        page.contains("<h2 id=\"observables\">Observables</h2>"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "escaped: {page}");
    assert!(
        page.contains("url:https://evil.example/&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        page.contains(&format!("<a href=\"/incidents/{b}\">{b} (lyon)</a>")),
        "{page}"
    );
    assert!(!page.contains("Add observable"), "not offered to tier 1");
    let (status, _, page) = tom
        .submit(&a, "observables", "action=add&indicator=ip%3A198.51.100.7")
        .await?;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("a tier 3 analyst"), "{page}");

    // Tier 3 adds one and flags the shared domain from the page.
    let tara = Browser::open(&org.pki, &hub, "tara").await?;
    let (_, page) = tara.get(&format!("/incidents/{a}")).await?;
    assert!(page.contains("Add observable"), "offered to tier 3");
    let (status, location, page) = tara
        .submit(
            &a,
            "observables",
            "action=add&indicator=ip%3A198.51.100.7&ioc=1&tag=scan&tlp=green",
        )
        .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{a}").as_str()),
        "{page}"
    );
    let (status, _, page) = tara
        .submit(
            &a,
            "observables",
            "action=flag&indicator=domain%3Ac2.example&ioc=1&tag=apt-x&tlp=",
        )
        .await?;
    assert_eq!(status, 303, "{page}");
    let (_, page) = tara.get(&format!("/incidents/{a}")).await?;
    assert!(
        page.contains("<td>ipv4:198.51.100.7</td><td>IOC, tags scan</td><td>green</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td>domain:c2.example</td><td>IOC, sighted, tags apt-x</td>"),
        "{page}"
    );
    // A forged form (another origin) changes nothing.
    let good = tara.action_token(&a).await?;
    let (status, _, _) = tara
        .post_to(
            &format!("/incidents/{a}/observables"),
            &format!("csrf={good}&action=remove&indicator=ip%3A198.51.100.7"),
            &[("origin", "https://evil.example")],
        )
        .await?;
    assert_eq!(status, 403);
    assert!(
        tara.get(&format!("/incidents/{a}"))
            .await?
            .1
            .contains("ipv4:198.51.100.7")
    );

    // The API: list, a change with the respond scope's credential, the lookup.
    let base = api::base(&hub)?;
    let tara_api = api::with_certificate(&org.pki, "tara")?;
    let list: serde_json::Value = tara_api
        .get(format!("{base}/incidents/{a}/observables"))
        .send()
        .await?
        .json()
        .await?;
    let domain = list["observables"]
        .as_array()
        .and_then(|all| all.iter().find(|o| o["indicator"] == "domain:c2.example"))
        .ok_or_else(|| anyhow::anyhow!("{list}"))?;
    assert_eq!(domain["sites"][0]["site"], "paris");
    assert_eq!(domain["sites"][0]["count"], 1);
    assert_eq!(domain["also_in"][0]["incident_id"], b.as_str());
    let removed = tara_api
        .post(format!("{base}/incidents/{a}/observables"))
        .json(&serde_json::json!({"indicator": format!("url:{HOSTILE}"), "action": "remove"}))
        .send()
        .await?;
    assert_eq!(removed.status(), 200);
    let denied = api::with_certificate(&org.pki, "tom")?
        .post(format!("{base}/incidents/{a}/observables"))
        .json(
            &serde_json::json!({"indicator": "domain:c2.example", "action": "unflag", "ioc": true}),
        )
        .send()
        .await?;
    assert_eq!(denied.status(), 403);
    let lookup = |who: &'static str| {
        let (base, pki) = (base.clone(), &org.pki);
        async move {
            let found: serde_json::Value = api::with_certificate(pki, who)?
                .get(format!("{base}/observables/domain%3AC2.Example"))
                .send()
                .await?
                .json()
                .await?;
            let ids: Vec<String> = found["incidents"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .filter_map(|h| h["incident_id"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            anyhow::Ok(ids)
        }
    };
    assert_eq!(
        lookup("tom").await?.len(),
        2,
        "normalised: equal across sites"
    );

    // API tokens: reading needs the read scope, a change the respond scope.
    let plain = socfed_tests::web::https(&org.pki)?;
    let token = |scopes: &'static [&'static str]| {
        let (org, hub) = (&org, hub.addr);
        async move {
            let channel = clients::channel(
                hub,
                &org.pki.operator("carl")?,
                &org.pki.domain,
                socfed_runtime::tls::ExpectedServer::Hub,
            )?;
            anyhow::Ok(
                pb::operator_roster_client::OperatorRosterClient::new(channel)
                    .create_api_token(pb::CreateApiTokenRequest {
                        name: format!("soar-{}", scopes.len()),
                        scopes: scopes.iter().map(|s| s.to_string()).collect(),
                        lifetime_ms: 3_600_000,
                    })
                    .await?
                    .into_inner()
                    .token,
            )
        }
    };
    let (reader, responder) = (token(&["read"]).await?, token(&["read", "respond"]).await?);
    let flag =
        serde_json::json!({"indicator": "domain:c2.example", "action": "flag", "sighted": true});
    let listed = plain
        .get(format!("{base}/incidents/{a}/observables"))
        .bearer_auth(&reader)
        .send()
        .await?;
    assert_eq!(listed.status(), 200);
    let refused = plain
        .post(format!("{base}/incidents/{a}/observables"))
        .bearer_auth(&reader)
        .json(&flag)
        .send()
        .await?;
    assert_eq!(refused.status(), 403, "a read token changes nothing");
    let done = plain
        .post(format!("{base}/incidents/{a}/observables"))
        .bearer_auth(&responder)
        .json(&flag)
        .send()
        .await?;
    assert_eq!(done.status(), 200, "{}", done.text().await?);

    // B goes TLP:RED: tom learns of it neither from A's page nor from the lookup.
    clients::transition(&mut grpc, &b, pb::LifecycleCommand::SetTlp, "red").await?;
    assert_eq!(lookup("tom").await?, vec![a.clone()]);
    let (_, page) = tom.get(&format!("/incidents/{a}")).await?;
    assert!(!page.contains(&b), "B is not named: {page}");
    assert_eq!(
        lookup("ines").await?.len(),
        2,
        "an IR lead reads RED without a lead"
    );
    hub.stop().await?;
    Ok(())
}
