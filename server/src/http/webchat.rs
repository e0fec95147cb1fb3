//! The web chat's HTTP side: the widget, its visitors, their messages and
//! the live stream of the bot's answers (SPEC §5, the zero-setup channel).
//!
//! Every bot has a web chat unless its `webchat` settings turn it off:
//!
//! | route | who | does |
//! |---|---|---|
//! | `GET  /webchat/{botId}` | anyone | a standalone chat page (the demo; `?start=<code>` binds a business user) |
//! | `GET  /webchat/{botId}/widget.js` | anyone | the embeddable widget (vanilla JS, no downloads) |
//! | `POST /webchat/{botId}/sessions` | anyone | a new visitor: `{token, chat_id}` |
//! | `POST /webchat/{botId}/messages` | visitor | text, a button, a contact or a start → the engine |
//! | `GET  /webchat/{botId}/history` | visitor | the conversation, paged by message id |
//! | `GET  /webchat/{botId}/stream` | visitor | Server-Sent Events, resumable with `Last-Event-ID` |
//!
//! A visitor is whoever holds the secret token `POST …/sessions` returned
//! (the widget keeps it in `localStorage`) and presents it as `Authorization:
//! Bearer <token>`, or as `?token=` on the stream, since `EventSource`
//! cannot set headers. The conversation's address is derived from the token
//! one way (`comops_core::channel::webchat::VisitorToken::address`), so
//! one visitor can never name another's chat: there is nothing to name.
//!
//! [`gate`] runs before every route: it finds the bot, refuses a disabled
//! web chat, and answers CORS — the widget lives on other sites — for the
//! origins the bot's `allowed_origins` lists (any, when unset; always our
//! own pages). Visitor POSTs are rate-limited per visitor (sessions per
//! client address) in process memory, like the integration API's limit.
//!
//! The stream sends what the conversation log holds after the last id the
//! client saw. It is woken at once by the in-process hub when this process
//! stores a message, and polls the log every second for messages other
//! processes stored; correctness never rests on the wake-up.

use comops_core::call::answer;
use super::{ApiError, AppState};
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use comops_core::auth::constant_time_eq;
use comops_core::channel::webchat::{VisitorToken, WebChatHub, WebChatSettings, KIND, TEXT_LIMIT};
use comops_core::channel::{InboundEvent, Sender};
use comops_core::schema::PayloadError;
use comops_core::store::webchat::{Author, NewWebChatMessage, WebChatMessage, WebChatVisitor};
use comops_core::store::{Store, StoreError};
use comops_core::BotId;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, watch};

/// Largest visitor request body.
const BODY_LIMIT: usize = 16 * 1024;
/// Messages (and button presses, starts, contacts) one visitor may send per
/// minute.
const MESSAGES_PER_MINUTE: u32 = 20;
/// New visitors one client address may open per minute.
const SESSIONS_PER_MINUTE: u32 = 30;
/// How often a stream reads the log for messages stored elsewhere.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long a quiet stream waits before a keep-alive comment.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(15);
/// What `EventSource` waits before reconnecting (sent as `retry:`).
const RECONNECT_MS: u64 = 3000;
/// The widget's source, served as `widget.js`.
const WIDGET_JS: &str = include_str!("webchat/widget.js");

/// The web chat's share of the server state: the process's hub, the
/// visitor rate limits and the switch that ends streams at shutdown.
#[derive(Clone)]
pub struct WebChat {
    pub hub: WebChatHub,
    limiter: Arc<Limiter>,
    closing: watch::Sender<bool>,
}

impl Default for WebChat {
    fn default() -> Self {
        Self { hub: WebChatHub::default(), limiter: Arc::default(), closing: watch::channel(false).0 }
    }
}

