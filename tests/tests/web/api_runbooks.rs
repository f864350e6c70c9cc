//! `/api/v1/runbooks`: the hub's runbooks over HTTPS as the CLI reads them, for any operator
//! of the organisation (read scope); an unknown id is a 404 naming the listing.

use socfed_tests::{api, fixture::Org};

const EXTRA: &str =
    "[[operators]]\nname = \"erin\"\nrole = \"engineer\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbooks_are_read_over_the_api_as_the_cli_writes_them() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], EXTRA).await?;
    let file = org.dir().join("rb.md");
    std::fs::write(&file, "# Ransomware\n- [ ] Isolate\n")?;
    let added = org.hub_cli(hub.addr, "erin")?.json(&[
        "runbooks",
        "add",
        &file.display().to_string(),
        "--technique",
        "T1486",
        "--min-severity",
        "high",
    ])?;
    let id = added["id"].as_str().unwrap_or_default().to_string();
    let base = api::base(&hub)?;
    let zoe = api::with_certificate(&org.pki, "zoe")?;
    let list: serde_json::Value = zoe
        .get(format!("{base}/runbooks"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(list["items"][0]["id"], id.as_str(), "{list}");
    assert_eq!(list["items"][0]["min_severity"], "high");
    let one = zoe.get(format!("{base}/runbooks/{id}")).send().await?;
    assert_eq!(one.status(), 200);
    let one: serde_json::Value = one.json().await?;
    assert_eq!(one["title"], "Ransomware");
    assert_eq!(one["history"].as_array().map(Vec::len), Some(1));
    let missing = zoe
        .get(format!("{base}/runbooks/01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        .send()
        .await?;
    assert_eq!(missing.status(), 404);
    Ok(())
}
