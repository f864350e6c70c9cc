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
//! Files the store keeps beside sled (the hub's journal) travel in the same dump as
//! pseudo-trees (`dump_files.rs`); they are not checked record by record (the hub checks its
//! journal's frames when it opens and reads it).
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

fn open(dir: &Path) -> Result<sled::Db, DumpError> {
    crate::store_files::sled_config(dir)
        .map_err(sled::Error::Io)
        .and_then(|config| config.open())
        .map_err(|e| {
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
mod tests {
    use super::*;

    fn store(dir: &Path) -> sled::Db {
        let db = crate::store_files::sled_config(dir)
            .expect("conf")
            .open()
            .expect("store");
        db.open_tree("incidents")
            .and_then(|t| t.insert(b"k1", b"v1".to_vec()))
            .expect("insert");
        db.insert(b"meta", b"\x00\xff".to_vec()).expect("insert");
        db.flush().expect("flush");
        db
    }

    #[test]
    fn a_dump_round_trips_and_damage_or_the_wrong_tool_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        drop(store(&src));
        let mut dump = Vec::new();
        let out = export(&src, "sirt-hub", &mut dump, &|_| {}).expect("export");
        assert_eq!(out.entries, 2);
        let back = import(&dst, "sirt-hub", dump.as_slice(), &accept, &|_| {}).expect("import");
        assert_eq!(back, out);
        let db = crate::store_files::sled_config(&dst)
            .expect("conf")
            .open()
            .expect("open");
        assert_eq!(
            db.open_tree("incidents")
                .and_then(|t| t.get(b"k1"))
                .expect("get")
                .as_deref(),
            Some(&b"v1"[..])
        );
        drop(db);

        assert!(matches!(
            import(&dst, "sirt-hub", dump.as_slice(), &accept, &|_| {}),
            Err(DumpError::NotEmpty(_))
        ));
        let fresh = tmp.path().join("fresh");
        assert!(matches!(
            import(&fresh, "site-agent", dump.as_slice(), &accept, &|_| {}),
            Err(DumpError::WrongTool { .. })
        ));
        let mut edited = String::from_utf8(dump.clone()).expect("utf8");
        edited = edited.replacen("\"v\":\"7631\"", "\"v\":\"7632\"", 1);
        assert!(matches!(
            import(&fresh, "sirt-hub", edited.as_bytes(), &accept, &|_| {}),
            Err(DumpError::Format(_))
        ));
        assert!(!fresh.exists(), "a refused import leaves nothing behind");
        let truncated = &dump[..dump.len() - 20];
        assert!(import(&fresh, "sirt-hub", truncated, &accept, &|_| {}).is_err());
    }

    fn accept(_: &str, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn a_record_the_tool_cannot_read_is_refused_with_its_tree() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        drop(store(&src));
        let mut dump = Vec::new();
        export(&src, "sirt-hub", &mut dump, &|_| {}).expect("export");
        let picky = |tree: &str, _: &[u8], value: &[u8]| {
            if tree == "incidents" && value != b"v1" {
                Err(format!("tree {tree}: corrupt record"))
            } else {
                Ok(())
            }
        };
        import(&dst, "sirt-hub", dump.as_slice(), &picky, &|_| {}).expect("intact");
        let fresh = tmp.path().join("fresh");
        // The attacker's edit, with the checksum recomputed over the edited lines.
        let text = String::from_utf8(dump).expect("utf8");
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let trailer = lines.pop().expect("trailer");
        for line in &mut lines {
            *line = line.replacen("\"v\":\"7631\"", "\"v\":\"ffff\"", 1);
        }
        let mut hash = blake3::Hasher::new();
        let mut edited = String::new();
        for line in &lines {
            hash.update(line.as_bytes());
            hash.update(b"\n");
            edited.push_str(line);
            edited.push('\n');
        }
        let mut trailer: Trailer = serde_json::from_str(&trailer).expect("trailer");
        trailer.blake3 = hash.finalize().to_hex().to_string();
        edited.push_str(&serde_json::to_string(&trailer).expect("json"));
        edited.push('\n');
        let err = import(&fresh, "sirt-hub", edited.as_bytes(), &picky, &|_| {})
            .expect_err("corrupt record");
        assert!(err.to_string().contains("tree incidents"), "{err}");
        assert!(!fresh.exists(), "a refused import leaves nothing behind");
    }

    #[test]
    fn a_store_held_by_a_running_service_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let _held = store(tmp.path());
        let err = export(tmp.path(), "sirt-hub", Vec::new(), &|_| {}).expect_err("locked");
        assert!(matches!(err, DumpError::InUse(_)), "{err}");
    }
}
