//! The enrolled sites on the sites page (`sites.html`): who enrolled each and when, and for
//! the admin or the CISO a form to enrol a site and a button to remove one. Each handler is an
//! adapter: the checks every form passes are `forms.rs` (session, CSRF token, origin); it runs
//! the same commands as the `SiteEnrolment` service (`service::enrolment`).

use super::WebState;
use super::auth::Viewer;
use super::forms::{self, Back, Body};
use crate::access::Api;
use crate::service::Commands;
use crate::store::records::EnrolmentRecord;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use socfed_proto::vocab::SiteId;
use socfed_runtime::cli::format_millis;

/// The enrolled sites section of the sites page.
pub struct EnrolledSection {
    /// The viewer may enrol and remove sites: the form and the buttons show.
    pub keep: bool,
    pub csrf: String,
    pub rows: Vec<EnrolledRow>,
}

/// One enrolled site: its id (for the remove form) and its cells.
pub struct EnrolledRow {
    pub site: String,
    pub cells: Vec<String>,
}

/// The section for `viewer` from the store's records (enrolled sites only).
pub fn section(
    state: &WebState,
    viewer: &Viewer,
    records: &[(SiteId, EnrolmentRecord)],
) -> EnrolledSection {
    let keep =
        crate::access::check(&viewer.name, state.roles.get(&viewer.name), Api::EnrolSites).is_ok();
    let rows = records
        .iter()
        .filter(|(_, r)| r.is_enrolled())
        .map(|(site, r)| EnrolledRow {
            site: site.to_string(),
            cells: vec![
                site.to_string(),
                r.name.clone(),
                r.enrolled_by.clone(),
                format_millis(r.enrolled_at_ms),
                r.reason.clone(),
            ],
        })
        .collect();
    EnrolledSection {
        keep,
        csrf: viewer.action_csrf(),
        rows,
    }
}

fn back() -> Back {
    Back {
        href: "/sites".into(),
        label: "Back to the sites",
    }
}

/// `POST /sites/enrolled` with `site` and `name`.
pub async fn enrol(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    change(state, viewer, (headers, uri, body), None).await
}

/// `POST /sites/enrolled/{site}/remove`.
pub async fn remove(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(site): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    change(state, viewer, (headers, uri, body), Some(site)).await
}

/// The form checked, then the enrolment (`removing: None`) or the removal of that site.
async fn change(
    state: WebState,
    viewer: Viewer,
    (headers, uri, body): (HeaderMap, Uri, Body),
    removing: Option<String>,
) -> Response {
    let posted = match forms::accept(&state, &viewer, &back(), &headers, &uri, body) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let commands = Commands::on(&state.ingest);
    let result = match removing {
        None => {
            let (site, name) = (posted.one("site"), posted.one("name"));
            commands.enrol_site(&posted.acting, site, name).await
        }
        Some(site) => {
            commands
                .remove_site(&posted.acting, &site, &state.live)
                .await
        }
    };
    forms::finish_at(&state, &viewer, "/sites", &back(), result)
}
