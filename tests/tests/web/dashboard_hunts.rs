//! Threat hunts from the SIRT workbench, through what a person touches: signed in to a real
//! in-process hub with two real site agents over mutual TLS, plain form posts. An IR lead
//! starts a hunt for an indicator one site has seen, watches each site's progress on the hunts
//! page, attaches the hits to an incident and hunts for an incident's indicators from its
//! page. A tier 1 analyst is refused both, 403 naming the roles needed; a forged form changes
//! nothing.

use socfed_proto::pb;
use socfed_tests::web::Browser;
use socfed_tests::{clients, eventually, fixture::Org};
use std::time::Duration;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// Posts a form with the session's action token (read from `incident`'s page, whose
/// lifecycle forms every role gets): (status, Location, page).
async fn hunts_form(
    b: &Browser,
    incident: &str,
    path: &str,
    fields: &str,
) -> anyhow::Result<(u16, String, String)> {
    let csrf = b.action_token(incident).await?;
    b.post_to(path, &format!("csrf={csrf}&{fields}"), &[]).await
}

/// The hunts on the page, newest first: (id, row).
fn hunt_rows(page: &str) -> Vec<(String, String)> {
    page.split("<tr data-hunt=\"")
        .skip(1)
        .filter_map(|rest| {
            let (id, row) = rest.split_once('"')?;
            Some((id.to_string(), row.split("</tr>").next()?.to_string()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hunts_start_show_each_sites_progress_and_attach_from_the_workbench() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let _lyon = org.agent("lyon", hub.addr, "").await?;
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let line = format!(
        r#"{{"observed_at": "{now}", "product": "EDR", "rule_id": "r1", "rule_name": "beacon", "severity": "high", "hosts": ["web-1"], "indicators": ["ip:203.0.113.7"]}}"#
    );
    let mut soc = pb::site_soc_client::SiteSocClient::new(clients::channel(
        paris.local_addr,
        &org.pki.operator("tester")?,
        &org.pki.domain,
        socfed_runtime::tls::ExpectedServer::AnySite,
    )?);
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: vec![pb::RawLine {
            line_no: 1,
            text: line,
        }],
    };
    let summary = soc
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner();
    anyhow::ensure!(summary.rejected == 0, "{summary:?}");
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "Beacon")
        .await?;

    // A tier 1 analyst is offered neither form and refused both, naming who may.
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (_, page) = tom.get("/hunts").await?;
    assert!(!page.contains("Start hunt"), "not offered to tier 1");
    let (status, _, page) = hunts_form(&tom, &incident, "/hunts", "iocs=ip%3A203.0.113.7").await?;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("starting a threat hunt needs"), "{page}");

    // Forged and invalid starts change nothing.
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    let (status, _, _) = ines.post_to("/hunts", "iocs=ip%3A203.0.113.7", &[]).await?;
    assert_eq!(status, 403, "no token");
    let (status, _, page) = hunts_form(&ines, &incident, "/hunts", "iocs=nonsense").await?;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("Back to the hunts"), "{page}");
    assert!(hunt_rows(&ines.get("/hunts").await?.1).is_empty());

    // The IR lead hunts for the indicator at every site; each site's progress shows.
    let (status, location, page) = hunts_form(
        &ines,
        &incident,
        "/hunts",
        "iocs=ip%3A203.0.113.7&lookback_h=24&time=observed",
    )
    .await?;
    assert_eq!((status, location.as_str()), (303, "/hunts"), "{page}");
    let (hunt, row) = eventually("both sites done", Duration::from_secs(30), || async {
        let (_, page) = ines.get("/hunts").await.ok()?;
        let (id, row) = hunt_rows(&page).into_iter().next()?;
        (row.contains("paris: done (1 hit)") && row.contains("lyon: done (0 hits)"))
            .then_some((id, row))
    })
    .await?;
    assert!(row.contains("203.0.113.7"), "{row}");

    // Attaching is a response lead's: the analyst is refused; the IR lead attaches.
    let fields = format!("incident={incident}");
    let (status, _, page) =
        hunts_form(&tom, &incident, &format!("/hunts/{hunt}/attach"), &fields).await?;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("attaching hunt hits to an incident needs"),
        "{page}"
    );
    let (status, location, page) =
        hunts_form(&ines, &incident, &format!("/hunts/{hunt}/attach"), &fields).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{incident}").as_str()),
        "{page}"
    );
    let (_, page) = ines.get("/hunts").await?;
    let attached = hunt_rows(&page)
        .into_iter()
        .find(|(id, _)| *id == hunt)
        .map(|(_, row)| row)
        .unwrap_or_default();
    assert!(
        attached.contains(&format!("<td>{incident}</td>")),
        "{attached}"
    );

    // From the incident's page: a hunt for its indicators and one more.
    let (_, page) = ines.get(&format!("/incidents/{incident}")).await?;
    assert!(
        page.contains("Hunt for its indicators across sites"),
        "{page}"
    );
    let csrf = ines.action_token(&incident).await?;
    let (status, location, page) = ines
        .post_to(
            "/hunts",
            &format!("csrf={csrf}&incident={incident}&iocs=domain%3Aevil.example"),
            &[],
        )
        .await?;
    assert_eq!((status, location.as_str()), (303, "/hunts"), "{page}");
    assert_eq!(hunt_rows(&ines.get("/hunts").await?.1).len(), 2);

    hub.stop().await?;
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    let api = "dashboard: incident action";
    assert!(socfed_tests::audit::count(&refusals, api, "tom", "PermissionDenied") >= 2);
    assert!(socfed_tests::audit::count(&refusals, api, "ines", "token") >= 1);
    Ok(())
}
