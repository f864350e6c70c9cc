//! What both socfed services run on, beside the contract (`socfed-proto`): TLS 1.3 listeners
//! and connectors with revocation, connection admission, the admin server and metrics, CLI
//! plumbing and the escaping terminal renderer, configuration loading, the audit chain, and
//! the files of a sled store (modes, blob sync, dumps, the commit witness).
//!
//! - [`tls`], [`tls_verify`], [`tls_check`], [`tls_reload`], [`revocation`]: rustls
//!   configurations (TLS 1.3 only, mutual), certificate and CRL checks, live reloads.
//! - [`listen`], [`peer`], [`server`]: listener admission (caps, timers), who is calling, the
//!   standard gRPC services (health, reflection).
//! - [`admin`], [`metric_catalog`]: `/livez`, `/readyz`, `/metrics` and every metric's name.
//! - [`cli`], [`terminal`]: output formats, client flags, exit codes; text made inert.
//! - [`config`]: TOML loading with errors that name the key.
//! - [`error_code`]: the kinds of refusal both services tell callers, with their stable codes
//!   and their one mapping to gRPC and to HTTP.
//! - [`audit`], [`audit_key`], [`audit_walk`]: the keyed hash chain both services keep;
//!   [`audit_coalesce`] folds repeated records (refusals) into counts per window.
//! - [`store_files`], [`dump`], [`dump_files`], [`witness`], [`disk_full`]: sled's files,
//!   `db export|import` (with the files kept beside sled), the commit witness, a full disk told
//!   apart from other failures.
//! - [`store_kit`]: what both stores are built on: the versioned record codec, the registry
//!   of trees, the unit of work, and the layout snapshot.
//! - [`api_token`]: the API tokens integrations present: minted, hashed, scoped, checked.
//! - [`web`]: what every web surface shares: security headers and CSP, the stylesheet and
//!   script, CSRF tokens and session cookies.
//! - [`webhook`]: outbound event webhooks (signed, retried with [`backoff`], a durable
//!   cursor per sink) and the one HTTPS client builder of every outbound webhook.

pub mod admin;
pub mod api_token;
pub mod audit;
pub mod audit_coalesce;
pub mod audit_key;
pub mod audit_walk;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod disk_full;
pub mod dump;
pub mod dump_files;
pub mod error_code;
pub mod listen;
pub mod metric_catalog;
pub mod peer;
pub mod revocation;
pub mod server;
pub mod store_check;
pub mod store_files;
pub mod store_kit;
pub mod terminal;
pub mod tls;
pub mod tls_check;
pub mod tls_reload;
pub mod tls_verify;
pub mod web;
pub mod webhook;
pub mod witness;
