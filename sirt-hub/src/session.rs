//! Dashboard sign-in links and sessions: what they are and when one is still good. Pure: the
//! random bytes and the time are passed in; the store keeps the grants (`web_sessions` tree).
//!
//! `sirt-hub login` asks the hub (with the operator's certificate) for a **link**: a 256-bit
//! random secret, valid for [`LINK_TTL_MS`], usable once. Opening it shows a confirmation page;
//! only a POST of that page (with its CSRF token) exchanges the link for a **session**: another
//! 256-bit random secret in an HttpOnly cookie. The store keeps only BLAKE3 hashes of both
//! secrets, with the operator and the serial of the certificate that asked for the link, so a
//! copy of the store (or a dump) signs nobody in.
//!
//! Every request re-checks the session ([`check`]): not signed out, not expired, the operator
//! still in the roster, the certificate not revoked.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::hex::{decode as unhex, encode as hex};

/// How long a sign-in link can be used: long enough to copy it from a terminal into a browser.
pub const LINK_TTL_MS: i64 = 5 * 60_000;

/// A link or a session, as the store keeps it (under the hash of its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub operator: String,
    /// Serial (hex) of the operator certificate that asked for the link.
    pub cert_serial: String,
    /// That certificate's notAfter: no session outlives it.
    pub cert_not_after_ms: UnixMillis,
    pub issued_ms: UnixMillis,
    pub expires_ms: UnixMillis,
}

/// A link or session secret. Only its [`Secret::key`] is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses the hex a link or cookie carries (exactly 64 lowercase hex digits).
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let bytes: [u8; 32] = unhex(text)?.try_into().ok()?;
        Some(Self(bytes))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The store key: BLAKE3 of the secret (one-way, so the store cannot sign anyone in).
    pub fn key(&self) -> [u8; 32] {
        *blake3::hash(&self.0).as_bytes()
    }

    /// A CSRF token derived from this secret for `purpose` (e.g. "sign-out"): a page served
    /// inside the session can show it, a cross-site page cannot know it.
    pub fn csrf(&self, purpose: &str) -> String {
        socfed_runtime::web::csrf::token(&self.0, purpose)
    }
}

/// The certificate of a session's operator as the audit records it, for the sign-in and for
/// every change made in the session: the serial of the certificate that asked for the link.
pub fn cert_identity(grant: &Grant) -> String {
    format!("serial {}", grant.cert_serial)
}

/// Compares two CSRF tokens without leaking where they differ (shared by every web surface).
pub use socfed_runtime::web::csrf::matches as csrf_matches;

/// Why a link or session is not (or no longer) good.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this sign-in link is unknown or was already used; run `sirt-hub login` for a new one")]
    UnknownLink,
    #[error("this sign-in link expired; run `sirt-hub login` for a new one")]
    LinkExpired,
    #[error("you are not signed in (or you signed out); run `sirt-hub login` for a link")]
    NoSession,
    #[error("your session expired; run `sirt-hub login` for a new link")]
    Expired,
    #[error(
        "operator {0:?} is no longer in the hub roster; ask an admin or the CISO (`sirt-hub operators`)"
    )]
    NotInRoster(String),
    #[error(
        "the certificate that signed this session in (serial {0}) has been revoked; sign in again with your current certificate"
    )]
    Revoked(String),
}

/// Is a stored session (or link) still good at `now`? `in_roster` and `revoked` are the
/// roster and the CRL as they stand now.
pub fn check(
    grant: &Grant,
    now: UnixMillis,
    in_roster: bool,
    revoked: bool,
) -> Result<(), Refused> {
    if now >= grant.expires_ms {
        return Err(Refused::Expired);
    }
    if !in_roster {
        return Err(Refused::NotInRoster(grant.operator.clone()));
    }
    if revoked {
        return Err(Refused::Revoked(grant.cert_serial.clone()));
    }
    Ok(())
}

/// The session a link turns into at `now`: it lasts `session_ttl_ms`, and never beyond the
/// certificate that asked for the link.
pub fn session_from(link: &Grant, now: UnixMillis, session_ttl_ms: i64) -> Result<Grant, Refused> {
    if now >= link.expires_ms {
        return Err(Refused::LinkExpired);
    }
    Ok(Grant {
        operator: link.operator.clone(),
        cert_serial: link.cert_serial.clone(),
        cert_not_after_ms: link.cert_not_after_ms,
        issued_ms: now,
        expires_ms: now
            .saturating_add(session_ttl_ms)
            .min(link.cert_not_after_ms.max(now)),
    })
}

/// A fresh secret from the operating system's CSPRNG.
pub fn new_secret() -> Result<Secret, String> {
    use rand::TryRngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(Secret::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_ms: i64) -> Grant {
        Grant {
            operator: "ines".into(),
            cert_serial: "0a".into(),
            cert_not_after_ms: i64::MAX,
            issued_ms: 0,
            expires_ms,
        }
    }

    #[test]
    fn secrets_round_trip_as_hex_and_store_only_their_hash() {
        let s = Secret::from_bytes([7; 32]);
        assert_eq!(Secret::parse(&s.to_hex()), Some(s.clone()));
        assert_ne!(s.key(), [7; 32]);
        for junk in ["", "zz", &"0".repeat(63), &"0".repeat(66), &"g".repeat(64)] {
            assert_eq!(Secret::parse(junk), None, "{junk}");
        }
        assert_ne!(
            s.csrf("sign-out"),
            Secret::from_bytes([8; 32]).csrf("sign-out")
        );
        assert!(csrf_matches(&s.csrf("a"), &s.csrf("a")));
        assert!(!csrf_matches(&s.csrf("a"), &s.csrf("b")));
        assert!(
            !csrf_matches("", ""),
            "an empty expected token never matches"
        );
    }

    #[test]
    fn a_session_is_good_until_expiry_while_in_the_roster_and_not_revoked() {
        let g = grant(1_000);
        assert_eq!(check(&g, 999, true, false), Ok(()));
        assert_eq!(check(&g, 1_000, true, false), Err(Refused::Expired));
        assert_eq!(
            check(&g, 10, false, false),
            Err(Refused::NotInRoster("ines".into()))
        );
        assert_eq!(
            check(&g, 10, true, true),
            Err(Refused::Revoked("0a".into()))
        );
    }

    #[test]
    fn a_link_becomes_a_session_bounded_by_the_certificate() {
        let mut link = grant(LINK_TTL_MS);
        let s = session_from(&link, 100, 3_600_000).expect("fresh link");
        assert_eq!((s.issued_ms, s.expires_ms), (100, 3_600_100));
        link.cert_not_after_ms = 5_000;
        let short = session_from(&link, 100, 3_600_000).expect("fresh link");
        assert_eq!(short.expires_ms, 5_000);
        assert_eq!(
            session_from(&link, LINK_TTL_MS, 1),
            Err(Refused::LinkExpired)
        );
    }
}
