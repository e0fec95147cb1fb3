//! One module per studio page.

pub mod login;
pub mod project;
pub mod projects;
pub mod section;
