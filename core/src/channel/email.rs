//! Email over SMTP: outbound only. A lead's "chat" on this channel is their
//! email address; each message becomes one `text/plain; charset=utf-8`
//! email sent through the bot's SMTP relay (the `lettre` crate, async on
//! tokio, TLS with rustls).
//!
//! Buttons cannot be pressed in a plain-text email, so they are written out
//! under the text as `label: url` (links) or `label: value` lines, and a
//! picture becomes a link line. The `Message-ID` is built from our message
//! id, so it is the same on every retry and serves as the provider id.
//!
//! SMTP answers map onto the [`ChannelError`] taxonomy in [`classify`]:
//!
//! | SMTP answer | meaning | [`ChannelError`] |
//! |---|---|---|
//! | 4xx (421, 450, 451, 452, …) | try again later (busy, greylisted, full) | `Transient` |
//! | 550 / 551 / 553 about the mailbox | no such mailbox, or it is gone | `Blocked` |
//! | 530 / 534 / 535 / 538 | our login was refused | `BadRequest` |
//! | any other 5xx (or a 55x with a policy code like `5.7.1`) | refused for good | `BadRequest` |
//! | connection, TLS, timeout | the relay cannot be reached | `Transient` |
//!
//! Why 4xx is `Transient` and never `Throttled`, not even for 421 / 451
//! "try again later": SMTP gives no retry-after, and the dispatcher does not
//! count throttled attempts, so a relay answering 451 for ever would keep
//! the message in the outbox for ever. As `Transient` it backs off
//! exponentially (seconds, then minutes — what greylisting expects) and is
//! dead-lettered after the usual number of attempts.
//!
//! A 550 is `Blocked` (the address goes inactive) only when it is about the
//! mailbox: if the server adds an enhanced status code (RFC 3463) whose
//! subject is not addressing (`5.1.x`) or the mailbox (`5.2.x`) — say
//! `550 5.7.1 Relaying denied` — the fault is ours, and it is a
//! `BadRequest`.
//!
//! The password is never logged nor put into an error: every reason passes
//! through [`EmailChannel::redact`].

use std::fmt;
use std::time::Duration;

use lettre::message::{Mailbox, Message, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::{Map, Value};

use super::settings::{error, text, SettingError, SettingIssue};
use super::{split_text, Channel, ChannelError, Delivered, OutboundMessage, SendFuture};
use crate::scenario::{Button, ButtonKind};

/// Longer texts go out as several emails (it would take a very long text).
pub const TEXT_LIMIT: usize = 100_000;
/// How long one SMTP exchange may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);
/// The subject when the settings name none.
pub const DEFAULT_SUBJECT: &str = "Message";
/// The longest server reason we keep in an error.
const REASON_LIMIT: usize = 200;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (a relay on the same host or network only).
    None,
    /// Plain connect, then `STARTTLS`, required (port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl TlsMode {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "none" => Some(Self::None),
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            _ => None,
        }
    }

    /// The usual port of the mode.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// A bot's `email` settings, read once.
#[derive(Clone)]
pub struct EmailSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub from: Mailbox,
    pub credentials: Option<(String, String)>,
    pub tls: TlsMode,
    pub subject: Option<String>,
}

impl fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSettings")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("from", &self.from.to_string())
            .field("username", &self.credentials.as_ref().map(|(user, _)| user))
            .field("password", &self.credentials.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("subject", &self.subject)
            .finish()
    }
}

