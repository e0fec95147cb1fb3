//! The trace log, read-only (`View`): filtered pages newest first, and one
//! trace's events oldest first for its timeline.

use crate::error::AppError;
use comops_core::TraceEvent;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Events per page of the trace table.
pub const PAGE_SIZE: i64 = 50;

/// The trace page's filter bar. `period` is `hour`, `day`, `week` or empty
/// (any time), resolved against the server's clock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceQuery {
    pub trace_id: String,
    pub bot_id: String,
    pub endpoint: String,
    pub user: String,
    pub status: String,
    pub period: String,
    pub before_id: String,
}

#[server(prefix = "/api", endpoint = "traces/list")]
pub async fn list_traces(query: TraceQuery) -> Result<Vec<TraceEvent>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let filter = to_filter(&query, comops_core::store::now_millis());
    Ok(backend()?.store.list_traces(&filter).await?)
}

/// One trace's events, oldest first.
#[server(prefix = "/api", endpoint = "traces/timeline")]
pub async fn trace_timeline(trace_id: String) -> Result<Vec<TraceEvent>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let filter = comops_core::trace::TraceFilter { trace_id: trace_id.trim().to_string(), limit: Some(1000), ..Default::default() };
    let mut events = backend()?.store.list_traces(&filter).await?;
    events.reverse();
    Ok(events)
}

#[cfg(feature = "ssr")]
fn to_filter(query: &TraceQuery, now: comops_core::Millis) -> comops_core::trace::TraceFilter {
    let since = super::period_start(&query.period, now);
    let text = |s: &str| s.trim().to_string();
    comops_core::trace::TraceFilter {
        trace_id: text(&query.trace_id),
        bot_id: text(&query.bot_id),
        endpoint: text(&query.endpoint).trim_start_matches('/').to_string(),
        user: text(&query.user),
        status: text(&query.status),
        since,
        until: None,
        limit: Some(PAGE_SIZE),
        before_id: Some(text(&query.before_id)).filter(|s| !s.is_empty()),
    }
}


#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_query_becomes_a_store_filter() {
        let query = TraceQuery { endpoint: " /order/thank-you ".into(), period: "hour".into(), ..Default::default() };
        let filter = to_filter(&query, 10_000_000);
        assert_eq!(filter.endpoint, "order/thank-you");
        assert_eq!(filter.since, Some(10_000_000 - 3_600_000));
        assert_eq!(filter.before_id, None);
        assert_eq!(filter.limit, Some(PAGE_SIZE));
    }
}
