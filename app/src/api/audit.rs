//! The audit log, read-only and for admins (`Administer`): filtered pages
//! newest first, each entry with its subject's current name.

use crate::error::AppError;
use comops_core::audit::AuditPage;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The audit page's filter bar. `period` is `hour`, `day`, `week` or
/// empty (any time); `before` is the cursor of the page to read after
/// (empty: the newest).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: String,
    pub area: String,
    pub subject: String,
    pub period: String,
    pub before: String,
}

#[server(prefix = "/api", endpoint = "audit/page")]
pub async fn read_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::Administer)?;
    let filter = to_filter(&query, comops_core::store::now_millis());
    Ok(backend()?.store.audit_page(&filter, comops_core::audit::PAGE_SIZE).await?)
}

/// The newest entries that match (at most [`comops_core::audit::EXPORT_MOST`])
/// as CSV, the page's cursor ignored.
#[server(prefix = "/api", endpoint = "audit/csv")]
pub async fn export_audit(query: AuditQuery) -> Result<String, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::Administer)?;
    let filter = to_filter(&query, comops_core::store::now_millis());
    let entries = backend()?.store.audit_export(&filter, comops_core::audit::EXPORT_MOST).await?;
    Ok(comops_core::audit::to_csv(&entries))
}

#[cfg(feature = "ssr")]
fn to_filter(query: &AuditQuery, now: comops_core::Millis) -> comops_core::audit::AuditFilter {
    comops_core::audit::AuditFilter {
        actor: query.actor.trim().to_string(),
        area: query.area.trim().to_string(),
        subject: query.subject.trim().to_string(),
        since: super::period_start(&query.period, now),
        before: comops_core::audit::AuditCursor::parse(&query.before),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_query_becomes_a_store_filter() {
        let query = AuditQuery { actor: " ann@ ".into(), period: "day".into(), before: "1700-aud_x".into(), ..Default::default() };
        let filter = to_filter(&query, 100_000_000);
        assert_eq!(filter.actor, "ann@");
        assert_eq!(filter.since, Some(100_000_000 - 86_400_000));
        assert_eq!(filter.before, Some(comops_core::audit::AuditCursor { at: 1700, id: "aud_x".into() }));
        assert_eq!(to_filter(&AuditQuery { before: "later".into(), ..Default::default() }, 0).before, None);
    }
}