impl WebChat {
    /// Ends every open stream (graceful shutdown would otherwise wait for
    /// them forever); the widgets reconnect to whichever process is up.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/webchat/{bot_id}", get(page))
        .route("/webchat/{bot_id}/widget.js", get(widget))
        .route("/webchat/{bot_id}/sessions", post(create_session))
        .route("/webchat/{bot_id}/messages", post(post_message))
        .route("/webchat/{bot_id}/history", get(history))
        .route("/webchat/{bot_id}/stream", get(stream))
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate))
}

/// The bot a web chat route serves, put into the request by [`gate`].
#[derive(Clone)]
struct ChatBot {
    bot: BotId,
    name: String,
}

/// Finds the bot, refuses a disabled web chat, checks the caller's origin
/// and answers CORS (preflights included) for the widget's routes.
async fn gate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    // A chat that is off (or no bot): readable by the site that asked, so
    // the widget says "not available here", not "no connection".
    let refused = |err: ApiError| {
        let mut response = err.into_response();
        if let Some(origin) = origin.clone() {
            allow_origin(response.headers_mut(), origin);
        }
        response
    };
    let (chat_bot, settings) = match open_bot(&state, request.uri().path()).await {
        Ok(found) => found,
        // The preflight passes, so the request after it reads the refusal.
        Err(_) if request.method() == Method::OPTIONS && origin.is_some() => return preflight(origin),
        Err(err) => return refused(err),
    };
    if let Some(origin) = &origin {
        let own = same_host(origin, request.headers());
        let allowed = own || origin.to_str().is_ok_and(|origin| settings.allows_origin(origin));
        if !allowed {
            // Not readable there: a refused site learns nothing.
            return ApiError::Forbidden("This site may not use the bot's web chat".into()).into_response();
        }
    }
    if request.method() == Method::OPTIONS {
        return preflight(origin);
    }
    request.extensions_mut().insert(chat_bot);
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        allow_origin(response.headers_mut(), origin);
        response.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after"));
    }
    response
}

/// A CORS preflight's answer to `origin`.
fn preflight(origin: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        allow_origin(headers, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type, last-event-id"));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

/// The bot named by `/webchat/{botId}/…` and its web chat settings; 404
/// when there is no such bot or its web chat is off.
async fn open_bot(state: &AppState, path: &str) -> Result<(ChatBot, WebChatSettings), ApiError> {
    let raw = path.trim_start_matches("/webchat/").split('/').next().unwrap_or_default();
    let bot = BotId::in_path(raw).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let store = &state.backend.store;
    let found = match store.bot(&bot).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(ApiError::NotFound(answer::BOT_NOT_FOUND)),
        Err(other) => return Err(other.into()),
    };
    let settings = WebChatSettings::from_value(&store.bot_channel(&bot, KIND).await?.unwrap_or(Value::Null));
    if !settings.enabled || !found.enabled {
        return Err(ApiError::NotFound("This bot has no web chat"));
    }
    Ok((ChatBot { bot, name: found.name }, settings))
}

/// Whether `origin` is this server itself (our own chat page): its host and
/// port equal the request's `Host`.
fn same_host(origin: &HeaderValue, headers: &HeaderMap) -> bool {
    let origin = origin.to_str().unwrap_or_default();
    let host = origin.split_once("://").map_or("", |(_, host)| host);
    let request_host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    !host.is_empty() && host.eq_ignore_ascii_case(request_host)
}

fn allow_origin(headers: &mut HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

/// The chat page's language: `?lang=ru|en`, else the browser's first of
/// the two (`Accept-Language`), else English. The widget says its own
/// words in it (it reads the page's `<html lang>`).
fn page_language(query: Option<&str>, headers: &HeaderMap) -> comops_core::Locale {
    let asked = query.and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("lang="))).and_then(comops_core::Locale::parse);
    asked
        .or_else(|| headers.get(header::ACCEPT_LANGUAGE).and_then(|h| h.to_str().ok()).and_then(comops_core::Locale::from_accept_language))
        .unwrap_or_default()
}

