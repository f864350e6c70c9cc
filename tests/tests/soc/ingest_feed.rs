//! `site-agent ingest` as a feed and as a first-time user meets it, through the real binary:
//! a pipe that stays open (`tail -F file | site-agent ingest -`) has its first alert taken
//! in before the pipe closes; a wrong `--format` ends with a hint at the likely one and
//! repeated reasons counted rather than listed hundreds of times; an OCSF array is counted
//! in records.

use socfed_tests::eventually;
use socfed_tests::fixture::Org;
use socfed_tests::intake::{agent_cli, all_groups, describe, ingest_pipe, start_agent};
use std::io::Write as _;
use std::time::Duration;

fn native(rule: &str) -> String {
    let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
    format!(
        r#"{{"observed_at":"{now}","product":"edr","rule_id":"{rule}","severity":"high","hosts":["ws-1"]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipe_that_stays_open_delivers_each_alert_without_waiting_for_more() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, "").await?;

    let mut child = ingest_pipe(addr, &operator, "native", &[])?;
    let mut pipe = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin pipe"))?;
    writeln!(pipe, "{}", native("FEED-1"))?;
    pipe.flush()?;
    // The pipe stays open: the alert must arrive anyway.
    let seen = eventually(
        "the first alert while the pipe is open",
        Duration::from_secs(30),
        || {
            let groups = all_groups(addr, &operator).unwrap_or_default();
            async move { (!groups.is_empty()).then_some(groups) }
        },
    )
    .await;
    let seen = match seen {
        Ok(groups) => groups,
        Err(e) => {
            drop(pipe);
            let out = child.wait_with_output()?;
            anyhow::bail!("{e}\n{}", describe(&out));
        }
    };
    assert_eq!(seen[0]["rule_id"], "FEED-1");
    assert_eq!(
        child.try_wait()?,
        None,
        "ingest is still reading the open pipe"
    );
    // A second line later is taken in as well, then the pipe closes.
    writeln!(pipe, "{}", native("FEED-2"))?;
    pipe.flush()?;
    eventually("the second alert", Duration::from_secs(30), || {
        let n = all_groups(addr, &operator).map(|g| g.len()).unwrap_or(0);
        async move { (n == 2).then_some(()) }
    })
    .await?;
    drop(pipe);
    let out = child.wait_with_output()?;
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("accepted 2, aggregated 0, duplicates 0, rejected 0, skipped 0 (of 2 lines)"),
        "{stdout}"
    );
    assert_eq!(agent.terminate()?, Some(0), "{}", agent.log_tail(50));
    Ok(())
}

/// A pretty-printed OCSF array of `n` findings of different checks.
fn ocsf_array(n: usize) -> String {
    let records: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "class_uid": 2004, "activity_id": 1, "status_id": 1, "time": 1739539623,
                "severity_id": 3,
                "metadata": {"event_code": format!("check_{i}"), "product": {"name": "Prowler"}},
                "finding_info": {"uid": format!("finding-{i}"), "title": format!("Check {i}")},
                "resources": [{"uid": format!("arn:aws:s3:::bucket-{i}")}],
            })
        })
        .collect();
    serde_json::to_string_pretty(&records).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_format_ends_with_a_hint_and_arrays_count_records() -> anyhow::Result<()> {
    let org = Org::new()?;
    let operator = org.pki.operator("tester")?;
    let (mut agent, addr) = start_agent(org.dir(), &org.pki, &operator, "").await?;
    let run = |file: &std::path::Path, format: &str| -> anyhow::Result<std::process::Output> {
        let file = file.display().to_string();
        Ok(agent_cli(addr, &operator, &["ingest", &file, "--format", format])?.output()?)
    };

    // Suricata EVE lines sent as Wazuh.
    let eve = org.dir().join("eve.json");
    let lines: Vec<String> = (0..40)
        .map(|i| {
            format!(
                r#"{{"timestamp":"2024-05-28T09:{:02}:37.034492+0000","flow_id":{i},"event_type":"alert","src_ip":"203.0.113.50","dest_ip":"192.0.2.10","alert":{{"gid":1,"signature_id":7,"signature":"S","severity":2}}}}"#,
                i % 60
            )
        })
        .collect();
    std::fs::write(&eve, lines.join("\n") + "\n")?;
    let out = run(&eve, "wazuh")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr.contains("hint: these look like Suricata EVE records: try --format suricata-eve"),
        "{stderr}"
    );
    let listed = stderr.lines().filter(|l| l.starts_with("line ")).count();
    assert!(
        listed <= 10,
        "40 identical reasons are not listed 40 times:\n{stderr}"
    );
    assert!(
        stderr.contains("more lines with the same reason"),
        "the rest are counted:\n{stderr}"
    );

    // An OCSF array: counted in records, and with a wrong format, the array hint.
    let array = org.dir().join("findings.json");
    std::fs::write(&array, ocsf_array(5))?;
    let out = run(&array, "ocsf")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stdout.contains("(of 5 records)"), "{stdout}");
    let out = run(&array, "suricata-eve")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("one JSON array") && stderr.contains("try --format ocsf"),
        "{stderr}"
    );
    assert!(
        stderr.lines().filter(|l| l.starts_with("line ")).count() <= 10,
        "{stderr}"
    );
    assert_eq!(agent.terminate()?, Some(0), "{}", agent.log_tail(50));
    Ok(())
}
