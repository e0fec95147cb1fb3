//! `GET /metrics`: Prometheus text format for the bots a token may read.
//!
//! Needs a bearer token with `admin_read` (or `admin_write`); a token
//! limited to some bots sees only theirs. Counts and rates only
//! (core/src/store/metrics.rs): no ids of people, no secrets.

use super::{bearer_token, ApiError, AppState};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use comops_core::store::now_millis;
use comops_core::token::TokenAction;

pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let store = &state.backend.store;
    let token = bearer_token(&headers, store).await?;
    let may_read = token.scope.actions.iter().any(|a| matches!(a, TokenAction::AdminRead | TokenAction::AdminWrite));
    if !may_read {
        return Err(ApiError::Forbidden("This token may not read metrics (it needs admin_read)".into()));
    }
    let now = now_millis();
    if let Err(denial) = token.live(now) {
        return Err(ApiError::Unauthorized(denial.message()));
    }
    let mut families = store.metric_families(|bot| token.check_admin(bot, TokenAction::AdminRead, now).is_ok()).await?;
    // The process's own figures show every bot's traffic together: only
    // for a token not limited to some bots.
    if token.scope.bots.is_empty() {
        families.extend(store.write_lane_families());
    }
    let body = comops_core::metrics::render(&families);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}
