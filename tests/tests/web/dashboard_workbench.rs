//! The SIRT workbench beyond the lifecycle, through what a person touches: signed in to a real
//! in-process hub over HTTPS (with real site agents over mutual TLS where sites must answer),
//! plain form posts from the incident page. The IR lead is chosen among the roster's leads;
//! an IR lead merges two incidents and splits a site's sighting off; directives and tasks go to
//! the sites, whose results (hostile text included) show on the page, escaped, and in its live
//! fragment. Each form is refused, 403 naming the role needed, to a role the access matrix does
//! not allow (the same words as the gRPC refusal), and without the session's token or from
//! another origin, changing nothing.

use socfed_proto::pb;
use socfed_tests::web::Browser;
use socfed_tests::{clients, eventually, fixture::Org};
use std::time::Duration;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carla\"\nrole = \"ciso\"\n[[operators]]\nname = \"sam\"\nrole = \"soc-manager\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// Hub incident ids in the order of `titles`, each escalated once by its site.
async fn incidents(
    org: &Org,
    hub: &sirt_hub::app::RunningHub,
    escalations: &[(&str, &str, &str)],
) -> anyhow::Result<Vec<String>> {
    let mut grpc = org.operator(hub.addr, "ines")?;
    let mut ids = Vec::new();
    for (site, local, title) in escalations {
        org.escalate_once(hub.addr, site, clients::report(local, title))
            .await?;
        let all = clients::all_incidents(&mut grpc).await?;
        let id = all
            .iter()
            .find(|i| i.title == *title)
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("{title} stored"))?;
        ids.push(id);
    }
    Ok(ids)
}

