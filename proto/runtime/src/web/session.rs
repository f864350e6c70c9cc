//! Sign-in links and sessions of every web surface (the hub's dashboard, each site's SOC
//! console): what they are and when one is still good. Pure: the random bytes and the time
//! are passed in; each service's store keeps the grants (a `web_sessions` tree).
//!
//! The service's `login` command asks (with the operator's certificate, over gRPC) for a
//! **link**: a 256-bit random secret, valid for [`LINK_TTL_MS`], usable once. Opening it shows
//! a confirmation page; only a POST of that page (with its CSRF token) exchanges the link for a
//! **session**: another 256-bit random secret in an HttpOnly cookie. Stores keep only BLAKE3
//! hashes of both secrets, with the operator and the serial of the certificate that asked for
//! the link, so a copy of a store (or a dump) signs nobody in.
//!
//! Every request re-checks the session ([`check`]): not signed out, not expired, the operator
//! still in the service's roster, the certificate not revoked (`revoked.rs`).

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::hex::{decode as unhex, encode as hex};

/// How long a sign-in link can be used: long enough to copy it from a terminal into a browser.
pub const LINK_TTL_MS: i64 = 5 * 60_000;

/// The store key prefix of a sign-in link's grant (`kind ++ BLAKE3 of the secret`).
pub const KIND_LINK: u8 = b'l';
/// The store key prefix of a session's grant.
pub const KIND_SESSION: u8 = b's';

/// `kind ++ hash`: the key of a grant in a `web_sessions` tree.
pub fn grant_key(kind: u8, hash: &[u8; 32]) -> [u8; 33] {
    let mut key = [0u8; 33];
    key[0] = kind;
    key[1..].copy_from_slice(hash);
    key
}

/// A link or a session, as a store keeps it (under the hash of its secret).
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

impl Grant {
    /// A link for the operator of `peer` (the certificate that asked for it) issued at `now`:
    /// it lasts [`LINK_TTL_MS`], and never beyond that certificate.
    pub fn link_for(
        operator: &str,
        peer: &socfed_proto::identity::PeerIdentity,
        now: UnixMillis,
    ) -> Self {
        Self {
            operator: operator.to_string(),
            cert_serial: peer.serial.clone(),
            cert_not_after_ms: peer.not_after_ms,
            issued_ms: now,
            expires_ms: (now + LINK_TTL_MS).min(peer.not_after_ms),
        }
    }
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
        super::csrf::token(&self.0, purpose)
    }
}

/// The certificate of a session's operator as the audit records it, for the sign-in and for
/// every change made in the session: the serial of the certificate that asked for the link.
pub fn cert_identity(grant: &Grant) -> String {
    format!("serial {}", grant.cert_serial)
}

/// What a refusal tells the person: the command that mints a new link, and whose roster they
/// left and who keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Surface {
    /// e.g. "sirt-hub login"
    pub login: &'static str,
    /// e.g. "the hub roster; ask an admin or the CISO (`sirt-hub operators`)"
    pub roster: &'static str,
}

/// Why a link or session is not (or no longer) good; [`Refused::explain`] words it for a
/// surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    UnknownLink,
    LinkExpired,
    NoSession,
    Expired,
    NotInRoster(String),
    Revoked(String),
}

impl Refused {
    pub fn explain(&self, surface: &Surface) -> String {
        let login = surface.login;
        match self {
            Refused::UnknownLink => format!(
                "this sign-in link is unknown or was already used; run `{login}` for a new one"
            ),
            Refused::LinkExpired => {
                format!("this sign-in link expired; run `{login}` for a new one")
            }
            Refused::NoSession => {
                format!("you are not signed in (or you signed out); run `{login}` for a link")
            }
            Refused::Expired => format!("your session expired; run `{login}` for a new link"),
            Refused::NotInRoster(who) => {
                format!("operator {who:?} is no longer in {}", surface.roster)
            }
            Refused::Revoked(serial) => format!(
                "the certificate that signed this session in (serial {serial}) has been revoked; sign in again with your current certificate"
            ),
        }
    }

    /// A known person refused (removed from the roster, certificate revoked): the audit
    /// records it, as the same person refused over gRPC; an expired session is the normal end
    /// of one.
    pub fn is_audited(&self) -> bool {
        matches!(self, Refused::NotInRoster(_) | Refused::Revoked(_))
    }
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
    use crate::web::csrf::matches as csrf_matches;

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
        assert_eq!(grant_key(KIND_LINK, &[1; 32])[0], b'l');
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
        let surface = Surface {
            login: "tool login",
            roster: "the roster",
        };
        assert!(Refused::Expired.explain(&surface).contains("`tool login`"));
        assert!(
            Refused::NotInRoster("ines".into())
                .explain(&surface)
                .ends_with("no longer in the roster")
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
