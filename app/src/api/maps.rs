//! Studio maps (CJM, Service Blueprint, communication and integration-points
//! maps): list, load (current or an old version), create, save, history,
//! restore, diff, CSV export/import, the ComOps loop and its trace
//! overlay, the «ТЗ на DMI-проект» export, and the JSON export/import of
//! a whole project.
//!
//! Reading needs `View`. Changing a map's text needs `EditMaps` (analysts,
//! architects, admins); a change that binds or unbinds a row or cell to a
//! live endpoint also needs `DesignIntegrations` (architects, admins) —
//! the server compares the endpoint bindings of the new content with the
//! current one, so an analyst's save that leaves them alone goes through.
//! Importing a project creates bots, endpoints and scenarios: it needs
//! `ManageProjects` and `DesignIntegrations`.
//!
//! Content travels as JSON text, parsed here by `comops_core::map` (every
//! problem with its path, `rows[3].trigger.alias`). The functions that
//! carry a whole map, CSV or project take a JSON body (`input = Json`):
//! form encoding would triple the size of Cyrillic text, and request
//! bodies are capped (axum's default, 2 MB). New links must point
//! at items of this project's maps, new bindings at endpoints of its bots.
//! Saves never overwrite silently: the editor sends the version it started
//! from; a newer one saved meanwhile is a [`MapSaveOutcome::Conflict`]
//! naming it, so the editor can offer to reload (and diff) or merge.
//! Several maps of a project may be saved in one commit, all or none
//! ([`save_map_set`]: a stage deleted on the ComOps loop with the links
//! other maps hold to it). Whichever way a save comes, the links other
//! maps hold to the stages it takes out go in its commit (`holders`).
//! Every save, restore, import and delete is audited.

#[cfg(feature = "ssr")]
mod holders;

pub use crate::api::versions::{DiffRow, DiffRows};
use crate::error::AppError;
use comops_core::map::export::ImportProblem;
use comops_core::map::links::LoopView;
#[cfg(feature = "ssr")]
use comops_core::map::MapContent;
use comops_core::map::MapKind;
use comops_core::history::HistoryPage;
use comops_core::FieldError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

/// A row of a project's map list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapRow {
    pub id: String,
    pub kind: MapKind,
    pub title: String,
    pub version: i64,
    /// Stages (CJM, blueprint) or rows.
    pub rows: usize,
    pub author: String,
    pub updated_at: i64,
    /// A row or cell is bound to an endpoint: deleting is the architect's.
    pub bound: bool,
}

/// One version of a map, opened in an editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedMap {
    pub id: String,
    pub project_id: String,
    pub kind: MapKind,
    pub title: String,
    /// The content as JSON text (`MapContent::to_value`): the editor edits
    /// it as a JSON value, and text keeps the typed maps' serde code out of
    /// the browser bundle.
    pub content: String,
    pub version: i64,
    /// The map's current version (`version` is older when an old one was opened).
    pub current: i64,
    pub note: String,
    pub author: String,
    pub created_at: i64,
    /// The ids of the rows `content` leaves out, in order, when it holds
    /// only a long map's first rows (`maps/open` with `first`;
    /// `comops_core::map::first_rows`); empty when it is whole.
    #[serde(default)]
    pub later: Vec<String>,
}

/// One entry of a map's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapVersionRow {
    pub version: i64,
    pub title: String,
    pub note: String,
    pub author: String,
    pub created_at: i64,
    pub rows: usize,
    /// Whether the reader may restore it: an analyst may not restore a
    /// version whose rows are bound to other endpoints than now.
    pub restorable: bool,
}

/// What a save, restore or CSV import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MapSaveOutcome {
    /// Saved as `version`; the project's other maps whose links to the
    /// stages it took out went in the same commit (`holders`).
    Saved {
        version: i64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        links_taken_out: Vec<LinksTakenOut>,
    },
    /// Nothing was saved; every problem, each at its path.
    Invalid { errors: Vec<FieldError> },
    /// Someone saved `current` (as `author`) after the version this edit
    /// started from; nothing was saved.
    Conflict { current: i64, author: String },
    /// The CSV could not be read; `message` is in the user's language.
    BadCsv { line: usize, column: Option<String>, message: String },
}

impl MapSaveOutcome {
    /// Saved as `version`, with no other map's links taken out.
    pub fn saved(version: i64) -> Self {
        MapSaveOutcome::Saved { version, links_taken_out: Vec::new() }
    }
}

/// One map's part of a save of several at once ([`save_map_set`]): its
/// whole content as JSON text, or (`changes`) what changed since
/// `base_version` (`comops_core::map::changes`: a few rows of a long map,
/// so several maps fit one request), saved with `note` as the next
/// version of `base_version`, under `title` (`None`: the title stays).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPart {
    pub map_id: String,
    pub json: String,
    #[serde(default)]
    pub changes: bool,
    #[serde(default)]
    pub title: Option<String>,
    pub note: String,
    pub base_version: i64,
}

impl MapPart {
    /// Map `map_id` (of `kind`) saved as `now` at `base_version`, which
    /// held `origin`: what changed, or the whole content when its rows
    /// have no unique ids.
    pub fn of(map_id: &str, kind: MapKind, origin: &serde_json::Value, now: &serde_json::Value, note: &str, base_version: i64) -> MapPart {
        let (json, changes) = match comops_core::map::changes::changes(comops_core::map::changes::rows_key(kind), origin, now) {
            Some(diff) => (diff.to_string(), true),
            None => (now.to_string(), false),
        };
        MapPart { map_id: map_id.to_string(), json, changes, title: None, note: note.to_string(), base_version }
    }
}

/// What a save of several maps did: every one saved (their new versions,
/// in order), or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MapSetOutcome {
    /// The maps' new versions in the order sent; the project's other maps
    /// whose links to the stages the set took out went in the same commit
    /// (those the set did not carry itself).
    Saved {
        versions: Vec<i64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        links_taken_out: Vec<LinksTakenOut>,
    },
    /// Map `map_id`'s content has these problems.
    Invalid { map_id: String, errors: Vec<FieldError> },
    /// Someone saved map `map_id` (`current`, as `author`) after its base.
    Conflict { map_id: String, current: i64, author: String },
}

