//! A sink ready to send: its secrets read from their files at start, its client built, and one
//! signed delivery attempt.

use super::config::WebhookConfig;
use super::sign::{EVENT_ID_HEADER, EVENT_KIND_HEADER, SIGNATURE_HEADER, SigningKey};
use super::{Event, client};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use std::path::{Path, PathBuf};

/// The shortest HMAC key accepted: as long as the hash, as RFC 2104 recommends.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("webhook {sink:?}: cannot read {path}: {source}")]
    Read {
        sink: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("webhook {sink:?}: {path}: {reason}")]
    Secret {
        sink: String,
        path: PathBuf,
        reason: String,
    },
    #[error("webhook {sink:?}: {source}")]
    Client {
        sink: String,
        source: client::ClientError,
    },
}

/// A sink whose files were read.
#[derive(Debug, Clone)]
pub struct Sink {
    pub config: WebhookConfig,
    key: SigningKey,
    headers: HeaderMap,
    http: reqwest::Client,
}

/// Why an attempt failed (the text is logged; it never carries the URL or a header value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError(pub String);

impl Sink {
    /// Reads the secret file, the header files and the CA file, and builds the client: a
    /// missing or unreadable file stops the start (a configuration error), not the first
    /// delivery.
    pub fn load(config: &WebhookConfig) -> Result<Self, SinkError> {
        let name = config.name.clone();
        let secret = read_secret(&name, &config.secret_file)?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SinkError::Secret {
                sink: name,
                path: config.secret_file.clone(),
                reason: format!(
                    "the HMAC key is {} bytes; use at least {MIN_SECRET_BYTES} random bytes (e.g. `openssl rand -hex 32`)",
                    secret.len()
                ),
            });
        }
        let mut headers = HeaderMap::new();
        for (header, path) in &config.headers {
            let value = read_secret(&name, path)?;
            let secret_error = |reason: &str| SinkError::Secret {
                sink: name.clone(),
                path: path.clone(),
                reason: reason.into(),
            };
            let header = HeaderName::from_bytes(header.as_bytes())
                .map_err(|_| secret_error("not a header name"))?;
            let mut value = HeaderValue::from_bytes(&value)
                .map_err(|_| secret_error("not a valid header value (one line of text)"))?;
            // Kept out of debug output and HTTP/2 header compression tables.
            value.set_sensitive(true);
            headers.insert(header, value);
        }
        let http =
            client::build(config.ca_file.as_deref()).map_err(|source| SinkError::Client {
                sink: name.clone(),
                source,
            })?;
        Ok(Self {
            config: config.clone(),
            key: SigningKey::new(&secret),
            headers,
            http,
        })
    }

    /// Whether this sink takes events of `kind`; never a [`super::WITHHELD`] one.
    pub fn wants(&self, kind: &str) -> bool {
        kind != super::WITHHELD && self.config.events.iter().any(|k| k == kind)
    }

    /// One signed POST of `event`, signed at `now_secs`: `Ok` only for a 2xx answer.
    pub async fn attempt(&self, event: &Event, now_secs: i64) -> Result<(), AttemptError> {
        let body = event.body();
        let host = crate::cli::url_host(&self.config.url);
        let sent = self
            .http
            .post(&self.config.url)
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, self.key.sign(now_secs, &body))
            .header(EVENT_ID_HEADER, &event.id)
            .header(EVENT_KIND_HEADER, &event.kind)
            .timeout(self.config.timeout)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // Without the URL: it may carry a token.
            Err(e) => return Err(AttemptError(format!("{host}: {}", e.without_url()))),
        };
        let status = response.status();
        // Read (capped) so the connection can be reused, and so a slow body counts against
        // the timeout rather than holding the sink.
        let _ = client::read_capped(response, client::MAX_RESPONSE_BYTES).await;
        if status.is_success() {
            Ok(())
        } else if status.is_redirection() {
            Err(AttemptError(format!(
                "{host} answered HTTP {} (a redirect: not followed; configure the final URL)",
                status.as_u16()
            )))
        } else {
            Err(AttemptError(format!(
                "{host} answered HTTP {}",
                status.as_u16()
            )))
        }
    }
}

/// Every sink of a config, its files read (at start, and by `config check`).
pub fn load_all(configs: &[WebhookConfig]) -> Result<Vec<Sink>, SinkError> {
    configs.iter().map(Sink::load).collect()
}

/// A secret file's bytes, without the trailing newline an editor adds.
fn read_secret(sink: &str, path: &Path) -> Result<Vec<u8>, SinkError> {
    let mut bytes = std::fs::read(path).map_err(|source| SinkError::Read {
        sink: sink.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    if bytes.is_empty() {
        return Err(SinkError::Secret {
            sink: sink.to_string(),
            path: path.to_path_buf(),
            reason: "the file is empty".into(),
        });
    }
    Ok(bytes)
}
