//! Observables as every surface shows them (gRPC `Observables`, `/api/v1`, the dashboard,
//! the CLI's JSON): an incident's observables with the other incidents holding each, and the
//! lookup of one indicator across incidents. Both read the index (`observable_index`), never
//! scan incidents, and leave out what the reader may not read: an incident under the TLP:RED
//! rule, or an observable whose own marking the reader may not read, is not named at all.

use crate::access::reader::Reader;
use crate::incident::IncidentRecord;
use crate::observable::{ObservableRecord, Origin};
use crate::store::{HubStore, StoreError};
use socfed_proto::pb;
use socfed_proto::vocab::Indicator;
use ulid::Ulid;

/// Other incidents shown per observable at most (`Lookup` lists them all).
pub const ALSO_IN: usize = 5;
/// Index entries read per observable for [`ALSO_IN`]: room for some the reader may not read.
const ALSO_IN_READ: usize = 4 * ALSO_IN;
/// Incidents a lookup returns by default and at most.
pub const LOOKUP_DEFAULT: usize = 50;
pub const LOOKUP_MAX: usize = 500;

/// How many incidents a lookup asking `asked` returns (0: the default); too many is refused.
pub fn lookup_limit(asked: u32) -> Result<usize, crate::error::HubError> {
    match asked as usize {
        0 => Ok(LOOKUP_DEFAULT),
        n if n > LOOKUP_MAX => Err(crate::error::HubError::invalid(format!(
            "limit {n} is over {LOOKUP_MAX}"
        ))),
        n => Ok(n),
    }
}

/// The observable's flags in words: `IOC, sighted, tags a b`, or `-`.
pub fn flags(o: &pb::Observable) -> String {
    let mut out = Vec::new();
    if o.ioc {
        out.push("IOC".to_string());
    }
    if o.sighted {
        out.push("sighted".to_string());
    }
    if !o.tags.is_empty() {
        out.push(format!("tags {}", o.tags.join(" ")));
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(", ")
    }
}

/// The incident `incident` as `reader` may read it, or the refusal.
pub async fn readable_incident(
    store: &std::sync::Arc<HubStore>,
    reader: &Reader,
    incident: ulid::Ulid,
) -> Result<IncidentRecord, crate::error::HubError> {
    let Some(record) = super::read(store, move |s| s.incident(incident)).await? else {
        return Err(crate::error::HubError::not_found(format!(
            "no incident {incident}; list incidents to see valid ids"
        )));
    };
    reader.may_read(&record)?;
    Ok(record)
}

/// One observable on the wire, with `also_in`.
pub fn observable(
    record: &ObservableRecord,
    also_in: Vec<pb::ObservableElsewhere>,
) -> pb::Observable {
    let (site, analyst) = match &record.added_by {
        Origin::Site(site) => (site.to_string(), String::new()),
        Origin::Analyst(name) => (String::new(), name.clone()),
    };
    pb::Observable {
        indicator: Some(record.indicator.to_wire()),
        ioc: record.ioc,
        sighted: record.sighted,
        tags: record.tags.clone(),
        tlp: record.tlp.map_or(pb::Tlp::Unspecified, |t| t.to_wire()) as i32,
        sites: record
            .sites
            .iter()
            .map(|s| pb::ObservableSite {
                site: s.site.to_string(),
                first_seen_ms: s.first_seen_ms,
                last_seen_ms: s.last_seen_ms,
                count: s.count,
            })
            .collect(),
        added_by_site: site,
        added_by_analyst: analyst,
        added_at_ms: record.added_at_ms,
        updated_at_ms: record.updated_at_ms,
        also_in,
    }
}

/// The incidents holding `indicator` that `reader` may read with its observable there, newest
/// first, `except` left out, at most `limit` after reading at most `budget` index entries.
fn holders(
    store: &HubStore,
    reader: &Reader,
    indicator: &Indicator,
    except: Option<Ulid>,
    (limit, budget): (usize, usize),
) -> Result<Vec<(IncidentRecord, ObservableRecord)>, StoreError> {
    let mut out = Vec::new();
    for id in store.observable_incidents(indicator, budget)? {
        if out.len() >= limit {
            break;
        }
        if Some(id) == except {
            continue;
        }
        let (Some(incident), Some(held)) = (store.incident(id)?, store.observable(id, indicator)?)
        else {
            continue;
        };
        if reader.can_read_marked(&incident, held.effective_tlp(incident.tlp())) {
            out.push((incident, held));
        }
    }
    Ok(out)
}

fn elsewhere(incident: &IncidentRecord, held: &ObservableRecord) -> pb::ObservableElsewhere {
    pb::ObservableElsewhere {
        incident_id: incident.id.to_string(),
        title: incident.title.clone(),
        status: incident.status().as_str().into(),
        sites: held.sites.iter().map(|s| s.site.to_string()).collect(),
    }
}

/// `incident`'s observables `reader` may read (the caller checked the incident itself), each
/// with up to [`ALSO_IN`] other incidents holding it.
pub fn listing(
    store: &HubStore,
    reader: &Reader,
    incident: &IncidentRecord,
) -> Result<pb::ObservableList, StoreError> {
    let mut observables = Vec::new();
    for record in store.observables(incident.id)? {
        if !reader.can_read_marked(incident, record.effective_tlp(incident.tlp())) {
            continue;
        }
        let also_in = holders(
            store,
            reader,
            &record.indicator,
            Some(incident.id),
            (ALSO_IN, ALSO_IN_READ),
        )?
        .iter()
        .map(|(i, held)| elsewhere(i, held))
        .collect();
        observables.push(observable(&record, also_in));
    }
    // Most reported first, then by indicator: a stable order for every surface.
    observables.sort_by(|a, b| {
        let total = |o: &pb::Observable| o.sites.iter().map(|s| s.count).sum::<u64>();
        total(b).cmp(&total(a)).then_with(|| {
            let text = |o: &pb::Observable| o.indicator.as_ref().map(|i| i.value.clone());
            text(a).cmp(&text(b))
        })
    });
    Ok(pb::ObservableList {
        incident_id: incident.id.to_string(),
        observables,
    })
}

/// The incidents `reader` may read that hold `indicator`, newest first, at most `limit`.
pub fn lookup(
    store: &HubStore,
    reader: &Reader,
    indicator: &Indicator,
    limit: usize,
) -> Result<pb::ObservableLookup, StoreError> {
    // Read past hidden ones a bounded way: a lookup never costs more than a few pages.
    let budget = limit.saturating_mul(4);
    let incidents = holders(store, reader, indicator, None, (limit, budget))?
        .iter()
        .map(|(incident, held)| pb::ObservableHolder {
            incident_id: incident.id.to_string(),
            title: incident.title.clone(),
            status: incident.status().as_str().into(),
            observable: Some(observable(held, Vec::new())),
        })
        .collect();
    Ok(pb::ObservableLookup {
        indicator: Some(indicator.to_wire()),
        incidents,
    })
}
