//! Observables end to end, over mTLS to an in-process hub with two real agents: two sites
//! report incidents sharing an indicator; each incident's observable shows per-site first and
//! last seen and count and names the other incident; an analyst flags IOC, tag and TLP; a
//! removal; a merge keeps them; a TLP:RED incident is never named by a lookup or "also in"
//! to whoever may not read it; the CLI prints them as a user types the commands.

use socfed_proto::pb::{self, observables_client::ObservablesClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{clients, fixture::Org, pki::TestPki};
use tonic::transport::Channel;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[[operators]]\nname = \"tara\"\nrole = \"tier3\"\n";
const SHARED: &str = "domain:shared-c2.example";
const HOSTILE: &str = "https://evil.example/<script>alert(1)</script>";

fn observables_as(
    hub: std::net::SocketAddr,
    pki: &TestPki,
    who: &str,
) -> anyhow::Result<ObservablesClient<Channel>> {
    Ok(ObservablesClient::new(clients::channel(
        hub,
        &pki.operator(who)?,
        &pki.domain,
        ExpectedServer::Hub,
    )?))
}

fn raise(rule: &str, indicators: &[(pb::IndicatorKind, &str)]) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: format!("beaconing seen by {rule}"),
        severity: pb::Severity::High as i32,
        rule_id: rule.into(),
        indicators: clients::indicators(indicators),
        ..Default::default()
    }
}

async fn list(
    client: &mut ObservablesClient<Channel>,
    incident: &str,
) -> anyhow::Result<Vec<pb::Observable>> {
    Ok(client
        .list(pb::ListObservablesRequest {
            incident_id: incident.into(),
        })
        .await?
        .into_inner()
        .observables)
}

fn find<'a>(list: &'a [pb::Observable], value: &str) -> anyhow::Result<&'a pb::Observable> {
    list.iter()
        .find(|o| o.indicator.as_ref().is_some_and(|i| i.value == value))
        .ok_or_else(|| anyhow::anyhow!("no observable {value} in {list:?}"))
}

fn change(
    incident: &str,
    indicator: &str,
    action: pb::ObservableAction,
) -> pb::ChangeObservableRequest {
    pb::ChangeObservableRequest {
        incident_id: incident.into(),
        indicator: indicator.into(),
        action: action as i32,
        ..Default::default()
    }
}

