//! What a hub incident is found by (`socfed_proto::search` terms): its indicators, its ATT&CK
//! techniques and the words of its title. An incident merged into another (closed as a
//! duplicate) is found through the one it was merged into, so it has no terms of its own.
//! Hub incidents carry no hosts or users (site reports name none), so a search by host or user
//! is refused at the hub rather than answered with nothing. Pure: the store keeps the postings.

use super::IncidentRecord;
use crate::lifecycle::{Phase, Resolution};
use socfed_proto::search::{Field, Query, Term, Tokens};
use std::collections::BTreeSet;

/// The terms `record` is indexed under (none for an incident merged away).
pub fn incident_terms(record: &IncidentRecord) -> BTreeSet<Term> {
    if let Phase::Closed {
        resolution: Resolution::Duplicate { .. },
    } = &record.lifecycle.phase
    {
        return BTreeSet::new();
    }
    let mut tokens = Tokens::default();
    for indicator in &record.indicators {
        tokens.add(Field::Indicator, &indicator.to_string());
    }
    for technique in record.techniques() {
        tokens.add(Field::Technique, &technique.to_string());
    }
    tokens.add_text(&record.title);
    tokens.into_terms()
}

/// The word terms of extra text indexed for an incident (notes, through
/// `StoreUnit::index_incident_text`).
pub fn text_terms(text: &str) -> BTreeSet<Term> {
    let mut tokens = Tokens::default();
    tokens.add_text(text);
    tokens.into_terms()
}

/// Refuses a query the hub cannot answer: hosts and users are not known to hub incidents.
pub fn check_hub_query(query: &Query) -> Result<(), String> {
    match query
        .terms()
        .iter()
        .find(|t| matches!(t.field, Field::Host | Field::User))
    {
        Some(_) => Err(
            "hub incidents carry no hosts or users: search them by indicator, technique or text, \
             or search the sites' alerts (`sirt-hub search alerts`)"
                .into(),
        ),
        None => Ok(()),
    }
}
