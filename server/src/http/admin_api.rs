//! The token-authenticated admin API of a bot, for business systems and CI:
//! schedule runs, export and import endpoints.
//!
//! - `POST /bots/{botId}/jobs/schedule` (`call` or `admin_write`)
//! - `GET  /bots/{botId}/jobs` and `/jobs/{jobId}` (`admin_read`, or what
//!   may schedule): the jobs still to run, soonest first; one job
//! - `DELETE /bots/{botId}/jobs/{jobId}` (what may schedule): cancel a job
//!   still to run, a periodic one included
//! - `GET  /bots/{botId}/endpoints` (`admin_read`): the JSON export
//! - `POST /bots/{botId}/endpoints/import` (`admin_write`): upsert by alias
//! - `GET  /bots/{botId}/maps` (`admin_read`): the maps of the bot's
//!   project as JSON (`comops.maps/v1`)
//! - `POST /bots/{botId}/maps/import` (`admin_write`): put back by id (a
//!   changed map is its next version, a new id a new map)
//! - `POST /bots/{botId}/links` (`call`/`admin_write`): a one-time deep link
//! - `PUT  /bots/{botId}/settings/telegram|secrets` (`admin_write`): channel
//!   credentials and the secrets scenarios reference; never echoed back

use comops_core::call::answer;
use super::{bearer_token, ApiError, AppState};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use comops_core::endpoint::{EndpointDraft, EndpointExport};
use comops_core::job::JobRequest;
use comops_core::map::export::{ImportProblem, MapExport, MapsExport};
use comops_core::store::map_sync::MapSyncError;
use comops_core::schema::PayloadError;
use comops_core::store::{now_millis, StoreError};
use comops_core::token::{Denial, TokenAction};
use comops_core::trace::Detail;
use comops_core::{ApiToken, BotId, TraceEvent, TraceId};
use serde_json::{json, Value};

/// Largest import document (a project's maps of 1,000 rows each fit);
/// the other routes take up to [`super::call::BODY_LIMIT`].
const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/bots/{bot_id}/jobs/schedule", post(schedule))
        .route("/bots/{bot_id}/jobs", get(list_jobs))
        .route("/bots/{bot_id}/jobs/{job_id}", get(read_job).delete(cancel_job))
        .route("/bots/{bot_id}/endpoints", get(export_endpoints))
        .route("/bots/{bot_id}/endpoints/import", post(import_endpoints).layer(DefaultBodyLimit::max(IMPORT_LIMIT)))
        .route("/bots/{bot_id}/maps", get(export_maps))
        .route("/bots/{bot_id}/maps/import", post(import_maps).layer(DefaultBodyLimit::max(IMPORT_LIMIT)))
        .route("/bots/{bot_id}/links", post(create_link))
        .route("/bots/{bot_id}/settings/{kind}", axum::routing::put(put_settings))
}

/// The token, if it may use `action` on this existing bot and is within
/// its rate (429 otherwise).
pub(super) async fn authorize(state: &AppState, headers: &HeaderMap, bot_id: &str, actions: &[TokenAction]) -> Result<(ApiToken, BotId), ApiError> {
    let store = &state.backend.store;
    let token = bearer_token(headers, store).await?;
    let bot = BotId::in_path(bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let now = now_millis();
    // A token for other bots hears 403 before whether this one exists, as
    // on the call route (ids like `bot_123` can be guessed).
    token.live(now).and_then(|()| token.check_bot(&bot)).map_err(super::call::denial_error)?;
    match store.bot(&bot).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(ApiError::NotFound(answer::BOT_NOT_FOUND)),
        Err(other) => return Err(other.into()),
    }
    let mut last = Denial::Action(actions[0]);
    for action in actions {
        match token.check_admin(&bot, *action, now) {
            Ok(()) => {
                // The token's rate holds on every route it opens, not only
                // the calls; its use is recorded the same way.
                super::call::take_from_rate(state, &token)?;
                super::call::touch_later(state, &token);
                return Ok((token, bot));
            }
            Err(denial) if denial.is_authentication() => return Err(ApiError::Unauthorized(denial.message())),
            Err(denial) => last = denial,
        }
    }
    Err(ApiError::Forbidden(last.message()))
}

