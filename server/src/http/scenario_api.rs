//! Scenarios over the token API, for CI and integrators:
//!
//! - `GET /bots/{botId}/scenarios` (`admin_read`): current versions
//! - `GET /bots/{botId}/scenarios/{name}` (`admin_read`): one, with its version
//! - `PUT /bots/{botId}/scenarios/{name}` (`admin_write`): validate and save
//!   a new version; errors point at the step (`422`, field `steps.<id>.<field>`)

use super::admin_api::{authorize, parse_json};
use super::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use comops_core::schema::PayloadError;
use comops_core::scenario::Scenario;
use comops_core::store::scenarios::{ScenarioSummary, ScenarioVersion};
use comops_core::token::TokenAction;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bots/{bot_id}/scenarios", get(list))
        .route("/bots/{bot_id}/scenarios/{name}", get(show).put(save))
}

async fn list(State(state): State<AppState>, Path(bot_id): Path<String>, headers: HeaderMap) -> Result<Json<Vec<ScenarioSummary>>, ApiError> {
    let (_, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminRead]).await?;
    Ok(Json(state.backend.store.list_scenarios(&bot).await?))
}

async fn show(
    State(state): State<AppState>,
    Path((bot_id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<ScenarioVersion>, ApiError> {
    let (_, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminRead]).await?;
    state.backend.store.scenario(&bot, &name).await?.map(Json).ok_or(ApiError::NotFound("Scenario not found"))
}

#[derive(Debug, Default, Deserialize)]
struct SaveQuery {
    note: Option<String>,
}

async fn save(
    State(state): State<AppState>,
    Path((bot_id, name)): Path<(String, String)>,
    Query(query): Query<SaveQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (token, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminWrite]).await?;
    let mut value = parse_json(&body)?;
    if let Some(object) = value.as_object_mut() {
        object.entry("name").or_insert_with(|| Value::String(name.clone()));
    }
    let scenario: Scenario = serde_json::from_value(value).map_err(|e| ApiError::Unprocessable {
        message: format!("Not a scenario: {e}"),
        errors: vec![],
    })?;
    if scenario.name != name {
        return Err(ApiError::Unprocessable { message: "The body's name differs from the URL's".into(), errors: vec![] });
    }
    scenario.validate().map_err(|errors| ApiError::Unprocessable {
        message: "The scenario is invalid; nothing was saved".into(),
        errors: errors
            .into_iter()
            .map(|e| PayloadError {
                field: match &e.step {
                    Some(step) => format!("steps.{step}.{}", e.field),
                    None => e.field.clone(),
                },
                message: e.message,
            })
            .collect(),
    })?;
    let note = query.note.unwrap_or_default();
    let version = state.backend.store.save_scenario(&bot, &scenario, &note, &format!("token:{}", token.name)).await?;
    Ok(Json(json!({ "success": true, "message": "Scenario saved", "name": name, "version": version })))
}
