//! A flood of connections without client certificates is refused while a legitimate site
//! keeps escalating: every flood call gets UNAUTHENTICATED, every escalation arrives once,
//! and the audit chain does not grow by one record.

use socfed_proto::pb::{self, operator_client::OperatorClient};
use socfed_tests::{clients, eventually, fixture::Org};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_connection_flood_is_refused_and_sites_keep_streaming() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    const FLOODERS: usize = 50;
    const CALLS: usize = 20;
    const ESCALATIONS: usize = 100;

    // Each flooder opens its own connection (no client certificate) and keeps calling.
    let mut flood = Vec::new();
    for _ in 0..FLOODERS {
        let channel = clients::channel_without_client_cert(hub.addr, &org.pki.ca())?;
        flood.push(tokio::spawn(async move {
            let mut client = OperatorClient::new(channel);
            let mut refused = 0;
            for _ in 0..CALLS {
                match client
                    .list_incidents(pb::ListIncidentsRequest::default())
                    .await
                {
                    Err(s) if s.code() == tonic::Code::Unauthenticated => refused += 1,
                    // The hub closes a connection without a certificate after its short
                    // life (`connections.unauthenticated_lifetime`): the call fails, the
                    // channel reconnects for the next one.
                    Err(s) if s.code() == tonic::Code::Unavailable => refused += 1,
                    Err(s) => anyhow::bail!("unexpected refusal {:?}: {}", s.code(), s.message()),
                    Ok(_) => anyhow::bail!("an unauthenticated call was answered"),
                }
            }
            anyhow::Ok(refused)
        }));
    }
    let mut local = org.local(paris.local_addr, "tester")?;
    for n in 0..ESCALATIONS {
        local
            .raise_incident(pb::RaiseIncidentRequest {
                request_id: format!("flood-{n}"),
                title: format!("during the flood {n}"),
                severity: pb::Severity::High as i32,
                ..Default::default()
            })
            .await?;
    }
    let mut refused = 0;
    for task in flood {
        refused += task.await??;
    }
    assert_eq!(
        refused,
        FLOODERS * CALLS,
        "every unauthenticated call refused"
    );
    let mut op = org.operator(hub.addr, "tester")?;
    eventually(
        "every escalation at the hub",
        Duration::from_secs(30),
        || {
            let mut op = op.clone();
            async move {
                let sites = clients::sites(&mut op).await.ok()?;
                sites
                    .iter()
                    .any(|s| {
                        s.site_id == "paris"
                            && s.escalations_stored == ESCALATIONS as u64
                            && s.duplicates == 0
                    })
                    .then_some(())
            }
        },
    )
    .await?;
    assert_eq!(clients::all_incidents(&mut op).await?.len(), ESCALATIONS);
    paris.stop().await?;
    hub.stop().await?;
    // Callers without a certificate are anyone on the network: their refusals are counted
    // and logged (rate-limited), never written to the audit chain, whatever they send.
    let records = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    assert!(
        records.is_empty(),
        "refusals without a certificate reached the audit chain: {records:?}"
    );
    Ok(())
}
