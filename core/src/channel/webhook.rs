//! The generic webhook: the bot's messages as signed HTTP calls, for any
//! system that is not a messenger we know (a help desk, an in-house app, a
//! test harness).
//!
//! Outbound, every message is `POST <url>` with a JSON body
//!
//! ```json
//! {"message_id": "…", "chat_id": "…", "text": "…", "buttons": [ … ], "media_url": null}
//! ```
//!
//! and three headers: `Idempotency-Key` (our message id, the same on every
//! retry, so the receiver can drop a repeat after a lost answer),
//! `X-ComOps-Timestamp` (unix seconds) and `X-ComOps-Signature:
//! sha256=<hex>` — HMAC-SHA256 with the shared secret over
//! `"<timestamp>.<raw body>"`. Signing the timestamp with the body lets the
//! receiver refuse an old request replayed by someone who captured it.
//!
//! The receiver's answer maps onto the [`ChannelError`] taxonomy in
//! [`classify`]: 2xx delivered (`{"id": …}` in the answer becomes the
//! provider id), 429 throttled (`Retry-After` in seconds or as an HTTP
//! date), 410 Gone blocked (the address no longer exists), any other 4xx a
//! bad request, 5xx and network trouble transient.
//!
//! Inbound is the same scheme the other way: the system posts to
//! `/webhook/{botId}/inbound` and signs with the same secret; [`verify`]
//! checks the signature (in constant time) and the timestamp's age, and
//! [`parse_inbound`] reads the body into an [`InboundEvent`]. The HTTP route
//! itself lives in the server (`http/webhook_inbound.rs`).
//!
//! Neither the secret nor the URL (which may carry a token of the receiver's
//! own) ever appears in a log line or an error.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::{
    split_text, Channel, ChannelError, Delivered, InboundEvent, OutboundMessage, SendFuture, Sender,
};
use crate::schema::PayloadError;

/// A generous text limit: receivers are programs, not phone screens.
pub const TEXT_LIMIT: usize = 64 * 1024;
/// How long the receiver may take to answer before we count it transient.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Unix seconds at which the request was signed.
pub const TIMESTAMP_HEADER: &str = "X-ComOps-Timestamp";
/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
pub const SIGNATURE_HEADER: &str = "X-ComOps-Signature";
/// How far a signed timestamp may be from our clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// The longest reason we keep from a receiver's error answer.
const REASON_LIMIT: usize = 200;

type HmacSha256 = Hmac<Sha256>;

/// One bot's webhook: where its messages go and the key that signs them.
#[derive(Clone)]
pub struct WebhookChannel {
    url: reqwest::Url,
    secret: String,
    http: reqwest::Client,
}

impl fmt::Debug for WebhookChannel {
    // The secret never, and of the URL only the host: its path or query may
    // carry the receiver's own token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookChannel")
            .field("host", &self.url.host_str().unwrap_or_default())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Reads a webhook URL: absolute, `http` or `https`, with a host.
pub fn parse_url(raw: &str) -> Result<reqwest::Url, super::setting_issue::SettingIssue> {
    use super::setting_issue::SettingIssue;
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| SettingIssue::WebhookUrl)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(SettingIssue::WebhookUrl);
    }
    Ok(url)
}

impl WebhookChannel {
    /// A channel posting to `url`, signing with `secret`.
    pub fn new(url: reqwest::Url, secret: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { url, secret: secret.into(), http }
    }

    /// The channel of a bot's `webhook` settings (`url`, `secret`), or why
    /// there is none.
    pub fn from_settings(settings: &Value) -> Result<Self, String> {
        let url = settings.get("url").and_then(Value::as_str).unwrap_or_default();
        let url = parse_url(url).map_err(|issue| format!("the bot's webhook url {}", issue.message(crate::Locale::En)))?;
        let secret = settings.get("secret").and_then(Value::as_str).unwrap_or_default();
        if secret.is_empty() {
            return Err("the bot's webhook has no secret".into());
        }
        Ok(Self::new(url, secret))
    }