/// `GET /webchat/{botId}`: a page that is nothing but the widget, open.
async fn page(Extension(chat): Extension<ChatBot>, headers: HeaderMap, query: axum::extract::RawQuery) -> Response {
    let title = comops_core::html::escape(&chat.name);
    let bot = chat.bot.as_str();
    let lang = page_language(query.0.as_deref(), &headers).as_str();
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n\
         <style>html,body{{margin:0;height:100%;background:#eef1f5}}</style>\n</head>\n<body>\n\
         <script src=\"/webchat/{bot}/widget.js\" data-mode=\"page\" data-title=\"{title}\"></script>\n\
         </body>\n</html>\n"
    );
    let csp = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src https: http: data:; base-uri 'none'; form-action 'none'";
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The language follows the browser's.
            (header::VARY, "accept-language"),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}

/// `GET /webchat/{botId}/widget.js`: the same script for every bot; it
/// reads the bot and the server from its own `src`.
async fn widget() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// `POST /webchat/{botId}/sessions` `{"name": "Анна"}` (optional): a new
/// visitor. The token is shown once, to the browser that asked.
async fn create_session(
    State(state): State<AppState>,
    Extension(chat): Extension<ChatBot>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    state.webchat.limiter.check(&format!("session:{}", peer.ip()), SESSIONS_PER_MINUTE)?;
    let body = read_json(&headers, body, true).await?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default().trim();
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(invalid("name", "must be at most 64 characters"));
    }
    let token = VisitorToken::generate();
    let visitor = WebChatVisitor { chat_id: token.address(), bot_id: chat.bot.clone(), token_hash: token.hash(), name: name.to_string() };
    state.backend.store.create_webchat_visitor(&visitor).await?;
    Ok(Json(json!({ "success": true, "token": token.expose(), "chat_id": visitor.chat_id })))
}

/// A visitor checked against the store.
struct Visitor {
    chat_id: String,
    name: String,
}

impl Visitor {
    fn sender(&self) -> Sender {
        let name = if self.name.is_empty() { "Web visitor" } else { &self.name };
        Sender { id: self.chat_id.clone(), first_name: name.to_string(), username: None }
    }
}

/// The visitor presenting `Authorization: Bearer <token>` (or `token` from
/// the query string) to this bot; 401 otherwise.
async fn visitor(store: &Store, bot: &BotId, headers: &HeaderMap, query_token: Option<&str>) -> Result<Visitor, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .or(query_token)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthorized("Visitor token required".into()))?;
    let invalid = || ApiError::Unauthorized("Invalid visitor token".into());
    let token = VisitorToken::parse(presented).ok_or_else(invalid)?;
    let stored = store.webchat_visitor(&token.address()).await?.ok_or_else(invalid)?;
    if stored.bot_id != *bot || !constant_time_eq(stored.token_hash.as_bytes(), token.hash().as_bytes()) {
        return Err(invalid());
    }
    Ok(Visitor { chat_id: stored.chat_id, name: stored.name })
}

/// What a visitor may send, as `POST …/messages` reads it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum VisitorInput {
    /// Typed text (also what a reply button sends: its label).
    Text { text: String },
    /// A press on an inline button: its value, and its label for the log.
    Button {
        value: String,
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        message_id: Option<i64>,
    },
    /// The answer to a contact button: a typed phone number.
    Contact { phone: String },
    /// The chat was opened, possibly with a deep-link code.
    Start {
        #[serde(default)]
        payload: Option<String>,
    },
}

