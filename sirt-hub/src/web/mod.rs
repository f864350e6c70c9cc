//! The web dashboard, served by the hub over HTTPS with the same TLS 1.3 configuration as the
//! gRPC API (reloaded with it). People sign in with a short-lived token that `sirt-hub login`
//! mints with their operator certificate; the browser keeps it in an HttpOnly, Secure,
//! SameSite=Strict cookie. Pages are read-only and server-rendered; the incident board refreshes
//! itself from server-sent events.

mod pages;
pub mod token;

use crate::grpc::live::LiveSites;
use crate::ingest::IngestHandle;
use crate::store::HubStore;
use crate::store::query::IncidentFilter;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use socfed_proto::pb;
use socfed_proto::tls::{PeerStream, Swappable, tls_incoming};
use socfed_proto::vocab::{Severity, SiteId};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;

pub use token::Tokens;

const COOKIE: &str = "socfed_session";

#[derive(Clone)]
pub struct WebState {
    pub store: Arc<HubStore>,
    pub ingest: IngestHandle,
    pub live: Arc<LiveSites>,
    pub enrolled: Arc<Vec<SiteId>>,
    pub tokens: Arc<Tokens>,
}

/// The signed-in operator, put on the request by [`require_session`].
#[derive(Clone)]
struct Operator(String);

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

async fn require_session(
    State(state): State<WebState>,
    mut request: Request,
    next: Next,
) -> Response {
    let verdict = match cookie_token(request.headers()) {
        None => Err("You are not signed in.".to_string()),
        Some(token) => state
            .tokens
            .verify(&token, socfed_proto::now_millis())
            .map_err(|e| e.to_string()),
    };
    match verdict {
        Ok(name) => {
            request.extensions_mut().insert(Operator(name));
            next.run(request).await
        }
        Err(reason) => (StatusCode::UNAUTHORIZED, Html(pages::signed_out(&reason))).into_response(),
    }
}

/// Headers every page carries: no framing, no inline script, no referrer leaks.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    set(h, header::CACHE_CONTROL, "no-store");
    response
}

async fn login(
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = q.get("token").cloned().unwrap_or_default();
    match state.tokens.verify(&token, socfed_proto::now_millis()) {
        Ok(name) => {
            tracing::info!(operator = %name, "dashboard sign-in");
            let cookie = format!(
                "{COOKIE}={token}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age={}",
                state.tokens.ttl_ms / 1000
            );
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => (
            StatusCode::UNAUTHORIZED,
            Html(pages::signed_out(&e.to_string())),
        )
            .into_response(),
    }
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard could not read the store");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the hub could not read its store; retry shortly",
    )
        .into_response()
}

async fn read<T: Send + 'static>(
    store: &Arc<HubStore>,
    f: impl FnOnce(&HubStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(unavailable(e)),
        Err(e) => Err(unavailable(e)),
    }
}

async fn board(
    State(state): State<WebState>,
    axum::Extension(Operator(who)): axum::Extension<Operator>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| {
        q.get(k)
            .map(String::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (site, status, severity) = (get("site"), get("status"), get("severity"));
    let filter = IncidentFilter {
        site: SiteId::parse(&site).ok(),
        status: crate::store::records::IncidentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == status),
        min_severity: severity.parse::<Severity>().ok(),
    };
    let page = match read(&state.store, move |s| s.list_incidents(&filter, None, 200)).await {
        Ok(page) => page,
        Err(response) => return response,
    };
    let incidents: Vec<pb::HubIncident> = page
        .incidents
        .iter()
        .map(crate::grpc::convert::incident)
        .collect();
    if q.get("fragment").is_some_and(|f| f == "rows") {
        return Html(pages::board_rows(&incidents)).into_response();
    }
    Html(pages::page(
        "Incidents",
        &who,
        &pages::board(&incidents, &site, &status, &severity),
    ))
    .into_response()
}

async fn incident(
    State(state): State<WebState>,
    axum::Extension(Operator(who)): axum::Extension<Operator>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Ulid::from_string(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Html(pages::page("Not found", &who, "<p>No such incident.</p>")),
        )
            .into_response();
    };
    let found = read(&state.store, move |s| {
        Ok((s.incident(id)?, s.incident_directives(id)?, s.comms(id)?))
    })
    .await;
    match found {
        Ok((Some(record), directives, comms)) => {
            let now = socfed_proto::now_millis();
            let i = crate::grpc::convert::incident(&record);
            let d: Vec<_> = directives
                .iter()
                .map(|d| crate::grpc::response_convert::directive_status(d, now))
                .collect();
            let c: Vec<_> = comms
                .iter()
                .map(crate::grpc::comms::communication)
                .collect();
            Html(pages::page(
                &record.title,
                &who,
                &pages::incident(&i, &d, &c),
            ))
            .into_response()
        }
        Ok((None, _, _)) => (
            StatusCode::NOT_FOUND,
            Html(pages::page("Not found", &who, "<p>No such incident.</p>")),
        )
            .into_response(),
        Err(response) => response,
    }
}

