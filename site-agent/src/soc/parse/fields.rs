//! Shared helpers for the format parsers: JSON access by dotted path, timestamps, rule
//! naming, IP and indicator extraction, and the [`Draft`] every parser fills in.
//!
//! Lookups here are lenient (a missing or mistyped optional field is simply absent); the
//! parsers decide which fields are required and word the errors for those.

use super::LineError;
use crate::soc::alert::Entities;
use serde_json::{Map, Value};
use socfed_proto::vocab::{Indicator, IndicatorKind, Severity, Technique, Tlp};
use std::fmt::Display;
use std::net::IpAddr;

pub(super) type Object = Map<String, Value>;

/// 9999-12-31T23:59:59.999Z, the last instant with a four-digit year.
const MAX_MS: i64 = 253_402_300_799_999;

/// Longest piece of input echoed back inside an error message.
const SHOWN_CHARS: usize = 60;

/// What a format parser produces; `parse_line` adds format, raw evidence and intake time.
#[derive(Debug)]
pub(super) struct Draft {
    pub observed_at_ms: i64,
    pub product: String,
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    pub techniques: Vec<Technique>,
    pub entities: Entities,
    pub indicators: Vec<Indicator>,
    pub tlp: Tlp,
    /// What names this event at its source, for de-duplication (see [`Identity`]).
    pub identity: Identity,
}

/// How a source event is recognised when it is submitted again (the same file re-ingested,
/// a forwarder that resends): the parts of the record that name this one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Identity {
    /// The source's own identifiers, e.g. EVE flow, transaction, rule and time.
    Fields(Vec<String>),
    /// No identifier: the whole record, byte for byte, names the event (vendor records carry
    /// sub-second times, so two identical records are one event sent twice).
    WholeRecord,
    /// Not recognisable (native lines without `id`): every line is a new event.
    None,
}

/// A format parser's answer for one record.
#[derive(Debug)]
pub(super) enum Step {
    Alert(Box<Draft>),
    Skip(String),
}

/// `field: problem`, the shape of every rejection.
pub(super) fn fail(field: &str, problem: impl Display) -> LineError {
    LineError(format!("{field}: {problem}"))
}

/// Input echoed in an error: quoted and cut to a few dozen characters.
pub(super) fn shown(s: &str) -> String {
    let mut cut: String = s.chars().take(SHOWN_CHARS).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Parses one JSON object, or says why the text is not one.
pub(super) fn parse_object(text: &str) -> Result<Object, LineError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(fail(
            "line",
            format!("expected a JSON object, found {}", kind_name(&other)),
        )),
        Err(e) => Err(fail("line", format!("not valid JSON ({e})"))),
    }
}

pub(super) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value at a dotted path (`alert.metadata.cve`); `null` counts as absent.
pub(super) fn lookup<'a>(obj: &'a Object, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = obj.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    (!current.is_null()).then_some(current)
}

/// A non-blank string at `path`, trimmed; anything else is absent.
pub(super) fn text<'a>(obj: &'a Object, path: &str) -> Option<&'a str> {
    lookup(obj, path)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A non-blank string or an integer at `path`, as text (ids are written both ways).
pub(super) fn text_or_int(obj: &Object, path: &str) -> Option<String> {
    match lookup(obj, path)? {
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// An integer at `path`: `Ok(None)` when absent, an error naming `path` when not an integer.
pub(super) fn int(obj: &Object, path: &str) -> Result<Option<i64>, LineError> {
    match lookup(obj, path) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| fail(path, format!("expected an integer, found {}", kind_name(v)))),
    }
}

/// The strings at `path`, whether it holds one string or an array (non-strings skipped).
pub(super) fn strings<'a>(obj: &'a Object, path: &str) -> Vec<&'a str> {
    match lookup(obj, path) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every non-blank string (or integer, as text) at `path`, walking into arrays at any step:
