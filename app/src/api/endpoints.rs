//! Integration points of a bot: list, create, edit, delete, export and
//! import as JSON.
//!
//! Reading needs `View`; changing needs `DesignIntegrations` (admins and
//! architects). Drafts are validated by `comops_core`'s rules, so a bad
//! alias or schema field comes back as a field error naming the input
//! (`alias`, `example`, `schema.fields[2].name`). Complex drafts travel as
//! JSON: the nested schema does not fit a URL-encoded form well.
//!
//! Every create, save, restore and import is a version (SPEC §6): a save
//! names the version it started from, and a newer one saved meanwhile is
//! an [`EndpointSaveOutcome::Conflict`] carrying that version, so the
//! editor can merge onto it (`versions::rebase`) or reload; nothing is
//! lost either way.

use crate::api::versions::DiffRows;
use crate::error::AppError;
use comops_core::endpoint::versions::EndpointVersionInfo;
use comops_core::history::HistoryPage;
use comops_core::{Endpoint, EndpointDraft};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

/// A bot in the endpoint page's picker, with its project for grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotChoice {
    pub id: String,
    pub name: String,
    pub project: String,
}

/// The endpoint page's data: every bot (for the picker), the chosen one
/// (the first when none was asked for), its endpoints and their traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BotEndpoints {
    pub bots: Vec<BotChoice>,
    pub bot_id: String,
    pub endpoints: Vec<Endpoint>,
    /// All-time calls of the endpoints ever called (by alias).
    pub traffic: Vec<EndpointTraffic>,
    /// The scenarios endpoints name (to run, or to report a block) that
    /// the bot does not have: a call would run nothing.
    pub missing_scenarios: Vec<String>,
}

/// An endpoint's calls from business systems since it was made: every
/// call, accepted or refused, dry runs left out (the figures a map row's
/// trigger cell shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointTraffic {
    pub alias: String,
    pub calls: i64,
    /// Refused or failed.
    pub errors: i64,
    pub last_call_at: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    /// Already there as the file has them: no new version.
    pub unchanged: usize,
}

/// What saving (or restoring) an endpoint did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EndpointSaveOutcome {
    Saved(Endpoint),
    /// `author` saved version `current` after the version the editor
    /// started from; nothing was written. `theirs` is that version's
    /// content, to merge onto.
    Conflict { current: i64, author: String, theirs: EndpointDraft },
}

#[server(prefix = "/api", endpoint = "endpoints/bots")]
pub async fn list_bot_choices() -> Result<Vec<BotChoice>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let store = backend()?.store;
    let mut choices = Vec::new();
    for project in store.list_projects().await? {
        for bot in store.list_bots(&project.id).await? {
            choices.push(BotChoice { id: bot.id.to_string(), name: bot.name, project: project.name.clone() });
        }
    }
    Ok(choices)
}

#[server(prefix = "/api", endpoint = "endpoints/page")]
pub async fn endpoint_page(bot_id: String) -> Result<BotEndpoints, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bots = list_bot_choices().await?;
    let bot_id = if bot_id.is_empty() { bots.first().map(|b| b.id.clone()).unwrap_or_default() } else { bot_id };
    if bot_id.is_empty() {
        return Ok(BotEndpoints { bots, bot_id, endpoints: Vec::new(), traffic: Vec::new(), missing_scenarios: Vec::new() });
    }
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let endpoints = store.list_endpoints(&bot).await?;
    let traffic = store
        .endpoint_figures(std::slice::from_ref(&bot), 0)
        .await?
        .into_iter()
        .map(|f| EndpointTraffic { alias: f.alias, calls: f.calls, errors: f.errors, last_call_at: f.last_call_at })
        .collect();
    let known: std::collections::HashSet<String> = store.list_scenarios(&bot).await?.into_iter().map(|s| s.name).collect();
    let mut missing_scenarios: Vec<String> =
        endpoints.iter().flat_map(Endpoint::scenarios).filter(|name| !name.is_empty() && !known.contains(*name)).map(str::to_string).collect();
    missing_scenarios.sort();
    missing_scenarios.dedup();
    Ok(BotEndpoints { bots, bot_id, endpoints, traffic, missing_scenarios })
}

#[server(prefix = "/api", endpoint = "endpoints/list")]
pub async fn list_endpoints(bot_id: String) -> Result<Vec<Endpoint>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    Ok(backend()?.store.list_endpoints(&bot).await?)
}

