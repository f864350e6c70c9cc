//! A client of the hub's `/api/v1`: HTTPS trusting only the organisation CA, authenticated
//! by an API token or an operator's client certificate, and a reader of its server-sent
//! event stream.

use crate::pki::TestPki;
use std::time::Duration;

/// `https://ADDR/api/v1` of a hub with its dashboard enabled.
pub fn base(hub: &sirt_hub::app::RunningHub) -> anyhow::Result<String> {
    Ok(format!(
        "https://{}/api/v1",
        hub.dashboard_addr
            .ok_or_else(|| anyhow::anyhow!("dashboard enabled"))?
    ))
}

/// An HTTPS client presenting operator `name`'s certificate.
pub fn with_certificate(pki: &TestPki, name: &str) -> anyhow::Result<reqwest::Client> {
    let files = pki.operator(name)?;
    let mut pem = std::fs::read(&files.cert)?;
    pem.extend(std::fs::read(&files.key)?);
    let ca = reqwest::Certificate::from_pem(&std::fs::read(pki.ca())?)?;
    Ok(reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .identity(reqwest::Identity::from_pem(&pem)?)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// (status, JSON body) of a request; a body that is not JSON as a JSON string.
pub async fn call(request: reqwest::RequestBuilder) -> anyhow::Result<(u16, serde_json::Value)> {
    let r = request.send().await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    ))
}

/// One server-sent event: its `id:`, `event:` and `data:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<u64>,
    pub event: String,
    pub data: String,
}

/// Reads events from an open `text/event-stream` response.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (heartbeat comments skipped), waiting at most `wait`.
    pub async fn next(&mut self, wait: Duration) -> anyhow::Result<SseEvent> {
        tokio::time::timeout(wait, self.next_event())
            .await
            .map_err(|_| anyhow::anyhow!("no event within {wait:?}"))?
    }

    async fn next_event(&mut self) -> anyhow::Result<SseEvent> {
        loop {
            if let Some(at) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..at + 2).collect();
                let mut event = SseEvent {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().parse().ok();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_string();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.trim_start());
                        any = true;
                    }
                }
                if any {
                    return Ok(event);
                }
                continue;
            }
            let chunk = self
                .response
                .chunk()
                .await?
                .ok_or_else(|| anyhow::anyhow!("the stream ended"))?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
