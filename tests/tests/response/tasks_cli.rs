//! `site-agent tasks list` and `tasks show` as an analyst types them (the real binary) against
//! an in-process hub and agent over mutual TLS: the due time in human form and whether the task
//! is overdue, as columns, in `show`, and in `--output json`.

use socfed_proto::pb;
use socfed_tests::fixture::{OperatorCli, Org};
use socfed_tests::{eventually, pki::TestPki};
use std::process::Output;
use std::time::Duration;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

fn site_agent(pki: &TestPki, agent: std::net::SocketAddr, args: &[&str]) -> anyhow::Result<Output> {
    OperatorCli::agent(agent, pki.operator("tester")?).run(args)
}

fn stdout_of(out: &Output) -> anyhow::Result<String> {
    anyhow::ensure!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_list_and_show_give_the_due_time_and_whether_it_is_overdue() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "exfiltration")
        .await?;
    let ines = org.response(hub.addr, "ines")?;
    let assign = |title: &str, due_in_s: u64| {
        let request = pb::AssignTaskRequest {
            incident_id: incident.clone(),
            sites: vec!["paris".into()],
            title: title.into(),
            details: "export to the evidence share".into(),
            due_in_s,
        };
        let mut ines = ines.clone();
        async move {
            let list = ines.assign_task(request).await?.into_inner().directives;
            anyhow::Ok(
                list.first()
                    .and_then(|d| d.directive.clone())
                    .unwrap_or_default()
                    .directive_id,
            )
        }
    };
    let soon = assign("collect proxy logs", 1).await?;
    let later = assign("image the laptop", 86_400).await?;

    // JSON: the due time in RFC 3339, overdue once it has passed (and only then).
    let listed = eventually(
        "both tasks at the site, the first one overdue",
        Duration::from_secs(30),
        || async {
            let out =
                site_agent(&org.pki, paris.local_addr, &["tasks", "list", "-o", "json"]).ok()?;
            let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).ok()?;
            let soon = list
                .iter()
                .find(|t| t["directive_id"] == soon.as_str())?
                .clone();
            (list.len() == 2 && soon["overdue"] == true).then_some(list)
        },
    )
    .await?;
    let later_json = listed
        .iter()
        .find(|t| t["directive_id"] == later.as_str())
        .ok_or_else(|| anyhow::anyhow!("{listed:?}"))?;
    assert_eq!(later_json["overdue"], false);
    let due = later_json["due_at"].as_str().unwrap_or_default();
    assert!(
        due.ends_with('Z') && due.contains('T') && !due.is_empty(),
        "RFC 3339 in UTC: {later_json}"
    );
    assert_eq!(later_json["title"], "image the laptop");

    // The table has the columns, human times, and flags the overdue one.
    let table = stdout_of(&site_agent(&org.pki, paris.local_addr, &["tasks", "list"])?)?;
    assert!(
        table.contains("DUE") && table.contains("OVERDUE"),
        "{table}"
    );
    let row = |id: &str| {
        table
            .lines()
            .find(|l| l.contains(id))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(
        row(&soon).contains("OVERDUE") && row(&soon).contains(" ago)"),
        "{table}"
    );
    assert!(
        row(&later).contains(due) && row(&later).contains("(in "),
        "{table}"
    );
    assert!(!row(&later).contains("OVERDUE"), "{table}");
    assert!(
        !table.contains("due_ms"),
        "no raw epoch milliseconds: {table}"
    );

    // `tasks show`, as text and as JSON.
    let shown = stdout_of(&site_agent(
        &org.pki,
        paris.local_addr,
        &["tasks", "show", &soon],
    )?)?;
    assert!(shown.contains("collect proxy logs"), "{shown}");
    assert!(shown.contains("overdue:   yes"), "{shown}");
    assert!(
        shown.contains("due:") && !shown.contains("due_ms"),
        "{shown}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&site_agent(
        &org.pki,
        paris.local_addr,
        &["tasks", "show", &later, "-o", "json"],
    )?)?)?;
    assert_eq!(
        (json["due_at"].as_str(), &json["overdue"]),
        (Some(due), &serde_json::json!(false))
    );

    // Done is never overdue.
    stdout_of(&site_agent(
        &org.pki,
        paris.local_addr,
        &["tasks", "done", &soon, "--note", "sent"],
    )?)?;
    let shown = stdout_of(&site_agent(
        &org.pki,
        paris.local_addr,
        &["tasks", "show", &soon],
    )?)?;
    assert!(shown.contains("overdue:   no"), "{shown}");
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
