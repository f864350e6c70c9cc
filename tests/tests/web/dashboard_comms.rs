//! Communications from the SIRT workbench, through what a person touches (a real in-process
//! hub over HTTPS, plain form posts): a SOC manager drafts one, the drafter cannot approve her
//! own (the comms rule of the gRPC API, the same words), a second person does, and a delivery
//! recorded by hand shows as sent. A role the access matrix does not allow is refused 403
//! naming the role needed; a forged form changes nothing; the audit names the session.

use socfed_tests::fixture::Org;
use socfed_tests::web::Browser;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n[[operators]]\nname = \"sam\"\nrole = \"soc-manager\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// The communication ids on an incident's page, in the order shown.
fn comm_ids(page: &str) -> Vec<String> {
    page.split("data-comm=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

/// The communications table's rows.
async fn comms_rows(b: &Browser, id: &str) -> anyhow::Result<String> {
    Ok(b.get(&format!("/incidents/{id}?fragment=comms")).await?.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_approved_by_a_second_person_and_its_delivery_recorded() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    org.escalate_once(
        hub.addr,
        "paris",
        socfed_tests::clients::report("p-1", "<b>Wire</b> fraud"),
    )
    .await?;
    let mut grpc = org.operator(hub.addr, "ines")?;
    let id = socfed_tests::clients::all_incidents(&mut grpc)
        .await?
        .first()
        .map(|i| i.id.clone())
        .ok_or_else(|| anyhow::anyhow!("stored"))?;

    // A tier 1 analyst may not draft: 403 naming who may.
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (_, page) = tom.get(&format!("/incidents/{id}")).await?;
    assert!(
        !page.contains("Draft communication"),
        "not offered to tier 1"
    );
    let (status, _, page) = tom
        .submit(&id, "comms", "audience=executives&note=")
        .await?;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("drafting communications needs an IR lead, the CISO or a SOC manager"),
        "{page}"
    );

    // The SOC manager drafts for the executives; may not approve (403, naming who may).
    let sam = Browser::open(&org.pki, &hub, "sam").await?;
    let (status, location, page) = sam
        .submit(
            &id,
            "comms",
            "audience=executives&note=%3Cscript%3Ex%3C%2Fscript%3E+call+me",
        )
        .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{id}").as_str()),
        "{page}"
    );
    let (_, page) = sam.get(&format!("/incidents/{id}")).await?;
    assert!(!page.contains("<script>x"), "the note is escaped: {page}");
    assert!(
        !page.contains("<b>Wire"),
        "the site's title is escaped: {page}"
    );
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    let (_, page) = ines.get(&format!("/incidents/{id}")).await?;
    let sams = comm_ids(&page)
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the draft is offered to the IR lead: {page}"))?;
    assert!(page.contains("drafted by sam"), "{page}");
    let (status, _, page) = sam
        .submit(&id, &format!("comms/{sams}"), "decision=approve")
        .await?;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("approving or rejecting communications needs an IR lead or the CISO"),
        "{page}"
    );

    // The IR lead drafts one too and may not approve her own (the four-eyes rule): 409.
    let (status, _, _) = ines.submit(&id, "comms", "audience=legal&note=").await?;
    assert_eq!(status, 303);
    let (_, page) = ines.get(&format!("/incidents/{id}")).await?;
    let own = comm_ids(&page)
        .into_iter()
        .find(|c| *c != sams)
        .ok_or_else(|| anyhow::anyhow!("her draft: {page}"))?;
    let (status, _, page) = ines
        .submit(&id, &format!("comms/{own}"), "decision=approve")
        .await?;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("must approve it"), "{page}");

    // A forged approval changes nothing.
    let good = ines.action_token(&id).await?;
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example")],
    ] {
        let (status, _, _) = ines
            .post_to(
                &format!("/incidents/{id}/comms/{sams}"),
                &format!("csrf={good}&decision=approve"),
                &headers,
            )
            .await?;
        assert_eq!(status, 403);
    }
    assert!(!comms_rows(&ines, &id).await?.contains("approved"));

    // A second person approves each; a rejection needs a reason; a delivery by hand is sent.
    let (status, _, page) = ines
        .submit(&id, &format!("comms/{sams}"), "decision=approve")
        .await?;
    assert_eq!(status, 303, "{page}");
    let carla = Browser::open(&org.pki, &hub, "carla").await?;
    let (status, _, page) = carla
        .submit(&id, &format!("comms/{own}"), "decision=reject&reason=")
        .await?;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("needs a reason"), "{page}");
    let (status, _, _) = carla
        .submit(
            &id,
            &format!("comms/{own}"),
            "decision=reject&reason=too+early",
        )
        .await?;
    assert_eq!(status, 303);
    let (status, _, page) = ines
        .submit(
            &id,
            &format!("comms/{sams}"),
            "decision=delivered&channel=phone+call",
        )
        .await?;
    assert_eq!(status, 303, "{page}");
    let rows = comms_rows(&ines, &id).await?;
    assert!(rows.contains("<td>delivered</td><td>yes</td>"), "{rows}");
    assert!(rows.contains("<td>rejected</td><td>no</td>"), "{rows}");
    let (status, _, _) = ines
        .submit(&id, &format!("comms/{sams}"), "decision=publish")
        .await?;
    assert_eq!(status, 400);

    hub.stop().await?;
    let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
    let entries = store.audit_entries()?;
    let by = |prefix: &str, actor: &str| {
        entries.iter().any(|e| {
            e.draft.action.starts_with(prefix)
                && e.draft.actor == actor
                && e.draft.actor_cert.starts_with("serial ")
        })
    };
    assert!(by("comms.", "sam"), "sam's draft audited: {entries:?}");
    assert!(by("comms.", "carla"), "carla's rejection audited");
    drop(store);
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    let api = "dashboard: incident action";
    assert!(socfed_tests::audit::count(&refusals, api, "tom", "PermissionDenied") >= 1);
    assert!(socfed_tests::audit::count(&refusals, api, "sam", "PermissionDenied") >= 1);
    assert!(socfed_tests::audit::count(&refusals, api, "ines", "another origin") >= 1);
    Ok(())
}
