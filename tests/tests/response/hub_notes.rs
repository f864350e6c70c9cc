//! Notes on a hub incident through the real `sirt-hub` binary against an in-process hub and
//! agent over mutual TLS: written by the roles of the matrix (a tier 1 analyst refused, named),
//! the author from the certificate, listed in time order, a TLP:RED note's text only for the
//! CISO, the incident's IR lead and its members (others see that it exists), text that would
//! drive a terminal refused, each note one more entry in the audit chain.

use serde_json::Value;
use socfed_tests::fixture::Org;

const OPERATORS: &str = "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n\
[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n\
[[operators]]\nname = \"tom\"\nrole = \"tier1\"\n\
[[operators]]\nname = \"sam\"\nrole = \"tier3\"\n\
[dashboard]\nlisten = \"127.0.0.1:0\"\n";

fn entries(cli: &socfed_tests::fixture::OperatorCli) -> anyhow::Result<u64> {
    let report = cli.json(&["audit", "verify"])?;
    report["entries"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no entries: {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_notes_follow_the_matrix_and_the_tlp_red_read_rule() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], OPERATORS).await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let incident = org
        .raise_at_site(paris.local_addr, hub.addr, "exfiltration")
        .await?;
    let [ines, carl, tom, sam] = ["ines", "carl", "tom", "sam"].map(|n| org.hub_cli(hub.addr, n));
    let (ines, carl, tom, sam) = (ines?, carl?, tom?, sam?);
    carl.ok(&["incidents", "assign", &incident, "ines"])?;

    // A tier 3 analyst writes; a tier 1 analyst is refused with who may.
    let before = entries(&carl)?;
    let hostile = "<script>x</script> beacon every 60s to c2.bad.example";
    let added = sam.json(&["incidents", "note", &incident, "--text", hostile])?;
    assert_eq!(added["author"], "sam", "{added}");
    assert_eq!(entries(&carl)?, before + 1, "the note is audited");
    let refused = tom.fails(&["incidents", "note", &incident, "--text", "x"])?;
    assert!(
        refused.contains("writing a note") && refused.contains("tier 3"),
        "{refused}"
    );
    let controls = sam.fails(&["incidents", "note", &incident, "--text", "a\u{1b}]0;x\u{7}"])?;
    assert!(controls.contains("control characters"), "{controls}");
    assert!(
        sam.fails(&[
            "incidents",
            "note",
            "01J00000000000000000000000",
            "--text",
            "x"
        ])?
        .contains("no incident")
    );

    // The IR lead's TLP:RED note: she and the CISO read it, sam and tom see it redacted.
    let secret = "legal hold: the finance share";
    ines.ok(&[
        "incidents",
        "note",
        &incident,
        "--text",
        secret,
        "--tlp",
        "red",
    ])?;
    for (cli, reads) in [(&ines, true), (&carl, true), (&sam, false), (&tom, false)] {
        let notes: Value = cli.json(&["incidents", "notes", &incident])?;
        let notes = notes.as_array().cloned().unwrap_or_default();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert_eq!(notes[0]["text"], hostile);
        assert_eq!(
            (notes[1]["author"].as_str(), notes[1]["tlp"].as_str()),
            (Some("ines"), Some("red"))
        );
        assert_eq!(notes[1]["text"] == secret, reads, "{notes:?}");
        assert_eq!(notes[1]["redacted"].is_string(), !reads, "{notes:?}");
    }
    // The incident search finds the incident by a note's words, but never by the words of a
    // note marked stricter than the incident (tom would learn what the RED note says).
    let found =
        |cli: &socfed_tests::fixture::OperatorCli, word: &str| -> anyhow::Result<Vec<String>> {
            let page = cli.json(&["incidents", "search", "--text", word])?;
            Ok(page["incidents"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
                .collect())
        };
    assert_eq!(
        found(&tom, "beacon")?,
        vec![incident.clone()],
        "a note's word"
    );
    assert!(found(&tom, "finance")?.is_empty(), "the RED note's word");
    assert!(
        found(&carl, "finance")?.is_empty(),
        "not indexed for anyone"
    );
    // A member the lead adds reads it.
    ines.ok(&["incidents", "members", "add", &incident, "sam"])?;
    let notes: Value = sam.json(&["incidents", "notes", &incident])?;
    assert_eq!(notes[1]["text"], secret, "{notes}");
    let table = tom.ok(&["incidents", "notes", &incident])?;
    assert!(
        table.contains("redacted") && !table.contains("legal hold"),
        "{table}"
    );

    // The API: the same rule and matrix; the author is the caller, never a field.
    let base = socfed_tests::api::base(&hub)?;
    let url = format!("{base}/incidents/{incident}/notes");
    let as_tom = socfed_tests::api::with_certificate(&org.pki, "tom")?;
    let listed: Value = as_tom.get(&url).send().await?.json().await?;
    assert!(
        listed[1]["text"].is_null() && listed[1]["redacted"].is_string(),
        "{listed}"
    );
    let refused = as_tom
        .post(&url)
        .json(&serde_json::json!({"text": "x"}))
        .send()
        .await?;
    assert_eq!(refused.status(), 403);
    let as_sam = socfed_tests::api::with_certificate(&org.pki, "sam")?;
    let posted = as_sam
        .post(&url)
        .json(&serde_json::json!({"text": "DNS sinkholed", "tlp": "amber"}))
        .send()
        .await?;
    assert_eq!(posted.status(), 200);
    let posted: Value = posted.json().await?;
    assert_eq!(
        (posted["author"].as_str(), posted["tlp"].as_str()),
        (Some("sam"), Some("amber"))
    );
    let spoofed = as_sam
        .post(&url)
        .json(&serde_json::json!({"text": "x", "author": "carl"}))
        .send()
        .await?;
    assert_eq!(spoofed.status(), 400);
    let notes: Value = carl.json(&["incidents", "notes", &incident])?;
    assert_eq!(notes.as_array().map(Vec::len), Some(3), "{notes}");

    // The report: the notes merged into the timeline, escaped; for the board (cleared for
    // AMBER) the RED note is withheld, in the CISO's own report it is there, and in tom's it
    // is redacted.
    let own = carl.ok(&["report", &incident])?;
    assert!(
        own.contains("legal hold") && own.contains("DNS sinkholed"),
        "{own}"
    );
    assert!(
        own.contains("&lt;script&gt;x") && !own.contains("<script>"),
        "{own}"
    );
    let board = carl.ok(&["report", &incident, "--audience", "board"])?;
    assert!(
        !board.contains("legal hold") && board.contains("withheld: board"),
        "{board}"
    );
    assert!(board.contains("DNS sinkholed"), "{board}");
    let toms = tom.ok(&["report", &incident, "--format", "html"])?;
    assert!(
        !toms.contains("legal hold") && toms.contains("redacted"),
        "{toms}"
    );
    assert!(!toms.contains("<script>x"), "{toms}");

    // The dashboard: the work log (the timeline with the notes) escaped, the RED note's text
    // only for those who may read it, the form for the roles that may write, its token
    // checked.
    let page_path = format!("/incidents/{incident}");
    let tom_web = socfed_tests::web::Browser::open(&org.pki, &hub, "tom").await?;
    let (status, page) = tom_web.get(&page_path).await?;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("&lt;script&gt;x&lt;/script&gt;") && !page.contains("<script>x"),
        "{page}"
    );
    assert!(
        page.contains("redacted") && !page.contains("legal hold"),
        "{page}"
    );
    assert!(
        !page.contains("id=\"note-form\""),
        "tier 1 gets no form: {page}"
    );
    let sam_web = socfed_tests::web::Browser::open(&org.pki, &hub, "sam").await?;
    let (_, page) = sam_web.get(&page_path).await?;
    let at = page.find("id=\"note-form\"").unwrap_or_default();
    let csrf = socfed_tests::web::hidden(&page[at..], "csrf").unwrap_or_default();
    assert_eq!(csrf.len(), 64, "{page}");
    let path = format!("/incidents/{incident}/notes");
    let (status, _, _) = sam_web.post_to(&path, "text=forged&tlp=", &[]).await?;
    assert_eq!(status, 403);
    let body = format!("csrf={csrf}&text=%3Ci%3Ereimaged%3C%2Fi%3E+ws-1&tlp=green");
    let (status, _, answer) = sam_web.post_to(&path, &body, &[]).await?;
    assert_eq!(status, 303, "{answer}");
    let (_, page) = tom_web.get(&page_path).await?;
    assert!(page.contains("&lt;i&gt;reimaged&lt;/i&gt; ws-1"), "{page}");
    assert!(!page.contains("forged"), "{page}");

    // The event log: each note an event (author and marking, never the text), on the stream
    // of those who may read the incident.
    let events = as_tom.get(format!("{base}/events?since=0")).send().await?;
    assert_eq!(events.status(), 200);
    let mut stream = socfed_tests::api::SseReader::new(events);
    let mut notes_seen = Vec::new();
    while notes_seen.len() < 4 {
        let event = stream.next(std::time::Duration::from_secs(10)).await?;
        if event.event == "note_added" {
            notes_seen.push(event.data);
        }
    }
    assert!(
        notes_seen
            .iter()
            .all(|d| !d.contains("legal hold") && !d.contains("sinkholed")),
        "{notes_seen:?}"
    );
    assert!(
        notes_seen[1].contains("\"author\":\"ines\"") && notes_seen[1].contains("\"tlp\":\"red\""),
        "{notes_seen:?}"
    );
    drop(stream);
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
