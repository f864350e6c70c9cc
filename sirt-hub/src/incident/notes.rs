//! Notes on hub incidents (issue 15): the responders' work log. Pure: what a note is and who
//! reads its text. The author is the operator of the caller's certificate and the time the
//! hub's clock, filled by the writer, never by the request; the text is checked as at the
//! sites (`socfed_proto::text::checked_note`).
//!
//! Who reads a note's text is the incident read rule (`access::incident::may_read`) asked
//! at the note's marking: a TLP:RED note is for the CISO, the incident's IR lead and its
//! members, as a TLP:RED incident is, whatever the incident's own marking; the same rule as
//! every other read, not a second one. Anyone else who reads the incident sees the note's
//! author, time and marking, its text withheld with the reason.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::Tlp;
use ulid::Ulid;

/// Longest note, in characters (as at the sites).
pub const MAX_NOTE_CHARS: usize = 4_000;
/// Most notes one incident keeps (listed and accepted).
pub const MAX_NOTES_PER_INCIDENT: usize = 1_000;

/// One stored note (`incident_notes` tree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubNote {
    pub id: Ulid,
    pub incident: Ulid,
    pub author: String,
    pub at_ms: UnixMillis,
    pub text: String,
    /// `None`: no marking of its own (read as the incident is).
    pub tlp: Option<Tlp>,
}

/// The marking the read rule is asked at: the note's own, or the incident's.
pub fn read_marking(note: &HubNote, incident: Tlp) -> Tlp {
    note.tlp.unwrap_or(incident)
}

/// Why a note's text is withheld from a reader.
pub const REDACTED: &str = "TLP:RED note: for the CISO, the incident's IR lead and its members";
