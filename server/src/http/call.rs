//! `POST /bots/{botId}/call/{alias}`: a business system reports an event.
//!
//! The order of checks is the contract of SPEC §3: the token (401), the bot
//! and endpoint (404), the token's scope (403), the per-token rate (429),
//! the body (415/413/400/422 against the endpoint's schema), the
//! `Idempotency-Key` (replay or 409). A live call answers 200 only after
//! `Store::accept_event` has committed the event, its runs, the
//! idempotency record and the trace; a dry run resolves recipients,
//! renders what the bound scenario would send up to its first pause, and
//! stores only a trace marked dry. Every call,
//! accepted or refused, leaves a trace event.
//!
//! The studio's "send test event" ([`studio_dry_run`]) takes the same way
//! from the endpoint on, as a dry run: its server function has checked
//! the user's role, so there is no token (nor its scope and rate), and
//! the body comes as text (no content type, idempotency key or headers).

use comops_core::call::answer;
use super::{bearer_token, ApiError, AppState};
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use comops_core::call::{CallRequest, Recipients};
use comops_core::scenario::{sandboxed_preview_off_thread, LeadInfo, StopReason};
use comops_core::store::events::{NewEvent, Recipient, Replay};
use comops_core::store::{now_millis, StoreError};
use comops_core::token::{CallMode, Denial};
use comops_core::trace::detail::{Detail, Recipients as TracedRecipients};
use comops_app::session::TestCall;
use comops_core::{Alias, ApiToken, BotId, Endpoint, EventId, TraceEvent, TraceId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route("/bots/{bot_id}/call/{*alias}", post(call))
}

#[derive(Debug, Default, Deserialize)]
struct CallQuery {
    dry_run: Option<String>,
    /// Any other parameter: ignored, unless it looks like a misspelt
    /// `dry_run` ([`looks_like_dry_run`]).
    #[serde(flatten)]
    other: std::collections::HashMap<String, String>,
}

/// `DRY_RUN`, `dry-run`, `dryRun`: a parameter meant as the dry-run switch
/// but not spelt as documented — refused, since ignoring it sends for real.
fn looks_like_dry_run(name: &str) -> bool {
    name != "dry_run" && name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().eq_ignore_ascii_case("dryrun")
}

/// What the trace of this call records, filled in as checks pass.
struct CallTrace {
    trace_id: TraceId,
    source_system: String,
    bot_id: String,
    endpoint: String,
    user_id: String,
    lead_id: String,
    dry_run: bool,
    started: Instant,
}

impl CallTrace {
    /// Names the leads the call reached.
    fn reached(&mut self, resolved: &Resolved) {
        self.lead_id = summarize(&resolved.leads.iter().map(|r| r.lead_id.clone()).collect::<Vec<_>>());
    }

    fn event(&self, status: &str, http_status: u16, detail: String) -> TraceEvent {
        TraceEvent {
            id: String::new(),
            trace_id: self.trace_id.to_string(),
            source_system: self.source_system.clone(),
            bot_id: self.bot_id.clone(),
            endpoint: self.endpoint.clone(),
            user_id: self.user_id.clone(),
            lead_id: self.lead_id.clone(),
            step: "api.call".into(),
            status: status.into(),
            http_status: i64::from(http_status),
            latency_ms: self.started.elapsed().as_millis() as i64,
            dry_run: self.dry_run,
            detail,
            at: 0,
        }
    }
}

