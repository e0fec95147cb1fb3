//! Per-bot API docs for integrators, generated from the endpoint table:
//!
//! - `GET /docs/{botId}/openapi.json`: OpenAPI 3.1 of exactly the bot's
//!   enabled endpoints, one path `POST /bots/{botId}/call/{alias}` each.
//! - `GET /docs/{botId}`: the same as a browsable HTML page (a plain
//!   server-rendered string, no framework) with curl examples and a
//!   "try it" form per endpoint that sends a dry run by default, in the
//!   reader's language (English or Russian, as the studio).
//!
//! Who may read them: a studio user (session cookie, any role) or a live
//! bearer token that reaches this bot. A browser without either is sent to
//! the login page; everyone else gets the JSON 401 of [`ApiError`].
//!
//! Endpoint texts are typed by users, so every value goes through
//! [`escape_html`] on the way into HTML, and JSON for the page's script goes
//! through [`json_for_script`] so it cannot close its `<script>` element.

use comops_core::call::answer;
use super::{bearer_token, ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use comops_app::i18n::{endpoint_count_text, t, K};
use comops_app::session::SessionInfo;
use comops_core::schema::{RequestSchema, SchemaField};
use comops_core::store::{now_millis, StoreError};
use comops_core::token::{Denial, TokenAction};
use comops_core::{ApiToken, Bot, BotId, Endpoint, Locale};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::fmt::Write as _;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/docs/{bot_id}", get(page))
        .route("/docs/{bot_id}/openapi.json", get(openapi))
}

// ---------------------------------------------------------------------------
// Handlers and access

/// `GET /docs/{botId}/openapi.json`.
async fn openapi(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    session: Option<Extension<SessionInfo>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let bot = BotId::in_path(&bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let (bot, token) = authorize(&state, &headers, session.as_deref(), &bot).await?;
    let endpoints = enabled_endpoints(&state, &bot, token.as_ref()).await?;
    let origin = request_origin(&headers, state.backend.secure_cookies);
    Ok(Json(openapi_document(&bot, &endpoints, origin.as_deref())))
}

/// `GET /docs/{botId}`: the HTML page, or a redirect to the login page for
/// a browser that has neither a session nor a token. A browser asking for
/// a bot that does not exist gets the 404 page, a program the JSON error.
async fn page(
    State(state): State<AppState>,
    Path(bot_id): Path<String>,
    session: Option<Extension<SessionInfo>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match docs_page(&state, &bot_id, session, &headers).await {
        Err(ApiError::NotFound(_)) if super::wants_html(&headers) => Ok(super::page_not_found()),
        other => other,
    }
}

async fn docs_page(state: &AppState, bot_id: &str, session: Option<Extension<SessionInfo>>, headers: &HeaderMap) -> Result<Response, ApiError> {
    let bot = BotId::in_path(bot_id).ok_or(ApiError::NotFound(answer::BOT_NOT_FOUND))?;
    let signed_in = session.as_ref().is_some_and(|s| s.user.is_some());
    if !signed_in && !headers.contains_key(header::AUTHORIZATION) && super::wants_html(headers) {
        // A parsed BotId is lowercase letters, digits, `_` and `-`: safe in
        // a query string as it is.
        return Ok(Redirect::to(&format!("/login?next=/docs/{bot}")).into_response());
    }
    let (bot, token) = authorize(state, headers, session.as_deref(), &bot).await?;
    let endpoints = enabled_endpoints(state, &bot, token.as_ref()).await?;
    let origin = request_origin(headers, state.backend.secure_cookies).unwrap_or_default();
    let nonce = script_nonce();
    let locale = session.as_ref().map(|s| s.locale).unwrap_or_default();
    let html = render_page(&bot, &endpoints, &origin, &nonce, locale);
    let mut response = Html(html).into_response();
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; connect-src 'self'; \
         form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    Ok(response)
}

/// The bot, if the request may read its docs: a studio session, or a live
/// token that reaches this bot (any action: admin readers and callers
/// alike), with that token (none for a session). Unknown bots are 404 once
/// the caller has shown a credential that reaches them: a token for other
/// bots hears 403 first, as on the call route, and learns nothing of
/// which bots exist (ids like `bot_123` can be guessed).
async fn authorize(state: &AppState, headers: &HeaderMap, session: Option<&SessionInfo>, bot: &BotId) -> Result<(Bot, Option<ApiToken>), ApiError> {
    let store = &state.backend.store;
    if session.is_some_and(|s| s.user.is_some()) {
        return Ok((existing_bot(state, bot).await?, None));
    }
    let token = bearer_token(headers, store).await?;
    match token.check_admin(bot, TokenAction::AdminRead, now_millis()) {
        Ok(()) => Ok((existing_bot(state, bot).await?, Some(token))),
        // Live and in scope for this bot, just not an admin reader: callers
        // read the docs of what they call.
        Err(Denial::Action(_)) if token.scope.actions.iter().any(|a| matches!(a, TokenAction::Call | TokenAction::DryRun)) => {
            Ok((existing_bot(state, bot).await?, Some(token)))
        }
        Err(denial) => Err(super::call::denial_error(denial)),
    }
}

/// The bot `id`, or 404 `Bot not found`.
async fn existing_bot(state: &AppState, id: &BotId) -> Result<Bot, ApiError> {
    match state.backend.store.bot(id).await {
        Ok(bot) => Ok(bot),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(answer::BOT_NOT_FOUND)),
        Err(other) => Err(other.into()),
    }
}