/// The ComOps loop of a project, with which bound endpoints exist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopPage {
    pub view: LoopView,
    /// Keys (`endpoint:bot_x/alias`) of the endpoint nodes that are live.
    pub live_endpoints: Vec<String>,
    /// The project's bots: an endpoint the maps bind on another bot
    /// cannot be made from this project's loop.
    pub project_bots: Vec<String>,
}

/// What a project import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProjectImportOutcome {
    Imported { project_id: String, bots: usize, endpoints: usize, scenarios: usize, maps: usize },
    /// Nothing was created; every problem of the document.
    Invalid { problems: Vec<ImportProblem> },
}

#[server(prefix = "/api", endpoint = "maps/list")]
pub async fn list_maps(project_id: String) -> Result<Vec<MapRow>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let project = parse_project(&project_id)?;
    let store = backend()?.store;
    store.project(&project).await?;
    Ok(store
        .list_maps(&project)
        .await?
        .into_iter()
        .map(|m| MapRow {
            id: m.id.to_string(),
            kind: m.kind,
            title: m.title,
            version: m.version,
            rows: m.rows,
            author: m.author,
            updated_at: m.updated_at,
            bound: m.bound,
        })
        .collect())
}

/// An endpoint a communication-map row can be bound to, with its live
/// traffic (calls, errors, the last call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BindableEndpoint {
    pub bot_id: String,
    pub alias: String,
    pub scenario: String,
    pub enabled: bool,
    pub calls: i64,
    pub errors: i64,
    pub last_call_at: Option<i64>,
}

/// An item of the project's maps a row can link to: a CJM stage, or a
/// blueprint cell (`lane` set: `customer_actions`, `front_stage`, …),
/// named by its map and stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkTarget {
    pub map: String,
    pub map_title: String,
    pub item: String,
    pub stage: String,
    pub lane: Option<String>,
}

/// The CJM stages and blueprint cells of the project's maps, in the
/// maps' order, for the link cells of its communication maps and
/// blueprints.
#[cfg(feature = "ssr")]
async fn link_targets(store: &comops_core::store::Store, project: &comops_core::ProjectId) -> Result<Vec<LinkTarget>, AppError> {
    use comops_core::map::blueprint::{cell_id, Lane};
    let mut targets = Vec::new();
    for map in store.project_maps_of(project, &[MapKind::Cjm, MapKind::Blueprint]).await? {
        let target = |item: String, stage: &str, lane: Option<Lane>| LinkTarget {
            map: map.id.to_string(),
            map_title: map.title.clone(),
            item,
            stage: stage.to_string(),
            lane: lane.map(|l| l.as_str().to_string()),
        };
        match &map.content {
            MapContent::Cjm(cjm) => targets.extend(cjm.stages.iter().map(|s| target(s.id.clone(), &s.stage, None))),
            MapContent::Blueprint(blueprint) => {
                for stage in &blueprint.stages {
                    targets.extend(Lane::ALL.into_iter().map(|lane| target(cell_id(&stage.id, lane), &stage.name, Some(lane))));
                }
            }
            _ => {}
        }
    }
    Ok(targets)
}

/// Every endpoint of the project's bots, for the trigger cells of its
/// communication maps.
#[server(prefix = "/api", endpoint = "maps/endpoints")]
pub async fn map_endpoints(project_id: String) -> Result<Vec<BindableEndpoint>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let project = parse_project(&project_id)?;
    endpoints_of(&backend()?.store, &project).await
}

#[cfg(feature = "ssr")]
async fn endpoints_of(store: &comops_core::store::Store, project: &comops_core::ProjectId) -> Result<Vec<BindableEndpoint>, AppError> {
    let bots = store.list_bots(project).await?;
    let ids: Vec<comops_core::BotId> = bots.iter().map(|b| b.id.clone()).collect();
    let figures = store.endpoint_figures(&ids, 0).await?;
    let mut endpoints = Vec::new();
    for bot in &ids {
        for endpoint in store.list_endpoints(bot).await? {
            let figure = figures.iter().find(|f| f.bot_id == bot.as_str() && f.alias == endpoint.alias.as_str());
            endpoints.push(BindableEndpoint {
                bot_id: bot.to_string(),
                alias: endpoint.alias.to_string(),
                scenario: endpoint.scenario,
                enabled: endpoint.enabled,
                calls: figure.map_or(0, |f| f.calls),
                errors: figure.map_or(0, |f| f.errors),
                last_call_at: figure.and_then(|f| f.last_call_at),
            });
        }
    }
    Ok(endpoints)
}

/// Version `version` of a map; 0 for the current one.
#[server(prefix = "/api", endpoint = "maps/get")]
pub async fn load_map(map_id: String, version: i64) -> Result<LoadedMap, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    read_map(&backend()?.store, &parse_map(&map_id)?, version, None).await
}

/// The project's other blueprints and communication maps whose current
/// content links to any of `items` of map `map_id` (a stage that goes and
/// its cells), as they are now, in creation order: one round trip and
/// one query, where loading every such map to look made one of each, and
/// only the maps that hold such a link come back. Their `note` is not
/// read (empty); their `version` is the current one.
#[server(prefix = "/api", endpoint = "maps/linking", input = Json)]
pub async fn maps_linking_to(map_id: String, items: Vec<String>) -> Result<Vec<LoadedMap>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let head = store.map_head(&id).await?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let items: std::collections::HashSet<&str> = items.iter().map(String::as_str).collect();
    let target = holders::Target { map: &id, title: "", gone: &|item| items.contains(item) };
    Ok(holders::linking(&store, &head.project_id, &[&id], &[target])
        .await?
        .into_iter()
        .map(|m| LoadedMap {
            id: m.id.to_string(),
            project_id: m.project_id.to_string(),
            kind: m.kind,
            title: m.title,
            content: m.content.to_value().to_string(),
            version: m.version,
            current: m.version,
            note: String::new(),
            author: m.author,
            created_at: m.created_at,
            later: Vec::new(),
        })
        .collect())
}

