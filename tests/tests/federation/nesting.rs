//! Deeply nested input is refused with a clear error and no crash, while a legitimate site
//! keeps streaming. No socfed message type is recursive (checked over the `.proto` files), so
//! protobuf nesting is crafted as raw bytes: unknown start-group fields nested 10,000 deep
//! (prost stops at its recursion limit of 100) and unknown length-delimited fields nested as
//! deep (prost skips them unread). JSON alerts nested 10,000 deep go through
//! `site-agent ingest` and the `SubmitAlerts` intake: serde_json stops at depth 128 and the
//! line is rejected by number.

use prost::Message as _;
use socfed_proto::pb::{self, site_message};
use socfed_runtime::tls::TlsFiles;
use socfed_tests::{clients, eventually, fixture::Org, procs::binary};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_stream::StreamExt as _;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;

const DEPTH: usize = 10_000;

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Unknown field 15 as a start group, nested `depth` deep, each closed in turn.
fn nested_groups(depth: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..depth {
        varint((15 << 3) | 3, &mut out);
    }
    for _ in 0..depth {
        varint((15 << 3) | 4, &mut out);
    }
    out
}

/// Unknown field 15 as a length-delimited value holding the same, `depth` deep.
fn nested_bytes(depth: usize) -> Vec<u8> {
    let mut inner = Vec::new();
    for _ in 0..depth {
        let mut outer = Vec::new();
        varint((15 << 3) | 2, &mut outer);
        varint(inner.len() as u64, &mut outer);
        outer.extend_from_slice(&inner);
        inner = outer;
    }
    inner
}

/// Sends pre-encoded bytes as they are and decodes answers as `T`.
struct RawCodec<T>(std::marker::PhantomData<T>);

struct RawEncoder;
struct ProstDecoder<T>(std::marker::PhantomData<T>);

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl<T: prost::Message + Default + Send + 'static> Decoder for ProstDecoder<T> {
    type Item = T;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<T>, tonic::Status> {
        T::decode(src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

impl<T: prost::Message + Default + Send + 'static> Codec for RawCodec<T> {
    type Encode = Vec<u8>;
    type Decode = T;
    type Encoder = RawEncoder;
    type Decoder = ProstDecoder<T>;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> ProstDecoder<T> {
        ProstDecoder(std::marker::PhantomData)
    }
}

fn codec<T>() -> RawCodec<T> {
    RawCodec(std::marker::PhantomData)
}

/// Opens an escalation stream sending `messages` (raw bytes each) and returns the hub's
/// answers up to and including the status that ended it (`Ok(())` for a clean end).
async fn raw_escalate(
    channel: tonic::transport::Channel,
    messages: Vec<Vec<u8>>,
) -> (Vec<pb::HubMessage>, Result<(), tonic::Status>) {
    let mut grpc = tonic::client::Grpc::new(channel);
    if let Err(e) = grpc.ready().await {
        return (Vec::new(), Err(tonic::Status::unavailable(e.to_string())));
    }
    // The request stream stays open so the hub, not the end of input, ends the stream.
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(16);
    for m in messages {
        let _ = tx.send(m).await;
    }
    let path = PathAndQuery::from_static("/socfed.v1.Federation/Escalate");
    let answer = grpc
        .streaming(
            tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(rx)),
            path,
            codec::<pb::HubMessage>(),
        )
        .await;
    let mut inbound = match answer {
        Ok(r) => r.into_inner(),
        Err(s) => return (Vec::new(), Err(s)),
    };
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(20), inbound.next()).await {
            Err(_) => {
                return (
                    seen,
                    Err(tonic::Status::deadline_exceeded("no answer in 20 s")),
                );
            }
            Ok(None) => return (seen, Ok(())),
            Ok(Some(Err(s))) => return (seen, Err(s)),
            Ok(Some(Ok(m))) => {
                let acked =
                    matches!(&m.body, Some(pb::hub_message::Body::Ack(a)) if a.acked_through >= 1);
                seen.push(m);
                if acked {
                    drop(tx);
                    return (seen, Ok(()));
                }
            }
        }
    }
}

fn hello_bytes(site: &str, extra: &[u8]) -> Vec<u8> {
    let mut bytes = pb::SiteMessage {
        body: Some(site_message::Body::Hello(clients::hello(
            site,
            ulid::Ulid::new(),
            1,
        ))),
    }
    .encode_to_vec();
    bytes.extend_from_slice(extra);
    bytes
}

