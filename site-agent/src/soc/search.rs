//! What an alert group is found by: its index terms (`socfed_proto::search`), taken from
//! its indicators, hosts, users, ATT&CK techniques, title and comments in that order, within
//! the per-record token budget. Pure: the store keeps the postings (`store/search.rs`).

use super::group::AlertGroup;
use socfed_proto::search::{Field, Term, Tokens};
use std::collections::BTreeSet;

/// The terms `group` is indexed under. Deterministic in the group's content, so the terms of
/// the stored record and of its new state tell which postings to add and remove.
pub fn group_terms(group: &AlertGroup) -> BTreeSet<Term> {
    let mut tokens = Tokens::default();
    for indicator in &group.indicators {
        tokens.add(Field::Indicator, &indicator.to_string());
    }
    for host in &group.entities.hosts {
        tokens.add(Field::Host, host);
    }
    for user in &group.entities.users {
        tokens.add(Field::User, user);
    }
    for technique in &group.techniques {
        tokens.add(Field::Technique, &technique.to_string());
    }
    tokens.add_text(&group.title);
    for comment in &group.comments {
        tokens.add_text(&comment.text);
    }
    tokens.into_terms()
}