/// Audits a map's save as version `version` titled `title` (`action`:
/// `map.save`, a restore's, an import's), with the links that went with
/// it, if any.
#[cfg(feature = "ssr")]
async fn audit_saved(
    store: &comops_core::store::Store,
    who: &str,
    action: &str,
    map: &comops_core::map::MapId,
    title: &str,
    version: i64,
    links: Option<comops_core::audit_detail::LinksCut>,
) -> Result<(), AppError> {
    let detail = comops_core::audit_detail::Detail::MapVersion { title: title.to_string(), version, links };
    Ok(store.audit(who, action, map.as_str(), &detail.to_string()).await?)
}

/// Version `version` of a map (0: the current one); with `first`, a map
/// longer than the rows an editor renders whole (`row_window::FULL_RENDER`)
/// comes as its first `first` rows and the ids of the rest.
#[cfg(feature = "ssr")]
async fn read_map(store: &comops_core::store::Store, id: &comops_core::map::MapId, version: i64, first: Option<usize>) -> Result<LoadedMap, AppError> {
    use comops_core::map::first_rows;
    // The head, then the one version's content: the content is read once.
    let head = store.map_head(id).await?;
    let wanted = if version == 0 { head.version } else { version };
    let mut old = store.map_version(id, wanted).await?;
    let later = match first {
        Some(first) => first_rows::cut(&mut old.content, first, crate::components::row_window::FULL_RENDER),
        None => Vec::new(),
    };
    let content = old.content.to_value();
    Ok(LoadedMap {
        id: id.to_string(),
        project_id: head.project_id.to_string(),
        kind: head.kind,
        title: old.title,
        content: content.to_string(),
        version: wanted,
        current: head.version,
        note: old.note,
        author: old.author,
        created_at: old.created_at,
        later,
    })
}

/// A map opened in the editor: [`load_map`], and for a communication map
/// or integration points its project's endpoints (the trigger cells show
/// them), for a communication map or blueprint the items its rows may link
/// to, in the same answer — one round trip, where asking for them after
/// the map made two.
/// With `first`, a long map comes as its first `first` rows and the ids
/// of the rest ([`LoadedMap::later`]): the editor paints them, then asks
/// for the whole version with [`load_map`].
#[server(prefix = "/api", endpoint = "maps/open")]
pub async fn open_map(map_id: String, version: i64, first: Option<usize>) -> Result<(LoadedMap, Vec<BindableEndpoint>, Vec<LinkTarget>), AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let store = backend()?.store;
    let map = read_map(&store, &parse_map(&map_id)?, version, first).await?;
    let endpoints = match map.kind {
        MapKind::Communication | MapKind::Integration => endpoints_of(&store, &parse_project(&map.project_id)?).await?,
        _ => Vec::new(),
    };
    let targets = match map.kind {
        MapKind::Communication | MapKind::Blueprint => link_targets(&store, &parse_project(&map.project_id)?).await?,
        _ => Vec::new(),
    };
    Ok((map, endpoints, targets))
}

/// Creates an empty map of `kind` (`cjm`, `blueprint`, `communication`,
/// `integration`) as version 1; returns its id.
#[server(prefix = "/api", endpoint = "maps/create")]
pub async fn create_map(project_id: String, kind: String, title: String) -> Result<String, AppError> {
    use crate::session::{backend, require};
    use comops_core::Problem;
    let user = require(comops_core::Permission::EditMaps)?;
    let project = parse_project(&project_id)?;
    let kind = MapKind::parse(&kind).ok_or_else(|| AppError::Invalid(vec![FieldError::new("kind", Problem::Unknown)]))?;
    let title = comops_core::map::parse_title(&title).map_err(|e| AppError::Invalid(vec![e]))?;
    let store = backend()?.store;
    let note = crate::i18n::t(crate::session::session().locale, crate::i18n::K::NoteCreated);
    let map = store.create_map(&project, &title, &MapContent::empty(kind), note, user.email.as_str()).await?;
    let detail = comops_core::audit_detail::Detail::MapMade { kind: kind.to_string(), title: title.to_string() };
    store.audit(user.email.as_str(), "map.create", map.id.as_str(), &detail.to_string()).await?;
    Ok(map.id.to_string())
}

/// Validates `json` (the map's whole content) and saves it with `title`
/// as the next version, unless someone saved after `base_version`.
#[server(prefix = "/api", endpoint = "maps/save", input = Json)]
pub async fn save_map(map_id: String, title: String, json: String, note: String, base_version: i64) -> Result<MapSaveOutcome, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::EditMaps)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let current = store.map(&id).await?;
    save_whole(&store, &current, &title, &json, &note, base_version).await
}

/// A map's whole content as JSON text, validated with its title and saved
/// as the next version (both ways of saving end here).
#[cfg(feature = "ssr")]
async fn save_whole(store: &comops_core::store::Store, current: &comops_core::map::Map, title: &str, json: &str, note: &str, base_version: i64) -> Result<MapSaveOutcome, AppError> {
    let content = match MapContent::parse(current.kind, json) {
        Ok(content) => content,
        Err(errors) => return Ok(MapSaveOutcome::Invalid { errors }),
    };
    let title = match comops_core::map::parse_title(title) {
        Ok(title) => title,
        Err(error) => return Ok(MapSaveOutcome::Invalid { errors: vec![error] }),
    };
    saved(store, current, &title, content, note.trim(), base_version, "map.save").await
}

/// Saves a map as what changed since `base_version` (the version the
/// edits started from; `comops_core::map::changes`): applied to that
/// version, then validated and saved like [`save_map`]. A save after
/// someone else's is a conflict here too, before anything is applied.
#[server(prefix = "/api", endpoint = "maps/save-changes", input = Json)]
pub async fn save_map_changes(map_id: String, title: String, changes: String, note: String, base_version: i64) -> Result<MapSaveOutcome, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::EditMaps)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let current = store.map(&id).await?;
    if current.version != base_version {
        return Ok(MapSaveOutcome::Conflict { current: current.version, author: current.author.clone() });
    }
    match whole_of_changes(&current, &changes) {
        Ok(whole) => save_whole(&store, &current, &title, &whole, &note, base_version).await,
        Err(error) => Ok(MapSaveOutcome::Invalid { errors: vec![error] }),
    }
}

