//! Raising in batches (`SiteLocal.RaiseIncidents`) and the raise committer, over real mTLS:
//! a batch queues in order and reaches the hub exactly once, a retried batch id is answered
//! from the first attempt, an invalid or refused raise fails alone, the caps and the role
//! check refuse with their precise status, one audit entry records a batch and the chain still
//! verifies, and concurrent unary raises share store units (the real binary's metrics).

use socfed_proto::pb;
use socfed_tests::clients;
use socfed_tests::procs::{Proc, binary, write_agent_config};
use socfed_tests::{eventually, fixture::Org, free_port};
use std::net::SocketAddr;
use std::time::Duration;
use tonic::Code;

fn raise(title: &str) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: title.into(),
        severity: pb::Severity::Medium as i32,
        ..Default::default()
    }
}

fn batch(id: &str, raises: Vec<pb::RaiseIncidentRequest>) -> pb::RaiseIncidentsRequest {
    pb::RaiseIncidentsRequest {
        batch_id: id.into(),
        raises,
    }
}

/// A raise's answer: (local id, seq, replayed), or the error's code and message.
type Outcome = Result<(String, u64, bool), (i32, String)>;

/// Each result of a batch, in order.
fn outcomes(response: &pb::RaiseIncidentsResponse) -> Vec<Outcome> {
    response
        .results
        .iter()
        .map(|r| match &r.outcome {
            Some(pb::raise_result::Outcome::Raised(ok)) => {
                Ok((ok.local_incident_id.clone(), ok.seq, ok.replayed))
            }
            Some(pb::raise_result::Outcome::Error(e)) => Err((e.code, e.message.clone())),
            None => Err((-1, "no outcome".into())),
        })
        .collect()
}

#[tokio::test]
async fn a_batch_queues_in_order_reaches_the_hub_once_and_a_retried_batch_id_replays_it()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org.agent("paris", hub_addr, "").await?;
    let mut local = org.local(agent.local_addr, "alice")?;
    let audit_before = agent.store.verify_audit()?;

    let mut raises: Vec<_> = (0..5).map(|i| raise(&format!("batched {i}"))).collect();
    // Two raises with one request id in the same batch: the second is the first's replay.
    raises[3].request_id = "same-request".into();
    raises[4].request_id = "same-request".into();
    let first = local.raise_incidents(batch("b-1", raises.clone())).await?;
    let first = outcomes(&first.into_inner());
    let queued: Vec<(String, u64, bool)> = first
        .iter()
        .cloned()
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(
        queued.iter().map(|q| q.1).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 4],
        "in order; the repeated request id answered with the first"
    );
    assert_eq!(
        queued.iter().map(|q| q.2).collect::<Vec<_>>(),
        vec![false, false, false, false, true]
    );
    assert_eq!(queued[3].0, queued[4].0);

    let retried = outcomes(
        &local
            .raise_incidents(batch("b-1", raises))
            .await?
            .into_inner(),
    );
    let replayed: Vec<(String, u64, bool)> = retried
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(
        replayed
            .iter()
            .map(|(id, seq, _)| (id.clone(), *seq))
            .collect::<Vec<_>>(),
        queued
            .iter()
            .map(|(id, seq, _)| (id.clone(), *seq))
            .collect::<Vec<_>>(),
        "a retried batch id is answered with the first answers"
    );
    assert!(replayed.iter().all(|r| r.2), "{replayed:?}");
    let status = local
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    assert_eq!(
        (status.next_seq, status.backlog),
        (5, 4),
        "nothing new queued"
    );

    // One compact entry for the batch (the retry queued nothing, so it wrote none), and the
    // chain still verifies.
    let audit_after = agent.store.verify_audit()?;
    assert_eq!(audit_after.problem, None);
    assert_eq!(audit_after.entries, audit_before.entries + 1);

    let hub = org.hub_on(hub_addr, &["paris"], "").await?;
    let mut op = org.operator(hub.addr, "alice")?;
    eventually(
        "the batch to reach the hub",
        Duration::from_secs(30),
        || {
            let mut op = op.clone();
            async move {
                let site = clients::sites(&mut op)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|s| s.site_id == "paris")?;
                (site.acked_through == 4).then_some(())
            }
        },
    )
    .await?;
    let mut titles: Vec<String> = clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        (0..4).map(|i| format!("batched {i}")).collect::<Vec<_>>(),
        "each queued raise once at the hub"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn one_invalid_or_refused_raise_in_a_batch_fails_alone_with_its_reason() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org
        .agent(
            "paris",
            hub_addr,
            "[outbox]\nmax_entries = 3\non_full = \"refuse-new\"\n",
        )
        .await?;
    let mut local = org.local(agent.local_addr, "alice")?;
    let mut raises: Vec<_> = (0..5).map(|i| raise(&format!("r{i}"))).collect();
    raises[1].severity = 42;
    let answer = local.raise_incidents(batch("mixed", raises)).await?;
    let results = outcomes(&answer.into_inner());
    assert_eq!(results.len(), 5);
    let seqs: Vec<Option<u64>> = results
        .iter()
        .map(|r| r.as_ref().ok().map(|q| q.1))
        .collect();
    assert_eq!(
        seqs,
        vec![Some(1), None, Some(2), Some(3), None],
        "{results:?}"
    );
    let Err((code, message)) = &results[1] else {
        anyhow::bail!("the invalid raise was queued: {results:?}");
    };
    assert_eq!(*code, Code::InvalidArgument as i32);
    assert!(message.contains("severity"), "{message}");
    let Err((code, message)) = &results[4] else {
        anyhow::bail!("the raise over the cap was queued: {results:?}");
    };
    assert_eq!(*code, Code::ResourceExhausted as i32);
    assert!(message.contains("outbox is full"), "{message}");
    let status = local
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    assert_eq!(
        (status.next_seq, status.backlog, status.refused_total),
        (4, 3, 1),
        "the refused raise wrote nothing but its count"
    );
    assert_eq!(agent.store.verify_audit()?.problem, None);
    agent.stop().await?;
    Ok(())
}

