//! Splitting one JSON array document into its elements, streaming: each element is parsed
//! and re-written compactly as it is reached, so nothing but the elements' text is held, and
//! a cap on their number stops the split at the first element past it. (Building the whole
//! document first made a 16 MiB array of tiny elements — a 16 KiB gzip — millions of
//! `serde_json::Value`s before any cap was checked.)

use super::LineError;
use super::fields::{fail, kind_name};
use serde::de::{self, DeserializeSeed, Deserializer as _, SeqAccess, Visitor};
use std::cell::Cell;

/// Why an array was not split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// It holds more elements than the cap given.
    TooMany,
    /// One element is longer than the cap given (refused before it is parsed: a single
    /// element such as `[[1,1,…]]` must not become millions of values either).
    TooLarge,
    /// It is not a JSON array (the reason, as [`split_json_array`] says it).
    Invalid(LineError),
}

/// Splits a JSON array (as OCSF exports often are, pretty-printed or not) into one compact
/// JSON string per element, ready for [`super::parse_line`]. Anything but an array is an
/// error; elements are not checked here.
pub fn split_json_array(text: &str) -> Result<Vec<String>, LineError> {
    split_json_array_at_most(text, usize::MAX, usize::MAX).map_err(|e| match e {
        SplitError::Invalid(e) => e,
        SplitError::TooMany => fail("document", "too many elements"),
        SplitError::TooLarge => fail("document", "an element is too large"),
    })
}

/// [`split_json_array`], refused with [`SplitError::TooMany`] as soon as element
/// `max + 1` is read, and with [`SplitError::TooLarge`] at an element of more than
/// `max_element_bytes` (measured on its raw text, before it is parsed): the elements are the
/// same strings, the errors the same words.
pub fn split_json_array_at_most(
    text: &str,
    max: usize,
    max_element_bytes: usize,
) -> Result<Vec<String>, SplitError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if super::first_significant_byte(text.as_bytes()) != Some(b'[') {
        // Not an array: say what it is (both callers look for the `[` first, so this never
        // builds a large document on their behalf).
        let value: serde_json::Value = serde_json::from_str(text).map_err(invalid)?;
        return Err(SplitError::Invalid(fail(
            "document",
            format!("expected a JSON array, found {}", kind_name(&value)),
        )));
    }
    let over = Cell::new(false);
    let too_large = Cell::new(false);
    let mut document = serde_json::Deserializer::from_str(text);
    let split = document
        .deserialize_seq(Elements {
            max,
            over: &over,
            element: Compact {
                max_bytes: max_element_bytes,
                too_large: &too_large,
            },
        })
        .and_then(|elements| document.end().map(|()| elements));
    match split {
        _ if over.get() => Err(SplitError::TooMany),
        _ if too_large.get() => Err(SplitError::TooLarge),
        Ok(elements) => Ok(elements),
        Err(e) => Err(invalid(e)),
    }
}

fn invalid(e: serde_json::Error) -> SplitError {
    SplitError::Invalid(fail("document", format!("not valid JSON ({e})")))
}

/// The array's elements, at most `max` of them (`over` is set when there are more).
struct Elements<'a> {
    max: usize,
    over: &'a Cell<bool>,
    element: Compact<'a>,
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(element) = seq.next_element_seed(self.element)? {
            if out.len() == self.max {
                self.over.set(true);
                return Err(de::Error::custom("too many elements"));
            }
            out.push(element);
        }
        Ok(out)
    }
}