/// `changes` (`comops_core::map::changes`, as JSON text) applied to map
/// `current`: its whole content as JSON text again, so the whole map's
/// size limit holds as for a whole save.
#[cfg(feature = "ssr")]
fn whole_of_changes(current: &comops_core::map::Map, changes: &str) -> Result<String, FieldError> {
    use comops_core::map::changes;
    let max = comops_core::map::limits::MAX_BYTES;
    if changes.len() > max {
        return Err(FieldError::new("changes", comops_core::Problem::TooLong { max }));
    }
    let diff = serde_json::from_str::<serde_json::Value>(changes).map_err(|_| FieldError::new("changes", comops_core::Problem::BadJson))?;
    changes::apply(changes::rows_key(current.kind), current.content.to_value(), &diff).map(|whole| whole.to_string())
}

/// At most this many maps in one [`save_map_set`] (a stage deleted on the
/// loop with the links to it: its map and the maps linking to it).
pub const MAX_MAPS_IN_SET: usize = 64;

/// Saves several maps of one project in one commit, each as [`save_map`]
/// would (its role check, its new links checked against what the set
/// makes of the others): all, or — one stale, invalid or refused — none.
/// The ComOps loop deletes a stage with the links other maps hold to it
/// this way, and an undo puts them all back together.
#[server(prefix = "/api", endpoint = "maps/save-set", input = Json)]
pub async fn save_map_set(parts: Vec<MapPart>) -> Result<MapSetOutcome, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::EditMaps)?;
    use comops_core::Problem;
    let refused = |field: String, problem: Problem| AppError::Invalid(vec![FieldError::new(field, problem)]);
    if parts.is_empty() {
        return Err(refused("parts".into(), Problem::Required));
    }
    if parts.len() > MAX_MAPS_IN_SET {
        return Err(refused("parts".into(), Problem::TooManyMaps { max: MAX_MAPS_IN_SET }));
    }
    let store = backend()?.store;
    let mut maps: Vec<(comops_core::map::Map, MapContent, &str)> = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let id = parse_map(&part.map_id)?;
        if maps.iter().any(|(current, _, _)| current.id == id) {
            return Err(refused(format!("parts[{i}].map_id"), Problem::Taken));
        }
        let current = store.map(&id).await?;
        // Another project's map is not one of these maps' project.
        if maps.first().is_some_and(|(first, _, _)| first.project_id != current.project_id) {
            return Err(refused(format!("parts[{i}].map_id"), Problem::Unknown));
        }
        if current.version != part.base_version {
            return Ok(MapSetOutcome::Conflict { map_id: part.map_id.clone(), current: current.version, author: current.author.clone() });
        }
        let invalid = |errors| Ok(MapSetOutcome::Invalid { map_id: part.map_id.clone(), errors });
        let whole = if part.changes {
            match whole_of_changes(&current, &part.json) {
                Ok(whole) => whole,
                Err(error) => return invalid(vec![error]),
            }
        } else {
            part.json.clone()
        };
        let content = match MapContent::parse(current.kind, &whole) {
            Ok(content) => content,
            Err(errors) => return invalid(errors),
        };
        // A new title, checked as a save of one map checks it.
        let mut current = current;
        if let Some(title) = &part.title {
            match comops_core::map::parse_title(title) {
                Ok(title) => current.title = title,
                Err(error) => return invalid(vec![error]),
            }
        }
        maps.push((current, content, part.note.trim()));
    }
    let rebinds = maps.iter().any(|(current, content, _)| content.bindings() != current.content.bindings());
    let user = require(if rebinds { comops_core::Permission::DesignIntegrations } else { comops_core::Permission::EditMaps })?;
    let pending: Vec<(&comops_core::map::MapId, &MapContent)> = maps.iter().map(|(current, content, _)| (&current.id, content)).collect();
    for (current, content, _) in &maps {
        let errors = check_new_links(&store, current, content, &pending).await?;
        if !errors.is_empty() {
            return Ok(MapSetOutcome::Invalid { map_id: current.id.to_string(), errors });
        }
    }
    let saving: Vec<holders::Saving> = maps.iter().map(|(current, content, note)| holders::Saving { current, title: &current.title, content, note }).collect();
    let locale = crate::session::session().locale;
    Ok(match holders::write(&store, &saving, user.email.as_str(), "map.save", locale).await? {
        holders::Written::Saved { versions, links_taken_out } => MapSetOutcome::Saved { versions, links_taken_out },
        holders::Written::Moved { map_id, current, author } => MapSetOutcome::Conflict { map_id, current, author },
    })
}

/// A page of a map's versions, newest first: the newest, or those older
/// than `before`.
#[server(prefix = "/api", endpoint = "maps/versions")]
pub async fn map_versions(map_id: String, #[server(default)] before: Option<i64>) -> Result<HistoryPage<MapVersionRow>, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::View)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let history = store.map_history(&id, comops_core::history::HistoryWindow { before }).await?;
    // Only an editor who may not bind rows, on a map that binds them,
    // needs each version's bindings (`restore_map` refuses those that
    // differ); the others skip reading the page's contents.
    // (`require` would set the response's status: asked, not required.)
    let analyst = user.allows(comops_core::Permission::EditMaps) && !user.allows(comops_core::Permission::DesignIntegrations);
    let current = match analyst {
        true => Some(store.map(&id).await?.content).filter(|c| c.kind() != comops_core::map::MapKind::Cjm).map(|c| c.bindings()),
        false => None,
    };
    let more = history.more;
    let mut rows = Vec::with_capacity(history.versions.len());
    for v in history.versions {
        let restorable = match &current {
            Some(now) => store.map_version(&id, v.version).await?.content.bindings() == *now,
            None => true,
        };
        rows.push(MapVersionRow { version: v.version, title: v.title, note: v.note, author: v.author, created_at: v.created_at, rows: v.rows, restorable });
    }
    Ok(HistoryPage { versions: rows, more })
}

