//! TLS for every socfed listener and client: TLS 1.3 only, client certificates required and
//! verified against the organisation CA, and the server's SPIFFE identity checked by clients.
//!
//! The listener half turns a `TcpListener` into a stream of verified connections whose
//! [`PeerInfo`] tonic attaches to each request; the client half builds a tonic `Channel`.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use socfed_proto::identity::{Identity, IdentityError, TrustDomain, identity_from_der};
use socfed_proto::vocab::SiteId;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod failover;
mod incoming;
pub use failover::{Target, channel_any};
pub use incoming::{HandshakeRefused, PeerStream, tls_incoming, tls_incoming_observed};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} holds no PEM {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("client verifier: {0}")]
    Verifier(String),
    #[error("{0:?} is not a valid TLS server name")]
    ServerName(String),
    #[error("the local certificate: {0}")]
    OwnIdentity(#[from] IdentityError),
}

/// The PEM files of one party: the organisation CA, its certificate and its private key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Certificate revocation list of the organisation CA (`sirt-hub pki revoke` writes it).
    /// Services check client certificates against it and reload it when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl: Option<PathBuf>,
}

/// Loaded key material, ready to build server or client configurations.
#[derive(Debug)]
pub struct TlsMaterial {
    roots: Arc<RootCertStore>,
    ca_first: CertificateDer<'static>,
    crls: Vec<rustls::pki_types::CertificateRevocationListDer<'static>>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    pub domain: TrustDomain,
    /// The identity in our own certificate, checked at load time so a misissued certificate
    /// fails at start, not at the first connection.
    pub own: socfed_proto::identity::PeerIdentity,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl TlsMaterial {
    pub fn load(files: &TlsFiles, domain: TrustDomain) -> Result<Self, TlsError> {
        let pem_err = |path: &Path, what| TlsError::Pem {
            path: path.to_path_buf(),
            what,
        };
        let ca_pem = read(&files.ca)?;
        let mut roots = RootCertStore::empty();
        let mut ca_first = None;
        for cert in CertificateDer::pem_slice_iter(&ca_pem) {
            let cert = cert.map_err(|_| pem_err(&files.ca, "certificate"))?;
            ca_first.get_or_insert_with(|| cert.clone());
            roots.add(cert)?;
        }
        let Some(ca_first) = ca_first else {
            return Err(pem_err(&files.ca, "certificate"));
        };
        let chain = CertificateDer::pem_slice_iter(&read(&files.cert)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| pem_err(&files.cert, "certificate"))?;
        let leaf = chain
            .first()
            .ok_or_else(|| pem_err(&files.cert, "certificate"))?;
        let own = identity_from_der(leaf, &domain)?;
        let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
            .map_err(|_| pem_err(&files.key, "private key"))?;
        let crls = match &files.crl {
            None => Vec::new(),
            Some(path) => {
                rustls::pki_types::CertificateRevocationListDer::pem_slice_iter(&read(path)?)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| pem_err(path, "certificate revocation list"))?
            }
        };
        Ok(Self {
            roots: Arc::new(roots),
            ca_first,
            crls,
            chain,
            key,
            domain,
            own,
        })
    }

    /// The CRLs loaded with this material (DER), for checks outside the TLS handshake (a
    /// dashboard session bound to a certificate that was revoked after it signed in).
    pub fn crls(&self) -> &[rustls::pki_types::CertificateRevocationListDer<'static>] {
        &self.crls
    }

