//! API tokens for integrations (log shippers, SOAR tools, ticketing): what a token is, how it
//! is minted, stored and checked. Both services keep token records in their own store and
//! call these functions; the HTTP adapters read the bearer header through [`presented`].
//!
//! A token is `socfed_<id>_<secret>`: the id (a ULID) finds the record, the 256-bit secret
//! proves possession. The store keeps only the secret's BLAKE3 hash: a secret of 256 random
//! bits needs no slow password hash (nothing to guess), and a leaked store yields no usable
//! token. The comparison is constant-time (`blake3::Hash` equality).
//!
//! A token carries scopes (what it may do), an expiry (required, at most
//! [`MAX_LIFETIME_MS`]) and may be revoked; the services audit every use with the token's id
//! and name, never its secret.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use ulid::Ulid;

/// The longest a token may live: a year. Integrations rotate their tokens.
pub const MAX_LIFETIME_MS: i64 = 366 * 24 * 3_600_000;
/// The longest token name (a label such as "vector-paris").
pub const MAX_NAME_CHARS: usize = 64;
const PREFIX: &str = "socfed_";
const SECRET_BYTES: usize = 32;

/// What a token may do. Each service maps its endpoints to one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read incidents, alerts, sites, directives, hunts, the event stream.
    Read,
    /// Send alerts to a site's intake (agent).
    Intake,
    /// Triage alert groups and local incidents (agent).
    Triage,
    /// Run the response: transitions, directives, hunts, communications (hub).
    Respond,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Intake, Scope::Triage, Scope::Respond];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Intake => "intake",
            Scope::Triage => "triage",
            Scope::Respond => "respond",
        }
    }

    pub fn parse(word: &str) -> Result<Self, TokenError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == word)
            .ok_or_else(|| TokenError::UnknownScope(word.chars().take(32).collect()))
    }
}

/// A token as stored: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: Ulid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_ms: UnixMillis,
    /// The operator who minted it.
    pub created_by: String,
    /// The serial (hex, as the CRL lists it) of the client certificate that minted it: the
    /// token is refused once that certificate is revoked, so a stolen certificate's tokens
    /// do not outlive `pki revoke`.
    pub cert_serial: String,
    pub expires_ms: UnixMillis,
    pub revoked: Option<Revocation>,
    /// BLAKE3 of the secret.
    pub secret_hash: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at_ms: UnixMillis,
    pub by: String,
}

/// What the operator who minted a token is shown once, and never again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    pub token: String,
    pub record: TokenRecord,
}

/// A token presented in a request, split into its parts (not yet checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub id: Ulid,
    secret: [u8; SECRET_BYTES],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("unknown scope {0:?}; the scopes are read, intake, triage, respond")]
    UnknownScope(String),
    #[error("a token needs at least one scope")]
    NoScope,
    #[error("a token name is 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.'; got {0:?}")]
    BadName(String),
    #[error("a token lives between one minute and a year; ask for a lifetime in that range")]
    BadLifetime,
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("not a socfed API token (expected socfed_<id>_<secret>)")]
    Malformed,
    #[error("unknown API token")]
    Unknown,
    #[error("the API token expired; mint a new one")]
    Expired,
    #[error("the API token was revoked")]
    Revoked,
    #[error("the certificate that minted this token was revoked; mint a new one")]
    MinterRevoked,
    #[error("the API token lacks the {0} scope")]
    MissingScope(&'static str),
}

/// Mints a token for `name` with `scopes`, living `lifetime_ms` from `now`.
pub fn mint(
    name: &str,
    scopes: &[Scope],
    lifetime_ms: i64,
    created_by: &str,
    cert_serial: &str,
    now: UnixMillis,
) -> Result<Minted, TokenError> {
    let name_ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(TokenError::BadName(
            name.chars().take(MAX_NAME_CHARS).collect(),
        ));
    }
    if !(60_000..=MAX_LIFETIME_MS).contains(&lifetime_ms) {
        return Err(TokenError::BadLifetime);
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(TokenError::NoScope);
    }
    let secret = random_secret()?;
    let id = Ulid::from_parts(u64::try_from(now).unwrap_or(0), rand::random());
    let record = TokenRecord {
        id,
        name: name.to_owned(),
        scopes,
        created_ms: now,
        created_by: created_by.to_owned(),
        cert_serial: cert_serial.to_owned(),
        expires_ms: now.saturating_add(lifetime_ms),
        revoked: None,
        secret_hash: *blake3::hash(&secret).as_bytes(),
    };
    Ok(Minted {
        token: format!("{PREFIX}{id}_{}", hex(&secret)),
        record,
    })
}