    async fn send_message(&self, message: &OutboundMessage) -> Result<Delivered, ChannelError> {
        let parts = split_text(&message.text, TEXT_LIMIT);
        let count = parts.len();
        let mut delivered = None;
        for (index, text) in parts.into_iter().enumerate() {
            // Each part has its own id, so the receiver's deduplication by
            // `Idempotency-Key` keeps a retried message from doubling the
            // parts that already arrived.
            let id = if count == 1 {
                message.id.clone()
            } else {
                format!("{}.{}", message.id, index + 1)
            };
            let last = index + 1 == count;
            let body = json!({
                "message_id": id,
                "chat_id": message.chat_id,
                "text": text,
                // The buttons go under the last part, a picture with the first.
                "buttons": if last { json!(message.buttons) } else { json!([]) },
                "media_url": if index == 0 { json!(message.media_url) } else { Value::Null },
            });
            delivered = Some(self.post(&id, &body).await?);
        }
        tracing::debug!(chat_id = %message.chat_id, parts = count, "webhook: sent");
        delivered.ok_or_else(|| ChannelError::BadRequest("message text is empty".into()))
    }

    /// One signed POST; the receiver's answer read through [`classify`].
    async fn post(&self, message_id: &str, body: &Value) -> Result<Delivered, ChannelError> {
        let raw = serde_json::to_vec(body)
            .map_err(|e| ChannelError::BadRequest(format!("cannot encode the message: {e}")))?;
        let timestamp = unix_now();
        let mut request = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sign(&self.secret, timestamp, &raw));
        if !message_id.is_empty() {
            request = request.header("Idempotency-Key", message_id);
        }
        let response = request.body(raw).send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let answer = response.bytes().await.map_err(transport_error)?;
        let result = classify(status, retry_after.as_deref(), &answer, message_id, SystemTime::now());
        if let Err(e) = &result {
            tracing::debug!(status, error = %e, "webhook: post failed");
        }
        result.map(|id| Delivered { provider_message_id: id })
    }
}

impl Channel for WebhookChannel {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn text_limit(&self) -> usize {
        TEXT_LIMIT
    }

    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(message))
    }
}

