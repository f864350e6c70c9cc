//! Communications end to end: drafted from templates with the incident's facts, redacted by
//! TLP per audience, delivered through a real webhook on loopback only after the IR lead
//! approves, retried after a failure, and never holding the webhook's secret URL.

use sirt_hub::view::words;
use socfed_proto::pb::{self, communications_client::CommunicationsClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::sink::Sink;
use socfed_tests::{clients, eventually, fixture::Org, pki::TestPki};
use std::time::Duration;
use tonic::transport::Channel;

const SECRET: &str = "T0KEN-in-the-url-7f3a";

fn hub_extra(hook: std::net::SocketAddr) -> String {
    format!(
        "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[comms]\nretry_interval = \"200ms\"\n[[comms.webhooks]]\naudience = \"all\"\nurl = \"http://{hook}/hook/{SECRET}\"\n"
    )
}

fn comms_as(
    hub: std::net::SocketAddr,
    pki: &TestPki,
    who: &str,
) -> anyhow::Result<CommunicationsClient<Channel>> {
    Ok(CommunicationsClient::new(clients::channel(
        hub,
        &pki.operator(who)?,
        &pki.domain,
        ExpectedServer::Hub,
    )?))
}

async fn draft(
    client: &mut CommunicationsClient<Channel>,
    incident: &str,
    audience: &str,
) -> anyhow::Result<pb::Communication> {
    Ok(client
        .draft(pb::DraftCommunicationRequest {
            incident_id: incident.into(),
            audience: audience.into(),
            note: String::new(),
        })
        .await?
        .into_inner())
}

fn decide(incident: &str, comm: &str, approve: bool) -> pb::DecideCommunicationRequest {
    pb::DecideCommunicationRequest {
        incident_id: incident.into(),
        communication_id: comm.into(),
        approve,
        reason: if approve {
            String::new()
        } else {
            "wording not agreed with legal".into()
        },
    }
}

async fn state_of(
    client: &CommunicationsClient<Channel>,
    incident: &str,
    comm: &str,
    wanted: &str,
) -> anyhow::Result<pb::Communication> {
    eventually(
        &format!("communication {comm} to be {wanted}"),
        Duration::from_secs(20),
        || {
            let mut client = client.clone();
            let incident = incident.to_string();
            async move {
                let list = client
                    .list(pb::ListCommunicationsRequest {
                        incident_id: incident,
                    })
                    .await
                    .ok()?
                    .into_inner()
                    .communications;
                list.into_iter()
                    .find(|c| c.communication_id == comm && words::comm_state(c.state) == wanted)
            }
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_redacted_per_audience_and_count_as_sent_only_after_approval_and_delivery()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let (sink, hook) = Sink::start().await?;
    let hub = org.hub(&["paris"], &hub_extra(hook)).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let request = pb::RaiseIncidentRequest {
        title: "ransomware on the file servers".into(),
        severity: pb::Severity::Critical as i32,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Ipv4 as i32,
            value: "203.0.113.66".into(),
        }],
        ..Default::default()
    };
    let incident =
        clients::raise_and_find(paris.local_addr, hub.addr, &org.pki, request, "ines").await?;
    let mut op = org.operator(hub.addr, "ines")?;
    let set_tlp = |tlp: &str| pb::TransitionIncidentRequest {
        legacy_command: String::new(),
        id: incident.clone(),
        command: pb::LifecycleCommand::SetTlp.into(),
        argument: tlp.into(),
    };
    op.transition_incident(set_tlp("amber+strict")).await?;

    let mut ines = comms_as(hub.addr, &org.pki, "ines")?;
    // Regulators are cleared for TLP:AMBER: the AMBER+STRICT incident's indicator is withheld.
    let withheld = draft(&mut ines, &incident, "regulators").await?;
    assert_eq!(words::marking(withheld.tlp), "TLP:AMBER");
    assert!(!withheld.body.contains("203.0.113.66"), "{}", withheld.body);
    assert!(
        withheld.redactions.iter().any(|r| r.contains("indicator")),
        "{:?}",
        withheld.redactions
    );
    // Executives are cleared for AMBER+STRICT and see which sites are hit.
    let execs = draft(&mut ines, &incident, "executives").await?;
    assert_eq!(words::marking(execs.tlp), "TLP:AMBER+STRICT");
    assert!(
        execs.body.contains("paris") && execs.redactions.is_empty(),
        "{}",
        execs.body
    );
    // At TLP:AMBER the regulators' update carries the indicator.
    op.transition_incident(set_tlp("amber")).await?;
    let regulators = draft(&mut ines, &incident, "regulators").await?;
    assert!(
        regulators.body.contains("203.0.113.66"),
        "{}",
        regulators.body
    );
    // Clients (TLP:GREEN) never get site names or indicators of an AMBER incident.
    let clients_draft = draft(&mut ines, &incident, "clients").await?;
    assert_eq!(words::marking(clients_draft.tlp), "TLP:GREEN");
    assert!(
        !clients_draft.body.contains("203.0.113.66") && !clients_draft.body.contains("paris"),
        "{}",
        clients_draft.body
    );
    assert!(!clients_draft.counts_as_sent && words::comm_state(clients_draft.state) == "draft");
    // Nor its title: the title of an AMBER incident is AMBER text.
    assert!(
        !clients_draft.subject.contains("ransomware") && !clients_draft.body.contains("ransomware"),
        "{}\n{}",
        clients_draft.subject,
        clients_draft.body
    );

    // Nobody but the IR lead or CISO approves; nothing goes out before.
    let mut tom = comms_as(hub.addr, &org.pki, "tom")?;
    let denied = tom
        .decide(decide(&incident, &clients_draft.communication_id, true))
        .await
        .expect_err("a tier 1 analyst may not approve");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        sink.received().is_empty(),
        "nothing is delivered without approval"
    );

    // Four eyes: the IR lead who drafted it cannot approve it; the CISO can.
    let own = ines
        .decide(decide(&incident, &clients_draft.communication_id, true))
        .await
        .expect_err("the drafter approves her own draft");
    assert_eq!(own.code(), tonic::Code::FailedPrecondition);
    assert!(
        own.message().contains("second person") && own.message().contains("allow_self_approval"),
        "{}",
        own.message()
    );
    let mut carla = comms_as(hub.addr, &org.pki, "carla")?;
    carla
        .decide(decide(&incident, &clients_draft.communication_id, true))
        .await?;
    let delivered = state_of(
        &ines,
        &incident,
        &clients_draft.communication_id,
        "delivered",
    )
    .await?;
    assert!(delivered.counts_as_sent);
    let posted = sink.received();
    assert_eq!(posted.len(), 1);
    let text = posted[0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains(&clients_draft.subject) && !text.contains("203.0.113.66"),
        "{text}"
    );
    assert_eq!(posted[0]["socfed"]["audience"], "clients");

    // A rejected draft is never delivered.
    ines.decide(decide(&incident, &execs.communication_id, false))
        .await?;
    state_of(&ines, &incident, &execs.communication_id, "rejected").await?;

    // A failing webhook is retried until it accepts.
    sink.answer(503);
    let board = draft(&mut ines, &incident, "board").await?;
    carla
        .decide(decide(&incident, &board.communication_id, true))
        .await?;
    state_of(&ines, &incident, &board.communication_id, "delivery-failed").await?;
    sink.answer(200);
    let board = state_of(&ines, &incident, &board.communication_id, "delivered").await?;
    assert_eq!(sink.received().len(), 2);
    assert!(
        board.history.iter().any(|e| e.text.contains("503")),
        "{:?}",
        board.history
    );

    // The webhook's secret never lands in a record.
    let all = ines
        .list(pb::ListCommunicationsRequest {
            incident_id: incident.clone(),
        })
        .await?
        .into_inner();
    assert!(!format!("{all:?}").contains(SECRET));
    let record = op
        .get_incident(pb::GetIncidentRequest {
            id: incident.clone(),
        })
        .await?
        .into_inner();
    assert!(!format!("{record:?}").contains(SECRET));
    assert!(
        record
            .timeline
            .iter()
            .any(|t| t.text.starts_with("communication to clients delivered")),
        "{:?}",
        record.timeline
    );
    let audit = op
        .verify_audit(pb::VerifyHubAuditRequest {})
        .await?
        .into_inner();
    assert!(audit.intact, "{}", audit.problem);
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}

/// A webhook that answers a redirect is not followed: the brief goes to the configured URL
/// only (a 307 would re-send it, with whatever the URL's token grants, to wherever the
/// answer points), and the delivery is recorded as failed, naming the redirect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comms_webhook_answering_a_redirect_is_not_followed() -> anyhow::Result<()> {
    let org = Org::new()?;
    let trap = socfed_tests::sink::RedirectTrap::start(&format!("/hook/{SECRET}")).await?;
    let hook = trap.addr;
    let hub = org.hub(&["paris"], &hub_extra(hook)).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "phish")
        .await?;
    let mut ines = comms_as(hub.addr, &org.pki, "ines")?;
    let carla = comms_as(hub.addr, &org.pki, "carla")?;
    let brief = draft(&mut ines, &incident, "board").await?;
    carla
        .clone()
        .decide(decide(&incident, &brief.communication_id, true))
        .await?;
    let failed = state_of(&ines, &incident, &brief.communication_id, "delivery-failed").await?;
    assert!(
        failed
            .history
            .iter()
            .any(|e| e.text.contains("HTTP 307") && e.text.contains("not followed")),
        "{:?}",
        failed.history
    );
    assert!(
        trap.followed().is_empty(),
        "the brief was re-sent to the redirect target"
    );
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
