//! A throwaway organisation PKI made with the product's own `sirt_hub::pki`.

use sirt_hub::pki::{self, IssueRequest, LeafRole};
use socfed_proto::identity::TrustDomain;
use socfed_proto::vocab::SiteId;
use socfed_runtime::tls::TlsFiles;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct TestPki {
    pub dir: PathBuf,
    pub domain: TrustDomain,
}

impl TestPki {
    /// A CA for `domain` with a hub certificate for localhost/127.0.0.1.
    pub fn create(dir: &Path, domain: &str) -> anyhow::Result<Self> {
        let domain = TrustDomain::parse(domain)?;
        pki::init(dir, &domain, 365)?;
        let this = Self {
            dir: dir.to_path_buf(),
            domain,
        };
        this.issue(LeafRole::Hub {
            dns: vec![],
            ips: vec![],
        })?;
        Ok(this)
    }

    fn issue(&self, role: LeafRole) -> anyhow::Result<TlsFiles> {
        let issued = pki::issue(
            &self.dir,
            &IssueRequest {
                role,
                validity_days: 30,
                overwrite: true,
            },
        )?;
        Ok(TlsFiles {
            ca: self.ca(),
            cert: issued.cert,
            key: issued.key,
            crl: None,
        })
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    pub fn hub(&self) -> TlsFiles {
        TlsFiles {
            ca: self.ca(),
            cert: self.dir.join("hub.crt"),
            key: self.dir.join("hub.key"),
            crl: None,
        }
    }

    /// Where `site`'s certificate and key are (without issuing one).
    pub fn site_paths(&self, site: &str) -> TlsFiles {
        TlsFiles {
            ca: self.ca(),
            cert: self.dir.join("sites").join(format!("{site}.crt")),
            key: self.dir.join("sites").join(format!("{site}.key")),
            crl: None,
        }
    }

    /// Issues (or re-issues) the certificate of `site`.
    pub fn site(&self, site: &str) -> anyhow::Result<TlsFiles> {
        self.issue(LeafRole::Site {
            id: SiteId::parse(site)?,
            dns: vec![],
            ips: vec![],
        })
    }

    pub fn operator(&self, name: &str) -> anyhow::Result<TlsFiles> {
        self.issue(LeafRole::Operator {
            name: name.to_string(),
        })
    }

    /// The same certificate and key, presented with another CA file (for cross-CA tests).
    pub fn with_ca(files: &TlsFiles, ca: &Path) -> TlsFiles {
        TlsFiles {
            ca: ca.to_path_buf(),
            ..files.clone()
        }
    }
}
