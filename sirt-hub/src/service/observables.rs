//! An incident's observables as an analyst changes them, on every transport (the gRPC
//! `Observables` service, `/api/v1`, the dashboard): the request's words checked into an
//! [`Edit`] here once ([`edit_of`]), then the access matrix (`Api::EditObservables`) and the
//! TLP:RED read rule for the operator, then the writer ([`Item::Observable`]).

use super::{Commands, wrong_answer};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::access::reader::{Reader, Roles};
use crate::error::HubError;
use crate::ingest::apply::{Item, ObservableChange, ResponseOutcome};
use crate::observable::{Edit, Flag, ObservableRecord};
use crate::store::HubStore;
use socfed_proto::vocab::{Indicator, Tlp};
use std::sync::Arc;
use ulid::Ulid;

/// What a request asks, in its words: add, flag, unflag or remove, and the flags.
#[derive(Debug, Clone, Default)]
pub struct EditWords {
    pub action: String,
    pub ioc: bool,
    pub sighted: bool,
    pub tags: Vec<String>,
    /// A TLP word, if any (`amber`, `red`, `tlp:green`…).
    pub tlp: Option<String>,
}

/// The indicator of a request (`TYPE:VALUE`), normalised.
pub fn indicator(raw: &str) -> Result<Indicator, HubError> {
    Indicator::parse_typed(raw).map_err(|e| HubError::invalid(e.to_string()))
}

/// Checks a request's words into an edit: an action among add, flag, unflag, remove; tags
/// bounded (`observable::tag`), at most [`crate::observable::MAX_TAGS`] a request.
pub fn edit_of(words: &EditWords) -> Result<Edit, HubError> {
    if words.tags.len() > crate::observable::MAX_TAGS {
        return Err(HubError::invalid(format!(
            "at most {} tags a request",
            crate::observable::MAX_TAGS
        )));
    }
    let mut flags = Vec::new();
    if words.ioc {
        flags.push(Flag::Ioc);
    }
    if words.sighted {
        flags.push(Flag::Sighted);
    }
    for raw in &words.tags {
        flags.push(Flag::Tag(
            crate::observable::tag(raw).map_err(HubError::invalid)?,
        ));
    }
    if let Some(raw) = words.tlp.as_deref().filter(|t| !t.trim().is_empty()) {
        let tlp: Tlp = raw
            .trim()
            .parse()
            .map_err(|e: socfed_proto::vocab::InvalidField| HubError::invalid(e.to_string()))?;
        flags.push(Flag::Tlp(tlp));
    }
    match words.action.trim() {
        "add" => Ok(Edit::Add { flags }),
        "flag" => Ok(Edit::Flag(flags)),
        "unflag" => Ok(Edit::Unflag(flags)),
        "remove" => Ok(Edit::Remove),
        other => Err(HubError::invalid(format!(
            "{:?} is not an observable action: add, flag, unflag or remove",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

impl Commands<'_> {
    /// Adds, flags, unflags or removes `indicator` on `incident`: the observable as stored,
    /// `None` once removed.
    pub async fn change_observable(
        self,
        (store, roles): (&Arc<HubStore>, &Roles),
        acting: &Acting,
        incident: Ulid,
        indicator: Indicator,
        edit: Edit,
    ) -> Result<Option<ObservableRecord>, HubError> {
        acting.may(Api::EditObservables)?;
        Reader::named(&acting.name, roles)
            .may_read_id(store, incident)
            .await?;
        let change = ObservableChange {
            incident,
            indicator,
            edit,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        match self
            .response(Item::Observable(Box::new(change)), "change_observable")
            .await?
        {
            ResponseOutcome::Observable(record) => Ok(record.map(|r| *r)),
            other => Err(wrong_answer("change_observable", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_words_become_an_edit_or_a_reason() {
        let words = EditWords {
            action: "add".into(),
            ioc: true,
            tags: vec!["C2".into()],
            tlp: Some("tlp:red".into()),
            ..Default::default()
        };
        assert_eq!(
            edit_of(&words).expect("valid"),
            Edit::Add {
                flags: vec![Flag::Ioc, Flag::Tag("c2".into()), Flag::Tlp(Tlp::Red)]
            }
        );
        for bad in [
            EditWords {
                action: "delete".into(),
                ..Default::default()
            },
            EditWords {
                action: "flag".into(),
                tags: vec!["<script>".into()],
                ..Default::default()
            },
            EditWords {
                action: "flag".into(),
                tlp: Some("purple".into()),
                ..Default::default()
            },
        ] {
            assert!(edit_of(&bad).is_err(), "{bad:?}");
        }
        assert!(indicator("ip:999.1.1.1").is_err());
        assert_eq!(
            indicator("domain:Evil.Example").expect("valid").to_string(),
            "domain:evil.example"
        );
    }
}
