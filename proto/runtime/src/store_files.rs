//! The files of a sled store that sled itself does not look after (used by the agent and the
//! hub stores, and by `db export|import`): who may read them, and making sled's blob files
//! durable.
//!
//! **Power-safe flushes.** sled's own flush only survives a process crash: in `fsync` mode a
//! store syncs sled's log file and blob files after each flush ([`DataSync`]), which is also
//! what `socfed-load`'s storage ceiling does, so the ceiling pays what the product pays.
//!
//! **Modes.** A store holds TLP:RED incidents, so its directory is created `0700` and
//! tightened to `0700` if it already exists, whatever the umask; sled's files inside are set
//! to `0600` after open (the directory alone already makes them unreachable to other users;
//! this also covers a store copied in with looser modes). Files this project writes itself
//! (the commit witness, dumps, the audit key) are created `0600` from the first byte.
//!
//! **Blobs.** sled 0.34 writes any log message larger than a quarter of its segment to its own
//! file under `DIR/blobs/` and never syncs it (`write_blob` in sled's `pagecache/blob_io.rs`);
//! the store's log only points at it. A leaf node is one log message, and sled splits a leaf
//! only past 16 entries, so 17 values of a few tens of KiB reach sled's default threshold
//! (512 KiB segments, about 128 KiB). Stores are therefore created with [`SEGMENT_BYTES`]
//! segments (a 2 MiB threshold, above the largest leaf the bounded values can make), and the
//! stores bound every value they write (docs/RELIABILITY.md, "Large values"). sled fixes the
//! segment size when a store is created and refuses to open it with another, so a store
//! created by an older build keeps its own ([`sled_config`]). As a safety net, [`BlobSync`]
//! syncs every blob file written since the last sync, and the `blobs` directory, after sled's
//! flush and before the store acknowledges anything.

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

/// sled's segment size for stores created from now on (see the module docs): 8 MiB, so only a
/// log message over 2 MiB goes to a blob file. sled allows 256 B to 16 MiB.
pub const SEGMENT_BYTES: usize = 8 << 20;

/// sled 0.34's default segment size, which every store created by an older build has.
pub const LEGACY_SEGMENT_BYTES: usize = 512 * 1024;