/// Scheduling runs and binding users reach every scenario and lead of the
/// bot, so they need `admin_write` or a `call` token not limited to some
/// aliases.
async fn authorize_bot_wide(state: &AppState, headers: &HeaderMap, bot_id: &str, what: &str) -> Result<(ApiToken, BotId), ApiError> {
    let (token, bot) = authorize(state, headers, bot_id, &[TokenAction::Call, TokenAction::AdminWrite]).await?;
    let admin = token.scope.actions.contains(&TokenAction::AdminWrite);
    if admin || token.scope.aliases.is_empty() {
        Ok((token, bot))
    } else {
        Err(ApiError::Forbidden(format!("A token limited to some aliases cannot {what}")))
    }
}

/// JSON bodies for these routes: a clear 400 instead of axum's text.
pub(super) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))
}

async fn schedule(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (token, bot) = authorize_bot_wide(&state, &headers, &bot_id, "schedule runs").await?;
    let now = now_millis();
    let invalid = |errors: &[comops_core::validation::FieldError]| ApiError::Unprocessable {
        message: "Invalid schedule request".into(),
        errors: errors.iter().map(|e| PayloadError { field: e.field.clone(), message: e.to_string() }).collect(),
    };
    let request = JobRequest::parse(&parse_json(&body)?, now).map_err(|errors| invalid(&errors))?;
    // A job for a scenario the bot does not have would only fail when due.
    if state.backend.store.scenario(&bot, &request.scenario).await?.is_none() {
        return Err(invalid(&[comops_core::validation::FieldError::new("scenario", comops_core::validation::Problem::Unknown)]));
    }
    let trace_id = headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceId::from_traceparent)
        .unwrap_or_else(TraceId::generate);
    let store = &state.backend.store;
    let job = store.schedule_job(&bot, &request, trace_id.as_str(), &token.name).await?;
    store
        .record_trace(&TraceEvent {
            id: String::new(),
            trace_id: trace_id.to_string(),
            source_system: token.name.clone(),
            bot_id: bot.to_string(),
            endpoint: "jobs/schedule".into(),
            user_id: job.user_id.clone(),
            lead_id: job.lead_id.clone(),
            step: "api.schedule".into(),
            status: "success".into(),
            http_status: 200,
            latency_ms: 0,
            dry_run: false,
            detail: Detail::JobScheduled { job: job.id.to_string(), scenario: job.scenario.to_string(), at: job.run_at }.to_string(),
            at: 0,
        })
        .await?;
    Ok(Json(json!({ "success": true, "message": "Job scheduled", "trace_id": trace_id.as_str(), "job": job })))
}

/// Reading a bot's jobs: `admin_read`, or what may schedule them.
async fn authorize_job_reading(state: &AppState, headers: &HeaderMap, bot_id: &str) -> Result<BotId, ApiError> {
    match authorize(state, headers, bot_id, &[TokenAction::AdminRead]).await {
        Ok((_, bot)) => Ok(bot),
        Err(ApiError::Forbidden(_)) => Ok(authorize_bot_wide(state, headers, bot_id, "read jobs").await?.1),
        Err(other) => Err(other),
    }
}

/// Jobs a listing holds at most; `more` says when there are others.
const JOBS_LISTED: i64 = 1000;

async fn list_jobs(State(state): State<AppState>, Path(bot_id): Path<String>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let bot = authorize_job_reading(&state, &headers, &bot_id).await?;
    let (jobs, more) = state.backend.store.scheduled_jobs(&bot, JOBS_LISTED).await?;
    Ok(Json(json!({ "success": true, "jobs": jobs, "more": more })))
}

