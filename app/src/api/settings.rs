//! A bot's channel credentials and secrets (admins only, `Administer`).
//!
//! One card per setting kind ([`CHANNELS`]): each names its fields and
//! which of them are secret. Secret values never leave the server: a card
//! says only whether each is set, and a save keeps the stored value of a
//! secret left empty (or drops it when asked to clear it). Values are
//! checked by `comops_core::channel::settings::validate` — the one place
//! the rules live — and a kind this build does not know is reported as
//! unavailable, not guessed at. Every save is audited with the keys it
//! wrote, never the values.
//!
//! The submitted values travel as a JSON object of strings, the shape the
//! settings are stored in.

use crate::api::endpoints::BotChoice;
use crate::error::AppError;
use comops_core::schema::PayloadError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Never shown; "set" or "not set".
    Secret,
    /// Digits (ports, ids).
    Number,
    /// `"true"` or `"false"`, default true.
    Flag,
    /// One of the listed values; the first is the default.
    Choice(&'static [&'static str]),
    /// The name of one of the bot's scenarios, or none.
    Scenario,
}

/// One field of a channel card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
}

const fn text(name: &'static str) -> FieldSpec {
    FieldSpec { name, kind: FieldKind::Text }
}
const fn secret(name: &'static str) -> FieldSpec {
    FieldSpec { name, kind: FieldKind::Secret }
}
const fn number(name: &'static str) -> FieldSpec {
    FieldSpec { name, kind: FieldKind::Number }
}

/// The setting kinds of a bot, in card order, with their fields. `secrets`
/// has no fixed fields: it is a free list of names whose values are all
/// secret.
pub const CHANNELS: &[(&str, &[FieldSpec])] = &[
    ("telegram", &[secret("token"), secret("webhook_secret")]),
    ("webchat", &[FieldSpec { name: "enabled", kind: FieldKind::Flag }, text("allowed_origins")]),
    (
        "whatsapp",
        &[secret("access_token"), number("phone_number_id"), secret("app_secret"), secret("verify_token"), text("api_base"), text("api_version")],
    ),
    ("vk", &[secret("access_token"), number("group_id"), secret("confirmation"), secret("secret"), text("api_base"), text("api_version")]),
    (
        "email",
        &[
            text("smtp_host"),
            number("smtp_port"),
            text("from"),
            text("username"),
            secret("password"),
            FieldSpec { name: "tls", kind: FieldKind::Choice(&["starttls", "tls", "none"]) },
            text("subject"),
        ],
    ),
    ("webhook", &[text("url"), secret("secret")]),
    ("entry", &[FieldSpec { name: "scenario", kind: FieldKind::Scenario }]),
    ("secrets", &[]),
];

/// The fields of `kind` (empty for `secrets` and unknown kinds).
pub fn fields_of(kind: &str) -> &'static [FieldSpec] {
    CHANNELS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f).unwrap_or(&[])
}

/// Whether a stored field of `kind` is kept from the browser: the secret
/// fields, every `secrets` value, and any field the studio does not know
/// (set through the API or added in a newer build) — unknown means unsafe.
pub fn is_secret(kind: &str, field: &str) -> bool {
    kind == "secrets" || fields_of(kind).iter().find(|f| f.name == field).is_none_or(|f| f.kind == FieldKind::Secret)
}

/// One card as the browser sees it: plain values, and for secrets only
/// whether they are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelCard {
    pub kind: String,
    /// This build knows how to check the kind.
    pub available: bool,
    /// The bot has settings of this kind.
    pub configured: bool,
    /// Values of the non-secret fields.
    pub values: BTreeMap<String, String>,
    /// Names of the secret fields (or `secrets` keys) that hold a value.
    pub secrets_set: Vec<String>,
}

/// The settings page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsPage {
    pub bots: Vec<BotChoice>,
    pub bot_id: String,
    /// `https://comops.example`: where messengers reach this server.
    pub origin: String,
    pub cards: Vec<ChannelCard>,
    /// The bot's scenarios, for the entry picker.
    pub scenarios: Vec<String>,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ChannelSave {
    /// Stored; the card as it is now.
    Saved(ChannelCard),
    /// Nothing stored; the problems, field by field.
    Invalid(Vec<PayloadError>),
    /// This build does not know the kind.
    Unavailable,
}

