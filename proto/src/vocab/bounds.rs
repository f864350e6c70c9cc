//! What a number, a time or a piece of text from a peer may be: one helper per kind, used by
//! every wire→domain conversion, so a hostile site meets the same limits everywhere and
//! nothing downstream (arithmetic, time formatting, a terminal, JSON readers) sees a value it
//! cannot handle.
//!
//! The ranges are refusals, not clamps: a value outside them is not a plausible reading from
//! an honest agent, so storing a clamped copy would record something the site never meant.

use super::InvalidField;
use crate::UnixMillis;

/// The largest sequence number a site may use, and the largest count it may report.
/// 2^53 − 1 is the largest integer every JSON reader (JavaScript included) holds exactly, and
/// leaves room for any arithmetic on it in `u64`/`i64`; an agent escalating a million times a
/// second would need 285 years to reach it.
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// The largest counter (backlog, dropped, refused, hit count) a site may report; see
/// [`MAX_SEQ`].
pub const MAX_COUNT: u64 = (1 << 53) - 1;

/// 9999-12-31T23:59:59.999Z: the last instant RFC 3339 (four-digit years) can write, so every
/// accepted time can be rendered by every output (table, JSON, report, dashboard).
pub const MAX_TIME_MS: UnixMillis = 253_402_300_799_999;

/// A time from the wire: 0 (unset, 1970-01-01) through [`MAX_TIME_MS`].
pub fn time(field: &str, ms: i64) -> Result<UnixMillis, InvalidField> {
    if (0..=MAX_TIME_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(InvalidField::new(
            field,
            format!(
                "{ms} ms is not a time between 1970-01-01 and 9999-12-31 (milliseconds since the Unix epoch)"
            ),
        ))
    }
}

/// A counter or size from the wire: at most [`MAX_COUNT`].
pub fn count(field: &str, n: u64) -> Result<u64, InvalidField> {
    if n <= MAX_COUNT {
        Ok(n)
    } else {
        Err(InvalidField::new(
            field,
            format!("{n} is above the largest count accepted ({MAX_COUNT})"),
        ))
    }
}

/// A sequence number from the wire: 1 through [`MAX_SEQ`].
pub fn seq(field: &str, n: u64) -> Result<u64, InvalidField> {
    if (1..=MAX_SEQ).contains(&n) {
        Ok(n)
    } else {
        Err(InvalidField::new(
            field,
            format!("{n} is not a sequence number (1 to {MAX_SEQ})"),
        ))
    }
}

/// One-line text (titles, ids, names): no control character at all, newlines included, and
/// no bidirectional override (see `socfed_runtime::terminal`). The value itself is not echoed: it is
/// what a terminal must not see.
pub fn single_line(field: &str, text: &str) -> Result<(), InvalidField> {
    check_text(field, text, |_| false)
}

/// A person's name from a peer (a local incident's owner, an IR lead): an operator name, the
/// one form every socfed name takes (`identity::parse_operator_name`: 1–64 of `a-z`, `0-9`,
/// `.`, `_`, `-`, starting with a letter or digit). Nothing else is a name someone could be
/// held to, and the rule leaves no room for markup or terminal controls. The value is not
/// echoed.
pub fn name<'a>(field: &str, text: &'a str) -> Result<&'a str, InvalidField> {
    match crate::identity::parse_operator_name(text) {
        Ok(_) => Ok(text),
        Err(_) => Err(InvalidField::new(
            field,
            format!(
                "not a name ({} bytes): names are 1 to 64 of a-z 0-9 . _ - starting with a letter or digit, as in the roster",
                text.len()
            ),
        )),
    }
}

/// Multi-line text (descriptions, details): newlines and tabs are allowed, nothing else that
/// a terminal acts on.
pub fn multi_line(field: &str, text: &str) -> Result<(), InvalidField> {
    check_text(field, text, |c| c == '\n' || c == '\t')
}

fn check_text(field: &str, text: &str, allowed: impl Fn(char) -> bool) -> Result<(), InvalidField> {
    match text
        .chars()
        .enumerate()
        .find(|&(_, c)| crate::text::is_unsafe(c) && !allowed(c))
    {
        None => Ok(()),
        Some((at, c)) => Err(InvalidField::new(
            field,
            format!(
                "control character U+{:04X} at character {at}: control and bidirectional-override characters are refused (they drive terminals and disguise text); send plain text",
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_held_to_what_rfc_3339_can_write() {
        assert_eq!(time("t", 0), Ok(0));
        assert_eq!(time("t", MAX_TIME_MS), Ok(MAX_TIME_MS));
        assert!(time("t", MAX_TIME_MS + 1).is_err());
        assert!(time("t", -1).is_err());
        assert!(time("t", i64::MAX).is_err());
    }

    #[test]
    fn sequences_and_counts_stay_exact_in_json() {
        assert!(seq("s", 0).is_err());
        assert_eq!(seq("s", MAX_SEQ), Ok(MAX_SEQ));
        assert!(seq("s", MAX_SEQ + 1).is_err());
        assert!(seq("s", u64::MAX).is_err());
        assert_eq!(count("c", 0), Ok(0));
        assert!(count("c", u64::MAX).is_err());
    }

    #[test]
    fn text_with_terminal_controls_is_refused_and_not_echoed() {
        let err = single_line("title", "ok\x1b]52;c;aWQ=\x07").expect_err("escape");
        assert_eq!(err.field, "title");
        assert!(err.problem.contains("U+001B at character 2"), "{err}");
        assert!(!err.to_string().contains('\x1b'));
        assert!(single_line("title", "two\nlines").is_err());
        assert!(single_line("title", "right\u{202e}left").is_err());
        assert!(single_line("title", "café ✓ <b> @here").is_ok());
        assert!(multi_line("description", "line 1\n\tline 2").is_ok());
        assert!(multi_line("description", "line 1\r\n").is_err());
    }

    #[test]
    fn names_are_roster_names() {
        assert_eq!(name("owner", "ann.b-2"), Ok("ann.b-2"));
        for bad in ["", "Ann", "<b>x</b>", "-x", "a b", &"a".repeat(65), "bob\r"] {
            let err = name("owner", bad).expect_err(bad);
            assert_eq!(err.field, "owner");
        }
        let err = name("owner", "<b>x</b>").expect_err("markup");
        assert!(!err.problem.contains("<b>"), "not echoed: {err}");
    }
}