/// The sled configuration of the store in `dir`: the segment size it was created with when it
/// exists (read from sled's `conf` file), [`SEGMENT_BYTES`] for a new store. sled never syncs
/// `conf`, so a store whose `conf` is missing or unreadable but whose log is not empty was
/// written by an older build, with the default size: it keeps that.
pub fn sled_config(dir: &Path) -> io::Result<sled::Config> {
    let from_conf = match std::fs::read(dir.join("conf")) {
        Ok(bytes) => existing_segment_size(&bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let segment = match from_conf {
        Some(size) => size,
        None => match std::fs::metadata(dir.join("db")) {
            Ok(log) if log.len() > 0 => LEGACY_SEGMENT_BYTES,
            Ok(_) => SEGMENT_BYTES,
            Err(e) if e.kind() == io::ErrorKind::NotFound => SEGMENT_BYTES,
            Err(e) => return Err(e),
        },
    };
    Ok(sled::Config::new().path(dir).segment_size(segment))
}

/// Whether opening a store failed because another holder has sled's exclusive lock: a
/// running service, or, just after a store was dropped in this process, sled's flusher thread.
/// sled reports it as an I/O error naming the lock, of kind `Other` with `WouldBlock` inside.
pub fn lock_busy(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io)
        if io.kind() == io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock"))
}

/// Opens the sled database in `dir` (its own configuration, [`sled_config`]), waiting up to
/// `wait` while its lock is busy ([`lock_busy`]): a store dropped a moment ago in this process
/// is released by sled's flusher thread, not by the drop.
pub fn open_when_released(dir: &Path, wait: std::time::Duration) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match sled_config(dir)?.open() {
            Err(e) if lock_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The `segment_size` line of sled's `conf` file (text lines, then a 4-byte CRC). `None` when
/// there is none: sled then judges the file itself (an empty one is rewritten, a corrupt one
/// refused).
fn existing_segment_size(conf: &[u8]) -> Option<usize> {
    let text = conf.get(..conf.len().checked_sub(4)?)?;
    std::str::from_utf8(text)
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("segment_size: "))
        .and_then(|n| n.trim().parse().ok())
        .filter(|n: &usize| n.is_power_of_two() && (256..=1 << 24).contains(n))
}

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

/// What makes a sled flush survive a power loss (`Durability::Fsync`): after `db.flush()`,
/// fdatasync of sled's log (`DIR/db`, where sled 0.34 keeps it) and a sync of the blob files
/// written since the last one. In `Durability::Flush` mode it does nothing.
#[derive(Debug)]
pub struct DataSync {
    data_file: Option<File>,
    /// Used under the caller's flush lock only; the mutex just makes that visible.
    blobs: std::sync::Mutex<BlobSync>,
}

impl DataSync {
    /// For the store in `dir`, opened by sled already. In fsync mode, syncs whatever an earlier
    /// run left unsynced and the store's directory entries (a new store's `db`, `conf`,
    /// `blobs`).
    pub fn open(dir: &Path, durability: crate::config::Durability) -> io::Result<Self> {
        let fsync = durability == crate::config::Durability::Fsync;
        let data_file = if fsync {
            Some(File::open(dir.join("db"))?)
        } else {
            None
        };
        let mut blobs = BlobSync::new(dir);
        if fsync {
            blobs.sync()?;
            sync_dir(dir)?;
        }
        Ok(Self {
            data_file,
            blobs: std::sync::Mutex::new(blobs),
        })
    }

    /// Call right after `db.flush()` returned: makes what it wrote power-safe.
    pub fn after_flush(&self) -> io::Result<()> {
        if let Some(file) = &self.data_file {
            file.sync_data()?;
            // Large log messages live in blob files sled never syncs (module docs).
            self.blobs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .sync()?;
        }
        Ok(())
    }
}

/// Syncs a directory, so that files created or renamed in it survive a power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 values of 32 KiB in one tree: leaves of 17 of them are one log message each.
    fn fill(db: &sled::Db) {
        let tree = db.open_tree("big").expect("tree");
        for i in 0_u32..40 {
            tree.insert(i.to_be_bytes(), vec![1_u8; 32 * 1024])
                .expect("insert");
        }
        db.flush().expect("flush");
    }

    fn blob_files(dir: &Path) -> usize {
        std::fs::read_dir(dir.join("blobs")).map_or(0, Iterator::count)
    }

    #[test]
    fn new_stores_keep_large_leaves_out_of_blob_files_and_old_stores_keep_their_segments() {
        let tmp = tempfile::tempdir().expect("tmp");
        // A store created with sled's default segments (as older builds did) reopens with
        // them: sled refuses any other size.
        let old = tmp.path().join("old");
        fill(&sled::Config::new().path(&old).open().expect("create old"));
        assert!(
            blob_files(&old) > 0,
            "the default segments put large leaves in blobs"
        );
        let reopened = sled_config(&old)
            .expect("config")
            .open()
            .expect("reopen old");
        drop(reopened);
        let conf = std::fs::read(old.join("conf")).expect("conf");
        assert_eq!(existing_segment_size(&conf), Some(512 * 1024));

        let new = tmp.path().join("new");
        fill(
            &sled_config(&new)
                .expect("config")
                .open()
                .expect("create new"),
        );
        assert_eq!(blob_files(&new), 0);
        let conf = std::fs::read(new.join("conf")).expect("conf");
        assert_eq!(existing_segment_size(&conf), Some(SEGMENT_BYTES));
        assert_eq!(existing_segment_size(b"seg"), None);
        // An older store whose `conf` was lost (sled never syncs it) keeps the default size.
        std::fs::remove_file(old.join("conf")).expect("lose conf");
        drop(
            sled_config(&old)
                .expect("config")
                .open()
                .expect("reopen without conf"),
        );
        let conf = std::fs::read(old.join("conf")).expect("conf");
        assert_eq!(existing_segment_size(&conf), Some(LEGACY_SEGMENT_BYTES));
        assert_eq!(existing_segment_size(b"segment_size: 12\ncrc!"), None);
    }

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
