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

pub mod alias;
pub mod analytics;
pub mod audit;
pub mod audit_detail;
pub mod bot;
pub mod call;
pub mod email;
pub mod endpoint;
pub mod history;
pub mod html;
pub mod id;
pub mod identity;
pub mod job;
pub mod locale;
pub mod map;
pub mod metrics;
pub mod project;
pub mod role;
pub mod scenario;
pub mod schema;
pub mod slug;
pub mod token;
pub mod trace;
pub mod user;
pub mod validation;

#[cfg(feature = "backend")]
pub mod auth;
#[cfg(feature = "backend")]
pub mod channel;
#[cfg(feature = "backend")]
pub mod demo;
#[cfg(feature = "backend")]
pub mod rate_limit;
#[cfg(feature = "backend")]
pub mod seal;
#[cfg(feature = "backend")]
pub mod store;

pub use alias::{Alias, AliasPattern};
pub use bot::{Bot, BotDraft};
pub use endpoint::{Endpoint, EndpointDraft};
pub use email::Email;
pub use id::{BotId, EndpointId, EventId, ProjectId, TokenId, UserId};
pub use locale::Locale;
pub use project::{Project, ProjectDraft};
pub use role::{Permission, Role};
pub use schema::RequestSchema;
pub use slug::Slug;
pub use token::{ApiToken, TokenAction, TokenScope};
pub use trace::{TraceEvent, TraceId};
pub use user::SessionUser;
pub use validation::{FieldError, Problem};

/// Milliseconds since the Unix epoch: the one time representation in the
/// store (portable across SQLite and PostgreSQL) and on the wire.
pub type Millis = i64;
