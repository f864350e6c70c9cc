//! `sirt-hub demo`: a whole federation on loopback, as real processes: a fresh PKI, one hub,
//! three site agents, a few incidents raised at the sites (one threat at two sites), and the
//! cross-site status printed from the hub. Everything is shut down with SIGTERM at the end,
//! or left running with `--keep-running`.

use crate::cli::render;
use crate::pki::{self, IssueRequest, LeafRole};
use anyhow::Context;
use socfed_proto::identity::TrustDomain;
use socfed_proto::pb::{self, operator_client::OperatorClient, site_local_client::SiteLocalClient};
use socfed_proto::tls::{ExpectedServer, TlsFiles, TlsMaterial};
use socfed_proto::vocab::SiteId;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tonic::transport::Channel;

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
const DOMAIN: &str = "demo.socfed.test";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep PKI, configs, data and logs here (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Leave the federation running and print the commands to query it; Ctrl-C stops it.
    #[arg(long, requires = "dir")]
    pub keep_running: bool,
}

/// Child processes, stopped with SIGTERM (then SIGKILL) when dropped.
struct Children(Vec<(String, Child)>);

impl Children {
    fn terminate(&mut self) -> anyhow::Result<()> {
        let mut failures = Vec::new();
        for (name, child) in self.0.iter_mut().rev() {
            if let Some(pid) = i32::try_from(child.id())
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            let status = loop {
                if let Some(status) = child.try_wait()? {
                    break Some(status);
                }
                if std::time::Instant::now() > deadline {
                    let _ = child.kill();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if !status.is_some_and(|s| s.success()) {
                failures.push(format!("{name} ({status:?})"));
            }
        }
        self.0.clear();
        anyhow::ensure!(
            failures.is_empty(),
            "did not shut down cleanly: {}",
            failures.join(", ")
        );
        Ok(())
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
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

fn spawn(
    binary: &Path,
    config: &Path,
    log: &Path,
    name: &str,
    children: &mut Children,
) -> anyhow::Result<()> {
    let log_file = std::fs::File::create(log)?;
    let child = Command::new(binary)
        .args(["serve", "--config"])
        .arg(config)
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    children.0.push((name.to_string(), child));
    Ok(())
}

/// Calls `f` until it succeeds or `deadline` passes.
async fn retry<T, F, Fut>(what: &str, deadline: Duration, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let until = tokio::time::Instant::now() + deadline;
    loop {
        match f().await {
            Ok(value) => return Ok(value),
            Err(status) if tokio::time::Instant::now() >= until => {
                anyhow::bail!("{what}: {}", status.message())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

fn incident(
    title: &str,
    severity: pb::Severity,
    technique: &str,
    indicator: (pb::IndicatorKind, &str),
) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: title.into(),
        severity: severity as i32,
        techniques: vec![technique.into()],
        indicators: vec![pb::Indicator {
            kind: indicator.0 as i32,
            value: indicator.1.into(),
        }],
        ..Default::default()
    }
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::Builder::new().prefix("socfed-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let hub_bin = std::env::current_exe()?;
    let agent_bin = hub_bin.with_file_name("site-agent");
    anyhow::ensure!(
        agent_bin.exists(),
        "{} not found next to sirt-hub; build both binaries first: cargo build --bins",
        agent_bin.display()
    );
    std::fs::create_dir_all(dir.join("logs"))?;

    // 1. PKI.
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
            name: "demo-operator".into(),
        },
    )?;
    socfed_proto::outln!(
        "PKI: organisation CA for {DOMAIN}, hub, {} site and 1 operator certificates in {}",
        SITES.len(),
        pki_dir.display()
    );

    // 2. Hub and agents as processes.
    let mut children = Children(Vec::new());
    let hub_addr = free_addr()?;
    let mut hub_toml = format!(
        "listen = \"{hub_addr}\"\ndata_dir = {:?}\ntrust_domain = \"{DOMAIN}\"\n{}",
        dir.join("hub-data"),
        tls_toml(&hub_tls)
    );
    for site in SITES {
        hub_toml.push_str(&format!("[[sites]]\nid = \"{site}\"\n"));
    }
    let hub_config = dir.join("hub.toml");
    std::fs::write(&hub_config, hub_toml)?;
    spawn(
        &hub_bin,
        &hub_config,
        &dir.join("logs/hub.log"),
        "hub",
        &mut children,
    )?;
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
        let addr = free_addr()?;
        let config = dir.join(format!("{site}.toml"));
        std::fs::write(
            &config,
            format!(
                "site_id = \"{site}\"\ndata_dir = {:?}\ntrust_domain = \"{DOMAIN}\"\n{}[hub]\naddress = \"{hub_addr}\"\nstatus_interval = \"1s\"\n[local_api]\nlisten = \"{addr}\"\n[soc]\nmanagers = [\"demo-operator\"]\n",
                dir.join(format!("{site}-data")),
                tls_toml(&tls)
            ),
        )?;
        spawn(
            &agent_bin,
            &config,
            &dir.join(format!("logs/{site}.log")),
            site,
            &mut children,
        )?;
        agents.push((site, addr));
    }
    socfed_proto::outln!(
        "federation: hub on {hub_addr}, agents {}",
        agents
            .iter()
            .map(|(s, a)| format!("{s} on {a}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let material = TlsMaterial::load(&operator, domain.clone())?;
    let channel = |addr: SocketAddr, expected| -> anyhow::Result<Channel> {
        Ok(socfed_proto::tls::channel(
            &addr.to_string(),
            "127.0.0.1",
            material.client_config(expected)?,
            Duration::from_secs(5),
        )?)
    };
    let hub = OperatorClient::new(channel(hub_addr, ExpectedServer::Hub)?);
    let mut locals = Vec::new();
    for (site, addr) in &agents {
        let local =
            SiteLocalClient::new(channel(*addr, ExpectedServer::Site(SiteId::parse(site)?))?);
        retry(
            &format!("agent {site} did not come up (see {}/logs)", dir.display()),
            Duration::from_secs(30),
            || {
                let mut local = local.clone();
                async move { local.get_status(pb::GetStatusRequest {}).await }
            },
        )
        .await?;
        locals.push(local);
    }

    // 3. Incidents at the sites: the same phishing campaign hits Paris and Lyon.
    use pb::IndicatorKind::{Domain, Email, Ipv4, Sha256};
    use pb::Severity::{Critical, High, Medium};
    let raised = [
        (
            0,
            incident(
                "Credential phishing wave against finance",
                High,
                "T1566.002",
                (Domain, "login-m1crosoft.example"),
            ),
        ),
        (
            1,
            incident(
                "Phishing link clicked by 4 users",
                Critical,
                "T1566.002",
                (Domain, "LOGIN-M1CROSOFT.example"),
            ),
        ),
        (
            2,
            incident(
                "Encoded PowerShell on build server",
                Medium,
                "T1059.001",
                (
                    Sha256,
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                ),
            ),
        ),
        (
            0,
            incident(
                "RDP brute force from known scanner",
                Medium,
                "T1110.001",
                (Ipv4, "203.0.113.45"),
            ),
        ),
        (
            1,
            incident(
                "Impossible-travel sign-in for the CFO",
                High,
                "T1078.004",
                (Email, "cfo@corp.example"),
            ),
        ),
        (
            2,
            incident(
                "Mass file renames on the NAS",
                Critical,
                "T1486",
                (Ipv4, "198.51.100.23"),
            ),
        ),
    ];
    for (done, (index, request)) in raised.iter().enumerate() {
        let (site, _) = agents[*index];
        let response = locals[*index]
            .raise_incident(request.clone())
            .await
            .map_err(|s| anyhow::anyhow!("raising at {site}: {}", s.message()))?;
        socfed_proto::outln!(
            "  {site:<6} raised {} \"{}\"",
            response.into_inner().local_incident_id,
            request.title
        );
        // Sites deliver independently; waiting for each keeps the story (and its output) in
        // the order it was told.
        wait_for_sightings(&hub, done + 1).await?;
    }

    // 4. Show cross-site status.
    let incidents = wait_for_sightings(&hub, raised.len()).await?;
    let sites = retry("sites", Duration::from_secs(10), || {
        let mut hub = hub.clone();
        async move {
            Ok(hub
                .list_sites(pb::ListSitesRequest {})
                .await?
                .into_inner()
                .sites)
        }
    })
    .await?;
    socfed_proto::outln!(
        "\ncross-site incidents at the hub ({} escalations, {} incidents):",
        raised.len(),
        incidents.len()
    );
    socfed_proto::outln!("{}", render::incidents_table(&incidents));
    if let Some(shared) = incidents.iter().find(|i| i.sightings.len() > 1) {
        socfed_proto::outln!(
            "\none threat, {} sites:\n{}",
            shared.sightings.len(),
            render::incident_detail(shared)
        );
    }
    socfed_proto::outln!("\nsites:\n{}", render::sites_table(&sites));

    if args.keep_running {
        let exe = hub_bin.display();
        let agent = agent_bin.display();
        socfed_proto::outln!(
            "\nThe federation keeps running (Ctrl-C stops it). In another shell:\n"
        );
        socfed_proto::outln!(
            "  export SOCFED_CA={} SOCFED_CERT={} SOCFED_KEY={}",
            operator.ca.display(),
            operator.cert.display(),
            operator.key.display()
        );
        socfed_proto::outln!("  {exe} incidents list --hub {hub_addr}");
        socfed_proto::outln!("  {exe} incidents watch --hub {hub_addr}");
        socfed_proto::outln!("  {exe} sites --hub {hub_addr} --output json");
        socfed_proto::outln!(
            "  {agent} escalate --agent {} --title \"Beacon to login-m1crosoft.example\" --severity high --indicator domain:login-m1crosoft.example --technique T1566.002",
            agents[2].1
        );
        socfed_proto::outln!("  {agent} status --agent {}", agents[0].1);
        socfed_proto::outln!("\nlogs: {}/logs", dir.display());
        socfed_proto::cli::wait_for_signal().await;
    }
    children.terminate()?;
    socfed_proto::outln!("\nfederation stopped cleanly");
    Ok(())
}

/// Polls the hub until it holds `expected` sightings in all; returns the incidents.
async fn wait_for_sightings(
    hub: &OperatorClient<Channel>,
    expected: usize,
) -> anyhow::Result<Vec<pb::HubIncident>> {
    retry(
        "the hub did not receive every escalation in time",
        Duration::from_secs(30),
        || {
            let mut hub = hub.clone();
            async move {
                let list = hub
                    .list_incidents(pb::ListIncidentsRequest::default())
                    .await?
                    .into_inner()
                    .incidents;
                let sightings: usize = list.iter().map(|i| i.sightings.len()).sum();
                if sightings == expected {
                    Ok(list)
                } else {
                    Err(tonic::Status::unavailable("not yet"))
                }
            }
        },
    )
    .await
}