async fn call(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<CallQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    // A path axum cannot read (not UTF-8) is refused as JSON here, so the
    // call route needs no error-rewriting layer around every call.
    let Path((bot_id, alias)) = match path {
        Ok(path) => path,
        Err(rejection) => return ApiError::BadRequest(rejection.body_text()).into_response(),
    };
    let trace_id = header_text(&headers, "traceparent")
        .and_then(|tp| TraceId::from_traceparent(&tp))
        .unwrap_or_else(TraceId::generate);
    // A query string axum cannot read is refused as JSON like every error.
    let query = query.map(|Query(query)| query).map_err(|rejection| rejection.body_text());
    let dry = query.and_then(|query| {
        if let Some(name) = query.other.keys().find(|name| looks_like_dry_run(name)) {
            return Err(format!("unknown query parameter {name}: the dry-run switch is dry_run=true"));
        }
        let header = deciding_header(&headers, "x-dry-run").map_err(|_| "X-Dry-Run must be given once, true or false".to_string())?;
        let header = dry_flag("X-Dry-Run", header)?;
        let query = dry_flag("dry_run", query.dry_run.as_deref())?;
        Ok(header || query)
    });
    let dry_requested = dry.as_ref().is_ok_and(|dry| *dry);
    // Read once: `/bots/123/…` names `bot_123`, in the checks and the trace.
    let bot = BotId::in_path(&bot_id);
    let mut trace = CallTrace {
        trace_id: trace_id.clone(),
        source_system: header_text(&headers, "x-source-system").unwrap_or_default(),
        bot_id: traced_bot(bot.as_ref(), &bot_id),
        endpoint: alias.clone(),
        user_id: String::new(),
        lead_id: String::new(),
        dry_run: dry_requested,
        started,
    };
    let outcome = handle(&state, bot, &alias, dry, &headers, body, &mut trace).await;
    let mut response = match outcome {
        Ok(response) => response,
        Err(error) => {
            record_refusal(&state, &trace, &error).await;
            error.into_response()
        }
    };
    if !response.headers().contains_key("x-trace-id") {
        if let Ok(value) = HeaderValue::from_str(trace_id.as_str()) {
            response.headers_mut().insert("x-trace-id", value);
        }
    }
    response
}

async fn handle(
    state: &AppState,
    bot: Option<BotId>,
    alias: &str,
    dry: Result<bool, String>,
    headers: &HeaderMap,
    body: Body,
    trace: &mut CallTrace,
) -> Result<Response, ApiError> {
    let store = &state.backend.store;
    let token = bearer_token(headers, store).await?;
    let dry_requested = dry.map_err(ApiError::BadRequest)?;
    if trace.source_system.is_empty() {
        trace.source_system = token.name.clone();
    }
    let now = now_millis();
    // A token for other bots learns nothing of this one (which aliases it
    // has, or whether it exists): refused before the endpoint is looked up.
    if let Some(bot) = &bot {
        token.live(now).and_then(|()| token.check_bot(bot)).map_err(denial_error)?;
    }
    let (bot, endpoint) = find_endpoint(state, bot, alias).await?;
    let mode = token
        .check_call(&bot, &endpoint.alias, endpoint.isolated, dry_requested, now)
        .map_err(denial_error)?;
    trace.dry_run = mode == CallMode::Dry;
    take_from_rate(state, &token)?;
    touch_later(state, &token);

    let bytes = read_json_body(headers, body).await?;
    let request = checked_request(&endpoint, &bytes, trace)?;

    // The key and the hash of the request it names (none without a key).
    let idempotency = idempotency_key(headers)?.map(|key| (key, request_hash(&bot, &endpoint.alias, mode, &bytes)));
    if let Some((key, request_hash)) = &idempotency {
        match store.idempotency_replay(&token.id, key, request_hash).await? {
            Replay::Fresh => {}
            Replay::Same { http_status, body } => return Ok(replayed(http_status, body)),
            Replay::Conflict => {
                return Err(ApiError::Conflict(KEY_REUSED.into()))
            }
        }
    }

    let resolved = Resolved::of(store, &bot, &request.recipients).await?;
    trace.reached(&resolved);
    match mode {
        CallMode::Dry => {
            let (status, body) = dry_run(state, &bot, &endpoint, &request.params, &resolved, trace).await?;
            Ok((status, axum::Json(body)).into_response())
        }
        CallMode::Live => live(state, &bot, &endpoint, &token, request, &resolved, idempotency, trace).await,
    }
}

/// The studio's "send test event" (SPEC §6, integration points): `body`
/// through a call's checks and its dry run on `bot_id`'s `alias`, as a
/// call from the studio — its server function checked the user's role, so
/// no token is asked for — traced like any call, from source `studio`.
/// The status, the JSON answer and the trace id, as a caller would get them.
pub async fn studio_dry_run(state: &AppState, test: TestCall) -> (u16, serde_json::Value, String) {
    let TestCall { bot: bot_id, alias, body, user } = test;
    let (bot, alias) = (BotId::in_path(&bot_id), alias.as_str());
    let mut trace = CallTrace {
        trace_id: TraceId::generate(),
        source_system: format!("studio:{user}"),
        bot_id: traced_bot(bot.as_ref(), &bot_id),
        endpoint: alias.to_string(),
        user_id: String::new(),
        lead_id: String::new(),
        dry_run: true,
        started: Instant::now(),
    };
    let outcome = async {
        let (bot, endpoint) = find_endpoint(state, bot, alias).await?;
        let request = checked_request(&endpoint, &body, &mut trace)?;
        let resolved = Resolved::of(&state.backend.store, &bot, &request.recipients).await?;
        trace.reached(&resolved);
        dry_run(state, &bot, &endpoint, &request.params, &resolved, &trace).await
    }
    .await;
    let trace_id = trace.trace_id.to_string();
    match outcome {
        Ok((status, answer)) => (status.as_u16(), answer, trace_id),
        Err(error) => {
            if let ApiError::Internal(cause) = &error {
                tracing::error!(%cause, "internal error in a studio test event");
            }
            record_refusal(state, &trace, &error).await;
            (error.status().as_u16(), error.body(), trace_id)
        }
    }
}