/// A post from another origin and one without the session's token change nothing.
async fn forged_refused(b: &Browser, path: &str, fields: &str, id: &str) -> anyhow::Result<()> {
    let good = b.action_token(id).await?;
    for (body, headers) in [
        (fields.to_string(), vec![]),
        (format!("csrf={}&{fields}", "0".repeat(64)), vec![]),
        (
            format!("csrf={good}&{fields}"),
            vec![("sec-fetch-site", "cross-site")],
        ),
        (
            format!("csrf={good}&{fields}"),
            vec![("origin", "https://evil.example")],
        ),
    ] {
        let (status, _, page) = b.post_to(path, &body, &headers).await?;
        anyhow::ensure!(status == 403, "{path} {headers:?}: {status} {page}");
        anyhow::ensure!(page.contains("nothing was changed"), "{page}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_picked_from_the_roster_and_incidents_merged_and_split_from_the_page()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let ids = incidents(
        &org,
        &hub,
        &[("paris", "p-1", "Beacon"), ("lyon", "l-1", "Beacon too")],
    )
    .await?;
    let (a, b) = (ids[0].clone(), ids[1].clone());

    // The SOC manager picks the IR lead among the roster's leads (the IR lead, the CISO).
    let sam = Browser::open(&org.pki, &hub, "sam").await?;
    let (_, page) = sam.get(&format!("/incidents/{a}")).await?;
    let picker = page
        .split("value=\"assign-ir-lead\"")
        .nth(1)
        .and_then(|rest| rest.split("</form>").next())
        .ok_or_else(|| anyhow::anyhow!("no IR lead picker: {page}"))?;
    assert!(picker.contains("<select name=\"argument\">"), "{picker}");
    for lead in ["carla", "ines"] {
        assert!(
            picker.contains(&format!("<option value=\"{lead}\"")),
            "{picker}"
        );
    }
    for other in ["sam", "tom"] {
        assert!(!picker.contains(&format!("value=\"{other}\"")), "{picker}");
    }
    sam.act(&a, "assign-ir-lead", "ines").await?;
    assert!(sam.state_line(&a).await?.contains("IR lead ines"));

    // Merging is a response lead's: the SOC manager is not offered it and is refused it, in
    // the gRPC API's words.
    assert!(!page.contains("/merge\""), "not offered to a SOC manager");
    let (status, _, refused) = sam
        .submit(&b, "merge", &format!("into={a}&reason=same"))
        .await?;
    assert_eq!(status, 403, "{refused}");
    let grpc = org
        .operator(hub.addr, "sam")?
        .merge_incidents(pb::MergeIncidentsRequest {
            survivor_id: a.clone(),
            other_id: b.clone(),
            reason: "same".into(),
        })
        .await
        .expect_err("refused over gRPC too");
    assert!(
        grpc.message().contains("an IR lead or the CISO"),
        "{grpc:?}"
    );
    assert!(
        refused.contains(&grpc.message().replace('"', "&quot;")),
        "{refused}"
    );

    // Forged merges change nothing.
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    forged_refused(
        &ines,
        &format!("/incidents/{b}/merge"),
        &format!("into={a}&reason=same"),
        &b,
    )
    .await?;
    assert!(ines.state_line(&b).await?.contains(" new "), "still open");

    // Bad input: a survivor that is no id, an overlong reason: 400, nothing changed.
    let (status, _, page) = ines.submit(&b, "merge", "into=nope&reason=x").await?;
    assert_eq!(status, 400, "{page}");
    let long = "r".repeat(1_001);
    let (status, _, page) = ines
        .submit(&b, "merge", &format!("into={a}&reason={long}"))
        .await?;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("longer than 1000 characters"), "{page}");

    // The IR lead merges lyon's incident into paris's: back to the survivor, both sightings.
    let (_, page) = ines.get(&format!("/incidents/{b}")).await?;
    assert!(
        page.contains(&format!("action=\"/incidents/{b}/merge\"")),
        "{page}"
    );
    let (status, location, page) = ines
        .submit(&b, "merge", &format!("into={a}&reason=same+beacon"))
        .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{a}").as_str()),
        "{page}"
    );
    let (_, merged) = ines.get(&format!("/incidents/{a}")).await?;
    assert!(
        merged.contains("<td>lyon</td>") && merged.contains("<td>paris</td>"),
        "{merged}"
    );

    // …and splits lyon's sighting off again (offered once there are two sites).
    assert!(merged.contains("Split off the sighting of"), "{merged}");
    let (status, location, page) = ines
        .submit(&a, "split", "site=lyon&reason=different+actor")
        .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{a}").as_str()),
        "{page}"
    );
    let (_, after) = ines.get(&format!("/incidents/{a}")).await?;
    let sightings = after
        .split("<h2>Sightings per site</h2>")
        .nth(1)
        .and_then(|s| s.split("<h2>").next())
        .unwrap_or_default();
    assert!(!sightings.contains("<td>lyon</td>"), "{sightings}");
    // A split of a site that is not sighted is the lifecycle's refusal, not a 500.
    let (status, _, page) = ines.submit(&a, "split", "site=lyon&reason=again").await?;
    assert!(matches!(status, 400 | 404 | 409), "{status}: {page}");

    hub.stop().await?;
    let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
    let entries = store.audit_entries()?;
    for action in ["incident.merge", "incident.split"] {
        let found = entries
            .iter()
            .find(|e| e.draft.action.starts_with(action))
            .ok_or_else(|| anyhow::anyhow!("{action} not audited: {entries:?}"))?;
        assert_eq!(found.draft.actor, "ines", "{action}");
        assert!(found.draft.actor_cert.starts_with("serial "), "{action}");
    }
    drop(store);
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    let api = "dashboard: incident action";
    assert!(socfed_tests::audit::count(&refusals, api, "sam", "PermissionDenied") >= 1);
    assert!(socfed_tests::audit::count(&refusals, api, "ines", "another origin") >= 1);
    Ok(())
}

