//! The audit chain's key file (see [`crate::audit`]): 32 random bytes in hex, beside the
//! service's TLS key (`hub.key` → `hub.audit-key`), mode `0600`.
//!
//! Why there: the key must live outside the store and its dumps, or whoever can rewrite a
//! backup could re-seal it; the TLS key's directory is already the one place an operator keeps
//! secret and backs up apart from the data. Why a file of its own rather than a key derived
//! from the TLS private key: certificates are rotated with new keys, and a chain must stay
//! verifiable across rotations.
//!
//! A service creates the file at start when it is missing and the directory is writable (the
//! demo, tests, a first start). Deployments whose key directory is read-only to the service
//! create it once beforehand; the error says how.

use crate::audit::ChainKey;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuditKeyError {
    #[error(
        "cannot create the audit key {path}: {source}; create it once as the service's user with `(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > {path})`"
    )]
    Create {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the audit key {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the audit key {0} is not 64 hexadecimal digits; restore it from the backup of the TLS key directory"
    )]
    Malformed(String),
}

/// The audit key's path for the TLS key at `tls_key`.
pub fn path_for(tls_key: &Path) -> PathBuf {
    tls_key.with_extension("audit-key")
}

/// Reads the key at `path`, creating it first if there is none. Returns the key and whether it
/// was just created.
pub fn load_or_create(path: &Path) -> Result<(ChainKey, bool), AuditKeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((parse(path, &text)?, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = rand::random();
            let create = |source| AuditKeyError::Create {
                path: path.display().to_string(),
                source,
            };
            // Written whole under a name of its own, then linked into place: several
            // processes starting at once over one key file (hub replicas sharing the TLS key
            // directory) never read a half-written key, and only the first link wins.
            let staged =
                path.with_extension(format!("audit-key.{:016x}.new", rand::random::<u64>()));
            let mut file = crate::store_files::create_private(&staged).map_err(create)?;
            let written = file
                .write_all(format!("{}\n", socfed_proto::hex::encode(&bytes)).as_bytes())
                .and_then(|()| file.sync_all());
            drop(file);
            let linked = written.and_then(|()| std::fs::hard_link(&staged, path));
            let _ = std::fs::remove_file(&staged);
            match linked {
                Ok(()) => {}
                // Another process created it first: its key is the one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return load_or_create(path);
                }
                Err(e) => return Err(create(e)),
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::store_files::sync_dir(dir).map_err(create)?;
            }
            Ok((ChainKey::from_bytes(bytes), true))
        }
        Err(source) => Err(AuditKeyError::Read {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn parse(path: &Path, text: &str) -> Result<ChainKey, AuditKeyError> {
    socfed_proto::hex::decode(text.trim())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(ChainKey::from_bytes)
        .ok_or_else(|| AuditKeyError::Malformed(path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn processes_creating_the_key_at_once_all_get_the_same_whole_key() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = path_for(&tmp.path().join("hub.key"));
        let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_create(&path).map(|(k, _)| *k.as_bytes())))
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("no panic").expect("a whole key"))
                .collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]), "one key for all");
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "no staged file left: {left:?}");
    }

    #[test]
    fn a_key_is_created_once_private_and_read_back() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = path_for(&tmp.path().join("hub.key"));
        assert_eq!(path, tmp.path().join("hub.audit-key"));
        let (key, created) = load_or_create(&path).expect("create");
        assert!(created);
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, created) = load_or_create(&path).expect("read");
        assert!(!created);
        assert_eq!(key, again);
        std::fs::write(&path, "not hex").expect("write");
        assert!(matches!(
            load_or_create(&path),
            Err(AuditKeyError::Malformed(_))
        ));
    }
}
