//! Incident search at the hub through the real `sirt-hub incidents search` binary: exact
//! results for indicator, technique and words, combined and paged; a merged-away incident
//! found through the one it was merged into; a TLP:RED incident neither shown nor counted for
//! a reader who may not read it; filters the hub cannot answer or that are hostile refused.
//! In-process hub over mutual TLS, escalations from two sites.

use socfed_proto::pb;
use socfed_tests::clients;
use socfed_tests::fixture::{OperatorCli, Org};

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n\
[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n\
[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n";

fn report(
    local: &str,
    title: &str,
    tlp: pb::Tlp,
    domain: &str,
    technique: &str,
) -> pb::IncidentReport {
    pb::IncidentReport {
        tlp: tlp as i32,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: domain.into(),
        }],
        techniques: vec![technique.into()],
        ..clients::report(local, title)
    }
}

/// Titles of every page of `incidents search ARGS --limit LIMIT`, in order.
fn titles(cli: &OperatorCli, args: &[&str], limit: u32) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let limit = limit.to_string();
    loop {
        let mut all = vec!["incidents", "search"];
        all.extend_from_slice(args);
        all.extend(["--limit", &limit]);
        if let Some(c) = &cursor {
            all.extend(["--cursor", c]);
        }
        let page = cli.json(&all)?;
        for i in page["incidents"].as_array().into_iter().flatten() {
            out.push(i["title"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(out),
        }
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_are_found_by_filter_through_merges_and_never_past_tlp_red() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let reports = [
        (
            "paris",
            report(
                "p-1",
                "Beacon to C2 server",
                pb::Tlp::Amber,
                "c2-a.example",
                "T1071",
            ),
        ),
        (
            "lyon",
            report(
                "l-1",
                "Beacon from finance laptop",
                pb::Tlp::Green,
                "c2-b.example",
                "T1071.001",
            ),
        ),
        (
            "paris",
            report(
                "p-2",
                "Extortion beacon",
                pb::Tlp::Red,
                "leak.example",
                "T1071",
            ),
        ),
        (
            "lyon",
            report(
                "l-2",
                "Phishing wave",
                pb::Tlp::Green,
                "phish.example",
                "T1566",
            ),
        ),
    ];
    for (site, r) in reports {
        org.escalate_once(hub.addr, site, r).await?;
        // Incident ids are made as each arrives: the order of "newest first".
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (carl, tom, ines) = (
        org.hub_cli(hub.addr, "carl")?,
        org.hub_cli(hub.addr, "tom")?,
        org.hub_cli(hub.addr, "ines")?,
    );
    let beacon = ["--text", "BEACON"];
    assert_eq!(
        titles(&carl, &beacon, 50)?,
        owned(&[
            "Extortion beacon",
            "Beacon from finance laptop",
            "Beacon to C2 server"
        ])
    );
    // The Tier 1 reader never sees the RED one, on any page size.
    for limit in 1..=3 {
        assert_eq!(
            titles(&tom, &beacon, limit)?,
            owned(&["Beacon from finance laptop", "Beacon to C2 server"]),
            "limit {limit}"
        );
    }
    assert_eq!(
        titles(&tom, &["--indicator", "domain:leak.example"], 50)?,
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&carl, &["--technique", "t1071"], 50)?,
        owned(&["Extortion beacon", "Beacon to C2 server"])
    );
    assert_eq!(
        titles(
            &carl,
            &["--technique", "T1071", "--text", "c2", "server"],
            50
        )?,
        owned(&["Beacon to C2 server"])
    );
    assert_eq!(
        titles(&carl, &["--indicator", "domain:C2-B.example"], 50)?,
        owned(&["Beacon from finance laptop"])
    );

    // Merged: the absorbed incident is found through the survivor only.
    let ids = |cli: &OperatorCli, text: &str| -> anyhow::Result<Vec<String>> {
        let page = cli.json(&["incidents", "search", "--text", text])?;
        Ok(page["incidents"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
            .collect())
    };
    let survivor = ids(&carl, "server")?.concat();
    let absorbed = ids(&carl, "finance")?.concat();
    ines.ok(&[
        "incidents",
        "merge",
        &survivor,
        &absorbed,
        "--reason",
        "same C2",
    ])?;
    assert_eq!(
        titles(&carl, &["--indicator", "domain:c2-b.example"], 50)?,
        owned(&["Beacon to C2 server"])
    );
    assert_eq!(titles(&tom, &beacon, 50)?, owned(&["Beacon to C2 server"]));

    // Refused: hosts and users (hub incidents carry none), no filter, hostile values.
    let refused = carl.fails(&["incidents", "search", "--host", "web-1"])?;
    assert!(refused.contains("no hosts or users"), "{refused}");
    for bad in [
        vec!["incidents", "search"],
        vec!["incidents", "search", "--technique", "T1' OR 1=1"],
        vec!["incidents", "search", "--text", "\u{1b}[;"],
        vec!["incidents", "search", "--text", "beacon", "--cursor", "c00"],
    ] {
        carl.fails(&bad)?;
    }
    // Controls are dropped from a word as at indexing: what is left matches nothing here.
    assert!(titles(&carl, &["--text", "\u{1b}[2J"], 50)?.is_empty());
    hub.stop().await?;
    Ok(())
}
