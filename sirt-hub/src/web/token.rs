//! Dashboard sessions: a short-lived token minted for an operator who proved their identity
//! with their certificate (`sirt-hub login`), carried by the browser in an HttpOnly cookie.
//!
//! A token is `v1.<operator hex>.<expiry ms>.<BLAKE3 keyed hash>`; the key is made at hub start
//! and never leaves memory, so a restart signs everyone out. Pure: time is passed in.

use socfed_proto::UnixMillis;
use socfed_proto::hex::{decode as unhex, encode as hex};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the sign-in link is malformed; run `sirt-hub login` for a new one")]
    Malformed,
    #[error("the sign-in link is not from this hub (or the hub restarted); run `sirt-hub login`")]
    BadSignature,
    #[error("the session expired; run `sirt-hub login` for a new link")]
    Expired,
}

pub struct Tokens {
    key: [u8; 32],
    pub ttl_ms: i64,
}

impl Tokens {
    pub fn new(key: [u8; 32], ttl_ms: i64) -> Self {
        Self { key, ttl_ms }
    }

    fn mac(&self, operator_hex: &str, expiry: i64) -> blake3::Hash {
        blake3::keyed_hash(&self.key, format!("v1|{operator_hex}|{expiry}").as_bytes())
    }

    pub fn mint(&self, operator: &str, now: UnixMillis) -> (String, UnixMillis) {
        let name = hex(operator.as_bytes());
        let expiry = now + self.ttl_ms;
        let mac = self.mac(&name, expiry);
        (format!("v1.{name}.{expiry}.{}", mac.to_hex()), expiry)
    }

    /// The operator the token was minted for.
    pub fn verify(&self, token: &str, now: UnixMillis) -> Result<String, TokenError> {
        let mut parts = token.split('.');
        let (Some("v1"), Some(name), Some(expiry), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        let given = blake3::Hash::from_hex(mac).map_err(|_| TokenError::Malformed)?;
        // blake3::Hash compares in constant time.
        if given != self.mac(name, expiry) {
            return Err(TokenError::BadSignature);
        }
        if now > expiry {
            return Err(TokenError::Expired);
        }
        let bytes = unhex(name).ok_or(TokenError::Malformed)?;
        String::from_utf8(bytes).map_err(|_| TokenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_until_expiry_and_resist_tampering() {
        let tokens = Tokens::new([7; 32], 1_000);
        let (token, expiry) = tokens.mint("ines", 5_000);
        assert_eq!(expiry, 6_000);
        assert_eq!(tokens.verify(&token, 5_500).as_deref(), Ok("ines"));
        assert_eq!(tokens.verify(&token, 6_001), Err(TokenError::Expired));
        let other_hub = Tokens::new([8; 32], 1_000);
        assert_eq!(
            other_hub.verify(&token, 5_500),
            Err(TokenError::BadSignature)
        );
        // Someone else's name, or a later expiry, with the same signature.
        let forged = token.replacen(&hex(b"ines"), &hex(b"carl"), 1);
        assert_eq!(tokens.verify(&forged, 5_500), Err(TokenError::BadSignature));
        let extended = token.replacen("6000", "9000", 1);
        assert_eq!(
            tokens.verify(&extended, 5_500),
            Err(TokenError::BadSignature)
        );
        for junk in ["", "v1", "v2.00.1.00", "v1.zz.1.00", &format!("{token}.x")] {
            assert!(tokens.verify(junk, 5_500).is_err(), "{junk}");
        }
    }
}