impl VisitorInput {
    /// Checks the values; `Err` is the 422.
    fn check(self) -> Result<Self, ApiError> {
        match self {
            Self::Text { text } => {
                let text = text.trim().to_string();
                if text.is_empty() || text.chars().count() > TEXT_LIMIT {
                    return Err(invalid("text", &format!("must be 1-{TEXT_LIMIT} characters")));
                }
                Ok(Self::Text { text })
            }
            Self::Button { value, label, message_id } => {
                if value.is_empty() || value.chars().count() > 256 {
                    return Err(invalid("value", "must be 1-256 characters"));
                }
                if label.as_ref().is_some_and(|l| l.chars().count() > 256) {
                    return Err(invalid("label", "must be at most 256 characters"));
                }
                Ok(Self::Button { value, label, message_id })
            }
            Self::Contact { phone } => {
                let phone = parse_phone(&phone).ok_or_else(|| invalid("phone", "must be a phone number like +79187777777"))?;
                Ok(Self::Contact { phone })
            }
            Self::Start { payload } => {
                let payload = payload.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
                if payload.as_ref().is_some_and(|p| p.len() > 64 || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
                    return Err(invalid("payload", "must be 1-64 characters of A-Z, a-z, 0-9, _ and -"));
                }
                Ok(Self::Start { payload })
            }
        }
    }

    /// What the conversation log shows for it (a start shows nothing).
    fn logged_text(&self) -> Option<String> {
        match self {
            Self::Text { text } => Some(text.clone()),
            Self::Button { value, label, .. } => Some(label.clone().unwrap_or_else(|| value.clone())),
            Self::Contact { phone } => Some(phone.clone()),
            Self::Start { .. } => None,
        }
    }

    fn into_event(self, visitor: &Visitor, logged: Option<&WebChatMessage>) -> InboundEvent {
        let (chat_id, from) = (visitor.chat_id.clone(), visitor.sender());
        match self {
            Self::Text { text } => InboundEvent::Text { chat_id, from, text },
            Self::Button { value, message_id, .. } => InboundEvent::Button {
                chat_id,
                data: value,
                callback_id: format!("{}:{}", from.id, logged.map_or(0, |m| m.id)),
                message_id: message_id.map(|id| id.to_string()),
                from,
            },
            Self::Contact { phone } => {
                InboundEvent::Contact { chat_id: chat_id.clone(), phone, first_name: from.first_name.clone(), user_id: Some(chat_id), from }
            }
            Self::Start { payload } => InboundEvent::Start { chat_id, from, payload },
        }
    }
}

/// `+7 (918) 777-77-77` → `+79187777777`: 5–15 digits, an optional `+`,
/// spaces, dashes, dots and parentheses ignored.
fn parse_phone(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (plus, rest) = match raw.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", raw),
    };
    if !rest.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')')) {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    (5..=15).contains(&digits.len()).then(|| format!("{plus}{digits}"))
}

/// `POST /webchat/{botId}/messages`: the visitor said something. It is
/// logged (so a reload shows it), then handled like any messenger's
/// update: a start binds a deep-link code, a reply resumes the waiting run.
async fn post_message(
    State(state): State<AppState>,
    Extension(chat): Extension<ChatBot>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let store = &state.backend.store;
    let visitor = visitor(store, &chat.bot, &headers, None).await?;
    state.webchat.limiter.check(&format!("visitor:{}", visitor.chat_id), MESSAGES_PER_MINUTE)?;
    let body = read_json(&headers, body, false).await?;
    let input: VisitorInput = serde_json::from_value(body).map_err(|e| ApiError::Unprocessable {
        message: "Expected {\"type\": \"text\" | \"button\" | \"contact\" | \"start\", …}".into(),
        errors: vec![PayloadError { field: "body".into(), message: e.to_string() }],
    })?;
    let input = input.check()?;
    let logged = match input.logged_text() {
        None => None,
        Some(text) => {
            let entry = NewWebChatMessage { text, ..Default::default() };
            let stored = store.append_webchat_message(&visitor.chat_id, Author::Visitor, &entry).await?.ok_or(ApiError::NotFound("Visitor not found"))?;
            state.webchat.hub.publish(&visitor.chat_id, &stored);
            Some(stored)
        }
    };
    let id = logged.as_ref().map(|m| m.id);
    let event = input.into_event(&visitor, logged.as_ref());
    crate::engine::inbound::handle(store, &state.http, &chat.bot, KIND, event).await?;
    Ok(Json(json!({ "success": true, "id": id })))
}

