//! Notes on a local incident: the work log an analyst writes (findings, what was done, what
//! is next). Pure: what a note is, which text is accepted, and who may read a note's text.
//!
//! The author and the time are never taken from the request: the service fills them from the
//! caller's certificate (resolved in the roster) and the agent's clock.
//!
//! The read rule, all of it (the hub's TLP:RED rule, `sirt-hub/src/access/incident.rs`, with
//! the site's people as the named recipients):
//!
//! | note marking | who reads its text |
//! |---|---|
//! | CLEAR, GREEN, AMBER, AMBER+STRICT (or none) | anyone who may read the incident |
//! | RED | its author, the incident's owner and the SOC manager |
//!
//! Anyone else sees the note redacted: its author, time and marking stay (the work log keeps
//! its shape), its text is withheld with the reason.

use super::Role;
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::Tlp;
use ulid::Ulid;

/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 4_000;
/// Most notes one incident keeps; past it a new note is refused (a work log that long is a
/// document, not a log).
pub const MAX_NOTES_PER_INCIDENT: usize = 1_000;

/// One stored note (`incident_notes` tree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// A ULID made when written: also its time order.
    pub id: Ulid,
    pub incident: String,
    /// The roster name of whoever wrote it (from the certificate).
    pub author: String,
    pub at_ms: UnixMillis,
    pub text: String,
    /// `None`: the note carries no marking of its own (read as the incident is).
    pub tlp: Option<Tlp>,
}

/// A note as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteView {
    pub id: Ulid,
    pub author: String,
    pub at_ms: UnixMillis,
    /// The text, or empty when redacted.
    pub text: String,
    pub tlp: Option<Tlp>,
    /// Why the text is withheld from this reader; `None` when it is shown.
    pub redacted: Option<String>,
}

/// Why a note's text was refused (the check both services share).
pub use socfed_proto::text::NoteTextError as NoteError;

/// The text as stored: trimmed, bounded, no character a terminal acts on but new lines and
/// tabs (`socfed_proto::text::checked_note`, the hub's notes' check too).
pub fn checked_text(text: &str) -> Result<String, NoteError> {
    socfed_proto::text::checked_note(text, MAX_NOTE_CHARS)
}

/// The reader the rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    pub name: &'a str,
    pub role: Role,
}

/// The note as `reader` may see it (see the module's table). `owner` is the incident's.
pub fn view(note: &Note, reader: Reader<'_>, owner: Option<&str>) -> NoteView {
    let allowed = match note.tlp {
        None | Some(Tlp::Clear | Tlp::Green | Tlp::Amber | Tlp::AmberStrict) => true,
        Some(Tlp::Red) => {
            reader.role == Role::SocManager
                || reader.name == note.author
                || owner == Some(reader.name)
        }
    };
    NoteView {
        id: note.id,
        author: note.author.clone(),
        at_ms: note.at_ms,
        text: if allowed {
            note.text.clone()
        } else {
            String::new()
        },
        tlp: note.tlp,
        redacted: (!allowed).then(|| {
            "TLP:RED note: for its author, the incident's owner and the SOC manager".to_string()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soc::Tier;

    fn note(tlp: Option<Tlp>) -> Note {
        Note {
            id: Ulid::nil(),
            incident: "INC-1".into(),
            author: "ana".into(),
            at_ms: 1,
            text: "found the dropper".into(),
            tlp,
        }
    }

    #[test]
    fn red_notes_are_read_by_their_author_the_owner_and_the_manager_only() {
        let t1 = Role::Analyst(Tier::T1);
        // (marking, reader, role, owner, may read)
        let cases = [
            (None, "bob", t1, None, true),
            (Some(Tlp::Amber), "bob", t1, None, true),
            (Some(Tlp::AmberStrict), "bob", Role::Engineer, None, true),
            (Some(Tlp::Red), "bob", t1, None, false),
            (
                Some(Tlp::Red),
                "bob",
                Role::Analyst(Tier::T4),
                Some("carl"),
                false,
            ),
            (Some(Tlp::Red), "ana", t1, None, true),
            (Some(Tlp::Red), "bob", t1, Some("bob"), true),
            (Some(Tlp::Red), "mona", Role::SocManager, None, true),
        ];
        for (tlp, name, role, owner, allowed) in cases {
            let seen = view(&note(tlp), Reader { name, role }, owner);
            assert_eq!(seen.redacted.is_none(), allowed, "{tlp:?} {name} {role:?}");
            assert_eq!(seen.text.is_empty(), !allowed);
            assert_eq!(seen.author, "ana");
        }
    }

    #[test]
    fn text_is_trimmed_bounded_and_free_of_terminal_controls() {
        assert_eq!(checked_text("  a\n\tb "), Ok("a\n\tb".into()));
        assert_eq!(checked_text(" \n "), Err(NoteError::Empty));
        assert_eq!(checked_text("a\u{1b}[2J"), Err(NoteError::Control(0x1b)));
        assert_eq!(checked_text("a\u{202e}b"), Err(NoteError::Control(0x202e)));
        assert_eq!(
            checked_text(&"x".repeat(MAX_NOTE_CHARS + 1)),
            Err(NoteError::TooLong {
                chars: MAX_NOTE_CHARS + 1,
                max: MAX_NOTE_CHARS
            })
        );
        assert!(checked_text(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
        assert!(checked_text("<script>alert(1)</script>").is_ok());
    }
}