async fn read_job(State(state): State<AppState>, Path((bot_id, job_id)): Path<(String, String)>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let bot = authorize_job_reading(&state, &headers, &bot_id).await?;
    let job = state.backend.store.job(&bot, &job_id).await?.ok_or(ApiError::NotFound("Job not found"))?;
    Ok(Json(json!({ "success": true, "job": job })))
}

/// Cancels a job still to run; traced under the job's own trace id, so
/// its timeline reads scheduled, ran, cancelled.
async fn cancel_job(State(state): State<AppState>, Path((bot_id, job_id)): Path<(String, String)>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    use comops_core::store::jobs::JobCancel;
    let (token, bot) = authorize_bot_wide(&state, &headers, &bot_id, "cancel jobs").await?;
    let store = &state.backend.store;
    let job = match store.cancel_job(&bot, &job_id).await? {
        JobCancel::Cancelled(job) => job,
        JobCancel::NotFound => return Err(ApiError::NotFound("Job not found")),
        JobCancel::Over(job) => return Err(ApiError::Conflict(format!("Job already {}", job.status))),
    };
    store
        .record_trace(&TraceEvent {
            id: String::new(),
            trace_id: job.trace_id.clone(),
            source_system: token.name.clone(),
            bot_id: bot.to_string(),
            endpoint: "jobs/cancel".into(),
            user_id: job.user_id.clone(),
            lead_id: job.lead_id.clone(),
            step: "api.cancel".into(),
            status: "success".into(),
            http_status: 200,
            latency_ms: 0,
            dry_run: false,
            detail: Detail::JobCancelled { job: job.id.clone(), scenario: job.scenario.clone() }.to_string(),
            at: 0,
        })
        .await?;
    Ok(Json(json!({ "success": true, "message": "Job cancelled", "trace_id": job.trace_id.clone(), "job": job })))
}

async fn export_endpoints(State(state): State<AppState>, Path(bot_id): Path<String>, headers: HeaderMap) -> Result<Json<EndpointExport>, ApiError> {
    let (_, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminRead]).await?;
    let endpoints = state.backend.store.list_endpoints(&bot).await?;
    Ok(Json(EndpointExport {
        format: EndpointExport::FORMAT.into(),
        bot_id: bot,
        endpoints: endpoints.iter().map(EndpointDraft::from).collect(),
    }))
}

async fn import_endpoints(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (token, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminWrite]).await?;
    let export: EndpointExport = serde_json::from_value(parse_json(&body)?).map_err(|e| ApiError::Unprocessable {
        message: format!("Not an endpoint export: {e}"),
        errors: vec![],
    })?;
    if export.format != EndpointExport::FORMAT {
        return Err(ApiError::Unprocessable { message: format!("format must be {}", EndpointExport::FORMAT), errors: vec![] });
    }
    let valid = export.validate().map_err(|problems| ApiError::Unprocessable {
        message: "Some endpoints are invalid; nothing was imported".into(),
        errors: problems.iter().map(|p| PayloadError { field: p.field.clone(), message: p.to_string() }).collect(),
    })?;
    let store = &state.backend.store;
    let author = format!("token:{}", token.name);
    let done = store.import_endpoints(&bot, &valid, "imported from JSON", &author).await?;
    let detail = comops_core::audit_detail::Detail::Synced { created: done.created, updated: done.updated, unchanged: done.unchanged };
    store.audit(&author, "endpoint.import", bot.as_str(), &detail.to_string()).await?;
    Ok(Json(json!({
        "success": true, "message": "Endpoints imported",
        "created": done.created, "updated": done.updated, "unchanged": done.unchanged,
    })))
}

async fn export_maps(State(state): State<AppState>, Path(bot_id): Path<String>, headers: HeaderMap) -> Result<Json<MapsExport>, ApiError> {
    let (_, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminRead]).await?;
    let store = &state.backend.store;
    let project = store.bot(&bot).await?.project_id;
    let maps = store.project_maps(&project).await?;
    let maps = maps.into_iter().map(|m| MapExport { id: m.id, title: m.title, content: m.content }).collect();
    Ok(Json(MapsExport { format: MapsExport::FORMAT.into(), project_id: project, maps }))
}

