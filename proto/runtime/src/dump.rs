//! Store backups: a sled store written out as a versioned, checksummed dump, and read back
//! into a new store. Used by `sirt-hub db export|import` and `site-agent db export|import`.
//!
//! Format (text, one JSON object per line): a header naming the tool and the trees, one line
//! per key/value (`t` tree index, `k` and `v` hex), and a trailer with the entry count and the
//! BLAKE3 hash of every byte before it. Import refuses a dump of another tool, a truncated or
//! edited dump, and a target directory that already holds a store.
//!
//! Import also checks every record with the tool's own check (each value decodes with its
//! store's codec into the type its tree holds): the checksum only shows the dump is the one
//! written, and anyone can recompute it, so a record that a hub or agent could not read is
//! refused here, naming the tree and the line.
//!
//! Files the store keeps beside sled (the hub's journal, the agent's sample journal) travel
//! in the same dump as pseudo-trees (`dump_files.rs`); they are not checked record by record
//! (each service checks its journal's frames when it opens and reads it).
//!
//! Opening the store takes sled's exclusive lock, so both commands refuse to run against a
//! store that a running service holds.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::Path;

const FORMAT: &str = "socfed-store-dump";
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(
        "the store at {0} is in use (is the service running?); stop it first, e.g. `systemctl stop socfed-hub`"
    )]
    InUse(String),
    #[error("{0} already holds a store; import into a new, empty directory")]
    NotEmpty(String),
    #[error("store: {0}")]
    Store(#[from] sled::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a socfed dump, or damaged: {0}")]
    Format(String),
    #[error("this is a dump of {found}, not of {expected}")]
    WrongTool { found: String, expected: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    tool: String,
    trees: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    t: usize,
    k: String,
    v: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    entries: u64,
    blake3: String,
}

/// A tool's check of one record: `(tree name, key, value)`, an error naming what is wrong.
pub type Check<'a> = &'a dyn Fn(&str, &[u8], &[u8]) -> Result<(), String>;

/// What a dump held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub trees: usize,
    pub entries: u64,
}

/// Where an imported pseudo-tree's entries go.
enum Target {
    Tree(sled::Tree),
    /// A side file (`dump_files.rs`).
    File(std::path::PathBuf),
}

