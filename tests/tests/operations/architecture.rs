//! docs/ARCHITECTURE.md stays true where a test can tell: its entry-point table names every
//! subcommand of both binaries (read from clap's command tree, never a copy of it), and its
//! storage tables name every tree a new store opens (read from a real store in a temp dir),
//! and its code map names every source file of every crate (read from the source tree).
//! The metrics table is checked by `metrics_catalog.rs`, the example configs by
//! `packaging.rs`.

use clap::CommandFactory;
use socfed_runtime::audit::ChainKey;
use std::collections::BTreeSet;
use std::path::Path;

fn architecture() -> anyhow::Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/ARCHITECTURE.md");
    Ok(std::fs::read_to_string(path)?)
}

/// The lines of the section under `heading` (a whole line), up to the next heading.
fn section<'a>(doc: &'a str, heading: &str) -> anyhow::Result<Vec<&'a str>> {
    let mut lines = doc.lines().skip_while(|l| *l != heading);
    anyhow::ensure!(lines.next().is_some(), "no section {heading:?}");
    Ok(lines.take_while(|l| !l.starts_with('#')).collect())
}

/// The table cells of `lines`, one row each, without the header and separator rows.
fn rows<'a>(lines: &[&'a str]) -> Vec<Vec<&'a str>> {
    lines
        .iter()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .skip(1)
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect()
}

fn unquoted(cell: &str) -> String {
    cell.trim_matches('`').to_string()
}

#[test]
fn the_entry_point_table_names_every_subcommand_of_both_binaries() -> anyhow::Result<()> {
    let doc = architecture()?;
    let table = rows(&section(&doc, "## Entry points")?);
    for (binary, command) in [
        ("sirt-hub", sirt_hub::cli::Cli::command()),
        ("site-agent", site_agent::cli::Cli::command()),
    ] {
        let documented: BTreeSet<String> = table
            .iter()
            .filter(|row| row.first().map(|c| unquoted(c)) == Some(binary.to_string()))
            .filter_map(|row| row.get(1).map(|c| unquoted(c)))
            .collect();
        let actual: BTreeSet<String> = command
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        assert_eq!(
            documented, actual,
            "docs/ARCHITECTURE.md, \"Entry points\": the rows for {binary} must name exactly its subcommands"
        );
    }
    Ok(())
}

/// The trees a freshly opened store in `dir` has, as sled lists them. sled's flusher thread
/// may hold the store's file lock for a moment after the store is dropped in this process:
/// the open is retried while the lock is busy, up to a deadline.
fn trees(dir: &Path) -> anyhow::Result<BTreeSet<String>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let db = loop {
        match socfed_runtime::store_files::sled_config(dir)?.open() {
            Ok(db) => break db,
            Err(e)
                if socfed_runtime::store_files::lock_busy(&e)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    };
    Ok(db
        .tree_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .filter(|n| n != "__sled__default")
        .collect())
}

fn documented_trees(doc: &str, heading: &str) -> anyhow::Result<BTreeSet<String>> {
    Ok(rows(&section(doc, heading)?)
        .iter()
        .filter_map(|row| row.first().map(|c| unquoted(c)))
        .collect())
}

#[test]
fn the_storage_tables_name_every_tree_of_both_stores() -> anyhow::Result<()> {
    let doc = architecture()?;
    let tmp = tempfile::tempdir()?;
    let hub_dir = tmp.path().join("hub");
    drop(sirt_hub::store::HubStore::open(
        &hub_dir,
        sirt_hub::store::Durability::Flush,
        ChainKey::from_bytes([7; 32]),
    )?);
    assert_eq!(
        documented_trees(&doc, "### Hub (`sirt-hub/src/store/schema.rs`)")?,
        trees(&hub_dir)?,
        "docs/ARCHITECTURE.md, the hub's storage table must name exactly the trees a hub store has"
    );
    let agent_dir = tmp.path().join("agent");
    drop(site_agent::store::AgentStore::open(
        &agent_dir,
        site_agent::store::Durability::Fsync,
        64 * 1024 * 1024,
        ChainKey::from_bytes([7; 32]),
    )?);
    assert_eq!(
        documented_trees(&doc, "### Agent (`site-agent/src/store/schema.rs`)")?,
        trees(&agent_dir)?,
        "docs/ARCHITECTURE.md, the agent's storage table must name exactly the trees an agent store has"
    );
    Ok(())
}

/// The names a crate's code map must mention for its source files under `src`: `name.rs` for a
/// file, `name/` for a folder module (its `mod.rs`). Tests (`tests.rs`, `*_tests.rs`, `tests/`)
/// and crate roots are left out: they are not modules a reader looks for.
fn module_names(src: &Path) -> anyhow::Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if path.is_dir() {
                if name != "tests" {
                    folders.push(path);
                }
                continue;
            }
            let test_file = name == "tests.rs" || name.ends_with("_tests.rs");
            if !name.ends_with(".rs") || test_file || name == "lib.rs" || name == "main.rs" {
                continue;
            }
            if name == "mod.rs" {
                if folder != src {
                    let dir = folder
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    names.insert(format!("{dir}/"));
                }
            } else {
                names.insert(name);
            }
        }
    }
    Ok(names)
}

#[test]
fn the_code_map_names_every_source_file_of_every_crate() -> anyhow::Result<()> {
    let doc = architecture()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (heading, src) in [
        ("### `proto/` ", "proto/src"),
        ("### `proto/runtime/` ", "proto/runtime/src"),
        ("### `sirt-hub/` ", "sirt-hub/src"),
        ("### `site-agent/` ", "site-agent/src"),
        ("### `tests/` ", "tests/src"),
    ] {
        let mut lines = doc.lines().skip_while(|l| !l.starts_with(heading));
        anyhow::ensure!(lines.next().is_some(), "no code map section {heading:?}");
        let text: String = lines
            .take_while(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let missing: Vec<String> = module_names(&root.join(src))?
            .into_iter()
            .filter(|name| {
                !text.contains(&format!("`{name}")) && !text.contains(&format!("/{name}"))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "docs/ARCHITECTURE.md, code map {heading:?}: say in a line what these modules of {src} own: {missing:?}"
        );
    }
    Ok(())
}
