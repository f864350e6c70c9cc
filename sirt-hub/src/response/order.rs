//! What an operator orders — a directive, a task, a hunt — checked and turned into the records
//! the hub stores: which sites it goes to, when it expires, how far a hunt looks back and how
//! long it watches, and the sweep each hunted site runs.
//!
//! Pure policy: the caller passes the enrolled sites, who orders and the clock. Checks run in
//! the order an operator reads their refusals (the kind before the sites, the sites before
//! the expiry), so the first thing wrong is the one named.

use super::ResponseError;
use super::directive::{self, DirectiveRecord, KIND_SWEEP, KIND_TASK, TaskSpec};
use super::hunt::{self, HuntRecord, TimeBasis};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, SiteId};
use std::collections::BTreeMap;
use ulid::Ulid;

pub const DAY_S: u64 = 86_400;
/// Directives not run within a day are stale: the situation has moved on.
pub const DEFAULT_EXPIRY_S: u64 = DAY_S;
pub const MAX_EXPIRY_S: u64 = 30 * DAY_S;
/// A task may be due at most a year ahead; a later due time is brought forward to that.
pub const MAX_TASK_DUE_S: u64 = MAX_EXPIRY_S * 12;
pub const DEFAULT_LOOKBACK_S: u64 = 30 * DAY_S;
pub const MAX_LOOKBACK_S: u64 = 365 * DAY_S;
pub const MAX_HUNT_DURATION_S: u64 = 30 * DAY_S;
pub const MAX_HUNT_INDICATORS: usize = 100;
pub const MAX_TASK_TITLE_BYTES: usize = 200;
pub const MAX_TASK_DETAILS_BYTES: usize = 4000;
/// How long the sites have to review a hunt's hits once attached to an incident.
pub const ATTACH_REVIEW_S: u64 = DAY_S;

/// Records ready to store, with the line for the incident timeline and the audit.
#[derive(Debug, Clone)]
pub struct Planned {
    pub directives: Vec<DirectiveRecord>,
    pub text: String,
}

/// An operator-chosen directive for sites of an incident.
#[derive(Debug, Clone)]
pub struct DirectiveOrder {
    pub incident: Ulid,
    /// Site names as given; `"all"` is every enrolled site.
    pub sites: Vec<String>,
    pub kind: String,
    pub params: BTreeMap<String, String>,
    /// 0: the default expiry.
    pub expires_in_s: u64,
}

impl DirectiveOrder {
    /// One directive per chosen site, all expiring together.
    pub fn plan(
        &self,
        enrolled: &[SiteId],
        issued_by: &str,
        now: UnixMillis,
    ) -> Result<Planned, ResponseError> {
        directive::validate_kind(&self.kind)?;
        directive::validate_params(&self.params)?;
        let sites = choose_sites(&self.sites, enrolled, false)?;
        let expires_in_s = match self.expires_in_s {
            0 => DEFAULT_EXPIRY_S,
            n if n > MAX_EXPIRY_S => return Err(invalid("expiry is at most 30 days")),
            n => n,
        };
        let expires_at_ms = now + (expires_in_s * 1000) as i64;
        let directives = sites
            .iter()
            .map(|site| DirectiveRecord {
                incident: Some(self.incident),
                params: self.params.clone(),
                expires_at_ms,
                ..DirectiveRecord::queued(site, &self.kind, issued_by, now)
            })
            .collect();
        Ok(Planned {
            directives,
            text: format!("directive {} issued to {}", self.kind, site_names(&sites)),
        })
    }
}

/// Work for the analysts of sites of an incident.
#[derive(Debug, Clone)]
pub struct TaskOrder {
    pub incident: Ulid,
    pub sites: Vec<String>,
    pub title: String,
    pub details: String,
    /// 0: no due time.
    pub due_in_s: u64,
}

impl TaskOrder {
    /// One task directive per chosen site; tasks never expire, they fall overdue.
    pub fn plan(
        &self,
        enrolled: &[SiteId],
        issued_by: &str,
        now: UnixMillis,
    ) -> Result<Planned, ResponseError> {
        let title = self.title.trim().to_string();
        if title.is_empty() || title.len() > MAX_TASK_TITLE_BYTES {
            return Err(invalid("a task needs a title of 1-200 bytes"));
        }
        if self.details.len() > MAX_TASK_DETAILS_BYTES {
            return Err(invalid("task details are at most 4000 bytes"));
        }
        let sites = choose_sites(&self.sites, enrolled, false)?;
        let due_ms = match self.due_in_s {
            0 => 0,
            n => now + (n.min(MAX_TASK_DUE_S) * 1000) as i64,
        };
        let directives = sites
            .iter()
            .map(|site| DirectiveRecord {
                incident: Some(self.incident),
                task: Some(TaskSpec {
                    title: title.clone(),
                    details: self.details.clone(),
                    due_ms,
                }),
                ..DirectiveRecord::queued(site, KIND_TASK, issued_by, now)
            })
            .collect();
        Ok(Planned {
            directives,
            text: format!("task {title:?} assigned to {}", site_names(&sites)),
        })
    }
}

/// A threat hunt: indicators swept for at sites, looking back and then watching.
#[derive(Debug, Clone)]
pub struct HuntOrder {
    /// The incident hunted for, whose indicators are hunted too (the start command reads
    /// them).
    pub incident: Option<Ulid>,
    pub indicators: Vec<Indicator>,
    /// Site names as given; none or `"all"` is every enrolled site.
    pub sites: Vec<String>,
    /// 0: the default lookback.
    pub lookback_s: u64,
    pub duration_s: u64,
    pub basis: TimeBasis,
    /// A search hunt: each site sweeps its alert search index for groups matching every
    /// filter (`socfed_proto::search`); its indicators are among the filters.
    pub search: Option<socfed_proto::search::RawQuery>,
}