#[tokio::test]
async fn batches_over_a_cap_without_an_id_or_from_a_site_certificate_are_refused()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org.agent("paris", hub_addr, "").await?;
    let mut local = org.local(agent.local_addr, "alice")?;

    let many = (0..501).map(|i| raise(&format!("r{i}"))).collect();
    let refused = local
        .raise_incidents(batch("too-many", many))
        .await
        .expect_err("over the count cap");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("501 in one batch, over the cap of 500"),
        "{}",
        refused.message()
    );

    // 9 MiB: over the byte cap, under what the listener decodes.
    let big: Vec<_> = (0..9)
        .map(|i| pb::RaiseIncidentRequest {
            description: "x".repeat(1 << 20),
            ..raise(&format!("big {i}"))
        })
        .collect();
    let refused = local
        .raise_incidents(batch("too-big", big))
        .await
        .expect_err("over the byte cap");
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.message().contains("over the cap of 8388608 bytes"),
        "{}",
        refused.message()
    );

    let refused = local
        .raise_incidents(batch("", vec![raise("no id")]))
        .await
        .expect_err("no batch id");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("batch_id"),
        "{}",
        refused.message()
    );

    let mut as_site = clients::local(agent.local_addr, &org.pki.site("lyon")?, &org.pki.domain)?;
    let refused = as_site
        .raise_incidents(batch("from-a-site", vec![raise("x")]))
        .await
        .expect_err("a site certificate must not raise at another agent");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(agent.store.outbox_len(), 0, "nothing refused was queued");
    agent.stop().await?;
    Ok(())
}

