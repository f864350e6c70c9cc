//! Runbooks in the SOC console: the alert group's page shows the runbooks that apply, its
//! hostile Markdown inert (markup escaped, a `javascript:` link kept as text, an image as its
//! alt text), and a Tier 1 analyst ticks a checklist step with the page's form (progress
//! "1/2"); a form without the session's token changes nothing. Over HTTPS to an in-process
//! agent's console.

use site_agent::soc::Tier;
use socfed_proto::vocab::runbook::{Criteria, Draft, RulePattern};
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, add_analyst, alert, base, get, login_url, manager, post};
use socfed_tests::web::{hidden, https, sign_in};

const HOSTILE: &str = "# Beacon <script>alert(1)</script>\n\nRead [this](javascript:alert(1)) and [the wiki](https://wiki.example/ir) ![x](https://evil.example/p.png)\n\n- [ ] Isolate **the host**\n- [ ] Pull <img src=x onerror=alert(1)> the tree\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_ticks_a_runbook_step_on_an_alert_group_and_markdown_stays_inert()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let group = alert(&agent, "beaconing", "ws-1")?;
    let criteria = Criteria {
        rules: vec![RulePattern::parse("R-*")?],
        ..Criteria::default()
    };
    let runbook = agent
        .soc
        .add_runbook(&manager(), Draft::from_markdown(HOSTILE, criteria)?)?;
    let id = runbook.id.to_string();
    // A Tier 1 analyst may tick steps but not keep runbooks, and is told who may.
    let tier1 = site_agent::service::Actor {
        name: "tina".into(),
        role: site_agent::soc::Role::Analyst(Tier::T1),
        cert: String::new(),
    };
    let refused = agent
        .soc
        .retire_runbook(&tier1, runbook.id)
        .expect_err("tier 1 keeps no runbooks")
        .to_string();
    assert_eq!(
        refused,
        "keeping the site's runbooks needs the SOC manager or a security engineer; you are a tier 1 analyst"
    );

    let (base, client) = (base(&agent)?, https(&org.pki)?);
    let tina = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "tina").await?,
    )
    .await?;
    let page_path = format!("/alerts/{group}");
    let (status, page) = get(&client, &base, &page_path, &tina).await?;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("id=\"progress-{id}\">0/2<")),
        "{page}"
    );
    assert!(page.contains("&lt;script&gt;"), "escaped: {page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("href=\"javascript:"), "{page}");
    assert!(page.contains("href=\"https://wiki.example/ir\""), "{page}");
    assert!(
        !page.contains("evil.example"),
        "no image fetched or linked: {page}"
    );

    // The page's own form for step 1, as the browser would post it.
    let form_at = page
        .find(&format!("id=\"step-{id}-1\""))
        .ok_or_else(|| anyhow::anyhow!("step 1's form: {page}"))?;
    let form = &page[page[..form_at].rfind("<form").unwrap_or_default()..form_at];
    let csrf = hidden(form, "csrf").unwrap_or_default();
    let done = hidden(form, "done").unwrap_or_default();
    assert_eq!(done, "true");
    let body = format!("csrf={csrf}&subject={group}&runbook={id}&step=1&done=true");

    // Without the session's token: refused, nothing changed.
    let forged = format!("csrf=x&subject={group}&runbook={id}&step=1&done=true");
    let r = post(&client, &base, "/runbooks/step", &tina, &forged).await?;
    assert_eq!(r.status(), 403);
    let (_, page) = get(&client, &base, &page_path, &tina).await?;
    assert!(
        page.contains(&format!("id=\"progress-{id}\">0/2<")),
        "{page}"
    );

    let r = post(&client, &base, "/runbooks/step", &tina, &body).await?;
    assert_eq!(r.status(), 303);
    let (_, page) = get(&client, &base, &page_path, &tina).await?;
    assert!(
        page.contains(&format!("id=\"progress-{id}\">1/2<")),
        "{page}"
    );
    assert!(page.contains("[x] 1."), "{page}");
    let trail = agent.soc.store.audit_of(&group, 1000, 100)?;
    assert!(
        trail
            .iter()
            .any(|e| e.action == "runbook.step-done" && e.actor == "tina"),
        "audited: {trail:?}"
    );

    // The same checklist over the HTTP API, with a token acting as the SOC manager.
    let minted = agent.soc.create_api_token(
        &manager(),
        "",
        "soar",
        &[
            socfed_runtime::api_token::Scope::Read,
            socfed_runtime::api_token::Scope::Triage,
        ],
        3_600_000,
    )?;
    let url = format!("{base}/api/v1/checklists/{group}");
    let read: serde_json::Value = client
        .get(&url)
        .bearer_auth(&minted.token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(read[0]["progress"], "1/2", "{read}");
    let ticked = client
        .post(&url)
        .bearer_auth(&minted.token)
        .json(&serde_json::json!({"runbook": id, "step": 2, "done": true}))
        .send()
        .await?;
    assert_eq!(ticked.status(), 200);
    let ticked: serde_json::Value = ticked.json().await?;
    assert_eq!(ticked[0]["progress"], "2/2", "{ticked}");
    let past = client
        .post(&url)
        .bearer_auth(&minted.token)
        .json(&serde_json::json!({"runbook": id, "step": 3, "done": true}))
        .send()
        .await?;
    assert_eq!(past.status(), 400);
    agent.stop().await?;
    Ok(())
}
