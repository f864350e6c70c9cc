//! Re-ingest and out-of-order alerts through the real `site-agent ingest` binary: a source
//! event counts once however often its file is submitted (Suricata EVE by flow, transaction,
//! rule and time), and aggregation gives the same groups whatever order the alerts arrive in
//! (an alert older than its group's start folds into that group; first and last seen are the
//! minimum and maximum).

use serde_json::Value;
use socfed_tests::fixture::Org;
use socfed_tests::intake::{all_groups, describe, ingest_file, samples_dir, start_agent};
use std::path::Path;

/// One EVE alert of `sid` from 203.0.113.50 to 192.0.2.10 on flow `flow`, at `time`.
fn eve(flow: u64, time: &str, sid: u32) -> String {
    format!(
        r#"{{"timestamp":"{time}","flow_id":{flow},"event_type":"alert","src_ip":"203.0.113.50","src_port":51514,"dest_ip":"192.0.2.10","dest_port":80,"proto":"TCP","tx_id":0,"alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":1,"signature":"ET TEST rule {sid}","category":"","severity":2}}}}"#
    )
}

/// Six alerts of two rules over two days, in time order, and one flow record. With the
/// default 10-minute window: rule 1 on day one (09:52, 10:00, 10:08: gaps under ten minutes)
/// is one group, rule 1 on day two another, rule 2 a third.
fn in_order() -> Vec<String> {
    vec![
        eve(4, "2024-05-28T09:52:00.000000+0000", 1),
        eve(1, "2024-05-28T10:00:00.000000+0000", 1),
        eve(2, "2024-05-28T10:08:00.000000+0000", 1),
        eve(6, "2024-05-28T11:00:00.000000+0000", 2),
        r#"{"timestamp":"2024-05-28T11:00:01.000000+0000","flow_id":6,"event_type":"flow","src_ip":"203.0.113.50","dest_ip":"192.0.2.10"}"#.to_string(),
        eve(3, "2024-05-29T10:00:00.000000+0000", 1),
        eve(5, "2024-05-29T10:03:00.000000+0000", 1),
    ]
}

/// The same records, day two first and day one shuffled: the 09:52 alert comes last, when
/// its group starts at 10:00 and was last seen at 10:08 (sixteen minutes later).
fn out_of_order() -> Vec<String> {
    let l = in_order();
    vec![
        l[5].clone(),
        l[1].clone(),
        l[3].clone(),
        l[6].clone(),
        l[4].clone(),
        l[2].clone(),
        l[0].clone(),
    ]
}

fn write(dir: &Path, name: &str, lines: &[String]) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n")?;
    Ok(path)
}

