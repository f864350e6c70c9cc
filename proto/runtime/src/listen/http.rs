//! Serving an axum router (the dashboard, the admin listener) on admitted connections, with
//! the timers `axum::serve` leaves unset: hyper's HTTP/1.1 header-read timeout and HTTP/2
//! keepalive and stream cap, from [`ListenLimits`]. Connections come from
//! [`crate::tls::tls_incoming`] (dashboard) or [`tcp_incoming`] (plain HTTP admin listener),
//! both through a [`Gate`].

use super::{ConnGuard, Gate, ListenLimits};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tonic::codegen::tokio_stream::{Stream, StreamExt, wrappers::ReceiverStream};

/// Serves `app` on every connection `incoming` yields until `shutdown`; then each connection
/// is asked to finish (graceful shutdown) and the task ends when the last one has closed
/// (call [`Gate::close_all`] to close the ones that do not).
pub fn serve<I, S>(
    incoming: S,
    app: axum::Router,
    limits: &ListenLimits,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()>
where
    S: Stream<Item = I> + Unpin + Send + 'static,
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_per_connection(incoming, move |_: &I| app.clone(), limits, shutdown)
}

/// [`serve`] with the router made for each connection by `app_for`: a listener whose
/// handlers need the connection (the client certificate of a [`crate::tls::PeerStream`])
/// puts it on every request of that connection, e.g. as an `axum::Extension`.
pub fn serve_per_connection<I, S, F>(
    mut incoming: S,
    app_for: F,
    limits: &ListenLimits,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()>
where
    S: Stream<Item = I> + Unpin + Send + 'static,
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(&I) -> axum::Router + Send + 'static,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.keepalive_interval)
        .keep_alive_timeout(limits.keepalive_timeout)
        .max_concurrent_streams(limits.max_streams_per_connection);
    tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let io = tokio::select! {
                () = shutdown.cancelled() => break,
                io = incoming.next() => match io {
                    Some(io) => io,
                    None => break,
                },
                // Reap finished connections as we go.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            let service = TowerToHyperService::new(app_for(&io));
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(io), service)
                .into_owned();
            let stop = shutdown.clone();
            connections.spawn(async move {
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, "http connection ended with an error");
                        }
                        return;
                    }
                    () = stop.cancelled() => conn.as_mut().graceful_shutdown(),
                }
                let _ = conn.await;
            });
        }
        drop(incoming);
        while connections.join_next().await.is_some() {}
    })
}

/// A plain TCP connection admitted by a [`Gate`] (the admin listener).
pub struct GuardedTcp {
    tcp: TcpStream,
    guard: ConnGuard,
}

/// Accepts plain TCP connections through `gate` (connections over its caps are closed at
/// once). Every connection is established at accept: there is no certificate to wait for.
pub fn tcp_incoming(listener: TcpListener, gate: Arc<Gate>) -> ReceiverStream<GuardedTcp> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, remote) = tokio::select! {
                () = tx.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, listener = gate.name(), "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(pending) = gate.admit(remote) else {
                continue;
            };
            let Ok(guard) = pending.established(remote, true) else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            if tx.send(GuardedTcp { tcp, guard }).await.is_err() {
                return;
            }
        }
    });
    ReceiverStream::new(rx)
}

impl AsyncRead for GuardedTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        super::guarded::poll_read(&mut this.guard, &mut this.tcp, cx, buf)
    }
}

impl AsyncWrite for GuardedTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        super::guarded::poll_write(&mut this.guard, &mut this.tcp, cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