/// Saves version `version` again as the newest ("restored from vN"),
/// unless someone saved after `base_version`.
#[server(prefix = "/api", endpoint = "maps/restore")]
pub async fn restore_map(map_id: String, version: i64, base_version: i64) -> Result<MapSaveOutcome, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::EditMaps)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let current = store.map(&id).await?;
    let old = store.map_version(&id, version).await?;
    // The rules may have grown stricter since that version was saved.
    if let Err(errors) = old.content.validate() {
        return Ok(MapSaveOutcome::Invalid { errors });
    }
    // Bindings are the architects' (as on a save), but a restore is offered
    // to analysts too: they are told why this one is not theirs, not 403.
    if rebinds_without_right(&user, &current.content, &old.content) {
        return Ok(MapSaveOutcome::Invalid { errors: vec![comops_core::FieldError::new("bindings", comops_core::Problem::ArchitectsOnly)] });
    }
    let note = crate::i18n::t1(crate::session::session().locale, crate::i18n::K::NoteRestored, version);
    saved(&store, &current, &old.title, old.content, &note, base_version, "map.restore").await
}

/// Row- and cell-level differences from version `from` to version `to`
/// (0 = current), for the side-by-side view.
#[server(prefix = "/api", endpoint = "maps/diff")]
pub async fn diff_map(map_id: String, from: i64, to: i64) -> Result<DiffRows, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let current = store.map(&id).await?.version;
    let pick = |v: i64| if v == 0 { current } else { v };
    let before = store.map_version(&id, pick(from)).await?;
    let after = store.map_version(&id, pick(to)).await?;
    let diff = comops_core::map::diff::diff(&before.title, &before.content, &after.title, &after.content);
    Ok(diff_rows(&diff, after.content.kind(), crate::session::session().locale))
}

/// The lines of the side-by-side diff: each changed map-level field, then
/// each added, removed, changed or moved item with the cells that differ
/// (all non-empty ones of an added or removed item), each field called by
/// its column's name in `locale`.
#[cfg(feature = "ssr")]
fn diff_rows(diff: &comops_core::map::diff::MapDiff, kind: comops_core::map::MapKind, locale: comops_core::Locale) -> DiffRows {
    use comops_core::map::diff::Change;
    let mut rows = Vec::new();
    let row = |label: &str, change: &str, field: &str, before: &str, after: &str| DiffRow {
        label: label.into(),
        change: change.into(),
        field: if field.is_empty() { String::new() } else { crate::pages::maps::model::field_title(kind, locale, field) },
        before: before.into(),
        after: after.into(),
    };
    for cell in diff.header.iter().filter(|c| c.changed) {
        rows.push(row("", "changed", &cell.field, &cell.before, &cell.after));
    }
    for item in diff.items.iter().filter(|i| i.change != Change::Unchanged || i.moved) {
        let change = match item.change {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed | Change::Unchanged => "changed",
        };
        let whole = matches!(item.change, Change::Added | Change::Removed);
        let cells: Vec<_> = item.cells.iter().filter(|c| c.changed || (whole && (!c.before.is_empty() || !c.after.is_empty()))).collect();
        if cells.is_empty() {
            rows.push(row(&item.label, change, "", "", ""));
        }
        for c in cells {
            rows.push(row(&item.label, change, &c.field, &c.before, &c.after));
        }
    }
    DiffRows { count: diff.added + diff.removed + diff.changed, rows }
}

/// Version `version` (0 = current) of a map as CSV (RFC 4180, UTF-8 with
/// BOM, the seed's column names; `core::map::csv`).
#[server(prefix = "/api", endpoint = "maps/csv-export")]
pub async fn export_map_csv(map_id: String, version: i64) -> Result<String, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let current = store.map(&id).await?;
    let content = if version == 0 { current.content } else { store.map_version(&id, version).await?.content };
    Ok(comops_core::map::csv::export(&content))
}

/// Replaces the stages (CJM, blueprint) or rows (communication map,
/// integration points) with those of `csv` and saves that as the next
/// version, unless someone saved after `base_version`.
#[server(prefix = "/api", endpoint = "maps/csv-import", input = Json)]
pub async fn import_map_csv(map_id: String, csv: String, note: String, base_version: i64) -> Result<MapSaveOutcome, AppError> {
    use crate::session::{backend, require, session};
    let user = require(comops_core::Permission::EditMaps)?;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let current = store.map(&id).await?;
    if csv.len() > comops_core::map::limits::MAX_BYTES {
        let max = comops_core::map::limits::MAX_BYTES;
        return Ok(MapSaveOutcome::Invalid { errors: vec![FieldError::new("csv", comops_core::Problem::TooLong { max })] });
    }
    let content = match comops_core::map::csv::import(&current.content, &csv) {
        Ok(content) => content,
        Err(err) => {
            let message = err.message(session().locale);
            return Ok(MapSaveOutcome::BadCsv { line: err.line, column: err.column, message });
        }
    };
    let note = if note.trim().is_empty() { crate::i18n::t(session().locale, crate::i18n::K::NoteImportedCsv) } else { note.trim() };
    let title = current.title.clone();
    let kind = current.content.kind();
    let locale = session().locale;
    // Said in words rather than a bare 403: the file changes which
    // endpoints rows or cells are bound to.
    if rebinds_without_right(&user, &current.content, &content) {
        let message = crate::i18n::problem_text(locale, &comops_core::Problem::ArchitectsOnly);
        return Ok(MapSaveOutcome::BadCsv { line: 1, column: None, message });
    }
    // Links and endpoints are checked against the project when saved; the
    // problems there are named by the CSV's lines and columns too.
    Ok(match saved(&store, &current, &title, content, note, base_version, "map.csv_import").await? {
        MapSaveOutcome::Invalid { errors } => {
            let located: Option<Vec<_>> = errors.iter().map(|e| comops_core::map::csv::locate(kind, &csv, e)).collect();
            match located.filter(|all| !all.is_empty()) {
                Some(all) => MapSaveOutcome::BadCsv {
                    line: all[0].line,
                    column: all[0].column.clone(),
                    message: all.iter().take(10).map(|e| e.message(locale)).collect::<Vec<_>>().join("; "),
                },
                None => MapSaveOutcome::Invalid { errors },
            }
        }
        other => other,
    })
}

