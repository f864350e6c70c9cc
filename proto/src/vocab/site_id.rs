//! Site identifiers: the name a site carries in its certificate and in every record.

use super::InvalidField;
use std::fmt;

/// A site id: 1–63 characters of `a-z`, `0-9` and `-`, starting with a letter or digit.
/// It appears in SPIFFE paths and store keys, so it is deliberately narrow.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct SiteId(String);

impl SiteId {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let bad = |problem: &str| InvalidField::new("site_id", format!("{problem} (got {raw:?})"));
        if raw.is_empty() || raw.len() > 63 {
            return Err(bad("must be 1 to 63 characters"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("may contain only a-z, 0-9 and '-'"));
        }
        if raw.starts_with('-') {
            return Err(bad("must start with a letter or digit"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SiteId {
    type Error = InvalidField;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SiteId> for String {
    fn from(value: SiteId) -> Self {
        value.0
    }
}

impl std::str::FromStr for SiteId {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_label_like_ids_and_refuses_the_rest() {
        for ok in ["paris", "site-1", "0lyon"] {
            assert!(SiteId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Paris", "-x", "a/b", "a b", &"x".repeat(64)] {
            assert!(SiteId::parse(bad).is_err(), "{bad}");
        }
    }
}