/// An escalation of `seq` whose report carries `report_extra` after its known fields.
fn escalation_bytes(seq: u64, report_extra: &[u8]) -> Vec<u8> {
    let mut report = clients::report(&format!("lyon-{seq}"), "nested").encode_to_vec();
    report.extend_from_slice(report_extra);
    let mut escalation = Vec::new();
    varint(1 << 3, &mut escalation);
    varint(seq, &mut escalation);
    varint((2 << 3) | 2, &mut escalation);
    varint(report.len() as u64, &mut escalation);
    escalation.extend_from_slice(&report);
    let mut message = Vec::new();
    varint((2 << 3) | 2, &mut message);
    varint(escalation.len() as u64, &mut message);
    message.extend_from_slice(&escalation);
    message
}

fn assert_recursion_refusal(what: &str, result: &Result<(), tonic::Status>) {
    let Err(status) = result else {
        panic!("{what}: accepted");
    };
    // tonic reports a protobuf decoding failure as INTERNAL with prost's reason.
    assert_eq!(status.code(), tonic::Code::Internal, "{what}: {status:?}");
    assert!(
        status.message().contains("recursion limit reached"),
        "{what}: {}",
        status.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_protobuf_is_refused_or_skipped_and_sites_keep_streaming()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], "").await?;
    let paris = org.agent("paris", hub.addr, "").await?;
    let operator = org.pki.operator("tester")?;
    let mut local = clients::local(paris.local_addr, &operator, &org.pki.domain)?;
    let mut raised = 0;
    let mut raise = async |n: usize| -> anyhow::Result<()> {
        for i in 0..n {
            local
                .raise_incident(pb::RaiseIncidentRequest {
                    request_id: format!("legit-{raised}-{i}"),
                    title: format!("legitimate {raised}-{i}"),
                    severity: pb::Severity::High as i32,
                    ..Default::default()
                })
                .await?;
        }
        raised += n;
        anyhow::Ok(())
    };
    raise(5).await?;

    let lyon = org.pki.site("lyon")?;
    let lyon_channel = || {
        clients::channel(
            hub.addr,
            &lyon,
            &org.pki.domain,
            socfed_runtime::tls::ExpectedServer::Hub,
        )
    };

    // 1. The first message itself nests 10,000 groups deep.
    let (seen, end) = raw_escalate(
        lyon_channel()?,
        vec![hello_bytes("lyon", &nested_groups(DEPTH))],
    )
    .await;
    assert!(seen.is_empty(), "{seen:?}");
    assert_recursion_refusal("nested hello", &end);

    // 2. A welcomed stream, then an escalation whose report nests 10,000 groups deep.
    let (seen, end) = raw_escalate(
        lyon_channel()?,
        vec![
            hello_bytes("lyon", &[]),
            escalation_bytes(1, &nested_groups(DEPTH)),
        ],
    )
    .await;
    assert_eq!(seen.len(), 1, "only the welcome: {seen:?}");
    assert_recursion_refusal("nested report", &end);

    // 3. Unknown length-delimited fields nested 10,000 deep are skipped unread: the stream
    //    is welcomed and the escalation carrying them is stored and acknowledged.
    let (seen, end) = raw_escalate(
        lyon_channel()?,
        vec![
            hello_bytes("lyon", &nested_bytes(DEPTH)),
            escalation_bytes(1, &nested_bytes(DEPTH)),
        ],
    )
    .await;
    end.map_err(|s| anyhow::anyhow!("nested unknown bytes: {s:?}"))?;
    assert!(
        matches!(seen.last().and_then(|m| m.body.as_ref()), Some(pb::hub_message::Body::Ack(a)) if a.acked_through == 1),
        "{seen:?}"
    );

    // 4. An operator API: a unary request nesting 10,000 groups deep.
    let mut grpc = tonic::client::Grpc::new(clients::channel(
        hub.addr,
        &operator,
        &org.pki.domain,
        socfed_runtime::tls::ExpectedServer::Hub,
    )?);
    grpc.ready().await?;
    let answer = grpc
        .unary(
            tonic::Request::new(nested_groups(DEPTH)),
            PathAndQuery::from_static("/socfed.v1.Operator/ListIncidents"),
            codec::<pb::ListIncidentsResponse>(),
        )
        .await
        .map(|_| ());
    assert_recursion_refusal("nested operator request", &answer);

    raise(5).await?;
    let mut op = clients::operator(hub.addr, &operator, &org.pki.domain)?;
    eventually(
        "paris's escalations at the hub",
        Duration::from_secs(30),
        || {
            let mut op = op.clone();
            async move {
                let sites = clients::sites(&mut op).await.ok()?;
                sites
                    .iter()
                    .any(|s| {
                        s.site_id == "paris" && s.escalations_stored == 10 && s.duplicates == 0
                    })
                    .then_some(())
            }
        },
    )
    .await?;
    let sites = clients::sites(&mut op).await?;
    let lyon_site = sites.iter().find(|s| s.site_id == "lyon");
    assert_eq!(
        lyon_site.map(|s| s.escalations_stored),
        Some(1),
        "{sites:?}"
    );
    // Exactly once: ten incidents from paris, one from lyon, nothing else.
    assert_eq!(clients::all_incidents(&mut op).await?.len(), 11);
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}

