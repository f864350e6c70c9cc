//! Text that reaches an operator's terminal: the one place that decides which characters
//! may drive a terminal, shared by `sirt-hub` and `site-agent`.
//!
//! Titles, owners, ids, hunt hits and raw records come from sites and from logs, that is
//! from people who may be hostile. A control character in them could clear the screen, move
//! the cursor over a real line to print a fake "ALL CLEAR", or (OSC 52) write the analyst's
//! clipboard; a bidirectional override could make text read differently from what it is.
//! The hub refuses such characters in what sites send (`vocab` checks with
//! [`is_unsafe`]), and every CLI output goes through [`clean`] (table cells, fields of detail
//! blocks) and, as a last line of defence, `cli::emit` cleans each whole block with
//! [`clean_multiline`], so nothing stored before that refusal existed, or written by another
//! path, can reach the terminal raw.

use std::borrow::Cow;
use std::fmt::Write as _;

pub use socfed_proto::text::is_unsafe;

/// `text` with every unsafe character (newlines too) shown as a `\u{..}` escape, so that it
/// prints as one inert line. For table cells and one-line fields.
pub fn clean(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// Like [`clean`] but keeps newlines and tabs, for multi-line text (comments, raw records,
/// whole output blocks).
pub fn clean_multiline(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n' || c == '\t')
}

/// At most `max` characters of `text` (cleaned), with `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    let text = clean(text);
    if text.chars().count() <= max {
        return text.into_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// JSON text made safe for a terminal without changing what it means: serde_json escapes
/// C0 controls inside strings but writes DEL, C1 controls and bidi controls raw; those are
/// written as `\uXXXX` escapes (valid JSON, so a program reading the output sees the same
/// value). Outside strings serde_json writes only structural ASCII and whitespace.
pub fn json_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| is_unsafe(c) && c != '\n') {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) && c != '\n' {
            // Every unsafe character is in the Basic Multilingual Plane: one \u escape.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let unsafe_here = |c: char| is_unsafe(c) && !keep(c);
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_here(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A table whose every cell goes through [`clean`]: the house style of both CLIs
/// (comfy-table, `UTF8_BORDERS_ONLY`), with no way to add a raw cell.
pub struct Table(comfy_table::Table);

impl Table {
    pub fn new<S: AsRef<str>>(headers: impl IntoIterator<Item = S>) -> Self {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
        table.set_header(
            headers
                .into_iter()
                .map(|h| clean(h.as_ref()).into_owned())
                .collect::<Vec<_>>(),
        );
        Self(table)
    }

    pub fn add_row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Self {
        self.0.add_row(
            cells
                .into_iter()
                .map(|c| clean(c.as_ref()).into_owned())
                .collect::<Vec<_>>(),
        );
        self
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Table")
    }
}

/// `n` and the noun in the right number: "1 hit", "2 hits".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_noun_in_their_number() {
        assert_eq!(plural(0, "hit", "hits"), "0 hits");
        assert_eq!(plural(1, "hit", "hits"), "1 hit");
        assert_eq!(plural(2, "hit", "hits"), "2 hits");
    }

    #[test]
    fn escapes_every_terminal_control_and_keeps_ordinary_text() {
        let hostile = "\x1b[2J\x1b]52;c;aWQ=\x07ALL CLEAR\r\u{9b}31m\u{202e}gpj.exe\x7f";
        let shown = clean(hostile);
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        assert!(shown.contains("\\u{1b}[2J") && shown.contains("ALL CLEAR"));
        assert_eq!(clean("café – naïve ✓"), "café – naïve ✓");
        assert_eq!(clean("a\nb"), "a\\u{a}b");
        assert_eq!(clean_multiline("a\n\tb\x1b"), "a\n\tb\\u{1b}");
    }

    #[test]
    fn json_stays_valid_and_means_the_same() {
        let value = serde_json_free_roundtrip("x\u{9b}y\u{202e}z");
        assert_eq!(value, "\"x\\u009by\\u202ez\"");
    }

    // serde_json is an optional dependency; the JSON form is built by hand here.
    fn serde_json_free_roundtrip(s: &str) -> String {
        json_safe(&format!("\"{s}\"")).into_owned()
    }

    #[test]
    fn shortens_after_cleaning() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("\x1b", 10), "\\u{1b}");
    }
}
