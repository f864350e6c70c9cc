//! Files a store keeps beside sled, carried in a dump (`dump.rs`): the hub's escalation
//! journal (`journal/`) and the agent's alert sample journal (`samples/`). Each file is a
//! pseudo-tree named `file:DIR/NAME` whose keys are offsets (u64 BE) and whose values are the
//! bytes there, in chunks, so a dump keeps one format, one checksum and one trailer.

use super::dump::DumpError;
use std::path::{Path, PathBuf};

/// Directories beside sled whose files a dump carries.
pub const SIDE_DIRS: &[&str] = &["journal", "samples"];

/// Prefix of a pseudo-tree holding a file.
pub const FILE_PREFIX: &str = "file:";

/// Bytes per dump entry of a file.
const CHUNK: usize = 48 * 1024;

/// Every side file of the store in `dir`: its pseudo-tree name and its path, sorted.
pub fn side_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, DumpError> {
    let mut files = Vec::new();
    for side in SIDE_DIRS {
        let path = dir.join(side);
        if !path.is_dir() {
            continue;
        }
        for item in std::fs::read_dir(&path)? {
            let item = item?;
            if !item.file_type()?.is_file() {
                continue;
            }
            let Some(name) = item.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            files.push((format!("{FILE_PREFIX}{side}/{name}"), item.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Calls `emit` with each chunk of the file at `path` and its offset.
pub fn chunks(
    path: &Path,
    mut emit: impl FnMut(u64, &[u8]) -> Result<(), DumpError>,
) -> Result<(), DumpError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        emit(offset, &buf[..n])?;
        offset += n as u64;
    }
}

/// Where the side file named `name` (`file:DIR/NAME`) goes in the store at `dir`, created
/// empty; refuses a name outside [`SIDE_DIRS`] or one that is not a plain file name.
pub fn create(dir: &Path, name: &str) -> Result<PathBuf, DumpError> {
    let bad = || DumpError::Format(format!("{name:?} is not a side file this build restores"));
    let rest = name.strip_prefix(FILE_PREFIX).ok_or_else(bad)?;
    let (side, file) = rest.split_once('/').ok_or_else(bad)?;
    let plain = !file.is_empty()
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !file.starts_with('.');
    if !SIDE_DIRS.contains(&side) || !plain {
        return Err(bad());
    }
    crate::store_files::private_dir(&dir.join(side))?;
    let path = dir.join(side).join(file);
    crate::store_files::create_private(&path)?;
    Ok(path)
}

/// Writes one chunk of a side file at `offset` (the key's u64 BE).
pub fn write_chunk(path: &Path, key: &[u8], value: &[u8]) -> Result<(), DumpError> {
    use std::os::unix::fs::FileExt;
    let offset: [u8; 8] = key
        .try_into()
        .map_err(|_| DumpError::Format("a file chunk's key is not an offset".into()))?;
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.write_all_at(value, u64::from_be_bytes(offset))?;
    Ok(())
}

/// Makes every restored side file durable (they are written outside sled).
pub fn sync(dir: &Path) -> Result<(), DumpError> {
    for (_, path) in side_files(dir)? {
        std::fs::File::open(&path)?.sync_all()?;
    }
    for side in SIDE_DIRS {
        if dir.join(side).is_dir() {
            crate::store_files::sync_dir(&dir.join(side))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::dump::{export, import};
    use std::path::Path;

    fn accept(_: &str, _: &[u8], _: &[u8]) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn journal_files_travel_with_the_trees_and_odd_names_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        {
            let db = crate::store_files::sled_config(&src)
                .expect("conf")
                .open()
                .expect("store");
            db.insert(b"k", b"v".to_vec()).expect("insert");
            db.flush().expect("flush");
        }
        std::fs::create_dir_all(src.join("journal")).expect("dir");
        // Larger than a chunk, so it takes several entries.
        let bytes: Vec<u8> = (0..120_000u32).map(|i| (i % 251) as u8).collect();
        let name = "00000000000000000000.log";
        std::fs::write(src.join("journal").join(name), &bytes).expect("write");
        std::fs::write(src.join("journal").join("00000000000000999999.log"), b"").expect("w");

        let mut dump = Vec::new();
        let out = export(&src, "sirt-hub", &mut dump, &|_| {}).expect("export");
        let back = import(&dst, "sirt-hub", dump.as_slice(), &accept, &|_| {}).expect("import");
        assert_eq!(back, out);
        let read = |dir: &Path, file: &str| std::fs::read(dir.join("journal").join(file));
        assert_eq!(read(&dst, name).expect("restored"), bytes);
        assert_eq!(
            read(&dst, "00000000000000999999.log").expect("restored"),
            b""
        );

        for bad in [
            "file:journal/../db",
            "file:blobs/x",
            "file:journal/",
            "file:x",
        ] {
            assert!(super::create(&dst, bad).is_err(), "{bad}");
        }
    }
}
