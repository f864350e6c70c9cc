//! Search vocabulary shared by the site's alert search, the hub's incident search and the
//! cross-site sweep that carries a search to the sites: what a search term is, how text
//! becomes index tokens (lower-cased, bounded length, bounded count per record), how a
//! query from a user or from the wire is checked, and the ordered intersection of posting
//! lists that answers it (newest first, paged by an exclusive upper bound).
//!
//! Pure: no storage and no clock. Each store keeps its postings as
//! `field tag ++ token ++ 0x00 ++ record id (16 bytes, time-ordered)` and supplies the seek.

use crate::vocab::{Indicator, Technique};
use std::collections::BTreeSet;
use thiserror::Error;

/// Longest token kept, in bytes (cut at a character boundary): longer words are indexed,
/// and searched, by their first `MAX_TOKEN_BYTES` bytes.
pub const MAX_TOKEN_BYTES: usize = 64;
/// Most tokens one record is indexed under: indicators, hosts, users, techniques, then title
/// words, then comment or note words, in that order, until the budget is spent.
pub const MAX_TOKENS: usize = 256;
/// Most words taken from one `--text`.
pub const MAX_QUERY_WORDS: usize = 8;
/// Most values of each filter in one query.
pub const MAX_QUERY_VALUES: usize = 4;
/// Longest raw value of a filter accepted, in bytes.
pub const MAX_QUERY_VALUE_BYTES: usize = 2048;
/// Results per page when the caller names no limit, and the most it may ask for.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;
/// Words shorter than this (in characters) are not indexed nor searched.
pub const MIN_WORD_CHARS: usize = 2;

/// What a token says of its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Indicator,
    Host,
    User,
    Technique,
    /// A word of the title or of a comment or note.
    Word,
}

impl Field {
    /// The key byte of this field's postings.
    pub fn tag(self) -> u8 {
        match self {
            Field::Indicator => b'i',
            Field::Host => b'h',
            Field::User => b'u',
            Field::Technique => b't',
            Field::Word => b'w',
        }
    }

    pub fn from_tag(tag: u8) -> Option<Self> {
        [
            Field::Indicator,
            Field::Host,
            Field::User,
            Field::Technique,
            Field::Word,
        ]
        .into_iter()
        .find(|f| f.tag() == tag)
    }
}

/// One index token: a field and a normalised value (no 0x00, no controls, at most
/// [`MAX_TOKEN_BYTES`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Term {
    pub field: Field,
    pub token: String,
}

impl Term {
    /// `tag ++ token ++ 0x00`: the prefix of every posting of this term.
    pub fn key_prefix(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.token.len() + 2);
        key.push(self.field.tag());
        key.extend_from_slice(self.token.as_bytes());
        key.push(0);
        key
    }

    /// The posting of this term for record `id`.
    pub fn key(&self, id: [u8; 16]) -> Vec<u8> {
        let mut key = self.key_prefix();
        key.extend_from_slice(&id);
        key
    }
}