/// Traces a call refused with `error` (`rejected`, or `fail` for a 5xx).
async fn record_refusal(state: &AppState, trace: &CallTrace, error: &ApiError) {
    let status = error.status();
    let detail = error.body()["message"].as_str().unwrap_or_default().to_string();
    let event = trace.event(if status.is_server_error() { "fail" } else { "rejected" }, status.as_u16(), detail);
    if let Err(err) = state.backend.store.record_trace(&event).await {
        tracing::error!(error = %err, "cannot record the trace of a refused call");
    }
}

/// A call's body read as its request, its params checked against the
/// endpoint's schema (and normalized by it); the users it names go on the
/// trace.
fn checked_request(endpoint: &Endpoint, bytes: &[u8], trace: &mut CallTrace) -> Result<CallRequest, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    let mut request = CallRequest::parse(value).map_err(|bad| ApiError::Unprocessable {
        errors: vec![comops_core::schema::PayloadError { field: bad.field, message: bad.message.clone() }],
        message: bad.message,
    })?;
    let problems = endpoint.schema.check(&mut request.params);
    if !problems.is_empty() {
        return Err(ApiError::Unprocessable { message: answer::SCHEMA_MISMATCH.into(), errors: problems });
    }
    trace.user_id = summarize(match &request.recipients {
        Recipients::Users(ids) => ids,
        _ => &[],
    });
    Ok(request)
}

/// The bot a call's trace names: the one its `{botId}` names
/// ([`BotId::in_path`]: `/bots/123/…` is `bot_123`), or what was written
/// when it names none.
fn traced_bot(bot: Option<&BotId>, raw: &str) -> String {
    bot.map_or_else(|| raw.to_string(), ToString::to_string)
}

/// The bot (as its `{botId}` named it) and its enabled endpoint, or 404.
async fn find_endpoint(state: &AppState, bot: Option<BotId>, alias: &str) -> Result<(BotId, Endpoint), ApiError> {
    let store = &state.backend.store;
    let bot = bot.ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    match store.bot(&bot).await {
        Ok(found) if found.enabled => {}
        Ok(_) | Err(StoreError::NotFound) => return Err(ApiError::NotFound(answer::BOT_NOT_FOUND)),
        Err(other) => return Err(other.into()),
    }
    let alias = Alias::parse(alias).map_err(|_| ApiError::NotFound(answer::ENDPOINT_NOT_FOUND))?;
    match store.endpoint_by_alias(&bot, &alias).await? {
        Some(endpoint) if endpoint.enabled => Ok((bot, endpoint)),
        _ => Err(ApiError::NotFound(answer::ENDPOINT_NOT_FOUND)),
    }
}

/// A token's refusal as the API answers it: 401 for who it is, 403 for
/// what it may not do.
pub(super) fn denial_error(denial: Denial) -> ApiError {
    if denial.is_authentication() {
        ApiError::Unauthorized(denial.message())
    } else {
        ApiError::Forbidden(denial.message())
    }
}

/// One request from the token's rate, or 429 with how long to wait.
pub(super) fn take_from_rate(state: &AppState, token: &ApiToken) -> Result<(), ApiError> {
    state
        .rate_limiter
        .check(&token.id, token.rate_per_minute, Instant::now())
        .map_err(|wait| ApiError::TooManyRequests { retry_after_secs: (wait.as_secs_f64().ceil() as u64).max(1) })
}

/// Records the token's use without delaying the answer, at most once a
/// second per token and process (a write per request would serialize
/// every call on SQLite's single writer).
pub(super) fn touch_later(state: &AppState, token: &ApiToken) {
    if !state.rate_limiter.should_touch(&token.id, Instant::now()) {
        return;
    }
    let store = state.backend.store.clone();
    let id = token.id.clone();
    tokio::spawn(async move {
        if let Err(err) = store.touch_token(&id, now_millis()).await {
            tracing::warn!(error = %err, "cannot record token use");
        }
    });
}

