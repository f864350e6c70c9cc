//! The workbench's incident search (`GET /search`): a plain GET form with the filters of
//! `sirt-hub incidents search` (one value each), the incidents the viewer may read newest
//! first, and the next page as a GET form carrying the filters and the cursor. The request is
//! checked by `service::search` and answered by `Reader::search_incidents`, as over gRPC.

use super::WebState;
use super::auth::Viewer;
use super::pages::{Layout, render};
use crate::service::search::HubSearch;
use crate::view::read;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use socfed_proto::search::RawQuery;

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    indicator: String,
    #[serde(default)]
    technique: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    cursor: String,
}

impl SearchForm {
    fn raw(&self) -> RawQuery {
        RawQuery::of_fields(&self.indicator, "", "", &self.technique, &self.text)
    }
}

/// One result row: the incident and what a reader scans for.
pub struct Found {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub sites: String,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage<'a> {
    pub layout: Layout<'a>,
    pub indicator: String,
    pub technique: String,
    pub text: String,
    pub searched: bool,
    /// Why the search was refused, if it was.
    pub error: String,
    pub rows: Vec<Found>,
    pub next: String,
}

/// `GET /search`.
pub async fn search(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    form: Result<Query<SearchForm>, QueryRejection>,
) -> Response {
    // Every field is optional text: a query that does not parse is treated as none.
    let form = form.map(|Query(f)| f).unwrap_or_default();
    let raw = form.raw();
    let searched = raw != RawQuery::default();
    let mut page = SearchPage {
        layout: Layout::of(&viewer, "Search incidents", "/search"),
        indicator: form.indicator.clone(),
        technique: form.technique.clone(),
        text: form.text.clone(),
        searched,
        error: String::new(),
        rows: Vec::new(),
        next: String::new(),
    };
    if !searched {
        return render(&page);
    }
    let reader = crate::access::reader::Reader::named(&viewer.name, &state.roles);
    let found = match HubSearch::of_raw(&raw, form.cursor.trim(), 0) {
        Ok(HubSearch {
            query,
            before,
            limit,
        }) => {
            read(&state.store, move |s| {
                reader.search_incidents(s, &query, before, limit)
            })
            .await
        }
        Err(e) => Err(e),
    };
    match found {
        Ok((records, next)) => {
            page.rows = records
                .iter()
                .map(|r| Found {
                    id: r.id.to_string(),
                    title: r.title.clone(),
                    severity: r.severity().as_str().to_string(),
                    status: r.status().as_str().to_string(),
                    sites: r
                        .sightings
                        .iter()
                        .map(|s| s.site.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect();
            page.next = next
                .map(|id| socfed_proto::search::cursor_text(id.to_bytes()))
                .unwrap_or_default();
            render(&page)
        }
        Err(e) => {
            page.error = e.to_string();
            let mut response = render(&page);
            *response.status_mut() = e.http_status();
            response
        }
    }
}
