//! The socfed federation contract, shared by the site agent, the SIRT hub and their clients.
//!
//! - [`pb`]: code generated from `socfed/v1/*.proto` (the wire types and gRPC stubs).
//! - [`vocab`]: the domain vocabulary (site id, severity, TLP, indicator, ATT&CK technique,
//!   incident report) with fallible wire→domain conversions. Protobuf types stop here.
//! - [`identity`]: SPIFFE identities read from certificates.
//! - [`search`]: search terms, token normalisation, query checks and the posting-list join.
//! - [`text`]: the characters a terminal may act on.
//! - [`hex`]: the one hex encoding of serials and hashes.
//!
//! This crate is only the contract: it does no storage, serves nothing and owns no policy
//! beyond "what is a well-formed value". What both services run on (TLS listeners, the admin
//! server, CLI plumbing, configuration, the audit chain, store files and dumps) is
//! `socfed-runtime`, in `proto/runtime/`.

pub mod hex;
pub mod identity;
pub mod search;
pub mod text;
pub mod vocab;

/// Generated wire types and gRPC stubs for package `socfed.v1`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("socfed.v1");

    /// Encoded `FileDescriptorSet` of the socfed protos, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/socfed_descriptor.bin"));
}

/// Milliseconds since the Unix epoch, the one timestamp unit on the wire.
pub type UnixMillis = i64;

/// Reads the wall clock as [`UnixMillis`]. Only edges call this; pure code takes time as input.
pub fn now_millis() -> UnixMillis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
