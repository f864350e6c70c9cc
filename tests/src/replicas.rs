//! Hub replicas as real processes over one PostgreSQL schema: the `[store]` table every replica
//! of a test shares (the URL in a file, the CA, the test's schema), the replicas after the
//! first of a [`crate::federation::Federation`] (same PKI, hub certificate and audit key; own
//! data dir, port and log), and the agents' `[hub] addresses` naming them all.

use crate::federation::Spec;
use crate::pki::TestPki;
use crate::postgres::TestDatabase;
use crate::procs::{Proc, binary, write_hub_config};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::sync::Mutex;

/// One hub replica after the first.
pub struct Replica {
    pub addr: SocketAddr,
    pub proc: Mutex<Proc>,
    /// Its config, data dir and nothing else.
    pub dir: PathBuf,
}

/// The `[store]` table of every replica on `db`'s schema; the URL (it holds the password)
/// goes to a file in `dir`.
pub fn store_section(db: &TestDatabase, dir: &Path) -> anyhow::Result<String> {
    let url_file = dir.join("database-url");
    std::fs::write(&url_file, db.url())?;
    let mut text = format!(
        "[store]\nkind = \"postgres\"\nurl_file = {:?}\nschema = \"{}\"\n",
        url_file.display().to_string(),
        db.schema()
    );
    if let Some(ca) = db.ca_file() {
        text.push_str(&format!("ca_file = {:?}\n", ca.display().to_string()));
    }
    Ok(text)
}

/// Starts the replicas after the first that `spec.replicas` asks for, each in `DIR/replica-N`
/// with `spec.hub_extra` and its own entry appended to its config.
pub fn spawn(
    dir: &Path,
    pki: &TestPki,
    sites: &[&str],
    spec: &Spec,
) -> anyhow::Result<Vec<Replica>> {
    let mut replicas = Vec::new();
    for (index, extra) in spec.replicas.iter().enumerate().skip(1) {
        let replica_dir = dir.join(format!("replica-{index}"));
        std::fs::create_dir_all(&replica_dir)?;
        let addr: SocketAddr = format!("127.0.0.1:{}", crate::free_port()?).parse()?;
        let config = write_hub_config(
            &replica_dir,
            pki,
            addr,
            sites,
            &format!("{}\n{extra}", spec.hub_extra),
        )?;
        let proc = Proc::spawn(
            &binary("sirt-hub")?,
            &["serve", "--config", &config.display().to_string()],
            dir.join(format!("replica-{index}.log")),
            &format!("hub replica {index}"),
        )?;
        replicas.push(Replica {
            addr,
            proc: Mutex::new(proc),
            dir: replica_dir,
        });
    }
    Ok(replicas)
}

/// Replaces `address = "UPLINK"` in the agent config at `path` with every hub's address.
pub fn list_hubs(path: &Path, uplink: SocketAddr, hubs: &[String]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let single = format!("address = \"{uplink}\"");
    anyhow::ensure!(text.contains(&single), "no {single} in {}", path.display());
    let text = text.replacen(&single, &format!("addresses = [{}]", hubs.join(", ")), 1);
    std::fs::write(path, text)?;
    Ok(())
}