/// A hunt ready to store, with one sweep per site.
#[derive(Debug, Clone)]
pub struct PlannedHunt {
    pub hunt: HuntRecord,
    pub sweeps: Vec<DirectiveRecord>,
    pub text: String,
}

impl HuntOrder {
    pub fn plan(
        mut self,
        enrolled: &[SiteId],
        started_by: &str,
        now: UnixMillis,
    ) -> Result<PlannedHunt, ResponseError> {
        let search = self.checked_search()?;
        self.indicators.sort();
        self.indicators.dedup();
        if self.indicators.is_empty() && search.is_none() {
            return Err(invalid(
                "nothing to hunt for: give --incident with indicators or --ioc TYPE:VALUE",
            ));
        }
        if self.indicators.len() > MAX_HUNT_INDICATORS {
            return Err(invalid("at most 100 indicators per hunt"));
        }
        // 0 is the field left unset: the default. Anything longer than the maximum is a
        // mistake to name, not to shorten silently (as the duration below).
        let lookback_s = match self.lookback_s {
            0 => DEFAULT_LOOKBACK_S,
            n if n > MAX_LOOKBACK_S => {
                return Err(invalid(
                    "a hunt looks back at most 365 days; give a shorter lookback",
                ));
            }
            n => n,
        };
        if self.duration_s > MAX_HUNT_DURATION_S {
            return Err(invalid("a hunt watches for at most 30 days"));
        }
        let sites = choose_sites(&self.sites, enrolled, true)?;
        let mut hunt = HuntRecord {
            id: Ulid::new(),
            incident: self.incident,
            indicators: self.indicators,
            sites: sites.clone(),
            lookback_ms: (lookback_s * 1000) as i64,
            duration_ms: (self.duration_s * 1000) as i64,
            started_at_ms: now,
            started_by: started_by.to_string(),
            attached_to: None,
            directives: Vec::new(),
        };
        let mut params = hunt::sweep_params(&hunt, self.basis);
        if let Some(raw) = &search {
            // The site sweeps by the search: the indicator list is only the hunt's record.
            params.remove("indicators");
            params.extend(socfed_proto::search::params::to_params(raw));
        }
        // A sweep still queued when the hunt would have ended is pointless.
        let expires_at_ms = now + ((DEFAULT_EXPIRY_S + self.duration_s) * 1000) as i64;
        let sweeps: Vec<DirectiveRecord> = sites
            .iter()
            .map(|site| DirectiveRecord {
                incident: self.incident,
                hunt: Some(hunt.id),
                params: params.clone(),
                expires_at_ms,
                ..DirectiveRecord::queued(site, KIND_SWEEP, started_by, now)
            })
            .collect();
        hunt.directives = sweeps.iter().map(|d| d.id).collect();
        let text = format!(
            "hunt {} started for {} indicators at {}",
            hunt.id,
            hunt.indicators.len(),
            site_names(&sites)
        );
        Ok(PlannedHunt { hunt, sweeps, text })
    }
}

impl HuntOrder {
    /// The search, checked as the sites will check it, its indicators made the hunt's
    /// (a search hunt takes no other indicators: an incident's would be ANDed in silently).
    fn checked_search(&mut self) -> Result<Option<socfed_proto::search::RawQuery>, ResponseError> {
        let Some(raw) = self.search.take() else {
            return Ok(None);
        };
        if !self.indicators.is_empty() {
            return Err(invalid(
                "a search hunt takes its indicators as search filters (--indicator), not --ioc or --incident",
            ));
        }
        socfed_proto::search::Query::parse(&raw).map_err(|e| invalid(format!("search: {e}")))?;
        for text in &raw.indicators {
            self.indicators
                .push(Indicator::parse_typed(text).map_err(|e| invalid(e.to_string()))?);
        }
        Ok(Some(raw))
    }
}

/// When the hits of a hunt attached at `now` are due for review.
pub fn attach_review_due(now: UnixMillis) -> UnixMillis {
    now + (ATTACH_REVIEW_S * 1000) as i64
}

/// The sites an order names: `["all"]` (or nothing, when `empty_means_all`) is every enrolled
/// site; otherwise each named site, once, and every one enrolled.
pub fn choose_sites(
    raw: &[String],
    enrolled: &[SiteId],
    empty_means_all: bool,
) -> Result<Vec<SiteId>, ResponseError> {
    if (raw.is_empty() && empty_means_all) || raw.iter().any(|s| s == "all") {
        return Ok(enrolled.to_vec());
    }
    if raw.is_empty() {
        return Err(invalid("name at least one site (or \"all\")"));
    }
    let mut sites = Vec::new();
    for name in raw {
        let site = SiteId::parse(name).map_err(|e| invalid(e.to_string()))?;
        if !enrolled.contains(&site) {
            return Err(ResponseError::UnknownSite(name.clone()));
        }
        if !sites.contains(&site) {
            sites.push(site);
        }
    }
    Ok(sites)
}

fn site_names(sites: &[SiteId]) -> String {
    sites
        .iter()
        .map(SiteId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn invalid(why: impl Into<String>) -> ResponseError {
    ResponseError::Invalid(why.into())
}
