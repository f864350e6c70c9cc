//! The server side of mutual TLS: accepting connections through a listener's gate,
//! completing handshakes off the accept loop, and the verified stream each request sees
//! (`PeerStream`, carrying the peer's identity and its connection guard).

use super::Swappable;
use crate::peer::PeerInfo;
use socfed_proto::identity::{IdentityError, TrustDomain, identity_from_der};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;

/// A TLS connection whose client certificate was verified, carrying the peer's identity and
/// its listener's guard (caps, idle and lifetime timers, shutdown: see [`crate::listen`]).
pub struct PeerStream {
    inner: tokio_rustls::server::TlsStream<TcpStream>,
    info: PeerInfo,
    guard: crate::listen::ConnGuard,
    /// Completes when revocation closes this connection (`revocation::Connection`).
    cut: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
}

impl PeerStream {
    /// Closed by revocation: reads see the end of the stream, writes fail, and the HTTP/2
    /// server drops the connection with every call and stream on it.
    fn poll_cut(&mut self, cx: &mut Context<'_>) -> bool {
        self.cut.as_mut().poll(cx).is_ready()
    }
}

impl PeerStream {
    /// Who is on the other end (remote address and certificate identity, if any).
    pub fn info(&self) -> &PeerInfo {
        &self.info
    }
}

impl tonic::transport::server::Connected for PeerStream {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.poll_cut(cx) {
            return Poll::Ready(Ok(()));
        }
        let this = &mut *self;
        crate::listen::guarded::poll_read(&mut this.guard, &mut this.inner, cx, buf)
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.poll_cut(cx) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        }
        let this = &mut *self;
        crate::listen::guarded::poll_write(&mut this.guard, &mut this.inner, cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.poll_cut(cx) {
            return Poll::Ready(Err(io::ErrorKind::ConnectionAborted.into()));
        }
        let this = &mut *self;
        crate::listen::guarded::poll_write_vectored(&mut this.guard, &mut this.inner, cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Accepts TCP connections and completes TLS handshakes off the accept loop, so one slow or
/// hostile client cannot stall others. Every connection passes `gate` first (caps per
/// listener and per peer address, within the process descriptor budget) and is closed if it
/// does not finish its handshake within the gate's handshake timeout. Refused handshakes are
/// logged (rate-limited) and dropped; the stream yields only completed ones. It ends when
/// the returned stream is dropped.
pub fn tls_incoming(
    listener: TcpListener,
    config: Swappable<rustls::ServerConfig>,
    domain: TrustDomain,
    gate: Arc<crate::listen::Gate>,
) -> ReceiverStream<io::Result<PeerStream>> {
    tls_incoming_observed(listener, config, domain, gate, Arc::new(|_, _| {}))
}

/// Told of every handshake refused over the client's certificate: the peer and the reason.
/// Handshake failures happen before any request, so this is the only place that sees them.
pub type HandshakeRefused = Arc<dyn Fn(std::net::SocketAddr, String) + Send + Sync>;

/// [`tls_incoming`], reporting refused handshakes to `on_refused` as well as to the log.
pub fn tls_incoming_observed(
    listener: TcpListener,
    config: Swappable<rustls::ServerConfig>,
    domain: TrustDomain,
    gate: Arc<crate::listen::Gate>,
    on_refused: HandshakeRefused,
) -> ReceiverStream<io::Result<PeerStream>> {
    let (tx, rx) = mpsc::channel::<io::Result<PeerStream>>(128);
    let refused_log = Arc::new(crate::listen::RefusedLog::default());
    tokio::spawn(async move {
        loop {
            let (tcp, remote) = tokio::select! {
                () = tx.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            // Over a cap: closed now, before any TLS work (counted and logged by the gate).
            let Ok(pending) = gate.admit(remote) else {
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            // The configuration of the moment: a reload applies to the next handshake.
            let acceptor = tokio_rustls::TlsAcceptor::from(config.current());
            let tx = tx.clone();
            let domain = domain.clone();
            let on_refused = on_refused.clone();
            let refused_log = refused_log.clone();
            let handshake_timeout = gate.limits().handshake_timeout;
            tokio::spawn(async move {
                match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => {
                        let chain = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .unwrap_or_default()
                            .to_vec();
                        let peer = match chain.first() {
                            Some(leaf) => identity_from_der(leaf, &domain),
                            None => Err(IdentityError::NoCertificate),
                        };
                        if let Err(e) = &peer
                            && let Some(suppressed) = refused_log.allow()
                        {
                            tracing::warn!(%remote, error = %e, suppressed, "peer certificate carries no usable identity");
                        }
                        // A peer without a usable certificate keeps its short-lived
                        // unauthenticated slot; one with a certificate moves to the
                        // established pool, or is closed when that is full.
                        let Ok(guard) = pending.established(remote, peer.is_ok()) else {
                            return;
                        };
                        let who = peer.as_ref().map(|p| p.uri.clone()).unwrap_or_default();
                        let connection = crate::revocation::Connection::new(chain, who);
                        let cut = Box::pin(connection.cut_signal());
                        let info = PeerInfo {
                            remote_addr: Some(remote),
                            peer: Arc::new(peer),
                            connection,
                        };
                        let _ = tx
                            .send(Ok(PeerStream {
                                inner: tls,
                                info,
                                guard,
                                cut,
                            }))
                            .await;
                    }
                    // Closed before a ClientHello: a TCP health check or a port scan, not a
                    // refused TLS client. Logged, not audited, or every load balancer probe
                    // would add a record to the audit chain forever.
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        tracing::debug!(%remote, error = %e, "connection closed before the tls handshake");
                    }
                    Ok(Err(e)) => {
                        if let Some(suppressed) = refused_log.allow() {
                            tracing::warn!(%remote, error = %e, suppressed, "tls handshake refused");
                        }
                        // Reported only when a certificate was presented and refused (expired,
                        // revoked, another CA): a security event about a credential. Other
                        // failures (garbage, old TLS versions) need no credential at all and
                        // are only logged, rate-limited.
                        if refused_certificate(&e) {
                            on_refused(remote, e.to_string());
                        }
                    }
                    // A peer that never completes a handshake is anyone on the network:
                    // counted (socfed_listener_closed_total) and logged, rate-limited.
                    Err(_) => {
                        pending.timed_out();
                        if let Some(suppressed) = refused_log.allow() {
                            tracing::warn!(%remote, suppressed, "tls handshake timed out");
                        }
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Whether a failed handshake failed on the client's certificate.
fn refused_certificate(error: &io::Error) -> bool {
    matches!(
        error
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidCertificate(_))
    )
}