/// What a group is, independent of its random id: (rule, count, first seen, last seen).
fn shape(groups: &[Value]) -> Vec<(String, u64, String, String)> {
    let mut out: Vec<_> = groups
        .iter()
        .map(|g| {
            (
                g["rule_id"].as_str().unwrap_or_default().to_string(),
                g["count"].as_u64().unwrap_or_default(),
                g["first_seen"].as_str().unwrap_or_default().to_string(),
                g["last_seen"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn summary(out: &std::process::Output) -> anyhow::Result<Value> {
    anyhow::ensure!(out.status.success(), "ingest failed\n{}", describe(out));
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Ingests `file` three times into one agent: the first run's groups must come back
/// unchanged (ids, counts, times, queue) after the second and third, and those runs report
/// every alert as a duplicate.
async fn three_times_changes_nothing(
    file: &Path,
    format: &str,
) -> anyhow::Result<(Vec<Value>, Value)> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, "").await?;
    let first = summary(&ingest_file(addr, &operator, file, format)?)?;
    let groups = all_groups(addr, &operator)?;
    // Every alert record, a repeat within the file included, is a duplicate the next time.
    let alerts = ["accepted", "aggregated", "duplicates"]
        .iter()
        .map(|k| first[*k].as_u64().unwrap_or(0))
        .sum::<u64>();
    for run in 2..=3 {
        let again = summary(&ingest_file(addr, &operator, file, format)?)?;
        assert_eq!(
            (
                again["accepted"].as_u64(),
                again["aggregated"].as_u64(),
                again["duplicates"].as_u64()
            ),
            (Some(0), Some(0), Some(alerts)),
            "run {run} of {}: every alert is a duplicate\n{again}",
            file.display()
        );
        assert_eq!(
            all_groups(addr, &operator)?,
            groups,
            "run {run} of {}: the groups are exactly as after the first run",
            file.display()
        );
    }
    assert_eq!(agent.terminate()?, Some(0), "{}", agent.log_tail(50));
    Ok((groups, first))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingesting_the_same_file_three_times_changes_nothing() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let tmp = tempfile::tempdir()?;
    let file = write(tmp.path(), "out-of-order.eve.json", &out_of_order())?;
    let (groups, first) = three_times_changes_nothing(&file, "suricata-eve").await?;
    assert_eq!(
        (
            first["accepted"].as_u64(),
            first["aggregated"].as_u64(),
            first["skipped"].as_u64()
        ),
        (Some(3), Some(3), Some(1)),
        "{first}"
    );
    assert_eq!(groups.len(), 3, "{groups:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_alerts_make_the_same_groups_as_in_order() -> anyhow::Result<()> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let mut shapes = Vec::new();
    for (name, lines) in [("in-order", in_order()), ("out-of-order", out_of_order())] {
        let dir = org.dir().join(name);
        std::fs::create_dir_all(&dir)?;
        let file = write(&dir, "alerts.eve.json", &lines)?;
        let (mut agent, addr) = start_agent(&dir, &org.pki, &operator, "").await?;
        let out = summary(&ingest_file(addr, &operator, &file, "suricata-eve")?)?;
        assert_eq!(
            (out["accepted"].as_u64(), out["aggregated"].as_u64()),
            (Some(3), Some(3)),
            "{name}: {out}"
        );
        shapes.push(shape(&all_groups(addr, &operator)?));
        assert_eq!(agent.terminate()?, Some(0), "{}", agent.log_tail(50));
    }
    assert_eq!(
        shapes[0],
        vec![
            (
                "1:1".to_string(),
                2,
                "2024-05-29T10:00:00Z".to_string(),
                "2024-05-29T10:03:00Z".to_string()
            ),
            (
                "1:1".to_string(),
                3,
                "2024-05-28T09:52:00Z".to_string(),
                "2024-05-28T10:08:00Z".to_string()
            ),
            (
                "1:2".to_string(),
                1,
                "2024-05-28T11:00:00Z".to_string(),
                "2024-05-28T11:00:00Z".to_string()
            ),
        ]
    );
    assert_eq!(shapes[1], shapes[0], "out of order: the same groups");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_genuine_samples_ingested_three_times_change_nothing() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let Some(dir) = samples_dir() else {
        return Ok(());
    };
    // (file, format, alert records, of which repeats of an earlier record)
    for (name, format, alerts, repeats) in [
        ("suricata-eve-crowdsec-hub.json", "suricata-eve", 4, 0),
        ("suricata-eve-ldap-alerts.json", "suricata-eve", 4, 0),
        ("wazuh-alerts-logstash-wrapped.json", "wazuh", 6, 1),
        ("ocsf-detection-finding-prowler-aws.json", "ocsf", 5, 0),
    ] {
        let (groups, first) = three_times_changes_nothing(&dir.join(name), format).await?;
        let got = |k: &str| first[k].as_u64().unwrap_or(0);
        assert_eq!(
            (got("accepted") + got("aggregated"), got("duplicates")),
            (alerts - repeats, repeats),
            "{name}: {first}"
        );
        assert!(!groups.is_empty(), "{name}");
        if format == "ocsf" {
            // Each Prowler finding is about its resource: a host or (the account root) a user.
            for g in &groups {
                let entities = &g["entities"];
                let about = entities["hosts"].as_array().map_or(0, Vec::len)
                    + entities["users"].as_array().map_or(0, Vec::len);
                assert!(about > 0, "{name}: {g}");
            }
        }
    }
    Ok(())
}
