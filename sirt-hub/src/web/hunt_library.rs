//! The workbench's hunt library, a section of the hunts page (`hunt_library.html`): every
//! library hunt with its schedule, runs and hits per site, and for its keepers the forms to
//! add one, enable or disable it and run it now. Each handler is an adapter: the checks every
//! form passes are `forms.rs`; it reads the fields as `sirt-hub hunt library add` takes them
//! and runs the same command as the `HuntLibrary` service (`Commands::change_library`).

use super::WebState;
use super::auth::Viewer;
use super::forms::{self, Back, Body, Posted};
use crate::error::HubError;
use crate::hunt_library::stats::{self, LibraryStats};
use crate::hunt_library::{LibraryHunt, RawSpec};
use crate::ingest::apply::LibraryAction;
use crate::service::Commands;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use socfed_runtime::cli::format_millis;
use ulid::Ulid;

/// Runs read per library hunt for the page's hit counts (the CLI's `stats` reads 500).
const PAGE_STATS_RUNS: usize = 50;

/// The library section of the hunts page.
pub struct LibrarySection {
    /// The viewer keeps the library: the add, enable, disable and run forms show.
    pub keep: bool,
    pub rows: Vec<LibraryRow>,
}

/// One library hunt: its id, whether it runs, and its cells.
pub struct LibraryRow {
    pub id: String,
    pub enabled: bool,
    pub cells: Vec<String>,
}

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(|| "never".into(), format_millis)
}

fn row(hunt: &LibraryHunt, counted: &LibraryStats) -> LibraryRow {
    let per_site: Vec<String> = counted
        .sites
        .iter()
        .map(|s| format!("{}: {}", s.site, s.hits))
        .collect();
    LibraryRow {
        id: hunt.id.to_string(),
        enabled: hunt.enabled,
        cells: vec![
            format!("{} (v{})", hunt.name, hunt.version),
            hunt.rule_id(),
            hunt.severity.as_str().to_string(),
            hunt.indicators
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            format!("every {} min", hunt.interval_s / 60),
            if hunt.enabled {
                format!("enabled, next {}", format_millis(hunt.next_due_ms))
            } else {
                "disabled".into()
            },
            format!("{} (last {})", hunt.runs, when(hunt.last_run_ms)),
            if per_site.is_empty() {
                "-".into()
            } else {
                per_site.join("; ")
            },
            when(counted.last_hit_ms),
        ],
    }
}

/// The section for `viewer`: every library hunt with its latest runs' hits.
pub async fn section(state: &WebState, keep: bool) -> Result<LibrarySection, HubError> {
    let read = crate::view::read(&state.store, |s| {
        let mut out = Vec::new();
        for hunt in s.library()? {
            let runs = s.library_runs(hunt.id, PAGE_STATS_RUNS)?;
            let counted = stats::of(hunt.runs, hunt.last_run_ms, &runs);
            out.push((hunt, counted));
        }
        Ok(out)
    })
    .await?;
    // A TLP:RED entry only for its keepers (`Reader::may_read_library`'s rule).
    Ok(LibrarySection {
        keep,
        rows: read
            .iter()
            .filter(|(h, _)| keep || h.tlp < socfed_proto::vocab::Tlp::Red)
            .map(|(h, s)| row(h, s))
            .collect(),
    })
}

/// `POST /hunts/library` with `name`, `description`, `iocs` (`TYPE:VALUE` lines),
/// `techniques` (comma- or space-separated), `severity`, `tlp`, `every_min`, `lookback_h`.
pub async fn add(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let back = Back::hunts();
    let posted = match forms::accept(&state, &viewer, &back, &headers, &uri, body) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let result = match spec(&posted) {
        Ok(spec) => {
            let action = LibraryAction::Add {
                spec,
                enabled: true,
            };
            Commands::on(&state.ingest)
                .change_library(&posted.acting, action)
                .await
        }
        Err(e) => Err(e),
    };
    forms::finish_at(&state, &viewer, "/hunts", &back, result)
}

fn spec(posted: &Posted) -> Result<crate::hunt_library::LibrarySpec, HubError> {
    let minutes = |name: &str| -> Result<u64, HubError> {
        posted
            .one(name)
            .parse::<u64>()
            .ok()
            .and_then(|m| m.checked_mul(60))
            .ok_or_else(|| HubError::invalid(format!("{name}: a whole number of minutes")))
    };
    RawSpec {
        name: posted.one("name").to_string(),
        description: posted.one("description").to_string(),
        indicators: posted.one("iocs").lines().map(str::to_string).collect(),
        techniques: posted
            .one("techniques")
            .split([',', ' '])
            .map(str::to_string)
            .collect(),
        severity: posted.one("severity").to_string(),
        tlp: posted.one("tlp").to_string(),
        interval_s: minutes("every_min")?,
        lookback_s: match posted.hours("lookback_h")? {
            0 => crate::response::order::DEFAULT_LOOKBACK_S,
            n => n,
        },
    }
    .parse()
    .map_err(|e| HubError::invalid(e.0))
}

/// `POST /hunts/library/import` with `data` (a STIX 2.1 bundle or a MISP event, pasted),
/// `format` (`stix`, `misp`), `name` (blank: the source's), `severity`, `every_min`,
/// `lookback_h`.
pub async fn import(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let back = Back::hunts();
    let posted = match forms::accept(&state, &viewer, &back, &headers, &uri, body) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let choices = || -> Result<crate::hunt_library::import::Choices, HubError> {
        Ok(crate::hunt_library::import::Choices {
            name: posted.one("name").to_string(),
            severity: posted.one("severity").parse().map_err(
                |e: socfed_proto::vocab::InvalidField| {
                    HubError::invalid(format!("severity: {}", e.problem))
                },
            )?,
            interval_s: posted
                .one("every_min")
                .parse::<u64>()
                .ok()
                .and_then(|m| m.checked_mul(60))
                .ok_or_else(|| HubError::invalid("every_min: a whole number of minutes"))?,
            lookback_s: match posted.hours("lookback_h")? {
                0 => crate::response::order::DEFAULT_LOOKBACK_S,
                n => n,
            },
        })
    };
    let result = match choices() {
        Ok(choices) => Commands::on(&state.ingest)
            .import_library(
                &posted.acting,
                posted.one("data").as_bytes(),
                posted.one("format"),
                choices,
                true,
            )
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    forms::finish_at(&state, &viewer, "/hunts", &back, result)
}

/// `POST /hunts/library/{id}/{enable|disable|run}`.
pub async fn act(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path((id, what)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let back = Back::hunts();
    let posted = match forms::accept(&state, &viewer, &back, &headers, &uri, body) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let Ok(id) = Ulid::from_string(&id) else {
        return forms::refused_at(
            &viewer,
            &back,
            &HubError::not_found("No such library hunt."),
        );
    };
    let enrolled = match state.enrolled.sites() {
        Ok(enrolled) => enrolled,
        Err(error) => return forms::refused_at(&viewer, &back, &error),
    };
    let action = match what.as_str() {
        "enable" => LibraryAction::Switch { id, enabled: true },
        "disable" => LibraryAction::Switch { id, enabled: false },
        "run" => LibraryAction::Run {
            id,
            scheduled: false,
            enrolled,
        },
        _ => return forms::refused_at(&viewer, &back, &HubError::not_found("No such action.")),
    };
    let result = Commands::on(&state.ingest)
        .change_library(&posted.acting, action)
        .await;
    forms::finish_at(&state, &viewer, "/hunts", &back, result)
}