impl EmailSettings {
    /// Reads the settings object: `smtp_host`, `from` (`addr` or `Name
    /// <addr>`), optional `smtp_port` (a number or digits; default by `tls`),
    /// `tls` (`none` | `starttls` | `tls`, default `starttls`), `username`
    /// and `password` (both or neither), `subject`. Errors name each field.
    pub fn parse(object: &Map<String, Value>) -> Result<Self, Vec<SettingError>> {
        let mut errors = Vec::new();
        let smtp_host = text(object, "smtp_host").trim().to_string();
        if smtp_host.is_empty() || smtp_host.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
            errors.push(error("smtp_host", SettingIssue::SmtpHost));
        }
        // The studio sends every field as a string, "" when left empty.
        let blank = |value: &Value| value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty());
        let tls = match object.get("tls") {
            None => Some(TlsMode::StartTls),
            Some(value) if blank(value) => Some(TlsMode::StartTls),
            Some(value) => value.as_str().and_then(TlsMode::parse),
        };
        if tls.is_none() {
            errors.push(error("tls", SettingIssue::TlsMode));
        }
        let tls = tls.unwrap_or(TlsMode::StartTls);
        let smtp_port = match object.get("smtp_port") {
            None => Some(tls.default_port()),
            Some(value) if blank(value) => Some(tls.default_port()),
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
            Some(_) => None,
        }
        .filter(|&port| port > 0);
        if smtp_port.is_none() {
            errors.push(error("smtp_port", SettingIssue::Port));
        }
        let from = text(object, "from").trim().parse::<Mailbox>().ok();
        if from.is_none() {
            errors.push(error("from", SettingIssue::Sender));
        }
        let username = text(object, "username").trim();
        let password = text(object, "password");
        for (name, value) in [("username", object.get("username")), ("password", object.get("password"))] {
            if value.is_some_and(|v| !v.is_string() && !v.is_null()) {
                errors.push(error(name, SettingIssue::NotAString));
            }
        }
        let credentials = match (username.is_empty(), password.is_empty()) {
            (true, true) => None,
            (false, false) => Some((username.to_string(), password.to_string())),
            (true, false) => {
                errors.push(error("username", SettingIssue::UsernameWithoutPassword));
                None
            }
            (false, true) => {
                errors.push(error("password", SettingIssue::PasswordWithoutUsername));
                None
            }
        };
        let subject = match object.get("subject") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                errors.push(error("subject", SettingIssue::NotOneLine));
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Some(_) => {
                errors.push(error("subject", SettingIssue::NotAString));
                None
            }
        };
        match (smtp_port, from) {
            (Some(smtp_port), Some(from)) if errors.is_empty() => {
                Ok(Self { smtp_host, smtp_port, from, credentials, tls, subject })
            }
            _ => Err(errors),
        }
    }
}

/// One bot's SMTP relay and sender.
pub struct EmailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    subject: String,
    /// Kept only to scrub it from any reason we pass on.
    password: Option<String>,
}

