//! A client looping on a refused console request cannot grow the site's audit chain without
//! bound: identical refusals (who, request, reason) are written once at first, then as one
//! record carrying how many more there were when the window ends (or the agent stops).

use serde_json::Value;
use site_agent::soc::Tier;
use socfed_tests::fixture::Org;
use socfed_tests::web::console::{self, add_analyst, alert, base, get, login_url};
use socfed_tests::web::{https, sign_in};

/// The console refusal records of the agent's audit log: (actor, reason, count).
fn refusals(agent: &site_agent::app::RunningAgent) -> anyhow::Result<Vec<(String, String, u64)>> {
    Ok(agent
        .store
        .audit_of("console", 100_000, 1000)?
        .into_iter()
        .filter(|d| d.action == "console.refused")
        .filter_map(|d| {
            let after: Value = serde_json::from_str(d.after.as_deref()?).ok()?;
            Some((
                d.actor,
                after["reason"].as_str()?.to_owned(),
                after["count"].as_u64()?,
            ))
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_identical_refusals_are_one_record_and_a_count() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = console::agent(&org, hub.addr, &console::config("1h"), None).await?;
    let base = base(&agent)?;
    let client = https(&org.pki)?;
    add_analyst(&agent, "tina", Tier::T1)?;
    let group = alert(&agent, "looped", "ws-1")?;
    let tina = sign_in(
        &client,
        &base,
        &login_url(agent.local_addr, &org.pki, "tina").await?,
    )
    .await?;
    assert_eq!(get(&client, &base, "/", &tina).await?.0, 200);

    // A page elsewhere posting the same form 200 times: every one refused.
    for _ in 0..200 {
        let response = client
            .post(format!("{base}/alerts/{group}/act"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &tina)
            .header("origin", "https://evil.example")
            .body("do=ack")
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 403);
    }
    let written = refusals(&agent)?;
    assert_eq!(written.len(), 1, "{written:?}");
    assert_eq!(written[0].0, "tina");
    assert_eq!(written[0].2, 1);

    // When the window ends (here: the stop's flush), one more record carries the rest.
    agent.soc.flush_console_refusals(true)?;
    let written = refusals(&agent)?;
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(
        written
            .iter()
            .all(|(who, reason, _)| who == "tina" && reason.contains("another site"))
    );
    assert_eq!(written.iter().map(|r| r.2).sum::<u64>(), 200, "{written:?}");
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
