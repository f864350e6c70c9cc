//! The one HTTPS client of every outbound webhook (the agent's playbooks, the hub's
//! communications, event webhooks): rustls with the public roots plus an optional corporate
//! CA, no redirect followed, a connect timeout; and reading an answer with a size cap.

use std::path::Path;
use std::time::Duration;

/// Most of an answer's body that is read; the rest is not (the connection is dropped).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the CA file {path}: {source}")]
    CaRead {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the CA file {path} holds no PEM certificate: {reason}")]
    CaParse {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("cannot start the HTTPS client: {0}")]
    Build(String),
}

/// A client trusting the public roots and, when given, every certificate in `ca_file`.
///
/// No redirect is followed: a 3xx would re-send the body (which carries tokens and site data)
/// wherever the answer points (a 307 keeps method and body); it counts as a failure naming the
/// redirect, and the operator configures the final URL.
pub fn build(ca_file: Option<&Path>) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|source| ClientError::CaRead {
            path: path.to_path_buf(),
            source,
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::CaParse {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(ClientError::CaParse {
                path: path.to_path_buf(),
                reason: "no certificate found".into(),
            });
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build()
        .map_err(|e| ClientError::Build(e.to_string()))
}

/// At most `cap` bytes of `response`'s body (the rest is left unread); a body that fails
/// midway gives what came.
pub async fn read_capped(mut response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = cap - out.len();
                out.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    out
}
