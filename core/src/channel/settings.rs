//! The settings an admin gives each channel of a bot (`PUT
//! /bots/{botId}/settings/{kind}` and the studio's channel screen), checked
//! in one place before they are stored.
//!
//! Each kind names its required fields; values are strings. What a field
//! means is documented in README.md ("Channels").

pub use super::setting_issue::{SettingError, SettingIssue};
use serde_json::{Map, Value};

/// The setting kinds a bot may have: its channels and `secrets` (the
/// values `{{ secrets.NAME }}` reads in scenarios).
pub const KINDS: &[&str] = &["telegram", "webhook", "email", "whatsapp", "vk", "webchat", "secrets"];

/// Checks `value` as the settings of `kind`; `Err` lists what is wrong,
/// field by field. `None` when the kind is unknown.
pub fn validate(kind: &str, value: &Value) -> Option<Result<(), Vec<SettingError>>> {
    let Some(object) = value.as_object() else {
        return KINDS.contains(&kind).then(|| Err(vec![error("body", SettingIssue::NotAnObject)]));
    };
    let mut errors = Vec::new();
    match kind {
        "telegram" => {
            let token = text(object, "token");
            let (number, rest) = token.split_once(':').unwrap_or(("", ""));
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) || rest.len() < 10 || rest.contains(char::is_whitespace) {
                errors.push(error("token", SettingIssue::BotToken));
            }
            // Long polling needs no webhook (and so no secret).
            match text(object, "mode") {
                "" | "webhook" => check_secret(object, "webhook_secret", &mut errors),
                "polling" => {}
                _ => errors.push(error("mode", SettingIssue::TelegramMode)),
            }
        }
        "webhook" => {
            if let Err(issue) = super::webhook::parse_url(text(object, "url")) {
                errors.push(error("url", issue));
            }
            check_secret(object, "secret", &mut errors);
            // An HMAC key: short ones can be guessed from one signed request.
            if (1..16).contains(&text(object, "secret").len()) {
                errors.push(error("secret", SettingIssue::HmacKeyTooShort));
            }
        }
        "email" => errors.extend(super::email::EmailSettings::parse(object).err().unwrap_or_default()),
        "whatsapp" => {
            check_required(object, "access_token", SettingIssue::CloudApiToken, &mut errors);
            check_number(object, "phone_number_id", &mut errors);
            check_required(object, "app_secret", SettingIssue::MetaAppSecret, &mut errors);
            check_secret(object, "verify_token", &mut errors);
            check_api(object, "v", &mut errors);
        }
        "vk" => {
            check_required(object, "access_token", SettingIssue::CommunityToken, &mut errors);
            check_number(object, "group_id", &mut errors);
            check_required(object, "confirmation", SettingIssue::CallbackConfirmation, &mut errors);
            check_secret(object, "secret", &mut errors);
            check_api(object, "", &mut errors);
        }
        "webchat" => {
            // Both optional: the web chat works with no settings at all.
            match object.get("enabled") {
                None => {}
                Some(Value::String(flag)) if flag == "true" || flag == "false" => {}
                Some(_) => errors.push(error("enabled", SettingIssue::TrueOrFalse)),
            }
            match object.get("allowed_origins") {
                None => {}
                Some(Value::String(list)) => {
                    if let Err(bad) = super::webchat::parse_origins(list) {
                        errors.push(error("allowed_origins", SettingIssue::Origins { bad: bad.to_string() }));
                    }
                }
                Some(_) => errors.push(error("allowed_origins", SettingIssue::OriginsNotAString)),
            }
        }
        // The scenario that starts when someone writes in and no run waits
        // for them (SPEC §4 "Inbound"); empty to have none.
        "entry" => {
            let scenario = text(object, "scenario");
            if object.get("scenario").is_some_and(|v| !v.is_string()) || scenario.len() > 64 || scenario.contains(char::is_whitespace) {
                errors.push(error("scenario", SettingIssue::UnknownScenario));
            }
        }
        "secrets" => {
            for (key, value) in object {
                if !value.is_string() {
                    errors.push(error(key, SettingIssue::NotAString));
                }
            }
        }
        _ => return None,
    }
    Some(if errors.is_empty() { Ok(()) } else { Err(errors) })
}

/// The string at `name`, or "" when it is missing or not a string.
pub fn text<'a>(object: &'a Map<String, Value>, name: &str) -> &'a str {
    object.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// A shared secret we check on inbound requests: 1–256 URL-safe characters
/// (Telegram's rule for `secret_token`, fine for every other channel).
pub fn check_secret(object: &Map<String, Value>, name: &str, errors: &mut Vec<SettingError>) {
    let secret = text(object, name);
    if secret.is_empty() || secret.len() > 256 || !secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        errors.push(error(name, SettingIssue::SharedSecret));
    }
}

