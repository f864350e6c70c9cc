//! `GET /search`: the console's alert search — a plain GET form with the filters of
//! `site-agent alerts search` (one value each), its results newest first, and the next page
//! as another GET form carrying the filters and the cursor. Reads through
//! `SocService::search_alerts` with the signed-in operator's role.

use super::WebState;
use super::auth::{Viewer, blocking};
use super::pages::{Layout, QueueRow, render};
use super::views::{failed, site};
use crate::service::search::AlertSearch;
use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use socfed_proto::search::RawQuery;

/// The form's fields, as the browser sends them (empty ones are no filter).
#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    technique: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    cursor: String,
}

impl SearchForm {
    fn raw(&self) -> RawQuery {
        RawQuery::of_fields(
            &self.indicator,
            &self.host,
            &self.user,
            &self.technique,
            &self.text,
        )
    }

    fn is_empty(&self) -> bool {
        self.raw() == RawQuery::default()
    }
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage<'a> {
    pub layout: Layout<'a>,
    pub indicator: String,
    pub host: String,
    pub user: String,
    pub technique: String,
    pub text: String,
    /// Whether a search ran (a first visit shows the form alone).
    pub searched: bool,
    pub rows: Vec<QueueRow>,
    /// The next page's cursor, empty on the last.
    pub next: String,
}

pub async fn search(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    form: Result<Query<SearchForm>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // Every field is optional text: a query that does not parse is treated as none.
    let form = form.map(|Query(f)| f).unwrap_or_default();
    let (rows, next) = if form.is_empty() {
        (Vec::new(), None)
    } else {
        let actor = viewer.actor.clone();
        let (raw, cursor) = (form.raw(), form.cursor.trim().to_string());
        let read = blocking(&state, move |s| {
            let search = AlertSearch::parse(&raw, &cursor, None)?;
            s.search_alerts(&actor, &search)
        })
        .await;
        match read {
            Ok(page) => {
                let (policy, now) = (&state.soc.settings.sla, state.soc.now());
                let rows = page
                    .groups
                    .iter()
                    .map(|g| QueueRow::of(g, policy, now))
                    .collect();
                (rows, page.next_cursor)
            }
            Err(e) => return failed(&state, &viewer, "console: search", "/search", e).await,
        }
    };
    let site = site(&state);
    render(&SearchPage {
        layout: Layout::of(&viewer, &site, "Search alerts", "/search"),
        searched: !form.is_empty(),
        indicator: form.indicator,
        host: form.host,
        user: form.user,
        technique: form.technique,
        text: form.text,
        rows,
        next: next.unwrap_or_default(),
    })
}
