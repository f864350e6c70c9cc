//! A client channel over several addresses of one service (hub replicas): each new
//! connection tries the addresses in the order given, each for at most the connect timeout,
//! and keeps the first that completes the TCP connect and the TLS handshake.
//!
//! Failing over happens only while connecting, before a request byte is written: a call
//! that reached a server and then failed is never sent to another one by this channel (tonic
//! does not retry calls), so a command that is not idempotent runs at most once.

use super::TlsError;
use rustls::pki_types::ServerName;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// One address of the service and the name its certificate must carry there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host:port`.
    pub address: String,
    pub server_name: String,
}

/// Builds a lazy gRPC channel over mutual TLS to the first of `targets` that answers (see
/// the module docs). Errors show on first call, naming every address tried.
pub fn channel_any(
    targets: &[Target],
    client: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
) -> Result<tonic::transport::Channel, TlsError> {
    let first = targets
        .first()
        .ok_or_else(|| TlsError::ServerName("(no address)".into()))?;
    let mut resolved = Vec::with_capacity(targets.len());
    for target in targets {
        let name = ServerName::try_from(target.server_name.clone())
            .map_err(|_| TlsError::ServerName(target.server_name.clone()))?;
        resolved.push((target.address.clone(), name));
    }
    let resolved = Arc::new(resolved);
    let rounds = u32::try_from(targets.len()).unwrap_or(u32::MAX);
    // The URI only names the HTTP/2 authority; the connector below picks the address.
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{}", first.address))
        .map_err(|_| TlsError::ServerName(first.address.clone()))?
        // Each address gets its own timeout below; this bounds the whole walk.
        .connect_timeout(connect_timeout.saturating_mul(rounds))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(20))
        .keep_alive_timeout(Duration::from_secs(20))
        .keep_alive_while_idle(true);
    let connector = tokio_rustls::TlsConnector::from(client);
    Ok(
        endpoint.connect_with_connector_lazy(tower::service_fn(move |_uri| {
            let connector = connector.clone();
            let resolved = resolved.clone();
            async move {
                let mut failures = Vec::new();
                for (address, name) in resolved.iter() {
                    let attempt = async {
                        let tcp = TcpStream::connect(address).await?;
                        tcp.set_nodelay(true)?;
                        connector.connect(name.clone(), tcp).await
                    };
                    match tokio::time::timeout(connect_timeout, attempt).await {
                        Ok(Ok(tls)) => {
                            if !failures.is_empty() {
                                tracing::info!(%address, skipped = %failures.join("; "), "connected to a later address");
                            }
                            return Ok(hyper_util::rt::TokioIo::new(tls));
                        }
                        Ok(Err(e)) => failures.push(format!("{address}: {e}")),
                        Err(_) => failures.push(format!("{address}: connect timed out")),
                    }
                }
                Err(io::Error::other(failures.join("; ")))
            }
        })),
    )
}
