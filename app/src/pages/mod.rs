//! One module per studio page.

pub mod endpoints;
pub mod login;
pub mod project;
pub mod projects;
pub mod section;
pub mod tokens;
pub mod traces;
