//! Security: certificates and roles, revocation, TLP:RED access, the audit chain, file modes, a hostile site, fuzz bodies, watch caps.
//!
//! One test binary for these scenarios (one link instead of one per file); each module is one
//! scenario file, its tests keep their names under the module's path.

mod audit_tamper;
mod cert_matrix;
mod cert_purpose;
mod file_modes;
mod fuzz_smoke;
mod hostile_site;
mod red_access;
mod revocation;
mod security;
mod watches;
