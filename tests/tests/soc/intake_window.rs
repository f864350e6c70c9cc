//! The duplicate window over the real API with a manual clock: a source event resent within
//! `soc.duplicate_window` is a duplicate; once the window has passed its identity is
//! forgotten (pruned) and the same event counts again. Native lines without `id` always count.

use site_agent::service::ManualClock;
use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{clients, fixture::Org, free_port};
use std::sync::Arc;
use std::time::Duration;

const START: i64 = 1_772_445_600_000;

async fn submit(
    soc: &mut SiteSocClient<tonic::transport::Channel>,
    lines: &[&str],
) -> anyhow::Result<(u64, u64, u64)> {
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: (1u64..)
            .zip(lines)
            .map(|(line_no, text)| pb::RawLine {
                line_no,
                text: text.to_string(),
            })
            .collect(),
    };
    let s = soc
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner();
    anyhow::ensure!(s.rejected == 0, "{s:?}");
    Ok((s.accepted, s.aggregated, s.duplicates))
}

#[tokio::test]
async fn an_event_is_a_duplicate_within_the_window_and_counts_again_after_it() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = format!("127.0.0.1:{}", free_port()?).parse()?;
    let path = socfed_tests::procs::write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub,
        "127.0.0.1:0".parse()?,
        "[soc]\nmanagers = [\"tester\"]\nduplicate_window = \"1h\"\n",
    )?;
    let clock = Arc::new(ManualClock::new(START));
    let config = site_agent::config::AgentConfig::load(&path)?;
    let agent = site_agent::app::start_with_clock(config, clock.clone()).await?;
    let mut soc = SiteSocClient::new(clients::channel(
        agent.local_addr,
        &org.pki.operator("tester")?,
        &org.pki.domain,
        ExpectedServer::AnySite,
    )?);
    let with_id = r#"{"id":"evt-1","observed_at":1772445500000,"product":"edr","rule_id":"R","severity":"high","hosts":["ws-1"]}"#;
    let without_id = r#"{"observed_at":1772445500000,"product":"edr","rule_id":"R","severity":"high","hosts":["ws-1"]}"#;

    assert_eq!(submit(&mut soc, &[with_id]).await?, (1, 0, 0));
    assert_eq!(
        submit(&mut soc, &[with_id, with_id]).await?,
        (0, 0, 2),
        "within the window: duplicates, also within one batch"
    );
    assert_eq!(
        submit(&mut soc, &[without_id, without_id]).await?,
        (0, 2, 0),
        "no id: every line counts"
    );
    clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(submit(&mut soc, &[with_id]).await?, (0, 0, 1));
    // Past the window (measured from the first arrival): pruned, so it counts again.
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(submit(&mut soc, &[without_id]).await?, (0, 1, 0));
    assert_eq!(submit(&mut soc, &[with_id]).await?, (0, 1, 0));
    assert_eq!(
        submit(&mut soc, &[with_id]).await?,
        (0, 0, 1),
        "and is remembered anew"
    );
    agent.stop().await?;
    Ok(())
}
