//! Per-bot API docs: `GET /docs/{botId}` and `GET /docs/{botId}/openapi.json`.
//! (Being written; see docs/architecture.md.)

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