fn native(rule: &str) -> String {
    format!(
        r#"{{"observed_at":"2026-03-02T09:58:00Z","product":"EDR","rule_id":"{rule}","rule_name":"rule {rule}","severity":"high","hosts":["ws-1"]}}"#
    )
}

/// `{"a":{"a":…1…}}` and `[[…]]`, `DEPTH` deep.
fn nested_json() -> (String, String) {
    (
        format!("{}1{}", "{\"a\":".repeat(DEPTH), "}".repeat(DEPTH)),
        format!("{}{}", "[".repeat(DEPTH), "]".repeat(DEPTH)),
    )
}

fn ingest(
    agent: SocketAddr,
    operator: &TlsFiles,
    file: &std::path::Path,
    format: &str,
) -> anyhow::Result<std::process::Output> {
    Ok(std::process::Command::new(binary("site-agent")?)
        .args(["ingest", &file.display().to_string(), "--format", format])
        .args(["--agent", &agent.to_string(), "--output", "json"])
        .env("SOCFED_CA", &operator.ca)
        .env("SOCFED_CERT", &operator.cert)
        .env("SOCFED_KEY", &operator.key)
        .output()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_alerts_are_rejected_by_line_number() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let extra = "[soc]\nmanagers = [\"tester\"]\n";
    let paris = org.agent("paris", hub.addr, extra).await?;
    let operator = org.pki.operator("tester")?;
    let (objects, arrays) = nested_json();

    // Through the CLI: lines 2 and 3 are rejected by number, lines 1 and 4 accepted.
    let file = org.dir().join("nested.jsonl");
    std::fs::write(
        &file,
        [
            native("R-1"),
            objects.clone(),
            arrays.clone(),
            native("R-2"),
        ]
        .join("\n"),
    )?;
    let out = ingest(paris.local_addr, &operator, &file, "native")?;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        (
            &summary["lines"],
            &summary["accepted"],
            &summary["rejected"]
        ),
        (&4.into(), &2.into(), &2.into()),
        "{summary}"
    );
    for (i, line) in [2, 3].into_iter().enumerate() {
        let r = &summary["rejections"][i];
        assert_eq!(r["line_no"], line, "{summary}");
        let reason = r["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("line: not valid JSON (recursion limit exceeded"),
            "{reason}"
        );
    }

    // An OCSF export is one JSON array read whole: a nested one is refused as a document.
    let doc = org.dir().join("nested-ocsf.json");
    std::fs::write(&doc, format!("[{objects}]"))?;
    let out = ingest(paris.local_addr, &operator, &doc, "ocsf")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("recursion limit exceeded"), "{stderr}");

    // Straight to the gRPC intake, in every format.
    let mut soc = pb::site_soc_client::SiteSocClient::new(clients::channel(
        paris.local_addr,
        &operator,
        &org.pki.domain,
        socfed_runtime::tls::ExpectedServer::AnySite,
    )?);
    for format in [
        pb::AlertFormat::Native,
        pb::AlertFormat::Ocsf,
        pb::AlertFormat::SuricataEve,
        pb::AlertFormat::Wazuh,
    ] {
        let batch = pb::AlertBatch {
            format: format as i32,
            lines: [&objects, &arrays]
                .into_iter()
                .enumerate()
                .map(|(i, text)| pb::RawLine {
                    line_no: 7 + i as u64,
                    text: text.clone(),
                })
                .collect(),
        };
        let summary = soc
            .submit_alerts(tokio_stream::iter(vec![batch]))
            .await?
            .into_inner();
        assert_eq!(
            (summary.lines, summary.rejected, summary.accepted),
            (2, 2, 0),
            "{format:?}: {summary:?}"
        );
        let lines: Vec<u64> = summary.rejections.iter().map(|r| r.line_no).collect();
        assert_eq!(lines, [7, 8], "{format:?}");
        assert!(
            summary
                .rejections
                .iter()
                .all(|r| r.reason.contains("recursion limit exceeded")),
            "{summary:?}"
        );
    }
    // The agent still takes ordinary alerts.
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: vec![pb::RawLine {
            line_no: 1,
            text: native("R-3"),
        }],
    };
    let summary = soc
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner();
    assert_eq!(summary.accepted, 1, "{summary:?}");
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