#[server(prefix = "/api", endpoint = "settings/page")]
pub async fn load_settings_page(bot_id: String) -> Result<SettingsPage, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::Administer)?;
    let bots = crate::api::endpoints::list_bot_choices().await?;
    let bot_id = if bot_id.is_empty() { bots.first().map(|b| b.id.clone()).unwrap_or_default() } else { bot_id };
    let origin = request_origin();
    if bot_id.is_empty() {
        return Ok(SettingsPage { bots, bot_id, origin, cards: Vec::new(), scenarios: Vec::new() });
    }
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    store.bot(&bot).await?;
    let mut cards = Vec::with_capacity(CHANNELS.len());
    for (kind, _) in CHANNELS {
        let stored = store.bot_channel(&bot, kind).await?;
        cards.push(card(kind, stored.as_ref()));
    }
    let scenarios = store.scenario_listing(&bot).await?.into_iter().map(|s| s.name).collect();
    Ok(SettingsPage { bots, bot_id, origin, cards, scenarios })
}

/// Checks and stores the settings of `kind`. `json` is an object of
/// strings; a secret left empty keeps its stored value unless `clear` (a
/// comma list of field names) names it. For `secrets`, the object lists
/// every key to keep: a missing key is removed.
#[server(prefix = "/api", endpoint = "settings/save")]
pub async fn save_channel(bot_id: String, kind: String, json: String, clear: String) -> Result<ChannelSave, AppError> {
    use crate::session::{backend, require};
    use comops_core::channel::settings::{error, validate, SettingError, SettingIssue};
    let user = require(comops_core::Permission::Administer)?;
    // Each field's issue in the user's words.
    let locale = crate::session::session().locale;
    let invalid = |errors: Vec<SettingError>| ChannelSave::Invalid(errors.iter().map(|e| e.in_words(locale)).collect());
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    if validate(&kind, &serde_json::json!({})).is_none() {
        return Ok(ChannelSave::Unavailable);
    }
    let submitted = match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Object(object)) => object,
        _ => return Ok(invalid(vec![error("body", SettingIssue::NotAnObjectOfStrings)])),
    };
    let store = backend()?.store;
    store.bot(&bot).await?;
    let stored = store.bot_channel(&bot, &kind).await?.and_then(|v| v.as_object().cloned()).unwrap_or_default();
    let clear: Vec<&str> = clear.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let merged = match merge(&kind, &submitted, &stored, &clear) {
        Ok(merged) => merged,
        Err(errors) => return Ok(invalid(errors)),
    };
    let value = serde_json::Value::Object(merged);
    match validate(&kind, &value) {
        None => return Ok(ChannelSave::Unavailable),
        Some(Err(errors)) => return Ok(invalid(errors)),
        Some(Ok(())) => {}
    }
    if kind == "entry" {
        let wanted = value.get("scenario").and_then(|v| v.as_str()).unwrap_or_default();
        if !wanted.is_empty() && store.scenario(&bot, wanted).await?.is_none() {
            return Ok(invalid(vec![error("scenario", SettingIssue::UnknownScenario)]));
        }
    }
    store.set_bot_channel(&bot, &kind, &value).await?;
    let keys = value.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    let detail = comops_core::audit_detail::Detail::SettingsKeys { keys };
    store.audit(user.email.as_str(), &format!("settings.{kind}"), bot.as_str(), &detail.to_string()).await?;
    Ok(ChannelSave::Saved(card(&kind, Some(&value))))
}

/// What the browser may see of stored settings.
#[cfg(feature = "ssr")]
fn card(kind: &str, stored: Option<&serde_json::Value>) -> ChannelCard {
    use serde_json::Value;
    let available = comops_core::channel::settings::validate(kind, &serde_json::json!({})).is_some();
    let object = stored.and_then(Value::as_object);
    let mut values = BTreeMap::new();
    let mut secrets_set = Vec::new();
    for (name, value) in object.into_iter().flatten() {
        let shown = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if is_secret(kind, name) {
            if !shown.is_empty() {
                secrets_set.push(name.clone());
            }
        } else {
            values.insert(name.clone(), shown);
        }
    }
    // Saved with every field empty ("— none —" as the entry scenario, no
    // secrets) is not configured.
    let configured = object.into_iter().flatten().any(|(_, value)| match value {
        Value::String(s) => !s.is_empty(),
        Value::Null => false,
        _ => true,
    });
    ChannelCard { kind: kind.to_string(), available, configured, values, secrets_set }
}

