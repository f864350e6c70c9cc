//! Indicators of compromise, normalised so that equal threats compare equal across sites:
//! lower-cased domains, hashes and e-mail addresses, canonical IP text, upper-cased CVE ids.

use super::InvalidField;
use crate::pb;
use std::fmt;
use std::net::IpAddr;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Sha256,
    Sha1,
    Md5,
    Email,
    Cve,
}

impl IndicatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Email => "email",
            IndicatorKind::Cve => "cve",
        }
    }

    fn to_wire(self) -> pb::IndicatorKind {
        match self {
            IndicatorKind::Ipv4 => pb::IndicatorKind::Ipv4,
            IndicatorKind::Ipv6 => pb::IndicatorKind::Ipv6,
            IndicatorKind::Domain => pb::IndicatorKind::Domain,
            IndicatorKind::Url => pb::IndicatorKind::Url,
            IndicatorKind::Sha256 => pb::IndicatorKind::Sha256,
            IndicatorKind::Sha1 => pb::IndicatorKind::Sha1,
            IndicatorKind::Md5 => pb::IndicatorKind::Md5,
            IndicatorKind::Email => pb::IndicatorKind::Email,
            IndicatorKind::Cve => pb::IndicatorKind::Cve,
        }
    }

    fn from_wire(value: i32) -> Result<Self, InvalidField> {
        match pb::IndicatorKind::try_from(value) {
            Ok(pb::IndicatorKind::Ipv4) => Ok(IndicatorKind::Ipv4),
            Ok(pb::IndicatorKind::Ipv6) => Ok(IndicatorKind::Ipv6),
            Ok(pb::IndicatorKind::Domain) => Ok(IndicatorKind::Domain),
            Ok(pb::IndicatorKind::Url) => Ok(IndicatorKind::Url),
            Ok(pb::IndicatorKind::Sha256) => Ok(IndicatorKind::Sha256),
            Ok(pb::IndicatorKind::Sha1) => Ok(IndicatorKind::Sha1),
            Ok(pb::IndicatorKind::Md5) => Ok(IndicatorKind::Md5),
            Ok(pb::IndicatorKind::Email) => Ok(IndicatorKind::Email),
            Ok(pb::IndicatorKind::Cve) => Ok(IndicatorKind::Cve),
            Ok(pb::IndicatorKind::Unspecified) => {
                Err(InvalidField::new("kind", "indicator kind is required"))
            }
            Err(_) => Err(InvalidField::new(
                "kind",
                format!("unknown indicator kind number {value}"),
            )),
        }
    }
}

/// A normalised indicator. Construct it with [`Indicator::new`] or parse `TYPE:VALUE`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Indicator {
    kind: IndicatorKind,
    value: String,
}

const MAX_INDICATOR_LEN: usize = 2048;

