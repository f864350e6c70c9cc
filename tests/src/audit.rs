//! Reading the refusal records of a stopped hub's audit chain: the one helper every security
//! test uses to check that a refusal was audited (who, from where, which API, why, how many).

use std::path::Path;

/// Opens a stopped hub's store with its audit key, found through the `hub.toml` that
/// `write_hub_config` put beside `data_dir`.
pub fn open_stopped_hub(data_dir: &Path) -> anyhow::Result<sirt_hub::store::HubStore> {
    let dir = data_dir
        .parent()
        .ok_or_else(|| anyhow::anyhow!("{} has no parent", data_dir.display()))?;
    let config = sirt_hub::config::HubConfig::load(&dir.join("hub.toml"))?;
    let key_path = socfed_runtime::audit_key::path_for(&config.tls.key);
    let (key, created) = socfed_runtime::audit_key::load_or_create(&key_path)?;
    anyhow::ensure!(!created, "no audit key at {}", key_path.display());
    // A hub stopped in this process may still hold sled's file lock for a moment (its
    // flusher thread ends after the drop): wait for the lock, not for a fixed time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sirt_hub::store::HubStore::open(
            data_dir,
            sirt_hub::store::Durability::Flush,
            key.clone(),
        ) {
            Ok(store) => return Ok(store),
            Err(e) if std::time::Instant::now() < deadline && e.to_string().contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// One `refused` audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub who: String,
    pub api: String,
    pub peer: String,
    pub reason: String,
    pub count: u64,
}

/// Every refusal record in the audit chain of the hub whose data directory is `data_dir`
/// (`hub-data` under the dir given to `write_hub_config`). The hub must be stopped. Also
/// checks the chain is intact.
pub fn refusals(data_dir: &Path) -> anyhow::Result<Vec<Refusal>> {
    records(data_dir, sirt_hub::refusals::ACTION)
}

/// Every coalesced record of `action` (`refused`, `stream.takeover`) in a stopped hub's
/// audit chain, after checking the chain is intact.
pub fn records(data_dir: &Path, action: &str) -> anyhow::Result<Vec<Refusal>> {
    let store = open_stopped_hub(data_dir)?;
    let (_, problem) = store.verify_audit()?;
    anyhow::ensure!(problem.is_none(), "audit chain broken: {problem:?}");
    let mut out = Vec::new();
    for entry in store.audit_entries()? {
        let d = entry.draft;
        if d.action != action {
            continue;
        }
        let after: serde_json::Value = serde_json::from_str(d.after.as_deref().unwrap_or("{}"))?;
        out.push(Refusal {
            who: d.actor,
            api: d.target,
            peer: after["peer"].as_str().unwrap_or_default().to_string(),
            reason: after["reason"].as_str().unwrap_or_default().to_string(),
            count: after["count"].as_u64().unwrap_or(0),
        });
    }
    Ok(out)
}

/// Refusals of `api` whose actor and reason contain the given texts, summed over records.
pub fn count(records: &[Refusal], api: &str, who: &str, reason: &str) -> u64 {
    records
        .iter()
        .filter(|r| r.api == api && r.who.contains(who) && r.reason.contains(reason))
        .map(|r| r.count)
        .sum()
}
