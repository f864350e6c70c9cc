//! Issuing leaf certificates: the per-role plan, SAN defaults and loading the CA to sign.

use super::files::{ensure_dir, io_error, occupied, write_pair};
use super::{
    CA_CERT, CA_KEY, CLOCK_SKEW_SECS, IssueRequest, Issued, LeafRole, PkiError, SECS_PER_DAY,
    check_validity, common_name, crl_url, generate, inspect, now_unix, random_serial, set_validity,
    trust_domain,
};
use rcgen::{
    CertificateParams, CrlDistributionPoint, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use socfed_proto::identity::{Identity, parse_operator_name};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// Where the certificate of `role` lives in `dir`.
pub(super) fn current_cert_path(dir: &Path, role: &LeafRole) -> Result<PathBuf, PkiError> {
    Ok(Leaf::plan(dir, role)?.cert)
}

/// Issues a leaf certificate signed by the CA in `dir` and writes it with its key. When the
/// directory records a CRL URL (`pki init --crl-url`), the certificate names it as its CRL
/// distribution point.
pub fn issue(dir: &Path, request: &IssueRequest) -> Result<Issued, PkiError> {
    check_validity(request.validity_days)?;
    let domain = trust_domain(dir)?;
    let crl_url = crl_url(dir)?;
    let ca = load_ca(dir)?;
    let leaf = Leaf::plan(dir, &request.role)?;
    if !request.overwrite
        && let Some(path) = [&leaf.cert, &leaf.key].into_iter().find(|p| occupied(p))
    {
        return Err(PkiError::AlreadyExists { path: path.clone() });
    }

    let now = now_unix()?;
    let not_after = now + i64::from(request.validity_days) * SECS_PER_DAY;
    if not_after > ca.not_after {
        let ca_not_after = inspect::rfc3339(ca.not_after);
        let max_days = (ca.not_after - now) / SECS_PER_DAY;
        return Err(if max_days < 1 {
            PkiError::CaExpired {
                cert: ca.cert,
                ca_not_after,
            }
        } else {
            PkiError::OutlivesCa {
                cert: ca.cert,
                days: request.validity_days,
                ca_not_after,
                max_days,
            }
        });
    }

    let uri = leaf.identity.spiffe_uri(&domain);
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(leaf.common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = leaf.usages;
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    params.subject_alt_names = leaf.names;
    params.subject_alt_names.push(SanType::URI(
        uri.as_str()
            .try_into()
            .map_err(generate("certificate URI SAN"))?,
    ));
    params.crl_distribution_points = crl_url
        .into_iter()
        .map(|url| CrlDistributionPoint { uris: vec![url] })
        .collect();
    set_validity(&mut params, now - CLOCK_SKEW_SECS, not_after)?;
    let key = KeyPair::generate().map_err(generate("private key"))?;
    let cert = params
        .signed_by(&key, &ca.issuer)
        .map_err(generate("certificate"))?;

    if let Some(parent) = leaf.cert.parent() {
        ensure_dir(parent)?;
    }
    write_pair(
        &leaf.cert,
        &cert.pem(),
        &leaf.key,
        &key.serialize_pem(),
        request.overwrite,
    )?;
    Ok(Issued {
        cert: leaf.cert,
        key: leaf.key,
        uri,
        not_after: inspect::rfc3339(not_after),
    })
}

/// Everything about a leaf that depends only on its role.
struct Leaf {
    identity: Identity,
    common_name: String,
    cert: PathBuf,
    key: PathBuf,
    usages: Vec<ExtendedKeyUsagePurpose>,
    names: Vec<SanType>,
}

impl Leaf {
    fn plan(dir: &Path, role: &LeafRole) -> Result<Self, PkiError> {
        use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        let (identity, common_name, stem, usages, names) = match role {
            LeafRole::Hub { dns, ips } => (
                Identity::Hub,
                "socfed hub".to_string(),
                dir.join("hub"),
                vec![ServerAuth],
                server_names(dns, ips)?,
            ),
            LeafRole::Site { id, dns, ips } => (
                Identity::Site(id.clone()),
                format!("socfed site {id}"),
                dir.join("sites").join(id.as_str()),
                vec![ServerAuth, ClientAuth],
                server_names(dns, ips)?,
            ),
            LeafRole::Operator { name } => {
                let name = parse_operator_name(name).map_err(PkiError::BadOperatorName)?;
                (
                    Identity::Operator(name.clone()),
                    format!("socfed operator {name}"),
                    dir.join("operators").join(&name),
                    vec![ClientAuth],
                    Vec::new(),
                )
            }
        };
        // Site ids and operator names never contain '/', so the stem stays inside `dir`;
        // the extension is appended rather than set because operator names may contain '.'.
        let with_ext = |ext: &str| {
            let mut path = stem.clone().into_os_string();
            path.push(ext);
            PathBuf::from(path)
        };
        Ok(Self {
            identity,
            common_name,
            cert: with_ext(".crt"),
            key: with_ext(".key"),
            usages,
            names,
        })
    }
}

/// DNS and IP SANs for a server certificate, defaulting to the loopback names.
fn server_names(dns: &[String], ips: &[IpAddr]) -> Result<Vec<SanType>, PkiError> {
    if dns.is_empty() && ips.is_empty() {
        return Ok(vec![
            SanType::DnsName(
                "localhost"
                    .try_into()
                    .map_err(generate("default DNS SAN"))?,
            ),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ]);
    }
    let mut names = Vec::with_capacity(dns.len() + ips.len());
    for name in dns {
        let bad = || PkiError::BadDnsName { name: name.clone() };
        rustls::pki_types::DnsName::try_from(name.as_str()).map_err(|_| bad())?;
        names.push(SanType::DnsName(
            name.as_str().try_into().map_err(|_| bad())?,
        ));
    }
    names.extend(ips.iter().copied().map(SanType::IpAddress));
    Ok(names)
}

/// The CA of a PKI directory, ready to sign.
pub(super) struct LoadedCa {
    pub(super) issuer: Issuer<'static, KeyPair>,
    pub(super) cert: PathBuf,
    not_after: i64,
}

pub(super) fn load_ca(dir: &Path) -> Result<LoadedCa, PkiError> {
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if let Some(missing) = [&cert_path, &key_path].into_iter().find(|p| !occupied(p)) {
        return Err(PkiError::NotInitialised {
            dir: dir.to_path_buf(),
            missing: missing.clone(),
        });
    }
    let pem = inspect::read_pem(&cert_path)?;
    let cert = inspect::parse_pem(&pem, &cert_path)?;
    let bad_key = |reason: String| PkiError::BadCaKey {
        key: key_path.clone(),
        cert: cert_path.clone(),
        reason,
    };
    let key_pem = std::fs::read_to_string(&key_path).map_err(|e| io_error("read", &key_path, e))?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| bad_key(e.to_string()))?;
    if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
        return Err(PkiError::CaKeyMismatch {
            key: key_path,
            cert: cert_path,
        });
    }
    let not_after = cert.validity().not_after.timestamp();
    let issuer = Issuer::from_ca_cert_der(&pem.contents.as_slice().into(), key).map_err(|e| {
        PkiError::BadCertificate {
            path: cert_path.clone(),
            reason: e.to_string(),
        }
    })?;
    Ok(LoadedCa {
        issuer,
        cert: cert_path,
        not_after,
    })
}