/// The token in an `Authorization: Bearer …` header value, split; `None` when the header
/// holds no bearer token at all (the caller may then use a client certificate).
pub fn presented(authorization: Option<&str>) -> Option<Result<Presented, TokenError>> {
    let value = authorization?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(parse(rest.trim()))
}

/// Splits `socfed_<id>_<secret>`.
pub fn parse(token: &str) -> Result<Presented, TokenError> {
    let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
    let (id, secret_hex) = rest.split_once('_').ok_or(TokenError::Malformed)?;
    let id = Ulid::from_string(id).map_err(|_| TokenError::Malformed)?;
    if secret_hex.len() != SECRET_BYTES * 2 {
        return Err(TokenError::Malformed);
    }
    let mut secret = [0u8; SECRET_BYTES];
    for (i, byte) in secret.iter_mut().enumerate() {
        let pair = secret_hex
            .get(i * 2..i * 2 + 2)
            .ok_or(TokenError::Malformed)?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| TokenError::Malformed)?;
    }
    Ok(Presented { id, secret })
}

/// Checks a presented token against its stored record (found by `presented.id`; `None` when
/// the store has none) at `now`, for an endpoint needing `scope`; `revoked` says whether the
/// CRL in force lists a certificate serial (the minting certificate's is asked).
pub fn check(
    presented: &Presented,
    record: Option<&TokenRecord>,
    scope: Scope,
    now: UnixMillis,
    revoked: impl Fn(&str) -> bool,
) -> Result<(), TokenError> {
    let record = record.ok_or(TokenError::Unknown)?;
    // Constant-time: `blake3::Hash` equality does not stop at the first differing byte.
    if record.id != presented.id
        || blake3::hash(&presented.secret) != blake3::Hash::from_bytes(record.secret_hash)
    {
        return Err(TokenError::Unknown);
    }
    if record.revoked.is_some() {
        return Err(TokenError::Revoked);
    }
    if revoked(&record.cert_serial) {
        return Err(TokenError::MinterRevoked);
    }
    if now >= record.expires_ms {
        return Err(TokenError::Expired);
    }
    if !record.scopes.contains(&scope) {
        return Err(TokenError::MissingScope(scope.as_str()));
    }
    Ok(())
}

/// A token record on the wire (`pb::ApiToken`, both services): never its secret's hash.
pub fn to_wire(record: &TokenRecord) -> socfed_proto::pb::ApiToken {
    socfed_proto::pb::ApiToken {
        id: record.id.to_string(),
        name: record.name.clone(),
        scopes: record
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        created_at_ms: record.created_ms,
        created_by: record.created_by.clone(),
        expires_at_ms: record.expires_ms,
        revoked_at_ms: record.revoked.as_ref().map_or(0, |r| r.at_ms),
        revoked_by: record
            .revoked
            .as_ref()
            .map(|r| r.by.clone())
            .unwrap_or_default(),
    }
}

/// The scopes a `CreateApiTokenRequest` names, each checked.
pub fn scopes_from_wire(words: &[String]) -> Result<Vec<Scope>, TokenError> {
    words.iter().map(|w| Scope::parse(w)).collect()
}