#[derive(Debug, Default, Deserialize)]
struct HistoryQuery {
    token: Option<String>,
    /// Messages older than this id (a page scrolling back).
    before: Option<i64>,
    /// Messages newer than this id (catching up); wins over `before`.
    after: Option<i64>,
    limit: Option<i64>,
}

/// `GET /webchat/{botId}/history?before=&after=&limit=`: one page of the
/// conversation, oldest first, and whether there is more in that direction.
async fn history(
    State(state): State<AppState>,
    Extension(chat): Extension<ChatBot>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let store = &state.backend.store;
    let visitor = visitor(store, &chat.bot, &headers, query.token.as_deref()).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let (messages, more) = match query.after {
        Some(after) => {
            let mut messages = store.webchat_messages_after(&visitor.chat_id, after, limit + 1).await?;
            let more = messages.len() as i64 > limit;
            messages.truncate(limit as usize);
            (messages, more)
        }
        None => {
            let mut messages = store.webchat_messages_before(&visitor.chat_id, query.before, limit + 1).await?;
            let more = messages.len() as i64 > limit;
            if more {
                messages.remove(0);
            }
            (messages, more)
        }
    };
    Ok(Json(json!({ "success": true, "chat_id": visitor.chat_id, "messages": messages, "more": more })))
}

#[derive(Debug, Default, Deserialize)]
struct StreamQuery {
    token: Option<String>,
    /// The last id the client has (`Last-Event-ID` wins when both are set).
    after: Option<i64>,
}

/// `GET /webchat/{botId}/stream?token=…&after=N`: Server-Sent Events, one
/// per message after N (or after `Last-Event-ID`, which `EventSource` sends
/// when it reconnects), each `id: <message id>` with the message as JSON
/// `data`; a comment every 15 s keeps proxies from closing a quiet stream.
async fn stream(
    State(state): State<AppState>,
    Extension(chat): Extension<ChatBot>,
    query: Result<Query<StreamQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let store = state.backend.store.clone();
    let visitor = visitor(&store, &chat.bot, &headers, query.token.as_deref()).await?;
    let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let after = last_event_id.or(query.after).unwrap_or(0).max(0);
    let listener = Listener::new(store, &state.webchat, visitor.chat_id, after);
    let body = Body::from_stream(futures_util::stream::unfold(listener, Listener::next_chunk));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store")),
            (HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no")),
        ],
        body,
    )
        .into_response())
}

/// One open stream: where it is in the conversation and what wakes it.
struct Listener {
    store: Store,
    hub: WebChatHub,
    chat_id: String,
    /// The id of the last message sent (or the client's `Last-Event-ID`).
    last: i64,
    wake: broadcast::Receiver<WebChatMessage>,
    closing: watch::Receiver<bool>,
    /// Frames ready to go out.
    ready: VecDeque<Bytes>,
    /// Whether the log may hold messages the hub did not hand us.
    check_log: bool,
    last_write: Instant,
}

impl Listener {
    fn new(store: Store, webchat: &WebChat, chat_id: String, after: i64) -> Self {
        // Subscribe before the first read of the log, so nothing stored in
        // between is missed.
        let wake = webchat.hub.subscribe(&chat_id);
        let mut ready = VecDeque::new();
        ready.push_back(Bytes::from(format!("retry: {RECONNECT_MS}\n{}", sse::comment("connected"))));
        Self {
            store,
            hub: webchat.hub.clone(),
            chat_id,
            last: after,
            wake,
            closing: webchat.closing.subscribe(),
            ready,
            check_log: true,
            last_write: Instant::now(),
        }
    }