/// A map whose links to a deleted map, or to stages a save took out, went
/// in that commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinksTakenOut {
    pub map_id: String,
    pub title: String,
    /// Its version without them.
    pub version: i64,
    pub links: usize,
}

/// What a deletion did: the map's title as it went, and the maps whose
/// links to it went with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapDeleted {
    pub title: String,
    pub links_taken_out: Vec<LinksTakenOut>,
}

/// Deletes a map and its whole history (docs/decisions.md, "Deleting a
/// map"); the audit log keeps who deleted what, at which version. Maps
/// with endpoint bindings are the architect's to delete; viewers and
/// operators delete nothing.
///
/// The links the project's other maps hold to its stages and cells go in
/// the same commit, each such map a version noted in the deleter's
/// language ("links to the deleted map «…» taken out (2)") and audited
/// as a save; those maps come back, so the studio can say where. A map
/// saved in the moment between is read again, up to three times.
#[server(prefix = "/api", endpoint = "maps/delete")]
pub async fn delete_map(map_id: String) -> Result<MapDeleted, AppError> {
    use crate::session::{backend, require};
    use comops_core::store::StoreError;
    const TRIES: usize = 3;
    let user = require(comops_core::Permission::EditMaps)?;
    let locale = crate::session::session().locale;
    let id = parse_map(&map_id)?;
    let store = backend()?.store;
    let mut tries = 0;
    loop {
        tries += 1;
        let map = store.map(&id).await?;
        if !map.content.bindings().is_empty() {
            require(comops_core::Permission::DesignIntegrations)?;
        }
        // Every item of it goes.
        let target = holders::Target { map: &id, title: &map.title, gone: &|_| true };
        let cut = holders::cut(&store, &map.project_id, &[&id], &[target]).await?;
        let notes: Vec<String> = cut.iter().map(|h| crate::i18n::t2(locale, crate::i18n::K::MapNoteDeletedMapLinksCut, &map.title, h.links)).collect();
        let saves: Vec<_> = cut.iter().zip(&notes).map(|(h, note)| h.save(note)).collect();
        match store.delete_map_with(&id, map.version, &saves, user.email.as_str()).await {
            Ok((versions, saved)) => {
                use comops_core::audit_detail::{Detail, LinksCut};
                let detail = Detail::MapDeleted { kind: map.kind.to_string(), title: map.title.clone(), version: map.version, versions, holders: cut.len() };
                store.audit(user.email.as_str(), "map.delete", id.as_str(), &detail.to_string()).await?;
                for (h, version) in cut.iter().zip(&saved) {
                    let why = LinksCut::ToDeletedMap { of: map.title.clone(), links: h.links };
                    audit_saved(&store, user.email.as_str(), "map.save", &h.map.id, &h.map.title, *version, Some(why)).await?;
                }
                let links_taken_out = cut.into_iter().zip(saved).map(|(h, version)| h.taken_out(version)).collect();
                return Ok(MapDeleted { title: map.title, links_taken_out });
            }
            // The map or one holding links saved or deleted meanwhile: read
            // them again (the map saved since may need an architect now;
            // gone, it is NotFound on the next read).
            Err(StoreError::Conflict { .. } | StoreError::NotFound) if tries < TRIES => continue,
            // Still moving: nothing was deleted; say so, not "internal error".
            Err(StoreError::Conflict { .. } | StoreError::NotFound) => {
                store.map(&id).await?;
                return Err(AppError::Invalid(vec![FieldError::new("map_id", comops_core::Problem::ChangedMeanwhile)]));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// The ComOps loop of a project: CJM stages, map rows, blueprint cells
/// and endpoints, with every stored link — a [`LoopPage`] as JSON text,
/// which the loop view reads through `serde_json::Value`
/// (`pages/maps/loop_model.rs::parse_loop_page`), so the typed loop's
/// serde code stays out of the wasm bundle, as with map content.
#[server(prefix = "/api", endpoint = "maps/loop")]
pub async fn project_loop(project_id: String) -> Result<String, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let project = parse_project(&project_id)?;
    let store = backend()?.store;
    store.project(&project).await?;
    let view = comops_core::map::links::loop_view(&store.project_maps(&project).await?);
    let mut live_endpoints = Vec::new();
    let mut project_bots = Vec::new();
    for bot in store.list_bots(&project).await? {
        for e in store.list_endpoints(&bot.id).await? {
            live_endpoints.push(format!("endpoint:{}/{}", bot.id, e.alias));
        }
        project_bots.push(bot.id.to_string());
    }
    live_endpoints.retain(|key| view.nodes.iter().any(|n| &n.key == key));
    serde_json::to_string(&LoopPage { view, live_endpoints, project_bots }).map_err(|_| AppError::Internal)
}

/// The ComOps loop's trace overlay over a period: every endpoint's calls
/// and errors, every scenario's runs by where they are. Endpoints and
/// scenarios with nothing in the period are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoopTraffic {
    pub endpoints: Vec<EndpointTraffic>,
    pub scenarios: Vec<ScenarioTraffic>,
}

/// One endpoint's calls (dry runs excluded) and how many were refused or failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EndpointTraffic {
    pub bot_id: String,
    pub alias: String,
    pub calls: i64,
    pub errors: i64,
}

/// One scenario's runs: done, pending or waiting, failed or stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioTraffic {
    pub bot_id: String,
    pub scenario: String,
    pub done: i64,
    pub waiting: i64,
    pub failed: i64,
}

