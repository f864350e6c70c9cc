//! The hub's operator roster: roles bound to certificate names, changed at run time through
//! the CLI and the API, enforced on the next call, persisted and audited.

use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{clients, fixture::Org, pki::TestPki};
use tonic::Code;
use tonic::transport::Channel;

const OPERATORS: &str = "[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

fn roster_as(
    hub: std::net::SocketAddr,
    pki: &TestPki,
    who: &str,
) -> anyhow::Result<OperatorRosterClient<Channel>> {
    Ok(OperatorRosterClient::new(clients::channel(
        hub,
        &pki.operator(who)?,
        &pki.domain,
        ExpectedServer::Hub,
    )?))
}

fn directive(incident: &str) -> pb::IssueDirectiveRequest {
    pb::IssueDirectiveRequest {
        incident_id: incident.into(),
        sites: vec!["paris".into()],
        kind: "collect_evidence".into(),
        ..Default::default()
    }
}

fn hunt() -> pb::StartHuntRequest {
    pb::StartHuntRequest {
        indicators: vec!["domain:evil.example".into()],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_change_at_run_time_apply_to_the_next_call_and_survive_a_restart()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "spray")
        .await?;
    let mut tom = org.response(hub.addr, "tom")?;

    // Not in the roster: refused, and told what to do.
    let denied = tom
        .issue_directive(directive(&incident))
        .await
        .expect_err("no role");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied.message().contains("sirt-hub operators add"),
        "{}",
        denied.message()
    );

    // Only the admin or the CISO manages the roster.
    let refused = roster_as(hub.addr, &org.pki, "ines")?
        .set_operator(pb::SetOperatorRequest {
            legacy_role: String::new(),
            name: "tom".into(),
            role: pb::HubRole::IrLead.into(),
        })
        .await
        .expect_err("an IR lead may not");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The CISO adds tom as a tier 3 analyst, with the real CLI.
    let out = org.hub_cli(hub.addr, "carl")?.run(&[
        "operators",
        "add",
        "tom",
        "--role",
        "tier3",
        "-o",
        "json",
    ])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let tom_entry = listed
        .as_array()
        .and_then(|l| l.iter().find(|o| o["name"] == "tom"))
        .cloned();
    assert_eq!(
        tom_entry.map(|o| (o["role"].clone(), o["set_by"].clone())),
        Some(("tier3".into(), "carl".into()))
    );

    // Tier 3 may hunt, not direct the response.
    tom.start_hunt(hunt()).await?;
    let denied = tom
        .issue_directive(directive(&incident))
        .await
        .expect_err("tier 3");
    assert!(
        denied.message().contains("tier 3 analyst"),
        "{}",
        denied.message()
    );
    // Promoted: the very next call succeeds, no restart.
    let mut carl_roster = roster_as(hub.addr, &org.pki, "carl")?;
    carl_roster
        .set_operator(pb::SetOperatorRequest {
            legacy_role: String::new(),
            name: "tom".into(),
            role: pb::HubRole::IrLead.into(),
        })
        .await?;
    tom.issue_directive(directive(&incident)).await?;
    // Removed: back to nothing.
    carl_roster
        .remove_operator(pb::RemoveOperatorRequest { name: "tom".into() })
        .await?;
    assert_eq!(
        tom.issue_directive(directive(&incident))
            .await
            .expect_err("removed")
            .code(),
        Code::PermissionDenied
    );
    // The last operator who can manage the roster cannot remove themselves.
    let last = carl_roster
        .remove_operator(pb::RemoveOperatorRequest {
            name: "carl".into(),
        })
        .await
        .expect_err("last keeper");
    assert_eq!(last.code(), Code::FailedPrecondition);
    let bad = carl_roster
        .set_operator(pb::SetOperatorRequest {
            legacy_role: String::new(),
            name: "sam".into(),
            role: 99,
        })
        .await
        .expect_err("unknown role");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("role: unknown value 99"),
        "{}",
        bad.message()
    );
    let unset = carl_roster
        .set_operator(pb::SetOperatorRequest {
            legacy_role: String::new(),
            name: "sam".into(),
            role: pb::HubRole::Unspecified.into(),
        })
        .await
        .expect_err("no role");
    assert_eq!(unset.code(), Code::InvalidArgument);
    assert!(
        unset.message().contains("role: not set"),
        "{}",
        unset.message()
    );
    let older = carl_roster
        .set_operator(pb::SetOperatorRequest {
            name: "sam".into(),
            legacy_role: "ir-lead".into(),
            role: pb::HubRole::Unspecified.into(),
        })
        .await
        .expect_err("a role sent as a word");
    assert_eq!(older.code(), Code::InvalidArgument);
    assert!(
        older.message().contains("upgrade the client"),
        "{}",
        older.message()
    );

    // Every change is in the audit chain, and the roster survives a restart.
    let mut op = org.operator(hub.addr, "carl")?;
    assert!(
        op.verify_audit(pb::VerifyHubAuditRequest {})
            .await?
            .into_inner()
            .intact
    );
    paris.stop().await?;
    hub.stop().await?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let names: Vec<String> = roster_as(hub.addr, &org.pki, "ines")?
        .list_operators(pb::ListOperatorsRequest {})
        .await?
        .into_inner()
        .operators
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["carl", "ines"]);
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_seeds_an_empty_roster_only_so_a_removal_survives_a_restart()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let mut carl = roster_as(hub.addr, &org.pki, "carl")?;
    carl.remove_operator(pb::RemoveOperatorRequest {
        name: "ines".into(),
    })
    .await?;
    hub.stop().await?;
    // Same config, still listing ines as IR lead: the stored roster is what counts now.
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let names: Vec<String> = roster_as(hub.addr, &org.pki, "carl")?
        .list_operators(pb::ListOperatorsRequest {})
        .await?
        .into_inner()
        .operators
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        names,
        ["carl"],
        "a removed operator came back from the config"
    );
    hub.stop().await?;
    Ok(())
}