/// A playbook whose output carries markup, as a compromised or careless site's might.
const HOSTILE_PLAYBOOK: &str = r#"[response]
[[response.playbooks]]
kind = "collect_evidence"
command = ["/bin/echo", "<script>alert(1)</script>", "collected", "{host}"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directives_and_tasks_go_to_sites_from_the_page_and_results_show_escaped()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let paris = org.agent("paris", hub.addr, HOSTILE_PLAYBOOK).await?;
    let _lyon = org.agent("lyon", hub.addr, HOSTILE_PLAYBOOK).await?;
    let id = org
        .raise_at_site(
            paris.local_addr,
            hub.addr,
            "<img src=x onerror=alert(2)> on host",
        )
        .await?;
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    let (_, page) = ines.get(&format!("/incidents/{id}")).await?;
    assert!(
        !page.contains("<img src=x"),
        "a site's title is escaped: {page}"
    );
    assert!(page.contains("&lt;img src=x"), "{page}");
    for part in [
        "<legend>Directive to sites</legend>",
        "name=\"site\" value=\"paris\"",
        "name=\"site\" value=\"lyon\"",
        "data-fragment=\"directives\"",
        &format!("data-only=\"{id}\""),
    ] {
        assert!(page.contains(part), "{part} missing: {page}");
    }

    // A tier 1 analyst is not offered directives and is refused one, naming who may.
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (_, tom_page) = tom.get(&format!("/incidents/{id}")).await?;
    assert!(!tom_page.contains("/directive\""), "not offered to tier 1");
    let fields = "site=paris&site=lyon&kind=collect_evidence&params=host%3Dweb-1&expires_h=";
    let (status, _, refused) = tom.submit(&id, "directive", fields).await?;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused.contains("issuing directives to sites needs an IR lead or the CISO"),
        "{refused}"
    );
    let (status, _, refused) = tom
        .submit(&id, "task", "site=paris&title=Check&details=&due_h=")
        .await?;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused.contains("assigning tasks to sites needs"),
        "{refused}"
    );
    forged_refused(&ines, &format!("/incidents/{id}/directive"), fields, &id).await?;

    // Bad input is 400 saying what is accepted: a parameter line, hours, an unknown site.
    for (bad, wanted, says) in [
        (
            "site=paris&kind=collect_evidence&params=host",
            400,
            "is not NAME=VALUE",
        ),
        (
            "site=paris&kind=collect_evidence&params=&expires_h=soon",
            400,
            "whole number of hours",
        ),
        (
            "site=rome&kind=collect_evidence&params=host%3Dx",
            404,
            "&quot;rome&quot; is not enrolled",
        ),
    ] {
        let (status, _, page) = ines.submit(&id, "directive", bad).await?;
        assert_eq!(status, wanted, "{bad}: {page}");
        assert!(page.contains(says), "{says}: {page}");
    }

    // The IR lead sends it to both sites; each site's result comes back to the page, escaped.
    let (status, location, page) = ines.submit(&id, "directive", fields).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/incidents/{id}").as_str()),
        "{page}"
    );
    let rows = eventually("both sites' results", Duration::from_secs(30), || async {
        let (_, rows) = ines
            .get(&format!("/incidents/{id}?fragment=directives"))
            .await
            .ok()?;
        (rows.matches("<td>succeeded</td>").count() == 2).then_some(rows)
    })
    .await?;
    assert!(
        rows.contains("<td>paris</td>") && rows.contains("<td>lyon</td>"),
        "{rows}"
    );
    assert!(
        !rows.contains("<script>"),
        "a site's output is escaped: {rows}"
    );
    assert!(
        rows.contains("&lt;script&gt;alert(1)&lt;/script&gt; collected web-1"),
        "{rows}"
    );

    // A task for paris's analysts shows in the tasks fragment.
    let (status, _, page) = ines
        .submit(
            &id,
            "task",
            "site=paris&title=Image+the+host&details=web-1&due_h=8",
        )
        .await?;
    assert_eq!(status, 303, "{page}");
    let (_, tasks) = ines.get(&format!("/incidents/{id}?fragment=tasks")).await?;
    assert!(
        tasks.contains("Image the host") && tasks.contains("<td>paris</td>"),
        "{tasks}"
    );
    let (status, line) = ines.get(&format!("/incidents/{id}?fragment=state")).await?;
    assert_eq!(status, 200);
    assert!(line.starts_with(&format!("{id} · new · high")), "{line}");
    let (status, _) = ines.get(&format!("/incidents/{id}?fragment=nope")).await?;
    assert_eq!(status, 404);

    hub.stop().await?;
    let store = socfed_tests::audit::open_stopped_hub(&org.dir().join("hub-data"))?;
    let entries = store.audit_entries()?;
    for action in ["directive.issue", "task.assign"] {
        let found = entries
            .iter()
            .find(|e| e.draft.action == action)
            .ok_or_else(|| anyhow::anyhow!("{action} not audited"))?;
        assert_eq!(found.draft.actor, "ines", "{action}");
        assert!(found.draft.actor_cert.starts_with("serial "), "{action}");
    }
    drop(store);
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    assert!(
        socfed_tests::audit::count(
            &refusals,
            "dashboard: incident action",
            "tom",
            "PermissionDenied"
        ) >= 2
    );
    Ok(())
}
