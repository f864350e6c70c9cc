//! Large values and sled's unsynced blob files (docs/RELIABILITY.md, "Large values"). sled
//! 0.34 writes a log message over a quarter of its segment to its own file under
//! `DATA_DIR/blobs/` and never syncs it. The largest report a site may escalate, from two
//! sites merged into one hub incident, must leave no file there, at the agents or at the hub;
//! a report over the limit is refused at the edge with a clear error and nothing queued, and an
//! escalation over the hub's message limit ends only that stream with RESOURCE_EXHAUSTED,
//! stored nowhere. Six such reports from each site merged into one incident grow it past its
//! record size: it sheds indicators (counted, and said on its timeline) and stays out of blob
//! files too.

use socfed_proto::pb;
use socfed_proto::vocab::MAX_REPORT_BYTES;
use socfed_tests::{clients, eventually, fixture::Org};
use std::path::Path;
use std::time::Duration;
use tonic::Code;

/// A report of unique indicators beside a few common to every report, with a long description, trimmed until it just fits the report limit (the agent adds the local
/// incident id and owner, hence the margin).
fn largest_legal(site: &str, n: usize) -> pb::RaiseIncidentRequest {
    let mut request = pb::RaiseIncidentRequest {
        title: format!("{site} large report {n} {}", "t".repeat(400)),
        description: "d".repeat(12 * 1024),
        severity: pb::Severity::High as i32,
        rule_id: "ET-LARGE-1".into(),
        ..Default::default()
    };
    // Shared by every report: they correlate into one hub incident.
    for i in 0..8 {
        request.indicators.push(pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: format!("c2-{i}.campaign.example"),
        });
    }
    for i in 0..512 {
        request.indicators.push(pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: format!("host-{site}-{n}-{i:04}.campaign.example"),
        });
    }
    while encoded(&request) > MAX_REPORT_BYTES - 512 {
        request.indicators.pop();
    }
    request
}

fn encoded(request: &pb::RaiseIncidentRequest) -> usize {
    use prost::Message;
    request.encoded_len()
}

/// The largest value in any tree of the store in `dir`, with its tree.
fn largest_value(dir: &Path) -> anyhow::Result<(usize, String)> {
    let db = socfed_runtime::store_files::sled_config(dir)?.open()?;
    let mut largest = (0, String::new());
    for name in db.tree_names() {
        let tree = db.open_tree(&name)?;
        for entry in tree.iter() {
            let (_, value) = entry?;
            if value.len() > largest.0 {
                largest = (value.len(), String::from_utf8_lossy(&name).into_owned());
            }
        }
    }
    Ok(largest)
}

fn blobs(dir: &Path) -> anyhow::Result<Vec<String>> {
    match std::fs::read_dir(dir.join("blobs")) {
        Ok(listing) => Ok(listing
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_reports_merged_leave_no_blob_file_and_larger_ones_are_refused_at_the_edge()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], "").await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    let operator = org.pki.operator("tester")?;

    let rounds: usize = 6;
    let mut sent = std::collections::BTreeSet::new();
    for (site, addr) in [("paris", paris.local_addr), ("lyon", lyon.local_addr)] {
        let mut local = clients::local(addr, &operator, &org.pki.domain)?;
        for n in 0..rounds {
            let request = largest_legal(site, n);
            sent.extend(request.indicators.iter().map(|i| i.value.clone()));
            local.raise_incident(request).await?;
        }
        // One byte of indicator over the limit: refused, with the limit named.
        let mut over = largest_legal(site, 99);
        while encoded(&over) <= MAX_REPORT_BYTES + 64 {
            over.description.push_str(&"x".repeat(256));
        }
        let refused = local
            .raise_incident(over)
            .await
            .expect_err("over the limit");
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert!(
            refused.message().contains(&MAX_REPORT_BYTES.to_string()),
            "{}",
            refused.message()
        );
    }
    // Every report shares the rule: one hub incident with both sites' sightings, every
    // indicator listed or counted as dropped at the record's size limit.
    let mut op = clients::operator(hub.addr, &operator, &org.pki.domain)?;
    let total = sent.len() as u64;
    let merged = eventually(
        "one incident accounting for every report",
        Duration::from_secs(60),
        || {
            let mut op = op.clone();
            async move {
                let all = clients::all_incidents(&mut op).await.ok()?;
                let merged = all.into_iter().find(|i| i.sightings.len() == 2)?;
                let accounted = merged.indicators.len() as u64 + merged.indicators_elided;
                tracing::info!(accounted, total, "merged so far");
                (accounted >= total).then_some(merged)
            }
        },
    )
    .await?;
    assert!(
        merged.indicators_elided > 0,
        "the incident outgrew its record"
    );
    assert!(
        merged
            .timeline
            .iter()
            .any(|t| t.text.contains("size limit") && t.text.contains("indicators")),
        "the timeline says what was dropped"
    );

    // A raw site stream: an escalation bigger than the hub accepts ends only that stream.
    let channel = org.site_channel(hub.addr, "paris")?;
    let (mut stream, _) =
        clients::RawStream::open_welcomed(channel, clients::hello("paris", ulid::Ulid::new(), 1))
            .await?;
    let mut huge = clients::report("huge-1", "too big to store");
    huge.description = "z".repeat(sirt_hub::config::MAX_MESSAGE_BYTES);
    stream.send(1, huge).await?;
    let ended = stream.next_ack().await.expect_err("the stream ends");
    assert_eq!(ended.code(), Code::ResourceExhausted, "{ended:?}");
    let sites = clients::sites(&mut op).await?;
    assert!(
        sites.iter().all(|s| s.rejected == 0),
        "nothing stored for it"
    );

    lyon.stop().await?;
    paris.stop().await?;
    hub.stop().await?;
    for dir in ["hub-data", "paris-data", "lyon-data"] {
        assert_eq!(
            blobs(&org.dir().join(dir))?,
            Vec::<String>::new(),
            "{dir}: a value went to an unsynced blob file"
        );
        let (size, tree) = largest_value(&org.dir().join(dir))?;
        assert!(
            size <= sirt_hub::incident::size::MAX_RECORD_BYTES,
            "{dir}: a value of {size} bytes in {tree}"
        );
    }
    Ok(())
}
