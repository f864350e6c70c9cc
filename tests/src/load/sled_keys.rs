//! Scenario `sled-keys`: what sled itself does with the product's write shape, to tell the
//! product's overhead from the engine's. For each count K of keys per item, N items are
//! written K keys each (one 16-byte time-ordered key with the item's bytes, then small index
//! entries, every other one under a random key as fingerprints are), with a flush and the
//! stores' fdatasync every `unit` items, the hub store's cache; once with plain inserts (the
//! ceiling `socfed-load` compares against, at K = 1) and once with one multi-tree transaction
//! per unit, which is how both stores commit (`store_kit::unit`: all or nothing after a crash).
//! Keys per second staying flat as K grows means sled's cost is per key: a service writing K
//! keys per item cannot go past the K row whatever else it does.

use super::StorageSettings;
use sled::Transactional;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone, clap::Args)]
pub struct SledKeysArgs {
    /// Key counts per item to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8")]
    pub keys: Vec<usize>,
    /// Items written per key count and mode.
    #[arg(long, default_value_t = 50_000)]
    pub items: u64,
    /// Items per commit (flush and fdatasync after each).
    #[arg(long, default_value_t = 256)]
    pub unit: u64,
    /// Bytes of each item's first value (the record).
    #[arg(long, default_value_t = 500)]
    pub bytes: usize,
    /// Bytes of each further value (an index entry).
    #[arg(long, default_value_t = 40)]
    pub index_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Insert,
    Transaction,
}

pub async fn run(
    args: &SledKeysArgs,
    dir: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(
        args.unit > 0 && args.items > 0,
        "--unit and --items must be at least 1"
    );
    let mut rows = Vec::new();
    for &keys in &args.keys {
        anyhow::ensure!((1..=64).contains(&keys), "--keys takes counts from 1 to 64");
        for mode in [Mode::Insert, Mode::Transaction] {
            let path = dir.join(format!("sled-keys-{keys}-{mode:?}"));
            let owned = args.clone();
            let took = tokio::task::spawn_blocking(move || write_items(&path, keys, mode, &owned))
                .await??;
            let items_per_second = args.items as f64 / took.max(f64::MIN_POSITIVE);
            say(format!(
                "  {keys} keys per item, {mode:?}: {items_per_second:.0} items/s, {:.0} keys/s",
                items_per_second * keys as f64
            ));
            rows.push(serde_json::json!({
                "keys_per_item": keys,
                "mode": format!("{mode:?}").to_lowercase(),
                "items_per_second": items_per_second,
                "keys_per_second": items_per_second * keys as f64,
            }));
            let _ = std::fs::remove_dir_all(dir.join(format!("sled-keys-{keys}-{mode:?}")));
        }
    }
    Ok(serde_json::json!({
        "scenario": "sled-keys",
        "machine": crate::bench::machine(),
        "items": args.items, "unit": args.unit, "bytes": args.bytes, "index_bytes": args.index_bytes,
        "rows": rows,
    }))
}

/// Writes the items and returns the seconds it took, flushes and fdatasyncs included.
fn write_items(dir: &Path, keys: usize, mode: Mode, args: &SledKeysArgs) -> anyhow::Result<f64> {
    let settings = StorageSettings::hub();
    socfed_runtime::store_files::private_dir(dir)?;
    let mut config = socfed_runtime::store_files::sled_config(dir)?;
    if let Some(cache) = settings.cache_bytes {
        config = config.cache_capacity(cache);
    }
    let db = config.open()?;
    let sync = socfed_runtime::store_files::DataSync::open(dir, settings.durability)?;
    let trees = (0..keys)
        .map(|k| db.open_tree(format!("t{k}")))
        .collect::<Result<Vec<_>, _>>()?;
    let record = vec![7u8; args.bytes];
    let entry = vec![9u8; args.index_bytes];
    let started = Instant::now();
    let mut pending: Vec<(usize, Vec<u8>, &[u8])> = Vec::new();
    for i in 0..args.items {
        for k in 0..keys {
            pending.push((k, key_for(i, k), if k == 0 { &record } else { &entry }));
        }
        if (i + 1) % args.unit == 0 || i + 1 == args.items {
            commit(&trees, &mut pending, mode)?;
            db.flush()?;
            sync.after_flush()?;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Key `k` of item `i`: time-ordered for the record and every even index, random (a hash)
/// for the odd ones, as fingerprints are.
fn key_for(i: u64, k: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(16);
    if k % 2 == 1 {
        let hash = blake3::hash(&[i.to_be_bytes(), (k as u64).to_be_bytes()].concat());
        key.extend_from_slice(&hash.as_bytes()[..16]);
    } else {
        key.extend_from_slice(&i.to_be_bytes());
        key.extend_from_slice(&(k as u64).to_be_bytes());
    }
    key
}

fn commit(
    trees: &[sled::Tree],
    pending: &mut Vec<(usize, Vec<u8>, &[u8])>,
    mode: Mode,
) -> anyhow::Result<()> {
    match mode {
        Mode::Insert => {
            for (k, key, value) in pending.iter() {
                trees[*k].insert(key.as_slice(), *value)?;
            }
        }
        Mode::Transaction => {
            trees
                .transaction(|view| {
                    for (k, key, value) in pending.iter() {
                        view[*k].insert(key.as_slice(), *value)?;
                    }
                    Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
                })
                .map_err(|e| anyhow::anyhow!("transaction failed: {e:?}"))?;
        }
    }
    pending.clear();
    Ok(())
}

/// Prints a `sled-keys` summary as a table.
pub fn print(summary: &serde_json::Value) {
    println!(
        "machine: {}; {} items per row, {} per commit (flush + fdatasync), the hub store's cache",
        summary["machine"].as_str().unwrap_or(""),
        summary["items"],
        summary["unit"]
    );
    println!("| keys per item | mode | items/s | keys/s |");
    println!("|---|---|---|---|");
    for row in summary["rows"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k].as_f64().unwrap_or(0.0);
        println!(
            "| {} | {} | {:.0} | {:.0} |",
            row["keys_per_item"],
            row["mode"].as_str().unwrap_or(""),
            f("items_per_second"),
            f("keys_per_second")
        );
    }
}