impl fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailChannel")
            .field("from", &self.from.to_string())
            .field("subject", &self.subject)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl EmailChannel {
    /// A channel for `settings`; without a subject there, emails are titled
    /// `default_subject` (the caller's choice: the bot's name, say).
    pub fn new(settings: EmailSettings, default_subject: &str) -> Result<Self, String> {
        let host = settings.smtp_host.clone();
        let tls_parameters = || {
            TlsParameters::new(host.clone())
                .map_err(|e| format!("cannot set up TLS for {host}: {e}"))
        };
        let tls = match settings.tls {
            TlsMode::None => Tls::None,
            TlsMode::StartTls => Tls::Required(tls_parameters()?),
            TlsMode::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.smtp_host)
            .port(settings.smtp_port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        let password = settings.credentials.as_ref().map(|(_, password)| password.clone());
        if let Some((username, password)) = settings.credentials {
            builder = builder.credentials(Credentials::new(username, password));
        }
        let subject = settings
            .subject
            .or_else(|| Some(default_subject.trim().to_string()).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_SUBJECT.to_string());
        Ok(Self { transport: builder.build(), from: settings.from, subject, password })
    }

    /// The channel of a bot's `email` settings, or why there is none.
    /// Without a `subject` there, emails are titled with the sender's
    /// display name (`Shop` in `Shop <shop@example.com>`, usually the bot's
    /// or the company's name), else [`DEFAULT_SUBJECT`].
    pub fn from_settings(settings: &Value) -> Result<Self, String> {
        let empty = Map::new();
        let object = settings.as_object().unwrap_or(&empty);
        let settings = EmailSettings::parse(object).map_err(|errors| {
            let fields: Vec<String> = errors.into_iter().map(|e| format!("{} {}", e.field, e.issue.message(crate::Locale::En))).collect();
            format!("the bot's email settings are incomplete: {}", fields.join("; "))
        })?;
        let sender_name = settings.from.name.clone().unwrap_or_default();
        Self::new(settings, &sender_name)
    }

    async fn send_message(&self, message: &OutboundMessage) -> Result<Delivered, ChannelError> {
        let to: Address = message
            .chat_id
            .trim()
            .parse()
            .map_err(|_| ChannelError::BadRequest("the recipient is not a valid email address".into()))?;
        let base_id = if message.id.is_empty() {
            uuid::Uuid::new_v4().to_string()
        } else {
            message.id.clone()
        };
        let parts = split_text(&message.text, TEXT_LIMIT);
        let count = parts.len();
        let mut delivered = None;
        for (index, text) in parts.into_iter().enumerate() {
            let last = index + 1 == count;
            let (subject, part_id) = if count == 1 {
                (self.subject.clone(), base_id.clone())
            } else {
                (format!("{} ({}/{count})", self.subject, index + 1), format!("{base_id}.{}", index + 1))
            };
            let message_id = format!("<{}@{}>", message_id_local(&part_id), self.from.email.domain());
            let body = render_body(
                &text,
                if last { &message.buttons } else { &[] },
                if index == 0 { message.media_url.as_deref() } else { None },
            );
            let email = Message::builder()
                .from(self.from.clone())
                .to(Mailbox::new(None, to.clone()))
                .subject(subject)
                .message_id(Some(message_id.clone()))
                .singlepart(SinglePart::plain(body))
                .map_err(|e| ChannelError::BadRequest(format!("cannot build the email: {e}")))?;
            self.transport.send(email).await.map_err(|e| {
                let e = self.redact_error(classify(&e));
                tracing::debug!(error = %e, "email: send failed");
                e
            })?;
            delivered = Some(Delivered { provider_message_id: message_id });
        }
        tracing::debug!(parts = count, "email: sent");
        delivered.ok_or_else(|| ChannelError::BadRequest("message text is empty".into()))
    }

    /// `text` with the password replaced (should a server ever echo it).
    fn redact(&self, text: &str) -> String {
        match &self.password {
            Some(password) if !password.is_empty() => text.replace(password.as_str(), "<password>"),
            _ => text.to_string(),
        }
    }

    fn redact_error(&self, e: ChannelError) -> ChannelError {
        match e {
            ChannelError::BadRequest(why) => ChannelError::BadRequest(self.redact(&why)),
            ChannelError::Transient(why) => ChannelError::Transient(self.redact(&why)),
            other => other,
        }
    }
}

impl Channel for EmailChannel {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn text_limit(&self) -> usize {
        TEXT_LIMIT
    }

    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(message))
    }
}

/// The plain-text body: the text, then a picture's link, then one line per
/// button.
fn render_body(text: &str, buttons: &[Button], media_url: Option<&str>) -> String {
    let mut body = text.trim_end().to_string();
    if let Some(url) = media_url.map(str::trim).filter(|u| !u.is_empty()) {
        body.push_str("\n\n");
        body.push_str(url);
    }
    if !buttons.is_empty() {
        body.push('\n');
        for button in buttons {
            let target = match button.kind {
                ButtonKind::Url => button.url.as_deref(),
                _ => button.value.as_deref(),
            }
            .map(str::trim)
            .filter(|t| !t.is_empty() && *t != button.label);
            body.push('\n');
            match target {
                Some(target) => body.push_str(&format!("{}: {target}", button.label)),
                None => body.push_str(&button.label),
            }
        }
    }
    // No final line break: the SMTP client ends the data with CRLF itself.
    body
}

