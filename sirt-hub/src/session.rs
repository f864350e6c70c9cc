//! The dashboard's sign-in links and sessions: the shared rules (`socfed_runtime::web::session`:
//! what a link and a session are, when one is still good), worded for the hub. The store keeps
//! the grants (`web_sessions` tree); `service/sessions.rs` issues and exchanges them.
//!
//! `sirt-hub login` asks the hub (with the operator's certificate) for a one-time link; only
//! a POST of its confirmation page exchanges it for a session; every request re-checks the
//! session against the hub roster and the CRL (docs/SECURITY.md).

pub use socfed_runtime::web::session::{
    Grant, LINK_TTL_MS, Refused, Secret, Surface, cert_identity, check, new_secret, session_from,
};

/// Compares two CSRF tokens without leaking where they differ (shared by every web surface).
pub use socfed_runtime::web::csrf::matches as csrf_matches;

/// How refusals are worded at the hub.
pub const SURFACE: Surface = Surface {
    login: "sirt-hub login",
    roster: "the hub roster; ask an admin or the CISO (`sirt-hub operators`)",
};

/// A refusal as the hub words it.
pub fn explain(refused: &Refused) -> String {
    refused.explain(&SURFACE)
}
