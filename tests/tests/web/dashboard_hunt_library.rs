//! The hunt library on the workbench's hunts page, through plain form posts to a real
//! in-process hub: the IR lead adds a library hunt (its text escaped on the page), sees it
//! run, disables it and runs it now; a Tier 1 analyst sees the library without its forms; a
//! form without the session's token changes nothing.

use socfed_tests::web::{Browser, hidden};
use socfed_tests::{eventually, fixture::Org};
use std::time::Duration;

const EXTRA: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";

/// The library's rows on the hunts page: (id, row).
fn library_rows(page: &str) -> Vec<(String, String)> {
    page.split("<tr data-library=\"")
        .skip(1)
        .filter_map(|rest| {
            let (id, row) = rest.split_once('"')?;
            Some((id.to_string(), row.split("</tr>").next()?.to_string()))
        })
        .collect()
}

async fn library_token(b: &Browser) -> anyhow::Result<String> {
    let (status, page) = b.get("/hunts").await?;
    anyhow::ensure!(status == 200, "{status}: {page}");
    let at = page
        .find("<h2>Hunt library</h2>")
        .ok_or_else(|| anyhow::anyhow!("no library section: {page}"))?;
    hidden(&page[at..], "csrf").ok_or_else(|| anyhow::anyhow!("no library forms: {page}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hunt_library_is_added_run_disabled_and_run_now_from_the_hunts_page()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], EXTRA).await?;
    let ines = Browser::open(&org.pki, &hub, "ines").await?;
    let csrf = library_token(&ines).await?;

    // Without the session's token: refused, nothing added.
    let (status, _, _) = ines
        .post_to(
            "/hunts/library",
            "name=x&iocs=domain%3Aevil.example&severity=high&every_min=60",
            &[],
        )
        .await?;
    assert_eq!(status, 403);
    let (_, page) = ines.get("/hunts").await?;
    assert!(library_rows(&page).is_empty(), "{page}");

    let fields = format!(
        "csrf={csrf}&name=%3Cscript%3EC2%3C%2Fscript%3E&iocs=domain%3Aevil.example%0D%0Aip%3A203.0.113.7\
         &techniques=T1071%2C+T1105&severity=high&tlp=amber&every_min=60&lookback_h=24"
    );
    let (status, location, page) = ines.post_to("/hunts/library", &fields, &[]).await?;
    assert_eq!((status, location.as_str()), (303, "/hunts"), "{page}");
    // The scheduler runs it at once.
    let row = eventually(
        "the library hunt's first run",
        Duration::from_secs(20),
        || async {
            let (_, page) = ines.get("/hunts").await.ok()?;
            let rows = library_rows(&page);
            let (id, row) = rows.first()?.clone();
            row.contains("<td>1 (last ").then_some((id, row))
        },
    )
    .await?;
    let (id, row) = row;
    assert!(
        row.contains("&lt;script&gt;C2&lt;/script&gt; (v1)"),
        "escaped: {row}"
    );
    assert!(row.contains(&format!("hunt:{id}")), "{row}");
    assert!(row.contains("lyon: 0; paris: 0"), "hits per site: {row}");
    assert!(!row.contains("<script>"), "{row}");

    let (status, _, page) = ines
        .post_to(
            &format!("/hunts/library/{id}/disable"),
            &format!("csrf={csrf}"),
            &[],
        )
        .await?;
    assert_eq!(status, 303, "{page}");
    let (status, _, page) = ines
        .post_to(
            &format!("/hunts/library/{id}/run"),
            &format!("csrf={csrf}"),
            &[],
        )
        .await?;
    assert_eq!(status, 303, "{page}");
    let (_, page) = ines.get("/hunts").await?;
    let (_, row) = library_rows(&page).into_iter().next().unwrap_or_default();
    assert!(row.contains("<td>disabled</td>"), "{row}");
    assert!(row.contains("<td>2 (last "), "run now: {row}");
    assert!(row.contains("Enable"), "{row}");

    // A STIX bundle pasted into the import form becomes a second library hunt.
    let bundle = r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Imported C2","pattern":"[domain-name:value = 'c2.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}]}"#;
    let encoded: String = bundle
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    let fields = format!(
        "csrf={csrf}&format=stix&data={encoded}&name=&severity=high&every_min=30&lookback_h="
    );
    let (status, _, page) = ines.post_to("/hunts/library/import", &fields, &[]).await?;
    assert_eq!(status, 303, "{page}");
    let (_, page) = ines.get("/hunts").await?;
    let rows = library_rows(&page);
    assert_eq!(rows.len(), 2, "{page}");
    assert!(
        rows.iter()
            .any(|(_, row)| row.contains("Imported C2 (v1)") && row.contains("domain:c2.example")),
        "{rows:?}"
    );

    // A Tier 1 analyst reads the library but is offered none of its forms.
    let tom = Browser::open(&org.pki, &hub, "tom").await?;
    let (_, page) = tom.get("/hunts").await?;
    assert_eq!(library_rows(&page).len(), 2);
    assert!(
        !page.contains("Add and run")
            && !page.contains("Run now")
            && !page.contains("Import and run"),
        "{page}"
    );
    Ok(())
}