/// The part of a `Message-ID` before the `@`: our id, kept to the
/// characters RFC 5322 allows there unquoted.
fn message_id_local(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.+=".contains(c) { c } else { '-' })
        .collect()
}

/// Maps a failed SMTP exchange onto the taxonomy (see the module docs).
fn classify(e: &lettre::transport::smtp::Error) -> ChannelError {
    let detail = server_reason(e);
    if let Some(code) = e.status() {
        let code = u16::from(code);
        return match code {
            400..=499 => ChannelError::Transient(format!("the mail server answered {code}{}", with_colon(&detail))),
            530 | 534 | 535 | 538 => ChannelError::BadRequest(format!(
                "the mail server refused our login ({code}): check the username and password"
            )),
            550 | 551 | 553 if about_the_mailbox(&detail) => ChannelError::Blocked,
            _ => ChannelError::BadRequest(format!("the mail server answered {code}{}", with_colon(&detail))),
        };
    }
    if e.is_timeout() {
        ChannelError::Transient("no answer from the mail server within the timeout".into())
    } else if e.is_client() {
        // Our side cannot go on: e.g. no authentication mechanism in common.
        ChannelError::BadRequest(format!("cannot send through this mail server: {}", short(&e.to_string())))
    } else {
        ChannelError::Transient(format!("cannot talk to the mail server: {}", short(&e.to_string())))
    }
}

/// Whether a 55x reply is about the recipient's mailbox: no enhanced status
/// code, or one about addressing (`5.1.x`) or the mailbox (`5.2.x`).
fn about_the_mailbox(reason: &str) -> bool {
    let first = reason.split_whitespace().next().unwrap_or_default();
    let mut digits = first.split('.');
    match (digits.next(), digits.next(), digits.next()) {
        (Some(class), Some(subject), Some(detail))
            if class.len() == 1
                && [class, subject, detail].iter().all(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) =>
        {
            matches!(subject, "1" | "2")
        }
        _ => true,
    }
}

/// The server's own words, one line and short.
fn server_reason(e: &lettre::transport::smtp::Error) -> String {
    std::error::Error::source(e).map(|s| short(&s.to_string())).unwrap_or_default()
}

