//! A gRPC channel that dials exactly once: every call rides the same HTTP/2 connection, and the
//! test sees when the server closes it. Revocation tests need both: a revoked peer must lose
//! the connection it already holds, not only fail its next handshake, and a channel that
//! silently redialled would hide which of the two refused it.

use socfed_proto::identity::TrustDomain;
use socfed_runtime::tls::{ExpectedServer, TlsFiles, TlsMaterial};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::Channel;

/// One connection to a server, as a tonic channel, and whether the server has closed it.
#[derive(Clone)]
pub struct OneConnection {
    pub channel: Channel,
    closed: Arc<AtomicBool>,
    dials: Arc<AtomicUsize>,
}

impl OneConnection {
    /// The server ended the connection (end of stream or an error on read).
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// How many connections were established (at most one: later dials are refused).
    pub fn connections(&self) -> usize {
        self.dials.load(Ordering::SeqCst)
    }
}

/// A channel to `addr` presenting `files`; it connects on first use and never reconnects.
pub fn one_connection(
    addr: SocketAddr,
    files: &TlsFiles,
    domain: &TrustDomain,
    expected: ExpectedServer,
) -> anyhow::Result<OneConnection> {
    let material = TlsMaterial::load(files, domain.clone())?;
    let connector = tokio_rustls::TlsConnector::from(material.client_config(expected)?);
    let closed = Arc::new(AtomicBool::new(false));
    let dials = Arc::new(AtomicUsize::new(0));
    let (closed_in, dials_in) = (closed.clone(), dials.clone());
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(tower::service_fn(move |_uri| {
            let (connector, closed, dials) =
                (connector.clone(), closed_in.clone(), dials_in.clone());
            async move {
                if dials.load(Ordering::SeqCst) > 0 {
                    return Err(io::Error::other("this test channel dials only once"));
                }
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let name = rustls::pki_types::ServerName::try_from("127.0.0.1")
                    .map_err(io::Error::other)?;
                let tls = connector.connect(name, tcp).await?;
                dials.fetch_add(1, Ordering::SeqCst);
                Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(Watched { inner: tls, closed }))
            }
        }));
    Ok(OneConnection {
        channel,
        closed,
        dials,
    })
}

/// Passes bytes through and notes the end of the server's side.
struct Watched<S> {
    inner: S,
    closed: Arc<AtomicBool>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        match &result {
            Poll::Ready(Ok(())) if buf.filled().len() == before && buf.remaining() > 0 => {
                self.closed.store(true, Ordering::SeqCst);
            }
            Poll::Ready(Err(_)) => self.closed.store(true, Ordering::SeqCst),
            _ => {}
        }
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