/// Maps the receiver's status, `Retry-After` and body to the provider id or
/// the taxonomy. `now` reads an HTTP-date `Retry-After`.
fn classify(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    message_id: &str,
    now: SystemTime,
) -> Result<String, ChannelError> {
    match status {
        200..=299 => {
            let answer = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
            Ok(match &answer["id"] {
                Value::String(id) if !id.is_empty() => id.clone(),
                Value::Number(id) => id.to_string(),
                _ => message_id.to_string(),
            })
        }
        429 => Err(ChannelError::Throttled {
            retry_after: retry_after
                .and_then(|v| parse_retry_after(v, now))
                .unwrap_or(Duration::from_secs(1))
                .max(Duration::from_secs(1)),
        }),
        // The receiver says the address is gone for good.
        410 => Err(ChannelError::Blocked),
        400..=499 => Err(ChannelError::BadRequest(format!(
            "the receiver answered {status}{}",
            reason(body).map(|r| format!(": {r}")).unwrap_or_default()
        ))),
        _ => Err(ChannelError::Transient(format!("the receiver answered {status}"))),
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A short, printable reason from an error answer: its JSON `message` or
/// `error`, or the start of its text.
fn reason(body: &[u8]) -> Option<String> {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(answer) => ["message", "error", "description"]
            .iter()
            .find_map(|key| answer[*key].as_str().map(str::to_string))?,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(REASON_LIMIT)
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A transport failure, without the URL.
fn transport_error(e: reqwest::Error) -> ChannelError {
    let what = if e.is_timeout() {
        "no answer from the receiver within the timeout".to_string()
    } else if e.is_connect() {
        format!("cannot connect to the receiver: {}", error_chain(&e.without_url()))
    } else {
        error_chain(&e.without_url())
    };
    ChannelError::Transient(what)
}

/// An error and its causes, `outer: inner: …`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `sha256=<hex>`: the signature of `body` sent at `timestamp` (unix
/// seconds), as [`SIGNATURE_HEADER`] carries it.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = mac(secret, &timestamp.to_string(), body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this
    // cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Why a signed request is refused. The wording is safe to return to the
/// caller: it never contains the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-ComOps-Timestamp or X-ComOps-Signature header")]
    Missing,
    #[error("X-ComOps-Timestamp is more than 5 minutes off; sign each request when you send it")]
    Stale,
    #[error("invalid signature")]
    Invalid,
}

/// Checks a request signed with `secret`: the `timestamp` header (unix
/// seconds) within [`MAX_CLOCK_SKEW`] of `now` (unix seconds), and the
/// `signature` header equal to [`sign`]'s, compared in constant time.
pub fn verify(
    secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureError::Missing);
    };
    let timestamp = timestamp.trim();
    let at: i64 = timestamp.parse().map_err(|_| SignatureError::Invalid)?;
    if now.abs_diff(at) > MAX_CLOCK_SKEW.as_secs() {
        return Err(SignatureError::Stale);
    }
    let presented = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or(SignatureError::Invalid)?;
    if secret.is_empty() {
        return Err(SignatureError::Invalid);
    }
    // `verify_slice` compares in constant time.
    mac(secret, timestamp, body)
        .verify_slice(&presented)
        .map_err(|_| SignatureError::Invalid)
}

/// The id an inbound request is stored under, so that the same request
/// arriving twice is handled once: the body's own `"id"` (a string or a
/// number) when it has one — what a sender retrying with a fresh signature
/// should send — else a digest of the signed timestamp and body, which
/// catches a replay of a captured request inside the 5-minute window.
pub fn delivery_id(timestamp: &str, body: &[u8]) -> String {
    let own = serde_json::from_slice::<Value>(body).ok().and_then(|v| id_string(v.get("id")));
    match own {
        Some(id) => format!("id:{id}"),
        None => {
            use sha2::Digest;
            let mut digest = Sha256::new();
            digest.update(timestamp.trim().as_bytes());
            digest.update(b".");
            digest.update(body);
            format!("sha256:{}", hex::encode(digest.finalize()))
        }
    }
}

/// Why an inbound body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundError {
    /// Not a JSON object at all (HTTP 400).
    Malformed(String),
    /// A JSON object with a missing or wrong field (HTTP 422).
    Invalid(PayloadError),
}

