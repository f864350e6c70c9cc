//! The dashboard's runbooks: `GET /runbooks` lists every runbook (latest version, its
//! criteria and its Markdown as escaped blocks, `socfed_runtime::web::runbook`), and an
//! incident's page shows the runbooks that apply to it (`runbooks_matched.html`, included
//! with one line in `incident.html`). A hub incident is matched by its techniques and
//! severity (it holds no rule ids of its own; the sites match theirs by rule).

use super::WebState;
use super::auth::Viewer;
use super::pages::{Layout, render};
use crate::view::read;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use socfed_proto::vocab::runbook::{Progress, Subject, SubjectKind, matching};
use socfed_runtime::web::runbook::RunbookView;

/// A runbook on the list page: the view, what it applies to, who wrote the version.
pub struct Listed {
    pub view: RunbookView,
    pub criteria: String,
    pub author: String,
}

#[derive(Template)]
#[template(path = "runbooks.html")]
pub struct RunbooksPage<'a> {
    pub layout: Layout<'a>,
    pub listed: Vec<Listed>,
    /// Their texts (`runbooks_matched.html`).
    pub runbooks: Vec<RunbookView>,
}

/// `GET /runbooks`.
pub async fn list(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Response {
    match read(&state.store, |s| s.runbooks()).await {
        Ok(all) => {
            let listed: Vec<Listed> = all
                .iter()
                .map(|r| Listed {
                    view: RunbookView::of(r, &Progress::default()),
                    criteria: socfed_runtime::cli::runbooks::criteria_line(&r.to_wire()),
                    author: r.author.clone(),
                })
                .collect();
            render(&RunbooksPage {
                layout: Layout::of(&viewer, "Runbooks", "/runbooks"),
                runbooks: listed.iter().map(|l| l.view.clone()).collect(),
                listed,
            })
        }
        Err(e) => e.into_response(),
    }
}

/// The runbooks that apply to hub incident `record`, most specific first (none when they
/// cannot be read: the page still shows the incident).
pub async fn matched(
    state: &WebState,
    record: &crate::incident::IncidentRecord,
) -> Vec<RunbookView> {
    let (techniques, severity) = (record.techniques().to_vec(), record.severity());
    let all = read(&state.store, |s| s.runbooks())
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "runbooks not read for an incident page"))
        .unwrap_or_default();
    let subject = Subject {
        kind: SubjectKind::HubIncident,
        rule_ids: &[],
        techniques: &techniques,
        severity,
    };
    matching(&all, &subject)
        .into_iter()
        .map(|r| RunbookView::of(r, &Progress::default()))
        .collect()
}