/// The endpoints the integration API answers for: enabled ones of an
/// enabled bot, by alias (a disabled bot answers 404 to every call, so it
/// documents none). A token that may only call does not see an isolated
/// endpoint it does not name: it could not call it, and isolation is meant
/// to hide it.
async fn enabled_endpoints(state: &AppState, bot: &Bot, token: Option<&ApiToken>) -> Result<Vec<Endpoint>, ApiError> {
    if !bot.enabled {
        return Ok(Vec::new());
    }
    let mut endpoints = state.backend.store.list_endpoints(&bot.id).await?;
    endpoints.retain(|e| e.enabled);
    let caller = token.filter(|t| !t.scope.actions.iter().any(|a| matches!(a, TokenAction::AdminRead | TokenAction::AdminWrite)));
    if let Some(caller) = caller {
        endpoints.retain(|e| !e.isolated || caller.scope.aliases.iter().any(|p| p.names(&e.alias)));
    }
    Ok(endpoints)
}

/// `scheme://host` of the request, from its Host header; `None` when the
/// header is missing or not a plain host name. The scheme follows a
/// proxy's `X-Forwarded-Proto`, else HTTPS when cookies are `Secure`.
fn request_origin(headers: &HeaderMap, secure: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !plain {
        return None;
    }
    let forwarded = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(str::trim);
    let scheme = match forwarded {
        Some("https") => "https",
        Some("http") => "http",
        _ if secure => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// A fresh nonce for the page's one inline script.
fn script_nonce() -> String {
    comops_core::auth::new_secret().0.chars().take(32).collect()
}

// ---------------------------------------------------------------------------
// OpenAPI

/// The OpenAPI 3.1 document of `endpoints` (already the enabled ones).
fn openapi_document(bot: &Bot, endpoints: &[Endpoint], origin: Option<&str>) -> Value {
    let mut paths = Map::new();
    let mut operation_ids = HashSet::new();
    for endpoint in endpoints {
        let id = unique_operation_id(&endpoint.alias.to_string(), &mut operation_ids);
        paths.insert(call_path(&bot.id, endpoint), json!({ "post": operation(endpoint, &id) }));
    }
    let mut description = format!(
        "Integration API of the bot `{}`: each operation starts the communication bound to one endpoint. \
         Send `X-Dry-Run: true` (or `?dry_run=true`) to validate and preview without sending anything.",
        bot.id
    );
    if !bot.description.is_empty() {
        description = format!("{}\n\n{description}", bot.description);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{} — ComOps integration API", bot.name),
            "version": "1",
            "description": description,
        },
        "servers": [{ "url": origin.unwrap_or("/") }],
        "security": [{ "bearerAuth": [] }],
        "paths": paths,
        "components": components(),
    })
}

/// `/bots/{botId}/call/{alias}` with the bot id written out.
fn call_path(bot: &BotId, endpoint: &Endpoint) -> String {
    format!("/bots/{bot}/call/{}", endpoint.alias)
}

