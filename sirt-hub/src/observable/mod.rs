//! Observables of a hub incident as first-class records (pure: no I/O, no clock). Each is one
//! normalised indicator (`socfed_proto::vocab::Indicator`, so equal threats compare equal
//! across sites) with the analysts' flags (IOC, sighted, tags, TLP), who added it and when,
//! and per site when it was first and last reported and in how many reports.
//!
//! Sites add observables by reporting indicators ([`sight`]); analysts add, flag and remove
//! them ([`Edit`]). A merge moves the absorbed incident's observables into the survivor
//! ([`absorb`]); a split moves one site's share into the new incident ([`split_off`]). The
//! store keeps one record per (incident, indicator) and an index by indicator
//! (`store/schema.rs`, `observables` and `observable_index`).

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, SiteId, Tlp};

#[cfg(test)]
mod tests;

/// Tags per observable at most.
pub const MAX_TAGS: usize = 16;
/// Bytes per tag at most.
pub const MAX_TAG_BYTES: usize = 64;
/// Sites tracked per observable at most (further sites still count in the incident's
/// sightings; the record stays within its size).
pub const MAX_SITES: usize = 128;
/// Observables per incident at most: a site's indicators past it are not recorded as
/// observables (its reports keep them whole in the journal).
pub const MAX_PER_INCIDENT: u64 = 2048;

/// Who put an observable on the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// A site's escalation report carried it.
    Site(SiteId),
    /// An analyst added it (operator name).
    Analyst(String),
}

impl Origin {
    /// `site paris` or `analyst ines`, for listings.
    pub fn describe(&self) -> String {
        match self {
            Origin::Site(site) => format!("site {site}"),
            Origin::Analyst(name) => format!("analyst {name}"),
        }
    }
}

/// One site's reports of an observable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSeen {
    pub site: SiteId,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    /// Reports (each revision of a local incident is one) that carried it.
    pub count: u64,
}

/// An observable of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservableRecord {
    pub indicator: Indicator,
    /// An analyst judged it an indicator of compromise.
    pub ioc: bool,
    /// Seen in the organisation (a site reported it, or an analyst says so).
    pub sighted: bool,
    /// Sorted, each once, at most [`MAX_TAGS`] ([`tag`]).
    pub tags: Vec<String>,
    /// A marking of its own for sharing; `None` follows the incident's.
    pub tlp: Option<Tlp>,
    /// Per site, in the order they first reported it; at most [`MAX_SITES`].
    pub sites: Vec<SiteSeen>,
    pub added_by: Origin,
    pub added_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
}

impl ObservableRecord {
    /// A fresh record of `indicator`, added by `origin` at `now`.
    pub fn new(indicator: Indicator, origin: Origin, now: UnixMillis) -> Self {
        Self {
            indicator,
            ioc: false,
            sighted: matches!(origin, Origin::Site(_)),
            tags: Vec::new(),
            tlp: None,
            sites: Vec::new(),
            added_by: origin,
            added_at_ms: now,
            updated_at_ms: now,
        }
    }

    /// The marking that governs who may read it: its own or the incident's, the stricter.
    pub fn effective_tlp(&self, incident: Tlp) -> Tlp {
        self.tlp.map_or(incident, |own| own.max(incident))
    }

    /// Total reports over every site.
    pub fn total_count(&self) -> u64 {
        self.sites
            .iter()
            .fold(0u64, |n, s| n.saturating_add(s.count))
    }
}

/// The observable of `indicator` after `site` reported it at `now`: `existing` updated, or a
/// new record. Never fails: a site past [`MAX_SITES`] is left out of the per-site list.
pub fn sight(
    existing: Option<ObservableRecord>,
    site: &SiteId,
    indicator: &Indicator,
    now: UnixMillis,
) -> ObservableRecord {
    let mut record = existing.unwrap_or_else(|| {
        ObservableRecord::new(indicator.clone(), Origin::Site(site.clone()), now)
    });
    record.sighted = true;
    record.updated_at_ms = record.updated_at_ms.max(now);
    add_seen(
        &mut record.sites,
        SiteSeen {
            site: site.clone(),
            first_seen_ms: now,
            last_seen_ms: now,
            count: 1,
        },
    );
    record
}

/// Adds `seen` to the site's entry in `sites`, or as a new entry while there is room.
fn add_seen(sites: &mut Vec<SiteSeen>, seen: SiteSeen) {
    if let Some(mine) = sites.iter_mut().find(|s| s.site == seen.site) {
        mine.first_seen_ms = mine.first_seen_ms.min(seen.first_seen_ms);
        mine.last_seen_ms = mine.last_seen_ms.max(seen.last_seen_ms);
        mine.count = mine.count.saturating_add(seen.count);
    } else if sites.len() < MAX_SITES {
        sites.push(seen);
    }
}

/// A flag an analyst sets or clears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flag {
    Ioc,
    Sighted,
    Tag(String),
    /// Setting a TLP marks the observable; clearing it follows the incident's again.
    Tlp(Tlp),
}

/// What an analyst does to one observable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Adds the observable (or, if present, sets these flags on it).
    Add {
        flags: Vec<Flag>,
    },
    Flag(Vec<Flag>),
    Unflag(Vec<Flag>),
    Remove,
}