/// One element: its raw text first (borrowed from the document, nothing built), refused
/// past `max_bytes`; then parsed as the whole document used to be and written back compactly
/// (the same text `serde_json::to_string` gave each element of the parsed document).
#[derive(Clone, Copy)]
struct Compact<'a> {
    max_bytes: usize,
    too_large: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for Compact<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let raw = <&serde_json::value::RawValue as serde::Deserialize>::deserialize(d)?;
        if raw.get().len() > self.max_bytes {
            self.too_large.set(true);
            return Err(de::Error::custom("an element is too large"));
        }
        let value: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(de::Error::custom)?;
        serde_json::to_string(&value).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The split as it was: the whole document parsed, then each element written back.
    fn by_value(text: &str) -> Result<Vec<String>, LineError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| fail("document", format!("not valid JSON ({e})")))?;
        let serde_json::Value::Array(items) = value else {
            return Err(fail(
                "document",
                format!("expected a JSON array, found {}", kind_name(&value)),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::to_string(item).map_err(|e| fail(&format!("document[{i}]"), e))
            })
            .collect()
    }

    #[test]
    fn one_large_element_is_refused_before_it_is_parsed() {
        // `[[1,1,…]]`: one element, so the count cap never trips; its text does.
        let inner = vec!["1"; 600_000].join(",");
        let text = format!("[[{inner}],{{\"a\":1}}]");
        assert_eq!(
            split_json_array_at_most(&text, 10, 1 << 20),
            Err(SplitError::TooLarge)
        );
        assert_eq!(
            split_json_array_at_most(&text, 10, 2 << 20).map(|v| v.len()),
            Ok(2)
        );
        // Deep nesting inside an element still ends at serde_json's recursion limit.
        let deep = format!("[{}{}]", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            split_json_array_at_most(&deep, 10, 1 << 20),
            Err(SplitError::Invalid(_))
        ));
    }

    #[test]
    fn a_16_mib_array_of_tiny_elements_stops_at_the_cap() {
        // 8 Mi elements of "1,": what a 16 KiB gzip inflates to.
        let mut text = String::with_capacity(16 << 20);
        text.push('[');
        for _ in 0..(8 << 20) - 1 {
            text.push_str("1,");
        }
        text.push_str("1]");
        assert_eq!(
            split_json_array_at_most(&text, 100_000, usize::MAX),
            Err(SplitError::TooMany)
        );
        // Refused at element cap + 1, before the rest is read: what follows is never parsed.
        let mut cut = "[1,".to_owned();
        cut.push_str(&"2,".repeat(100_000));
        cut.push_str("not json at all");
        assert_eq!(
            split_json_array_at_most(&cut, 100_000, usize::MAX),
            Err(SplitError::TooMany)
        );
        assert!(split_json_array_at_most(&cut, 200_000, usize::MAX).is_err());
        assert_eq!(
            split_json_array_at_most("[1,2,3]", 3, usize::MAX).map(|v| v.len()),
            Ok(3)
        );
    }

    #[test]
    fn errors_say_what_they_said() {
        for text in [
            "",
            "{\"a\":1}",
            "\u{feff}  \"x\"",
            "[1,2",
            "[1,,2]",
            "[1] x",
            "[{\"a\":}]",
            &format!("[{}{}]", "[".repeat(200), "]".repeat(200)),
            "\u{feff}[ {\"b\": 2 , \"a\": 1} ]",
        ] {
            assert_eq!(split_json_array(text), by_value(text), "{text:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn arrays_split_as_before(
            items in proptest::collection::vec(crate::soc::parse::fuzz::value(), 0..8),
            pretty in any::<bool>(),
        ) {
            let array = serde_json::Value::Array(items);
            let text = if pretty {
                serde_json::to_string_pretty(&array)
            } else {
                serde_json::to_string(&array)
            }
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(split_json_array(&text), by_value(&text));
        }

        /// Any text: the same elements, or an error for the same texts. Where an element
        /// is malformed, serde_json words the error by how far it read (each element is
        /// scanned as raw text before it is parsed, `[-` is "invalid number" rather than
        /// "EOF"), so only that both refuse is compared then.
        #[test]
        fn any_text_splits_as_before(text in "[\\[\\]{}:,\"a1 \\-.eE]{0,40}") {
            match (split_json_array(&text), by_value(&text)) {
                (Ok(now), Ok(before)) => prop_assert_eq!(now, before),
                (Err(now), Err(before)) => prop_assert_eq!(
                    now.0.starts_with("document: not valid JSON"),
                    before.0.starts_with("document: not valid JSON")
                ),
                (now, before) => prop_assert!(false, "{now:?} vs {before:?}"),
            }
        }
    }
}