/// One `post` operation.
fn operation(endpoint: &Endpoint, operation_id: &str) -> Value {
    let alias = endpoint.alias.to_string();
    let summary = match endpoint.description.lines().next().map(str::trim) {
        Some(line) if !line.is_empty() => line.chars().take(120).collect(),
        _ => alias.clone(),
    };
    let parameters: Vec<Value> = ["IdempotencyKey", "Traceparent", "XDryRun", "XSourceSystem", "DryRunQuery"]
        .iter()
        .map(|name| json!({ "$ref": format!("#/components/parameters/{name}") }))
        .collect();
    let mut op = json!({
        "operationId": operation_id,
        "summary": summary,
        "tags": [alias.split('/').next().unwrap_or(&alias)],
        "parameters": parameters,
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": body_schema(&endpoint.schema), "example": endpoint.example } },
        },
        "responses": responses(endpoint),
    });
    if !endpoint.description.is_empty() {
        op["description"] = json!(endpoint.description);
    }
    if !endpoint.owner.is_empty() {
        op["x-owner"] = json!(endpoint.owner);
    }
    if endpoint.isolated {
        op["x-isolated"] = json!(true);
    }
    op
}

/// The request body: the plain object, or the same object wrapped in
/// `script_request_params`. The plain form may not carry that key, so
/// exactly one branch of the `oneOf` matches any body.
fn body_schema(schema: &RequestSchema) -> Value {
    let params = schema.to_json_schema();
    let mut plain = params.clone();
    plain["not"] = json!({ "required": ["script_request_params"] });
    json!({
        "oneOf": [
            plain,
            {
                "type": "object",
                "required": ["script_request_params"],
                "properties": { "script_request_params": params },
            },
        ]
    })
}

/// 200 and every error status of the call API.
fn responses(endpoint: &Endpoint) -> Value {
    let ok = if endpoint.response_description.trim().is_empty() {
        "Accepted: the event is stored (or, in a dry run, validated and previewed).".to_string()
    } else {
        endpoint.response_description.clone()
    };
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": ok,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CallResult" } } },
        }),
    );
    for (status, name) in ERROR_RESPONSES {
        responses.insert(status.to_string(), json!({ "$ref": format!("#/components/responses/{name}") }));
    }
    Value::Object(responses)
}

/// Error statuses of `call/{alias}` and their shared response names.
const ERROR_RESPONSES: [(u16, &str); 11] = [
    (400, "BadRequest"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "NotFound"),
    (409, "Conflict"),
    (413, "PayloadTooLarge"),
    (415, "UnsupportedMediaType"),
    (422, "Unprocessable"),
    (429, "TooManyRequests"),
    (500, "InternalError"),
    (503, "Unavailable"),
];

