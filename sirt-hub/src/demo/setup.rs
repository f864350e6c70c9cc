//! What the demo writes before it starts anything: a fresh organisation PKI and the hub and
//! agent configs, written the way an operator writes them (docs: `config example`). The demo
//! operator is seeded as the hub's CISO through `[[operators]]` and is each site's SOC manager
//! through `[soc] managers`; every agent has two example playbooks (a harmless command and a
//! dry run); the dashboard, every site's SOC console and every admin listener are on, all on
//! loopback.

use super::procs::free_addr;
use crate::pki::{self, IssueRequest, LeafRole};
use socfed_proto::identity::TrustDomain;
use socfed_proto::vocab::SiteId;
use socfed_runtime::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
pub const DOMAIN: &str = "demo.socfed.test";
/// The one person of the demo: CISO at the hub, SOC manager at every site.
pub const OPERATOR: &str = "demo-operator";

/// The demo's certificates and listening addresses.
pub struct Layout {
    pub pki_dir: PathBuf,
    pub operator: TlsFiles,
    pub hub: Listeners,
    pub dashboard: SocketAddr,
    pub agents: Vec<Agent>,
}

/// A process's gRPC listener and its admin (metrics) listener.
pub struct Listeners {
    pub grpc: SocketAddr,
    pub admin: SocketAddr,
}

pub struct Agent {
    pub site: &'static str,
    pub at: Listeners,
    /// The site's SOC console (`[web]`).
    pub console: SocketAddr,
    pub config: PathBuf,
}

fn issue(dir: &Path, role: LeafRole) -> anyhow::Result<TlsFiles> {
    let issued = pki::issue(
        dir,
        &IssueRequest {
            role,
            validity_days: 30,
            overwrite: true,
        },
    )?;
    Ok(TlsFiles {
        ca: dir.join("ca.crt"),
        cert: issued.cert,
        key: issued.key,
        crl: None,
    })
}

fn tls_toml(files: &TlsFiles) -> String {
    format!(
        "[tls]\nca = {:?}\ncert = {:?}\nkey = {:?}\n",
        files.ca, files.cert, files.key
    )
}

fn listeners() -> anyhow::Result<Listeners> {
    Ok(Listeners {
        grpc: free_addr()?,
        admin: free_addr()?,
    })
}

/// The harmless program the example playbook runs: `echo`, wherever this system keeps it
/// (playbooks name an absolute path; there is no PATH lookup).
fn echo_program() -> anyhow::Result<&'static str> {
    ["/bin/echo", "/usr/bin/echo"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .ok_or_else(|| anyhow::anyhow!("no echo program at /bin/echo or /usr/bin/echo"))
}

/// The example playbooks: `block_indicator` runs `echo` with the directive's indicator (it
/// blocks nothing), and `isolate_host` is a dry run: the agent records the command it would
/// run (a program that does not exist here) and runs nothing.
fn playbooks(echo: &str) -> String {
    format!(
        r#"[[response.playbooks]]
kind = "block_indicator"
command = ["{echo}", "demo playbook at {{site}}: block", "{{indicator}}", "for incident", "{{incident_id}}"]
timeout = "10s"
params = {{ indicator = {{ type = "indicator" }} }}
[[response.playbooks]]
kind = "isolate_host"
command = ["/usr/local/sbin/edr-isolate", "--host", "{{host}}", "--ticket", "{{directive_id}}"]
dry_run = true
params = {{ host = {{ type = "host" }} }}
"#
    )
}

/// Issues the PKI and writes `hub.toml` and one `SITE.toml` per site into `dir`; returns the
/// hub config's path and the layout.
pub fn write(dir: &Path) -> anyhow::Result<(PathBuf, Layout)> {
    let pki_dir = dir.join("pki");
    let domain = TrustDomain::parse(DOMAIN)?;
    // The CA outlives the 30-day leaves issued a moment later (issuing refuses a leaf that
    // would outlive its CA, to the second).
    pki::init(&pki_dir, &domain, 31)?;
    let hub_tls = issue(
        &pki_dir,
        LeafRole::Hub {
            dns: vec![],
            ips: vec![],
        },
    )?;
    let operator = issue(
        &pki_dir,
        LeafRole::Operator {
            name: OPERATOR.into(),
        },
    )?;

    let hub = listeners()?;
    let dashboard = free_addr()?;
    let mut hub_toml = format!(
        "listen = \"{}\"\ndata_dir = {:?}\ntrust_domain = \"{DOMAIN}\"\n{}",
        hub.grpc,
        dir.join("hub-data"),
        tls_toml(&hub_tls)
    );
    for site in SITES {
        hub_toml.push_str(&format!("[[sites]]\nid = \"{site}\"\n"));
    }
    // Seeds the empty roster at the first start, as in a real deployment.
    hub_toml.push_str(&format!(
        "[[operators]]\nname = \"{OPERATOR}\"\nrole = \"ciso\"\n[admin]\nlisten = \"{}\"\n[dashboard]\nlisten = \"{dashboard}\"\n",
        hub.admin
    ));
    let hub_config = dir.join("hub.toml");
    std::fs::write(&hub_config, hub_toml)?;

    let echo = echo_program()?;
    let mut agents = Vec::new();
    for site in SITES {
        let tls = issue(
            &pki_dir,
            LeafRole::Site {
                id: SiteId::parse(site)?,
                dns: vec![],
                ips: vec![],
            },
        )?;
        let at = listeners()?;
        let console = free_addr()?;
        let config = dir.join(format!("{site}.toml"));
        std::fs::write(
            &config,
            format!(
                "site_id = \"{site}\"\ndata_dir = {:?}\ntrust_domain = \"{DOMAIN}\"\n{}[hub]\naddress = \"{}\"\nstatus_interval = \"1s\"\n[local_api]\nlisten = \"{}\"\n[admin]\nlisten = \"{}\"\n[web]\nlisten = \"{console}\"\n[soc]\nmanagers = [\"{OPERATOR}\"]\n{}",
                dir.join(format!("{site}-data")),
                tls_toml(&tls),
                hub.grpc,
                at.grpc,
                at.admin,
                playbooks(echo),
            ),
        )?;
        agents.push(Agent {
            site,
            at,
            console,
            config,
        });
    }
    Ok((
        hub_config,
        Layout {
            pki_dir,
            operator,
            hub,
            dashboard,
            agents,
        },
    ))
}