/// A required non-empty string field without whitespace; `issue` says
/// what it must be.
pub fn check_required(object: &Map<String, Value>, name: &str, issue: SettingIssue, errors: &mut Vec<SettingError>) {
    let value = text(object, name);
    if value.is_empty() || value.contains(char::is_whitespace) {
        errors.push(error(name, issue));
    }
}

/// A required id made of digits (a string, or a JSON number).
pub fn check_number(object: &Map<String, Value>, name: &str, errors: &mut Vec<SettingError>) {
    let digits = match object.get(name) {
        Some(Value::Number(n)) => n.is_u64(),
        Some(Value::String(s)) => !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()),
        _ => false,
    };
    if !digits {
        errors.push(error(name, SettingIssue::NumericId));
    }
}

/// The optional `api_base` (an http(s) URL) and `api_version` (digits and
/// dots after `version_prefix`, e.g. `v21.0` or `5.199`) of an API channel.
pub fn check_api(object: &Map<String, Value>, version_prefix: &str, errors: &mut Vec<SettingError>) {
    if object.contains_key("api_base") {
        let base = text(object, "api_base");
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.contains(char::is_whitespace) {
            errors.push(error("api_base", SettingIssue::ApiBase));
        }
    }
    if object.contains_key("api_version") {
        let version = text(object, "api_version").strip_prefix(version_prefix).unwrap_or_default();
        let (major, minor) = version.split_once('.').unwrap_or(("", ""));
        if major.is_empty() || minor.is_empty() || !(major.chars().chain(minor.chars()).all(|c| c.is_ascii_digit())) {
            let example = format!("{version_prefix}{}", if version_prefix.is_empty() { "5.199" } else { "21.0" });
            errors.push(error("api_version", SettingIssue::ApiVersion { example }));
        }
    }
}

pub fn error(field: &str, issue: SettingIssue) -> SettingError {
    SettingError::new(field, issue)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webchat_needs_nothing_and_checks_what_it_gets() {
        assert_eq!(validate("webchat", &json!({})), Some(Ok(())));
        assert_eq!(validate("webchat", &json!({"enabled": "false", "allowed_origins": "https://shop.example, http://localhost:8080"})), Some(Ok(())));
        let errors = validate("webchat", &json!({"enabled": false, "allowed_origins": "shop.example"})).and_then(Result::err).unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["enabled", "allowed_origins"]);
    }

    #[test]
    fn telegram_needs_a_token_and_a_webhook_secret() {
        assert_eq!(validate("telegram", &json!({"token": "123456:ABCDEFGHIJKL", "webhook_secret": "s3cr3t_x"})), Some(Ok(())));
        let errors = validate("telegram", &json!({"token": "nope"})).and_then(Result::err).unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["token", "webhook_secret"]);
    }

    #[test]
    fn a_webhook_needs_an_http_url_and_a_long_secret() {
        let ok = json!({"url": "https://crm.example/comops/messages", "secret": "whsec_0123456789abcdef"});
        assert_eq!(validate("webhook", &ok), Some(Ok(())));
        let fields = |value: Value| -> Vec<String> {
            validate("webhook", &value).and_then(Result::err).unwrap_or_default().into_iter().map(|e| e.field).collect()
        };
        assert_eq!(fields(json!({"url": "ftp://crm.example/x", "secret": "short"})), ["url", "secret"]);
        assert_eq!(fields(json!({"url": "crm.example", "secret": "has spaces in it, sixteen+"})), ["url", "secret"]);
        assert_eq!(fields(json!({})), ["url", "secret"]);
    }

    #[test]
    fn email_needs_a_host_and_a_sender() {
        let ok = json!({"smtp_host": "smtp.example.com", "smtp_port": 587, "from": "Shop <shop@example.com>", "tls": "starttls"});
        assert_eq!(validate("email", &ok), Some(Ok(())));
        let errors = validate("email", &json!({"smtp_host": "smtp.example.com", "from": "shop", "tls": "ssl"})).and_then(Result::err).unwrap_or_default();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["tls", "from"]);
    }

    #[test]
    fn secrets_are_strings_and_unknown_kinds_are_none() {
        assert_eq!(validate("secrets", &json!({"CRM_KEY": "k"})), Some(Ok(())));
        assert!(matches!(validate("secrets", &json!({"n": 1})), Some(Err(_))));
        assert!(matches!(validate("telegram", &json!([])), Some(Err(_))));
        assert_eq!(validate("fax", &json!({})), None);
    }
}