/// The body, if it is JSON and within [`BODY_LIMIT`].
async fn read_json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let content_type = header_text(headers, header::CONTENT_TYPE.as_str()).unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let too_large = ApiError::PayloadTooLarge { limit_bytes: BODY_LIMIT };
    if header_text(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<usize>().ok()).is_some_and(|n| n > BODY_LIMIT) {
        drain(body).await;
        return Err(too_large);
    }
    axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| too_large)
}

/// Reads and discards an oversized body (up to 64 MiB, 10 s) so the client,
/// still sending, gets our 413 instead of a connection reset.
async fn drain(body: Body) {
    use http_body_util::BodyExt;
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let mut body = body;
    let mut seen = 0usize;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while seen <= DRAIN_LIMIT {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => seen += frame.data_ref().map_or(0, |data| data.len()),
            _ => break,
        }
    }
}

/// A key sent again with another request.
pub(crate) const KEY_REUSED: &str = "Idempotency-Key was already used with a different request";
/// A key given twice, empty, too long or not visible ASCII.
pub(crate) const KEY_MALFORMED: &str = "Idempotency-Key must be given once, 1-255 visible ASCII characters";

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let refused = || ApiError::BadRequest(KEY_MALFORMED.into());
    let Some(key) = deciding_header(headers, "idempotency-key").map_err(|_| refused())? else { return Ok(None) };
    let key = key.trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(refused());
    }
    Ok(Some(key.to_string()))
}

/// Identifies "the same request" for idempotency: bot, alias, mode, body.
fn request_hash(bot: &BotId, alias: &Alias, mode: CallMode, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bot.as_str());
    hasher.update(b"\n");
    hasher.update(alias.as_str());
    hasher.update(if mode == CallMode::Dry { "\ndry\n" } else { "\nlive\n" });
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// The first answer to a key again, with its trace id in `X-Trace-Id`
/// (the call's own trace id would point at a trace the answer does not
/// name).
fn replayed(http_status: u16, body: String) -> Response {
    #[derive(Deserialize)]
    struct Traced {
        trace_id: Option<String>,
    }
    let status = StatusCode::from_u16(http_status).unwrap_or(StatusCode::OK);
    let first_trace = serde_json::from_str::<Traced>(&body).ok().and_then(|answer| answer.trace_id);
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(value) = first_trace.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert("x-trace-id", value);
    }
    response
}

/// A call's recipients: the leads they resolve to, and the ids that
/// resolve to none — of those, the ones known on the bot whose every
/// address is inactive (the person blocked the bot, or was deactivated).
struct Resolved {
    leads: Vec<Recipient>,
    unresolved: Vec<String>,
    inactive: Vec<String>,
}

impl Resolved {
    /// Resolves through the identity links; which unresolved ids are
    /// inactive is looked up only when some are unresolved.
    async fn of(store: &comops_core::store::Store, bot: &BotId, recipients: &Recipients) -> Result<Self, ApiError> {
        let (leads, unresolved) = store.resolve_recipients(bot, recipients).await?;
        let inactive = if unresolved.is_empty() {
            Vec::new()
        } else {
            store.inactive_among(bot, &unresolved, matches!(recipients, Recipients::Leads(_))).await?
        };
        Ok(Resolved { leads, unresolved, inactive })
    }

    /// Their counts, for the trace.
    fn counts(&self) -> TracedRecipients {
        TracedRecipients { leads: self.leads.len(), unresolved: self.unresolved.len(), inactive: self.inactive.len() }
    }
}

/// What a call's answer says of its recipients: how many leads were
/// resolved, and the first 100 leads, unresolved ids and, of those, the
/// inactive ones (left out when none). Fields in the order they were
/// always sent (by name).
#[derive(Serialize)]
struct RecipientSummary<'a> {
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    inactive: &'a [String],
    leads: Vec<&'a str>,
    resolved: usize,
    unresolved: &'a [String],
}

fn recipient_summary(resolved: &Resolved) -> RecipientSummary<'_> {
    RecipientSummary {
        inactive: &resolved.inactive[..resolved.inactive.len().min(100)],
        leads: resolved.leads.iter().take(100).map(|r| r.lead_id.as_str()).collect(),
        resolved: resolved.leads.len(),
        unresolved: &resolved.unresolved[..resolved.unresolved.len().min(100)],
    }
}

