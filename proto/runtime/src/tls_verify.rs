//! What a socfed certificate must be used for: the extended key usage (EKU) check that
//! WebPKI leaves optional, and the client-certificate verifier every listener uses.
//!
//! WebPKI accepts a certificate *without* an EKU extension for any purpose. socfed issues
//! every leaf with explicit EKUs (`pki/issue.rs`), so a certificate without them was not made
//! by `sirt-hub pki issue` for that purpose and is refused: a client must carry `clientAuth`,
//! a server (hub, site local API) `serverAuth`.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::sync::Arc;

/// The purpose a certificate is presented for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Client,
    Server,
}

/// Refuses `der` unless its EKU extension is present and names `purpose`.
pub fn require_purpose(der: &[u8], purpose: Purpose) -> Result<(), rustls::Error> {
    let refused = |why: String| {
        rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            EkuRefused(why),
        ))))
    };
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let wanted = match purpose {
        Purpose::Client => "clientAuth",
        Purpose::Server => "serverAuth",
    };
    match cert.extended_key_usage() {
        Ok(Some(eku)) => {
            let allowed = match purpose {
                Purpose::Client => eku.value.client_auth,
                Purpose::Server => eku.value.server_auth,
            };
            if allowed {
                Ok(())
            } else {
                Err(refused(format!(
                    "the certificate's extended key usage does not include {wanted}"
                )))
            }
        }
        Ok(None) => Err(refused(format!(
            "the certificate has no extended key usage; socfed requires {wanted} (issue it with `sirt-hub pki issue`)"
        ))),
        Err(_) => Err(rustls::Error::InvalidCertificate(
            CertificateError::BadEncoding,
        )),
    }
}

#[derive(Debug)]
struct EkuRefused(String);

impl std::fmt::Display for EkuRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EkuRefused {}

/// WebPKI client verification (chain, validity, CRL) followed by the `clientAuth` EKU check.
/// The listeners use it at the handshake and [`crate::revocation`] again on every call.
#[derive(Debug)]
pub struct ClientVerifier {
    pub(crate) inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for ClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        require_purpose(end_entity, Purpose::Client)?;
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
