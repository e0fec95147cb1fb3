//! One module per studio page.

pub mod analytics;
pub mod audit;
pub mod endpoint_history;
pub mod endpoint_test;
pub mod endpoints;
pub mod leads;
pub mod login;
pub mod maps;
pub mod project;
pub mod projects;
pub mod scenarios;
pub mod section;
pub mod settings;
pub mod tokens;
pub mod users;
pub mod traces;
