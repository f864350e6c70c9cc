//! Directives from the SIRT in the SOC console: a destructive action the hub sent waits for
//! approval; the console lists it with approve and reject forms, a Tier 1 analyst is refused
//! (naming the role needed), and the SOC manager's approval runs the playbook, as
//! `site-agent directives approve` would. A task from the SIRT is worked from the same page
//! by any analyst, and the hub sees it done.

use site_agent::soc::Tier;
use socfed_proto::pb;
use socfed_tests::eventually;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, MANAGER, add_analyst, base, get, login_url, post};
use socfed_tests::web::{hidden, https, sign_in};
use std::time::Duration;

const HUB: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destructive_directive_is_approved_from_the_console_by_a_role_that_may()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], HUB).await?;
    let log = org.dir().join("isolated.log");
    let playbook = format!(
        "[response]\n[[response.playbooks]]\nkind = \"isolate_host\"\ncommand = [\"/bin/sh\", \"-c\", 'echo \"isolate $1\" >> \"$0\"', \"{}\", \"{{host}}\"]\nallow_shell_templates = true\ndestructive = true\n",
        log.display()
    );
    let extra = format!("{}{playbook}", console::config("1h"));
    let agent = console::agent(&org, hub.addr, &extra, None).await?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let incident = org
        .raise_at_site(agent.local_addr, hub.addr, "beaconing to C2")
        .await?;
    org.response(hub.addr, "ines")?
        .issue_directive(pb::IssueDirectiveRequest {
            incident_id: incident.clone(),
            sites: vec!["paris".into()],
            kind: "isolate_host".into(),
            params: [("host".to_string(), "ws-042".to_string())].into(),
            expires_in_s: 0,
        })
        .await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    let mona = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, MANAGER).await?,
    )
    .await?;
    let page = eventually(
        "the directive awaiting approval",
        Duration::from_secs(20),
        || {
            let (client, base, mona) = (client.clone(), base.clone(), mona.clone());
            async move {
                let (_, page) = get(&client, &base, "/directives", &mona).await.ok()?;
                page.contains("/decide").then_some(page)
            }
        },
    )
    .await?;
    assert!(
        page.contains("isolate_host") && page.contains("host=ws-042"),
        "{page}"
    );
    let at = page.find("/decide").unwrap_or_default();
    let path = page[..at]
        .rsplit("action=\"")
        .next()
        .map(|p| format!("{p}/decide"))
        .unwrap_or_default();
    let csrf = hidden(&page[at..], "csrf").unwrap_or_default();

    // Tier 1 may not approve: told the role needed, nothing run.
    let tina = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "tina").await?,
    )
    .await?;
    let (_, tina_page) = get(&client, &base, "/directives", &tina).await?;
    let tina_csrf = {
        let at = tina_page.find("/decide").unwrap_or_default();
        hidden(&tina_page[at..], "csrf").unwrap_or_default()
    };
    let refused = post(
        &client,
        &base,
        &path,
        &tina,
        &format!("do=approve&reason=go&csrf={tina_csrf}"),
    )
    .await?;
    assert_eq!(refused.status(), 403);
    let text = refused.text().await?;
    assert!(text.contains("tier 3 analyst or above"), "{text}");
    assert!(!log.exists(), "nothing ran");

    // The SOC manager approves: the playbook runs.
    let approved = post(
        &client,
        &base,
        &path,
        &mona,
        &format!("do=approve&reason=contain&csrf={csrf}"),
    )
    .await?;
    assert_eq!(approved.status(), 303);
    eventually(
        "the approved action to run",
        Duration::from_secs(20),
        || {
            let ran = std::fs::read_to_string(&log).unwrap_or_default();
            async move { ran.contains("isolate ws-042").then_some(()) }
        },
    )
    .await?;
    let (_, page) = get(&client, &base, "/directives", &mona).await?;
    assert!(!page.contains("/decide"), "no longer awaiting: {page}");

    // A task: Tier 1 completes it with a note; the hub hears of it.
    let ines = org.response(hub.addr, "ines")?;
    ines.clone()
        .assign_task(pb::AssignTaskRequest {
            incident_id: incident.clone(),
            sites: vec!["paris".into()],
            title: "Collect proxy logs".into(),
            details: String::new(),
            due_in_s: 0,
        })
        .await?;
    let page = eventually("the task on the page", Duration::from_secs(20), || {
        let (client, base, tina) = (client.clone(), base.clone(), tina.clone());
        async move {
            let (_, page) = get(&client, &base, "/directives", &tina).await.ok()?;
            page.contains("/task\"").then_some(page)
        }
    })
    .await?;
    let at = page.find("/task\"").unwrap_or_default();
    let task_path = page[..at]
        .rsplit("action=\"")
        .next()
        .map(|p| format!("{p}/task"))
        .unwrap_or_default();
    let task_csrf = hidden(&page[at..], "csrf").unwrap_or_default();
    let done = post(
        &client,
        &base,
        &task_path,
        &tina,
        &format!("do=complete&note=logs+attached&csrf={task_csrf}"),
    )
    .await?;
    assert_eq!(done.status(), 303);
    eventually(
        "the hub to see the task done",
        Duration::from_secs(20),
        || {
            let mut ines = ines.clone();
            let incident = incident.clone();
            async move {
                let list = ines
                    .list_directives(pb::ListDirectivesRequest {
                        incident_id: incident,
                        ..Default::default()
                    })
                    .await
                    .ok()?
                    .into_inner();
                list.directives
                    .iter()
                    .any(|d| {
                        d.directive.as_ref().is_some_and(|w| w.kind == "task")
                            && d.state == pb::DirectiveState::Succeeded as i32
                    })
                    .then_some(())
            }
        },
    )
    .await?;
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
