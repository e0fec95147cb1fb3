//! [`AppError`]: the one error type of the studio's server functions.
//!
//! It crosses the wire as JSON, so the browser can show each case in the
//! user's language ([`AppError::message`]). Internal details are logged on
//! the server and never put in an `AppError`.

use crate::i18n::{problem_text, t, t1, K};
use comops_core::{FieldError, Locale};
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("not logged in")]
    Unauthenticated,
    #[error("the role does not allow this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed attempts; retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    /// The user sent more than their share of a limited action (the
    /// studio's test events) in the last minute.
    #[error("too many requests; retry after {retry_after_secs} s")]
    TooFast { retry_after_secs: u64 },
    #[error("internal error")]
    Internal,
    /// The database cannot be reached right now (it restarts, the network
    /// is cut): nothing was changed, and the same call may work in a moment.
    #[error("the database is unavailable")]
    Unavailable,
    /// The request's body is larger than a server function takes.
    #[error("the request is larger than {limit_mib} MiB")]
    TooLarge { limit_mib: u64 },
    /// The request's arguments could not be read (a field missing, a
    /// value of the wrong type, a body that is not what the function
    /// takes): nothing was done.
    #[error("the request could not be read: {0}")]
    BadRequest(String),
    /// The request did not reach the server or its answer was unreadable.
    #[error("transport: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server these come only from reading a request's
            // arguments; in the browser, from reading an answer.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) | ServerFnErrorErr::Deserialization(detail) => AppError::BadRequest(detail),
            other => AppError::Transport(other.to_string()),
        }
    }
}

impl AppError {
    /// One line for a banner above a form.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::Unauthenticated => t(locale, K::ErrUnauthenticated).into(),
            AppError::Forbidden => t(locale, K::ErrForbidden).into(),
            AppError::NotFound => t(locale, K::ErrNotFound).into(),
            AppError::Invalid(errors) => errors
                .iter()
                .map(|e| match e.problem.of_the_request() {
                    true => problem_text(locale, &e.problem),
                    false => format!("{}: {}", e.field, problem_text(locale, &e.problem)),
                })
                .collect::<Vec<_>>()
                .join(" "),
            AppError::BadCredentials => t(locale, K::BadCredentials).into(),
            AppError::Throttled { retry_after_secs } => t1(locale, K::Throttled, retry_after_secs),
            AppError::TooFast { retry_after_secs } => t1(locale, K::ErrTooFast, retry_after_secs),
            AppError::Internal => t(locale, K::ErrInternal).into(),
            AppError::Unavailable => t(locale, K::ErrUnavailable).into(),
            AppError::TooLarge { limit_mib } => t1(locale, K::ErrTooLarge, limit_mib),
            AppError::BadRequest(detail) => t1(locale, K::ErrBadRequest, detail),
            AppError::Transport(_) => t(locale, K::ErrNetwork).into(),
        }
    }

    /// The HTTP status a server function answers with this error (the
    /// server sets it in one place: `server/src/http/server_fn_status.rs`).
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Invalid(_) | AppError::BadRequest(_) => 400,
            AppError::Throttled { .. } | AppError::TooFast { .. } => 429,
            AppError::Internal | AppError::Transport(_) => 500,
            AppError::Unavailable => 503,
            AppError::TooLarge { .. } => 413,
        }
    }

    /// The problem with `field`, if this is a validation error naming it.
    pub fn field(&self, field: &str, locale: Locale) -> Option<String> {
        match self {
            AppError::Invalid(errors) => {
                errors.iter().find(|e| e.field == field).map(|e| problem_text(locale, &e.problem))
            }
            _ => None,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<comops_core::store::StoreError> for AppError {
    fn from(err: comops_core::store::StoreError) -> Self {
        use comops_core::store::StoreError;
        use comops_core::Problem;
        match err {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Taken(field) => AppError::Invalid(vec![FieldError::new(field, Problem::Taken)]),
            other if other.is_unreachable() => {
                tracing::warn!(error = %other, "database unreachable in a server function");
                AppError::Unavailable
            }
            other => {
                tracing::error!(error = %other, "store error in a server function");
                AppError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comops_core::Problem;

    #[test]
    fn a_problem_of_the_whole_request_is_said_without_its_field() {
        let refused = AppError::Invalid(vec![FieldError::new("parts", Problem::TooManyMaps { max: 64 }), FieldError::new("title", Problem::Required)]);
        let required = problem_text(Locale::En, &Problem::Required);
        assert_eq!(
            refused.message(Locale::En),
            format!("This would change more than 64 maps in one save (the links of that many maps to it go with it). Take some of those links out first. title: {required}")
        );
        let busy = AppError::Invalid(vec![FieldError::new("map_id", Problem::ChangedMeanwhile)]);
        assert!(busy.message(Locale::Ru).starts_with("Карты, связанные с этой"), "{}", busy.message(Locale::Ru));
    }
}