/// Reads a signed inbound body:
///
/// ```json
/// {"chat_id": "c-1", "from": {"id": "u-1", "name": "Анна"}, "text": "Да"}
/// ```
///
/// with exactly one of `"text": "…"`, `"button": "<value>"` (optionally
/// `"message_id"` of the message it was under), `"contact": {"phone",
/// "first_name"}` or `"start": "<payload>" | null`. `chat_id` (a string or
/// a number) is where replies go; `from` is optional and defaults to the
/// chat itself; an optional `"id"` names the request for deduplication
/// ([`delivery_id`]).
pub fn parse_inbound(body: &[u8]) -> Result<InboundEvent, InboundError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| InboundError::Malformed(format!("Malformed JSON: {e}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| InboundError::Malformed("the body must be a JSON object".into()))?;
    let chat_id = id_string(object.get("chat_id"))
        .ok_or_else(|| invalid("chat_id", "is required: a non-empty string or a number"))?;
    let from = sender(object, &chat_id)?;
    let kinds: Vec<&str> = ["text", "button", "contact", "start"]
        .into_iter()
        .filter(|k| object.contains_key(*k))
        .collect();
    let kind = match kinds.as_slice() {
        [kind] => *kind,
        [] => return Err(invalid("text", "one of text, button, contact or start is required")),
        [_, second, ..] => return Err(invalid(second, "only one of text, button, contact or start may be given")),
    };
    let field = &object[kind];
    Ok(match kind {
        "text" => InboundEvent::Text {
            chat_id,
            from,
            text: field.as_str().ok_or_else(|| invalid("text", "must be a string"))?.to_string(),
        },
        "button" => InboundEvent::Button {
            chat_id,
            from,
            data: field
                .as_str()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid("button", "must be the pressed button's value (a non-empty string)"))?
                .to_string(),
            // Nothing to acknowledge over a webhook.
            callback_id: String::new(),
            message_id: id_string(object.get("message_id")),
        },
        "contact" => {
            let phone = field["phone"]
                .as_str()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| invalid("contact.phone", "is required: a non-empty string"))?
                .to_string();
            let first_name = match &field["first_name"] {
                Value::Null => String::new(),
                Value::String(name) => name.clone(),
                _ => return Err(invalid("contact.first_name", "must be a string")),
            };
            InboundEvent::Contact { chat_id, from, phone, first_name, user_id: None }
        }
        _ => {
            let payload = match field {
                Value::Null => None,
                Value::String(payload) => Some(payload.trim().to_string()).filter(|p| !p.is_empty()),
                _ => return Err(invalid("start", "must be the deep-link code (a string) or null")),
            };
            InboundEvent::Start { chat_id, from, payload }
        }
    })
}

/// `from`, or the chat itself when absent.
fn sender(object: &Map<String, Value>, chat_id: &str) -> Result<Sender, InboundError> {
    let Some(from) = object.get("from").filter(|f| !f.is_null()) else {
        return Ok(Sender { id: chat_id.to_string(), first_name: String::new(), username: None });
    };
    if !from.is_object() {
        return Err(invalid("from", "must be an object {\"id\", \"name\"}"));
    }
    let id = id_string(from.get("id"))
        .ok_or_else(|| invalid("from.id", "is required: a non-empty string or a number"))?;
    let name = match &from["name"] {
        Value::Null => String::new(),
        Value::String(name) => name.clone(),
        _ => return Err(invalid("from.name", "must be a string")),
    };
    Ok(Sender { id, first_name: name, username: None })
}