/// The 200 of a live call, written straight to text (it is also stored
/// for idempotent replays). Fields in the order they were always sent.
#[derive(Serialize)]
struct LiveAnswer<'a> {
    dry_run: bool,
    event_id: &'a str,
    message: &'a str,
    recipients: RecipientSummary<'a>,
    /// Leads that got no run: one from this endpoint is still active for
    /// them (SPEC §4). Left out when none.
    #[serde(skip_serializing_if = "is_zero")]
    skipped: usize,
    success: bool,
    trace_id: &'a str,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The 200's message: what the seed's CRMs expect, unless nobody was
/// reached — no recipient resolved (every named one inactive, or some
/// unknown), or the one-run-per-lead guard left every lead without a new
/// run. The call is stored either way (`success` stays true).
fn live_message(resolved: &Resolved, skipped: usize) -> &'static str {
    let leads = resolved.leads.len();
    if leads == 0 && !resolved.unresolved.is_empty() {
        if resolved.inactive.len() == resolved.unresolved.len() {
            answer::NOBODY_BLOCKED
        } else {
            answer::NOBODY_NO_ADDRESS
        }
    } else if leads > 0 && skipped >= leads {
        answer::ALREADY_RUNNING
    } else {
        answer::SENT
    }
}

/// A dry run's answer and its status, its trace recorded: 200, or 500
/// naming the step and the error when the run would fail there (SPEC §3's
/// "500 scenario error naming the step/line": `Script error at line 23`).
async fn dry_run(
    state: &AppState,
    bot: &BotId,
    endpoint: &Endpoint,
    params: &serde_json::Map<String, serde_json::Value>,
    resolved: &Resolved,
    trace: &CallTrace,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let DryPreview { body: preview, failure } = preview(state, bot, endpoint, params, &resolved.leads).await?;
    let previewed = preview["messages"].as_array().map_or(0, Vec::len);
    let (status, message, event) = match failure {
        None => {
            let detail = Detail::DryRun { recipients: resolved.counts(), previewed }.to_string();
            (StatusCode::OK, answer::DRY_RUN.to_string(), trace.event("success", 200, detail))
        }
        Some(failure) => (StatusCode::INTERNAL_SERVER_ERROR, failure.clone(), trace.event("fail", 500, failure)),
    };
    state.backend.store.record_trace(&event).await?;
    let body = json!({
        "success": status == StatusCode::OK,
        "message": message,
        "dry_run": true,
        "trace_id": trace.trace_id.as_str(),
        "recipients": recipient_summary(resolved),
        "preview": preview,
    });
    Ok((status, body))
}

/// A dry run's preview as the answer shows it, and the scenario error it
/// stopped at, if any (`Script error at line 23: … (step check)`).
struct DryPreview {
    body: serde_json::Value,
    failure: Option<String>,
}

/// What the bound scenario would send the first resolved lead before its
/// first pause, rendered by the real interpreter with nothing sent, with
/// that lead as it is now (attributes, tags, status), as a live run sees it.
/// Script steps run in the sandbox, so a script's changes reach the later
/// messages and its error shows; a script that calls out (`callApi`) is
/// not run, and the preview stops there: a dry run calls nothing
/// (`comops_core::scenario::sandboxed_preview`).
async fn preview(
    state: &AppState,
    bot: &BotId,
    endpoint: &Endpoint,
    params: &serde_json::Map<String, serde_json::Value>,
    leads: &[Recipient],
) -> Result<DryPreview, ApiError> {
    let unrendered = |body| DryPreview { body, failure: None };
    if endpoint.scenario.is_empty() {
        return Ok(unrendered(json!({ "scenario": "", "messages": [], "note": answer::NO_SCENARIO })));
    }
    let Some(current) = state.backend.store.scenario(bot, &endpoint.scenario).await? else {
        return Ok(unrendered(json!({
            "scenario": endpoint.scenario,
            "messages": [],
            "note": answer::scenario_missing(&endpoint.scenario),
        })));
    };
    let lead = match leads.first() {
        Some(first) => match state.backend.store.lead(bot, &first.lead_id).await? {
            Some(lead) => LeadInfo::from(lead),
            None => LeadInfo { id: first.lead_id.clone(), ..Default::default() },
        },
        None => LeadInfo::default(),
    };
    let user = leads.first().map(|first| first.user_id.clone());
    let rendered = sandboxed_preview_off_thread(current.definition.clone(), serde_json::Value::Object(params.clone()), lead.clone(), user)
        .await
        .map_err(|e| ApiError::Internal(format!("the dry run's preview stopped: {e}")))?;
    let failure = match &rendered.reason {
        StopReason::Error { message } => Some(match &rendered.stopped_at {
            Some(step) => format!("{message} (step {step})"),
            None => message.clone(),
        }),
        _ => None,
    };
    Ok(DryPreview {
        body: json!({
            "scenario": endpoint.scenario,
            "version": current.version,
            "lead_id": lead.id,
            "messages": rendered.messages,
            "stopped_at": rendered.stopped_at,
            "stop": rendered.reason,
        }),
        failure,
    })
}