    /// The next chunk of the body; `None` ends the stream (server shutdown).
    /// A client that goes away drops the body, and this with it.
    async fn next_chunk(mut self) -> Option<(Result<Bytes, std::convert::Infallible>, Self)> {
        loop {
            if *self.closing.borrow() {
                return None;
            }
            if let Some(chunk) = self.ready.pop_front() {
                self.last_write = Instant::now();
                return Some((Ok(chunk), self));
            }
            if self.check_log {
                self.check_log = false;
                match self.store.webchat_messages_after(&self.chat_id, self.last, 100).await {
                    Ok(messages) => {
                        // A full page: there may be more right away.
                        self.check_log = messages.len() == 100;
                        for message in messages {
                            self.push(&message);
                        }
                        if !self.ready.is_empty() {
                            continue;
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "web chat stream cannot read the log; retrying"),
                }
            }
            let keep_alive = tokio::time::sleep(KEEP_ALIVE_EVERY.saturating_sub(self.last_write.elapsed()));
            tokio::select! {
                woke = self.wake.recv() => match woke {
                    Ok(message) if message.id == self.last + 1 => self.push(&message),
                    Ok(message) if message.id <= self.last => {}
                    // Out of order or missed some: the log has them all.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => self.check_log = true,
                    Err(broadcast::error::RecvError::Closed) => {
                        self.wake = self.hub.subscribe(&self.chat_id);
                        self.check_log = true;
                    }
                },
                _ = tokio::time::sleep(POLL_EVERY) => self.check_log = true,
                _ = keep_alive => self.ready.push_back(Bytes::from(sse::comment("keep-alive"))),
                _ = self.closing.changed() => return None,
            }
        }
    }

    fn push(&mut self, message: &WebChatMessage) {
        let data = serde_json::to_string(message).unwrap_or_else(|_| "{}".into());
        self.ready.push_back(Bytes::from(sse::event(message.id, &data)));
        self.last = message.id;
    }
}

/// The Server-Sent Events wire format
/// (<https://html.spec.whatwg.org/multipage/server-sent-events.html>).
mod sse {
    /// One event with an id (what `Last-Event-ID` echoes) and data; each
    /// line of the data becomes its own `data:` line, so the client gets
    /// the text back exactly. No `event:` field: `onmessage` receives it.
    pub fn event(id: i64, data: &str) -> String {
        let mut frame = format!("id: {id}\n");
        for line in data.replace("\r\n", "\n").split(['\n', '\r']) {
            frame.push_str("data: ");
            frame.push_str(line);
            frame.push('\n');
        }
        frame.push('\n');
        frame
    }

    /// A comment line, which clients ignore (keep-alives).
    pub fn comment(text: &str) -> String {
        format!(": {}\n\n", text.replace(['\r', '\n'], " "))
    }
}

/// Reads a JSON body: `application/json`, at most [`BODY_LIMIT`] bytes, an
/// object. `empty_ok`: no body at all reads as `{}`.
async fn read_json(headers: &HeaderMap, body: Body, empty_ok: bool) -> Result<Value, ApiError> {
    let too_large = || ApiError::PayloadTooLarge { limit_bytes: BODY_LIMIT };
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|n| n > BODY_LIMIT) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| too_large())?;
    if bytes.is_empty() && empty_ok {
        return Ok(json!({}));
    }
    let mime = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = mime.split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("Malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest("The body must be a JSON object".into()));
    }
    Ok(value)
}

/// A query string that does not parse (e.g. `?after=abc`): 400 as JSON.
fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::BadRequest(rejection.body_text())
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::Unprocessable { message: format!("Invalid {field}"), errors: vec![PayloadError { field: field.into(), message: message.into() }] }
}

