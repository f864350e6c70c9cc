//! Filesystem helpers for the PKI directory: private directories, and files that get their
//! final permissions at creation time (keys are never readable by others, not even briefly).

use super::PkiError;
use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Permissions of private keys.
pub(super) const KEY_MODE: u32 = 0o600;
/// Permissions of certificates and `pki.toml`: public material.
pub(super) const PUBLIC_MODE: u32 = 0o644;
/// Permissions of directories this module creates.
const DIR_MODE: u32 = 0o700;

pub(super) fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> PkiError {
    PkiError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `path` and any missing parents with mode 0700. Existing directories are left as
/// they are.
pub(super) fn ensure_dir(path: &Path) -> Result<(), PkiError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)
        .map_err(|e| io_error("create directory", path, e))
}

/// True if anything (even a dangling symlink) occupies `path`.
pub(super) fn occupied(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// Writes a file that must not exist yet, created with `mode` from the start.
pub(super) fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                PkiError::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                io_error("create", path, e)
            }
        })?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(io_error("write", path, e));
    }
    Ok(())
}

/// Replaces `path` atomically: a fresh temporary file with `mode` in the same directory,
/// renamed over the target. The result has `mode` whatever the old file's permissions were.
pub(super) fn replace(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let temp = temp_path(path)?;
    write_new(&temp, contents, mode)?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        io_error("replace", path, e)
    })
}

fn temp_path(path: &Path) -> Result<PathBuf, PkiError> {
    let name = path.file_name().ok_or_else(|| PkiError::Io {
        action: "name",
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"),
    })?;
    let suffix: u64 = rand::random();
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".{suffix:016x}.tmp"));
    Ok(path.with_file_name(temp))
}

/// Writes a certificate and its key. Without `overwrite` both must be new; if the second
/// write fails the first file is removed so a retry does not trip over half an issuance.
pub(super) fn write_pair(
    cert: &Path,
    cert_pem: &str,
    key: &Path,
    key_pem: &str,
    overwrite: bool,
) -> Result<(), PkiError> {
    if overwrite {
        replace(key, key_pem.as_bytes(), KEY_MODE)?;
        return replace(cert, cert_pem.as_bytes(), PUBLIC_MODE);
    }
    write_new(key, key_pem.as_bytes(), KEY_MODE)?;
    if let Err(e) = write_new(cert, cert_pem.as_bytes(), PUBLIC_MODE) {
        let _ = std::fs::remove_file(key);
        return Err(e);
    }
    Ok(())
}

/// Every `*.crt` file under `dir`, recursively, sorted. Symlinked directories are not
/// followed, so a link loop cannot make the walk run forever.
pub(super) fn find_certificates(dir: &Path) -> Result<Vec<PathBuf>, PkiError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| io_error("list", &current, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("list", &current, e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| io_error("inspect", &path, e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "crt") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
