//! An event webhook receiver as an integration should write one, over HTTPS (rustls, a
//! certificate of the test PKI): it verifies every `Socfed-Signature` with the sink's key
//! (`socfed_runtime::webhook::SigningKey::verify`), checks the auth header, and takes each
//! event id once (a repeat is answered 200 and counted, not taken again). A script of answers
//! makes the first deliveries fail (an HTTP status, or a stall past the sender's timeout).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use socfed_runtime::tls::TlsFiles;
use socfed_runtime::webhook::SigningKey;
use socfed_runtime::webhook::sign::{EVENT_ID_HEADER, SIGNATURE_HEADER};
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers one delivery, before it takes them.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Answers nothing for this long (then 503).
    Stall(Duration),
}

#[derive(Default)]
struct Seen {
    /// Event ids taken, in arrival order, with their bodies.
    taken: Vec<(String, serde_json::Value)>,
    ids: HashSet<String>,
    repeats: u64,
    attempts: u64,
    /// What a delivery got wrong (signature, auth, id), if any did.
    refused: Vec<String>,
}

struct State {
    key: SigningKey,
    auth: String,
    script: Mutex<VecDeque<Answer>>,
    seen: Mutex<Seen>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Receiver {
    /// Serves `POST /hook` on loopback with `tls` (its certificate must name localhost),
    /// verifying with `secret` and expecting `Authorization: <auth>`.
    pub async fn start(
        tls: &TlsFiles,
        secret: &[u8],
        auth: &str,
        script: Vec<Answer>,
    ) -> anyhow::Result<Self> {
        let chain = CertificateDer::pem_file_iter(&tls.cert)?.collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_file(&tls.key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let state = Arc::new(State {
            key: SigningKey::new(secret),
            auth: auth.to_string(),
            script: Mutex::new(script.into()),
            seen: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(take))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
                });
            }
        });
        Ok(Self {
            addr,
            state,
            server,
        })
    }

    pub fn url(&self) -> String {
        format!("https://localhost:{}/hook", self.addr.port())
    }

    /// From now on every delivery is taken (the rest of the script is dropped).
    pub fn clear_script(&self) {
        self.rescript(Vec::new());
    }

    /// From now on the next deliveries get `script` (the rest of the old one is dropped).
    pub fn rescript(&self, script: Vec<Answer>) {
        *lock(&self.state.script) = script.into();
    }

    /// The event ids taken, in the order they were taken.
    pub fn taken_ids(&self) -> Vec<String> {
        lock(&self.state.seen)
            .taken
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn taken(&self) -> Vec<(String, serde_json::Value)> {
        lock(&self.state.seen).taken.clone()
    }

    /// Deliveries of an id already taken (answered 200, not taken again).
    pub fn repeats(&self) -> u64 {
        lock(&self.state.seen).repeats
    }

    /// Every POST, whatever it was answered.
    pub fn attempts(&self) -> u64 {
        lock(&self.state.seen).attempts
    }

    /// Deliveries refused for a bad signature, auth header or event id.
    pub fn refused(&self) -> Vec<String> {
        lock(&self.state.seen).refused.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn take(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let verdict = state
        .key
        .verify(
            &header(SIGNATURE_HEADER),
            &body,
            now,
            Duration::from_secs(300),
        )
        .map_err(|e| e.to_string())
        .and_then(|()| {
            if header("authorization") == state.auth {
                Ok(())
            } else {
                Err(format!("authorization {:?}", header("authorization")))
            }
        })
        .and_then(|()| {
            let parsed: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            let id = parsed["id"].as_str().unwrap_or_default().to_string();
            if id.is_empty() || id != header(EVENT_ID_HEADER) {
                return Err(format!(
                    "event id {id:?} against header {:?}",
                    header(EVENT_ID_HEADER)
                ));
            }
            Ok((id, parsed))
        });
    lock(&state.seen).attempts += 1;
    let (id, parsed) = match verdict {
        Ok(taken) => taken,
        Err(reason) => {
            lock(&state.seen).refused.push(reason);
            return StatusCode::UNAUTHORIZED;
        }
    };
    let next = lock(&state.script).pop_front();
    match next {
        Some(Answer::Status(code)) => {
            return StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Some(Answer::Stall(time)) => {
            tokio::time::sleep(time).await;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        None => {}
    }
    let mut seen = lock(&state.seen);
    if seen.ids.insert(id.clone()) {
        seen.taken.push((id, parsed));
    } else {
        seen.repeats += 1;
    }
    StatusCode::OK
}
