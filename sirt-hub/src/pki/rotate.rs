//! Rotation: a new certificate and key for the same principal, with the same DNS and IP names,
//! written over the current files; the current certificate is kept beside them
//! (`*.crt.previous`) so it can be revoked once every service uses the new one.

use super::files::{io_error, occupied};
use super::inspect::{parse_pem, read_pem};
use super::{IssueRequest, Issued, LeafRole, PkiError, issue};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use x509_parser::extensions::GeneralName;

#[derive(Debug, Clone)]
pub struct Rotated {
    pub issued: Issued,
    pub previous: PathBuf,
}

/// The DNS and IP names of the certificate at `path`.
fn names_of(path: &Path) -> Result<(Vec<String>, Vec<IpAddr>), PkiError> {
    let pem = read_pem(path)?;
    let cert = parse_pem(&pem, path)?;
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(raw) => match raw.len() {
                    4 => ips.push(IpAddr::from(<[u8; 4]>::try_from(*raw).unwrap_or_default())),
                    16 => ips.push(IpAddr::from(<[u8; 16]>::try_from(*raw).unwrap_or_default())),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Ok((dns, ips))
}

/// Rotates the certificate of `role` (its names are read from the current certificate).
pub fn rotate(dir: &Path, role: LeafRole, validity_days: u32) -> Result<Rotated, PkiError> {
    let current = issue::current_cert_path(dir, &role)?;
    if !occupied(&current) {
        return Err(PkiError::BadCertificate {
            path: current,
            reason: "there is no certificate to rotate; issue one with `pki issue`".into(),
        });
    }
    let (dns, ips) = names_of(&current)?;
    let role = match role {
        LeafRole::Hub { .. } => LeafRole::Hub { dns, ips },
        LeafRole::Site { id, .. } => LeafRole::Site { id, dns, ips },
        operator @ LeafRole::Operator { .. } => operator,
    };
    let mut previous = current.clone().into_os_string();
    previous.push(".previous");
    let previous = PathBuf::from(previous);
    std::fs::copy(&current, &previous).map_err(|e| io_error("keep", &previous, e))?;
    let issued = issue(
        dir,
        &IssueRequest {
            role,
            validity_days,
            overwrite: true,
        },
    )?;
    Ok(Rotated { issued, previous })
}