#[allow(clippy::too_many_arguments)]
async fn live(
    state: &AppState,
    bot: &BotId,
    endpoint: &Endpoint,
    token: &ApiToken,
    request: CallRequest,
    resolved: &Resolved,
    idempotency: Option<(String, String)>,
    trace: &CallTrace,
) -> Result<Response, ApiError> {
    let store = &state.backend.store;
    let event_id = EventId::ordered(comops_core::store::now_millis());
    // Written before the accept, which stores it with an idempotency key;
    // rewritten if the accept skipped leads.
    let answer = |skipped: usize| {
        serde_json::to_string(&LiveAnswer {
            dry_run: false,
            event_id: event_id.as_str(),
            message: live_message(resolved, skipped),
            recipients: recipient_summary(resolved),
            skipped,
            success: true,
            trace_id: trace.trace_id.as_str(),
        })
        .map_err(|err| ApiError::Internal(format!("cannot write the answer: {err}")))
    };
    let body = answer(0)?;
    let detail = if endpoint.scenario.is_empty() {
        Detail::AcceptedUnbound
    } else {
        Detail::Accepted { scenario: endpoint.scenario.clone(), recipients: resolved.counts() }
    }
    .to_string();
    let accepted = state
        .events
        .accept(NewEvent {
            id: event_id.clone(),
            bot: bot.clone(),
            endpoint: endpoint.clone(),
            token: token.id.clone(),
            trace: trace.event("success", 200, detail),
            params: request.params,
            recipients: request.recipients,
            leads: resolved.leads.clone(),
            idempotency: idempotency.clone(),
            http_status: 200,
            response_body: body.clone(),
            hand_off_ms: None,
        })
        .await;
    match accepted {
        Ok(accepted) => {
            // Runs the event writer handed to the executor need no bell.
            if accepted.runs > accepted.handed_off {
                state.bells.runs.notify_one();
            }
            let mut body = body;
            if accepted.skipped_active > 0 {
                // Said in the answer, and kept for the key's replays (a
                // crash before that keeps the first text for them); the
                // accept wrote the call's `run.skipped` trace step itself.
                body = answer(accepted.skipped_active)?;
                if let Some((key, _)) = &idempotency {
                    if let Err(err) = store.set_idempotency_answer(&token.id, key, &body).await {
                        tracing::warn!(error = %err, "cannot keep the answer of a call that skipped leads for its replays");
                    }
                }
            }
            Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        // A concurrent request with the same key committed first: answer as it did.
        Err(StoreError::Taken("idempotency_key")) => match &idempotency {
            Some((key, request_hash)) => match store.idempotency_replay(&token.id, key, request_hash).await? {
                Replay::Same { http_status, body } => Ok(replayed(http_status, body)),
                _ => Err(ApiError::Conflict("Idempotency-Key was already used with a different request".into())),
            },
            None => Err(ApiError::Internal("idempotency conflict without a key".into())),
        },
        Err(other) => Err(other.into()),
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A header that decides what a call does (the dry-run switch, the
/// idempotency key): absent, or given once in visible ASCII. A value with
/// other bytes, or the header twice, is an error — read as absent, it
/// would send for real or send twice.
fn deciding_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ()> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(());
    }
    first.to_str().map(Some).map_err(|_| ())
}

/// The dry-run switch of a header or query parameter, as documented:
/// absent or `false`, or `true`; anything else is refused rather than
/// guessed (a typo must not send for real).
fn dry_flag(name: &str, value: Option<&str>) -> Result<bool, String> {
    match value.map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(format!("{name} must be true or false")),
    }
}

/// A short text for the trace: one id, or the first ids and a count.
fn summarize(ids: &[String]) -> String {
    match ids {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("{} (+{} more)", many[..3.min(many.len())].join(","), many.len().saturating_sub(3)),
    }
}
