//! A webhook receiver on loopback: records every JSON body POSTed to it, and answers with a
//! chosen status (to exercise failures and retries).

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
