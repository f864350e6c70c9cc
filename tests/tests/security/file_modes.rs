//! Who may read a store (issue items: stores and dumps private whatever the umask). The real
//! binaries run under `umask 022`, the usual default that makes new files world-readable; the
//! hub's and the agent's stores (TLP:RED incidents inside), their witnesses and a `db export`
//! dump must still be readable by their owner only.

use socfed_tests::procs::{Proc, binary, write_agent_config, write_hub_config};
use socfed_tests::{fixture::Org, free_port};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Runs `binary args…` through `sh` with `umask 022`.
fn under_umask_022(binary: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec![
        "-c".to_string(),
        "umask 022; exec \"$0\" \"$@\"".to_string(),
        binary.display().to_string(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    all
}

fn spawn_022(binary: &Path, args: &[&str], log: PathBuf, name: &str) -> anyhow::Result<Proc> {
    let args = under_umask_022(binary, args);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Proc::spawn(Path::new("/bin/sh"), &args, log, name)
}

/// Every path under `dir` (and `dir`) whose mode lets anyone but the owner in.
fn too_open(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        out.push(format!("{} {mode:o}", dir.display()));
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            out.extend(too_open(&entry.path())?);
        } else {
            let mode = entry.metadata()?.permissions().mode() & 0o777;
            if mode != 0o600 {
                out.push(format!("{} {mode:o}", entry.path().display()));
            }
        }
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_witnesses_and_dumps_are_private_under_umask_022() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let hub_config = write_hub_config(org.dir(), &org.pki, hub_addr, &["paris"], "")?;
    let mut hub = spawn_022(
        &binary("sirt-hub")?,
        &["serve", "--config", &hub_config.display().to_string()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    let agent_addr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent_config = write_agent_config(org.dir(), &org.pki, "paris", hub_addr, agent_addr, "")?;
    let mut agent = spawn_022(
        &binary("site-agent")?,
        &["serve", "--config", &agent_config.display().to_string()],
        org.dir().join("paris.log"),
        "paris",
    )?;
    let raised = socfed_tests::eventually(
        "the agent and hub to take an incident",
        std::time::Duration::from_secs(60),
        || async { org.raise_at_site(agent_addr, hub_addr, "red").await.ok() },
    )
    .await;
    let raised = match raised {
        Ok(id) => id,
        Err(e) => anyhow::bail!(
            "{e}\nhub:\n{}\nagent:\n{}",
            hub.log_tail(20),
            agent.log_tail(20)
        ),
    };
    assert!(!raised.is_empty());
    assert_eq!(agent.terminate()?, Some(0));
    assert_eq!(hub.terminate()?, Some(0));

    let hub_data = org.dir().join("hub-data");
    let agent_data = org.dir().join("paris-data");
    assert!(hub_data.join("socfed-committed").is_file());
    assert!(agent_data.join("socfed-committed").is_file());
    assert_eq!(too_open(&hub_data)?, Vec::<String>::new(), "hub store");
    assert_eq!(too_open(&agent_data)?, Vec::<String>::new(), "agent store");

    let dump = org.dir().join("hub.dump");
    let out = std::process::Command::new("/bin/sh")
        .args(under_umask_022(
            &binary("sirt-hub")?,
            &[
                "db",
                "export",
                "--config",
                &hub_config.display().to_string(),
                "--out",
                &dump.display().to_string(),
            ],
        ))
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = std::fs::metadata(&dump)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the dump holds every TLP:RED incident");

    // A store restored from it is private too.
    let restored = org.dir().join("restored");
    std::fs::create_dir_all(&restored)?;
    let restored_config = write_hub_config(&restored, &org.pki, hub_addr, &["paris"], "")?;
    let out = std::process::Command::new("/bin/sh")
        .args(under_umask_022(
            &binary("sirt-hub")?,
            &[
                "db",
                "import",
                "--config",
                &restored_config.display().to_string(),
                "--from",
                &dump.display().to_string(),
            ],
        ))
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(too_open(&restored.join("hub-data"))?, Vec::<String>::new());
    Ok(())
}
