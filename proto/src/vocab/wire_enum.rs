//! One table per enum that crosses the wire: which domain value is which protobuf value, both
//! ways. Each service declares its tables next to its domain types (a `static WireTable`), so a
//! status, role, verdict or command is a number on the wire and a word only at the edges (the
//! CLIs and pages render the domain value's words).
//!
//! A number the table does not know is refused, naming the field and what it accepts; `0`
//! (unspecified) is refused as "not set", which is also what a client older than the enum
//! sends (its word travelled in a field number that is now reserved).

use super::InvalidField;

/// The pairs of one enum. Every domain value must appear once (each table has a test that
/// walks the domain's values), and no protobuf value twice.
pub struct WireTable<D: 'static, W: 'static> {
    /// The request or message field the value travels in, for error messages.
    pub field: &'static str,
    /// The domain's word for a value (as the CLIs and pages show it, and operators type it).
    pub word: fn(D) -> &'static str,
    pub pairs: &'static [(D, W)],
}

impl<D, W> WireTable<D, W>
where
    D: Copy + PartialEq,
    W: Copy + PartialEq + Default + Into<i32>,
{
    /// The wire value of `value`; unspecified only for a value missing from the table, which
    /// the table's own test rules out.
    pub fn to_wire(&self, value: D) -> W {
        self.pairs
            .iter()
            .find(|(d, _)| *d == value)
            .map(|(_, w)| *w)
            .unwrap_or_default()
    }

    /// The domain value of a raw wire number.
    pub fn from_wire(&self, raw: i32) -> Result<D, InvalidField> {
        if let Some((d, _)) = self.pairs.iter().find(|(_, w)| (*w).into() == raw) {
            return Ok(*d);
        }
        let problem = if raw == W::default().into() {
            "not set".to_string()
        } else {
            format!("unknown value {raw}")
        };
        Err(InvalidField::new(
            self.field,
            format!("{problem} (expected one of {})", self.words().join(", ")),
        ))
    }

    /// The domain value of a raw wire number, `None` when unspecified (an optional filter or
    /// "unchanged").
    pub fn from_wire_optional(&self, raw: i32) -> Result<Option<D>, InvalidField> {
        if raw == W::default().into() {
            return Ok(None);
        }
        self.from_wire(raw).map(Some)
    }

    /// The word for a number a peer sent, for a surface to show it: empty for unspecified (a
    /// field that does not apply, such as an open group's verdict), and a number this build
    /// does not know (a newer peer) shown as such rather than refused.
    pub fn show(&self, raw: i32) -> String {
        match self.from_wire_optional(raw) {
            Ok(Some(value)) => (self.word)(value).to_string(),
            Ok(None) => String::new(),
            Err(_) => format!("unknown ({raw})"),
        }
    }

    /// Every value's word, in table order.
    pub fn words(&self) -> Vec<String> {
        self.pairs
            .iter()
            .map(|(d, _)| (self.word)(*d).to_string())
            .collect()
    }

    /// The pairs whose protobuf name (`wire_name`, less `prefix`, in lower case) is not the
    /// domain's word, reading `_` and `-` as one: empty for a table that pairs values by name.
    /// A test of each table calls it, so two swapped pairs fail a test that does not use the
    /// table to decide what is right.
    pub fn misnamed(&self, wire_name: impl Fn(W) -> &'static str, prefix: &str) -> Vec<String> {
        let canonical = |s: &str| s.to_ascii_lowercase().replace('_', "-");
        self.pairs
            .iter()
            .filter(|(d, w)| {
                let name = wire_name(*w);
                canonical(name.strip_prefix(prefix).unwrap_or(name)) != canonical((self.word)(*d))
            })
            .map(|(d, w)| format!("{} = {}", (self.word)(*d), wire_name(*w)))
            .collect()
    }

    /// The values whose wire number a table holds twice, and domain values of `all` it lacks:
    /// both empty for a sound table (for the tables' tests).
    pub fn defects(&self, all: &[D]) -> (Vec<String>, Vec<String>) {
        let twice = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(i, (_, w))| self.pairs[..*i].iter().any(|(_, v)| v == w))
            .map(|(_, (d, _))| (self.word)(*d).to_string())
            .collect();
        let missing = all
            .iter()
            .filter(|d| !self.pairs.iter().any(|(p, _)| p == *d))
            .map(|d| (self.word)(*d).to_string())
            .collect();
        (twice, missing)
    }
}

/// Refuses a value an older client sent as a word in a request's `legacy_*` field (the field
/// number the word travelled in before the enum): dropping it would run the request without
/// the value, and for an optional value ("unchanged", "open groups") silently do something
/// else than asked.
pub fn refuse_legacy_word(field: &'static str, word: &str) -> Result<(), InvalidField> {
    if word.is_empty() {
        return Ok(());
    }
    Err(InvalidField::new(
        field,
        format!(
            "{word:?} was sent as a word by a client older than this service; upgrade the client \
             (this value is now an enum)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use crate::vocab::Tlp;

    static TLP: WireTable<Tlp, pb::Tlp> = WireTable {
        field: "tlp",
        word: Tlp::as_str,
        pairs: &[(Tlp::Clear, pb::Tlp::Clear), (Tlp::Red, pb::Tlp::Red)],
    };

    #[test]
    fn known_values_convert_both_ways_and_others_are_refused_by_name() {
        assert_eq!(TLP.to_wire(Tlp::Red), pb::Tlp::Red);
        assert_eq!(TLP.from_wire(pb::Tlp::Clear as i32), Ok(Tlp::Clear));
        let unset = TLP.from_wire(0).expect_err("0 is not set");
        assert_eq!(unset.field, "tlp");
        assert!(unset.problem.starts_with("not set"), "{unset}");
        let unknown = TLP.from_wire(99).expect_err("99 is unknown");
        assert!(unknown.problem.contains("unknown value 99"), "{unknown}");
        assert!(unknown.problem.contains("clear, red"), "{unknown}");
        assert_eq!(TLP.from_wire_optional(0), Ok(None));
        assert_eq!(TLP.show(pb::Tlp::Red as i32), "red");
        assert_eq!(
            (TLP.show(0), TLP.show(99)),
            (String::new(), "unknown (99)".into())
        );
        assert_eq!(
            TLP.to_wire(Tlp::Green),
            pb::Tlp::Unspecified,
            "missing → unspecified"
        );
        assert_eq!(
            TLP.defects(&[Tlp::Clear, Tlp::Green, Tlp::Red]).1,
            vec!["green"]
        );
        assert_eq!(
            TLP.misnamed(|w| w.as_str_name(), "TLP_"),
            Vec::<String>::new()
        );
        let swapped: WireTable<Tlp, pb::Tlp> = WireTable {
            field: "tlp",
            word: Tlp::as_str,
            pairs: &[(Tlp::Clear, pb::Tlp::Red), (Tlp::Red, pb::Tlp::Clear)],
        };
        assert_eq!(swapped.misnamed(|w| w.as_str_name(), "TLP_").len(), 2);
    }

    #[test]
    fn a_word_from_an_older_client_is_refused_by_name() {
        assert_eq!(refuse_legacy_word("status", ""), Ok(()));
        let refused = refuse_legacy_word("status", "closed").expect_err("a word");
        assert_eq!(refused.field, "status");
        assert!(refused.problem.contains("upgrade the client"), "{refused}");
    }
}