    /// Loads the files and takes the trust domain from our own certificate's SPIFFE URI, for
    /// clients that only have their certificate at hand.
    pub fn load_inferring_domain(files: &TlsFiles) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(&read(&files.cert)?)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| TlsError::Pem {
                path: files.cert.clone(),
                what: "certificate",
            })?;
        let leaf = chain.first().ok_or_else(|| TlsError::Pem {
            path: files.cert.clone(),
            what: "certificate",
        })?;
        let domain = socfed_proto::identity::trust_domain_of(leaf)?;
        Self::load(files, domain)
    }

    /// Our own certificate (the first of the chain).
    pub fn leaf_der(&self) -> &[u8] {
        self.chain.first().map_or(&[], |c| c.as_ref())
    }

    /// The first CA certificate of the CA file.
    pub fn ca_der(&self) -> &[u8] {
        self.ca_first.as_ref()
    }

    /// How client certificates are verified, at the handshake and again on every call
    /// (`revocation`): chain to the CA, validity, the CRL (refusing every certificate once the
    /// CRL is past its nextUpdate, as `pki crl --help` says) and the `clientAuth` EKU.
    pub fn client_verifier(
        &self,
    ) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
        // Leaves are checked against the CA's CRL; the CA itself is the trust anchor.
        let inner = rustls::server::WebPkiClientVerifier::builder_with_provider(
            self.roots.clone(),
            provider(),
        )
        .with_crls(self.crls.clone())
        .only_check_end_entity_revocation()
        .enforce_revocation_expiration()
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
        Ok(Arc::new(crate::tls_verify::ClientVerifier { inner }))
    }

    /// Server side: TLS 1.3 and h2. A presented client certificate must chain to the
    /// organisation CA or the handshake fails; a connection without one completes the
    /// handshake only so that every request on it can be refused with `UNAUTHENTICATED` and a
    /// message (see `identity::require_verified_peer`, installed on every listener).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_client_cert_verifier(self.client_verifier()?)
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }

    /// The same, for HTTPS to browsers and HTTP clients: HTTP/2 or HTTP/1.1.
    pub fn https_server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = (*self.server_config()?).clone();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Client side: TLS 1.3, h2, our certificate, and the server must be `expected`.
    pub fn client_config(
        &self,
        expected: ExpectedServer,
    ) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        // The server's certificate is checked against the organisation CRL too, when one is
        // configured: a revoked hub (or site) certificate must not be trusted by its clients.
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
            self.roots.clone(),
            provider(),
        )
        .with_crls(self.crls.clone())
        .only_check_end_entity_revocation()
        .enforce_revocation_expiration()
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
        let verifier = SpiffeServerVerifier {
            inner,
            expected,
            domain: self.domain.clone(),
        };
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Which identity a client requires of the server it connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedServer {
    Hub,
    AnySite,
    Site(SiteId),
}

impl ExpectedServer {
    fn accepts(&self, identity: &Identity) -> bool {
        match (self, identity) {
            (ExpectedServer::Hub, Identity::Hub) => true,
            (ExpectedServer::AnySite, Identity::Site(_)) => true,
            (ExpectedServer::Site(want), Identity::Site(got)) => want == got,
            _ => false,
        }
    }
}

/// WebPKI chain and name verification, then the SPIFFE identity check.
#[derive(Debug)]
struct SpiffeServerVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    expected: ExpectedServer,
    domain: TrustDomain,
}

impl ServerCertVerifier for SpiffeServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        crate::tls_verify::require_purpose(end_entity, crate::tls_verify::Purpose::Server)?;
        let peer = identity_from_der(end_entity, &self.domain)
            .map_err(|e| rustls::Error::General(format!("server certificate: {e}")))?;
        if !self.expected.accepts(&peer.identity) {
            return Err(rustls::Error::General(format!(
                "server presented {} but {:?} was expected",
                peer.uri, self.expected
            )));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Builds a gRPC channel to `address` (`host:port`) over mutual TLS. `server_name` is the DNS
/// name or IP the server certificate must carry. Connection is lazy: errors show on first call.
pub fn channel(
    address: &str,
    server_name: &str,
    client: Arc<rustls::ClientConfig>,
    connect_timeout: Duration,
) -> Result<tonic::transport::Channel, TlsError> {
    channel_any(
        &[Target {
            address: address.to_string(),
            server_name: server_name.to_string(),
        }],
        client,
        connect_timeout,
    )
}

/// A shared value that can be replaced; readers take the current one.
#[derive(Debug)]
pub struct Swappable<T>(Arc<std::sync::RwLock<Arc<T>>>);

impl<T> Clone for Swappable<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Swappable<T> {
    pub fn new(value: Arc<T>) -> Self {
        Self(Arc::new(std::sync::RwLock::new(value)))
    }

    pub fn current(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn replace(&self, value: Arc<T>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = value;
    }
}