fn id_string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn invalid(field: &str, message: &str) -> InboundError {
    InboundError::Invalid(PayloadError { field: field.into(), message: message.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_0123456789";
    const NOW: i64 = 1_760_000_000;

    fn parsed(body: Value) -> Result<InboundEvent, InboundError> {
        parse_inbound(body.to_string().as_bytes())
    }

    fn field_of(result: Result<InboundEvent, InboundError>) -> String {
        match result {
            Err(InboundError::Invalid(e)) => e.field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_signature_round_trips() {
        let body = r#"{"chat_id":"c-1","text":"Привет"}"#.as_bytes();
        let signature = sign(SECRET, NOW, body);
        assert!(signature.starts_with("sha256="));
        assert_eq!(signature.len(), "sha256=".len() + 64);
        let ts = NOW.to_string();
        assert_eq!(verify(SECRET, Some(&ts), Some(&signature), body, NOW), Ok(()));
        // Upper-case hex is the same digest.
        let upper = format!("sha256={}", signature["sha256=".len()..].to_uppercase());
        assert_eq!(verify(SECRET, Some(&ts), Some(&upper), body, NOW + 299), Ok(()));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231-style check against an independent computation:
        // HMAC-SHA256("key", "1.{}").
        let expected = {
            let mut mac = <HmacSha256 as Mac>::new_from_slice(b"key").unwrap();
            mac.update(b"1.{}");
            format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
        };
        assert_eq!(sign("key", 1, b"{}"), expected);
    }

    #[test]
    fn a_tampered_body_timestamp_or_secret_is_refused() {
        let body = br#"{"chat_id":"c-1","text":"100"}"#;
        let signature = sign(SECRET, NOW, body);
        let ts = NOW.to_string();
        let check = |secret: &str, ts: &str, body: &[u8]| verify(secret, Some(ts), Some(&signature), body, NOW);
        assert_eq!(check(SECRET, &ts, br#"{"chat_id":"c-1","text":"900"}"#), Err(SignatureError::Invalid));
        assert_eq!(check(SECRET, &(NOW + 1).to_string(), body), Err(SignatureError::Invalid));
        assert_eq!(check("another_secret_value", &ts, body), Err(SignatureError::Invalid));
        assert_eq!(check("", &ts, body), Err(SignatureError::Invalid));
        assert_eq!(check(SECRET, "yesterday", body), Err(SignatureError::Invalid));
        for bad in ["", "sha256=", "sha256=zz", "md5=abcd", &signature[7..]] {
            assert_eq!(verify(SECRET, Some(&ts), Some(bad), body, NOW), Err(SignatureError::Invalid), "{bad}");
        }
        assert_eq!(verify(SECRET, None, Some(&signature), body, NOW), Err(SignatureError::Missing));
        assert_eq!(verify(SECRET, Some(&ts), None, body, NOW), Err(SignatureError::Missing));
    }

    #[test]
    fn an_old_or_future_timestamp_is_a_replay() {
        let body = b"{}";
        let old = NOW - 301;
        let signature = sign(SECRET, old, body);
        assert_eq!(verify(SECRET, Some(&old.to_string()), Some(&signature), body, NOW), Err(SignatureError::Stale));
        let future = NOW + 301;
        let signature = sign(SECRET, future, body);
        assert_eq!(verify(SECRET, Some(&future.to_string()), Some(&signature), body, NOW), Err(SignatureError::Stale));
        let edge = NOW - 300;
        let signature = sign(SECRET, edge, body);
        assert_eq!(verify(SECRET, Some(&edge.to_string()), Some(&signature), body, NOW), Ok(()));
    }

    #[test]
    fn inbound_text_with_and_without_from() {
        assert_eq!(
            parsed(json!({"chat_id": "c-1", "from": {"id": 42, "name": "Анна"}, "text": "Да"})),
            Ok(InboundEvent::Text {
                chat_id: "c-1".into(),
                from: Sender { id: "42".into(), first_name: "Анна".into(), username: None },
                text: "Да".into(),
            })
        );
        let event = parsed(json!({"chat_id": 7, "text": "hi"})).unwrap();
        assert_eq!(event.chat_id(), "7");
        assert_eq!(event.from().id, "7", "from defaults to the chat");
    }

    #[test]
    fn inbound_button_contact_and_start() {
        assert_eq!(
            parsed(json!({"chat_id": "c-1", "button": "rating:5", "message_id": "m-9"})),
            Ok(InboundEvent::Button {
                chat_id: "c-1".into(),
                from: Sender { id: "c-1".into(), first_name: String::new(), username: None },
                data: "rating:5".into(),
                callback_id: String::new(),
                message_id: Some("m-9".into()),
            })
        );
        assert!(matches!(
            parsed(json!({"chat_id": "c-1", "contact": {"phone": "+79187777777", "first_name": "Анна"}})),
            Ok(InboundEvent::Contact { phone, first_name, user_id: None, .. }) if phone == "+79187777777" && first_name == "Анна"
        ));
        assert!(matches!(
            parsed(json!({"chat_id": "c-1", "start": " AbC123 "})),
            Ok(InboundEvent::Start { payload: Some(code), .. }) if code == "AbC123"
        ));
        assert!(matches!(parsed(json!({"chat_id": "c-1", "start": null})), Ok(InboundEvent::Start { payload: None, .. })));
        assert!(matches!(parsed(json!({"chat_id": "c-1", "start": ""})), Ok(InboundEvent::Start { payload: None, .. })));
    }

    #[test]
    fn malformed_inbound_bodies_name_the_field() {
        assert!(matches!(parse_inbound(b"not json"), Err(InboundError::Malformed(_))));
        assert!(matches!(parse_inbound(b"[1]"), Err(InboundError::Malformed(_))));
        assert_eq!(field_of(parsed(json!({"text": "hi"}))), "chat_id");
        assert_eq!(field_of(parsed(json!({"chat_id": "", "text": "hi"}))), "chat_id");
        assert_eq!(field_of(parsed(json!({"chat_id": "c"}))), "text");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "text": 5}))), "text");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "text": "a", "button": "b"}))), "button");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "button": ""}))), "button");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "contact": {}}))), "contact.phone");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "contact": {"phone": "1", "first_name": 2}}))), "contact.first_name");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "start": 5}))), "start");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "from": "me", "text": "a"}))), "from");
        assert_eq!(field_of(parsed(json!({"chat_id": "c", "from": {"name": "A"}, "text": "a"}))), "from.id");
    }

    #[test]
    fn a_request_is_known_by_its_own_id_or_by_its_signed_content() {
        let with_id = br#"{"id": "evt-1", "chat_id": "c", "text": "a"}"#;
        assert_eq!(delivery_id("1", with_id), "id:evt-1");
        assert_eq!(delivery_id("2", with_id), "id:evt-1", "a re-signed retry is the same request");
        let without = br#"{"chat_id": "c", "text": "a"}"#;
        assert_eq!(delivery_id("1", without), delivery_id("1", without));
        assert_ne!(delivery_id("1", without), delivery_id("2", without));
        assert!(delivery_id("1", without).starts_with("sha256:"));
    }

    #[test]
    fn answers_map_onto_the_taxonomy() {
        let now = SystemTime::now();
        assert_eq!(classify(200, None, br#"{"id": "ext-7"}"#, "m-1", now), Ok("ext-7".into()));
        assert_eq!(classify(201, None, br#"{"id": 7}"#, "m-1", now), Ok("7".into()));
        assert_eq!(classify(204, None, b"", "m-1", now), Ok("m-1".into()));
        let throttled = |header: Option<&str>| classify(429, header, b"", "m", now).unwrap_err().retry_after();
        assert_eq!(throttled(Some("7")), Some(Duration::from_secs(7)));
        assert_eq!(throttled(None), Some(Duration::from_secs(1)));
        assert_eq!(throttled(Some("soon")), Some(Duration::from_secs(1)));
        let in_a_minute = httpdate::fmt_http_date(now + Duration::from_secs(61));
        let waited = throttled(Some(&in_a_minute)).unwrap();
        assert!((Duration::from_secs(59)..=Duration::from_secs(61)).contains(&waited), "{waited:?}");
        assert_eq!(classify(410, None, b"", "m", now), Err(ChannelError::Blocked));
        assert_eq!(
            classify(422, None, br#"{"message": "unknown chat"}"#, "m", now),
            Err(ChannelError::BadRequest("the receiver answered 422: unknown chat".into()))
        );
        assert!(matches!(classify(400, None, &[b'x'; 5000], "m", now), Err(ChannelError::BadRequest(why)) if why.len() < 260));
        assert!(matches!(classify(503, None, b"", "m", now), Err(ChannelError::Transient(_))));
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(parse_url("https://crm.example/hooks/comops?key=1").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/in").is_ok());
        for bad in ["", "crm.example/hook", "ftp://crm.example/x", "mailto:a@b.c", "http://"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_secret_and_the_path() {
        let channel = WebhookChannel::new(parse_url("https://crm.example/hook?token=T0KEN").unwrap(), SECRET);
        let shown = format!("{channel:?}");
        assert!(!shown.contains(SECRET) && !shown.contains("T0KEN"), "{shown}");
        assert!(shown.contains("crm.example"));
    }
}
