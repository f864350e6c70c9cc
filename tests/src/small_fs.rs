//! A small filesystem for full-disk tests: a tmpfs of a fixed size mounted on a temp dir,
//! unmounted when dropped, and a filler file that takes every free byte of it until the test
//! frees the space again. Mounting needs root; without it the tests skip themselves (see
//! [`SmallFs::mount_or_skip`]), unless `SOCFED_REQUIRE_FULL_DISK=1` makes that a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set (to anything but `0`) where the full-disk tests must run (CI runs as root).
pub const REQUIRE_VAR: &str = "SOCFED_REQUIRE_FULL_DISK";

pub struct SmallFs {
    dir: PathBuf,
    filler: PathBuf,
}

impl SmallFs {
    /// Mounts a tmpfs of `bytes` on `dir` (created if absent). `Ok(None)` when mounting is not
    /// possible here (not root, no `mount`, no permission in this container), after saying why
    /// on stderr; an error instead when [`REQUIRE_VAR`] is set.
    pub fn mount_or_skip(dir: &Path, bytes: u64) -> anyhow::Result<Option<Self>> {
        std::fs::create_dir_all(dir)?;
        let tried = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes},mode=0700")])
            .arg("socfed-full-disk")
            .arg(dir)
            .output();
        let reason = match tried {
            Ok(out) if out.status.success() => {
                return Ok(Some(Self {
                    dir: dir.to_path_buf(),
                    filler: dir.join("filler"),
                }));
            }
            Ok(out) => format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => format!("cannot run mount: {e}"),
        };
        let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0");
        anyhow::ensure!(
            !required,
            "{REQUIRE_VAR} is set but no small filesystem could be mounted: {reason}"
        );
        eprintln!(
            "SKIPPED: the full-disk test needs to mount a small tmpfs (run as root): {reason}; set {REQUIRE_VAR}=1 to make this a failure"
        );
        Ok(None)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes the filler file until the filesystem refuses with "no space left on device";
    /// returns how many bytes it took.
    pub fn fill(&self) -> anyhow::Result<u64> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.filler)?;
        let chunk = vec![0x46u8; 64 * 1024];
        let mut written = std::fs::metadata(&self.filler)?.len();
        let mut piece = chunk.len();
        // Shrinking pieces: the last page-sized gaps are taken too.
        while piece > 0 {
            match file.write(&chunk[..piece]) {
                Ok(0) => piece /= 2,
                Ok(n) => written += n as u64,
                Err(e) if is_no_space(&e) => piece /= 2,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(written)
    }

    /// Deletes the filler file: the space it took is free again.
    pub fn free(&self) -> anyhow::Result<()> {
        match std::fs::remove_file(&self.filler) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// ENOSPC, or EFBIG on a file-size limit.
pub fn is_no_space(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge
    )
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        // Lazy: a process of the test that still holds a file open must not keep it mounted.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
