//! Webhook receivers on loopback. `Sink` records every JSON body POSTed to it and answers with a
//! chosen status (to exercise failures and retries); `RedirectTrap` answers with a redirect and
//! records what a client that follows it re-sends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Sink {
    received: Arc<Mutex<Vec<serde_json::Value>>>,
    status: Arc<AtomicU16>,
}

impl Sink {
    /// Starts the receiver; it answers 200 until told otherwise.
    pub async fn start() -> anyhow::Result<(Self, SocketAddr)> {
        let sink = Sink::default();
        sink.status.store(200, Ordering::SeqCst);
        let state = sink.clone();
        let app = axum::Router::new().route(
            "/hook/{token}",
            axum::routing::post(
                |axum::extract::State(sink): axum::extract::State<Sink>,
                 axum::Json(body): axum::Json<serde_json::Value>| async move {
                    let status = sink.status.load(Ordering::SeqCst);
                    if status == 200 {
                        sink.received
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(body);
                    }
                    axum::http::StatusCode::from_u16(status)
                        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.with_state(state)).await;
        });
        Ok((sink, addr))
    }

    /// Bodies accepted so far.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Answer every later request with `status` (accepted bodies are only recorded at 200).
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// A webhook that answers every POST to `path` with a 307 (which keeps method and body) to
/// `/elsewhere`, where it records whatever arrives: a client that follows redirects re-sends
/// its body there.
pub struct RedirectTrap {
    pub addr: SocketAddr,
    elsewhere: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl RedirectTrap {
    pub async fn start(path: &str) -> anyhow::Result<Self> {
        let elsewhere: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = elsewhere.clone();
        let app = axum::Router::new()
            .route(
                path,
                axum::routing::post(|| async {
                    (
                        axum::http::StatusCode::TEMPORARY_REDIRECT,
                        [(axum::http::header::LOCATION, "/elsewhere")],
                    )
                }),
            )
            .route(
                "/elsewhere",
                axum::routing::any(move |body: String| {
                    let seen = seen.clone();
                    async move {
                        seen.lock().unwrap_or_else(|p| p.into_inner()).push(body);
                        "ok"
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            elsewhere,
            server,
        })
    }

    /// Bodies that reached the redirect target (none, for a client that follows no redirect).
    pub fn followed(&self) -> Vec<String> {
        self.elsewhere
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for RedirectTrap {
    fn drop(&mut self) {
        self.server.abort();
    }
}