impl Edit {
    /// The audit action's word.
    pub fn word(&self) -> &'static str {
        match self {
            Edit::Add { .. } => "add",
            Edit::Flag(_) => "flag",
            Edit::Unflag(_) => "unflag",
            Edit::Remove => "remove",
        }
    }
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the incident has no observable {0}; add it first")]
    Missing(String),
    #[error("the incident has {MAX_PER_INCIDENT} observables already")]
    Full,
    #[error("say what to flag: --ioc, --sighted, --tag T or --tlp T")]
    Nothing,
}

/// Checks a tag: trimmed, 1 to [`MAX_TAG_BYTES`] bytes of letters, digits and `-_.:=/+`
/// (so a tag is safe in any surface and in STIX labels), lower-cased.
pub fn tag(raw: &str) -> Result<String, String> {
    let tag = raw.trim().to_lowercase();
    let ok = !tag.is_empty()
        && tag.len() <= MAX_TAG_BYTES
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.:=/+".contains(c));
    if ok {
        Ok(tag)
    } else {
        Err(format!(
            "a tag is 1 to {MAX_TAG_BYTES} bytes of letters, digits and - _ . : = / + ({} bytes given)",
            raw.len()
        ))
    }
}

/// Applies `edit` to `existing` (none: the incident has no such observable). `Ok(None)` means
/// the observable is gone; `count` is how many observables the incident has now.
pub fn apply(
    existing: Option<ObservableRecord>,
    indicator: &Indicator,
    edit: &Edit,
    actor: &str,
    (count, now): (u64, UnixMillis),
) -> Result<Option<ObservableRecord>, EditError> {
    let missing = || EditError::Missing(indicator.to_string());
    let mut record = match (existing, edit) {
        (_, Edit::Flag(flags) | Edit::Unflag(flags)) if flags.is_empty() => {
            return Err(EditError::Nothing);
        }
        (None, Edit::Add { .. }) if count >= MAX_PER_INCIDENT => return Err(EditError::Full),
        (None, Edit::Add { .. }) => {
            ObservableRecord::new(indicator.clone(), Origin::Analyst(actor.to_string()), now)
        }
        (None, _) => return Err(missing()),
        (Some(_), Edit::Remove) => return Ok(None),
        (Some(record), _) => record,
    };
    let (flags, set) = match edit {
        Edit::Add { flags } | Edit::Flag(flags) => (flags, true),
        Edit::Unflag(flags) => (flags, false),
        Edit::Remove => return Ok(None),
    };
    for flag in flags {
        match flag {
            Flag::Ioc => record.ioc = set,
            Flag::Sighted => record.sighted = set,
            Flag::Tag(t) if set => {
                if let Err(at) = record.tags.binary_search(t)
                    && record.tags.len() < MAX_TAGS
                {
                    record.tags.insert(at, t.clone());
                }
            }
            Flag::Tag(t) => record.tags.retain(|x| x != t),
            Flag::Tlp(tlp) => record.tlp = set.then_some(*tlp),
        }
    }
    record.updated_at_ms = record.updated_at_ms.max(now);
    Ok(Some(record))
}

/// The survivor's observable after a merge brought `other`'s: flags joined (either analyst's
/// IOC or sighting stands, tags united, the stricter TLP), per-site reports added up, the
/// earlier addition kept.
pub fn absorb(survivor: Option<ObservableRecord>, other: ObservableRecord) -> ObservableRecord {
    let Some(mut record) = survivor else {
        return other;
    };
    record.ioc |= other.ioc;
    record.sighted |= other.sighted;
    for t in other.tags {
        if let Err(at) = record.tags.binary_search(&t)
            && record.tags.len() < MAX_TAGS
        {
            record.tags.insert(at, t);
        }
    }
    record.tlp = match (record.tlp, other.tlp) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for seen in other.sites {
        add_seen(&mut record.sites, seen);
    }
    if other.added_at_ms < record.added_at_ms {
        record.added_at_ms = other.added_at_ms;
        record.added_by = other.added_by;
    }
    record.updated_at_ms = record.updated_at_ms.max(other.updated_at_ms);
    record
}

/// Splitting `site`'s sighting off an incident: what stays with the original (`None`: it
/// goes, as only that site reported it and no analyst added it) and what the new incident
/// gets (`None`: the site never reported it). Flags travel with the site's share.
pub fn split_off(
    record: ObservableRecord,
    site: &SiteId,
) -> (Option<ObservableRecord>, Option<ObservableRecord>) {
    let Some(at) = record.sites.iter().position(|s| &s.site == site) else {
        return (Some(record), None);
    };
    let mut stays = record;
    let seen = stays.sites.remove(at);
    let moved = ObservableRecord {
        sites: vec![seen],
        added_by: match &stays.added_by {
            Origin::Analyst(_) => Origin::Site(site.clone()),
            origin => origin.clone(),
        },
        ..stays.clone()
    };
    let keep = !stays.sites.is_empty() || matches!(stays.added_by, Origin::Analyst(_));
    (keep.then_some(stays), Some(moved))
}
