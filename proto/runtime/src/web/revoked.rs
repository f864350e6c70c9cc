//! The certificate serials the CRL in force revokes, for checks made outside a TLS handshake:
//! a web session outlives the connection of the certificate that asked for its link, so each
//! request asks here whether that certificate has been revoked since. Replaced whenever the
//! service reloads its TLS material.

use crate::tls::TlsMaterial;
use std::collections::HashSet;
use std::sync::RwLock;

#[derive(Debug, Default)]
pub struct Revoked(RwLock<HashSet<String>>);

impl Revoked {
    pub fn of(material: &TlsMaterial) -> Self {
        let revoked = Self::default();
        revoked.replace_from(material);
        revoked
    }

    /// Takes the serials of the CRLs in `material` (already accepted by the TLS layer).
    pub fn replace_from(&self, material: &TlsMaterial) {
        let mut serials = HashSet::new();
        for der in material.crls() {
            match x509_parser::parse_x509_crl(der) {
                Ok((_, crl)) => serials.extend(
                    crl.iter_revoked_certificates()
                        .map(|r| socfed_proto::hex::encode(r.raw_serial())),
                ),
                Err(e) => {
                    tracing::error!(error = %e, "a CRL could not be read for web session checks")
                }
            }
        }
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = serials;
    }

    pub fn contains(&self, serial: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(serial)
    }
}
