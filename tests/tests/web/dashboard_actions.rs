//! The SIRT workbench's incident actions, through what a person touches: signed in to a real
//! in-process hub over HTTPS, plain form posts to `/incidents/{id}/act`. An IR lead triages,
//! contains and reclassifies an incident and a SOC manager assigns its IR lead; the page and
//! the board show the new state and the audit chain has each change under the session's
//! certificate. A tier 1 analyst is refused what needs a lead, with the same words as the gRPC
//! refusal; a post without the session's token, with a wrong one or from another origin
//! changes nothing; bad input answers 400, a move the lifecycle refuses 409, never a 500.

use socfed_proto::pb;
use socfed_tests::web::Browser;
use socfed_tests::{clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"sam\"\nrole = \"soc-manager\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// A hub incident escalated by paris, and the IR lead's gRPC client that found it.
async fn one_incident(
    org: &Org,
    hub: &sirt_hub::app::RunningHub,
) -> anyhow::Result<(
    pb::operator_client::OperatorClient<tonic::transport::Channel>,
    String,
)> {
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Beacon"))
        .await?;
    let mut grpc = org.operator(hub.addr, "ines")?;
    let id = clients::all_incidents(&mut grpc)
        .await?
        .first()
        .map(|i| i.id.clone())
        .ok_or_else(|| anyhow::anyhow!("the incident is stored"))?;
    Ok((grpc, id))
}

/// The incident page's state line.
async fn state_line(b: &Browser, id: &str) -> anyhow::Result<String> {
    b.state_line(id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ir_lead_acts_on_an_incident_from_its_page_and_every_change_is_audited()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let (mut grpc, id) = one_incident(&org, &hub).await?;
    let ines = Browser::open(&org.pki, &hub, "ines").await?;

    // The page offers what an IR lead may do to a new incident, as plain forms.
    let (_, page) = ines.get(&format!("/incidents/{id}")).await?;
    for part in [
        "As an IR lead you may:",
        "<form method=\"post\" action=\"/incidents/",
        "value=\"start-triage\"",
        "<label>Severity <select name=\"argument\">",
    ] {
        assert!(page.contains(part), "{part} missing: {page}");
    }
    assert!(!page.contains("value=\"contain\""), "not before triage");
    assert!(
        !page.contains("value=\"assign-ir-lead\""),
        "not an IR lead's"
    );

    ines.act(&id, "start-triage", "").await?;
    ines.act(&id, "contain", "").await?;
    ines.act(&id, "set-severity", "critical").await?;
    ines.act(&id, "set-tlp", "amber%2Bstrict").await?;
    ines.act(&id, "set-priority", "P1").await?;
    ines.act(&id, "add-technique", "T1071.001").await?;
    let line = state_line(&ines, &id).await?;
    for part in ["containment", "critical", "priority P1", "TLP:AMBER+STRICT"] {
        assert!(line.contains(part), "{part} missing: {line}");
    }

    // Assigning the lead is the SOC manager's (or the CISO's, or an admin's): the IR lead is
    // told so; the SOC manager does it.
    let csrf = ines.action_token(&id).await?;
    let (status, _, refused) = ines
        .post(
            &id,
            &format!("csrf={csrf}&command=assign-ir-lead&argument=ines"),
            &[],
        )
        .await?;
    assert_eq!(status, 403, "{refused}");
    assert!(refused.contains("needs a SOC manager"), "{refused}");
    let sam = Browser::open(&org.pki, &hub, "sam").await?;
    sam.act(&id, "assign-ir-lead", "ines").await?;
    assert!(state_line(&ines, &id).await?.contains("IR lead ines"));
    let (_, board) = ines.get("/").await?;
    let row = board
        .split("<tr data-id=")
        .find(|r| r.starts_with(&format!("\"{id}\"")))
        .ok_or_else(|| anyhow::anyhow!("on the board: {board}"))?;
    for cell in ["<td>ines</td>", "containment", "TLP:AMBER+STRICT"] {
        assert!(row.contains(cell), "{cell} missing from {row}");
    }
    // The gRPC view agrees: one incident, one state.
    let seen = clients::all_incidents(&mut grpc).await?;
    assert_eq!(seen.first().map(|i| i.ir_lead.as_str()), Some("ines"));

    hub.stop().await?;
    let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
    let entries = store.audit_entries()?;
    for (action, actor) in [
        ("incident.start-triage", "ines"),
        ("incident.contain", "ines"),
        ("incident.set-severity", "ines"),
        ("incident.set-tlp", "ines"),
        ("incident.add-technique", "ines"),
        ("incident.assign-ir-lead", "sam"),
    ] {
        let found = entries
            .iter()
            .find(|e| e.draft.action == action && e.draft.target == id)
            .ok_or_else(|| anyhow::anyhow!("{action} not audited"))?;
        assert_eq!(found.draft.actor, actor, "{action}");
        assert!(
            found.draft.actor_cert.starts_with("serial "),
            "{action}: the session's certificate: {}",
            found.draft.actor_cert
        );
    }
    drop(store);
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    assert_eq!(
        socfed_tests::audit::count(&refusals, "dashboard: incident action", "ines", "needs"),
        1,
        "{refusals:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_forged_and_invalid_actions_change_nothing_and_say_what_to_do() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let (_, id) = one_incident(&org, &hub).await?;
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    tom.act(&id, "start-triage", "").await?;
    let before = state_line(&tom, &id).await?;
    assert!(before.contains("triage"), "{before}");

    // A tier 1 analyst may triage, not contain: 403 naming who may, in the gRPC API's words.
    let csrf = tom.action_token(&id).await?;
    assert!(
        !tom.get(&format!("/incidents/{id}"))
            .await?
            .1
            .contains("value=\"contain\"")
    );
    let (status, _, page) = tom
        .post(&id, &format!("csrf={csrf}&command=contain&argument="), &[])
        .await?;
    assert_eq!(status, 403, "{page}");
    let grpc_refusal = org
        .operator(hub.addr, "tom")?
        .transition_incident(pb::TransitionIncidentRequest {
            legacy_command: String::new(),
            id: id.clone(),
            command: pb::LifecycleCommand::Contain.into(),
            argument: String::new(),
        })
        .await
        .expect_err("refused over gRPC too");
    assert_eq!(grpc_refusal.code(), tonic::Code::PermissionDenied);
    assert!(
        grpc_refusal.message().contains("an IR lead"),
        "{grpc_refusal:?}"
    );
    assert!(page.contains(grpc_refusal.message()), "{page}");

    // Forged: no token, a wrong token, another origin (with the right token).
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    let good = ines.action_token(&id).await?;
    let contain = |csrf: &str| format!("csrf={csrf}&command=contain&argument=");
    for (body, headers) in [
        ("command=contain&argument=".to_string(), vec![]),
        (contain(&"0".repeat(64)), vec![]),
        (contain(&csrf), vec![]),
        (contain(&good), vec![("sec-fetch-site", "cross-site")]),
        (contain(&good), vec![("origin", "https://evil.example")]),
    ] {
        let (status, _, page) = ines.post(&id, &body, &headers).await?;
        assert_eq!(status, 403, "{body} {headers:?}: {page}");
        assert!(page.contains("nothing was changed"), "{page}");
    }
    assert_eq!(state_line(&ines, &id).await?, before, "nothing changed");

    // Bad input: 400 saying what is accepted; a move the lifecycle refuses: 409; an unknown
    // incident: 404. Never a 500.
    for (body, status, says) in [
        ("command=teleport&argument=", 400, "use one of"),
        ("command=set-severity&argument=huge", 400, "severity"),
        ("command=reopen&argument=", 400, "reopen needs a reason"),
        (
            "command=eradicate&argument=",
            409,
            "it must be in containment first",
        ),
    ] {
        let (got, _, page) = ines.post(&id, &format!("csrf={good}&{body}"), &[]).await?;
        assert_eq!(got, status, "{body}: {page}");
        assert!(page.contains(says), "{body}: {says} missing: {page}");
        assert!(page.contains("Back to the incident"), "{page}");
    }
    let unknown = ulid::Ulid::new().to_string();
    let (got, _, _) = ines
        .post(
            &unknown,
            &format!("csrf={good}&command=contain&argument="),
            &[],
        )
        .await?;
    assert_eq!(got, 404);
    assert_eq!(state_line(&ines, &id).await?, before, "nothing changed");

    // Free text is bounded the same as over gRPC, and a body past the dashboard's limit is
    // answered 413 for what it is (not as a forged form), changing nothing.
    let long = "x".repeat(1_001);
    let (got, _, page) = ines
        .post(
            &id,
            &format!("csrf={good}&command=reopen&argument={long}"),
            &[],
        )
        .await?;
    assert_eq!(got, 400, "{page}");
    assert!(page.contains("longer than 1000 characters"), "{page}");
    let huge = "y".repeat(64 * 1024);
    let (got, _, page) = ines
        .post(
            &id,
            &format!("csrf={good}&command=reopen&argument={huge}"),
            &[],
        )
        .await?;
    assert_eq!(got, 413, "{page}");
    assert!(page.contains("16 KiB"), "{page}");
    assert_eq!(state_line(&ines, &id).await?, before, "nothing changed");

    // The same-origin form with its token goes through.
    ines.act(&id, "contain", "").await?;
    assert!(state_line(&ines, &id).await?.contains("containment"));
    hub.stop().await?;
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    let api = "dashboard: incident action";
    assert!(
        socfed_tests::audit::count(&refusals, api, "tom", "PermissionDenied") >= 1,
        "{refusals:?}"
    );
    assert!(
        socfed_tests::audit::count(&refusals, api, "ines", "another origin") >= 1,
        "{refusals:?}"
    );
    assert!(
        socfed_tests::audit::count(&refusals, api, "ines", "token") >= 1,
        "{refusals:?}"
    );
    Ok(())
}
