//! Alert search at the site: a checked query (`socfed_proto::search`), a page size within
//! its cap and a cursor, answered from the store's search index (`store/search.rs`) for any
//! role that may view alerts. The CLI (over gRPC), the HTTP API and the console call this.

use super::{Actor, SocService};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::group::AlertGroup;
use socfed_proto::search::{self, Query, RawQuery};
use ulid::Ulid;

/// One page's request, checked.
#[derive(Debug, Clone)]
pub struct AlertSearch {
    pub query: Query,
    /// Results below this group (the previous page's last).
    pub before: Option<Ulid>,
    pub limit: usize,
}

/// One page of results, newest first.
#[derive(Debug, Clone)]
pub struct AlertPage {
    pub groups: Vec<AlertGroup>,
    /// The cursor of the next page (`None` on the last).
    pub next_cursor: Option<String>,
}

impl AlertSearch {
    /// Checks what a caller sent: filters, the cursor it was given (empty: first page) and a
    /// limit (`None` or 0: the default).
    pub fn parse(raw: &RawQuery, cursor: &str, limit: Option<u64>) -> Result<Self, AgentError> {
        let invalid = |e: search::QueryError| AgentError::invalid(e.to_string());
        let query = Query::parse(raw).map_err(invalid)?;
        let before = match cursor {
            "" => None,
            text => Some(Ulid::from_bytes(
                search::parse_cursor(text).map_err(invalid)?,
            )),
        };
        let limit = search::page_limit(limit.filter(|n| *n != 0)).map_err(invalid)?;
        Ok(Self {
            query,
            before,
            limit,
        })
    }
}

impl SocService {
    /// The groups matching `search`, newest first.
    pub fn search_alerts(
        &self,
        actor: &Actor,
        search: &AlertSearch,
    ) -> Result<AlertPage, AgentError> {
        authz::check(actor.role, Operation::ViewAlerts, None)?;
        let (groups, next) =
            self.store
                .search_groups(&search.query, search.before, search.limit)?;
        Ok(AlertPage {
            groups,
            next_cursor: next.map(|id| search::cursor_text(id.to_bytes())),
        })
    }
}