/// `a.b.c` finds `a.b[].c` and `a[].b.c` too (vendors write one object or a list of them).
pub(super) fn all_texts(obj: &Object, path: &str) -> Vec<String> {
    fn walk(value: &Value, parts: &[&str], out: &mut Vec<String>) {
        match (value, parts.split_first()) {
            (Value::Array(items), _) => {
                for item in items {
                    walk(item, parts, out);
                }
            }
            (Value::Object(map), Some((first, rest))) => {
                if let Some(next) = map.get(*first) {
                    walk(next, rest, out);
                }
            }
            (Value::String(s), None) if !s.trim().is_empty() => out.push(s.trim().to_string()),
            (Value::Number(n), None) if n.is_i64() || n.is_u64() => out.push(n.to_string()),
            _ => {}
        }
    }
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    if let Some((first, rest)) = parts.split_first()
        && let Some(value) = obj.get(*first)
    {
        walk(value, rest, &mut out);
    }
    out
}

/// The objects of the array at `path` (non-objects skipped).
pub(super) fn objects<'a>(obj: &'a Object, path: &str) -> impl Iterator<Item = &'a Object> {
    lookup(obj, path)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// Unix milliseconds, checked to lie in 1970..=9999.
pub(super) fn millis(ms: i64, field: &str) -> Result<i64, LineError> {
    if (0..=MAX_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(fail(
            field,
            format!("{ms} is outside 1970-01-01..9999-12-31 in Unix milliseconds"),
        ))
    }
}

/// An RFC 3339 time (`2024-05-28T09:39:37.034Z`, `…+02:00`) or the EVE/Wazuh variant
/// with a colon-less offset (`2024-05-28T09:39:37.034492+0000`, `-0000`), as Unix ms.
pub(super) fn time_text(raw: &str, field: &str) -> Result<i64, LineError> {
    let s = raw.trim();
    if s.starts_with('{') && s.ends_with('}') {
        return Err(fail(
            field,
            format!("{} is a template placeholder, not a time", shown(s)),
        ));
    }
    let parsed = s.parse::<jiff::Timestamp>().ok().or_else(|| {
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", s)
            .and_then(|tm| tm.to_timestamp())
            .ok()
    });
    match parsed {
        Some(ts) => millis(ts.as_millisecond(), field),
        None => Err(fail(
            field,
            format!("{} is not an RFC 3339 time with an offset", shown(s)),
        )),
    }
}

/// Fills the missing half of (rule id, rule name) from the other; both missing is an error.
pub(super) fn rule(
    id: Option<String>,
    name: Option<String>,
    missing: &str,
) -> Result<(String, String), LineError> {
    match (id, name) {
        (Some(id), Some(name)) => Ok((id, name)),
        (Some(id), None) => Ok((id.clone(), id)),
        (None, Some(name)) => Ok((name.clone(), name)),
        (None, None) => Err(LineError(missing.to_string())),
    }
}

/// An IP address with IPv4-mapped IPv6 folded to IPv4.
pub(super) fn ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(ip.to_canonical())
}

/// An address worth sharing as an indicator: not loopback, unspecified, multicast,
/// link-local or broadcast (those name no remote party). Private ranges are kept.
pub(super) fn ip_indicator(ip: IpAddr) -> Option<Indicator> {
    let local_only = ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || match ip {
            IpAddr::V4(v4) => v4.is_link_local() || v4.is_broadcast(),
            IpAddr::V6(v6) => v6.is_unicast_link_local(),
        };
    if local_only {
        return None;
    }
    Indicator::new(IndicatorKind::Ipv4, &ip.to_string()).ok()
}

/// A domain indicator; IP literals (also `[v6]` and `host:port`) and invalid names give none.
pub(super) fn domain_indicator(s: &str) -> Option<Indicator> {
    let s = s.trim();
    let host = s.trim_start_matches('[').trim_end_matches(']');
    if ip(host).is_some() {
        return None;
    }
    let host = match s.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => s,
    };
    if ip(host).is_some() {
        return None;
    }
    Indicator::new(IndicatorKind::Domain, host).ok()
}

/// A hash indicator chosen by length (32 md5, 40 sha1, 64 sha256); `ALGO:` prefixes dropped.
pub(super) fn hash_indicator(s: &str) -> Option<Indicator> {
    let s = s.trim();
    let value = s.rsplit_once(':').map_or(s, |(_, v)| v);
    let kind = match value.len() {
        32 => IndicatorKind::Md5,
        40 => IndicatorKind::Sha1,
        64 => IndicatorKind::Sha256,
        _ => return None,
    };
    Indicator::new(kind, value).ok()
}

