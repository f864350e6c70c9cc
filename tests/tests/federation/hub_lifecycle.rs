//! The hub incident lifecycle over the real API: roles from the hub's operator roster decide
//! who may move an incident, every change lands in the timeline and the hub's audit chain.

use sirt_hub::view::words;
use socfed_proto::pb;
use socfed_proto::pb::IncidentStatus as St;
use socfed_proto::pb::Severity as Sev;
use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::fixture::Org;
use socfed_tests::listing::{assert_filters_agree, ids};
use tonic::Code;
use ulid::Ulid;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[[operators]]\nname = \"ada\"\nrole = \"admin\"\n";

fn transition(id: &str, command: &str, argument: &str) -> pb::TransitionIncidentRequest {
    pb::TransitionIncidentRequest {
        legacy_command: String::new(),
        id: id.into(),
        command: sirt_hub::view::wire::COMMANDS
            .to_wire(command.parse().expect("a lifecycle command word"))
            .into(),
        argument: argument.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_drive_the_lifecycle_and_every_change_is_in_the_timeline_and_the_audit_log()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let channel = org.site_channel(hub.addr, "paris")?;
    let (mut stream, _) = RawStream::open_welcomed(channel, hello("paris", Ulid::new(), 1)).await?;
    stream
        .send(1, report("p-1", "ransomware on file server"))
        .await?;
    stream.ack_through(1).await?;

    let op = |name: &str| {
        clients::operator(
            hub.addr,
            &org.pki.operator(name).expect("issued"),
            &org.pki.domain,
        )
    };
    let (mut ines, mut tom, mut ada, mut nobody) =
        (op("ines")?, op("tom")?, op("ada")?, op("nobody")?);
    let id = clients::all_incidents(&mut ines).await?.remove(0).id;

    let triaged = tom
        .transition_incident(transition(&id, "start-triage", ""))
        .await?
        .into_inner();
    assert_eq!(triaged.status, pb::IncidentStatus::Triage as i32);
    // The listings follow the status change.
    assert_eq!(
        ids(&mut ines, "", St::Triage, Sev::Unspecified, 10).await?,
        vec![id.clone()]
    );
    assert!(
        ids(&mut ines, "paris", St::New, Sev::Unspecified, 10)
            .await?
            .is_empty()
    );
    assert_filters_agree(&mut ines).await?;
    let denied = tom
        .transition_incident(transition(&id, "contain", ""))
        .await
        .expect_err("tier 1 contains");
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("IR lead"), "{}", denied.message());
    let denied = ada
        .transition_incident(transition(&id, "contain", ""))
        .await
        .expect_err("admin moves phases");
    assert_eq!(
        denied.code(),
        Code::PermissionDenied,
        "separation of duties"
    );
    let denied = nobody
        .transition_incident(transition(&id, "start-triage", ""))
        .await
        .expect_err("no role");
    assert!(
        denied.message().contains("sirt-hub operators add"),
        "{}",
        denied.message()
    );
    let wrong = ines
        .transition_incident(transition(&id, "recover", ""))
        .await
        .expect_err("containment first");
    assert_eq!(
        wrong.code(),
        Code::FailedPrecondition,
        "{}",
        wrong.message()
    );

    ada.transition_incident(transition(&id, "assign-ir-lead", "ines"))
        .await?;
    ines.transition_incident(transition(&id, "contain", ""))
        .await?;
    ines.transition_incident(transition(&id, "set-priority", "P1"))
        .await?;
    let contained = ines
        .get_incident(pb::GetIncidentRequest { id: id.clone() })
        .await?
        .into_inner();
    assert_eq!(contained.status, pb::IncidentStatus::Containment as i32);
    assert_eq!(
        ids(&mut ines, "paris", St::Containment, Sev::High, 10).await?,
        vec![id.clone()]
    );
    assert!(
        ids(&mut ines, "", St::Triage, Sev::Unspecified, 10)
            .await?
            .is_empty()
    );
    assert_filters_agree(&mut ines).await?;
    assert_eq!(
        (contained.ir_lead.as_str(), contained.priority.as_str()),
        ("ines", "P1")
    );
    let actors: Vec<&str> = contained
        .timeline
        .iter()
        .map(|t| t.actor.as_str())
        .collect();
    assert_eq!(
        actors,
        ["site paris", "tom", "ada", "ines", "ines"],
        "{:?}",
        contained.timeline
    );

    // Regulatory clocks: only the IR lead or CISO flags; deadlines are stated as of now.
    let hour = 3_600_000;
    let now = socfed_proto::now_millis();
    let flag = |regime: &str, at_ms: i64| pb::UpdateRegulatoryRequest {
        id: id.clone(),
        change: Some(pb::update_regulatory_request::Change::Flag(regime.into())),
        at_ms,
    };
    let denied = tom
        .update_regulatory(flag("gdpr", now))
        .await
        .expect_err("tier 1 flags");
    assert_eq!(denied.code(), Code::PermissionDenied);
    ines.update_regulatory(flag("gdpr", now - 61 * hour))
        .await?;
    let flagged = ines
        .update_regulatory(flag("nis2", now - 25 * hour))
        .await?
        .into_inner();
    let status = |kind: &str| {
        flagged
            .deadlines
            .iter()
            .find(|d| d.kind == kind)
            .map(|d| words::deadline_status(d.status))
            .unwrap_or_default()
    };
    assert_eq!(
        status("gdpr_notification"),
        "due_soon",
        "{:?}",
        flagged.deadlines
    );
    assert_eq!(status("nis2_early_warning"), "overdue");
    assert_eq!(status("nis2_incident_notification"), "pending");
    let filed_req = |kind: &str| pb::UpdateRegulatoryRequest {
        id: id.clone(),
        change: Some(pb::update_regulatory_request::Change::Filed(kind.into())),
        at_ms: now,
    };
    let filed = ines
        .update_regulatory(filed_req("nis2_early_warning"))
        .await?
        .into_inner();
    assert_eq!(
        filed
            .deadlines
            .iter()
            .find(|d| d.kind == "nis2_early_warning")
            .map(|d| words::deadline_status(d.status)),
        Some("met_late".to_string())
    );
    let unflagged = ines
        .update_regulatory(filed_req("sec_form_8k"))
        .await
        .expect_err("filing for a regime never flagged");
    assert_eq!(unflagged.code(), Code::FailedPrecondition);

    let audit = ines
        .verify_audit(pb::VerifyHubAuditRequest {})
        .await?
        .into_inner();
    assert!(audit.intact, "{}", audit.problem);
    assert_eq!(
        audit.entries,
        3 + 1 + 7 + 4,
        "the three [[operators]] seeded into the roster, the [[sites]] entry seeded into the \
         enrolled sites, one entry per accepted change, and one per refused call (the four role \
         refusals; a refused precondition is an answer, not a refusal)"
    );

    // The report and the KPIs, through the real CLI.
    let cli = org.hub_cli(hub.addr, "ines")?;
    let report = cli.run(&["report", &id, "--format", "markdown"])?;
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(
        text.contains("## Timeline")
            && text.contains("| IR lead | ines |")
            && text.contains("| contained |"),
        "{text}"
    );
    // Markdown escapes parentheses in cells; rendered, this reads "GDPR Art. 33(1)".
    assert!(text.contains(r"GDPR Art. 33\(1\)"), "{text}");
    let kpis = cli.run(&["kpis", "--output", "json"])?;
    let kpis: serde_json::Value = serde_json::from_slice(&kpis.stdout)?;
    assert_eq!(kpis["overall"]["incidents"], 1);
    assert!(
        kpis["overall"]["to_contain_ms"].is_i64()
            && kpis["sites"]["paris"]["to_resolve_ms"].is_null(),
        "{kpis}"
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_ir_lead_merges_two_incidents_and_the_duplicate_points_at_the_survivor()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], OPERATORS).await?;
    for site in ["paris", "lyon"] {
        let report = report(&format!("{site}-1"), &format!("odd logins at {site}"));
        org.escalate_once(hub.addr, site, report).await?;
    }
    let mut ines = org.operator(hub.addr, "ines")?;
    let mut tom = org.operator(hub.addr, "tom")?;
    let incidents = clients::all_incidents(&mut ines).await?;
    assert_eq!(
        incidents.len(),
        2,
        "unrelated reports do not correlate on their own"
    );
    let (older, newer) = (incidents[1].id.clone(), incidents[0].id.clone());
    let request = pb::MergeIncidentsRequest {
        survivor_id: older.clone(),
        other_id: newer.clone(),
        reason: "same password spray".into(),
    };
    let denied = tom
        .merge_incidents(request.clone())
        .await
        .expect_err("tier 1 merges");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let merged = ines.merge_incidents(request.clone()).await?.into_inner();
    let mut sites: Vec<&str> = merged
        .sightings
        .iter()
        .map(|s| s.site_id.as_str())
        .collect();
    sites.sort();
    assert_eq!(sites, ["lyon", "paris"]);
    let duplicate = ines
        .get_incident(pb::GetIncidentRequest { id: newer.clone() })
        .await?
        .into_inner();
    assert_eq!(duplicate.resolution, format!("duplicate of {older}"));
    // Lyon now lists the survivor (open) and the duplicate (closed, keeping its sighting).
    assert_eq!(
        ids(&mut ines, "lyon", St::Unspecified, Sev::Unspecified, 10).await?,
        [newer.clone(), older.clone()]
    );
    assert_eq!(
        ids(&mut ines, "lyon", St::New, Sev::Unspecified, 10).await?,
        vec![older.clone()]
    );
    assert_eq!(
        ids(&mut ines, "", St::Closed, Sev::Unspecified, 10).await?,
        vec![newer.clone()]
    );
    assert_filters_agree(&mut ines).await?;
    let again = ines
        .merge_incidents(request)
        .await
        .expect_err("the duplicate is closed now");
    assert_eq!(again.code(), Code::FailedPrecondition);
    // A later revision from Lyon lands on the survivor and raises its severity.
    assert!(
        ids(&mut ines, "", St::Unspecified, Sev::Critical, 10)
            .await?
            .is_empty()
    );
    let mut revision = report("lyon-1", "odd logins at lyon");
    revision.revision = 2;
    revision.severity = pb::Severity::Critical as i32;
    org.escalate_once(hub.addr, "lyon", revision).await?;
    let survivor = ines
        .get_incident(pb::GetIncidentRequest { id: older.clone() })
        .await?
        .into_inner();
    let lyon = survivor
        .sightings
        .iter()
        .find(|s| s.site_id == "lyon")
        .expect("lyon sighting");
    assert_eq!(lyon.revision, 2);
    assert_eq!(
        ids(&mut ines, "paris", St::New, Sev::Critical, 10).await?,
        vec![older.clone()]
    );
    assert_filters_agree(&mut ines).await?;
    // The IR lead splits Lyon off again: a new incident with Lyon's sighting, and Lyon's
    // revisions follow it.
    let split = ines
        .split_sighting(pb::SplitSightingRequest {
            id: older.clone(),
            site_id: "lyon".into(),
            reason: "different actor".into(),
        })
        .await?
        .into_inner();
    assert_eq!(
        split
            .sightings
            .iter()
            .map(|s| s.site_id.as_str())
            .collect::<Vec<_>>(),
        ["lyon"]
    );
    let survivor = ines
        .get_incident(pb::GetIncidentRequest { id: older.clone() })
        .await?
        .into_inner();
    assert_eq!(
        survivor
            .sightings
            .iter()
            .map(|s| s.site_id.as_str())
            .collect::<Vec<_>>(),
        ["paris"]
    );
    // Lyon's listing entry moved from the survivor to the new incident.
    assert_eq!(
        ids(&mut ines, "lyon", St::New, Sev::Unspecified, 10).await?,
        vec![split.id.clone()]
    );
    assert_eq!(
        ids(&mut ines, "paris", St::Unspecified, Sev::Unspecified, 10).await?,
        vec![older.clone()]
    );
    assert_filters_agree(&mut ines).await?;
    let lonely = ines
        .split_sighting(pb::SplitSightingRequest {
            id: older.clone(),
            site_id: "paris".into(),
            reason: String::new(),
        })
        .await
        .expect_err("the last sighting cannot be split off");
    assert_eq!(lonely.code(), Code::FailedPrecondition);
    let mut third = report("lyon-1", "odd logins at lyon");
    third.revision = 3;
    org.escalate_once(hub.addr, "lyon", third).await?;
    let followed = ines
        .get_incident(pb::GetIncidentRequest {
            id: split.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(followed.sightings[0].revision, 3);
    assert_filters_agree(&mut ines).await?;
    assert!(
        ines.verify_audit(pb::VerifyHubAuditRequest {})
            .await?
            .into_inner()
            .intact
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_split_stays_split_when_the_site_revises_and_another_site_reports_the_same_threat()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon", "oslo"], OPERATORS).await?;
    let beacon = |local: &str, revision: u32| pb::IncidentReport {
        revision,
        techniques: vec!["T1071".into()],
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: "c2.bad.example".into(),
        }],
        ..report(local, "beacon")
    };
    let send =
        |site: &'static str, report: pb::IncidentReport| org.escalate_once(hub.addr, site, report);
    send("paris", beacon("p-1", 1)).await?;
    send("lyon", beacon("l-1", 1)).await?;
    let mut ines = org.operator(hub.addr, "ines")?;
    let original = clients::all_incidents(&mut ines).await?.remove(0);
    assert_eq!(original.sightings.len(), 2, "correlated");
    let split = ines
        .split_sighting(pb::SplitSightingRequest {
            id: original.id.clone(),
            site_id: "lyon".into(),
            reason: String::new(),
        })
        .await?
        .into_inner();
    send("lyon", beacon("l-1", 2)).await?;
    send("oslo", beacon("o-1", 1)).await?;
    let all = clients::all_incidents(&mut ines).await?;
    let get = |id: &str| all.iter().find(|i| i.id == id).expect("listed");
    let sites = |i: &pb::HubIncident| {
        let mut s: Vec<String> = i.sightings.iter().map(|s| s.site_id.clone()).collect();
        s.sort();
        s
    };
    assert_eq!(sites(get(&split.id)), ["lyon"]);
    assert_ne!(
        get(&split.id).status,
        pb::IncidentStatus::Closed as i32,
        "not merged back"
    );
    assert_eq!(get(&split.id).sightings[0].revision, 2);
    assert_eq!(sites(get(&original.id)), ["oslo", "paris"]);
    assert_eq!(
        ids(&mut ines, "lyon", St::New, Sev::High, 10).await?,
        vec![split.id.clone()]
    );
    assert_eq!(
        ids(&mut ines, "oslo", St::New, Sev::High, 10).await?,
        vec![original.id.clone()]
    );
    assert_filters_agree(&mut ines).await?;
    hub.stop().await?;
    Ok(())
}
