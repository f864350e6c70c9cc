//! Writer items and journal entries: an escalation as the journal keeps it before any rule
//! judged it ([`journal`]), and back into the item it was received as, for the replay at
//! start-up ([`item_of`]).

use super::{Item, Offered};
use crate::store::journal::{JournalEntry, JournaledOffer};
use crate::store::{HubStore, StoreError};
use socfed_proto::UnixMillis;

/// Appends the escalations among `items` to the journal, durably, received at `now`; returns
/// their journal ids in order (what [`apply_journaled`] takes).
pub fn journal(store: &HubStore, items: &[Item], now: UnixMillis) -> Result<Vec<u64>, StoreError> {
    let entries: Vec<JournalEntry> = items
        .iter()
        .filter_map(|item| match item {
            Item::Escalation {
                site,
                epoch,
                seq,
                dropped_before,
                enqueued_at_ms,
                offered,
            } => Some(JournalEntry {
                site: site.clone(),
                epoch: *epoch,
                seq: *seq,
                dropped_before: *dropped_before,
                enqueued_at_ms: *enqueued_at_ms,
                received_at_ms: now,
                offer: match offered {
                    Offered::Valid(_) => JournaledOffer::Valid {
                        wire: offered.wire_bytes(),
                    },
                    Offered::Invalid { reason, .. } => JournaledOffer::Invalid {
                        wire: offered.wire_bytes(),
                        reason: reason.clone(),
                    },
                },
            }),
            _ => None,
        })
        .collect();
    store.journal_append(&entries)
}

/// The writer item an entry was received as.
pub fn item_of(entry: &JournalEntry) -> Item {
    let wire = || entry.wire().unwrap_or_default();
    let offered = match (&entry.offer, entry.report()) {
        (_, Some(Ok(report))) => Offered::Valid(report),
        (_, Some(Err(reason))) => Offered::Invalid {
            wire: wire(),
            reason,
        },
        (JournaledOffer::Invalid { reason, .. }, None) => Offered::Invalid {
            wire: wire(),
            reason: reason.clone(),
        },
        (JournaledOffer::Valid { .. }, None) => Offered::Invalid {
            wire: wire(),
            reason: "unreadable journal entry".into(),
        },
    };
    Item::Escalation {
        site: entry.site.clone(),
        epoch: entry.epoch,
        seq: entry.seq,
        dropped_before: entry.dropped_before,
        enqueued_at_ms: entry.enqueued_at_ms,
        offered,
    }
}
