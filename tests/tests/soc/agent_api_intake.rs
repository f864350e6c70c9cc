//! Alert intake over the site agent's HTTP API: JSON lines, JSON arrays (Logstash
//! `json_batch`) and gzip bodies with the CLI's per-record errors, a gzip bomb refused, the
//! genuine vendor samples with exact counts, retries counted as duplicates, and the OpenAPI
//! document naming every route.

use socfed_tests::agent_api::{
    self, NDJSON, code, counts, get, group_count, intake_agent, native, post,
};
use socfed_tests::fixture::Org;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_bombs_and_bad_lines() -> anyhow::Result<()> {
    let org = Org::new()?;
    let (agent, api, token) = intake_agent(&org).await?;
    let http = agent_api::client(&org.pki, None)?;

    // A malformed line is reported with its number; the rest is taken in.
    let body = format!(
        "{}\nnot json at all\n{}\n\n",
        native("b1", "r1", 1),
        native("b2", "r2", 2)
    );
    let (status, answer) = post(
        &http,
        &api,
        Some(&token),
        "native",
        NDJSON,
        false,
        body.clone().into(),
    )
    .await?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(counts(&answer), [4, 2, 0, 0, 1, 1], "{answer}");
    assert_eq!(answer["unit"], "lines");
    assert_eq!(answer["rejections"][0]["line_no"], 2, "{answer}");
    assert!(
        answer["rejections"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .len()
            > 5
    );
    // The same body again, gzip-compressed: all duplicates, nothing stored twice.
    let (status, again) = post(
        &http,
        &api,
        Some(&token),
        "native",
        NDJSON,
        true,
        body.into(),
    )
    .await?;
    assert_eq!(status, 200, "{again}");
    assert_eq!(counts(&again), [4, 0, 0, 2, 1, 1], "{again}");
    assert_eq!(group_count(&http, &api, &token).await?, 2);

    // Fluent Bit's json_lines add a `date` key to each record: the vendor formats ignore
    // it; the native format refuses unknown fields, naming it (the README's Fluent Bit
    // snippet turns the key off with `json_date_key false`).
    let eve = r#"{"date":1700000000.25,"timestamp":"2024-05-28T10:00:00.000000+0000","flow_id":7,"event_type":"alert","src_ip":"203.0.113.50","src_port":51514,"dest_ip":"192.0.2.10","dest_port":80,"proto":"TCP","tx_id":0,"alert":{"action":"allowed","gid":1,"signature_id":9,"rev":1,"signature":"ET TEST","category":"","severity":2}}"#;
    let (status, answer) = post(
        &http,
        &api,
        Some(&token),
        "suricata-eve",
        NDJSON,
        true,
        format!("{eve}\n").into(),
    )
    .await?;
    assert_eq!(
        (status, counts(&answer)),
        (200, [1, 1, 0, 0, 0, 0]),
        "{answer}"
    );
    let dated = format!("{{\"date\":1700000000.25,{}\n", &native("b3", "r3", 3)[1..]);
    let (status, answer) = post(
        &http,
        &api,
        Some(&token),
        "native",
        NDJSON,
        true,
        dated.into(),
    )
    .await?;
    assert_eq!(
        (status, counts(&answer)),
        (200, [1, 0, 0, 0, 1, 0]),
        "{answer}"
    );
    assert!(
        answer["rejections"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("date:")
    );

    // A gzip bomb: 64 MiB of newlines in about 64 KiB, refused at the cap, nothing stored.
    let (status, answer) = post(
        &http,
        &api,
        Some(&token),
        "native",
        NDJSON,
        true,
        vec![b'\n'; 64 << 20],
    )
    .await?;
    assert_eq!((status, code(&answer)), (413, "too_large"), "{answer}");
    // Too many bytes as sent, an unknown encoding, an unknown format.
    let (status, answer) = post(
        &http,
        &api,
        Some(&token),
        "native",
        NDJSON,
        false,
        vec![b'\n'; 9 << 20],
    )
    .await?;
    assert_eq!((status, code(&answer)), (413, "too_large"), "{answer}");
    let response = http
        .post(api.url("/alerts?format=native"))
        .bearer_auth(&token)
        .header("content-type", NDJSON)
        .header("content-encoding", "br")
        .body("x")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 400);
    let (status, answer) = post(
        &http,
        &api,
        Some(&token),
        "syslog",
        NDJSON,
        false,
        b"{}".to_vec(),
    )
    .await?;
    assert_eq!(
        (status, code(&answer)),
        (400, "invalid_argument"),
        "{answer}"
    );
    assert_eq!(group_count(&http, &api, &token).await?, 3);

    // A sensor's certificate posts alerts (its role allows intake); an analyst's may not.
    let cli = org.agent_cli(agent.local_addr, "tester")?;
    cli.ok(&["roster", "add", "ids-1", "--role", "sensor"])?;
    cli.ok(&["roster", "add", "ann", "--role", "tier1"])?;
    let line = format!("{}\n", native("b4", "r4", 4));
    let sensor = agent_api::client(&org.pki, Some("ids-1"))?;
    let (status, answer) = post(
        &sensor,
        &api,
        None,
        "native",
        NDJSON,
        false,
        line.clone().into(),
    )
    .await?;
    assert_eq!(
        (status, counts(&answer)),
        (200, [1, 1, 0, 0, 0, 0]),
        "{answer}"
    );
    let ann = agent_api::client(&org.pki, Some("ann"))?;
    let (status, answer) = post(&ann, &api, None, "native", NDJSON, false, line.into()).await?;
    assert_eq!(
        (status, code(&answer)),
        (403, "permission_denied"),
        "{answer}"
    );
    // A site's tokens take no `respond` scope (the hub's).
    let refused = cli.fails(&[
        "tokens",
        "create",
        "x",
        "--scope",
        "respond",
        "--expires",
        "1d",
    ])?;
    assert!(refused.contains("respond is the hub's"), "{refused}");

    // The OpenAPI document names every route.
    let (status, doc) = get(&http, &api, None, "/openapi.json").await?;
    assert_eq!(status, 200);
    for (method, path) in site_agent::api::ROUTES {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    api.stop().await?;
    agent.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_genuine_samples_over_http_with_exact_counts_and_retries_as_duplicates()
-> anyhow::Result<()> {
    let Some(dir) = socfed_tests::intake::samples_dir() else {
        return Ok(());
    };
    let org = Org::new()?;
    let (agent, api, token) = intake_agent(&org).await?;
    let http = agent_api::client(&org.pki, None)?;
    // (file, format, alert records, of which repeats of an earlier record); the other
    // records (lines, or an OCSF array's elements) are skipped.
    for (name, format, alerts, repeats) in [
        ("suricata-eve-crowdsec-hub.json", "suricata-eve", 4, 0),
        ("suricata-eve-ldap-alerts.json", "suricata-eve", 4, 0),
        ("wazuh-alerts-logstash-wrapped.json", "wazuh", 6, 1),
        ("ocsf-detection-finding-prowler-aws.json", "ocsf", 5, 0),
    ] {
        let body = std::fs::read(dir.join(name))?;
        let records = if format == "ocsf" {
            5
        } else {
            String::from_utf8_lossy(&body).lines().count() as u64
        };
        let skipped = records - alerts;
        let content_type = if format == "ocsf" {
            "application/json"
        } else {
            NDJSON
        };
        let before = group_count(&http, &api, &token).await?;
        let (status, first) = post(
            &http,
            &api,
            Some(&token),
            format,
            content_type,
            true,
            body.clone(),
        )
        .await?;
        assert_eq!(status, 200, "{name}: {first}");
        let [lines, accepted, aggregated, duplicates, rejected, skip] = counts(&first);
        assert_eq!(
            (lines, accepted + aggregated, duplicates, rejected, skip),
            (records, alerts - repeats, repeats, 0, skipped),
            "{name}: {first}"
        );
        let stored = group_count(&http, &api, &token).await?;
        assert_eq!(stored - before, accepted as usize, "{name}");
        // A shipper's retry: every alert a duplicate, nothing stored twice.
        let (status, again) =
            post(&http, &api, Some(&token), format, content_type, false, body).await?;
        assert_eq!(status, 200, "{name}: {again}");
        let [_, accepted, aggregated, duplicates, _, _] = counts(&again);
        assert_eq!(
            (accepted, aggregated, duplicates),
            (0, 0, alerts),
            "{name}: {again}"
        );
        assert_eq!(group_count(&http, &api, &token).await?, stored, "{name}");
    }
    // Logstash's json_batch: the Wazuh lines as one JSON array, the same events (duplicates).
    let text = std::fs::read_to_string(dir.join("wazuh-alerts-logstash-wrapped.json"))?;
    let array = format!("[{}]", text.lines().collect::<Vec<_>>().join(","));
    let (status, batch) = post(
        &http,
        &api,
        Some(&token),
        "wazuh",
        "application/json",
        false,
        array.into(),
    )
    .await?;
    assert_eq!(status, 200, "{batch}");
    assert_eq!(batch["unit"], "records");
    let [records, accepted, aggregated, duplicates, rejected, _] = counts(&batch);
    assert_eq!(
        (records, accepted + aggregated, duplicates, rejected),
        (6, 0, 6, 0),
        "{batch}"
    );
    api.stop().await?;
    agent.stop().await?;
    Ok(())
}