/// The [`LoopTraffic`] of a project's bots over the last `days` days (0:
/// all time): two grouped queries (`Store::endpoint_figures`,
/// `Store::scenario_figures`). Anyone who may read the loop may read it.
#[server(prefix = "/api", endpoint = "maps/loop-overlay")]
pub async fn loop_overlay(project_id: String, days: u32) -> Result<LoopTraffic, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let project = parse_project(&project_id)?;
    let store = backend()?.store;
    store.project(&project).await?;
    let bots: Vec<comops_core::BotId> = store.list_bots(&project).await?.into_iter().map(|b| b.id).collect();
    let since = if days == 0 { 0 } else { comops_core::store::now_millis() - i64::from(days) * 86_400_000 };
    let endpoints = store
        .endpoint_figures(&bots, since)
        .await?
        .into_iter()
        .map(|f| EndpointTraffic { bot_id: f.bot_id, alias: f.alias, calls: f.calls, errors: f.errors })
        .collect();
    let scenarios = store
        .scenario_figures(&bots, since)
        .await?
        .into_iter()
        .map(|f| ScenarioTraffic { bot_id: f.bot_id, scenario: f.scenario, done: f.done, waiting: f.waiting, failed: f.failed })
        .collect();
    Ok(LoopTraffic { endpoints, scenarios })
}

/// The «ТЗ на DMI-проект» of a project as Markdown, in `language` (`en`
/// is English, else Russian: the methodology's document).
#[server(prefix = "/api", endpoint = "maps/spec")]
pub async fn export_spec(project_id: String, language: Option<String>) -> Result<String, AppError> {
    use crate::session::{backend, require};
    use comops_core::map::spec::{markdown, SpecBot, SpecInput, SpecScenario, SpecSecurity};
    let reader = require(comops_core::Permission::View)?;
    let project_id = parse_project(&project_id)?;
    let backend = backend()?;
    let security = SpecSecurity { encrypted_at_rest: backend.store.keyring().is_enabled(), https: backend.secure_cookies };
    let store = backend.store;
    let project = store.project(&project_id).await?;
    let (mut bots, mut endpoints, mut scenarios) = (Vec::new(), Vec::new(), Vec::new());
    for bot in store.list_bots(&project_id).await? {
        let mut channels = Vec::new();
        for kind in CHANNEL_KINDS {
            if store.bot_channel(&bot.id, kind).await?.is_some() {
                channels.push(kind.to_string());
            }
        }
        endpoints.extend(store.list_endpoints(&bot.id).await?);
        scenarios.extend(store.scenario_listing(&bot.id).await?.into_iter().map(|s| SpecScenario {
            bot_id: bot.id.clone(),
            name: s.name,
            description: s.description,
            version: s.version,
        }));
        bots.push(SpecBot { id: bot.id, name: bot.name, username: bot.username, description: bot.description, channels });
    }
    let bot_ids: Vec<_> = bots.iter().map(|b| b.id.clone()).collect();
    // Tokens are the admins' to see (`tokens/list` is Administer), here too.
    let tokens = if reader.role.allows(comops_core::Permission::Administer) {
        Some(store.list_tokens().await?.into_iter().filter(|t| t.scope.bots.is_empty() || t.scope.bots.iter().any(|b| bot_ids.contains(b))).collect())
    } else {
        None
    };
    let input = SpecInput {
        project_name: project.name,
        project_description: project.description,
        bots,
        endpoints,
        scenarios,
        maps: store.project_maps(&project_id).await?,
        tokens,
        security,
    };
    // Russian unless asked otherwise: the methodology's document.
    let language = language.as_deref().and_then(comops_core::Locale::parse).unwrap_or(comops_core::Locale::Ru);
    Ok(markdown(&input, language))
}

/// The whole project as a pretty-printed `comops.project/v1` document.
#[server(prefix = "/api", endpoint = "maps/project-export")]
pub async fn export_project(project_id: String) -> Result<String, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let project = parse_project(&project_id)?;
    let export = backend()?.store.export_project(&project).await?;
    serde_json::to_string_pretty(&export).map_err(|err| {
        tracing::error!(error = %err, "cannot serialize a project export");
        AppError::Internal
    })
}

/// Creates a new project with `slug` from a `comops.project/v1` document:
/// its bots, endpoints, scenarios and maps, with new ids.
#[server(prefix = "/api", endpoint = "maps/project-import", input = Json)]
pub async fn import_project(json: String, slug: String) -> Result<ProjectImportOutcome, AppError> {
    use crate::session::{backend, require};
    use comops_core::map::export::ProjectExport;
    use comops_core::Problem;
    require(comops_core::Permission::DesignIntegrations)?;
    let user = require(comops_core::Permission::ManageProjects)?;
    let slug = comops_core::Slug::parse(&slug).map_err(|p| AppError::Invalid(vec![FieldError::new("slug", p)]))?;
    let doc = match ProjectExport::parse(&json) {
        Ok(doc) => doc,
        Err(problems) => return Ok(ProjectImportOutcome::Invalid { problems }),
    };
    let store = backend()?.store;
    let note = crate::i18n::t(crate::session::session().locale, crate::i18n::K::NoteImportedProject);
    let report = store.import_project(&doc, slug.as_str(), note, user.email.as_str()).await.map_err(|e| match e {
        comops_core::store::StoreError::Taken(_) => AppError::Invalid(vec![FieldError::new("slug", Problem::Taken)]),
        other => other.into(),
    })?;
    let detail = comops_core::audit_detail::Detail::ProjectImported {
        bots: report.bots.len(),
        endpoints: report.endpoints,
        scenarios: report.scenarios,
        maps: report.maps.len(),
    };
    store.audit(user.email.as_str(), "project.import", report.project_id.as_str(), &detail.to_string()).await?;
    Ok(ProjectImportOutcome::Imported {
        project_id: report.project_id.to_string(),
        bots: report.bots.len(),
        endpoints: report.endpoints,
        scenarios: report.scenarios,
        maps: report.maps.len(),
    })
}

/// The channel kinds a bot may have settings for (the spec's «Каналы»).
#[cfg(feature = "ssr")]
const CHANNEL_KINDS: [&str; 6] = ["telegram", "webchat", "whatsapp", "vk", "email", "webhook"];

#[cfg(feature = "ssr")]
fn parse_project(raw: &str) -> Result<comops_core::ProjectId, AppError> {
    comops_core::ProjectId::parse(raw).ok_or(AppError::NotFound)
}

#[cfg(feature = "ssr")]
fn parse_map(raw: &str) -> Result<comops_core::map::MapId, AppError> {
    comops_core::map::MapId::parse(raw).ok_or(AppError::NotFound)
}

