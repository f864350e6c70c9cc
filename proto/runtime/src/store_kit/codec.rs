//! The versioned record codec both stores use: a value is `[version byte] ++ postcard(record)`.
//! The version is per tree ([`Codec`]), so a tree whose record changed shape (the hub's
//! incidents and escalations) moves on without touching the others. A value of a version the
//! build does not know is an error naming the tree, never a silent default; a tree that still
//! reads older versions splits the value itself ([`Codec::split`]) and upgrades each known one.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("tree {tree}: record version {found} is not understood by this build; upgrade socfed")]
    Version { tree: &'static str, found: u8 },
    #[error("tree {tree}: empty record")]
    Empty { tree: &'static str },
    #[error("tree {tree}: corrupt record: {source}")]
    Corrupt {
        tree: &'static str,
        source: postcard::Error,
    },
    /// A fixed-width value or key part of the wrong length, or a key of the wrong shape.
    #[error("tree {tree}: {detail}")]
    Malformed { tree: &'static str, detail: String },
}

/// How one tree's records are written: its name (for errors) and the version byte its values
/// carry now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codec {
    pub tree: &'static str,
    pub version: u8,
}

impl Codec {
    pub const fn new(tree: &'static str, version: u8) -> Self {
        Self { tree, version }
    }

    /// `[version] ++ postcard(value)`.
    pub fn encode<T: Serialize>(&self, value: &T) -> Result<Vec<u8>, CodecError> {
        postcard::to_extend(value, vec![self.version]).map_err(|source| CodecError::Corrupt {
            tree: self.tree,
            source,
        })
    }

    /// A value of the current version; any other version is [`CodecError::Version`].
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, CodecError> {
        match self.split(bytes)? {
            (found, body) if found == self.version => self.body(body),
            (found, _) => Err(self.unknown(found)),
        }
    }

    /// A value of the current version decoded as a view borrowing from `bytes` (byte-string
    /// fields as slices of the stored value): read without copying what it holds.
    pub fn view<'a, T: Deserialize<'a>>(&self, bytes: &'a [u8]) -> Result<T, CodecError> {
        match self.split(bytes)? {
            (found, body) if found == self.version => {
                postcard::from_bytes(body).map_err(|source| CodecError::Corrupt {
                    tree: self.tree,
                    source,
                })
            }
            (found, _) => Err(self.unknown(found)),
        }
    }

    /// The version byte and the body, for trees that read older versions too.
    pub fn split<'a>(&self, bytes: &'a [u8]) -> Result<(u8, &'a [u8]), CodecError> {
        match bytes.split_first() {
            Some((&version, body)) => Ok((version, body)),
            None => Err(CodecError::Empty { tree: self.tree }),
        }
    }

    /// Decodes a body (after [`Self::split`]) as `T`, whichever version it was.
    pub fn body<T: DeserializeOwned>(&self, body: &[u8]) -> Result<T, CodecError> {
        postcard::from_bytes(body).map_err(|source| CodecError::Corrupt {
            tree: self.tree,
            source,
        })
    }

    /// The error for a version this build does not read.
    pub fn unknown(&self, found: u8) -> CodecError {
        CodecError::Version {
            tree: self.tree,
            found,
        }
    }
}

/// Exactly `N` bytes of `tree` (a fixed-width value or key part), or an error saying what.
pub fn fixed<const N: usize>(tree: &'static str, bytes: &[u8]) -> Result<[u8; N], CodecError> {
    bytes.try_into().map_err(|_| CodecError::Malformed {
        tree,
        detail: format!("expected {N} bytes, got {}", bytes.len()),
    })
}

/// A big-endian u64 (counters, sequence numbers, milliseconds).
pub fn u64_be(tree: &'static str, bytes: &[u8]) -> Result<u64, CodecError> {
    fixed::<8>(tree, bytes).map(u64::from_be_bytes)
}

/// A big-endian u32 (schema versions).
pub fn u32_be(tree: &'static str, bytes: &[u8]) -> Result<u32, CodecError> {
    fixed::<4>(tree, bytes).map(u32::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_their_trees_version_and_unknown_versions_are_errors() {
        let codec = Codec::new("t", 3);
        let bytes = codec.encode(&42u64).expect("encodes");
        assert_eq!(bytes[0], 3);
        assert_eq!(codec.decode::<u64>(&bytes).ok(), Some(42));
        let older = Codec::new("t", 2);
        assert!(matches!(
            older.decode::<u64>(&bytes),
            Err(CodecError::Version {
                tree: "t",
                found: 3
            })
        ));
        assert!(matches!(
            codec.decode::<u64>(&[]),
            Err(CodecError::Empty { tree: "t" })
        ));
        let err = codec.decode::<String>(&[3, 9]).expect_err("cut");
        assert!(
            err.to_string().starts_with("tree t: corrupt record"),
            "{err}"
        );
        assert_eq!(u64_be("t", &7u64.to_be_bytes()).ok(), Some(7));
        let err = u32_be("t", b"abc").expect_err("short");
        assert_eq!(err.to_string(), "tree t: expected 4 bytes, got 3");
    }
}
