//! The workbench's forms beyond the lifecycle, on the incident page: merge it into another
//! incident, split a site's sighting off it, send directives and tasks to its sites, flag a
//! regulatory regime and record a filing (whose deadlines the page's clocks show). Each
//! handler is an adapter: the checks every form passes are `forms.rs`; it reads the fields as
//! the `sirt-hub incidents merge|split|directive|task` commands take them and runs the same
//! application-layer command as the gRPC API (`service::Commands::merge`, `split`,
//! `regulatory`, `issue_directive`, `assign_task`: the access matrix, the read rule, the order's policy, the
//! audit entry). [`Respond`] says which of these forms the page offers, asked of the same
//! access matrix.

use super::WebState;
use super::forms::{self, IncidentForm, Posted};
use crate::access::{Api, check};
use crate::error::HubError;
use crate::ingest::apply::RegulatoryEdit;
use crate::lifecycle::HubRole;
use crate::regulatory::{DeadlineKind, Regime};
use crate::response::order::{DirectiveOrder, TaskOrder};
use crate::service::Commands;
use crate::service::response::Orderer;
use axum::extract::State;
use axum::response::Response;
use socfed_proto::vocab::SiteId;
use std::collections::BTreeMap;

/// Directive kinds the sites' playbooks know by default (others may be typed).
pub const KINDS: [&str; 4] = [
    "block_indicator",
    "isolate_host",
    "disable_account",
    "collect_evidence",
];

/// The response forms the incident page offers its viewer, and what they choose among.
pub struct Respond {
    pub csrf: String,
    pub merge: bool,
    pub split: bool,
    pub direct: bool,
    pub task: bool,
    /// Start a hunt for the incident's indicators (`POST /hunts`, `hunts.rs`).
    pub hunt: bool,
    /// Flag a regulatory regime, record a filing.
    pub regulatory: bool,
    pub regimes: Vec<&'static str>,
    pub filings: Vec<&'static str>,
    /// Every enrolled site, for the directive and task forms.
    pub sites: Vec<String>,
    /// The sites with a sighting on this incident, for the split form.
    pub sighted: Vec<String>,
    pub kinds: [&'static str; 4],
}

impl Respond {
    /// What `role` may do here, by the access matrix; none when it may do nothing.
    pub fn offered(
        name: &str,
        role: HubRole,
        csrf: String,
        sites: &[SiteId],
        sighted: Vec<String>,
    ) -> Option<Self> {
        let may = |api| check(name, Some(role), api).is_ok();
        let respond = Self {
            csrf,
            merge: may(Api::Merge),
            split: may(Api::Split) && sighted.len() > 1,
            direct: may(Api::IssueDirective),
            task: may(Api::AssignTask),
            hunt: may(Api::StartHunt),
            regulatory: may(Api::Regulatory),
            regimes: Regime::ALL.iter().map(|r| r.as_str()).collect(),
            filings: DeadlineKind::ALL.iter().map(|k| k.as_str()).collect(),
            sites: sites.iter().map(ToString::to_string).collect(),
            sighted,
            kinds: KINDS,
        };
        (respond.merge
            || respond.split
            || respond.direct
            || respond.task
            || respond.hunt
            || respond.regulatory)
            .then_some(respond)
    }
}

/// `POST /incidents/{id}/merge` with `into` (the incident that stays) and `reason`.
pub async fn merge(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let into = posted.one("into");
    let Ok(survivor) = ulid::Ulid::from_string(into) else {
        let error = HubError::invalid(format!(
            "{into:?} is not an incident id (26-character ULID); copy it from the incident's page"
        ));
        return forms::refused_page(&viewer, &id, &error);
    };
    let result = Commands::on(&state.ingest)
        .merge(
            &state.store,
            &state.roles,
            &posted.acting,
            survivor,
            incident,
            posted.one("reason").to_string(),
        )
        .await;
    // Done, the page to see is the incident that stays.
    let back = if result.is_ok() { into } else { &id };
    forms::finish(&state, &viewer, back, result)
}

/// `POST /incidents/{id}/split` with `site` and `reason`.
pub async fn split(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let site = match SiteId::parse(posted.one("site")) {
        Ok(site) => site,
        Err(e) => return forms::refused_page(&viewer, &id, &HubError::invalid(e.to_string())),
    };
    let result = Commands::on(&state.ingest)
        .split(
            &state.store,
            &state.roles,
            &posted.acting,
            incident,
            site,
            posted.one("reason").to_string(),
        )
        .await;
    forms::finish(&state, &viewer, &id, result)
}

/// `POST /incidents/{id}/regulatory` with `flag` (a regime) or `filed` (a filing made now).
pub async fn regulatory(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let invalid = |e: crate::regulatory::RegulatoryError| HubError::invalid(e.to_string());
    let change = match (posted.one("flag"), posted.one("filed")) {
        (flag, "") if !flag.is_empty() => flag.parse().map(RegulatoryEdit::Flag).map_err(invalid),
        ("", filed) if !filed.is_empty() => {
            filed.parse().map(RegulatoryEdit::Filed).map_err(invalid)
        }
        _ => Err(HubError::invalid("say what to flag or what was filed")),
    };
    let result = match change {
        Ok(change) => {
            Commands::on(&state.ingest)
                .regulatory(
                    &state.store,
                    &state.roles,
                    &posted.acting,
                    incident,
                    change,
                    0,
                )
                .await
        }
        Err(error) => Err(error),
    };
    forms::finish(&state, &viewer, &id, result)
}

/// `NAME=VALUE` lines, as the CLI's `--param` takes them (blank lines skipped).
fn params(text: &str) -> Result<BTreeMap<String, String>, HubError> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            line.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| HubError::invalid(format!("{line:?} is not NAME=VALUE")))
        })
        .collect()
}

/// `POST /incidents/{id}/directive` with `site` (repeated, or `all`), `kind`, `params`
/// (`NAME=VALUE` lines) and `expires_h`.
pub async fn directive(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let order = params(posted.one("params")).and_then(|params| {
        Ok(DirectiveOrder {
            incident,
            sites: posted.all("site"),
            kind: posted.one("kind").to_string(),
            params,
            expires_in_s: posted.hours("expires_h")?,
        })
    });
    let result = match order {
        Ok(order) => {
            let by = orderer(&state, &posted);
            async {
                let enrolled = state.enrolled.sites()?;
                Commands::on(&state.ingest)
                    .issue_directive(&by, order, &enrolled)
                    .await
            }
            .await
        }
        Err(error) => Err(error),
    };
    forms::finish(&state, &viewer, &id, result)
}

/// `POST /incidents/{id}/task` with `site` (repeated, or `all`), `title`, `details`, `due_h`.
pub async fn task(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let result = match posted.hours("due_h") {
        Ok(due_in_s) => {
            let order = TaskOrder {
                incident,
                sites: posted.all("site"),
                title: posted.one("title").to_string(),
                details: posted.one("details").to_string(),
                due_in_s,
            };
            let by = orderer(&state, &posted);
            async {
                let enrolled = state.enrolled.sites()?;
                Commands::on(&state.ingest)
                    .assign_task(&by, order, &enrolled)
                    .await
            }
            .await
        }
        Err(error) => Err(error),
    };
    forms::finish(&state, &viewer, &id, result)
}

pub fn orderer<'a>(state: &'a WebState, posted: &'a Posted) -> Orderer<'a> {
    Orderer {
        store: &state.store,
        roles: &state.roles,
        acting: &posted.acting,
    }
}