#[server(prefix = "/api", endpoint = "endpoints/create", input = Json)]
pub async fn create_endpoint(bot_id: String, draft: EndpointDraft) -> Result<Endpoint, AppError> {
    use crate::session::{backend, require, session};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let valid = draft.validate().map_err(AppError::Invalid)?;
    let store = backend()?.store;
    let note = crate::i18n::t(session().locale, crate::i18n::K::EndpointNoteCreated);
    let endpoint = store.create_endpoint_as(&bot, &valid, note, user.email.as_str()).await?;
    store.audit(user.email.as_str(), "endpoint.create", endpoint.id.as_str(), endpoint.alias.as_str()).await?;
    Ok(endpoint)
}

/// Saves `draft` as the next version of endpoint `id`, if `base` (the
/// version the editor started from) is still current.
#[server(prefix = "/api", endpoint = "endpoints/update", input = Json)]
pub async fn update_endpoint(id: String, base: i64, draft: EndpointDraft, note: String) -> Result<EndpointSaveOutcome, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let id = comops_core::EndpointId::parse(&id).ok_or(AppError::NotFound)?;
    // The note's problem, if any, comes with the draft's.
    let mut errors = Vec::new();
    let note = comops_core::validation::optional_text("note", &note, 500, &mut errors);
    let valid = match draft.validate() {
        Ok(valid) if errors.is_empty() => valid,
        Ok(_) => return Err(AppError::Invalid(errors)),
        Err(mut found) => {
            found.append(&mut errors);
            return Err(AppError::Invalid(found));
        }
    };
    saved(&backend()?.store, &id, base, &valid, &note, user.email.as_str(), "endpoint.update").await
}

/// What a change of an endpoint made on the ComOps loop did: its
/// scenario set, the endpoint the maps plan created, or that creation
/// taken back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EndpointStep {
    /// Saved as the endpoint's version `version`.
    Saved { version: i64 },
    /// Created as endpoint `id`, version `version` (1).
    Created { id: String, version: i64 },
    /// Deleted: only the undo of a creation.
    Deleted,
    /// Not deleted: business systems called it `calls` times since it
    /// was made (to be deleted on the endpoints page, if it must go).
    Called { calls: i64 },
    /// The endpoint is not as the loop drew it: `author` saved version
    /// `current` since (or made it first). Nothing was written.
    Conflict { current: i64, author: String },
}

/// Sets the scenario endpoint `alias` of bot `bot_id` starts to `scenario`
/// (empty: none) as its next version with `note` — if it still starts
/// `expect`, what the loop's endpoint panel drew; else the conflict. The
/// rest of the endpoint stays as it is.
#[server(prefix = "/api", endpoint = "endpoints/scenario")]
pub async fn set_endpoint_scenario(bot_id: String, alias: String, scenario: String, expect: String, note: String) -> Result<EndpointStep, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let alias = comops_core::Alias::parse(&alias).map_err(|_| AppError::NotFound)?;
    let note = loop_note(&note)?;
    let store = backend()?.store;
    // Found by alias (cached), then read as it is now: another process's
    // save may not be in this one's cache yet.
    let found = store.endpoint_by_alias(&bot, &alias).await?.ok_or(AppError::NotFound)?;
    let endpoint = store.endpoint(&found.id).await?;
    if endpoint.scenario != expect {
        return conflict_at(&store, &endpoint).await;
    }
    let draft = EndpointDraft { scenario, ..EndpointDraft::from(&endpoint) };
    let valid = draft.validate().map_err(AppError::Invalid)?;
    Ok(match saved(&store, &endpoint.id, endpoint.version, &valid, &note, user.email.as_str(), "endpoint.update").await? {
        EndpointSaveOutcome::Saved(endpoint) => EndpointStep::Saved { version: endpoint.version },
        EndpointSaveOutcome::Conflict { current, author, .. } => EndpointStep::Conflict { current, author },
    })
}

