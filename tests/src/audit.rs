//! Reading the refusal records of a stopped hub's audit chain: the one helper every security
//! test uses to check that a refusal was audited (who, from where, which API, why, how many).

use std::path::Path;

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
    let store = sirt_hub::store::HubStore::open(data_dir, sirt_hub::store::Durability::Flush)?;
    let (_, problem) = store.verify_audit()?;
    anyhow::ensure!(problem.is_none(), "audit chain broken: {problem:?}");
    let mut out = Vec::new();
    for entry in store.audit_entries()? {
        let d = entry.draft;
        if d.action != sirt_hub::refusals::ACTION {
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