/// Valid ATT&CK ids among `raw`; invalid ones are ignored (vendor formats only).
pub(super) fn lenient_techniques<'a>(raw: impl IntoIterator<Item = &'a str>) -> Vec<Technique> {
    raw.into_iter()
        .filter_map(|t| Technique::parse(t).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_rfc3339_and_colonless_offsets() {
        let cases = [
            ("2024-05-28T09:39:37.034Z", 1_716_889_177_034),
            ("2024-05-28T09:39:37.034492+0000", 1_716_889_177_034),
            ("2024-05-28T09:39:37.034492-0000", 1_716_889_177_034),
            ("2024-05-28T11:39:37.034+02:00", 1_716_889_177_034),
            ("2024-02-15T16:05:11.486-0300", 1_708_023_911_486),
            ("2024-05-28T09:39:37+0000", 1_716_889_177_000),
        ];
        for (s, ms) in cases {
            assert_eq!(time_text(s, "t"), Ok(ms), "{s}");
        }
        for bad in [
            "{timestamp}",
            "2024-05-28 09:39:37",
            "2024-05-28T09:39:37",
            "yesterday",
            "1969-12-31T23:59:59Z",
            "",
        ] {
            let err = time_text(bad, "t").expect_err(bad);
            assert!(err.0.starts_with("t: "), "{err}");
        }
        assert!(
            time_text("{timestamp}", "t")
                .expect_err("p")
                .0
                .contains("placeholder")
        );
    }

    #[test]
    fn indicator_helpers_skip_what_is_not_shareable() {
        assert_eq!(domain_indicator("192.0.2.7"), None);
        assert_eq!(domain_indicator("[2001:db8::1]"), None);
        assert_eq!(domain_indicator("192.0.2.7:8080"), None);
        assert_eq!(
            domain_indicator("WWW.Shop.Example:8443").map(|i| i.to_string()),
            Some("domain:www.shop.example".into())
        );
        assert_eq!(ip_indicator("127.0.0.1".parse().expect("ip")), None);
        assert_eq!(ip_indicator("fe80::1".parse().expect("ip")), None);
        assert!(ip_indicator("10.1.2.3".parse().expect("ip")).is_some());
        assert_eq!(ip("::ffff:192.0.2.1"), "192.0.2.1".parse().ok());
        assert_eq!(
            hash_indicator("MD5:3172AC7E2B55CBB81F04A6E65855A628").map(|i| i.to_string()),
            Some("md5:3172ac7e2b55cbb81f04a6e65855a628".into())
        );
        assert_eq!(hash_indicator("abc"), None);
    }

    #[test]
    fn lookup_walks_dotted_paths_and_treats_null_as_absent() {
        let obj = parse_object(r#"{"a":{"b":{"c":1}},"n":null,"s":" x ","arr":["t",1]}"#)
            .expect("object");
        assert_eq!(int(&obj, "a.b.c"), Ok(Some(1)));
        assert_eq!(int(&obj, "a.b.d"), Ok(None));
        assert!(int(&obj, "s").is_err());
        assert_eq!(lookup(&obj, "n"), None);
        assert_eq!(text(&obj, "s"), Some("x"));
        assert_eq!(strings(&obj, "arr"), vec!["t"]);
        assert!(parse_object("[1]").is_err());
        assert!(parse_object("{").is_err());
    }

    #[test]
    fn all_texts_walks_into_arrays_at_any_step() {
        let obj = parse_object(
            r#"{"a":[{"b":{"c":"x"}},{"b":[{"c":"y"},{"c":7},{"c":" "}]},{"b":null}],"d":{"c":"z"}}"#,
        )
        .expect("object");
        assert_eq!(all_texts(&obj, "a.b.c"), ["x", "y", "7"]);
        assert_eq!(all_texts(&obj, "d.c"), ["z"]);
        assert!(all_texts(&obj, "a.b").is_empty());
        assert!(all_texts(&obj, "nope.c").is_empty());
    }
}