impl Indicator {
    /// Validates and normalises `value` as an indicator of `kind`.
    pub fn new(kind: IndicatorKind, value: &str) -> Result<Self, InvalidField> {
        let value = value.trim();
        let bad = |problem: &str| {
            InvalidField::new(
                "value",
                format!("{problem} for a {} indicator", kind.as_str()),
            )
        };
        if value.is_empty() || value.len() > MAX_INDICATOR_LEN {
            return Err(bad("must be 1 to 2048 characters"));
        }
        // URLs and e-mail local parts are otherwise free text: no terminal controls.
        super::bounds::single_line("value", value)?;
        let normalised = match kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
                let ip: IpAddr = value.parse().map_err(|_| bad("not an IP address"))?;
                // An IPv4-mapped IPv6 address is the same host as its IPv4 form.
                let ip = match ip {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
                    IpAddr::V4(_) => ip,
                };
                let actual = if ip.is_ipv4() {
                    IndicatorKind::Ipv4
                } else {
                    IndicatorKind::Ipv6
                };
                return Ok(Self {
                    kind: actual,
                    value: ip.to_string(),
                });
            }
            IndicatorKind::Domain => {
                let domain = value.trim_end_matches('.').to_ascii_lowercase();
                let label_ok = |l: &str| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                };
                if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label_ok) {
                    return Err(bad("not a domain name"));
                }
                domain
            }
            IndicatorKind::Url => {
                let lower = value.to_ascii_lowercase();
                let rest = ["http://", "https://", "ftp://"]
                    .iter()
                    .find_map(|scheme| lower.strip_prefix(scheme).map(|_| scheme.len()))
                    .ok_or_else(|| bad("must start with http://, https:// or ftp://"))?;
                if value.chars().any(char::is_whitespace) {
                    return Err(bad("must not contain whitespace"));
                }
                // Scheme and host are case-insensitive; the path is not.
                let host_end = value[rest..].find('/').map_or(value.len(), |i| rest + i);
                format!("{}{}", &lower[..host_end], &value[host_end..])
            }
            IndicatorKind::Sha256 | IndicatorKind::Sha1 | IndicatorKind::Md5 => {
                let want = match kind {
                    IndicatorKind::Sha256 => 64,
                    IndicatorKind::Sha1 => 40,
                    _ => 32,
                };
                if value.len() != want || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad(&format!("must be {want} hex digits")));
                }
                value.to_ascii_lowercase()
            }
            IndicatorKind::Email => {
                let lower = value.to_ascii_lowercase();
                match lower.split_once('@') {
                    Some((local, domain))
                        if !local.is_empty() && domain.contains('.') && !domain.contains('@') =>
                    {
                        lower
                    }
                    _ => return Err(bad("not an e-mail address")),
                }
            }
            IndicatorKind::Cve => {
                let upper = value.to_ascii_uppercase();
                let ok = upper
                    .strip_prefix("CVE-")
                    .and_then(|r| r.split_once('-'))
                    .is_some_and(|(year, num)| {
                        year.len() == 4
                            && year.bytes().all(|b| b.is_ascii_digit())
                            && num.len() >= 4
                            && num.bytes().all(|b| b.is_ascii_digit())
                    });
                if !ok {
                    return Err(bad("not a CVE id like CVE-2024-3400"));
                }
                upper
            }
        };
        Ok(Self {
            kind,
            value: normalised,
        })
    }

    /// Parses `TYPE:VALUE`, e.g. `ip:203.0.113.7`, `domain:evil.example`, `sha256:…`.
    /// `ip` accepts either address family.
    pub fn parse_typed(raw: &str) -> Result<Self, InvalidField> {
        let (kind, value) = raw.split_once(':').ok_or_else(|| {
            InvalidField::new(
                "indicator",
                format!("{raw:?} is not TYPE:VALUE (for example ip:203.0.113.7)"),
            )
        })?;
        let kind = match kind.to_ascii_lowercase().as_str() {
            "ip" | "ipv4" | "ipv6" => IndicatorKind::Ipv4,
            "domain" => IndicatorKind::Domain,
            "url" => IndicatorKind::Url,
            "sha256" => IndicatorKind::Sha256,
            "sha1" => IndicatorKind::Sha1,
            "md5" => IndicatorKind::Md5,
            "email" => IndicatorKind::Email,
            "cve" => IndicatorKind::Cve,
            other => {
                return Err(InvalidField::new(
                    "indicator",
                    format!(
                        "unknown indicator type {other:?}; use ip, domain, url, sha256, sha1, md5, email or cve"
                    ),
                ));
            }
        };
        Self::new(kind, value).map_err(|e| e.within("indicator"))
    }

    pub fn kind(&self) -> IndicatorKind {
        self.kind
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    pub fn to_wire(&self) -> pb::Indicator {
        pb::Indicator {
            kind: self.kind.to_wire() as i32,
            value: self.value.clone(),
        }
    }
}

impl TryFrom<pb::Indicator> for Indicator {
    type Error = InvalidField;
    fn try_from(wire: pb::Indicator) -> Result<Self, Self::Error> {
        let pb::Indicator { kind, value } = wire;
        Indicator::new(IndicatorKind::from_wire(kind)?, &value)
    }
}

impl fmt::Display for Indicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.value)
    }
}

/// A wire indicator as `kind:value` for display, without validating it (listings show what
/// was stored; `unknown` for a kind this build does not know). Escaping is the surface's.
pub fn wire_text(i: &pb::Indicator) -> String {
    let kind = pb::IndicatorKind::try_from(i.kind)
        .map(|k| {
            k.as_str_name()
                .trim_start_matches("INDICATOR_KIND_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "unknown".into());
    format!("{kind}:{}", i.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_so_equal_threats_compare_equal() {
        let pairs = [
            ("domain:Evil.Example.", "domain:evil.example"),
            ("ip:::ffff:203.0.113.7", "ip:203.0.113.7"),
            ("ipv6:2001:DB8::1", "ip:2001:db8::1"),
            (
                "sha1:DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
                "sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
            ),
            ("cve:cve-2024-3400", "cve:CVE-2024-3400"),
            (
                "url:HTTPS://Evil.Example/Path",
                "url:https://evil.example/Path",
            ),
        ];
        for (a, b) in pairs {
            assert_eq!(
                Indicator::parse_typed(a),
                Indicator::parse_typed(b),
                "{a} vs {b}"
            );
        }
    }

    #[test]
    fn refuses_malformed_values_with_the_reason() {
        for bad in [
            "ip:300.1.1.1",
            "domain:nodot",
            "md5:xyz",
            "cve:2024-1",
            "bogus:1",
            "noseparator",
            "email:a@b",
        ] {
            let err = Indicator::parse_typed(bad).expect_err(bad);
            assert!(!err.problem.is_empty());
        }
    }

    proptest::proptest! {
        #[test]
        fn normalisation_is_idempotent(raw in "[a-zA-Z0-9:.@/-]{1,40}") {
            for kind in [IndicatorKind::Ipv4, IndicatorKind::Domain, IndicatorKind::Url, IndicatorKind::Email, IndicatorKind::Cve, IndicatorKind::Md5] {
                if let Ok(once) = Indicator::new(kind, &raw) {
                    let twice = Indicator::new(once.kind(), once.value());
                    proptest::prop_assert_eq!(Ok(once), twice);
                }
            }
        }
    }
}