async fn import_maps(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (token, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminWrite]).await?;
    let refused = |problems: Vec<ImportProblem>| ApiError::Unprocessable {
        message: "Some maps cannot be imported; nothing was imported".into(),
        errors: problems.into_iter().map(|p| PayloadError { field: p.path, message: p.message }).collect(),
    };
    let maps = match MapsExport::parse(&body) {
        Ok(maps) => maps,
        // Malformed JSON is a 400 as on every route (read again only
        // then); a document that is JSON but not maps, a 422 naming what
        // is wrong.
        Err(problems) => {
            parse_json(&body)?;
            return Err(refused(problems));
        }
    };
    let store = &state.backend.store;
    let project = store.bot(&bot).await?.project_id;
    let author = format!("token:{}", token.name);
    let done = match store.sync_maps(&project, &maps, "imported from JSON", &author).await {
        Ok(done) => done,
        Err(MapSyncError::Refused(problems)) => return Err(refused(problems)),
        Err(MapSyncError::Store(err)) => return Err(err.into()),
    };
    let detail = comops_core::audit_detail::Detail::Synced { created: done.created, updated: done.updated, unchanged: done.unchanged };
    store.audit(&author, "map.import", project.as_str(), &detail.to_string()).await?;
    Ok(Json(json!({ "success": true, "message": "Maps imported", "created": done.created, "updated": done.updated, "unchanged": done.unchanged })))
}

/// `POST /bots/{botId}/links` (`call` or `admin_write`): a one-time deep
/// link that binds the business `userId` to whoever presses Start.
async fn create_link(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (_, bot) = authorize_bot_wide(&state, &headers, &bot_id, "create deep links").await?;
    let body = parse_json(&body)?;
    let user_id = body
        .as_object()
        .and_then(|object| comops_core::call::business_id_of(object, &["userId", "user_id"]))
        .ok_or_else(|| ApiError::Unprocessable {
            message: "userId is required".into(),
            errors: vec![PayloadError { field: "userId".into(), message: "is required".into() }],
        })?;
    let store = &state.backend.store;
    let username = store.bot(&bot).await?.username;
    let (code, expires_at) = store.create_link_code(&bot, &user_id).await?;
    let url = if username.is_empty() { String::new() } else { format!("https://t.me/{username}?start={code}") };
    Ok(Json(json!({ "success": true, "code": code, "url": url, "expires_at": expires_at })))
}

/// `PUT /bots/{botId}/settings/{kind}`: a channel's settings (checked by
/// `comops_core::channel::settings`) or `secrets`, a flat object of strings
/// (what `{{ secrets.NAME }}` reads). The answer names the keys, never the
/// values.
async fn put_settings(
    State(state): State<AppState>,
    Path((bot_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let (token, bot) = authorize(&state, &headers, &bot_id, &[TokenAction::AdminWrite]).await?;
    let value = parse_json(&body)?;
    match comops_core::channel::settings::validate(&kind, &value) {
        None => return Err(ApiError::NotFound("Unknown settings kind")),
        Some(Err(errors)) => {
            let errors = errors.iter().map(|e| e.in_words(comops_core::Locale::En)).collect();
            return Err(ApiError::Unprocessable { message: format!("Invalid {kind} settings"), errors });
        }
        Some(Ok(())) => {}
    }
    let object = value.as_object().cloned().unwrap_or_default();
    let store = &state.backend.store;
    store.set_bot_channel(&bot, &kind, &value).await?;
    let keys: Vec<&String> = object.keys().collect();
    store.audit(&format!("token:{}", token.name), &format!("settings.{kind}"), bot.as_str(), &format!("keys: {keys:?}")).await?;
    Ok(Json(json!({ "success": true, "message": "Settings saved", "keys": keys })))
}
