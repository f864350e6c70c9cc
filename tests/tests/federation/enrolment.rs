//! Enrolment without a restart: the enrolled sites live in the hub store, which the config's
//! `[[sites]]` only seeds. An admin enrols a site with `sirt-hub sites enrol` and its next
//! stream is accepted; `sirt-hub sites remove` ends its stream and refuses the next; a tier 3
//! analyst may do neither; each change is in the audit chain; a restart keeps them.

use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::fixture::Org;
use std::net::SocketAddr;
use tonic::Code;

const OPERATORS: &str = "[[operators]]\nname = \"ada\"\nrole = \"admin\"\n[[operators]]\nname = \"tom\"\nrole = \"tier3\"\n";

/// Opens a fresh stream as `site` and escalates one report, acknowledged; the refusal's
/// status when the hub refuses the stream.
async fn escalate(
    org: &Org,
    hub: SocketAddr,
    site: &str,
    local_id: &str,
) -> Result<(), tonic::Status> {
    let channel = org
        .site_channel(hub, site)
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    let (mut stream, _) =
        RawStream::open_welcomed(channel, hello(site, ulid::Ulid::new(), 1)).await?;
    stream
        .send(1, report(local_id, "enrolment check"))
        .await
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    stream.ack_through(1).await.map(drop)
}

fn assert_not_enrolled(status: &tonic::Status, site: &str) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status
            .message()
            .contains(&format!("sirt-hub sites enrol {site}")),
        "the refusal says how to enrol it: {}",
        status.message()
    );
}

/// The sites the hub holds an escalation of (its federation status).
async fn escalated_from(org: &Org, hub: SocketAddr) -> anyhow::Result<Vec<String>> {
    let mut op = org.operator(hub, "ada")?;
    Ok(clients::sites(&mut op)
        .await?
        .into_iter()
        .filter(|s| s.escalations_stored > 0)
        .map(|s| s.site_id)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_enrols_and_removes_a_site_without_a_restart() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let ada = org.hub_cli(hub.addr, "ada")?;

    // Seeded from the config, by the hub.
    let listed = ada.json(&["sites", "list"])?;
    assert_eq!(listed[0]["site"], "paris", "{listed}");
    assert_eq!(listed[0]["enrolled_by"], "hub");
    assert_eq!(listed[0]["reason"], "seeded from config");

    // Not in the config: refused, and told how to enrol it.
    let refused = escalate(&org, hub.addr, "berlin", "b-1")
        .await
        .expect_err("berlin is not enrolled");
    assert_not_enrolled(&refused, "berlin");

    // A tier 3 analyst may not enrol; the refusal names who may.
    let denied = org
        .hub_cli(hub.addr, "tom")?
        .fails(&["sites", "enrol", "berlin"])?;
    assert!(
        denied.contains("needs an admin or the CISO"),
        "the refusal names the roles needed: {denied}"
    );
    // A site id that is no site id: told what a site id is.
    let invalid = ada.fails(&["sites", "enrol", "Berlin Office"])?;
    assert!(invalid.contains("site id"), "{invalid}");

    // The admin enrols berlin: its next stream is accepted and its escalation stored.
    let enrolled = ada.json(&["sites", "enrol", "berlin", "--name", "Berlin office"])?;
    assert_eq!(enrolled[0]["site"], "berlin", "{enrolled}");
    assert_eq!(enrolled[0]["name"], "Berlin office");
    assert_eq!(enrolled[0]["enrolled_by"], "ada");
    escalate(&org, hub.addr, "berlin", "b-1").await?;
    assert!(
        escalated_from(&org, hub.addr)
            .await?
            .contains(&"berlin".to_string())
    );
    let listed = ada.json(&["sites", "list"])?;
    let sites: Vec<&str> = listed
        .as_array()
        .map(|l| l.iter().filter_map(|s| s["site"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(sites, ["berlin", "paris"]);

    // Removal ends berlin's open stream and refuses its next one.
    let (mut open, _) = RawStream::open_welcomed(
        org.site_channel(hub.addr, "berlin")?,
        hello("berlin", ulid::Ulid::new(), 1),
    )
    .await?;
    let tom_remove = org
        .hub_cli(hub.addr, "tom")?
        .fails(&["sites", "remove", "berlin"])?;
    assert!(
        tom_remove.contains("needs an admin or the CISO"),
        "{tom_remove}"
    );
    ada.ok(&["sites", "remove", "berlin"])?;
    let ended = open
        .next_ack()
        .await
        .expect_err("the removed site's stream ends");
    assert_ne!(
        ended.code(),
        Code::DeadlineExceeded,
        "still open: {ended:?}"
    );
    let refused = escalate(&org, hub.addr, "berlin", "b-2")
        .await
        .expect_err("berlin was removed");
    assert_not_enrolled(&refused, "berlin");
    let removed = ada.json(&["sites", "list", "--removed"])?;
    assert_eq!(removed[0]["site"], "berlin", "{removed}");
    assert_eq!(removed[0]["removed"]["by"], "ada");
    let again = ada.fails(&["sites", "remove", "berlin"])?;
    assert!(again.contains("not enrolled"), "{again}");

    // Enrolled again, then the hub restarts on the same config: the enrolment holds.
    ada.ok(&["sites", "enrol", "berlin"])?;
    hub.stop().await?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    escalate(&org, hub.addr, "berlin", "b-3").await?;
    hub.stop().await?;

    // The audit chain holds every change, by whom, intact.
    let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
    let (_, problem) = store.verify_audit()?;
    assert!(problem.is_none(), "{problem:?}");
    let changes: Vec<(String, String, String)> = store
        .audit_entries()?
        .into_iter()
        .map(|e| e.draft)
        .filter(|d| d.action.starts_with("site."))
        .map(|d| (d.action, d.actor, d.target))
        .collect();
    let row =
        |a: &str, who: &str, site: &str| (a.to_string(), who.to_string(), format!("site {site}"));
    assert_eq!(
        changes,
        [
            row("site.enrol", "hub", "paris"),
            row("site.enrol", "ada", "berlin"),
            row("site.remove", "ada", "berlin"),
            row("site.enrol", "ada", "berlin"),
        ]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_only_seeds_so_a_removal_and_an_enrolment_survive_a_restart()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    org.hub_cli(hub.addr, "ada")?
        .ok(&["sites", "remove", "paris"])?;
    hub.stop().await?;
    // The config still lists paris, and no longer lists lyon.
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let refused = escalate(&org, hub.addr, "paris", "p-1")
        .await
        .expect_err("a removed site stays removed");
    assert_not_enrolled(&refused, "paris");
    escalate(&org, hub.addr, "lyon", "l-1").await?;
    let listed = org.hub_cli(hub.addr, "ada")?.json(&["sites", "list"])?;
    let sites: Vec<&str> = listed
        .as_array()
        .map(|l| l.iter().filter_map(|s| s["site"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(sites, ["lyon"]);
    hub.stop().await?;
    Ok(())
}
