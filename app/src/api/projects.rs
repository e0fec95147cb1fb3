//! Projects and their bots: list, read, create, edit, delete.
//!
//! Reading needs `View`; changing needs `ManageProjects` (admins and
//! architects). Drafts are validated by the same `comops_core` rules the
//! forms use, so the browser and the server reject the same input.

use crate::error::AppError;
use comops_core::{Bot, BotDraft, Project, ProjectDraft};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A project page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDetail {
    pub project: Project,
    pub bots: Vec<Bot>,
}

#[server(prefix = "/api", endpoint = "projects/list")]
pub async fn list_projects() -> Result<Vec<Project>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    Ok(backend()?.store.list_projects().await?)
}

#[server(prefix = "/api", endpoint = "projects/get")]
pub async fn get_project(id: String) -> Result<ProjectDetail, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let id = comops_core::ProjectId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let project = store.project(&id).await?;
    let bots = store.list_bots(&id).await?;
    Ok(ProjectDetail { project, bots })
}

#[server(prefix = "/api", endpoint = "projects/create")]
pub async fn create_project(draft: ProjectDraft) -> Result<Project, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::ManageProjects)?;
    let valid = draft.validate().map_err(AppError::Invalid)?;
    let store = backend()?.store;
    let project = store.create_project(&valid, Some(&user.id), None).await?;
    store.audit(user.email.as_str(), "project.create", project.id.as_str(), &project.name).await?;
    Ok(project)
}

#[server(prefix = "/api", endpoint = "projects/update")]
pub async fn update_project(id: String, draft: ProjectDraft) -> Result<Project, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::ManageProjects)?;
    let id = comops_core::ProjectId::parse(&id).ok_or(AppError::NotFound)?;
    let valid = draft.validate().map_err(AppError::Invalid)?;
    let store = backend()?.store;
    let project = store.update_project(&id, &valid).await?;
    store.audit(user.email.as_str(), "project.update", project.id.as_str(), &project.name).await?;
    Ok(project)
}

#[server(prefix = "/api", endpoint = "projects/delete")]
pub async fn delete_project(id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::ManageProjects)?;
    let id = comops_core::ProjectId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    // Its name, for the audit log: the id alone names nothing once deleted.
    let name = store.project(&id).await?.name;
    store.delete_project(&id).await?;
    store.audit(user.email.as_str(), "project.delete", id.as_str(), &name).await?;
    Ok(())
}

/// Makes a bot; `id`, when given, is the one chosen for it
/// ([`comops_core::BotId::chosen`]), otherwise one is generated.
#[server(prefix = "/api", endpoint = "bots/create")]
pub async fn create_bot(project_id: String, draft: BotDraft, id: Option<String>) -> Result<Bot, AppError> {
    use crate::session::{backend, require};
    use comops_core::FieldError;
    let user = require(comops_core::Permission::ManageProjects)?;
    let project_id = comops_core::ProjectId::parse(&project_id).ok_or(AppError::NotFound)?;
    let chosen = comops_core::BotId::chosen(id.as_deref().unwrap_or_default());
    let (valid, chosen) = match (draft.validate(), chosen) {
        (Ok(valid), Ok(chosen)) => (valid, chosen),
        (valid, chosen) => {
            let mut errors = valid.err().unwrap_or_default();
            errors.extend(chosen.err().map(|problem| FieldError::new("id", problem)));
            return Err(AppError::Invalid(errors));
        }
    };
    let store = backend()?.store;
    // An id in use, or a deleted bot's (its traces and tokens still name
    // it), is `Taken` on the field `id`.
    let bot = store.create_bot(&project_id, &valid, chosen).await?;
    store.audit(user.email.as_str(), "bot.create", bot.id.as_str(), &bot.name).await?;
    Ok(bot)
}

#[server(prefix = "/api", endpoint = "bots/update")]
pub async fn update_bot(id: String, draft: BotDraft) -> Result<Bot, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::ManageProjects)?;
    let id = comops_core::BotId::parse(&id).ok_or(AppError::NotFound)?;
    let valid = draft.validate().map_err(AppError::Invalid)?;
    let store = backend()?.store;
    let bot = store.update_bot(&id, &valid).await?;
    store.audit(user.email.as_str(), "bot.update", bot.id.as_str(), &bot.name).await?;
    Ok(bot)
}

#[server(prefix = "/api", endpoint = "bots/delete")]
pub async fn delete_bot(id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::ManageProjects)?;
    let id = comops_core::BotId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let name = store.bot(&id).await?.name;
    store.delete_bot(&id).await?;
    store.audit(user.email.as_str(), "bot.delete", id.as_str(), &name).await?;
    Ok(())
}