fn metric(body: &str, name: &str) -> Option<u64> {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unary_raises_share_store_units_and_a_batch_is_one_unit() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let local_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let admin_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let extra = format!("[admin]\nlisten = \"{admin_addr}\"\n");
    let config = write_agent_config(org.dir(), &org.pki, "paris", hub_addr, local_addr, &extra)?;
    let agent = Proc::spawn(
        &binary("site-agent")?,
        &["serve", "--config", &config.display().to_string()],
        org.dir().join("agent.log"),
        "paris",
    )?;
    let local = org.local(local_addr, "alice")?;
    eventually("the agent to answer", Duration::from_secs(30), || {
        let mut local = local.clone();
        async move { local.get_status(pb::GetStatusRequest {}).await.ok() }
    })
    .await?;
    let counts = || async {
        let body = eventually("metrics", Duration::from_secs(10), || async {
            socfed_tests::http_get(admin_addr, "/metrics").map(|(_, body)| body)
        })
        .await?;
        anyhow::Ok((
            metric(&body, "socfed_agent_raises_total").unwrap_or(0),
            metric(&body, "socfed_agent_raise_units_total").unwrap_or(0),
        ))
    };

    let n = 200;
    let calls = (0..n).map(|i| {
        let mut local = local.clone();
        async move { local.raise_incident(raise(&format!("unary {i}"))).await }
    });
    for answer in futures_util::future::join_all(calls).await {
        answer?;
    }
    let (raises, units) = counts().await?;
    assert_eq!(raises, n);
    assert!(
        units < n,
        "{n} concurrent raises took {units} store units: none were folded"
    );

    let answer = local
        .clone()
        .raise_incidents(batch(
            "one-unit",
            (0..100).map(|i| raise(&format!("b{i}"))).collect(),
        ))
        .await?;
    assert_eq!(answer.into_inner().results.len(), 100);
    let (raises_after, units_after) = counts().await?;
    assert_eq!(
        (raises_after - raises, units_after - units),
        (100, 1),
        "a batch of 100 is one unit"
    );

    // One request id raised 20 times at once: whichever folds they share, one is queued.
    let calls = (0..20).map(|_| {
        let mut local = local.clone();
        async move {
            local
                .raise_incident(pb::RaiseIncidentRequest {
                    request_id: "same-at-once".into(),
                    ..raise("same at once")
                })
                .await
        }
    });
    let mut answers = Vec::new();
    for answer in futures_util::future::join_all(calls).await {
        let answer = answer?.into_inner();
        answers.push((answer.local_incident_id, answer.seq, answer.replayed));
    }
    assert_eq!(answers.iter().filter(|a| !a.2).count(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| (&a.0, a.1) == (&answers[0].0, answers[0].1)),
        "{answers:?}"
    );
    let status = local
        .clone()
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    assert_eq!(status.next_seq, n + 100 + 2, "one queued for the 20");
    drop(agent);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raise_command_sends_a_file_in_batches_and_a_rerun_queues_nothing_new()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org.agent("paris", hub_addr, "").await?;
    let file = org.dir().join("reports.jsonl");
    let lines: Vec<String> = (0..7)
        .map(|i| {
            format!(
                r#"{{"title": "from file {i}", "severity": "high", "indicators": ["domain:h{i}.example"], "techniques": ["T1059"]}}"#
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n\n")?;
    let cli = std::sync::Arc::new(org.agent_cli(agent.local_addr, "alice")?);
    let path = file.display().to_string();
    // The CLI blocks: off the runtime that serves the in-process agent.
    let run = |cli: std::sync::Arc<socfed_tests::fixture::OperatorCli>,
               path: String,
               batch: &'static str| {
        tokio::task::spawn_blocking(move || {
            cli.json(&["raise", "--from-file", &path, "--batch", batch])
        })
    };
    let first = run(cli.clone(), path.clone(), "3").await??;
    assert_eq!(
        (&first["queued"], &first["replayed"], &first["failed"]),
        (&7.into(), &0.into(), &0.into()),
        "{first}"
    );
    let seqs: Vec<u64> = first["results"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| r["seq"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(seqs, (1..=7).collect::<Vec<_>>(), "{first}");
    let again = run(cli.clone(), path.clone(), "3").await??;
    assert_eq!(
        (&again["queued"], &again["replayed"]),
        (&0.into(), &7.into()),
        "{again}"
    );
    // Other batch sizes make other batch ids: each line's own request id still replays it.
    for batch in ["2", "500"] {
        let rechunked = run(cli.clone(), path.clone(), batch).await??;
        assert_eq!(
            (&rechunked["queued"], &rechunked["replayed"]),
            (&0.into(), &7.into()),
            "--batch {batch}: {rechunked}"
        );
    }
    assert_eq!(agent.store.outbox_len(), 7);
    agent.stop().await?;
    Ok(())
}