async fn sites(
    State(state): State<WebState>,
    axum::Extension(Operator(who)): axum::Extension<Operator>,
) -> Response {
    match crate::grpc::operator::site_overview(&state.store, &state.live, &state.enrolled).await {
        Ok(list) => Html(pages::page("Sites", &who, &pages::sites(&list))).into_response(),
        Err(status) => unavailable(status.message()),
    }
}

async fn hunts(
    State(state): State<WebState>,
    axum::Extension(Operator(who)): axum::Extension<Operator>,
) -> Response {
    match read(&state.store, |s| s.hunts(200)).await {
        Ok(found) => {
            let now = socfed_proto::now_millis();
            let list: Vec<pb::Hunt> = found
                .iter()
                .map(|(h, sweeps)| {
                    crate::grpc::response_convert::hunt(
                        h,
                        sweeps,
                        |site| state.live.get(site).is_some(),
                        now,
                    )
                })
                .collect();
            Html(pages::page("Hunts", &who, &pages::hunts(&list))).into_response()
        }
        Err(response) => response,
    }
}

/// One event per incident created or changed; the page fetches its rows again.
async fn events(
    State(state): State<WebState>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let receiver = state.ingest.subscribe();
    let stream = futures_util::stream::unfold(receiver, |mut rx| async move {
        let event = match rx.recv().await {
            Ok(change) => Event::default().data(change.record.id.to_string()),
            // A slow page missed some: one refresh covers them all.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                Event::default().data("lagged")
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

pub fn router(state: WebState) -> axum::Router {
    let private = axum::Router::new()
        .route("/", get(board))
        .route("/incidents/{id}", get(incident))
        .route("/sites", get(sites))
        .route("/hunts", get(hunts))
        .route("/events", get(events))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_session,
        ));
    axum::Router::new()
        .route("/login", get(login))
        .route(
            "/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], pages::CSS) }),
        )
        .route(
            "/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], pages::JS) }),
        )
        .merge(private)
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// TLS connections from [`tls_incoming`] as an axum listener.
struct TlsListener {
    incoming: tokio_stream::wrappers::ReceiverStream<std::io::Result<PeerStream>>,
}

impl axum::serve::Listener for TlsListener {
    type Io = PeerStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        use futures_util::StreamExt;
        loop {
            match self.incoming.next().await {
                Some(Ok(stream)) => {
                    let addr = stream
                        .info()
                        .remote_addr
                        .unwrap_or_else(|| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
                    return (stream, addr);
                }
                Some(Err(_)) => continue,
                // The accept loop ended: nothing will ever arrive again.
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
    }
}

/// Serves the dashboard on `listener` until `shutdown`.
pub fn serve(
    listener: tokio::net::TcpListener,
    tls: Swappable<rustls::ServerConfig>,
    domain: socfed_proto::identity::TrustDomain,
    state: WebState,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let listener = TlsListener {
        incoming: tls_incoming(listener, tls, domain),
    };
    tokio::spawn(async move {
        let stop = async move { shutdown.cancelled().await };
        if let Err(e) = axum::serve(listener, router(state))
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "dashboard listener failed");
        }
    })
}
