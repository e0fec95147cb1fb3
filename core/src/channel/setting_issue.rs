//! What can be wrong with a channel's setting ([`SettingIssue`]), in
//! English for the admin API and in the studio user's language.
//!
//! The checks (`settings.rs`, `email.rs`) name a field and an issue; the
//! words are chosen where the answer is made: the admin API in English
//! (`SettingError::in_words(Locale::En)`), the studio in its user's language.

use crate::schema::PayloadError;
use crate::Locale;

/// One field of a channel's settings and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub field: String,
    pub issue: SettingIssue,
}

impl SettingError {
    pub fn new(field: &str, issue: SettingIssue) -> Self {
        Self { field: field.into(), issue }
    }

    /// The error as answered, its issue in `locale`'s words.
    pub fn in_words(&self, locale: Locale) -> PayloadError {
        PayloadError { field: self.field.clone(), message: self.issue.message(locale) }
    }
}

/// What is wrong with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingIssue {
    NotAnObject,
    NotAnObjectOfStrings,
    NotAString,
    BotToken,
    TelegramMode,
    WebhookUrl,
    HmacKeyTooShort,
    SharedSecret,
    CloudApiToken,
    MetaAppSecret,
    CommunityToken,
    CallbackConfirmation,
    NumericId,
    ApiBase,
    /// `example`: what a version looks like (`v21.0`, `5.199`).
    ApiVersion { example: String },
    TrueOrFalse,
    /// `bad`: the first entry that is not an origin.
    Origins { bad: String },
    OriginsNotAString,
    UnknownScenario,
    SecretName,
    SecretNeedsValue,
    SmtpHost,
    TlsMode,
    Port,
    Sender,
    UsernameWithoutPassword,
    PasswordWithoutUsername,
    NotOneLine,
}

impl SettingIssue {
    /// The issue in words, as it follows the field's name.
    pub fn message(&self, locale: Locale) -> String {
        let ru = locale == Locale::Ru;
        let pick = |en: &str, ru_text: &str| if ru { ru_text.to_string() } else { en.to_string() };
        match self {
            SettingIssue::NotAnObject => pick("must be a JSON object", "должно быть JSON-объектом"),
            SettingIssue::NotAnObjectOfStrings => pick("must be a JSON object of strings", "должно быть JSON-объектом со строками"),
            SettingIssue::NotAString => pick("must be a string", "должно быть строкой"),
            SettingIssue::BotToken => pick("must be a Bot API token like 123456:ABC…", "должен быть токеном Bot API вида 123456:ABC…"),
            SettingIssue::TelegramMode => pick("must be webhook or polling", "должен быть webhook или polling"),
            SettingIssue::WebhookUrl => pick("must be an absolute http(s) URL", "должен быть полным адресом http(s)"),
            SettingIssue::HmacKeyTooShort => pick("must be at least 16 characters", "должен быть не короче 16 символов"),
            SettingIssue::SharedSecret => {
                pick("must be 1-256 characters of A-Z, a-z, 0-9, _ and -", "должен состоять из 1–256 символов A-Z, a-z, 0-9, _ и -")
            }
            SettingIssue::CloudApiToken => pick("must be the Cloud API access token", "должен быть токеном доступа Cloud API"),
            SettingIssue::MetaAppSecret => pick("must be the Meta app secret", "должен быть секретом приложения Meta"),
            SettingIssue::CommunityToken => pick("must be the community access token", "должен быть ключом доступа сообщества"),
            SettingIssue::CallbackConfirmation => {
                pick("must be the Callback API confirmation string", "должна быть строкой подтверждения Callback API")
            }
            SettingIssue::NumericId => pick("must be a numeric id", "должен быть числовым id"),
            SettingIssue::ApiBase => pick("must be an http(s) URL", "должен быть адресом http(s)"),
            SettingIssue::ApiVersion { example } => {
                if ru {
                    format!("должна выглядеть как {example}")
                } else {
                    format!("must look like {example}")
                }
            }
            SettingIssue::TrueOrFalse => pick("must be \"true\" or \"false\"", "должно быть \"true\" или \"false\""),
            SettingIssue::Origins { bad } => {
                if ru {
                    format!("должно быть списком источников через запятую, например https://shop.example (не {bad:?})")
                } else {
                    format!("must be comma-separated origins like https://shop.example (not {bad:?})")
                }
            }
            SettingIssue::OriginsNotAString => {
                pick("must be a string of comma-separated origins", "должно быть строкой источников через запятую")
            }
            SettingIssue::UnknownScenario => {
                pick("must be the name of one of the bot's scenarios", "должно быть именем одного из сценариев бота")
            }
            SettingIssue::SecretName => pick(
                "names are letters, digits and _, starting with a letter or _",
                "имя — буквы, цифры и _, первой идёт буква или _",
            ),
            SettingIssue::SecretNeedsValue => pick("a new secret needs a value", "новому секрету нужно значение"),
            SettingIssue::SmtpHost => {
                pick("must be the SMTP server's host name, e.g. smtp.example.com", "должен быть именем SMTP-сервера, например smtp.example.com")
            }
            SettingIssue::TlsMode => pick("must be one of none, starttls, tls", "должен быть одним из none, starttls, tls"),
            SettingIssue::Port => pick("must be a port number, 1-65535", "должен быть номером порта, 1–65535"),
            SettingIssue::Sender => pick("must be an email address, or Name <address>", "должен быть адресом почты или Имя <адрес>"),
            SettingIssue::UsernameWithoutPassword => pick("is required with a password", "нужен вместе с паролем"),
            SettingIssue::PasswordWithoutUsername => pick("is required with a username", "нужен вместе с именем пользователя"),
            SettingIssue::NotOneLine => pick("must be one line", "должна быть одной строкой"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_read_in_either_language() {
        let error = SettingError::new("smtp_port", SettingIssue::Port);
        assert_eq!(error.in_words(Locale::En), PayloadError { field: "smtp_port".into(), message: "must be a port number, 1-65535".into() });
        assert_eq!(error.in_words(Locale::Ru).message, "должен быть номером порта, 1–65535");
        let version = SettingIssue::ApiVersion { example: "v21.0".into() };
        assert_eq!(version.message(Locale::En), "must look like v21.0");
        assert_eq!(version.message(Locale::Ru), "должна выглядеть как v21.0");
    }
}