fn random_secret() -> Result<[u8; SECRET_BYTES], TokenError> {
    use rand::TryRngCore;
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn minted() -> Minted {
        mint(
            "vector-paris",
            &[Scope::Intake, Scope::Read, Scope::Read],
            HOUR,
            "ines",
            "0a",
            1_000,
        )
        .expect("mint")
    }

    #[test]
    fn a_minted_token_checks_for_its_scopes_until_it_expires_or_is_revoked() {
        let m = minted();
        assert_eq!(m.record.scopes, vec![Scope::Read, Scope::Intake]);
        let p = parse(&m.token).expect("parse");
        assert_eq!(
            check(&p, Some(&m.record), Scope::Intake, 2_000, |_| false),
            Ok(())
        );
        assert_eq!(
            check(&p, Some(&m.record), Scope::Respond, 2_000, |_| false),
            Err(TokenError::MissingScope("respond"))
        );
        assert_eq!(
            check(&p, Some(&m.record), Scope::Read, 1_000 + HOUR, |_| false),
            Err(TokenError::Expired)
        );
        assert_eq!(
            check(&p, None, Scope::Read, 2_000, |_| false),
            Err(TokenError::Unknown)
        );
        let mut revoked = m.record.clone();
        revoked.revoked = Some(Revocation {
            at_ms: 1_500,
            by: "ines".into(),
        });
        assert_eq!(
            check(&p, Some(&revoked), Scope::Read, 2_000, |_| false),
            Err(TokenError::Revoked)
        );
        // The certificate that minted it revoked (the CRL lists its serial): refused too.
        assert_eq!(
            check(&p, Some(&m.record), Scope::Read, 2_000, |s| s == "0a"),
            Err(TokenError::MinterRevoked)
        );
        assert_eq!(
            check(&p, Some(&m.record), Scope::Read, 2_000, |s| s == "0b"),
            Ok(())
        );
    }

    #[test]
    fn the_store_keeps_no_secret_and_a_wrong_secret_is_unknown() {
        let m = minted();
        let secret_hex = m.token.rsplit('_').next().expect("secret");
        let stored = format!("{:?}", m.record);
        assert!(!stored.contains(secret_hex), "the record holds only a hash");
        let mut forged = m.token.clone();
        let last = forged.pop().expect("char");
        forged.push(if last == '0' { '1' } else { '0' });
        let p = parse(&forged).expect("well formed");
        assert_eq!(
            check(&p, Some(&m.record), Scope::Read, 2_000, |_| false),
            Err(TokenError::Unknown)
        );
        // Another token's secret under this token's id is refused too.
        let other = minted();
        let other_p = parse(&other.token).expect("parse");
        assert_eq!(
            check(&other_p, Some(&m.record), Scope::Read, 2_000, |_| false),
            Err(TokenError::Unknown)
        );
    }

    #[test]
    fn malformed_tokens_and_headers_are_told_apart_from_no_token() {
        assert_eq!(presented(None), None);
        assert_eq!(presented(Some("Basic abc")), None);
        let m = minted();
        let header = format!("Bearer {}", m.token);
        assert!(matches!(presented(Some(&header)), Some(Ok(_))));
        for junk in [
            "",
            "socfed_",
            "socfed_x_y",
            &format!("socfed_{}_{}", Ulid::nil(), "0".repeat(63)),
            &format!("socfed_{}_{}", Ulid::nil(), "é".repeat(32)),
            &format!("other_{}_{}", Ulid::nil(), "0".repeat(64)),
        ] {
            assert_eq!(parse(junk), Err(TokenError::Malformed), "{junk}");
        }
    }

    #[test]
    fn names_lifetimes_and_scopes_are_checked_at_minting() {
        let mint_with = |name: &str, scopes: &[Scope], life: i64| {
            mint(name, scopes, life, "ines", "0a", 0).map(|_| ())
        };
        assert!(matches!(
            mint_with("a b", &[Scope::Read], HOUR),
            Err(TokenError::BadName(_))
        ));
        assert!(matches!(
            mint_with(&"a".repeat(65), &[Scope::Read], HOUR),
            Err(TokenError::BadName(_))
        ));
        assert_eq!(mint_with("ok", &[], HOUR), Err(TokenError::NoScope));
        assert_eq!(
            mint_with("ok", &[Scope::Read], MAX_LIFETIME_MS + 1),
            Err(TokenError::BadLifetime)
        );
        assert_eq!(
            mint_with("ok", &[Scope::Read], 59_999),
            Err(TokenError::BadLifetime)
        );
        assert_eq!(Scope::parse("triage"), Ok(Scope::Triage));
        assert!(matches!(
            Scope::parse("admin"),
            Err(TokenError::UnknownScope(_))
        ));
    }
}