/// Creates endpoint `alias` of bot `bot_id` (a bot of project
/// `project_id`) as the project's maps plan it — the rows and cells bound
/// to it (`comops_core::map::planned`) — as its version 1 with `note`: the
/// loop's "not live" gap closed. Made meanwhile by someone else, it is
/// the conflict naming who; no map binding it any more, not found.
#[server(prefix = "/api", endpoint = "endpoints/planned")]
pub async fn create_planned_endpoint(project_id: String, bot_id: String, alias: String, note: String) -> Result<EndpointStep, AppError> {
    use crate::session::{backend, require};
    use comops_core::store::StoreError;
    use comops_core::validation::{FieldError, Problem};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let project = comops_core::ProjectId::parse(&project_id).ok_or(AppError::NotFound)?;
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let alias = comops_core::Alias::parse(&alias).map_err(|_| AppError::NotFound)?;
    let note = loop_note(&note)?;
    let store = backend()?.store;
    // A binding to a bot of another project (or none) is not this
    // project's to fill: the bot has to be added to the project first.
    if !store.list_bots(&project).await?.iter().any(|b| b.id == bot) {
        return Err(AppError::Invalid(vec![FieldError::new("bot_id", Problem::Unknown)]));
    }
    let binding = comops_core::map::EndpointBinding { bot_id: bot.clone(), alias: alias.clone() };
    let draft = comops_core::map::planned::planned_endpoint(&store.project_maps(&project).await?, &binding).ok_or(AppError::NotFound)?;
    let valid = draft.validate().map_err(AppError::Invalid)?;
    // The alias's unique index says whether someone, in this process or
    // another, made it meanwhile: then it is theirs, read as it is now
    // (not through the cache).
    let endpoint = match store.create_endpoint_as(&bot, &valid, &note, user.email.as_str()).await {
        Ok(endpoint) => endpoint,
        Err(StoreError::Taken(_)) => {
            return match store.list_endpoints(&bot).await?.into_iter().find(|e| e.alias == alias) {
                Some(made) => conflict_at(&store, &made).await,
                // Made and deleted again meanwhile: nothing to name.
                None => Err(AppError::NotFound),
            };
        }
        Err(other) => return Err(other.into()),
    };
    store.audit(user.email.as_str(), "endpoint.create", endpoint.id.as_str(), endpoint.alias.as_str()).await?;
    Ok(EndpointStep::Created { id: endpoint.id.to_string(), version: endpoint.version })
}

/// Deletes endpoint `id` if `version` is still its version and no
/// business system has called it since it was made — the undo of
/// [`create_planned_endpoint`]; else the conflict (who saved which
/// version since) or [`EndpointStep::Called`], and nothing is deleted.
#[server(prefix = "/api", endpoint = "endpoints/unplan")]
pub async fn delete_endpoint_at(id: String, version: i64) -> Result<EndpointStep, AppError> {
    use crate::session::{backend, require};
    use comops_core::store::StoreError;
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let id = comops_core::EndpointId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let endpoint = store.endpoint(&id).await?;
    if endpoint.version != version {
        return conflict_at(&store, &endpoint).await;
    }
    // Calls count from when it was made (one an earlier endpoint of that
    // alias had are not its). One arriving between this read and the
    // delete is answered 404 by the endpoint gone, as after any delete.
    let figures = store.endpoint_figures(std::slice::from_ref(&endpoint.bot_id), endpoint.created_at).await?;
    let calls = figures.iter().find(|f| f.alias == endpoint.alias.as_str()).map_or(0, |f| f.calls);
    if calls > 0 {
        return Ok(EndpointStep::Called { calls });
    }
    match store.delete_endpoint_at(&id, version).await {
        Ok(()) => {}
        Err(StoreError::Conflict { current, author }) => return Ok(EndpointStep::Conflict { current, author }),
        Err(other) => return Err(other.into()),
    }
    store.audit(user.email.as_str(), "endpoint.delete", id.as_str(), endpoint.alias.as_str()).await?;
    Ok(EndpointStep::Deleted)
}