/// `raw` as a token: trimmed, lower-cased, without characters a terminal acts on, cut to
/// [`MAX_TOKEN_BYTES`]; `None` when nothing is left.
pub fn normalise(raw: &str) -> Option<String> {
    let mut out = String::new();
    for c in raw.trim().chars().flat_map(char::to_lowercase) {
        if crate::text::is_unsafe(c) {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_TOKEN_BYTES {
            break;
        }
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

/// The words of free text: runs of letters and digits, normalised, at least
/// [`MIN_WORD_CHARS`] characters.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= MIN_WORD_CHARS)
        .filter_map(normalise)
}

/// The tokens of one record, gathered in priority order up to [`MAX_TOKENS`].
#[derive(Debug, Default)]
pub struct Tokens {
    terms: BTreeSet<Term>,
}

impl Tokens {
    /// Adds `raw` under `field` (normalised) while the budget lasts.
    pub fn add(&mut self, field: Field, raw: &str) {
        if self.terms.len() >= MAX_TOKENS {
            return;
        }
        if let Some(token) = normalise(raw) {
            self.terms.insert(Term { field, token });
        }
    }

    /// Adds every word of `text` while the budget lasts.
    pub fn add_text(&mut self, text: &str) {
        for word in words(text) {
            if self.terms.len() >= MAX_TOKENS {
                return;
            }
            self.terms.insert(Term {
                field: Field::Word,
                token: word,
            });
        }
    }

    pub fn into_terms(self) -> BTreeSet<Term> {
        self.terms
    }
}

/// A query as a user or a peer gave it, before checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawQuery {
    /// `kind:value` each.
    pub indicators: Vec<String>,
    pub hosts: Vec<String>,
    pub users: Vec<String>,
    pub techniques: Vec<String>,
    pub text: Option<String>,
}

impl RawQuery {
    /// One value per filter, as a web form or a query string gives them: blank ones (after
    /// trimming) are no filter.
    pub fn of_fields(indicator: &str, host: &str, user: &str, technique: &str, text: &str) -> Self {
        let one = |v: &str| {
            let v = v.trim();
            if v.is_empty() {
                Vec::new()
            } else {
                vec![v.to_string()]
            }
        };
        Self {
            indicators: one(indicator),
            hosts: one(host),
            users: one(user),
            techniques: one(technique),
            text: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        }
    }
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    #[error("give at least one of indicator, host, user, technique or text")]
    Empty,
    #[error("at most {MAX_QUERY_VALUES} values of {0}")]
    TooManyValues(&'static str),
    #[error("{0} is longer than {MAX_QUERY_VALUE_BYTES} bytes")]
    TooLong(&'static str),
    #[error("bad {field}: {detail}")]
    Invalid { field: &'static str, detail: String },
    #[error("text has no word of {MIN_WORD_CHARS} or more letters or digits")]
    NoWords,
    #[error("at most {MAX_QUERY_WORDS} words of text")]
    TooManyWords,
    #[error("limit must be 1 to {MAX_LIMIT}")]
    Limit,
    #[error("not a cursor this search gave")]
    Cursor,
}

/// The filters as they came over the wire (bounded and checked by [`Query::parse`]).
impl From<crate::pb::SearchFilters> for RawQuery {
    fn from(wire: crate::pb::SearchFilters) -> Self {
        let crate::pb::SearchFilters {
            indicators,
            hosts,
            users,
            techniques,
            text,
        } = wire;
        Self {
            indicators,
            hosts,
            users,
            techniques,
            text: (!text.is_empty()).then_some(text),
        }
    }
}

impl From<RawQuery> for crate::pb::SearchFilters {
    fn from(raw: RawQuery) -> Self {
        let RawQuery {
            indicators,
            hosts,
            users,
            techniques,
            text,
        } = raw;
        Self {
            indicators,
            hosts,
            users,
            techniques,
            text: text.unwrap_or_default(),
        }
    }
}

/// A checked query: the terms every result has (AND), at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    terms: Vec<Term>,
}

impl Query {
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Checks `raw`: bounded counts and lengths, indicators and techniques valid, text with
    /// at least one word.
    pub fn parse(raw: &RawQuery) -> Result<Self, QueryError> {
        let mut terms = BTreeSet::new();
        let lists: [(&'static str, Field, &Vec<String>); 4] = [
            ("indicator", Field::Indicator, &raw.indicators),
            ("host", Field::Host, &raw.hosts),
            ("user", Field::User, &raw.users),
            ("technique", Field::Technique, &raw.techniques),
        ];
        for (name, field, values) in lists {
            if values.len() > MAX_QUERY_VALUES {
                return Err(QueryError::TooManyValues(name));
            }
            for value in values {
                if value.len() > MAX_QUERY_VALUE_BYTES {
                    return Err(QueryError::TooLong(name));
                }
                let invalid = |e: crate::vocab::InvalidField| QueryError::Invalid {
                    field: name,
                    detail: e.to_string(),
                };
                let text = match field {
                    Field::Indicator => Indicator::parse_typed(value).map_err(invalid)?.to_string(),
                    Field::Technique => Technique::parse(value).map_err(invalid)?.to_string(),
                    _ => value.clone(),
                };
                let token = normalise(&text).ok_or(QueryError::Invalid {
                    field: name,
                    detail: "empty".into(),
                })?;
                terms.insert(Term { field, token });
            }
        }
        if let Some(text) = &raw.text {
            if text.len() > MAX_QUERY_VALUE_BYTES {
                return Err(QueryError::TooLong("text"));
            }
            let found: BTreeSet<String> = words(text).collect();
            if found.is_empty() {
                return Err(QueryError::NoWords);
            }
            if found.len() > MAX_QUERY_WORDS {
                return Err(QueryError::TooManyWords);
            }
            terms.extend(found.into_iter().map(|token| Term {
                field: Field::Word,
                token,
            }));
        }
        if terms.is_empty() {
            return Err(QueryError::Empty);
        }
        Ok(Self {
            terms: terms.into_iter().collect(),
        })
    }
}

/// The page size for `limit` (none: [`DEFAULT_LIMIT`]), refused outside 1..=[`MAX_LIMIT`].
pub fn page_limit(limit: Option<u64>) -> Result<usize, QueryError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => Ok(n as usize),
        Some(_) => Err(QueryError::Limit),
    }
}

/// A page cursor as given to the caller: the last record id of the page, which the next page
/// starts below. Opaque to callers (they pass it back as they got it).
pub fn cursor_text(id: [u8; 16]) -> String {
    format!("c{}", crate::hex::encode(&id))
}

/// The record id a cursor names.
pub fn parse_cursor(text: &str) -> Result<[u8; 16], QueryError> {
    let hex = text.strip_prefix('c').ok_or(QueryError::Cursor)?;
    let bytes = crate::hex::decode(hex).ok_or(QueryError::Cursor)?;
    <[u8; 16]>::try_from(bytes.as_slice()).map_err(|_| QueryError::Cursor)
}

/// One page of ids, newest first, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub ids: Vec<[u8; 16]>,
    pub next: Option<[u8; 16]>,
}

/// The ids holding every term of `query`, newest first, below `before` (exclusive), at most
/// `limit`, skipping those `visible` refuses (never counted). `seek(term, below)` gives the
/// largest id of `term`'s postings strictly below `below` (`None`: unbounded).
///
/// A leapfrog join: each step seeks one posting list to at or below the current candidate,
/// so the work follows the matches and the disagreements, never a whole list.
pub fn intersect<E>(
    query: &Query,
    before: Option<[u8; 16]>,
    limit: usize,
    mut seek: impl FnMut(&Term, Option<[u8; 16]>) -> Result<Option<[u8; 16]>, E>,
    mut visible: impl FnMut([u8; 16]) -> Result<bool, E>,
) -> Result<Page, E> {
    let terms = query.terms();
    let n = terms.len();
    let mut upper = before;
    let mut ids = Vec::new();
    'pages: while ids.len() <= limit {
        let Some(mut candidate) = seek(&terms[0], upper)? else {
            break;
        };
        let mut agreed = 1;
        let mut i = 1;
        while agreed < n {
            // At or below the candidate: strictly below the candidate plus one.
            let below = u128::from_be_bytes(candidate)
                .checked_add(1)
                .map(u128::to_be_bytes);
            let Some(found) = seek(&terms[i % n], below)? else {
                break 'pages;
            };
            if found == candidate {
                agreed += 1;
            } else {
                candidate = found;
                agreed = 1;
            }
            i += 1;
        }
        upper = Some(candidate);
        if visible(candidate)? {
            ids.push(candidate);
        }
    }
    let next = if ids.len() > limit {
        ids.truncate(limit);
        ids.last().copied()
    } else {
        None
    };
    Ok(Page { ids, next })
}

pub mod params;
#[cfg(test)]
mod tests;
