//! Case work on local incidents (issue 15) through the real `site-agent` binary, the SOC
//! console over HTTPS and the `/api/v1` API, against an in-process hub and agent (real
//! stores in temp dirs): notes written with the author from the certificate, listed in time
//! order, a TLP:RED note redacted for a reader who is neither its author, the incident's owner
//! nor the SOC manager, hostile text escaped on the page and refused when it could drive a
//! terminal, every note audited; an alert group taken out of an incident goes back to the
//! queue and an escalated incident queues its next revision; the KPIs of a few triage steps
//! per tier, analyst, rule and week on all three surfaces.

use serde_json::Value;
use site_agent::soc::Tier;
use socfed_tests::agent_api;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, MANAGER, add_analyst, alert, base, get, login_url, post};
use socfed_tests::web::{hidden, https, sign_in};

/// The CSRF token of the page's form posting to `action`.
fn form_csrf(page: &str, action: &str) -> String {
    let at = page
        .find(&format!("action=\"{action}\""))
        .unwrap_or_default();
    hidden(&page[at..], "csrf").unwrap_or_default()
}

/// `incidents promote GROUPS… -o json` as `who`: the new incident's id.
fn promote(cli: &socfed_tests::fixture::OperatorCli, groups: &[&str]) -> anyhow::Result<String> {
    let mut args = vec!["incidents", "promote"];
    args.extend(groups);
    let incident = cli.json(&args)?;
    incident["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no id: {incident}"))
}

