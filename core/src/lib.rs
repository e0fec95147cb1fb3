//! ComOps domain crate.
//!
//! The default build is wasm-safe: typed ids and values that are parsed once
//! at the edge ([`Email`], [`Slug`], [`Role`], [`Locale`]), the drafts users
//! submit and the rules that validate them. The browser bundle and the
//! server share these, so a form and the server reject the same input with
//! the same [`FieldError`].
//!
//! The `backend` feature adds what only the server has: the database
//! [`store`], password hashing and session secrets in [`auth`], and the
//! [`demo`] project seeded on first start.

pub mod bot;
pub mod email;
pub mod id;
pub mod locale;
pub mod project;
pub mod role;
pub mod slug;
pub mod user;
pub mod validation;

#[cfg(feature = "backend")]
pub mod auth;
#[cfg(feature = "backend")]
pub mod demo;
#[cfg(feature = "backend")]
pub mod store;

pub use bot::{Bot, BotDraft};
pub use email::Email;
pub use id::{BotId, ProjectId, UserId};
pub use locale::Locale;
pub use project::{Project, ProjectDraft};
pub use role::{Permission, Role};
pub use slug::Slug;
pub use user::SessionUser;
pub use validation::{FieldError, Problem};

/// Milliseconds since the Unix epoch: the one time representation in the
/// store (portable across SQLite and PostgreSQL) and on the wire.
pub type Millis = i64;
