//! The full pipeline of `socfed-load`'s escalation run: each site agent process is sent
//! `RaiseIncidents` batches on its local API (or one `RaiseIncident` per escalation with
//! `--raise-batch 0`, for comparison; a share of them a campaign other sites report too), with
//! a poller per agent reading its acknowledged sequence (`GetStatus`) so that each
//! escalation's latency runs from its raise's reply to the acknowledgement covering it.
//!
//! The poller costs the agents some CPU of their own (a unary call every `Raises::poll`,
//! [`ACK_POLL`] by default); [`polling_cost`] measures it on the idle agents so the report can
//! state it.

use super::agents::AgentProcess;
use super::sized_report;
use futures_util::StreamExt;
use socfed_proto::pb;
use std::time::{Duration, Instant};

/// How often each agent's acknowledged sequence is read by default: the resolution of the ack
/// latency.
pub const ACK_POLL: Duration = Duration::from_millis(5);

/// What each site raises.
#[derive(Debug, Clone, Copy)]
pub struct Raises {
    pub per_site: u64,
    pub bytes: usize,
    /// Share of raises that are a cross-site campaign.
    pub duplicates: f64,
    /// Raises per second across all sites; 0 = as fast as the agents take them.
    pub rate: u64,
    /// Calls in flight per site (batches, or single raises).
    pub in_flight: usize,
    /// Raises per `RaiseIncidents` call; 0 = one `RaiseIncident` call per raise.
    pub batch: usize,
    /// How often each agent's acknowledged sequence is read.
    pub poll: Duration,
}

/// Raises on every agent at once; returns the time until the last acknowledgement and every
/// escalation's ack latency.
pub async fn run(
    agents: &[AgentProcess],
    raises: Raises,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let started = Instant::now();
    let sites = agents.len() as u64;
    let mut tasks = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let client = agent.client.clone();
        tasks.push(tokio::spawn(raise_at(i, client, sites, raises)));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok((started.elapsed(), latencies))
}

/// One site's raises and its ack poller.
async fn raise_at(
    i: usize,
    client: pb::site_local_client::SiteLocalClient<tonic::transport::Channel>,
    sites: u64,
    raises: Raises,
) -> anyhow::Result<Vec<Duration>> {
    let (raised_tx, mut raised_rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let mut status = client.clone();
    let poller = tokio::spawn(async move {
        // By sequence: with raises in flight, replies arrive out of sequence order.
        let mut pending = std::collections::BTreeMap::new();
        let mut latencies = Vec::new();
        let mut open = true;
        while open || !pending.is_empty() {
            loop {
                match raised_rx.try_recv() {
                    Ok((seq, at)) => {
                        pending.insert(seq, at);
                    }
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            let acked = status
                .get_status(pb::GetStatusRequest {})
                .await?
                .into_inner()
                .acked_through;
            let now = Instant::now();
            while pending
                .first_key_value()
                .is_some_and(|(seq, _)| *seq <= acked)
            {
                if let Some((_, at)) = pending.pop_first() {
                    latencies.push(now - at);
                }
            }
            tokio::time::sleep(raises.poll).await;
        }
        anyhow::Ok(latencies)
    });
    let pace =
        (raises.rate > 0).then(|| Duration::from_secs_f64(sites as f64 / raises.rate as f64));
    // Calls of `batch` raises (one each when unary); each answers its raises' sequences.
    let size = raises.batch.max(1) as u64;
    let call = |first: u64| {
        let mut client = client.clone();
        async move {
            let last = (first + size).min(raises.per_site);
            if raises.batch == 0 {
                let reply = client
                    .raise_incident(request(i, first, raises))
                    .await?
                    .into_inner();
                return anyhow::Ok(vec![reply.seq]);
            }
            let reply = client
                .raise_incidents(pb::RaiseIncidentsRequest {
                    batch_id: format!("load-{first}"),
                    raises: (first..last).map(|n| request(i, n, raises)).collect(),
                })
                .await?
                .into_inner();
            reply
                .results
                .into_iter()
                .map(|r| match r.outcome {
                    Some(pb::raise_result::Outcome::Raised(ok)) => Ok(ok.seq),
                    Some(pb::raise_result::Outcome::Error(e)) => {
                        Err(anyhow::anyhow!("raise refused: {}", e.message))
                    }
                    None => Err(anyhow::anyhow!("a raise without an answer")),
                })
                .collect()
        }
    };
    let mut stream = futures_util::stream::iter((0..raises.per_site).step_by(size as usize))
        .map(call)
        .buffer_unordered(raises.in_flight.max(1));
    while let Some(seqs) = stream.next().await {
        let now = Instant::now();
        for seq in seqs? {
            let _ = raised_tx.send((seq, now));
        }
        if let Some(pace) = pace {
            tokio::time::sleep(pace * size as u32).await;
        }
    }
    drop(raised_tx);
    poller.await?
}

/// Raise `n` of site `i`: a campaign shared with the other sites for the first share of them,
/// else an incident of its own.
fn request(i: usize, n: u64, raises: Raises) -> pb::RaiseIncidentRequest {
    let campaign = (n as f64) < raises.duplicates * raises.per_site as f64;
    let (title, rule, indicator) = if campaign {
        (
            format!("campaign {}", n % 100),
            format!("CAMP-{}", n % 100),
            format!("c{}.campaign.example", n % 100),
        )
    } else {
        (
            format!("site {i} incident {n}"),
            format!("R-{i}-{n}"),
            format!("h{n}.site{i}.example"),
        )
    };
    pb::RaiseIncidentRequest {
        request_id: format!("load-{n}"),
        title,
        description: sized_report("", "", raises.bytes).description,
        severity: pb::Severity::High as i32,
        rule_id: rule,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: indicator,
        }],
        ..Default::default()
    }
}

/// CPU seconds per second the idle agents spend together while polled every `poll` as during
/// the run (their own timers included), over `window`.
pub async fn polling_cost(
    agents: &[AgentProcess],
    poll: Duration,
    window: Duration,
) -> anyhow::Result<f64> {
    let before: f64 = agents.iter().map(|a| a.usage().cpu_seconds).sum();
    let started = Instant::now();
    while started.elapsed() < window {
        for agent in agents {
            agent.acked_through().await?;
        }
        tokio::time::sleep(poll).await;
    }
    let after: f64 = agents.iter().map(|a| a.usage().cpu_seconds).sum();
    Ok((after - before) / started.elapsed().as_secs_f64())
}
