//! Field-level validation errors shared by forms and the server.
//!
//! A [`FieldError`] names the field and a [`Problem`] code rather than an
//! English sentence, so the studio can show it in the user's language and an
//! API client can act on it.

use serde::{Deserialize, Serialize};

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooLong { max: usize },
    /// Slugs and aliases: lowercase letters, digits, `-` and `_`.
    BadSlug,
    /// Endpoint aliases: lowercase segments joined by `/`.
    BadAlias,
    /// A chosen id: 1–40 lowercase letters, digits or `-` after its
    /// prefix (`bot_`).
    BadId,
    BadEmail,
    /// Telegram-style bot usernames: 5–32 chars, ending in `bot`.
    BadBotUsername,
    /// Unique value already used (e.g. a project slug).
    Taken,
    BadRole,
    /// Schema field names: a letter or `_`, then letters, digits or `_`.
    BadFieldName,
    /// An option that does not apply to the field's type (enum on a boolean).
    NotAllowedForType,
    /// Text that must be JSON is not.
    BadJson,
    /// A reference to something that does not exist (e.g. a bot).
    Unknown,
    /// Not an RFC 3339 date-time in the accepted window.
    BadDateTime,
    /// A number outside its allowed range.
    OutOfRange,
    /// Give exactly one of two alternatives (`run_at` or `run_after_sec`).
    OneOf,
    TooShort { min: usize },
    /// The change would leave no enabled admin to sign in.
    LastAdmin,
    /// Not allowed on one's own account (disabling it).
    OwnAccount,
    /// Changes which endpoints a map's rows are bound to: the architects'.
    ArchitectsOnly,
    /// What the change touches kept changing while it was being made
    /// (other maps saved again and again): nothing was done; try again.
    ChangedMeanwhile,
    /// More maps in one commit than it may change (a stage linked from
    /// more maps than one save of a set takes).
    TooManyMaps { max: usize },
}

impl Problem {
    /// A problem of the whole request rather than of the field it is
    /// filed under: said without the field's name.
    pub fn of_the_request(&self) -> bool {
        matches!(self, Problem::ChangedMeanwhile | Problem::TooManyMaps { .. })
    }
}

/// One invalid field of a submitted draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    #[serde(flatten)]
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self { field: field.into(), problem }
    }
}

impl std::fmt::Display for FieldError {
    /// English rendering for logs and API clients; the studio translates.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.problem {
            Problem::Required => "is required".to_string(),
            Problem::TooLong { max } => format!("must be at most {max} characters"),
            Problem::TooShort { min } => format!("must be at least {min} characters"),
            Problem::BadSlug => "may contain only lowercase letters, digits, '-' and '_'".into(),
            Problem::BadAlias => "must be lowercase segments of letters, digits, '-' or '_' joined by '/'".into(),
            Problem::BadId => "must be 1-40 lowercase letters, digits or '-' (after bot_)".into(),
            Problem::BadEmail => "is not an email address".into(),
            Problem::BadBotUsername => "must be 5-32 letters, digits or '_' and end with 'bot'".into(),
            Problem::Taken => "is already taken".into(),
            Problem::BadRole => "is not a known role".into(),
            Problem::BadFieldName => "must start with a letter or '_' and contain only letters, digits and '_'".into(),
            Problem::NotAllowedForType => "does not apply to this type".into(),
            Problem::BadJson => "is not valid JSON".into(),
            Problem::Unknown => "does not exist".into(),
            Problem::BadDateTime => "must be an RFC 3339 date-time (2026-11-26T10:00:00Z) within a year".into(),
            Problem::OutOfRange => "is out of the allowed range".into(),
            Problem::OneOf => "give either run_at or run_after_sec, not both".into(),
            Problem::LastAdmin => "would leave no enabled admin".into(),
            Problem::OwnAccount => "is not allowed on your own account".into(),
            Problem::ArchitectsOnly => "would change which endpoints the map's rows are bound to, which only architects may do".into(),
            Problem::TooManyMaps { max } => format!("would change more than {max} maps in one save"),
            Problem::ChangedMeanwhile => "could not be done: maps linking to it were saved again meanwhile; nothing was changed, try again".into(),
        };
        write!(f, "{} {}", self.field, what)
    }
}

/// Trims `value` and checks it is present and not longer than `max` chars.
pub fn required_text(
    field: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push(FieldError::new(field, Problem::Required));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(field, Problem::TooLong { max }));
    }
    value.to_string()
}

/// Trims an optional free-text value and checks its length.
pub fn optional_text(
    field: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        errors.push(FieldError::new(field, Problem::TooLong { max }));
    }
    value.to_string()
}
