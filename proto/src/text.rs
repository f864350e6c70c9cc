//! Characters a terminal may act on, refused in identifiers by `vocab` and escaped by every
//! renderer (`socfed_runtime::terminal`).

/// Characters a terminal may act on: every Unicode control (C0, DEL, C1: ESC, CSI, OSC,
/// carriage return, backspace, bell…) and the bidirectional embedding, override and isolate
/// controls (text that displays in another order than it reads).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