async fn lookup(
    client: &mut ObservablesClient<Channel>,
    indicator: &str,
) -> anyhow::Result<Vec<String>> {
    Ok(client
        .lookup(pb::LookupObservableRequest {
            indicator: indicator.into(),
            limit: 0,
        })
        .await?
        .into_inner()
        .incidents
        .into_iter()
        .map(|h| h.incident_id)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observables_are_seen_per_site_flagged_shared_across_incidents_and_kept_by_a_merge()
-> anyhow::Result<()> {
    use pb::IndicatorKind::{Domain, Ipv4, Url};
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    let shared = "shared-c2.example";
    // Different rules and no technique: the shared domain alone does not correlate them.
    let a = clients::raise_and_find(
        paris.local_addr,
        hub.addr,
        &org.pki,
        raise("paris-dns", &[(Domain, shared), (Url, HOSTILE)]),
        "ines",
    )
    .await?;
    let b = clients::raise_and_find(
        lyon.local_addr,
        hub.addr,
        &org.pki,
        raise("lyon-proxy", &[(Domain, shared), (Ipv4, "203.0.113.9")]),
        "ines",
    )
    .await?;
    anyhow::ensure!(a != b, "two incidents");
    // A second local incident at paris on the same rule joins incident A: paris's count is 2.
    let again = clients::raise_and_find(
        paris.local_addr,
        hub.addr,
        &org.pki,
        raise("paris-dns", &[(Domain, shared)]),
        "ines",
    )
    .await?;
    assert_eq!(again, a);

    let mut tom = observables_as(hub.addr, &org.pki, "tom")?;
    let of_a = list(&mut tom, &a).await?;
    let domain = find(&of_a, shared)?;
    assert_eq!(domain.added_by_site, "paris");
    assert!(domain.sighted && !domain.ioc);
    let [seen] = domain.sites.as_slice() else {
        panic!("one site: {:?}", domain.sites)
    };
    assert_eq!((seen.site.as_str(), seen.count), ("paris", 2));
    assert!(seen.first_seen_ms > 0 && seen.first_seen_ms < seen.last_seen_ms);
    let [other] = domain.also_in.as_slice() else {
        panic!("also in B: {:?}", domain.also_in)
    };
    assert_eq!(
        (other.incident_id.as_str(), other.sites.as_slice()),
        (b.as_str(), &["lyon".to_string()][..])
    );
    assert_eq!(find(&of_a, HOSTILE)?.sites[0].count, 1);

    // Tier 1 reads but does not judge; tier 3 flags.
    let refused = tom
        .change(pb::ChangeObservableRequest {
            ioc: true,
            ..change(&a, SHARED, pb::ObservableAction::Flag)
        })
        .await
        .expect_err("tier 1 may not flag");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(
        refused.message().contains("tier 3"),
        "{}",
        refused.message()
    );
    let mut tara = observables_as(hub.addr, &org.pki, "tara")?;
    let flagged = tara
        .change(pb::ChangeObservableRequest {
            ioc: true,
            tags: vec!["C2".into(), "apt-x".into()],
            tlp: pb::Tlp::Amber as i32,
            ..change(&a, SHARED, pb::ObservableAction::Flag)
        })
        .await?
        .into_inner()
        .observable
        .expect("kept");
    assert!(flagged.ioc);
    assert_eq!(flagged.tags, vec!["apt-x".to_string(), "c2".to_string()]);
    assert_eq!(flagged.tlp, pb::Tlp::Amber as i32);
    // An analyst's own observable, and a removal.
    let added = tara
        .change(pb::ChangeObservableRequest {
            sighted: true,
            ..change(
                &a,
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                pb::ObservableAction::Add,
            )
        })
        .await?
        .into_inner()
        .observable
        .expect("added");
    assert_eq!(added.added_by_analyst, "tara");
    assert!(added.sites.is_empty() && added.sighted);
    // One marked above the incident is hidden from its readers, and the timeline every
    // reader of the incident sees does not name it either.
    let secret = "domain:informant.example";
    tara.change(pb::ChangeObservableRequest {
        tlp: pb::Tlp::Red as i32,
        ..change(&a, secret, pb::ObservableAction::Add)
    })
    .await?;
    let shown = org
        .operator(hub.addr, "tom")?
        .get_incident(pb::GetIncidentRequest { id: a.clone() })
        .await?
        .into_inner();
    let timeline: Vec<&str> = shown.timeline.iter().map(|t| t.text.as_str()).collect();
    assert!(
        timeline.iter().any(|t| t.contains("withheld"))
            && !timeline.iter().any(|t| t.contains("informant")),
        "{timeline:?}"
    );
    let removed = tara
        .change(change(
            &a,
            &format!("url:{HOSTILE}"),
            pb::ObservableAction::Remove,
        ))
        .await?
        .into_inner();
    assert!(removed.observable.is_none());
    let of_a = list(&mut tom, &a).await?;
    assert!(find(&of_a, HOSTILE).is_err(), "removed");
    let gone = tara
        .change(pb::ChangeObservableRequest {
            ioc: true,
            ..change(&a, &format!("url:{HOSTILE}"), pb::ObservableAction::Flag)
        })
        .await
        .expect_err("nothing to flag");
    assert_eq!(gone.code(), tonic::Code::NotFound, "{}", gone.message());
    assert_eq!(lookup(&mut tom, SHARED).await?.len(), 2);

    // Incident B goes TLP:RED: tom and tara no longer learn of it, by lookup or by "also in".
    let mut ines = org.operator(hub.addr, "ines")?;
    clients::transition(&mut ines, &b, pb::LifecycleCommand::SetTlp, "red").await?;
    for who in [&mut tom, &mut tara] {
        assert_eq!(lookup(who, SHARED).await?, vec![a.clone()]);
        assert!(find(&list(who, &a).await?, shared)?.also_in.is_empty());
        let hidden = who
            .list(pb::ListObservablesRequest {
                incident_id: b.clone(),
            })
            .await
            .expect_err("B is RED");
        assert_eq!(hidden.code(), tonic::Code::PermissionDenied);
    }
    let mut carla = observables_as(hub.addr, &org.pki, "carla")?;
    assert_eq!(
        lookup(&mut carla, SHARED).await?.len(),
        2,
        "the CISO reads RED"
    );

    // The CISO merges B into A: A holds the domain with both sites, the flags kept.
    let mut ciso = org.operator(hub.addr, "carla")?;
    ciso.merge_incidents(pb::MergeIncidentsRequest {
        survivor_id: a.clone(),
        other_id: b.clone(),
        reason: "same C2".into(),
    })
    .await?;
    let of_a = list(&mut carla, &a).await?;
    let domain = find(&of_a, shared)?;
    let sites: Vec<(&str, u64)> = domain
        .sites
        .iter()
        .map(|s| (s.site.as_str(), s.count))
        .collect();
    assert_eq!(sites, vec![("paris", 2), ("lyon", 1)]);
    assert!(domain.ioc && domain.also_in.is_empty());
    find(&of_a, "203.0.113.9")?;
    assert_eq!(lookup(&mut carla, SHARED).await?, vec![a.clone()]);
    assert!(
        list(&mut carla, &b).await?.is_empty(),
        "moved to the survivor"
    );
    // The survivor took B's marking (the stricter): tom no longer learns of either.
    assert!(lookup(&mut tom, SHARED).await?.is_empty());

    // The command line, as a user types it: JSON and the table.
    let cli = org.hub_cli(hub.addr, "carla")?;
    let json = cli.json(&["incidents", "observables", &a])?;
    let first = &json["observables"][0];
    assert_eq!(first["indicator"], format!("domain:{shared}"));
    assert_eq!(first["tags"], serde_json::json!(["apt-x", "c2"]));
    cli.ok(&[
        "incidents",
        "observable",
        &a,
        "add",
        "ip:198.51.100.7",
        "--ioc",
        "--tag",
        "scan",
    ])?;
    let table = cli.ok(&["incidents", "observables", &a])?;
    assert!(
        table.contains("ipv4:198.51.100.7") && table.contains("tags scan"),
        "{table}"
    );
    let denied = org.hub_cli(hub.addr, "tom")?.fails(&[
        "incidents",
        "observable",
        &a,
        "remove",
        "ip:198.51.100.7",
    ])?;
    assert!(denied.contains("tier 3"), "{denied}");
    // A site's markup is only text to a terminal: printed as it is, with nothing a terminal acts on.
    let url = format!("url:{HOSTILE}");
    cli.ok(&["incidents", "observable", &a, "add", &url])?;
    let table = cli.ok(&["incidents", "observables", &a])?;
    assert!(table.contains(HOSTILE), "{table}");
    assert!(!table.contains('\u{1b}'), "{table:?}");
    let found = cli.json(&["observables", "lookup", SHARED])?;
    assert_eq!(found["incidents"][0]["incident_id"], a);
    Ok(())
}
