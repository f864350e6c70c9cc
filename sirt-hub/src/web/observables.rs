//! The incident page's observables section (`templates/observables.html`, included by
//! `incident.html`): each observable with its flags, per-site reports and the other incidents
//! holding it as links, and, for a viewer whose role may judge observables
//! (`Api::EditObservables`), plain forms to add one and to flag, unflag or remove each (no
//! script needed; the session's action token in each). The handler is an adapter: the checks
//! every form passes are `forms.rs`; it runs the same command as the gRPC `Observables`
//! service (`service::observables`).

use super::WebState;
use super::forms::{self, IncidentForm};
use crate::access::{Api, check};
use crate::lifecycle::HubRole;
use crate::service::Commands;
use crate::service::observables::{self as commands, EditWords};
use crate::view::observables::flags;
use crate::view::words;
use axum::extract::State;
use axum::response::Response;
use socfed_proto::pb;
use socfed_runtime::cli::format_millis;

/// Another incident holding an observable: its page and what the link says.
pub struct AlsoIn {
    pub id: String,
    pub label: String,
}

/// One observable as the section shows it: text cells, escaped by the template.
pub struct Row {
    pub indicator: String,
    pub flags: String,
    pub tlp: String,
    pub sites: String,
    pub added: String,
    pub also_in: Vec<AlsoIn>,
}

/// The section: the incident's observables and, when the viewer may judge them, the token
/// its forms carry.
#[derive(Default)]
pub struct Section {
    pub rows: Vec<Row>,
    pub csrf: Option<String>,
    pub tlps: Vec<&'static str>,
}

impl Section {
    /// The observables `list` holds, with forms when `role` may edit them.
    pub fn new(name: &str, role: Option<HubRole>, csrf: String, list: &pb::ObservableList) -> Self {
        let rows = list
            .observables
            .iter()
            .map(|o| Row {
                indicator: o
                    .indicator
                    .as_ref()
                    .map(words::indicator)
                    .unwrap_or_default(),
                flags: flags(o),
                tlp: if o.tlp == 0 {
                    "incident's".into()
                } else {
                    words::tlp(o.tlp).into()
                },
                sites: o
                    .sites
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {} ({} – {})",
                            s.site,
                            s.count,
                            format_millis(s.first_seen_ms),
                            format_millis(s.last_seen_ms)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                added: format!(
                    "{} {}",
                    if o.added_by_site.is_empty() {
                        format!("analyst {}", o.added_by_analyst)
                    } else {
                        format!("site {}", o.added_by_site)
                    },
                    format_millis(o.added_at_ms)
                ),
                also_in: o
                    .also_in
                    .iter()
                    .map(|e| AlsoIn {
                        id: e.incident_id.clone(),
                        label: format!("{} ({})", e.incident_id, e.sites.join(", ")),
                    })
                    .collect(),
            })
            .collect();
        let may = check(name, role, Api::EditObservables).is_ok();
        Self {
            rows,
            csrf: may.then_some(csrf),
            tlps: socfed_proto::vocab::Tlp::ALL
                .iter()
                .map(|t| t.as_str())
                .collect(),
        }
    }
}

/// `POST /incidents/{id}/observables` with `indicator`, `action` (add, flag, unflag, remove),
/// and the flags: `ioc`, `sighted` (checkboxes), `tag`, `tlp`.
pub async fn change(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let result = async {
        let indicator = commands::indicator(posted.one("indicator"))?;
        let edit = commands::edit_of(&EditWords {
            action: posted.one("action").to_string(),
            ioc: !posted.one("ioc").is_empty(),
            sighted: !posted.one("sighted").is_empty(),
            tags: posted.all("tag"),
            tlp: Some(posted.one("tlp").to_string()),
        })?;
        Commands::on(&state.ingest)
            .change_observable(
                (&state.store, &state.roles),
                &posted.acting,
                incident,
                indicator,
                edit,
            )
            .await
    }
    .await;
    forms::finish(&state, &viewer, &id, result)
}