/// Schemas, parameters, responses and the security scheme shared by every
/// operation.
fn components() -> Value {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
        })
    };
    let header = |name: &str, description: &str, schema: Value| {
        json!({ "name": name, "in": "header", "required": false, "description": description, "schema": schema })
    };
    json!({
        "securitySchemes": {
            "bearerAuth": { "type": "http", "scheme": "bearer", "description": "An API token issued in the studio: `comops_…`." },
        },
        "schemas": {
            "CallResult": {
                "type": "object",
                "required": ["success", "message", "trace_id", "dry_run", "recipients"],
                "properties": {
                    "success": { "const": true },
                    "message": { "type": "string", "examples": ["Communication sent", "Nobody reached: every recipient has blocked the bot or was deactivated"] },
                    "trace_id": { "type": "string" },
                    "event_id": { "type": "string", "description": "Live calls only." },
                    "skipped": { "type": "integer", "description": "Live calls only: recipients left without a new run because one from this endpoint is still active for them (SPEC §4); absent when none." },
                    "dry_run": { "type": "boolean" },
                    "recipients": {
                        "type": "object",
                        "properties": {
                            "resolved": { "type": "integer" },
                            "leads": { "type": "array", "items": { "type": "string" } },
                            "unresolved": { "type": "array", "items": { "type": "string" }, "description": "Recipient ids that resolve to no lead with an active address (first 100)." },
                            "inactive": { "type": "array", "items": { "type": "string" }, "description": "Of `unresolved`, the ids known on this bot whose every address is inactive: the person blocked the bot or was deactivated (first 100); absent when none." },
                        },
                    },
                    "preview": {
                        "type": "object",
                        "description": "Dry runs only: what the run would send up to its first wait.",
                        "properties": {
                            "scenario": { "type": "string" },
                            "messages": { "type": "array", "items": {} },
                        },
                    },
                },
            },
            "Error": {
                "type": "object",
                "required": ["success", "message"],
                "properties": { "success": { "const": false }, "message": { "type": "string" } },
            },
            "ValidationError": {
                "allOf": [
                    { "$ref": "#/components/schemas/Error" },
                    {
                        "type": "object",
                        "required": ["errors"],
                        "properties": {
                            "errors": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["field", "message"],
                                    "properties": { "field": { "type": "string" }, "message": { "type": "string" } },
                                },
                            },
                        },
                    },
                ],
            },
        },
        "parameters": {
            "IdempotencyKey": header("Idempotency-Key", "Same key and body: the first answer again (kept at least 24 h); same key, other body: 409.", json!({ "type": "string", "minLength": 1, "maxLength": 255 })),
            "Traceparent": header("traceparent", "W3C trace context; propagated to outbound calls.", json!({ "type": "string" })),
            "XDryRun": header("X-Dry-Run", "`true`: validate, resolve recipients and preview; send nothing.", json!({ "type": "string", "enum": ["true", "false"] })),
            "XSourceSystem": header("X-Source-System", "Name of the calling system, shown in traces.", json!({ "type": "string" })),
            "DryRunQuery": { "name": "dry_run", "in": "query", "required": false, "description": "Same as `X-Dry-Run`.", "schema": { "type": "boolean" } },
        },
        "responses": {
            "BadRequest": error("Malformed JSON, or a header or query value that is not allowed (X-Dry-Run, dry_run)."),
            "Unauthorized": error("Invalid, expired or revoked token."),
            "Forbidden": error("The token does not cover this bot, endpoint or action."),
            "NotFound": error("Endpoint not found."),
            "Conflict": error("Idempotency-Key already used with a different request."),
            "PayloadTooLarge": error("Request body too large."),
            "UnsupportedMediaType": error("Content-Type must be application/json."),
            "Unprocessable": {
                "description": "The body does not match the endpoint's schema; one entry per field.",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ValidationError" } } },
            },
            "TooManyRequests": {
                "description": "The token's rate limit is exceeded.",
                "headers": { "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "integer" } } },
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
            },
            "InternalError": error("Scenario or server error (names the step, never a stack trace)."),
            "Unavailable": {
                "description": "The database is out of reach (restarting): the call may not have been stored. Send it again, with its Idempotency-Key.",
                "headers": { "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "integer" } } },
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
            },
        },
    })
}

/// `order/thank-you` → `orderThankYou`, made unique within the document.
fn unique_operation_id(alias: &str, taken: &mut HashSet<String>) -> String {
    let base = operation_id(alias);
    let mut candidate = base.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{base}{n}");
        n += 1;
    }
    candidate
}

/// Camel case of an alias' words (split at `/`, `-` and `_`).
fn operation_id(alias: &str) -> String {
    let mut id = String::new();
    for word in alias.split(['/', '-', '_']).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if id.is_empty() {
                id.push(first);
            } else {
                id.push(first.to_ascii_uppercase());
            }
            id.extend(chars);
        }
    }
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert_str(0, "call");
    }
    id
}

// ---------------------------------------------------------------------------
// HTML

// Text for HTML element content and quoted attribute values (one escaper
// for the server's pages and the studio's).
pub(crate) use comops_core::html::escape as escape_html;

