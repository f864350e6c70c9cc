//! The dashboard's pages and its event stream, for a signed-in [`Viewer`]: reads from the
//! store on the blocking pool, rendered through the templates of `pages.rs` and `tables.rs`.

use super::WebState;
use super::auth::{Viewer, current};
use super::pages::{self, Layout, Message, render};
use super::tables;
use crate::access::reader::Reader;
use crate::error::HubError;
use crate::store::HubStore;
use crate::store::query::IncidentFilter;
use axum::extract::{Path, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use socfed_proto::pb;
use socfed_proto::vocab::{Severity, SiteId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use ulid::Ulid;

/// How often an open event stream re-checks its session (sign-out, roster, CRL) between
/// events; expiry itself ends it on time.
const SESSION_RECHECK: Duration = Duration::from_secs(5);

/// Rows on the board, and how many store pages it reads to fill them past closed incidents.
const BOARD_ROWS: usize = 200;
const BOARD_PAGES: usize = 10;

pub async fn read<T: Send + 'static>(
    store: &Arc<HubStore>,
    f: impl FnOnce(&HubStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Response> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || f(&store)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(HubError::storage(&e).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "dashboard store read task failed");
            Err(
                HubError::unavailable("the hub could not read its store; retry shortly")
                    .into_response(),
            )
        }
    }
}

pub(super) fn reader(state: &WebState, viewer: &Viewer) -> Reader {
    Reader::named(&viewer.name, &state.roles)
}

/// A page that only says `text`, with the HTTP status of `error`.
pub(super) fn message(viewer: &Viewer, title: &str, text: &str, error: &HubError) -> Response {
    let mut response = render(&Message {
        layout: Layout::of(viewer, title, ""),
        text,
    });
    *response.status_mut() = error.http_status();
    response
}

pub(super) fn not_found(viewer: &Viewer) -> Response {
    message(
        viewer,
        "Not found",
        "No such incident.",
        &HubError::not_found("no such incident"),
    )
}

/// Up to `rows` incidents matching `filter` that the viewer may read and `keep` keeps,
/// newest first, reading at most `BOARD_PAGES` store pages of `rows`.
pub async fn readable_incidents(
    state: &WebState,
    viewer: &Viewer,
    filter: IncidentFilter,
    rows: usize,
    keep: impl Fn(&crate::incident::IncidentRecord) -> bool,
) -> Result<Vec<pb::HubIncident>, Response> {
    let reader = reader(state, viewer);
    let mut incidents: Vec<pb::HubIncident> = Vec::new();
    let mut before = None;
    for _ in 0..BOARD_PAGES {
        let (filter, reader) = (filter.clone(), reader.clone());
        let page_of = read(&state.store, move |s| {
            s.list_incidents(&filter, before, rows, |r| reader.can_read(r))
        })
        .await?;
        incidents.extend(
            page_of
                .incidents
                .iter()
                .filter(|r| keep(r))
                .map(crate::view::convert::incident),
        );
        before = page_of.next;
        if before.is_none() || incidents.len() >= rows {
            break;
        }
    }
    incidents.truncate(rows);
    Ok(incidents)
}

