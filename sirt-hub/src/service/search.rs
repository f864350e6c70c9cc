//! The incident search's request, checked once for every surface (gRPC, HTTP API, CLI):
//! filters through `socfed_proto::search` plus the hub's own rule (no hosts or users,
//! `incident/search.rs`), the page size within its cap, the cursor as given out.

use crate::error::HubError;
use socfed_proto::pb;
use socfed_proto::search::{self, Query, RawQuery};
use ulid::Ulid;

/// One page's request, checked.
#[derive(Debug, Clone)]
pub struct HubSearch {
    pub query: Query,
    pub before: Option<Ulid>,
    pub limit: usize,
}

impl HubSearch {
    /// Checks what a caller sent (`cursor` empty: the first page; `limit` 0: the default).
    pub fn parse(
        filters: Option<pb::SearchFilters>,
        cursor: &str,
        limit: u32,
    ) -> Result<Self, HubError> {
        let raw: RawQuery = filters.map(Into::into).unwrap_or_default();
        Self::of_raw(&raw, cursor, limit)
    }

    pub fn of_raw(raw: &RawQuery, cursor: &str, limit: u32) -> Result<Self, HubError> {
        let invalid = |e: search::QueryError| HubError::invalid(e.to_string());
        let query = Query::parse(raw).map_err(invalid)?;
        crate::incident::search::check_hub_query(&query).map_err(HubError::invalid)?;
        let before = match cursor {
            "" => None,
            text => Some(Ulid::from_bytes(
                search::parse_cursor(text).map_err(invalid)?,
            )),
        };
        let limit =
            search::page_limit((limit != 0).then_some(u64::from(limit))).map_err(invalid)?;
        Ok(Self {
            query,
            before,
            limit,
        })
    }
}
