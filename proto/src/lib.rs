//! The socfed federation contract, shared by the site agent, the SIRT hub and their clients.
//!
//! - [`pb`]: code generated from `socfed/v1/*.proto` (the wire types and gRPC stubs).
//! - [`vocab`]: the domain vocabulary (site id, severity, TLP, indicator, ATT&CK technique,
//!   incident report) with fallible wire→domain conversions. Protobuf types stop here.
//! - [`identity`]: SPIFFE identities read from verified peer certificates.
//! - [`tls`]: rustls configurations (TLS 1.3 only, mutual) and the listener/connector glue.
//! - [`config`]: TOML loading with errors that name the key, shared by both services.
//! - [`terminal`]: the one escaping renderer for text that reaches a terminal.
//! - `cli`, `server` (feature `runtime`): plumbing shared by the binaries and their servers.
//!
//! This crate does no storage and owns no policy beyond "what is a well-formed value".

#[cfg(feature = "runtime")]
pub mod admin;
pub mod audit;
#[cfg(feature = "runtime")]
pub mod audit_key;
pub mod audit_walk;
#[cfg(feature = "runtime")]
pub mod cli;
pub mod config;
#[cfg(feature = "runtime")]
pub mod disk_full;
#[cfg(feature = "runtime")]
pub mod dump;
pub mod hex;
pub mod identity;
pub mod listen;
pub mod metric_catalog;
pub mod revocation;
#[cfg(feature = "runtime")]
pub mod server;
#[cfg(feature = "runtime")]
pub mod store_files;
pub mod terminal;
pub mod tls;
pub mod tls_check;
#[cfg(feature = "runtime")]
pub mod tls_reload;
pub mod tls_verify;
pub mod vocab;
#[cfg(feature = "runtime")]
pub mod witness;

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
