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
            SettingIssue::NotAnObject => pick("must be a JSON object", "ожидается JSON-объект"),
            SettingIssue::NotAnObjectOfStrings => pick("must be a JSON object of strings", "ожидается JSON-объект со строковыми значениями"),
            SettingIssue::NotAString => pick("must be a string", "ожидается строка"),
            SettingIssue::BotToken => pick("must be a Bot API token like 123456:ABC…", "ожидается токен Bot API вида 123456:ABC…"),
            SettingIssue::TelegramMode => pick("must be webhook or polling", "ожидается webhook или polling"),
            SettingIssue::WebhookUrl => pick("must be an absolute http(s) URL", "ожидается абсолютный URL http(s)"),
            SettingIssue::HmacKeyTooShort => pick("must be at least 16 characters", "не короче 16 символов"),
            SettingIssue::SharedSecret => pick("must be 1-256 characters of A-Z, a-z, 0-9, _ and -", "от 1 до 256 символов: A-Z, a-z, 0-9, _ и -"),
            SettingIssue::CloudApiToken => pick("must be the Cloud API access token", "ожидается токен доступа Cloud API"),
            SettingIssue::MetaAppSecret => pick("must be the Meta app secret", "ожидается секрет приложения Meta"),
            SettingIssue::CommunityToken => pick("must be the community access token", "ожидается токен сообщества"),
            SettingIssue::CallbackConfirmation => pick("must be the Callback API confirmation string", "ожидается строка подтверждения Callback API"),
            SettingIssue::NumericId => pick("must be a numeric id", "ожидается числовой ID"),
            SettingIssue::ApiBase => pick("must be an http(s) URL", "ожидается URL http(s)"),
            SettingIssue::ApiVersion { example } => pick(&format!("must look like {example}"), &format!("ожидается версия вида {example}")),
            SettingIssue::TrueOrFalse => pick("must be \"true\" or \"false\"", "ожидается \"true\" или \"false\""),
            SettingIssue::Origins { bad } => pick(
                &format!("must be comma-separated origins like https://shop.example (not {bad:?})"),
                &format!("ожидаются источники через запятую, например https://shop.example (не {bad:?})"),
            ),
            SettingIssue::OriginsNotAString => pick("must be a string of comma-separated origins", "ожидается строка источников через запятую"),
            SettingIssue::UnknownScenario => pick("must be the name of one of the bot's scenarios", "ожидается имя одного из сценариев бота"),
            SettingIssue::SecretName => pick("names are letters, digits and _, starting with a letter or _", "только латинские буквы, цифры и _, в начале буква или _"),
            SettingIssue::SecretNeedsValue => pick("a new secret needs a value", "новому секрету нужно значение"),
            SettingIssue::SmtpHost => pick("must be the SMTP server's host name, e.g. smtp.example.com", "ожидается имя хоста SMTP-сервера, например smtp.example.com"),
            SettingIssue::TlsMode => pick("must be one of none, starttls, tls", "ожидается одно из: none, starttls, tls"),
            SettingIssue::Port => pick("must be a port number, 1-65535", "ожидается номер порта, 1–65535"),
            SettingIssue::Sender => pick("must be an email address, or Name <address>", "ожидается адрес email или Имя <адрес>"),
            SettingIssue::UsernameWithoutPassword => pick("is required with a password", "указывается вместе с паролем"),
            SettingIssue::PasswordWithoutUsername => pick("is required with a username", "указывается вместе с именем пользователя"),
            SettingIssue::NotOneLine => pick("must be one line", "только одна строка, без переводов строки"),
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
        assert_eq!(error.in_words(Locale::Ru).message, "ожидается номер порта, 1–65535");
        let version = SettingIssue::ApiVersion { example: "v21.0".into() };
        assert_eq!(version.message(Locale::Ru), "ожидается версия вида v21.0");
    }

    /// The admin API's words, as they were before the issues were typed.
    #[test]
    fn the_admin_api_says_what_it_always_said() {
        let said = [
            (SettingIssue::NotAnObject, "must be a JSON object"),
            (SettingIssue::NotAnObjectOfStrings, "must be a JSON object of strings"),
            (SettingIssue::NotAString, "must be a string"),
            (SettingIssue::BotToken, "must be a Bot API token like 123456:ABC…"),
            (SettingIssue::TelegramMode, "must be webhook or polling"),
            (SettingIssue::WebhookUrl, "must be an absolute http(s) URL"),
            (SettingIssue::HmacKeyTooShort, "must be at least 16 characters"),
            (SettingIssue::SharedSecret, "must be 1-256 characters of A-Z, a-z, 0-9, _ and -"),
            (SettingIssue::CloudApiToken, "must be the Cloud API access token"),
            (SettingIssue::MetaAppSecret, "must be the Meta app secret"),
            (SettingIssue::CommunityToken, "must be the community access token"),
            (SettingIssue::CallbackConfirmation, "must be the Callback API confirmation string"),
            (SettingIssue::NumericId, "must be a numeric id"),
            (SettingIssue::ApiBase, "must be an http(s) URL"),
            (SettingIssue::TrueOrFalse, "must be \"true\" or \"false\""),
            (SettingIssue::OriginsNotAString, "must be a string of comma-separated origins"),
            (SettingIssue::UnknownScenario, "must be the name of one of the bot's scenarios"),
            (SettingIssue::SecretName, "names are letters, digits and _, starting with a letter or _"),
            (SettingIssue::SecretNeedsValue, "a new secret needs a value"),
            (SettingIssue::SmtpHost, "must be the SMTP server's host name, e.g. smtp.example.com"),
            (SettingIssue::TlsMode, "must be one of none, starttls, tls"),
            (SettingIssue::Port, "must be a port number, 1-65535"),
            (SettingIssue::Sender, "must be an email address, or Name <address>"),
            (SettingIssue::UsernameWithoutPassword, "is required with a password"),
            (SettingIssue::PasswordWithoutUsername, "is required with a username"),
            (SettingIssue::NotOneLine, "must be one line"),
            (SettingIssue::ApiVersion { example: "5.199".into() }, "must look like 5.199"),
            (SettingIssue::Origins { bad: "ftp://x".into() }, "must be comma-separated origins like https://shop.example (not \"ftp://x\")"),
        ];
        for (issue, words) in said {
            assert_eq!(issue.message(Locale::En), words, "{issue:?}");
            assert_ne!(issue.message(Locale::Ru), words, "{issue:?}");
        }
    }
}
