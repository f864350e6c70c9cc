//! `sirt-hub pki init|issue|list`.

use super::render;
use crate::pki::{self, IssueRequest, LeafRole};
use clap::Subcommand;
use socfed_proto::identity::{TrustDomain, parse_operator_name};
use socfed_proto::vocab::SiteId;
use socfed_runtime::cli::{OutputArgs, OutputFormat};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create the organisation CA in DIR.
    Init {
        #[arg(long)]
        dir: PathBuf,
        /// SPIFFE trust domain, e.g. corp.example.
        #[arg(long)]
        trust_domain: String,
        #[arg(long, default_value_t = 3650)]
        days: u32,
        /// Where the CRL will be published (plain http://, e.g. the hub's admin listener
        /// http://HOST:PORT/crl); every certificate issued from DIR names it as its CRL
        /// distribution point. Without it certificates carry none.
        #[arg(long, value_name = "URL")]
        crl_url: Option<String>,
    },
    /// Issue a hub, site or operator certificate signed by the CA in DIR.
    Issue {
        #[arg(long)]
        dir: PathBuf,
        /// A hub certificate (server).
        #[arg(long, conflicts_with_all = ["site", "operator"], required_unless_present_any = ["site", "operator"])]
        hub: bool,
        /// A site certificate for SITE_ID (client to the hub, server for the local API).
        #[arg(long, value_name = "SITE_ID", conflicts_with = "operator")]
        site: Option<String>,
        /// An operator certificate for NAME (client).
        #[arg(long, value_name = "NAME")]
        operator: Option<String>,
        /// DNS name clients dial (hub and site); repeatable.
        #[arg(long)]
        dns: Vec<String>,
        /// IP address clients dial (hub and site); repeatable.
        #[arg(long)]
        ip: Vec<IpAddr>,
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Replace an existing certificate for the same principal.
        #[arg(long)]
        force: bool,
    },
    /// Rotate a certificate before it expires: a new key and certificate with the same names over
    /// the current files (services reload them), the current one kept as *.crt.previous.
    Rotate {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, conflicts_with_all = ["site", "operator"], required_unless_present_any = ["site", "operator"])]
        hub: bool,
        #[arg(long, value_name = "SITE_ID", conflicts_with = "operator")]
        site: Option<String>,
        #[arg(long, value_name = "NAME")]
        operator: Option<String>,
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Revoke a certificate issued by the CA in DIR and re-sign the CRL (DIR/crl.pem). Copy the
    /// CRL to every service with `[tls] crl`; they reload it without a restart.
    Revoke {
        #[arg(long)]
        dir: PathBuf,
        /// The certificate to revoke (its serial is what the CRL lists).
        #[arg(long)]
        cert: PathBuf,
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// Re-sign the CRL (valid 30 days): run it regularly, services refuse clients (and close
    /// their connections) once the CRL they hold has expired. Services also refuse a CRL whose
    /// number is lower than the one they hold: always copy the newest DIR/crl.pem.
    Crl {
        #[arg(long)]
        dir: PathBuf,
        /// How long the CRL is valid (its nextUpdate), in days.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=366))]
        days: u16,
    },
    /// List certificates in DIR with role and expiry.
    List {
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        output: OutputArgs,
    },
}

pub fn run(command: PkiCommand) -> anyhow::Result<()> {
    match command {
        PkiCommand::Init {
            dir,
            trust_domain,
            days,
            crl_url,
        } => {
            let domain = TrustDomain::parse(&trust_domain)?;
            let info = pki::init_with_crl_url(&dir, &domain, days, crl_url.as_deref())?;
            socfed_runtime::outln!(
                "created CA for trust domain {} at {} (valid until {}) and an empty CRL at {} (valid 30 days: re-sign it with `sirt-hub pki crl`)",
                info.domain,
                info.ca_cert.display(),
                info.not_after,
                info.crl.display()
            );
        }
        PkiCommand::Issue {
            dir,
            hub,
            site,
            operator,
            dns,
            ip,
            days,
            force,
        } => {
            let role = match (hub, site, operator) {
                (true, None, None) => LeafRole::Hub { dns, ips: ip },
                (false, Some(site), None) => LeafRole::Site {
                    id: SiteId::parse(&site)?,
                    dns,
                    ips: ip,
                },
                (false, None, Some(name)) => {
                    if !dns.is_empty() || !ip.is_empty() {
                        anyhow::bail!(
                            "--dns and --ip apply to hub and site certificates, not operators"
                        );
                    }
                    LeafRole::Operator {
                        name: parse_operator_name(&name)?,
                    }
                }
                _ => anyhow::bail!("choose exactly one of --hub, --site SITE_ID, --operator NAME"),
            };
            let issued = pki::issue(
                &dir,
                &IssueRequest {
                    role,
                    validity_days: days,
                    overwrite: force,
                },
            )?;
            socfed_runtime::outln!(
                "issued {} -> {} (key {}, valid until {})",
                issued.uri,
                issued.cert.display(),
                issued.key.display(),
                issued.not_after
            );
        }
        PkiCommand::Rotate {
            dir,
            hub,
            site,
            operator,
            days,
        } => {
            let role = match (hub, site, operator) {
                (true, None, None) => LeafRole::Hub {
                    dns: vec![],
                    ips: vec![],
                },
                (false, Some(site), None) => LeafRole::Site {
                    id: SiteId::parse(&site)?,
                    dns: vec![],
                    ips: vec![],
                },
                (false, None, Some(name)) => LeafRole::Operator {
                    name: parse_operator_name(&name)?,
                },
                _ => anyhow::bail!("choose exactly one of --hub, --site SITE_ID, --operator NAME"),
            };
            let rotated = pki::rotate(&dir, role, days)?;
            socfed_runtime::outln!(
                "rotated {} -> {} (valid until {}); install it where the old one was, services reload it within their tls_reload_interval; then revoke the previous one: sirt-hub pki revoke --dir {} --cert {}",
                rotated.issued.uri,
                rotated.issued.cert.display(),
                rotated.issued.not_after,
                dir.display(),
                rotated.previous.display()
            );
        }
        PkiCommand::Revoke { dir, cert, reason } => {
            let written = pki::revoke(&dir, &cert, &reason)?;
            match &written.newly_revoked {
                Some(entry) => socfed_runtime::outln!(
                    "revoked serial {} ({}); {} lists {} certificate(s): copy it to every hub and agent",
                    entry.serial,
                    entry.subject,
                    written.path.display(),
                    written.entries
                ),
                None => socfed_runtime::outln!(
                    "already revoked; {} re-signed ({} certificate(s))",
                    written.path.display(),
                    written.entries
                ),
            }
        }
        PkiCommand::Crl { dir, days } => {
            let written = pki::write_crl_valid_for(&dir, i64::from(days) * 86_400)?;
            socfed_runtime::outln!(
                "{} re-signed ({} revoked certificate(s), valid {days} days)",
                written.path.display(),
                written.entries
            );
        }
        PkiCommand::List { dir, output } => {
            let certs = pki::list(&dir)?;
            match output.format {
                OutputFormat::Json => render::print_json(&certs)?,
                OutputFormat::Table => {
                    let mut table =
                        render::table(&["role", "identity", "subject", "not after", "path"]);
                    for c in &certs {
                        table.add_row(vec![
                            &c.role,
                            &c.identity,
                            &c.subject,
                            &c.not_after,
                            &c.path.display().to_string(),
                        ]);
                    }
                    socfed_runtime::outln!("{table}");
                }
            }
        }
    }
    Ok(())
}
