//! TLP:RED incidents are read only by the people running their response (the CISO, the IR
//! lead, the members they add, or while no lead is assigned an operator with the IR lead
//! role), through every read
//! path: the Operator API (list, show, watch), communications, directives, and the dashboard.
//! A real in-process hub over mutual TLS, operators of different roles.

use socfed_proto::pb::{self, communications_client::CommunicationsClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::web::{https, login_url, sign_in};
use socfed_tests::{clients, fixture::Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n\
[[operators]]\nname = \"olga\"\nrole = \"ir-lead\"\n\
[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n\
[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n\
[dashboard]\nlisten = \"127.0.0.1:0\"\n";

fn report(local: &str, title: &str, tlp: pb::Tlp, domain: &str) -> pb::IncidentReport {
    pb::IncidentReport {
        tlp: tlp as i32,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: domain.into(),
        }],
        ..clients::report(local, title)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlp_red_incidents_are_read_only_by_their_response_team() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let red = report(
        "p-1",
        "Extortion negotiation",
        pb::Tlp::Red,
        "leak-site.example",
    );
    org.escalate_once(hub.addr, "paris", red).await?;
    let green = report("l-1", "Phishing wave", pb::Tlp::Green, "phish.example");
    org.escalate_once(hub.addr, "lyon", green).await?;
    let op = |name: &str| clients::operator(hub.addr, &org.pki.operator(name)?, &org.pki.domain);
    let (mut carl, mut ines, mut olga, mut tom, mut eve) = (
        op("carl")?,
        op("ines")?,
        op("olga")?,
        op("tom")?,
        op("eve")?,
    );
    let titles = |list: Vec<pb::HubIncident>| list.into_iter().map(|i| i.title).collect::<Vec<_>>();
    let all = clients::all_incidents(&mut carl).await?;
    assert_eq!(all.len(), 2, "the CISO reads both");
    let red_id = all
        .iter()
        .find(|i| i.title == "Extortion negotiation")
        .map(|i| i.id.clone())
        .unwrap_or_default();

    // No role, or a role but not on the response: the RED incident is not listed, and
    // showing it is refused with what is needed.
    for (who, client) in [("eve", &mut eve), ("tom", &mut tom)] {
        assert_eq!(
            titles(clients::all_incidents(client).await?),
            ["Phishing wave"],
            "{who}"
        );
        let denied = client
            .get_incident(pb::GetIncidentRequest { id: red_id.clone() })
            .await
            .expect_err("refused");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{who}");
        assert!(
            denied.message().contains("TLP:RED") && denied.message().contains("CISO"),
            "{who}: {}",
            denied.message()
        );
        let channel = clients::channel(
            hub.addr,
            &org.pki.operator(who)?,
            &org.pki.domain,
            ExpectedServer::Hub,
        )?;
        let comms = CommunicationsClient::new(channel)
            .list(pb::ListCommunicationsRequest {
                incident_id: red_id.clone(),
            })
            .await
            .expect_err("refused");
        assert_eq!(comms.code(), tonic::Code::PermissionDenied, "{who}");
    }

    // Unassigned: any IR lead may pick it up. Assigned: its IR lead and the CISO only.
    assert_eq!(clients::all_incidents(&mut olga).await?.len(), 2);
    carl.transition_incident(pb::TransitionIncidentRequest {
        legacy_command: String::new(),
        id: red_id.clone(),
        command: pb::LifecycleCommand::AssignIrLead.into(),
        argument: "ines".into(),
    })
    .await?;
    assert_eq!(clients::all_incidents(&mut ines).await?.len(), 2);
    let denied = olga
        .get_incident(pb::GetIncidentRequest { id: red_id.clone() })
        .await
        .expect_err("refused");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    assert!(
        denied.message().contains("\"ines\""),
        "{}",
        denied.message()
    );
    // Its directives too: a listing filtered to it is refused, not an empty page whose total
    // would still tell how many directives it has.
    let listed = clients::response(hub.addr, &org.pki.operator("olga")?, &org.pki.domain)?
        .list_directives(pb::ListDirectivesRequest {
            incident_id: red_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(listed.code(), tonic::Code::PermissionDenied);
    // Unfiltered and site listings leave out the RED incident's directives, and so do their
    // totals: a count is data about the incident too.
    let green_id = all
        .iter()
        .find(|i| i.title == "Phishing wave")
        .map(|i| i.id.clone())
        .unwrap_or_default();
    let directive = |incident: &str, site: &str| pb::IssueDirectiveRequest {
        incident_id: incident.into(),
        sites: vec![site.into()],
        kind: "collect_evidence".into(),
        params: [("item".to_string(), "memory".to_string())].into(),
        expires_in_s: 0,
    };
    let response =
        |name: &str| clients::response(hub.addr, &org.pki.operator(name)?, &org.pki.domain);
    response("ines")?
        .issue_directive(directive(&red_id, "paris"))
        .await?;
    response("olga")?
        .issue_directive(directive(&green_id, "lyon"))
        .await?;
    let list = |site: &str| pb::ListDirectivesRequest {
        site_id: site.into(),
        ..Default::default()
    };
    // What `name` is shown of a directive listing: (directives on the page, total).
    let shown =
        async |name: &str, request: pb::ListDirectivesRequest| -> anyhow::Result<(usize, u64)> {
            let page = response(name)?.list_directives(request).await?.into_inner();
            Ok((page.directives.len(), page.total))
        };
    assert_eq!(shown("olga", list("")).await?, (1, 1), "olga, all sites");
    assert_eq!(shown("olga", list("paris")).await?, (0, 0), "olga, paris");
    assert_eq!(shown("carl", list("")).await?, (2, 2), "the CISO");
    // A hunt started from the RED incident carries its indicators: the same for hunts.
    response("ines")?
        .start_hunt(pb::StartHuntRequest {
            incident_id: red_id.clone(),
            sites: vec!["paris".into()],
            lookback_s: 3600,
            ..Default::default()
        })
        .await?;
    let hunts = async |name: &str| -> anyhow::Result<(usize, u64)> {
        let page = response(name)?
            .list_hunts(pb::ListHuntsRequest::default())
            .await?
            .into_inner();
        Ok((page.hunts.len(), page.total))
    };
    assert_eq!(hunts("olga").await?, (0, 0), "olga's hunts");
    assert_eq!(hunts("carl").await?, (1, 1), "the CISO's hunts");
    // A hunt started on its own carries no incident's data until it is attached to the RED
    // incident: from then on its sweeps (their hits, their indicators) are that incident's.
    let loose = response("ines")?
        .start_hunt(pb::StartHuntRequest {
            indicators: vec!["domain:leak-site.example".into()],
            sites: vec!["lyon".into()],
            lookback_s: 3600,
            ..Default::default()
        })
        .await?
        .into_inner();
    let of_hunt = || pb::ListDirectivesRequest {
        hunt_id: loose.hunt_id.clone(),
        ..Default::default()
    };
    assert_eq!(
        shown("olga", of_hunt()).await?,
        (1, 1),
        "before the attach: one sweep, readable"
    );
    response("ines")?
        .attach_hunt(pb::AttachHuntRequest {
            hunt_id: loose.hunt_id.clone(),
            incident_id: red_id.clone(),
        })
        .await?;
    assert_eq!(
        shown("olga", of_hunt()).await?,
        (0, 0),
        "olga, attached hunt"
    );
    assert_eq!(
        shown("olga", list("")).await?,
        (1, 1),
        "olga, all sites, after the attach"
    );
    let lifecycle = olga
        .transition_incident(pb::TransitionIncidentRequest {
            legacy_command: String::new(),
            id: red_id.clone(),
            command: pb::LifecycleCommand::StartTriage.into(),
            argument: String::new(),
        })
        .await
        .expect_err("a change answers with the incident: refused too");
    assert_eq!(lifecycle.code(), tonic::Code::PermissionDenied);
    let shown = ines
        .get_incident(pb::GetIncidentRequest { id: red_id.clone() })
        .await?
        .into_inner();
    assert_eq!(shown.indicators.len(), 1);

    // Members: the IR lead (or the CISO) adds people to the incident; nobody else can.
    let add = |name: &str, remove: bool| pb::SetIncidentMemberRequest {
        id: red_id.clone(),
        name: name.into(),
        remove,
    };
    let refused = olga
        .set_incident_member(add("olga", false))
        .await
        .expect_err("not her incident");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let stranger = ines
        .set_incident_member(add("eve", false))
        .await
        .expect_err("eve has no role");
    assert_eq!(stranger.code(), tonic::Code::InvalidArgument);
    let members = ines
        .set_incident_member(add("tom", false))
        .await?
        .into_inner();
    assert_eq!(members.names, ["tom"]);
    assert_eq!(
        clients::all_incidents(&mut tom).await?.len(),
        2,
        "tom is a member"
    );
    tom.get_incident(pb::GetIncidentRequest { id: red_id.clone() })
        .await?;
    let members = carl
        .set_incident_member(add("tom", true))
        .await?
        .into_inner();
    assert!(members.names.is_empty());
    let denied = tom
        .get_incident(pb::GetIncidentRequest { id: red_id.clone() })
        .await
        .expect_err("no longer a member");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    // The dashboard: same rule, same place.
    let base = format!(
        "https://{}",
        hub.dashboard_addr
            .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
    );
    let client = https(&org.pki)?;
    let tom_session = sign_in(&client, &base, &login_url(hub.addr, &org.pki, "tom").await?).await?;
    let board = client
        .get(format!("{base}/"))
        .header("cookie", &tom_session)
        .send()
        .await?
        .text()
        .await?;
    assert!(
        board.contains("Phishing wave") && !board.contains(&red_id),
        "{board}"
    );
    let page = client
        .get(format!("{base}/incidents/{red_id}"))
        .header("cookie", &tom_session)
        .send()
        .await?;
    assert_eq!(page.status(), 403);
    let text = page.text().await?;
    assert!(
        text.contains("TLP:RED") && !text.contains("leak-site.example"),
        "{text}"
    );
    let ines_session = sign_in(
        &client,
        &base,
        &login_url(hub.addr, &org.pki, "ines").await?,
    )
    .await?;
    let page = client
        .get(format!("{base}/incidents/{red_id}"))
        .header("cookie", &ines_session)
        .send()
        .await?;
    assert_eq!(page.status(), 200);
    assert!(page.text().await?.contains("leak-site.example"));
    hub.stop().await?;
    Ok(())
}
