//! The KPIs page: the median time from an incident's creation to triage, to containment and
//! to resolution, over all sites and per site, computed by `report::kpis` (what
//! `sirt-hub kpis` prints) from the incidents the viewer may read, as the store holds them.

use super::WebState;
use super::auth::Viewer;
use super::pages::{Layout, render};
use crate::report::Kpi;
use crate::store::query::IncidentFilter;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

/// The newest incidents the page computes over (the CLI's `--limit` reaches further).
pub const KPI_INCIDENTS: usize = 5_000;

#[derive(Template)]
#[template(path = "kpis.html")]
pub struct Kpis<'a> {
    pub layout: Layout<'a>,
    pub counted: usize,
    pub limit: usize,
    pub rows: Vec<Vec<String>>,
}

fn age(ms: Option<i64>) -> String {
    ms.map_or("-".to_string(), |m| {
        socfed_runtime::cli::format_age(u64::try_from(m.max(0)).unwrap_or(0))
    })
}

fn row(scope: &str, k: &Kpi) -> Vec<String> {
    vec![
        scope.to_string(),
        k.incidents.to_string(),
        age(k.to_triage_ms),
        age(k.to_contain_ms),
        age(k.to_resolve_ms),
    ]
}

/// `GET /kpis`.
pub async fn kpis(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Response {
    let incidents = match super::views::readable_incidents(
        &state,
        &viewer,
        IncidentFilter::default(),
        KPI_INCIDENTS,
        |_| true,
    )
    .await
    {
        Ok(incidents) => incidents,
        Err(response) => return response,
    };
    let (overall, per_site) = crate::report::kpis(&incidents);
    let rows = std::iter::once(row("all sites", &overall))
        .chain(per_site.iter().map(|(site, k)| row(site, k)))
        .collect();
    render(&Kpis {
        layout: Layout::of(&viewer, "KPIs", "/kpis"),
        counted: incidents.len(),
        limit: KPI_INCIDENTS,
        rows,
    })
}
