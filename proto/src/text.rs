//! Characters a terminal may act on, refused in identifiers by `vocab` and escaped by every
//! renderer (`socfed_runtime::terminal`).

/// Characters a terminal may act on: every Unicode control (C0, DEL, C1: ESC, CSI, OSC,
/// carriage return, backspace, bell…) and the bidirectional embedding, override and isolate
/// controls (text that displays in another order than it reads).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Why a note's text was refused ([`checked_note`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteTextError {
    #[error("a note needs some text")]
    Empty,
    #[error("a note is at most {max} characters; this one has {chars}")]
    TooLong { chars: usize, max: usize },
    #[error(
        "a note may not hold control characters (other than new lines and tabs); found U+{0:04X}"
    )]
    Control(u32),
}

/// A note's text as both services store it (notes on local and hub incidents): trimmed, at
/// most `max` characters, no character a terminal acts on but new lines and tabs (every
/// surface escapes on output too).
pub fn checked_note(text: &str, max: usize) -> Result<String, NoteTextError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(NoteTextError::Empty);
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(NoteTextError::TooLong { chars, max });
    }
    if let Some(c) = text
        .chars()
        .find(|c| *c != '\n' && *c != '\t' && is_unsafe(*c))
    {
        return Err(NoteTextError::Control(u32::from(c)));
    }
    Ok(text.to_string())
}