/// JSON for a `<script type="application/json">`: `<`, `>` and `&` only
/// occur inside JSON strings, where their `\u` escapes mean the same.
pub(crate) fn json_for_script(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Quotes `text` for a POSIX shell (single quotes).
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The whole page.
fn render_page(bot: &Bot, endpoints: &[Endpoint], origin: &str, nonce: &str, locale: Locale) -> String {
    let bot_id = escape_html(bot.id.as_str());
    let title = escape_html(&bot.name);
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {api_docs}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>{title} <small>API</small></h1>
<p class="muted">{bot_word} <code>{bot_id}</code> · {count} ·
<a href="/docs/{bot_id}/openapi.json">openapi.json</a> (OpenAPI 3.1)</p>
"#,
        lang = locale.as_str(),
        api_docs = t(locale, K::DocsApiDocs),
        bot_word = t(locale, K::DocsBot),
        count = endpoint_count_text(locale, endpoints.len()),
    );
    if !bot.description.is_empty() {
        let _ = writeln!(html, "<p>{}</p>", escape_html(&bot.description));
    }
    if !bot.enabled {
        let _ = writeln!(html, "<p class=\"notice\" id=\"bot-disabled\">{}</p>", t(locale, K::DocsBotDisabled));
    }
    html.push_str(&intro(origin, &bot_id, locale));
    html.push_str("</header>\n<main>\n");
    html.push_str(&overview_table(endpoints, locale));
    for endpoint in endpoints {
        html.push_str(&endpoint_section(&bot.id, endpoint, origin, locale));
    }
    html.push_str("</main>\n");
    let config = json!({
        "botId": bot.id.as_str(),
        "callBase": format!("/bots/{}/call/", bot.id),
        "sending": t(locale, K::DocsSending),
        "networkError": t(locale, K::DocsNetworkError),
    });
    let _ = write!(
        html,
        "<script type=\"application/json\" id=\"docs-config\">{}</script>\n<script nonce=\"{}\">{SCRIPT}</script>\n</body>\n</html>\n",
        json_for_script(&config),
        escape_html(nonce),
    );
    html
}

/// How to call: base URL, authentication, dry runs, and the token field
/// shared by every "try it" form.
fn intro(origin: &str, bot_id: &str, locale: Locale) -> String {
    let call = format!("<code>POST {}/bots/{bot_id}/call/&lt;alias&gt;</code>", escape_html(origin));
    format!(
        r#"<section class="intro">
<p>{how}</p>
<label class="token">{token_label}
<input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="comops_…"></label>
<p class="muted small">{token_kept}</p>
</section>
"#,
        how = t(locale, K::DocsHowToCall).replace("{call}", &call),
        token_label = t(locale, K::DocsTokenLabel),
        token_kept = t(locale, K::DocsTokenKept),
    )
}

