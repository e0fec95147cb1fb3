//! Server functions: the studio's only way to read and change data. Each
//! one checks the caller's role with `session::require` before touching
//! the store.

pub mod analytics;
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