/// Opens the stopped store in `dir` for a `db` command; a store a service holds is refused as
/// in use. A store closed a moment ago in this process is released by sled's flusher thread,
/// so the lock is waited for briefly.
pub(crate) fn open(dir: &Path) -> Result<sled::Db, DumpError> {
    crate::store_files::open_when_released(dir, std::time::Duration::from_secs(2)).map_err(|e| {
        if crate::store_files::lock_busy(&e) {
            DumpError::InUse(dir.display().to_string())
        } else {
            DumpError::Store(e)
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    socfed_proto::hex::encode(bytes)
}

fn unhex(text: &str) -> Result<Vec<u8>, DumpError> {
    socfed_proto::hex::decode(text).ok_or_else(|| DumpError::Format("bad hex".into()))
}

/// Hashes and writes lines.
struct Hashing<W: Write> {
    out: W,
    hash: blake3::Hasher,
}

impl<W: Write> Hashing<W> {
    fn line(&mut self, value: &impl Serialize) -> Result<(), DumpError> {
        let mut text =
            serde_json::to_string(value).map_err(|e| DumpError::Format(e.to_string()))?;
        text.push('\n');
        self.hash.update(text.as_bytes());
        self.out.write_all(text.as_bytes())?;
        Ok(())
    }
}

/// Writes the store in `dir` to `out`; `progress` is called with the entry count so far.
pub fn export(
    dir: &Path,
    tool: &str,
    out: impl Write,
    progress: &dyn Fn(u64),
) -> Result<Summary, DumpError> {
    if !dir.join("db").exists() {
        return Err(DumpError::Format(format!(
            "{} holds no store",
            dir.display()
        )));
    }
    let db = open(dir)?;
    let names: Vec<sled::IVec> = db.tree_names();
    let files = crate::dump_files::side_files(dir)?;
    let mut w = Hashing {
        out,
        hash: blake3::Hasher::new(),
    };
    w.line(&Header {
        format: FORMAT.into(),
        version: VERSION,
        tool: tool.into(),
        trees: names
            .iter()
            .map(|n| hex(n))
            .chain(files.iter().map(|(name, _)| hex(name.as_bytes())))
            .collect(),
    })?;
    let mut entries = 0u64;
    for (t, name) in names.iter().enumerate() {
        for item in db.open_tree(name)?.iter() {
            let (k, v) = item?;
            w.line(&Entry {
                t,
                k: hex(&k),
                v: hex(&v),
            })?;
            entries += 1;
            if entries.is_multiple_of(10_000) {
                progress(entries);
            }
        }
    }
    for (i, (_, path)) in files.iter().enumerate() {
        let t = names.len() + i;
        crate::dump_files::chunks(path, |offset, bytes| {
            w.line(&Entry {
                t,
                k: hex(&offset.to_be_bytes()),
                v: hex(bytes),
            })?;
            entries += 1;
            Ok(())
        })?;
    }
    let digest = w.hash.finalize().to_hex().to_string();
    w.line(&Trailer {
        entries,
        blake3: digest,
    })?;
    w.out.flush()?;
    progress(entries);
    Ok(Summary {
        trees: names.len(),
        entries,
    })
}

/// Reads a dump of `tool` into a new store at `dir` (absent or empty), verifying it whole
/// before the store is flushed; a bad dump leaves no store behind.
pub fn import(
    dir: &Path,
    tool: &str,
    input: impl BufRead,
    check: Check<'_>,
    progress: &dyn Fn(u64),
) -> Result<Summary, DumpError> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(DumpError::NotEmpty(dir.display().to_string()));
    }
    let result = import_into(dir, tool, input, check, progress);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

fn import_into(
    dir: &Path,
    tool: &str,
    input: impl BufRead,
    check: Check<'_>,
    progress: &dyn Fn(u64),
) -> Result<Summary, DumpError> {
    let mut lines = input.lines();
    let mut hash = blake3::Hasher::new();
    let mut next = |hash: &mut blake3::Hasher, hashed: bool| -> Result<String, DumpError> {
        let line = lines
            .next()
            .ok_or_else(|| DumpError::Format("the dump ends early (truncated?)".into()))??;
        if hashed {
            hash.update(line.as_bytes());
            hash.update(b"\n");
        }
        Ok(line)
    };
    let header: Header = serde_json::from_str(&next(&mut hash, true)?)
        .map_err(|e| DumpError::Format(format!("header: {e}")))?;
    if header.format != FORMAT || header.version != VERSION {
        return Err(DumpError::Format(format!(
            "format {} version {} is not understood by this build",
            header.format, header.version
        )));
    }
    if header.tool != tool {
        return Err(DumpError::WrongTool {
            found: header.tool,
            expected: tool.into(),
        });
    }
    crate::store_files::private_dir(dir)?;
    let db = open(dir)?;
    let names: Vec<String> = header
        .trees
        .iter()
        .map(|name| Ok(String::from_utf8_lossy(&unhex(name)?).into_owned()))
        .collect::<Result<_, DumpError>>()?;
    let trees: Vec<Target> = names
        .iter()
        .map(|name| {
            Ok(if name.starts_with(crate::dump_files::FILE_PREFIX) {
                Target::File(crate::dump_files::create(dir, name)?)
            } else {
                Target::Tree(db.open_tree(name.as_bytes())?)
            })
        })
        .collect::<Result<_, DumpError>>()?;
    let mut entries = 0u64;
    loop {
        let before = hash.clone();
        let line = next(&mut hash, true)?;
        if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
            let tree = trees.get(entry.t).ok_or_else(|| {
                DumpError::Format(format!("tree {} is not in the header", entry.t))
            })?;
            let (key, value) = (unhex(&entry.k)?, unhex(&entry.v)?);
            let tree = match tree {
                Target::Tree(tree) => tree,
                Target::File(path) => {
                    crate::dump_files::write_chunk(path, &key, &value)?;
                    entries += 1;
                    continue;
                }
            };
            check(&names[entry.t], &key, &value).map_err(|problem| {
                DumpError::Format(format!(
                    "entry {} (line {}): {problem}; the dump was edited or damaged, import an intact one",
                    entries + 1,
                    entries + 2
                ))
            })?;
            tree.insert(key, value)?;
            entries += 1;
            if entries.is_multiple_of(10_000) {
                progress(entries);
            }
            continue;
        }
        let trailer: Trailer = serde_json::from_str(&line)
            .map_err(|e| DumpError::Format(format!("line after {entries} entries: {e}")))?;
        if trailer.entries != entries || before.finalize().to_hex().as_str() != trailer.blake3 {
            return Err(DumpError::Format(
                "checksum or entry count does not match: the dump was edited or damaged".into(),
            ));
        }
        break;
    }
    db.flush()?;
    crate::dump_files::sync(dir)?;
    crate::store_files::restrict_contents(dir)?;
    progress(entries);
    Ok(Summary {
        trees: trees
            .iter()
            .filter(|t| matches!(t, Target::Tree(_)))
            .count(),
        entries,
    })
}

#[cfg(test)]
#[path = "dump_tests.rs"]
mod tests;