/// Problems with the links and bindings this edit adds: links must name
/// an item of one of the project's maps, bindings an endpoint of one of
/// its bots. Links and bindings already saved are left alone (an item
/// deleted since, which a save's `holders` step did not catch, shows as
/// dangling in the loop view; it does not block).
/// A link into a map saved with this one (`pending`: this map's new
/// content and the others' of a [`save_map_set`]) is checked against
/// what that save makes of it, whether new or kept.
#[cfg(feature = "ssr")]
async fn check_new_links(
    store: &comops_core::store::Store,
    current: &comops_core::map::Map,
    content: &MapContent,
    pending: &[(&comops_core::map::MapId, &MapContent)],
) -> Result<Vec<FieldError>, AppError> {
    use comops_core::Problem;
    let mut errors = Vec::new();
    // A link is new unless the same item was linked in the same kind of
    // field before (a CJM stage moved from `stages` to `cells` is new).
    let is_cells = |path: &str| path.contains(".cells[");
    let old_refs: std::collections::HashSet<_> = current.content.refs().into_iter().map(|(path, r)| (is_cells(&path), r.clone())).collect();
    // A link kept into another map saved with this one is checked too: that
    // save must not take its item out (a set would leave it naming nothing).
    let into_pending = |r: &comops_core::map::ItemRef| r.map != current.id && pending.iter().any(|(id, _)| **id == r.map);
    let new_refs: Vec<_> = content.refs().into_iter().filter(|(path, r)| !old_refs.contains(&(is_cells(path), (*r).clone())) || into_pending(r)).collect();
    if !new_refs.is_empty() {
        let maps = store.project_maps(&current.project_id).await?;
        for (path, r) in new_refs {
            // A link into this same map (or one saved with it) is checked against the new content.
            let (kind, items) = if r.map == current.id {
                (Some(current.kind), content.item_ids())
            } else if let Some((_, saved)) = pending.iter().find(|(id, _)| **id == r.map) {
                (Some(saved.kind()), saved.item_ids())
            } else {
                maps.iter().find(|m| m.id == r.map).map(|m| (Some(m.kind), m.content.item_ids())).unwrap_or_default()
            };
            // A row's `cells` are a blueprint's cells (`stage:lane`, not
            // its stages); `stages` and a blueprint stage's `cjm_stages`
            // are a CJM's.
            let wanted = if is_cells(&path) { MapKind::Blueprint } else { MapKind::Cjm };
            let a_cell = r.item.rsplit_once(':').is_some_and(|(_, lane)| comops_core::map::blueprint::Lane::parse(lane).is_some());
            if !items.contains(&r.item) {
                errors.push(FieldError::new(path, Problem::Unknown));
            } else if kind != Some(wanted) || (is_cells(&path) && !a_cell) {
                errors.push(FieldError::new(path, Problem::NotAllowedForType));
            }
        }
    }
    let old_bindings = current.content.bindings();
    let added: Vec<_> = content.bindings().into_iter().filter(|b| !old_bindings.contains(b)).collect();
    if !added.is_empty() {
        let bots = store.list_bots(&current.project_id).await?;
        for (item, binding) in added {
            let live = bots.iter().any(|b| b.id == binding.bot_id)
                && store.endpoint_by_alias(&binding.bot_id, &binding.alias).await?.is_some();
            if !live {
                errors.push(FieldError::new(binding_path(content, &item), Problem::Unknown));
            }
        }
    }
    Ok(errors)
}

/// Where the binding of row or cell `item` sits in the content.
#[cfg(feature = "ssr")]
fn binding_path(content: &MapContent, item: &str) -> String {
    let at = |i: Option<usize>, tail: &str| i.map(|i| format!("rows[{i}].{tail}")).unwrap_or_else(|| item.to_string());
    match content {
        MapContent::Communication(m) => at(m.rows.iter().position(|r| r.id == item), "trigger"),
        MapContent::Integration(m) => at(m.rows.iter().position(|r| r.id == item), "bot_id"),
        MapContent::Blueprint(m) => match item.split_once(':') {
            Some((stage, lane)) => match m.stages.iter().position(|s| s.id == stage) {
                Some(i) => format!("stages[{i}].{lane}.endpoints"),
                None => item.to_string(),
            },
            None => item.to_string(),
        },
        MapContent::Cjm(_) => item.to_string(),
    }
}

/// Whether `content` binds rows or cells to other endpoints than
/// `current` does and `user` may not (the architects'). A save is then
/// refused 403 (`saved`); a restore or a CSV import, offered to analysts
/// too, says why instead.
#[cfg(feature = "ssr")]
fn rebinds_without_right(user: &comops_core::SessionUser, current: &MapContent, content: &MapContent) -> bool {
    !user.allows(comops_core::Permission::DesignIntegrations) && content.bindings() != current.bindings()
}

/// Checks the role for what changed, the new links, then appends the
/// version and audits it; a stale base is a conflict.
#[cfg(feature = "ssr")]
async fn saved(
    store: &comops_core::store::Store,
    current: &comops_core::map::Map,
    title: &str,
    content: MapContent,
    note: &str,
    base_version: i64,
    action: &str,
) -> Result<MapSaveOutcome, AppError> {
    use crate::session::require;
    let user = if content.bindings() != current.content.bindings() {
        require(comops_core::Permission::DesignIntegrations)?
    } else {
        require(comops_core::Permission::EditMaps)?
    };
    if current.version != base_version {
        return Ok(MapSaveOutcome::Conflict { current: current.version, author: current.author.clone() });
    }
    let errors = check_new_links(store, current, &content, &[]).await?;
    if !errors.is_empty() {
        return Ok(MapSaveOutcome::Invalid { errors });
    }
    let locale = crate::session::session().locale;
    let saving = [holders::Saving { current, title, content: &content, note }];
    Ok(match holders::write(store, &saving, user.email.as_str(), action, locale).await? {
        holders::Written::Saved { versions, links_taken_out } => MapSaveOutcome::Saved { version: versions.into_iter().next().unwrap_or_default(), links_taken_out },
        holders::Written::Moved { current, author, .. } => MapSaveOutcome::Conflict { current, author },
    })
}
