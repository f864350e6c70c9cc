//! A search carried in a sweep directive's parameters (`ioc_sweep`, a string map): the hub
//! writes the filters under `search_*` keys, one value a line; the site reads them back as
//! hostile input, bounded before it splits them and checked by [`Query::parse`]. A site
//! build that does not know these keys finds no `indicators` and fails the sweep, rather
//! than sweep for something else.

use super::{MAX_QUERY_VALUE_BYTES, MAX_QUERY_VALUES, QueryError, RawQuery};
use std::collections::BTreeMap;

const INDICATORS: &str = "search_indicators";
const HOSTS: &str = "search_hosts";
const USERS: &str = "search_users";
const TECHNIQUES: &str = "search_techniques";
const TEXT: &str = "search_text";

/// The parameters naming `raw`'s filters (only those given).
pub fn to_params(raw: &RawQuery) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, values) in [
        (INDICATORS, &raw.indicators),
        (HOSTS, &raw.hosts),
        (USERS, &raw.users),
        (TECHNIQUES, &raw.techniques),
    ] {
        if !values.is_empty() {
            out.push((key.to_string(), values.join("\n")));
        }
    }
    if let Some(text) = &raw.text {
        out.push((TEXT.to_string(), text.clone()));
    }
    out
}

/// The search `params` carry, if any (`None`: an indicator sweep). Each parameter is
/// bounded before it is split; the caller checks the result with [`Query::parse`].
///
/// [`Query::parse`]: super::Query::parse
pub fn from_params(params: &BTreeMap<String, String>) -> Result<Option<RawQuery>, QueryError> {
    let most = MAX_QUERY_VALUES * (MAX_QUERY_VALUE_BYTES + 1);
    let list = |key: &'static str| -> Result<Vec<String>, QueryError> {
        let Some(value) = params.get(key) else {
            return Ok(Vec::new());
        };
        if value.len() > most {
            return Err(QueryError::TooLong(key));
        }
        Ok(value
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    };
    let raw = RawQuery {
        indicators: list(INDICATORS)?,
        hosts: list(HOSTS)?,
        users: list(USERS)?,
        techniques: list(TECHNIQUES)?,
        text: params.get(TEXT).cloned(),
    };
    let any = [INDICATORS, HOSTS, USERS, TECHNIQUES, TEXT]
        .iter()
        .any(|k| params.contains_key(*k));
    Ok(any.then_some(raw))
}

/// A one-line description of a checked search (`host=web-1 text=powershell`), at most
/// `max` bytes: what a sweep's hits name as what they matched.
pub fn describe(query: &super::Query, max: usize) -> String {
    let mut out = String::from("search");
    for term in query.terms() {
        let name = match term.field {
            super::Field::Indicator => "indicator",
            super::Field::Host => "host",
            super::Field::User => "user",
            super::Field::Technique => "technique",
            super::Field::Word => "text",
        };
        let part = format!(" {name}={}", term.token);
        if out.len() + part.len() > max {
            break;
        }
        out.push_str(&part);
    }
    out
}