/// One row per endpoint: alias, description, owner, fields, response.
fn overview_table(endpoints: &[Endpoint], locale: Locale) -> String {
    if endpoints.is_empty() {
        return format!("<p class=\"empty\">{}</p>\n", t(locale, K::DocsNoEndpoints));
    }
    let mut html = String::from("<table class=\"overview\">\n<thead><tr>");
    for heading in [K::DocsAlias, K::DocsDescription, K::DocsOwner, K::DocsRequestFields, K::DocsResponse].map(|key| t(locale, key)) {
        let _ = write!(html, "<th>{heading}</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for endpoint in endpoints {
        let fields: Vec<String> = endpoint
            .schema
            .fields
            .iter()
            .map(|f| format!("<code>{}</code>{}", escape_html(&f.name), if f.required { "*" } else { "" }))
            .collect();
        let _ = writeln!(
            html,
            "<tr><td><a href=\"#{anchor}\"><code>{alias}</code></a></td><td>{description}</td><td>{owner}</td><td>{fields}</td><td>{response}</td></tr>",
            anchor = escape_html(&anchor(endpoint)),
            alias = escape_html(endpoint.alias.as_str()),
            description = escape_html(&endpoint.description),
            owner = escape_html(&endpoint.owner),
            fields = if fields.is_empty() { "—".into() } else { fields.join(", ") },
            response = escape_html(&response_text(endpoint)),
        );
    }
    let _ = writeln!(html, "</tbody>\n</table>\n<p class=\"muted small\">* {}</p>", t(locale, K::DocsRequired));
    html
}

/// The anchor of an endpoint's section (the studio links to it).
fn anchor(endpoint: &Endpoint) -> String {
    endpoint.alias.docs_anchor()
}

/// What a successful call answers, in words.
fn response_text(endpoint: &Endpoint) -> String {
    if endpoint.response_description.trim().is_empty() {
        "200 {\"success\": true, \"message\": \"Communication sent\", \"trace_id\": …}".into()
    } else {
        endpoint.response_description.clone()
    }
}

/// The detailed section of one endpoint: fields, example, curl, try it.
fn endpoint_section(bot: &BotId, endpoint: &Endpoint, origin: &str, locale: Locale) -> String {
    let alias = escape_html(endpoint.alias.as_str());
    let path = format!("/bots/{bot}/call/{}", endpoint.alias);
    let example = serde_json::to_string_pretty(&endpoint.example).unwrap_or_else(|_| "{}".into());
    let mut html = String::new();
    let _ = write!(
        html,
        "<section class=\"endpoint\" id=\"{anchor}\">\n<h2><span class=\"method\">POST</span> <code>{path}</code></h2>\n",
        anchor = escape_html(&anchor(endpoint)),
        path = escape_html(&path),
    );
    if !endpoint.description.is_empty() {
        let _ = writeln!(html, "<p class=\"description\">{}</p>", escape_html(&endpoint.description));
    }
    let mut facts = Vec::new();
    if !endpoint.owner.is_empty() {
        facts.push(format!("{}: {}", t(locale, K::DocsOwner), escape_html(&endpoint.owner)));
    }
    if endpoint.isolated {
        facts.push(t(locale, K::DocsIsolated).into());
    }
    if !endpoint.on_blocked.is_empty() {
        facts.push(format!("{}: <code>{}</code>", t(locale, K::DocsOnBlocked), escape_html(&endpoint.on_blocked)));
    }
    if !facts.is_empty() {
        let _ = writeln!(html, "<p class=\"muted\">{}</p>", facts.join(" · "));
    }
    html.push_str(&fields_table(&endpoint.schema.fields, locale));
    let _ = write!(
        html,
        "<h3>{example_word}</h3>\n<pre>{example}</pre>\n<h3>{response_word}</h3>\n<p>{response}</p>\n<h3>curl</h3>\n<pre>{curl}</pre>\n",
        example_word = t(locale, K::DocsExampleRequest),
        response_word = t(locale, K::DocsResponse),
        example = escape_html(&example),
        response = escape_html(&response_text(endpoint)),
        curl = escape_html(&curl_example(origin, &path, &endpoint.example)),
    );
    let _ = write!(
        html,
        r#"<h3>{try_it}</h3>
<form class="try" data-alias="{alias}">
<textarea name="body" rows="{rows}" spellcheck="false" aria-label="{body_label}">{example}</textarea>
<div class="actions"><label><input type="checkbox" name="dry" checked> {dry_run}</label>
<button type="submit">{send}</button> <span class="status" role="status"></span></div>
<pre class="result" hidden></pre>
</form>
</section>
"#,
        try_it = t(locale, K::DocsTryIt),
        body_label = t(locale, K::DocsBodyLabel),
        dry_run = t(locale, K::DocsDryRun),
        send = t(locale, K::DocsSend),
        rows = example.lines().count().clamp(3, 16) + 1,
        example = escape_html(&example),
    );
    html
}

/// The request fields: name, type, required, enum, format, description.
fn fields_table(fields: &[SchemaField], locale: Locale) -> String {
    if fields.is_empty() {
        return format!("<p class=\"muted\">{}</p>\n", t(locale, K::DocsNoFields));
    }
    let mut html = String::from("<table class=\"fields\">\n<thead><tr>");
    for heading in [K::DocsField, K::DocsType, K::DocsRequiredColumn, K::DocsAllowedValues, K::DocsFormat, K::DocsDescription].map(|key| t(locale, key)) {
        let _ = write!(html, "<th>{heading}</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for field in fields {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&field.name),
            field.kind.as_str(),
            if field.required { t(locale, K::DocsYes) } else { t(locale, K::DocsNo) },
            escape_html(&field.enum_values.join(", ")),
            field.format.map(|f| f.as_str()).unwrap_or(""),
            escape_html(&field.description),
        );
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// A copy-paste curl command for a dry run of `path`.
fn curl_example(origin: &str, path: &str, example: &Value) -> String {
    format!(
        "curl -X POST {url} \\\n  -H \"Authorization: Bearer $COMOPS_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  -H 'X-Dry-Run: true' \\\n  -d {body}",
        url = shell_quote(&format!("{origin}{path}")),
        body = shell_quote(&example.to_string()),
    )
}

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #2f6f8f; --bg-soft: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 2rem 1.25rem 4rem; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); }
h1 { margin: 0 0 .25rem; font-size: 1.75rem; } h1 small { color: var(--muted); font-weight: 400; }
h2 { margin: 0 0 .5rem; font-size: 1.2rem; } h3 { margin: 1.25rem 0 .4rem; font-size: 1rem; color: var(--muted); }
a { color: var(--accent); }
code, pre, textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
pre { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
table { width: 100%; border-collapse: collapse; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; font-size: .85rem; color: var(--muted); }
.muted { color: var(--muted); } .small { font-size: .85rem; }
.notice { border: 1px solid #fcd34d; background: #fffbeb; color: #78350f; padding: .5rem .75rem; border-radius: 4px; }
.intro { margin: 1.25rem 0 2rem; }
.token { display: block; font-weight: 600; margin-top: 1rem; }
.token input { display: block; width: min(32rem, 100%); margin-top: .3rem; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
.endpoint { border-top: 1px solid var(--line); padding-top: 1.75rem; margin-top: 2rem; }
.method { background: var(--accent); color: #fff; border-radius: 4px; padding: .05rem .4rem; font-size: .8rem; vertical-align: middle; }
textarea { width: 100%; padding: .6rem; border: 1px solid var(--line); border-radius: 6px; }
.actions { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; margin: .5rem 0; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .45rem 1.1rem; font: inherit; cursor: pointer; }
button:disabled { opacity: .6; cursor: wait; }
.status { font-weight: 600; }
"#;

/// The "try it" behaviour: one token field (sessionStorage), one fetch per
/// form. Responses are shown with `textContent`, never parsed as HTML.
const SCRIPT: &str = r#"
(function () {
  var config = JSON.parse(document.getElementById('docs-config').textContent);
  var key = 'comops-docs-token';
  var token = document.getElementById('token');
  try { token.value = sessionStorage.getItem(key) || ''; } catch (e) {}
  token.addEventListener('input', function () {
    try { sessionStorage.setItem(key, token.value); } catch (e) {}
  });
  document.querySelectorAll('form.try').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var status = form.querySelector('.status');
      var result = form.querySelector('.result');
      var button = form.querySelector('button');
      var headers = { 'Content-Type': 'application/json' };
      var secret = token.value.trim();
      if (secret) { headers['Authorization'] = 'Bearer ' + secret; }
      if (form.elements.dry.checked) { headers['X-Dry-Run'] = 'true'; }
      button.disabled = true;
      status.textContent = config.sending;
      fetch(config.callBase + form.dataset.alias, { method: 'POST', headers: headers, body: form.elements.body.value, credentials: 'omit' })
        .then(function (response) {
          return response.text().then(function (text) {
            var shown = text;
            try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
            status.textContent = response.status + ' ' + response.statusText;
            result.textContent = shown;
            result.hidden = false;
          });
        })
        .catch(function (error) { status.textContent = config.networkError + ': ' + error.message; })
        .finally(function () { button.disabled = false; });
    });
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element() {
        let text = json_for_script(&json!({ "alias": "</script><script>alert(1)</script>" }));
        assert!(!text.contains('<'));
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["alias"], "</script><script>alert(1)</script>");
    }

    #[test]
    fn operation_ids_are_camel_case_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(unique_operation_id("order/thank-you", &mut taken), "orderThankYou");
        assert_eq!(unique_operation_id("order/thank_you", &mut taken), "orderThankYou2");
        assert_eq!(operation_id("2fa/send"), "call2faSend");
    }

    #[test]
    fn shell_quotes_survive_apostrophes() {
        assert_eq!(shell_quote(r#"{"name":"O'Neil"}"#), r#"'{"name":"O'\''Neil"}'"#);
    }

    #[test]
    fn origin_comes_from_a_plain_host_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_origin(&headers, false), None);
        headers.insert(header::HOST, HeaderValue::from_static("crm.example.com:8080"));
        assert_eq!(request_origin(&headers, false).as_deref(), Some("http://crm.example.com:8080"));
        assert_eq!(request_origin(&headers, true).as_deref(), Some("https://crm.example.com:8080"));
        headers.insert(header::HOST, HeaderValue::from_static("evil.com/\"><script>"));
        assert_eq!(request_origin(&headers, false), None);
    }
}
