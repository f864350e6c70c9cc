//! The signature of a webhook delivery, and its verification (what a receiver does; the tests
//! do it too).
//!
//! Header `Socfed-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is HMAC-SHA256 under the
//! sink's secret over `"<t>.<body>"`. The timestamp is signed with the body, so a receiver that
//! refuses a `t` older than its tolerance (five minutes is usual) refuses a replay, and one
//! that remembers the event ids it took (`Socfed-Event-Id`, also `id` in the body) within
//! that tolerance refuses a duplicate. Each attempt is signed afresh, so a retry after an
//! hour carries a current `t`. A receiver accepts any `v1` that matches: during a key
//! rotation a sender may send two.

use ring::hmac;
use std::time::Duration;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Socfed-Signature";
/// The header carrying the event id (also `id` in the body), for de-duplication.
pub const EVENT_ID_HEADER: &str = "Socfed-Event-Id";
/// The header carrying the event kind (also `kind` in the body).
pub const EVENT_KIND_HEADER: &str = "Socfed-Event-Kind";

/// A signing key: the bytes of a sink's secret file.
#[derive(Clone)]
pub struct SigningKey(hmac::Key);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

impl SigningKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    fn tag(&self, t: i64, body: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(t.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        ctx.sign()
    }

    /// The `Socfed-Signature` value of `body` sent at `t` (Unix seconds).
    pub fn sign(&self, t: i64, body: &[u8]) -> String {
        format!(
            "t={t},v1={}",
            socfed_proto::hex::encode(self.tag(t, body).as_ref())
        )
    }

    /// Checks a `Socfed-Signature` value against `body`, at `now` (Unix seconds): the
    /// timestamp within `tolerance` of now (either way: clocks differ), and a `v1` that is
    /// the HMAC of `"<t>.<body>"`, compared in constant time.
    pub fn verify(
        &self,
        header: &str,
        body: &[u8],
        now: i64,
        tolerance: Duration,
    ) -> Result<(), VerifyError> {
        let mut t = None;
        let mut candidates = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => {
                    t = Some(value.parse::<i64>().map_err(|_| VerifyError::Malformed)?)
                }
                Some(("v1", value)) => {
                    candidates.push(socfed_proto::hex::decode(value).ok_or(VerifyError::Malformed)?)
                }
                // Other schemes a later sender may add are ignored, as receivers should.
                Some(_) => {}
                None => return Err(VerifyError::Malformed),
            }
        }
        let t = t.ok_or(VerifyError::Malformed)?;
        if candidates.is_empty() {
            return Err(VerifyError::Malformed);
        }
        let skew = now.saturating_sub(t).unsigned_abs();
        if skew > tolerance.as_secs() {
            return Err(VerifyError::Stale { skew_secs: skew });
        }
        let mut payload = Vec::with_capacity(body.len() + 21);
        payload.extend_from_slice(t.to_string().as_bytes());
        payload.push(b'.');
        payload.extend_from_slice(body);
        if candidates
            .iter()
            .any(|tag| hmac::verify(&self.0, &payload, tag).is_ok())
        {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is not `t=<unix seconds>,v1=<hex>`")]
    Malformed,
    #[error("the signature's timestamp is {skew_secs} s away from now: refused as a replay")]
    Stale { skew_secs: u64 },
    #[error("no signature matches the body under this key")]
    Mismatch,
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: Duration = Duration::from_secs(300);

    #[test]
    fn a_signature_verifies_and_names_its_time() {
        let key = SigningKey::new(b"a shared secret of the sink");
        let header = key.sign(1_700_000_000, b"{\"id\":\"1\"}");
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        assert_eq!(header.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(
            key.verify(&header, b"{\"id\":\"1\"}", 1_700_000_010, TOLERANCE),
            Ok(())
        );
    }

    #[test]
    fn a_tampered_body_an_old_timestamp_and_a_wrong_key_are_refused() {
        let key = SigningKey::new(b"a shared secret of the sink");
        let body = b"{\"id\":\"1\",\"kind\":\"sla-breach\"}";
        let header = key.sign(1_700_000_000, body);
        assert_eq!(
            key.verify(
                &header,
                b"{\"id\":\"1\",\"kind\":\"sla-breach \"}",
                1_700_000_000,
                TOLERANCE
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            key.verify(&header, body, 1_700_000_301, TOLERANCE),
            Err(VerifyError::Stale { skew_secs: 301 })
        );
        assert_eq!(
            key.verify(&header, body, 1_699_999_000, TOLERANCE),
            Err(VerifyError::Stale { skew_secs: 1000 })
        );
        assert_eq!(
            SigningKey::new(b"another secret").verify(&header, body, 1_700_000_000, TOLERANCE),
            Err(VerifyError::Mismatch)
        );
        // The timestamp is signed: moving it forward to pass the replay check breaks the tag.
        let moved = header.replace("t=1700000000", "t=1700000600");
        assert_eq!(
            key.verify(&moved, body, 1_700_000_600, TOLERANCE),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused_and_a_second_v1_is_accepted() {
        let key = SigningKey::new(b"k");
        for junk in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "nonsense"] {
            assert_eq!(
                key.verify(junk, b"", 1, TOLERANCE),
                Err(VerifyError::Malformed),
                "{junk}"
            );
        }
        let good = key.sign(5, b"body");
        let v1 = good.split_once(",v1=").map(|(_, v)| v).unwrap_or_default();
        let rotated = format!("t=5,v1={},v1={v1}", "00".repeat(32));
        assert_eq!(key.verify(&rotated, b"body", 5, TOLERANCE), Ok(()));
    }
}