/// The object to store: submitted values over stored ones, following the
/// rules of [`save_channel`]. Stored fields the studio does not know are
/// kept as they are.
#[cfg(feature = "ssr")]
fn merge(
    kind: &str,
    submitted: &serde_json::Map<String, serde_json::Value>,
    stored: &serde_json::Map<String, serde_json::Value>,
    clear: &[&str],
) -> Result<serde_json::Map<String, serde_json::Value>, Vec<comops_core::channel::settings::SettingError>> {
    use comops_core::channel::settings::{error, SettingIssue};
    use serde_json::{Map, Value};
    let as_text = |value: Option<&Value>| -> Option<String> {
        match value {
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    };
    let mut out = Map::new();
    let mut errors = Vec::new();
    if kind == "secrets" {
        for (name, value) in submitted {
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name_ok {
                errors.push(error(name, SettingIssue::SecretName));
                continue;
            }
            match as_text(Some(value)).filter(|v| !v.is_empty()) {
                Some(v) => {
                    out.insert(name.clone(), Value::String(v));
                }
                None => match stored.get(name) {
                    Some(old) => {
                        out.insert(name.clone(), old.clone());
                    }
                    None => errors.push(error(name, SettingIssue::SecretNeedsValue)),
                },
            }
        }
        return if errors.is_empty() { Ok(out) } else { Err(errors) };
    }
    let specs = fields_of(kind);
    for (name, value) in stored {
        if !specs.iter().any(|f| f.name == name) {
            out.insert(name.clone(), value.clone());
        }
    }
    for spec in specs {
        let given = as_text(submitted.get(spec.name)).filter(|v| !v.is_empty());
        let value = match spec.kind {
            FieldKind::Secret if clear.contains(&spec.name) => None,
            FieldKind::Secret => given.map(Value::String).or_else(|| stored.get(spec.name).cloned()),
            _ => given.map(Value::String),
        };
        if let Some(value) = value {
            out.insert(spec.name.to_string(), value);
        }
    }
    Ok(out)
}

/// Where browsers reached this request: the scheme and `Host` of the
/// request (behind a proxy, `X-Forwarded-Proto`/`-Host`).
#[cfg(feature = "ssr")]
fn request_origin() -> String {
    let Some(parts) = use_context::<http::request::Parts>() else { return String::new() };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or_default();
    if host.is_empty() {
        return String::new();
    }
    let secure = use_context::<crate::session::Backend>().is_some_and(|b| b.secure_cookies);
    let scheme = header("x-forwarded-proto").unwrap_or_else(|| if secure { "https".into() } else { "http".into() });
    format!("{scheme}://{host}")
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_empty_secret_keeps_the_stored_one_and_clear_drops_it() {
        let stored = object(json!({"token": "123:OLDOLDOLDOLD", "webhook_secret": "old", "api_base": "http://fake"}));
        let merged = merge("telegram", &object(json!({"token": "", "webhook_secret": "new"})), &stored, &[]).unwrap();
        assert_eq!(Value::Object(merged), json!({"token": "123:OLDOLDOLDOLD", "webhook_secret": "new", "api_base": "http://fake"}));
        let merged = merge("email", &object(json!({"smtp_host": "smtp.x", "password": ""})), &object(json!({"password": "p"})), &["password"]).unwrap();
        assert_eq!(Value::Object(merged), json!({"smtp_host": "smtp.x"}));
    }

    #[test]
    fn secrets_keep_listed_keys_and_drop_the_rest() {
        let stored = object(json!({"crm_url": "https://crm", "old": "x"}));
        let merged = merge("secrets", &object(json!({"crm_url": "", "new_key": "v"})), &stored, &[]).unwrap();
        assert_eq!(Value::Object(merged), json!({"crm_url": "https://crm", "new_key": "v"}));
        let errors = merge("secrets", &object(json!({"bad key": "v", "fresh": ""})), &stored, &[]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["bad key", "fresh"]);
    }

    #[test]
    fn cards_never_carry_secret_values() {
        let card = card("vk", Some(&json!({"access_token": "tok", "group_id": 42, "secret": "", "api_version": "5.199"})));
        assert_eq!(card.secrets_set, ["access_token"]);
        assert_eq!(card.values.get("group_id").map(String::as_str), Some("42"));
        assert!(!serde_json::to_string(&card).unwrap().contains("\"tok\""));
        let unknown = super::card("telegram", Some(&json!({"token": "1:x", "api_key": "k"})));
        assert!(unknown.values.is_empty() && unknown.secrets_set == ["api_key", "token"]);
    }
}
