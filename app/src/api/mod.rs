//! Server functions: the studio's only way to read and change data. Each
//! one checks the caller's role with `session::require` before touching
//! the store.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod projects;
pub mod endpoints;
pub mod leads;
pub mod maps;
pub mod scenarios;
pub mod test_events;
pub mod settings;
pub mod tokens;
pub mod users;
pub mod traces;
pub mod versions;

/// When a filter's period (`hour`, `day`, `week`; anything else is any
/// time) began, against the server's clock `now`.
#[cfg(feature = "ssr")]
pub(crate) fn period_start(period: &str, now: comops_core::Millis) -> Option<comops_core::Millis> {
    const HOUR: i64 = 3_600_000;
    match period {
        "hour" => Some(now - HOUR),
        "day" => Some(now - 24 * HOUR),
        "week" => Some(now - 7 * 24 * HOUR),
        _ => None,
    }
}
