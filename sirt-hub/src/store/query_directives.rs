//! Directive listings a page at a time (`ListDirectives`), in issue (id) order.
//!
//! The walk reads the narrowest index the filter names: an incident's `incident_directives`,
//! a site's `site_directives`, a hunt's own list of sweeps (plus the tasks it opened on the
//! incident it was attached to), or the `directives` tree. When the index alone decides the
//! filter, the total is a count of its keys and only the page's records are read; otherwise
//! each candidate is read. Every listing is bounded by the directive retention
//! (`crate::response::retention`), which prunes finished directives.

use super::schema;
use super::{HubStore, StoreError};
use crate::response::DirectiveRecord;
use socfed_proto::vocab::SiteId;
use std::collections::HashMap;
use ulid::Ulid;

/// Which directives a listing wants; `None` = any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectiveFilter {
    pub incident: Option<Ulid>,
    pub site: Option<SiteId>,
    pub hunt: Option<Ulid>,
}

impl DirectiveFilter {
    fn matches(&self, d: &DirectiveRecord) -> bool {
        self.incident.is_none_or(|id| d.incident == Some(id))
            && self.site.as_ref().is_none_or(|site| &d.site == site)
            && self.hunt.is_none_or(|id| d.hunt == Some(id))
    }
}

/// Which directives the caller may see, asked of each candidate's incident (directives with
/// no incident are always visible). A listing omits what the caller may not read, and its
/// total counts only what it could show: a count is data about an incident too.
pub enum Visibility<'a> {
    /// The caller reads every incident: the index alone may decide.
    All,
    /// Whether the caller may read this incident.
    Incident(&'a mut dyn FnMut(Ulid) -> Result<bool, StoreError>),
}

impl Visibility<'_> {
    /// Whether what carries the data of `incidents` (none: no incident's) is shown.
    pub(super) fn shows_all(
        &mut self,
        incidents: impl IntoIterator<Item = Option<Ulid>>,
    ) -> Result<bool, StoreError> {
        let Visibility::Incident(may_read) = self else {
            return Ok(true);
        };
        for incident in incidents.into_iter().flatten() {
            if !may_read(incident)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// One page of [`HubStore::directives_page`].
#[derive(Debug)]
pub struct DirectivesPage {
    pub directives: Vec<DirectiveRecord>,
    /// Pass as `after` for the next page; `None` on the last.
    pub next: Option<Ulid>,
    /// Directives stored that match the filter and the caller may see.
    pub total: u64,
}

type Ids<'a> = Box<dyn Iterator<Item = Result<Ulid, StoreError>> + 'a>;

impl HubStore {
    /// Up to `limit` directives matching `filter` that `visible` shows, in id order, after
    /// `after` (the last of the previous page) when given.
    pub fn directives_page(
        &self,
        filter: &DirectiveFilter,
        after: Option<Ulid>,
        limit: usize,
        mut visible: Visibility<'_>,
    ) -> Result<DirectivesPage, StoreError> {
        let (ids, index_decides) = self.candidates(filter)?;
        let mut hunts = HashMap::new();
        let exact = index_decides && matches!(visible, Visibility::All);
        let mut directives = Vec::new();
        let (mut total, mut more) = (0u64, false);
        for id in ids {
            let id = id?;
            let on_page = after.is_none_or(|a| id > a);
            if exact {
                // The index decides: count the key, read only what the page shows.
                total += 1;
                if on_page && directives.len() < limit {
                    directives.extend(self.directive(id)?);
                } else if on_page {
                    more = true;
                }
                continue;
            }
            let Some(d) = self.directive(id)? else {
                continue;
            };
            if !filter.matches(&d) || !self.directive_shown(&d, &mut visible, &mut hunts)? {
                continue;
            }
            total += 1;
            if on_page && directives.len() < limit {
                directives.push(d);
            } else if on_page {
                more = true;
            }
        }
        let next = more.then(|| directives.last().map(|d| d.id)).flatten();
        Ok(DirectivesPage {
            directives,
            next,
            total,
        })
    }

    /// The ids of an incident's directives, in id order, from `incident_directives`.
    pub(super) fn incident_directive_ids(&self, incident: Ulid) -> Ids<'_> {
        let ids = self
            .trees
            .incident_directives
            .scan_prefix(incident.to_bytes())
            .keys()
            .map(|k| {
                let k = k?;
                Ok(schema::ulid_from_key(
                    schema::INCIDENT_DIRECTIVES,
                    k.get(16..).unwrap_or_default(),
                )?)
            });
        Box::new(ids)
    }

    /// Whether `visible` shows directive `d`: its incident's data, and for a hunt's sweep or
    /// task also the data of the incidents its hunt was started from or attached to (a sweep
    /// made before the attach names no incident itself). Hunts are read once per walk.
    fn directive_shown(
        &self,
        d: &DirectiveRecord,
        visible: &mut Visibility<'_>,
        hunts: &mut HashMap<Ulid, [Option<Ulid>; 2]>,
    ) -> Result<bool, StoreError> {
        if matches!(visible, Visibility::All) {
            return Ok(true);
        }
        let carried = match d.hunt {
            None => [None, None],
            Some(id) => match hunts.get(&id) {
                Some(known) => *known,
                None => {
                    let known = self.hunt_incidents(id)?;
                    hunts.insert(id, known);
                    known
                }
            },
        };
        visible.shows_all([d.incident, carried[0], carried[1]])
    }

    /// The ids to walk, in id order, and whether they match the filter without reading them.
    fn candidates(&self, filter: &DirectiveFilter) -> Result<(Ids<'_>, bool), StoreError> {
        if let Some(incident) = filter.incident {
            let exact = filter.site.is_none() && filter.hunt.is_none();
            return Ok((Box::new(self.incident_directive_ids(incident)), exact));
        }
        if let Some(site) = &filter.site {
            let prefix = schema::site_prefix(site);
            let len = prefix.len();
            let ids = self
                .trees
                .site_directives
                .scan_prefix(prefix)
                .keys()
                .map(move |k| {
                    let k = k?;
                    Ok(schema::ulid_from_key(
                        schema::SITE_DIRECTIVES,
                        k.get(len..).unwrap_or_default(),
                    )?)
                });
            return Ok((Box::new(ids), filter.hunt.is_none()));
        }
        if let Some(hunt) = filter.hunt {
            return Ok((
                Box::new(self.hunt_directive_ids(hunt)?.into_iter().map(Ok)),
                false,
            ));
        }
        let ids = self
            .trees
            .directives
            .iter()
            .keys()
            .map(|k| Ok(schema::ulid_from_key(schema::DIRECTIVES, &k?)?));
        Ok((Box::new(ids), true))
    }

    /// A hunt's sweeps, and the directives of the incident it was attached to (its tasks are
    /// among them), sorted; none for an unknown hunt.
    fn hunt_directive_ids(&self, hunt: Ulid) -> Result<Vec<Ulid>, StoreError> {
        let Some(record) = self.hunt_record(hunt)? else {
            return Ok(Vec::new());
        };
        let mut ids = record.directives;
        if let Some(incident) = record.attached_to {
            for id in self.incident_directive_ids(incident) {
                ids.push(id?);
            }
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}