/// A version note the loop sends, checked as every note is.
#[cfg(feature = "ssr")]
fn loop_note(note: &str) -> Result<String, AppError> {
    let mut errors = Vec::new();
    let note = comops_core::validation::optional_text("note", note, 500, &mut errors);
    if errors.is_empty() {
        Ok(note)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The conflict of a loop change on `endpoint`, which is not as the loop
/// drew it: its current version and who saved it (nobody, when it was
/// made before versions were kept).
#[cfg(feature = "ssr")]
async fn conflict_at(store: &comops_core::store::Store, endpoint: &Endpoint) -> Result<EndpointStep, AppError> {
    let author = match store.endpoint_version(&endpoint.id, endpoint.version).await {
        Ok(version) => version.author,
        Err(comops_core::store::StoreError::NotFound) => String::new(),
        Err(other) => return Err(other.into()),
    };
    Ok(EndpointStep::Conflict { current: endpoint.version, author })
}

/// A page of endpoint `id`'s versions, newest first: the newest, or
/// those older than `before`.
#[server(prefix = "/api", endpoint = "endpoints/versions")]
pub async fn endpoint_versions(id: String, #[server(default)] before: Option<i64>) -> Result<HistoryPage<EndpointVersionInfo>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let id = comops_core::EndpointId::parse(&id).ok_or(AppError::NotFound)?;
    Ok(backend()?.store.endpoint_history(&id, comops_core::history::HistoryWindow { before }).await?)
}

/// Versions `from` and `to` of endpoint `id` side by side, in the
/// reader's language.
#[server(prefix = "/api", endpoint = "endpoints/diff")]
pub async fn diff_endpoint(id: String, from: i64, to: i64) -> Result<DiffRows, AppError> {
    use crate::session::{backend, require, session};
    require(comops_core::Permission::View)?;
    let id = comops_core::EndpointId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let before = store.endpoint_version(&id, from).await?;
    let after = store.endpoint_version(&id, to).await?;
    Ok(diff_rows(&comops_core::endpoint::versions::changes(&before.draft, &after.draft), session().locale))
}

/// Saves version `version` of endpoint `id` again as its newest (if
/// `base` is still current).
#[server(prefix = "/api", endpoint = "endpoints/restore")]
pub async fn restore_endpoint(id: String, version: i64, base: i64) -> Result<EndpointSaveOutcome, AppError> {
    use crate::session::{backend, require, session};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let id = comops_core::EndpointId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    let old = store.endpoint_version(&id, version).await?;
    // The rules may have grown stricter since that version was saved.
    let valid = old.draft.validate().map_err(AppError::Invalid)?;
    let note = crate::i18n::t1(session().locale, crate::i18n::K::EndpointNoteRestored, version);
    saved(&store, &id, base, &valid, &note, user.email.as_str(), "endpoint.restore").await
}

/// Saves a version and audits it; a stale base is a conflict with the
/// current version's content.
#[cfg(feature = "ssr")]
async fn saved(
    store: &comops_core::store::Store,
    id: &comops_core::EndpointId,
    base: i64,
    valid: &comops_core::endpoint::ValidEndpoint,
    note: &str,
    author: &str,
    action: &str,
) -> Result<EndpointSaveOutcome, AppError> {
    use comops_core::store::StoreError;
    match store.save_endpoint(id, base, valid, note, author).await {
        Ok(endpoint) => {
            let detail = format!("{} v{}", endpoint.alias, endpoint.version);
            store.audit(author, action, endpoint.id.as_str(), &detail).await?;
            Ok(EndpointSaveOutcome::Saved(endpoint))
        }
        Err(StoreError::Conflict { current, author }) => {
            let theirs = store.endpoint_version(id, current).await?.draft;
            Ok(EndpointSaveOutcome::Conflict { current, author, theirs })
        }
        Err(other) => Err(other.into()),
    }
}

/// The lines of an endpoint's diff: each part by its form label, a
/// request field by its name, flags as yes / no.
#[cfg(feature = "ssr")]
fn diff_rows(changes: &[comops_core::endpoint::versions::PartChange], locale: comops_core::Locale) -> DiffRows {
    use crate::api::versions::DiffRow;
    use crate::i18n::{t, K};
    use comops_core::endpoint::versions::EndpointPart as P;
    let rows = changes
        .iter()
        .map(|c| {
            let key = match c.part {
                P::Alias => K::Alias,
                P::Description => K::Description,
                P::Owner => K::Owner,
                P::Scenario => K::Scenario,
                P::Enabled => K::Enabled,
                P::Isolated => K::Isolated,
                P::AllowOverlap => K::AllowOverlap,
                P::OnBlocked => K::OnBlocked,
                P::RequestField => K::RequestSchema,
                P::Example => K::ExampleRequest,
                P::ResponseDescription => K::ResponseDescription,
            };
            let flag = matches!(c.part, P::Enabled | P::Isolated | P::AllowOverlap);
            let side = |text: &str| match (flag, text) {
                (true, "true") => t(locale, K::Yes).to_string(),
                (true, _) => t(locale, K::No).to_string(),
                (false, text) => text.to_string(),
            };
            let change = if c.before.is_empty() { "added" } else if c.after.is_empty() { "removed" } else { "changed" };
            DiffRow { label: c.name.clone(), change: change.into(), field: t(locale, key).to_string(), before: side(&c.before), after: side(&c.after) }
        })
        .collect::<Vec<_>>();
    DiffRows { count: rows.len(), rows }
}

#[server(prefix = "/api", endpoint = "endpoints/delete")]
pub async fn delete_endpoint(id: String) -> Result<(), AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let id = comops_core::EndpointId::parse(&id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    // Its alias, for the audit log: the id alone names nothing once deleted.
    let alias = store.endpoint(&id).await?.alias;
    store.delete_endpoint(&id).await?;
    store.audit(user.email.as_str(), "endpoint.delete", id.as_str(), alias.as_str()).await?;
    Ok(())
}

/// The bot's endpoints as a pretty-printed `comops.endpoints/v1` document.
#[server(prefix = "/api", endpoint = "endpoints/export")]
pub async fn export_endpoints(bot_id: String) -> Result<String, AppError> {
    use crate::session::{backend, require};
    use comops_core::endpoint::EndpointExport;
    require(comops_core::Permission::View)?;
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let store = backend()?.store;
    store.bot(&bot).await?;
    let endpoints = store.list_endpoints(&bot).await?.iter().map(EndpointDraft::from).collect();
    let export = EndpointExport { format: EndpointExport::FORMAT.into(), bot_id: bot, endpoints };
    serde_json::to_string_pretty(&export).map_err(|err| {
        tracing::error!(error = %err, "cannot serialize an endpoint export");
        AppError::Internal
    })
}

/// Upserts (by alias) every endpoint of an export into `bot_id`. Nothing
/// is written unless every draft is valid; errors name the draft,
/// e.g. `endpoints[2].alias`. The file's own `bot_id` is not required to
/// match: importing is also how endpoints are copied between bots.
#[server(prefix = "/api", endpoint = "endpoints/import", input = Json)]
pub async fn import_endpoints(bot_id: String, json: String) -> Result<ImportReport, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = comops_core::BotId::parse(&bot_id).ok_or(AppError::NotFound)?;
    let valid = parse_export(&json)?.validate().map_err(AppError::Invalid)?;
    let store = backend()?.store;
    let note = crate::i18n::t(crate::session::session().locale, crate::i18n::K::EndpointNoteImported);
    let done = store.import_endpoints(&bot, &valid, note, user.email.as_str()).await?;
    let detail = comops_core::audit_detail::Detail::Synced { created: done.created, updated: done.updated, unchanged: done.unchanged };
    store.audit(user.email.as_str(), "endpoint.import", bot.as_str(), &detail.to_string()).await?;
    Ok(ImportReport { created: done.created, updated: done.updated, unchanged: done.unchanged })
}

/// Reads an export document: bad JSON or another format is an error on
/// the `import` field.
#[cfg(feature = "ssr")]
fn parse_export(json: &str) -> Result<comops_core::endpoint::EndpointExport, AppError> {
    use comops_core::endpoint::EndpointExport;
    use comops_core::{FieldError, Problem};
    let export: EndpointExport =
        serde_json::from_str(json).map_err(|_| AppError::Invalid(vec![FieldError::new("import", Problem::BadJson)]))?;
    if export.format != EndpointExport::FORMAT {
        return Err(AppError::Invalid(vec![FieldError::new("format", Problem::Unknown)]));
    }
    Ok(export)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::parse_export;
    use crate::error::AppError;

    #[test]
    fn an_export_must_be_json_of_our_format() {
        let fields = |r: Result<_, AppError>| match r {
            Err(AppError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            _ => vec![],
        };
        assert_eq!(fields(parse_export("{nope")), ["import"]);
        assert_eq!(fields(parse_export(r#"{"format":"other/v1","bot_id":"bot_shop","endpoints":[]}"#)), ["format"]);
        let ok = parse_export(r#"{"format":"comops.endpoints/v1","bot_id":"bot_shop","endpoints":[{"alias":"order/thank-you"}]}"#);
        assert_eq!(ok.unwrap().endpoints[0].alias, "order/thank-you");
    }
}
