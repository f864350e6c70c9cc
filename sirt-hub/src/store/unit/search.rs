//! The incident search's postings (`incident_search`) inside a unit: written in the unit that
//! writes the incident (`put_incident` hands over the terms before and after), and extra text
//! indexed for an incident by [`StoreUnit::index_incident_text`]. A posting's value says which
//! source holds it (1 the record, 2 extra text), so one source dropping a word leaves the
//! other's posting in place.

use super::StoreUnit;
use crate::incident::search::text_terms;
use crate::store::StoreError;
use crate::store::schema::TreeId;
use socfed_proto::search::Term;
use std::collections::BTreeSet;
use ulid::Ulid;

/// The record's own terms.
pub(super) const FROM_RECORD: u8 = 1;
/// Extra text (notes) indexed for the incident.
pub(super) const FROM_TEXT: u8 = 2;

impl StoreUnit<'_> {
    /// Brings incident `id`'s postings from `source` from the terms `old` to `new`.
    pub(super) fn index_search(
        &mut self,
        id: Ulid,
        source: u8,
        old: &BTreeSet<Term>,
        new: &BTreeSet<Term>,
    ) -> Result<(), StoreError> {
        let id = id.to_bytes();
        for gone in old.difference(new) {
            let key = gone.key(id);
            let held = self.sources(&key)? & !source;
            if held == 0 {
                self.work.remove(TreeId::IncidentSearch, key);
            } else {
                self.work.put_raw(TreeId::IncidentSearch, key, vec![held]);
            }
        }
        for added in new.difference(old) {
            let key = added.key(id);
            let held = self.sources(&key)? | source;
            self.work.put_raw(TreeId::IncidentSearch, key, vec![held]);
        }
        Ok(())
    }

    fn sources(&self, key: &[u8]) -> Result<u8, StoreError> {
        Ok(self
            .work
            .get_raw(TreeId::IncidentSearch, key)?
            .and_then(|v| v.first().copied())
            .unwrap_or(0))
    }

    /// Makes incident `id` findable by the words of extra text kept beside it (its notes):
    /// `before` is all of that text as last indexed, `after` all of it now. Call it in the
    /// unit that changes the text; only the words that changed are written.
    pub fn index_incident_text(
        &mut self,
        id: Ulid,
        before: &str,
        after: &str,
    ) -> Result<(), StoreError> {
        self.index_search(id, FROM_TEXT, &text_terms(before), &text_terms(after))
    }
}