/// Token buckets per visitor (and per client address for new sessions),
/// in process memory.
#[derive(Debug, Default)]
struct Limiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    /// Takes one request from `key`'s bucket of `per_minute`, or 429.
    fn check(&self, key: &str, per_minute: u32) -> Result<(), ApiError> {
        self.take(key, per_minute, Instant::now())
            .map_err(|wait| ApiError::TooManyRequests { retry_after_secs: wait.as_secs().max(1) })
    }

    fn take(&self, key: &str, per_minute: u32, now: Instant) -> Result<(), Duration> {
        let capacity = f64::from(per_minute);
        let per_sec = capacity / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 10_000 {
            // Buckets idle for a minute are full again: forget them.
            buckets.retain(|_, (_, at)| now.saturating_duration_since(*at) < Duration::from_secs(60));
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_sec).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / per_sec).max(Duration::from_secs(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chat_page_speaks_the_asked_language_else_the_browsers() {
        let browser = |accept: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(accept).unwrap());
            headers
        };
        assert_eq!(page_language(None, &browser("ru-RU,ru;q=0.9,en;q=0.8")), comops_core::Locale::Ru);
        assert_eq!(page_language(None, &browser("de-DE,en;q=0.5,ru;q=0.3")), comops_core::Locale::En);
        assert_eq!(page_language(Some("start=abc&lang=ru"), &browser("en")), comops_core::Locale::Ru);
        assert_eq!(page_language(Some("lang=xx"), &browser("ru")), comops_core::Locale::Ru, "an unknown ?lang= falls back");
        assert_eq!(page_language(None, &HeaderMap::new()), comops_core::Locale::En);
    }

    #[test]
    fn an_event_carries_its_id_and_every_line_of_data() {
        assert_eq!(sse::event(7, r#"{"text":"Привет"}"#), "id: 7\ndata: {\"text\":\"Привет\"}\n\n");
        assert_eq!(sse::event(8, "a\nb\r\nc\rd"), "id: 8\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
        assert_eq!(sse::event(9, ""), "id: 9\ndata: \n\n");
    }

    #[test]
    fn a_message_as_json_is_one_data_line() {
        let message = WebChatMessage { id: 3, from: Author::Bot, text: "Строка 1\nСтрока 2".into(), buttons: vec![], media_url: None, at: 5 };
        let frame = sse::event(message.id, &serde_json::to_string(&message).unwrap());
        assert_eq!(frame.matches("data: ").count(), 1, "JSON escapes newlines: {frame}");
        let data = frame.strip_prefix("id: 3\ndata: ").and_then(|rest| rest.strip_suffix("\n\n")).unwrap();
        let back: WebChatMessage = serde_json::from_str(data).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn comments_cannot_break_the_framing() {
        assert_eq!(sse::comment("keep-alive"), ": keep-alive\n\n");
        assert_eq!(sse::comment("a\nid: 5"), ": a id: 5\n\n");
    }

    #[test]
    fn phones_are_digits_with_an_optional_plus() {
        assert_eq!(parse_phone("+7 (918) 777-77-77").as_deref(), Some("+79187777777"));
        assert_eq!(parse_phone("89187777777").as_deref(), Some("89187777777"));
        assert_eq!(parse_phone("call me"), None);
        assert_eq!(parse_phone("+1234"), None);
        assert_eq!(parse_phone("1".repeat(16).as_str()), None);
    }

    #[test]
    fn visitors_get_twenty_messages_a_minute() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for _ in 0..20 {
            assert!(limiter.take("visitor:wc_1", 20, start).is_ok());
        }
        let wait = limiter.take("visitor:wc_1", 20, start).unwrap_err();
        assert!(wait >= Duration::from_secs(2) && wait <= Duration::from_secs(3), "{wait:?}");
        assert!(limiter.take("visitor:wc_2", 20, start).is_ok(), "per visitor");
        assert!(limiter.take("visitor:wc_1", 20, start + Duration::from_secs(3)).is_ok());
    }

    #[test]
    fn only_our_own_host_counts_as_same_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:3417"));
        assert!(same_host(&HeaderValue::from_static("http://127.0.0.1:3417"), &headers));
        assert!(!same_host(&HeaderValue::from_static("http://127.0.0.1:9999"), &headers));
        assert!(!same_host(&HeaderValue::from_static("null"), &headers));
    }
}