fn with_colon(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

fn short(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(REASON_LIMIT)
        .collect();
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<EmailSettings, Vec<String>> {
        EmailSettings::parse(value.as_object().unwrap()).map_err(|errors| errors.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn settings_with_defaults_and_a_named_sender() {
        let settings = parse(json!({"smtp_host": "smtp.example.com", "from": "ComOps Shop <shop@example.com>"})).unwrap();
        assert_eq!(settings.tls, TlsMode::StartTls);
        assert_eq!(settings.smtp_port, 587);
        assert_eq!(settings.from.name.as_deref(), Some("ComOps Shop"));
        assert_eq!(settings.from.email.to_string(), "shop@example.com");
        assert!(settings.credentials.is_none());
        let settings = parse(json!({
            "smtp_host": "127.0.0.1", "smtp_port": "2525", "from": "bot@example.com", "tls": "none",
            "username": "bot", "password": "pa55word", "subject": "Магазин"
        }))
        .unwrap();
        assert_eq!((settings.smtp_port, settings.tls), (2525, TlsMode::None));
        assert_eq!(settings.subject.as_deref(), Some("Магазин"));
        assert!(!format!("{settings:?}").contains("pa55word"));
        assert_eq!(parse(json!({"smtp_host": "h.example", "from": "a@example.com", "tls": "tls"})).unwrap().smtp_port, 465);
        // What the studio sends for fields left empty.
        let settings = parse(json!({"smtp_host": "h.example", "from": "a@example.com", "smtp_port": "", "tls": "", "username": "", "password": "", "subject": ""})).unwrap();
        assert_eq!((settings.smtp_port, settings.tls, settings.subject, settings.credentials), (587, TlsMode::StartTls, None, None));
    }

    #[test]
    fn bad_settings_name_every_field() {
        let fields = parse(json!({"smtp_host": "", "smtp_port": 70000, "from": "not an address", "tls": "ssl", "password": "x", "subject": 1}))
            .unwrap_err();
        assert_eq!(fields, ["smtp_host", "tls", "smtp_port", "from", "username", "subject"]);
        assert_eq!(parse(json!({"smtp_host": "h.example", "from": "a@example.com", "username": "u"})).unwrap_err(), ["password"]);
        assert_eq!(parse(json!({"smtp_host": "h.example", "from": "a@example.com", "subject": "a\r\nBcc: x"})).unwrap_err(), ["subject"]);
    }

    #[test]
    fn the_body_lists_buttons_and_the_picture() {
        let buttons = [
            Button { label: "Заказ".into(), kind: ButtonKind::Url, value: None, url: Some("https://shop.example/o/42".into()) },
            Button { label: "5".into(), kind: ButtonKind::Inline, value: Some("rating:5".into()), url: None },
            Button { label: "Да".into(), kind: ButtonKind::Reply, value: None, url: None },
        ];
        assert_eq!(
            render_body("Спасибо за покупку!", &buttons, Some("https://shop.example/p.jpg")),
            "Спасибо за покупку!\n\nhttps://shop.example/p.jpg\n\nЗаказ: https://shop.example/o/42\n5: rating:5\nДа"
        );
        assert_eq!(render_body("Hi\n", &[], None), "Hi");
    }

    #[test]
    fn policy_codes_are_not_about_the_mailbox() {
        assert!(about_the_mailbox("5.1.1 <anna@example.com>: Recipient address rejected: User unknown"));
        assert!(about_the_mailbox("5.2.1 Mailbox disabled"));
        assert!(about_the_mailbox("Mailbox unavailable"));
        assert!(about_the_mailbox(""));
        assert!(!about_the_mailbox("5.7.1 Relaying denied"));
        assert!(!about_the_mailbox("5.6.0 Message content rejected"));
    }

    #[test]
    fn message_ids_are_safe() {
        assert_eq!(message_id_local("0190a1b2-c3d4.2"), "0190a1b2-c3d4.2");
        assert_eq!(message_id_local("a b<c>@d"), "a-b-c--d");
    }

    #[test]
    fn tls_modes_build_with_rustls_and_the_subject_falls_back_to_the_sender() {
        for tls in ["starttls", "tls", "none"] {
            let channel = EmailChannel::from_settings(&json!({"smtp_host": "smtp.example.com", "from": "Магазин <shop@example.com>", "tls": tls}));
            assert_eq!(channel.map(|c| c.subject).as_deref(), Ok("Магазин"), "{tls}");
        }
        let channel = EmailChannel::from_settings(&json!({"smtp_host": "smtp.example.com", "from": "shop@example.com"})).unwrap();
        assert_eq!(channel.subject, DEFAULT_SUBJECT);
        let why = EmailChannel::from_settings(&json!({"from": "shop@example.com", "password": "p4ss-never-shown"})).unwrap_err();
        assert!(why.contains("smtp_host") && !why.contains("p4ss-never-shown"), "{why}");
        assert!(EmailChannel::from_settings(&Value::Null).is_err());
    }

    #[test]
    fn the_password_is_redacted() {
        let settings = parse(json!({"smtp_host": "127.0.0.1", "from": "bot@example.com", "tls": "none", "username": "u", "password": "hunter2-secret"})).unwrap();
        let channel = EmailChannel::new(settings, "Bot").unwrap();
        assert!(!format!("{channel:?}").contains("hunter2-secret"));
        let redacted = channel.redact_error(ChannelError::Transient("535 bad hunter2-secret".into()));
        assert_eq!(redacted, ChannelError::Transient("535 bad <password>".into()));
    }
}
