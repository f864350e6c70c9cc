//! The hub's incident listing indexes survive a restart and are built for a store written
//! before they existed (schema version 1): the same filtered listings before and after.

use socfed_proto::pb;
use socfed_proto::pb::IncidentStatus as St;
use socfed_proto::pb::Severity as Sev;
use socfed_tests::clients::{self, report};
use socfed_tests::fixture::Org;
use socfed_tests::listing::{assert_filters_agree, ids};

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";
const SITES: [&str; 3] = ["paris", "lyon", "oslo"];

fn transition(id: &str, command: &str) -> pb::TransitionIncidentRequest {
    pb::TransitionIncidentRequest {
        legacy_command: String::new(),
        id: id.into(),
        command: sirt_hub::view::wire::COMMANDS
            .to_wire(command.parse().expect("a lifecycle command word"))
            .into(),
        argument: String::new(),
    }
}

/// Every filtered listing, as ids: what must not change across a restart or an upgrade.
async fn listings(
    op: &mut pb::operator_client::OperatorClient<tonic::transport::Channel>,
) -> anyhow::Result<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for site in ["", "paris", "lyon", "oslo"] {
        for status in [St::Unspecified, St::New, St::Triage, St::Containment] {
            for severity in [Sev::Unspecified, Sev::Medium, Sev::High, Sev::Critical] {
                out.push(ids(op, site, status, severity, 3).await?);
            }
        }
    }
    Ok(out)
}

/// Rewrites the stopped hub's store as a schema 1 build left it: no `status_incidents`
/// tree, empty `site_incidents` values, schema version 1.
fn make_schema_1(data_dir: &std::path::Path) -> anyhow::Result<()> {
    let db = socfed_runtime::store_files::sled_config(data_dir)?.open()?;
    anyhow::ensure!(db.drop_tree("status_incidents")?, "the index tree existed");
    let site_incidents = db.open_tree("site_incidents")?;
    let keys: Vec<sled::IVec> = site_incidents.iter().keys().collect::<Result<_, _>>()?;
    anyhow::ensure!(!keys.is_empty(), "site index entries exist");
    for key in keys {
        site_incidents.insert(key, &[])?;
    }
    db.open_tree("meta")?
        .insert("schema_version", &1u32.to_be_bytes())?;
    db.flush()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_listings_are_the_same_after_a_restart_and_after_an_upgrade_from_schema_1()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&SITES, OPERATORS).await?;
    let severities = [
        pb::Severity::Medium,
        pb::Severity::High,
        pb::Severity::Critical,
    ];
    for (n, site) in SITES.iter().cycle().take(9).enumerate() {
        let mut r = report(&format!("{site}-{n}"), &format!("incident {n} at {site}"));
        r.severity = severities[n % 3] as i32;
        org.escalate_once(hub.addr, site, r).await?;
    }
    let mut ines = org.operator(hub.addr, "ines")?;
    let all = clients::all_incidents(&mut ines).await?;
    assert_eq!(all.len(), 9);
    // Newest first: the two newest to triage, the newest of them on to containment.
    for incident in &all[..2] {
        ines.transition_incident(transition(&incident.id, "start-triage"))
            .await?;
    }
    ines.transition_incident(transition(&all[0].id, "contain"))
        .await?;
    assert_eq!(
        ids(&mut ines, "", St::Triage, Sev::Unspecified, 10).await?,
        vec![all[1].id.clone()]
    );
    let site_of_second = all[1].sightings[0].site_id.clone();
    let severity_of_second = pb::Severity::try_from(all[1].severity)?;
    assert_eq!(
        ids(
            &mut ines,
            &site_of_second,
            St::Triage,
            severity_of_second,
            10
        )
        .await?,
        vec![all[1].id.clone()]
    );
    let critical_new: Vec<String> = all[2..]
        .iter()
        .filter(|i| i.severity == pb::Severity::Critical as i32)
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(
        critical_new.len(),
        2,
        "incidents 2 and 5 (8, the newest, is in containment)"
    );
    assert_eq!(
        ids(&mut ines, "", St::New, Sev::Critical, 10).await?,
        critical_new
    );
    assert_filters_agree(&mut ines).await?;
    let before = listings(&mut ines).await?;
    hub.stop().await?;

    let hub = org.hub(&SITES, OPERATORS).await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    assert_eq!(listings(&mut ines).await?, before, "after a restart");
    hub.stop().await?;

    make_schema_1(&org.dir().join("hub-data"))?;
    let hub = org.hub(&SITES, OPERATORS).await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    assert_eq!(listings(&mut ines).await?, before, "after the upgrade");
    assert_filters_agree(&mut ines).await?;
    // The upgraded store keeps its indexes in step with new changes.
    ines.transition_incident(transition(&all[2].id, "start-triage"))
        .await?;
    assert_eq!(
        ids(&mut ines, "", St::Triage, Sev::Unspecified, 10).await?,
        [all[1].id.clone(), all[2].id.clone()]
    );
    assert_filters_agree(&mut ines).await?;
    hub.stop().await?;
    Ok(())
}

/// A large site with a few incidents in triage: the site listing skips runs of entries that do
/// not match by jumping on the status index, and must still list exactly the right ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rare_status_in_a_large_site_lists_exactly_its_incidents_across_pages()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let severities = [
        pb::Severity::Low,
        pb::Severity::High,
        pb::Severity::Critical,
    ];
    for (site, count) in [("paris", 60u64), ("lyon", 20)] {
        let channel = clients::channel(
            hub.addr,
            &org.pki.site(site)?,
            &org.pki.domain,
            socfed_runtime::tls::ExpectedServer::Hub,
        )?;
        let (mut stream, _) =
            clients::RawStream::open_welcomed(channel, clients::hello(site, ulid::Ulid::new(), 1))
                .await?;
        for seq in 1..=count {
            let mut r = report(&format!("{site}-{seq}"), &format!("{site} {seq}"));
            r.severity = severities[(seq % 3) as usize] as i32;
            stream.send(seq, r).await?;
            // One at a time, so every incident gets its own millisecond and a stable order.
            stream.ack_through(seq).await?;
        }
    }
    let mut ines = org.operator(hub.addr, "ines")?;
    let all = clients::all_incidents(&mut ines).await?;
    assert_eq!(all.len(), 80);
    // Triage a few incidents scattered through both sites' timelines.
    let triaged: Vec<String> = all.iter().step_by(13).map(|i| i.id.clone()).collect();
    for id in &triaged {
        ines.transition_incident(transition(id, "start-triage"))
            .await?;
    }
    assert_eq!(
        ids(&mut ines, "", St::Triage, Sev::Unspecified, 2).await?,
        triaged
    );
    let paris_triaged: Vec<String> = all
        .iter()
        .filter(|i| triaged.contains(&i.id) && i.sightings[0].site_id == "paris")
        .map(|i| i.id.clone())
        .collect();
    assert!(paris_triaged.len() >= 2, "{paris_triaged:?}");
    assert_eq!(
        ids(&mut ines, "paris", St::Triage, Sev::Unspecified, 1).await?,
        paris_triaged
    );
    assert_filters_agree(&mut ines).await?;
    hub.stop().await?;
    Ok(())
}