/// The audit log's entries with `action` (actor, target).
fn audited(
    agent: &site_agent::app::RunningAgent,
    action: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    Ok(agent_api::audit(agent)?
        .into_iter()
        .filter(|e| e.draft.action == action)
        .map(|e| (e.draft.actor, e.draft.target))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_are_authored_by_the_certificate_redacted_by_tlp_and_escaped_everywhere()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "ana", Tier::T2)?;
    add_analyst(&agent, "tina", Tier::T1)?;
    add_analyst(&agent, "carl", Tier::T1)?;
    let g1 = alert(&agent, "Encoded PowerShell", "ws-1")?;
    let (ana, tina, carl) = (
        org.agent_cli(agent.local_addr, "ana")?,
        org.agent_cli(agent.local_addr, "tina")?,
        org.agent_cli(agent.local_addr, "carl")?,
    );
    let incident = promote(&ana, &[&g1])?;

    // Hostile text from the site is stored as text; text that would drive a terminal is
    // refused with the reason, and so is an empty note.
    let hostile = "<img src=x onerror=alert(1)> & \"found\" the dropper";
    let added = tina.json(&["incidents", "note", &incident, "--text", hostile])?;
    assert_eq!(added["author"], "tina", "{added}");
    let refused = tina.fails(&["incidents", "note", &incident, "--text", "a\u{1b}[2Jb"])?;
    assert!(refused.contains("control characters"), "{refused}");
    assert!(
        tina.fails(&["incidents", "note", &incident, "--text", "  "])?
            .contains("text")
    );
    // A TLP:RED note by tina: she, the owner (ana, who promoted it) and the SOC manager
    // read it; carl sees that it exists, when and by whom, not what it says.
    let secret = "the CFO's laptop is patient zero";
    tina.ok(&[
        "incidents",
        "note",
        &incident,
        "--text",
        secret,
        "--tlp",
        "red",
    ])?;
    for (cli, reads) in [(&tina, true), (&ana, true), (&carl, false)] {
        let notes = cli.json(&["incidents", "notes", &incident])?;
        let notes = notes.as_array().cloned().unwrap_or_default();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0]["text"], hostile, "time order: {notes:?}");
        assert_eq!(notes[1]["tlp"], "red");
        assert_eq!(notes[1]["author"], "tina");
        assert_eq!(notes[1]["text"] == secret, reads, "{notes:?}");
        assert_eq!(notes[1]["redacted"].is_string(), !reads, "{notes:?}");
    }
    let table = carl.ok(&["incidents", "notes", &incident])?;
    assert!(
        table.contains("redacted") && !table.contains("CFO"),
        "{table}"
    );

    // The console: carl's page shows the hostile note escaped and the RED one redacted.
    let client = https(&org.pki)?;
    let base = base(&agent)?;
    let carl_web = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "carl").await?,
    )
    .await?;
    let page_path = format!("/incidents/{incident}");
    let (status, page) = get(&client, &base, &page_path, &carl_web).await?;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt; &amp;"),
        "{page}"
    );
    assert!(
        page.contains("Redacted:") && !page.contains("CFO"),
        "{page}"
    );
    // Carl adds a note with the form; a form without the session's token changes nothing.
    let notes_path = format!("/incidents/{incident}/notes");
    let csrf = form_csrf(&page, &notes_path);
    assert_eq!(csrf.len(), 64, "{page}");
    let forged = post(&client, &base, &notes_path, &carl_web, "text=forged&tlp=").await?;
    assert_eq!(forged.status(), 403);
    let body = format!("csrf={csrf}&text=%3Cb%3Econtained%3C%2Fb%3E+on+ws-1&tlp=amber");
    let added = post(&client, &base, &notes_path, &carl_web, &body).await?;
    assert_eq!(added.status(), 303);
    let (_, page) = get(&client, &base, &page_path, &carl_web).await?;
    assert!(
        page.contains("&lt;b&gt;contained&lt;/b&gt; on ws-1"),
        "{page}"
    );
    assert!(!page.contains("forged"), "{page}");
    // The SOC manager reads the RED note on the page.
    let mona = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, MANAGER).await?,
    )
    .await?;
    let (_, page) = get(&client, &base, &page_path, &mona).await?;
    assert!(
        page.contains("the CFO&#x27;s laptop") || page.contains("the CFO&#39;s laptop"),
        "{page}"
    );

    // The API, with operator certificates: carl reads it redacted and writes as himself
    // (an author in the body is refused: the author is never a field).
    let api_url = |path: &str| format!("{base}/api/v1{path}");
    let carl_http = agent_api::client(&org.pki, Some("carl"))?;
    let notes: Value = carl_http
        .get(api_url(&notes_path))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(notes.as_array().map(Vec::len), Some(3), "{notes}");
    assert!(
        notes[1]["text"].is_null() && notes[1]["redacted"].is_string(),
        "{notes}"
    );
    let posted = carl_http
        .post(api_url(&notes_path))
        .json(&serde_json::json!({"text": "hash sent to the sandbox", "tlp": "green"}))
        .send()
        .await?;
    assert_eq!(posted.status(), 200);
    let posted: Value = posted.json().await?;
    assert_eq!(
        (posted["author"].as_str(), posted["tlp"].as_str()),
        (Some("carl"), Some("green"))
    );
    let spoofed = carl_http
        .post(api_url(&notes_path))
        .json(&serde_json::json!({"text": "x", "author": "mona"}))
        .send()
        .await?;
    assert_eq!(spoofed.status(), 400);
    // A read-only token may list notes but not write one.
    let reader = agent_api::mint(&org, &agent, "grafana", "read")?;
    let plain = agent_api::client(&org.pki, None)?;
    let listed = plain
        .get(api_url(&notes_path))
        .bearer_auth(&reader)
        .send()
        .await?;
    assert_eq!(listed.status(), 200);
    let write = plain
        .post(api_url(&notes_path))
        .bearer_auth(&reader)
        .json(&serde_json::json!({"text": "x"}))
        .send()
        .await?;
    assert_eq!(write.status(), 403);

    // Every note is in the audit log, by the certificate's operator, on the incident.
    let notes = audited(&agent, "incident.note")?;
    let authors: Vec<&str> = notes.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(authors, ["tina", "tina", "carl", "carl"], "{notes:?}");
    assert!(notes.iter().all(|(_, t)| *t == incident), "{notes:?}");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_taken_out_goes_back_to_the_queue_and_the_hub_gets_the_next_revision()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "ana", Tier::T2)?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let (g1, g2, g3) = (
        alert(&agent, "Encoded PowerShell", "ws-1")?,
        alert(&agent, "Beacon", "ws-2")?,
        alert(&agent, "Dropper", "ws-3")?,
    );
    let ana = org.agent_cli(agent.local_addr, "ana")?;
    let mona = org.agent_cli(agent.local_addr, MANAGER)?;
    let tina = org.agent_cli(agent.local_addr, "tina")?;
    let incident = promote(&ana, &[&g1, &g2, &g3])?;
    let escalated = mona.json(&["incidents", "escalate", &incident])?;
    assert_eq!(escalated["revision"], 1, "{escalated}");

    // A Tier 1 analyst may not take a group out (the promotion right, as for adding one).
    let refused = tina.fails(&["incidents", "remove", &incident, &g2])?;
    assert!(refused.contains("tier 2"), "{refused}");
    // Ana takes ws-2's group out: the incident forgets ws-2, the next revision is queued,
    // and the group is back in the queue, acknowledged at its tier.
    let after = ana.json(&["incidents", "remove", &incident, &g2])?;
    assert_eq!(
        after["alert_group_ids"],
        serde_json::json!([g1, g3]),
        "{after}"
    );
    assert_eq!(
        after["hosts"],
        serde_json::json!(["ws-1", "ws-3"]),
        "{after}"
    );
    assert_eq!(after["revision"], 2, "{after}");
    let group = ana.json(&["alerts", "show", &g2])?;
    assert_eq!(group["status"], "acknowledged", "{group}");
    let queue = ana.json(&["alerts", "list"])?;
    assert!(
        queue
            .as_array()
            .is_some_and(|q| q.iter().any(|g| g["id"] == g2.as_str())),
        "{queue}"
    );
    // Not part of it any more: refused; the hub holds the revision.
    assert!(
        ana.fails(&["incidents", "remove", &incident, &g2])?
            .contains("not part of")
    );
    let shown = ana.json(&["incidents", "show", &incident])?;
    assert_eq!(shown["revision"], 2);

    // The console: ana takes ws-3's group out with the page's button.
    let client = https(&org.pki)?;
    let base = base(&agent)?;
    let web = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "ana").await?,
    )
    .await?;
    let (_, page) = get(&client, &base, &format!("/incidents/{incident}"), &web).await?;
    let remove = format!("/incidents/{incident}/remove");
    assert!(page.contains("Take out of this incident"), "{page}");
    let csrf = form_csrf(&page, &remove);
    let done = post(
        &client,
        &base,
        &remove,
        &web,
        &format!("csrf={csrf}&group={g3}"),
    )
    .await?;
    assert_eq!(done.status(), 303);
    let (_, page) = get(&client, &base, &format!("/incidents/{incident}"), &web).await?;
    assert!(!page.contains(&format!("/alerts/{g3}")), "{page}");
    // The last group stays: the button is gone and the API refuses it with the way out.
    assert!(!page.contains("Take out of this incident"), "{page}");
    let token = agent_api::mint(&org, &agent, "soar", "triage")?;
    let http = agent_api::client(&org.pki, None)?;
    let last = http
        .delete(format!("{base}/api/v1/incidents/{incident}/groups/{g1}"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(last.status(), 400);
    let answer: Value = last.json().await?;
    assert!(
        answer.to_string().contains("close the incident"),
        "{answer}"
    );
    // Through the API: add ws-2's group back, then take it out again.
    ana.ok(&["incidents", "add", &incident, &g2])?;
    let out = http
        .delete(format!("{base}/api/v1/incidents/{incident}/groups/{g2}"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(out.status(), 200);
    let out: Value = out.json().await?;
    assert_eq!(out["alert_group_ids"], serde_json::json!([g1]), "{out}");

    let removed = audited(&agent, "incident.remove-group")?;
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert_eq!(audited(&agent, "alert.unlink")?.len(), 3);
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_per_tier_analyst_rule_and_week_on_the_cli_the_api_and_the_page() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    add_analyst(&agent, "ana", Tier::T2)?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let (g1, g2) = (
        alert(&agent, "Noisy", "ws-1")?,
        alert(&agent, "Real", "ws-2")?,
    );
    let (ana, tina) = (
        org.agent_cli(agent.local_addr, "ana")?,
        org.agent_cli(agent.local_addr, "tina")?,
    );
    // Tina acknowledges both, closes ws-1's as a false positive and escalates ws-2's; ana
    // acknowledges it at tier 2 and closes it as a true positive.
    for args in [
        vec!["alerts", "ack", &g1],
        vec!["alerts", "close", &g1, "--verdict", "false-positive"],
        vec!["alerts", "ack", &g2],
        vec!["alerts", "escalate", &g2],
    ] {
        tina.ok(&args)?;
    }
    ana.ok(&["alerts", "ack", &g2])?;
    ana.ok(&["alerts", "close", &g2, "--verdict", "true-positive"])?;

    let kpis = tina.json(&["kpis", "--weeks", "2"])?;
    let tier = |n: u64| {
        kpis["tiers"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["tier"] == n).cloned())
            .unwrap_or_default()
    };
    assert_eq!(tier(1)["acknowledge"]["count"], 2, "{kpis}");
    assert_eq!(tier(1)["escalate"]["count"], 1, "{kpis}");
    assert_eq!(tier(1)["close"]["count"], 1, "{kpis}");
    assert_eq!(tier(2)["acknowledge"]["count"], 0, "{kpis}");
    assert_eq!(tier(2)["close"]["count"], 1, "{kpis}");
    let analyst = |name: &str| {
        kpis["analysts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["analyst"] == name).cloned())
            .unwrap_or_default()
    };
    assert_eq!(analyst("tina")["groups_handled"], 2, "{kpis}");
    assert_eq!(analyst("tina")["acknowledge"]["count"], 2, "{kpis}");
    assert_eq!(analyst("ana")["groups_handled"], 1, "{kpis}");
    assert_eq!(analyst("ana")["close"]["count"], 1, "{kpis}");
    assert!(analyst("tina")["acknowledge"]["median_ms"].is_i64());
    let rules = kpis["rules"].as_array().cloned().unwrap_or_default();
    let rates: Vec<(String, f64)> = rules
        .iter()
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap_or_default().to_string(),
                r["false_positive_rate"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        rates,
        [("R-ws-1".to_string(), 1.0), ("R-ws-2".to_string(), 0.0)]
    );
    assert_eq!(kpis["shifts"][0]["shift"], "off shift", "{kpis}");
    assert_eq!(kpis["trend"].as_array().map(Vec::len), Some(1), "{kpis}");
    assert_eq!(kpis["trend"][0]["false_positive"], 1);
    let table = tina.ok(&["kpis"])?;
    assert!(
        table.contains("Per analyst") && table.contains("R-ws-1"),
        "{table}"
    );

    // The API agrees, and refuses a window out of range.
    let base = base(&agent)?;
    let http = agent_api::client(&org.pki, Some("tina"))?;
    let api: Value = http
        .get(format!("{base}/api/v1/kpis?weeks=2"))
        .send()
        .await?
        .json()
        .await?;
    // One shape on both surfaces (the times differ: the API's window ends later).
    for key in ["tiers", "analysts", "rules", "shifts", "trend"] {
        let counts = |v: &Value| -> Value {
            let mut v = v[key].clone();
            for row in v.as_array_mut().into_iter().flatten() {
                for measure in ["acknowledge", "escalate", "close"] {
                    if let Some(m) = row.get_mut(measure) {
                        *m = m["count"].clone();
                    }
                }
                if let Some(o) = row.as_object_mut() {
                    o.remove("median_acknowledge_ms");
                }
            }
            v
        };
        assert_eq!(counts(&api), counts(&kpis), "{key}: {api} {kpis}");
    }
    assert_eq!(api["analysts"].as_array().map(Vec::len), Some(2), "{api}");
    assert_eq!(api["rules"][0]["false_positive"], 1, "{api}");
    let bad = http
        .get(format!("{base}/api/v1/kpis?weeks=0"))
        .send()
        .await?;
    assert_eq!(bad.status(), 400);

    // The page, linked from the navigation.
    let client = https(&org.pki)?;
    let web = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "tina").await?,
    )
    .await?;
    let (status, page) = get(&client, &base, "/kpis", &web).await?;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("href=\"/kpis\" aria-current=\"page\""),
        "{page}"
    );
    assert!(
        page.contains("<td>tina</td>") && page.contains("<td>R-ws-1</td>"),
        "{page}"
    );
    assert!(page.contains("<td>100%</td>"), "{page}");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
