//! The files of a sled store that sled itself does not look after (used by the agent and the
//! hub stores, and by `db export|import`): who may read them, and making sled's blob files
//! durable.
//!
//! **Modes.** A store holds TLP:RED incidents, so its directory is created `0700` and
//! tightened to `0700` if it already exists, whatever the umask; sled's files inside are set
//! to `0600` after open (the directory alone already makes them unreachable to other users;
//! this also covers a store copied in with looser modes). Files this project writes itself
//! (the commit witness, dumps, the audit key) are created `0600` from the first byte.
//!
//! **Blobs.** sled 0.34 writes any log message larger than a quarter of its segment (512 KiB
//! by default, so about 128 KiB) to its own file under `DIR/blobs/` and never syncs it
//! (`write_blob` in sled's `pagecache/blob_io.rs`); the store's log only points at it. The
//! stores bound what they write so that no value comes near that size (docs/RELIABILITY.md,
//! "Large values"), but a leaf node holding many values is one log message too. As a safety
//! net, [`BlobSync`] syncs every blob file written since the last sync, and the `blobs`
//! directory, after sled's flush and before the store acknowledges anything.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Directories of a store: only the service's user.
pub const DIR_MODE: u32 = 0o700;
/// Files of a store, dumps, witness and keys: only the service's user.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode `0700`, or tightens an existing one to `0700`.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    // The mode given to mkdir is filtered by the umask, and an existing directory keeps its
    // own: set it explicitly.
    std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
}

/// Sets sled's files in `dir` to `0600` and its directories (`blobs`) to `0700`.
pub fn restrict_contents(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::set_permissions(entry.path(), Permissions::from_mode(DIR_MODE))?;
            restrict_contents(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), Permissions::from_mode(FILE_MODE))?;
        }
    }
    Ok(())
}

/// Creates a new file (never replacing one) with mode `0600` whatever the umask.
pub fn create_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    // An existing umask can only remove bits, never add them; this is a belt for odd
    // filesystems that ignore the create mode.
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}

/// Writes `contents` to `path` through a temporary file and a rename, mode `0600`.
pub fn replace_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp"));
    // A temporary file left by a crash is ours to replace.
    match std::fs::remove_file(&temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = create_private(&temp)?;
    file.write_all(contents)?;
    drop(file);
    std::fs::rename(&temp, path)
}

/// Syncs sled's blob files before an acknowledgement (see the module docs).
#[derive(Debug)]
pub struct BlobSync {
    blobs: PathBuf,
    /// Blob files already synced, with the length they had then. sled writes a blob in a few
    /// writes after creating it, possibly while a sync runs; a file seen at another length is
    /// synced again. Blobs are never appended to once complete.
    synced: HashMap<OsString, u64>,
}

impl BlobSync {
    pub fn new(store_dir: &Path) -> Self {
        Self {
            blobs: store_dir.join("blobs"),
            synced: HashMap::new(),
        }
    }

    /// Syncs every blob file not synced at its current length, then the `blobs` directory if
    /// any was. Returns how many files were synced (0, a directory listing, when there are
    /// none: the common case).
    pub fn sync(&mut self) -> io::Result<usize> {
        let listing = match std::fs::read_dir(&self.blobs) {
            Ok(listing) => listing,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut present = HashMap::new();
        let mut synced = 0;
        for entry in listing {
            let entry = entry?;
            let name = entry.file_name();
            let len = match entry.metadata() {
                Ok(meta) if meta.is_file() => meta.len(),
                Ok(_) => continue,
                // Removed by sled's blob collection since the listing.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if self.synced.get(&name) != Some(&len) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                synced += 1;
            }
            present.insert(name, len);
        }
        if synced > 0 {
            // The new directory entries, so that the files are found after a power loss.
            File::open(&self.blobs)?.sync_all()?;
        }
        // Forget blobs sled has collected, so the map stays as small as the directory.
        self.synced = present;
        Ok(synced)
    }
}

/// Syncs a directory, so that files created or renamed in it survive a power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_private_whatever_they_were() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("a/store");
        private_dir(&dir).expect("create");
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).expect("chmod");
        std::fs::create_dir(dir.join("blobs")).expect("mkdir");
        std::fs::write(dir.join("db"), b"x").expect("write");
        std::fs::write(dir.join("blobs/7"), b"x").expect("write");
        std::fs::set_permissions(dir.join("db"), Permissions::from_mode(0o644)).expect("chmod");
        private_dir(&dir).expect("existing");
        restrict_contents(&dir).expect("restrict");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("blobs")), 0o700);
        assert_eq!(mode(&dir.join("db")), 0o600);
        assert_eq!(mode(&dir.join("blobs/7")), 0o600);

        replace_private(&dir.join("w"), b"one").expect("write");
        replace_private(&dir.join("w"), b"two").expect("replace");
        assert_eq!(std::fs::read(dir.join("w")).expect("read"), b"two");
        assert_eq!(mode(&dir.join("w")), 0o600);
        assert!(create_private(&dir.join("w")).is_err(), "never replaces");
    }

    #[test]
    fn blob_files_are_synced_once_at_each_length() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut sync = BlobSync::new(tmp.path());
        assert_eq!(sync.sync().expect("no blobs dir"), 0);
        std::fs::create_dir(tmp.path().join("blobs")).expect("mkdir");
        assert_eq!(sync.sync().expect("empty"), 0);
        std::fs::write(tmp.path().join("blobs/10"), b"part").expect("write");
        assert_eq!(sync.sync().expect("one"), 1);
        assert_eq!(sync.sync().expect("again"), 0, "already synced");
        std::fs::write(tmp.path().join("blobs/10"), b"partial, now whole").expect("write");
        std::fs::write(tmp.path().join("blobs/11"), b"b").expect("write");
        assert_eq!(sync.sync().expect("grown and new"), 2);
        std::fs::remove_file(tmp.path().join("blobs/10")).expect("rm");
        assert_eq!(sync.sync().expect("collected"), 0);
        assert_eq!(sync.synced.len(), 1);
    }
}