pub async fn board(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| {
        q.get(k)
            .map(String::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let (site, status, severity) = (get("site"), get("status"), get("severity"));
    let filter = IncidentFilter {
        site: SiteId::parse(&site).ok(),
        status: crate::incident::IncidentStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == status),
        min_severity: severity.parse::<Severity>().ok(),
    };
    // No status chosen: open incidents only, so merged-away duplicates and other closed
    // incidents leave the board ("all" shows them too).
    let open_only = status.is_empty();
    let incidents = match readable_incidents(&state, &viewer, filter, BOARD_ROWS, |r| {
        !(open_only && r.status() == crate::incident::IncidentStatus::Closed)
    })
    .await
    {
        Ok(incidents) => incidents,
        Err(response) => return response,
    };
    if q.get("fragment").is_some_and(|f| f == "rows") {
        return render(&pages::BoardRows {
            rows: pages::board_rows(&incidents),
        });
    }
    render(&pages::Board::new(
        Layout::of(&viewer, "Incidents", "/"),
        &incidents,
        &site,
        &status,
        &severity,
    ))
}

/// An incident's page, or one of its live tables alone (`?fragment=tasks|directives|comms|timeline`,
/// for the script's refresh when the incident changes).
pub async fn incident(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(id) = Ulid::from_string(&id) else {
        return not_found(&viewer);
    };
    let found = read(&state.store, move |s| {
        Ok((s.incident(id)?, s.incident_directives(id)?, s.comms(id)?))
    })
    .await;
    match found {
        Ok((Some(record), directives, comms)) => {
            if let Err(denied) = reader(&state, &viewer).may_read(&record) {
                return message(&viewer, "Not permitted", &denied.to_string(), &denied);
            }
            let now = socfed_proto::now_millis();
            let i = crate::view::convert::incident(&record);
            let d: Vec<_> = directives
                .iter()
                .map(|d| crate::view::response_convert::directive_status(d, now))
                .collect();
            let c: Vec<_> = comms
                .iter()
                .map(crate::view::comms::communication)
                .collect();
            let forms = match state.roles.get(&viewer.name) {
                Some(role) => incident_forms(&state, &viewer, role, &record, &i, &c),
                None => tables::Forms::default(),
            };
            let observables = {
                let (reader, record) = (reader(&state, &viewer), record.clone());
                read(&state.store, move |s| {
                    crate::view::observables::listing(s, &reader, &record)
                })
                .await
            };
            let observables = match observables {
                Ok(list) => super::observables::Section::new(
                    &viewer.name,
                    state.roles.get(&viewer.name),
                    viewer.action_csrf(),
                    &list,
                ),
                Err(response) => return response,
            };
            let viewer_reader = reader(&state, &viewer);
            let notes =
                match crate::service::notes::list(&state.store, &viewer_reader, &state.roles, id)
                    .await
                {
                    Ok(notes) => notes,
                    Err(e) => return message(&viewer, "Not available", &e.to_string(), &e),
                };
            let wire: Vec<pb::IncidentNote> =
                notes.iter().map(crate::grpc::casework::note).collect();
            let mut page =
                tables::Incident::new(Layout::of(&viewer, &record.title, "/"), &i, &d, &c, forms);
            page.observables = observables;
            page.timeline = crate::report::work_log_rows(&i, &wire, None);
            page.notes = state
                .roles
                .get(&viewer.name)
                .and_then(|role| super::notes::NotesForm::new(&i.id, viewer.action_csrf(), role));
            page.runbooks = super::runbooks::matched(&state, &record).await;
            match q.get("fragment") {
                Some(name) => page.fragment(name),
                None => render(&page),
            }
        }
        Ok((None, _, _)) => not_found(&viewer),
        Err(response) => response,
    }
}

/// The forms of an incident page for a viewer holding `role`, each as the access matrix and
/// the lifecycle allow it.
fn incident_forms(
    state: &WebState,
    viewer: &Viewer,
    role: crate::lifecycle::HubRole,
    record: &crate::incident::IncidentRecord,
    i: &pb::HubIncident,
    comms: &[pb::Communication],
) -> tables::Forms {
    let csrf = viewer.action_csrf();
    let leads = state.roles.names_where(crate::access::leads_responses);
    let mut sighted: Vec<String> = i.sightings.iter().map(|s| s.site_id.clone()).collect();
    sighted.sort();
    sighted.dedup();
    tables::Forms {
        act: Some(super::actions::Act::new(
            &record.lifecycle,
            role,
            csrf.clone(),
            &leads,
        )),
        respond: super::respond::Respond::offered(
            &viewer.name,
            role,
            csrf.clone(),
            // A failed read was logged; the forms offer the sighted sites alone then.
            &state.enrolled.sites().unwrap_or_default(),
            sighted,
        ),
        comms: super::comms::Comms::offered(&viewer.name, role, csrf, comms),
    }
}

pub async fn sites(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Response {
    let records = match read(&state.store, |s| s.enrolments()).await {
        Ok(records) => records,
        Err(error) => return error.into_response(),
    };
    let enrolled: Vec<_> = (records.iter())
        .filter(|(_, r)| r.is_enrolled())
        .map(|(site, _)| site.clone())
        .collect();
    match crate::view::sites::site_overview(&state.store, &state.live, &enrolled).await {
        Ok(list) => render(&tables::Sites::new(
            Layout::of(&viewer, "Sites", "/sites"),
            &list,
            super::enrolment::section(&state, &viewer, &records),
        )),
        Err(error) => error.into_response(),
    }
}

pub async fn hunts(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Response {
    // The newest 200 the viewer may read, as `ListHunts`' largest page; older ones through
    // the CLI's pages.
    let viewer_reader = reader(&state, &viewer);
    match read(&state.store, move |s| {
        viewer_reader.hunts_page(s, None, 200)
    })
    .await
    {
        Ok(found) => {
            let now = socfed_proto::now_millis();
            let list: Vec<pb::Hunt> = found
                .hunts
                .iter()
                .map(|(h, sweeps)| {
                    crate::view::response_convert::hunt(
                        h,
                        sweeps,
                        |site| state.live.get(site).is_some(),
                        now,
                    )
                })
                .collect();
            let may = |api| {
                crate::access::check(&viewer.name, state.roles.get(&viewer.name), api).is_ok()
            };
            let forms = tables::HuntForms {
                csrf: viewer.action_csrf(),
                start: may(crate::access::Api::StartHunt),
                attach: may(crate::access::Api::AttachHunt),
                // A failed read was logged; the form then offers "all" alone.
                sites: (state.enrolled.sites().unwrap_or_default().iter())
                    .map(ToString::to_string)
                    .collect(),
            };
            let keep = may(crate::access::Api::KeepHuntLibrary);
            let library = match super::hunt_library::section(&state, keep).await {
                Ok(library) => library,
                Err(e) => {
                    return super::forms::refused_at(&viewer, &super::forms::Back::hunts(), &e);
                }
            };
            render(&tables::Hunts::new(
                Layout::of(&viewer, "Hunts", "/hunts"),
                &list,
                forms,
                library,
            ))
        }
        Err(response) => response,
    }
}

/// What the event stream waits for next.
enum Wake {
    // Boxed: an incident record is large, and most wakes are timer ticks.
    Change(
        Box<Result<crate::ingest::apply::IncidentChange, tokio::sync::broadcast::error::RecvError>>,
    ),
    Recheck,
}

struct Stream {
    rx: tokio::sync::broadcast::Receiver<crate::ingest::apply::IncidentChange>,
    state: WebState,
    viewer: Viewer,
    ended: bool,
}

/// One event per incident created or changed; the page fetches its rows again. The stream
/// re-checks the session on a timer and at its expiry, and ends (after a `signed-out` event)
/// as soon as the session is no longer good.
pub async fn events(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let start = Stream {
        rx: state.ingest.subscribe(),
        state,
        viewer,
        ended: false,
    };
    let stream = futures_util::stream::unfold(start, |mut s| async move {
        if s.ended {
            return None;
        }
        loop {
            let until_expiry = Duration::from_millis(
                u64::try_from(s.viewer.expires_ms - socfed_proto::now_millis()).unwrap_or(0),
            );
            let wake = tokio::select! {
                change = s.rx.recv() => Wake::Change(Box::new(change)),
                () = tokio::time::sleep(until_expiry.min(SESSION_RECHECK)) => Wake::Recheck,
            };
            // Every event, and every tick, is sent only to a session that is still good.
            match current(&s.state, &s.viewer.secret).await {
                Ok(viewer) => s.viewer = viewer,
                Err(_) => {
                    s.ended = true;
                    let end = Event::default().event("signed-out").data("session ended");
                    return Some((Ok(end), s));
                }
            }
            let Wake::Change(change) = wake else {
                continue;
            };
            let event = match *change {
                // Not even the id of an incident this viewer may not read.
                Ok(change)
                    if !Reader::named(&s.viewer.name, &s.state.roles).can_read(&change.record) =>
                {
                    continue;
                }
                Ok(change) => Event::default().data(change.record.id.to_string()),
                // A slow page missed some: one refresh covers them all.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    Event::default().data("lagged")
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            return Some((Ok(event), s));
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
