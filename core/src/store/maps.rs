//! Studio maps and their versions (`migrations/…09_maps.sql`), and the
//! JSON export/import of a whole project.
//!
//! `maps` holds each map's current title, content and version number;
//! `map_versions` every snapshot ever saved. A save names the version it
//! started from and is a compare-and-set on `maps.version` inside one
//! transaction with the new snapshot: a stale base is
//! [`StoreError::Conflict`] carrying the current version and its author,
//! and nothing is written. Restoring an old version saves it again as the
//! newest. Contents are validated by the caller (`MapContent::parse`).

use super::{now_millis, Store, StoreError, StoreResult};
use crate::history::{self, HistoryPage, HistoryWindow};
use crate::map::export::{BotExport, MapExport, ProjectExport, ProjectInfo, ValidProjectExport};
use crate::map::{Blueprint, Cjm, CommunicationMap, IntegrationMap, Map, MapContent, MapId, MapKind};
use crate::{BotId, ProjectId};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// A row of a project's map list (no content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapSummary {
    pub id: MapId,
    pub kind: MapKind,
    pub title: String,
    pub version: i64,
    /// Stages or rows.
    pub rows: usize,
    pub author: String,
    pub updated_at: crate::Millis,
    /// Whether a row or cell is bound to an endpoint (deleting it is then
    /// the architect's).
    pub bound: bool,
}

/// One map's save in [`Store::save_maps`]: its next version, if
/// `expected` is still its current one.
#[derive(Debug, Clone, Copy)]
pub struct MapSave<'a> {
    pub id: &'a MapId,
    pub expected: i64,
    pub title: &'a str,
    pub content: &'a MapContent,
    pub note: &'a str,
}

/// One entry of a map's history (no content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapVersionInfo {
    pub version: i64,
    pub title: String,
    pub note: String,
    pub author: String,
    pub created_at: crate::Millis,
    pub rows: usize,
}

/// One saved snapshot of a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapVersion {
    pub map_id: MapId,
    pub kind: MapKind,
    pub version: i64,
    pub title: String,
    pub content: MapContent,
    pub note: String,
    pub author: String,
    pub created_at: crate::Millis,
}

/// What [`Store::import_project`] made: the new project and the new id of
/// every exported bot and map (old, new).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub project_id: ProjectId,
    pub bots: Vec<(BotId, BotId)>,
    pub maps: Vec<(MapId, MapId)>,
    pub endpoints: usize,
    pub scenarios: usize,
}

/// What [`Store::map_head`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct MapHead {
    pub project_id: ProjectId,
    pub kind: MapKind,
    pub version: i64,
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("maps.{what}: {e}").into())
}

/// Reads stored content (the kind's own struct, written by us).
fn decode(kind: MapKind, json: &str) -> Result<MapContent, sqlx::Error> {
    let content = match kind {
        MapKind::Cjm => serde_json::from_str::<Cjm>(json).map(MapContent::Cjm),
        MapKind::Blueprint => serde_json::from_str::<Blueprint>(json).map(MapContent::Blueprint),
        MapKind::Communication => serde_json::from_str::<CommunicationMap>(json).map(MapContent::Communication),
        MapKind::Integration => serde_json::from_str::<IntegrationMap>(json).map(MapContent::Integration),
    };
    content.map_err(|e| decode_err("content_json", e))
}

fn encode(content: &MapContent) -> String {
    content.to_value().to_string()
}

fn kind_of(row: &AnyRow) -> Result<MapKind, sqlx::Error> {
    let raw: String = row.try_get("kind")?;
    MapKind::parse(&raw).ok_or_else(|| decode_err("kind", raw))
}

fn map_id(raw: String) -> Result<MapId, sqlx::Error> {
    MapId::parse(&raw).ok_or_else(|| decode_err("id", raw))
}

const SELECT: &str = "SELECT id, project_id, kind, title, content_json, version, author, created_at, updated_at FROM maps";

fn map(row: &AnyRow) -> Result<Map, sqlx::Error> {
    let kind = kind_of(row)?;
    let json: String = row.try_get("content_json")?;
    let project: String = row.try_get("project_id")?;
    Ok(Map {
        id: map_id(row.try_get("id")?)?,
        project_id: ProjectId::parse(&project).ok_or_else(|| decode_err("project_id", project))?,
        kind,
        title: row.try_get("title")?,
        content: decode(kind, &json)?,
        version: row.try_get("version")?,
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Creates a map as version 1 (noted `note`).
    pub async fn create_map(&self, project: &ProjectId, title: &str, content: &MapContent, note: &str, author: &str) -> StoreResult<Map> {
        self.insert_map(project, MapId::generate(), title, content, note, author, now_millis()).await
    }

    /// Creates a map with a fixed id (demo data, whose ids the README uses).
    /// `at` orders maps created in the same millisecond.
    pub(crate) async fn create_map_with_id(
        &self,
        project: &ProjectId,
        id: MapId,
        title: &str,
        content: &MapContent,
        author: &str,
        at: crate::Millis,
    ) -> StoreResult<Map> {
        self.insert_map(project, id, title, content, "demo", author, at).await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn insert_map(
        &self,
        project: &ProjectId,
        id: MapId,
        title: &str,
        content: &MapContent,
        note: &str,
        author: &str,
        at: crate::Millis,
    ) -> StoreResult<Map> {
        self.project(project).await?;
        let json = encode(content);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO maps (id, project_id, kind, title, content_json, version, author, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)",
        )
        .bind(id.as_str())
        .bind(project.as_str())
        .bind(content.kind().as_str())
        .bind(title)
        .bind(&json)
        .bind(author)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO map_versions (map_id, version, title, content_json, note, author, created_at, row_count) VALUES ($1, 1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(title)
        .bind(&json)
        .bind(note)
        .bind(author)
        .bind(at)
        .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.map(&id).await
    }

    /// The project's maps for the list, in creation order.
    pub async fn list_maps(&self, project: &ProjectId) -> StoreResult<Vec<MapSummary>> {
        Ok(self
            .project_maps(project)
            .await?
            .into_iter()
            .map(|m| MapSummary {
                rows: m.content.len(),
                bound: !m.content.bindings().is_empty(),
                id: m.id,
                kind: m.kind,
                title: m.title,
                version: m.version,
                author: m.author,
                updated_at: m.updated_at,
            })
            .collect())
    }

    /// The project's maps with their current content, in creation order.
    pub async fn project_maps(&self, project: &ProjectId) -> StoreResult<Vec<Map>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE project_id = $1 ORDER BY created_at, id"))
            .bind(project.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(map).collect::<Result<_, _>>()?)
    }

    /// The project's maps of `kinds` with their current content, in
    /// creation order; the other maps' content (a 1,000-row communication
    /// map's, say) is not read.
    pub async fn project_maps_of(&self, project: &ProjectId, kinds: &[MapKind]) -> StoreResult<Vec<Map>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let places: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 2)).collect();
        let text = format!("{SELECT} WHERE project_id = $1 AND kind IN ({}) ORDER BY created_at, id", places.join(", "));
        let query = kinds.iter().fold(sqlx::query(&text).bind(project.as_str()), |query, kind| query.bind(kind.as_str()));
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(map).collect::<Result<_, _>>()?)
    }

    /// A map's project, kind and current version, without its content
    /// (reading a 1,000-row map's content costs milliseconds).
    pub async fn map_head(&self, id: &MapId) -> StoreResult<MapHead> {
        let row = sqlx::query("SELECT project_id, kind, version FROM maps WHERE id = $1").bind(id.as_str()).fetch_optional(&self.pool).await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let project: String = row.try_get("project_id")?;
        Ok(MapHead {
            project_id: ProjectId::parse(&project).ok_or_else(|| decode_err("project_id", project))?,
            kind: kind_of(&row)?,
            version: row.try_get("version")?,
        })
    }

    /// One map, current version.
    pub async fn map(&self, id: &MapId) -> StoreResult<Map> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id.as_str()).fetch_optional(&self.pool).await?;
        row.as_ref().map(map).transpose()?.ok_or(StoreError::NotFound)
    }

    /// Saves `title` and `content` as the next version of map `id`, if
    /// `expected` is still its current version; otherwise
    /// [`StoreError::Conflict`] and nothing is written. The content must
    /// be of the map's kind (else `NotFound`: there is no such map of that
    /// kind). Returns the new version number.
    pub async fn save_map(
        &self,
        id: &MapId,
        expected: i64,
        title: &str,
        content: &MapContent,
        note: &str,
        author: &str,
    ) -> StoreResult<i64> {
        let versions = self.save_maps(&[MapSave { id, expected, title, content, note }], author).await?;
        versions.first().copied().ok_or(StoreError::NotFound)
    }

    /// Saves several maps in one commit, each as [`Store::save_map`]
    /// would: all of them, or (one stale or of another kind) none. The
    /// ComOps loop deletes a stage this way with the links other maps
    /// hold to it, and puts them back together. The maps are written in
    /// the order of their ids, so two sets sharing maps wait for each
    /// other rather than deadlock (PostgreSQL). Returns the new versions
    /// in the order given.
    pub async fn save_maps(&self, saves: &[MapSave<'_>], author: &str) -> StoreResult<Vec<i64>> {
        Ok(self.write_maps(saves, None, author).await?.0)
    }

    /// Writes `saves` (as [`Store::save_maps`]) and deletes map `deleted`
    /// with its history (if it is still at the version given, when one
    /// is), in one commit, all in the order of the maps' ids (PostgreSQL:
    /// no deadlock with a set sharing them). Returns the new versions in
    /// the order given and how many versions went.
    async fn write_maps(&self, saves: &[MapSave<'_>], deleted: Option<(&MapId, Option<i64>)>, author: &str) -> StoreResult<(Vec<i64>, i64)> {
        let now = now_millis();
        /// One write of the commit: a save by its index, or the deletion.
        enum Step<'m> {
            Save(usize),
            Delete(&'m MapId, Option<i64>),
        }
        let mut order: Vec<(&str, Step)> = saves.iter().enumerate().map(|(i, save)| (save.id.as_str(), Step::Save(i))).collect();
        order.extend(deleted.map(|(id, expected)| (id.as_str(), Step::Delete(id, expected))));
        order.sort_by_key(|(id, _)| *id);
        let mut tx = self.pool.begin().await?;
        let mut versions = vec![0; saves.len()];
        let mut gone = 0;
        for (_, step) in order {
            let i = match step {
                Step::Save(i) => i,
                Step::Delete(id, expected) => {
                    // SQLite enforces the cascade only with foreign keys on; be explicit.
                    let history = sqlx::query("DELETE FROM map_versions WHERE map_id = $1").bind(id.as_str()).execute(&mut *tx).await?;
                    let done = sqlx::query("DELETE FROM maps WHERE id = $1 AND ($2 IS NULL OR version = $2)").bind(id.as_str()).bind(expected).execute(&mut *tx).await?;
                    if done.rows_affected() == 0 {
                        tx.rollback().await?;
                        // Gone is NotFound; still there, it was saved since.
                        let current = self.map(id).await?;
                        return Err(StoreError::Conflict { current: current.version, author: current.author });
                    }
                    gone = history.rows_affected() as i64;
                    continue;
                }
            };
            let save = &saves[i];
            let json = encode(save.content);
            let done = sqlx::query(
                "UPDATE maps SET title = $1, content_json = $2, version = version + 1, author = $3, updated_at = $4 \
                 WHERE id = $5 AND version = $6 AND kind = $7",
            )
            .bind(save.title)
            .bind(&json)
            .bind(author)
            .bind(now)
            .bind(save.id.as_str())
            .bind(save.expected)
            .bind(save.content.kind().as_str())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                let current = self.map(save.id).await?;
                if current.kind != save.content.kind() {
                    return Err(StoreError::NotFound);
                }
                return Err(StoreError::Conflict { current: current.version, author: current.author });
            }
            let version = save.expected + 1;
            sqlx::query(
                "INSERT INTO map_versions (map_id, version, title, content_json, note, author, created_at, row_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(save.id.as_str())
            .bind(version)
            .bind(save.title)
            .bind(&json)
            .bind(save.note)
            .bind(author)
            .bind(now)
            .bind(i64::try_from(save.content.len()).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
            versions[i] = version;
        }
        tx.commit().await?;
        Ok((versions, gone))
    }

    /// A page of map `id`'s versions, newest first.
    pub async fn map_history(&self, id: &MapId, window: HistoryWindow) -> StoreResult<HistoryPage<MapVersionInfo>> {
        // Each version's row count is stored with it: reading and decoding
        // every version's content (and the current one's) only to count
        // its rows made the history of a long, often saved map cost
        // milliseconds per version. Versions saved before the count was
        // stored are counted by the database from their content.
        let head = self.map_head(id).await?;
        let list = crate::map::changes::rows_key(head.kind);
        let counted = self.dialect.json_array_length("content_json", list);
        let rows = sqlx::query(&format!(
            "SELECT version, title, note, author, created_at, CAST(COALESCE(row_count, {counted}, 0) AS BIGINT) AS row_count \
             FROM map_versions WHERE map_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3"
        ))
        .bind(id.as_str())
        .bind(window.bound())
        .bind(history::PAGE as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let read = rows
            .iter()
            .map(|row| {
                let count: i64 = row.try_get("row_count")?;
                Ok(MapVersionInfo {
                    version: row.try_get("version")?,
                    title: row.try_get("title")?,
                    note: row.try_get("note")?,
                    author: row.try_get("author")?,
                    created_at: row.try_get("created_at")?,
                    rows: usize::try_from(count).map_err(|e| decode_err("row_count", e))?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(HistoryPage::from_read(read))
    }

    /// Version `version` of map `id`.
    pub async fn map_version(&self, id: &MapId, version: i64) -> StoreResult<MapVersion> {
        // The map's kind (how to read the content) in the same query.
        let row = sqlx::query(
            "SELECT m.kind, v.title, v.content_json, v.note, v.author, v.created_at FROM map_versions v JOIN maps m ON m.id = v.map_id \
             WHERE v.map_id = $1 AND v.version = $2",
        )
        .bind(id.as_str())
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let kind = kind_of(&row)?;
        let json: String = row.try_get("content_json")?;
        Ok(MapVersion {
            map_id: id.clone(),
            kind,
            version,
            title: row.try_get("title")?,
            content: decode(kind, &json)?,
            note: row.try_get("note")?,
            author: row.try_get("author")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// Saves version `version` again as the newest ("restored from vN"),
    /// if `expected` is still current. Returns the new version number.
    pub async fn restore_map(&self, id: &MapId, version: i64, expected: i64, author: &str) -> StoreResult<i64> {
        let old = self.map_version(id, version).await?;
        self.save_map(id, expected, &old.title, &old.content, &format!("restored from v{version}"), author).await
    }

    /// Deletes map `id` and its whole history, in one transaction (see
    /// docs/decisions.md, "Deleting a map"). Returns how many versions
    /// went with it.
    pub async fn delete_map(&self, id: &MapId) -> StoreResult<i64> {
        Ok(self.write_maps(&[], Some((id, None)), "").await?.1)
    }

    /// Deletes map `id` and its history, as [`Store::delete_map`], if it
    /// is still at version `expected`, and saves `saves` (the project's
    /// maps without their links to it, as [`Store::save_maps`]) in the
    /// same commit: all, or (a save stale, the map gone or saved since)
    /// none. Returns how many versions went and the saves' new versions
    /// in the order given.
    pub async fn delete_map_with(&self, id: &MapId, expected: i64, saves: &[MapSave<'_>], author: &str) -> StoreResult<(i64, Vec<i64>)> {
        let (versions, gone) = self.write_maps(saves, Some((id, Some(expected))), author).await?;
        Ok((gone, versions))
    }

    /// The whole project as a [`ProjectExport`]: bots with endpoints and
    /// current scenarios, maps with current content.
    pub async fn export_project(&self, project: &ProjectId) -> StoreResult<ProjectExport> {
        let info = self.project(project).await?;
        let mut bots = Vec::new();
        for bot in self.list_bots(project).await? {
            let endpoints = self.list_endpoints(&bot.id).await?.iter().map(crate::endpoint::EndpointDraft::from).collect();
            let mut scenarios = Vec::new();
            for listed in self.list_scenarios(&bot.id).await? {
                if let Some(current) = self.scenario(&bot.id, &listed.name).await? {
                    scenarios.push(current.definition);
                }
            }
            bots.push(BotExport {
                id: bot.id,
                name: bot.name,
                username: bot.username,
                description: bot.description,
                enabled: bot.enabled,
                endpoints,
                scenarios,
            });
        }
        let maps = self
            .project_maps(project)
            .await?
            .into_iter()
            .map(|m| MapExport { id: m.id, title: m.title, content: m.content })
            .collect();
        let mut export = ProjectExport {
            format: ProjectExport::FORMAT.into(),
            project: ProjectInfo { name: info.name, description: info.description },
            bots,
            maps,
        };
        export.normalize();
        Ok(export)
    }

    /// Creates a new project (named as exported, with `slug`) holding
    /// everything in `doc`, with new bot and map ids and every reference
    /// rewritten to them, each first version noted `note`. If any part
    /// fails, the new project is deleted again and the error returned.
    pub async fn import_project(&self, doc: &ValidProjectExport, slug: &str, note: &str, author: &str) -> StoreResult<ImportReport> {
        let draft = crate::project::ProjectDraft {
            name: doc.project.name.clone(),
            slug: slug.into(),
            description: doc.project.description.clone(),
        };
        let valid = draft.validate().map_err(|_| StoreError::Taken("slug"))?;
        let project = self.create_project(&valid, None, None).await?;
        match self.fill_imported(&project.id, doc, note, author).await {
            Ok(report) => Ok(report),
            Err(err) => {
                if let Err(cleanup) = self.delete_project(&project.id).await {
                    tracing::error!(error = %cleanup, project = %project.id, "could not remove a half-imported project");
                }
                Err(err)
            }
        }
    }

    async fn fill_imported(&self, project: &ProjectId, doc: &ValidProjectExport, note: &str, author: &str) -> StoreResult<ImportReport> {
        let mut report =
            ImportReport { project_id: project.clone(), bots: Vec::new(), maps: Vec::new(), endpoints: 0, scenarios: 0 };
        for (bot, endpoints) in &doc.bots {
            let draft = crate::bot::BotDraft {
                name: bot.name.clone(),
                username: bot.username.clone(),
                description: bot.description.clone(),
                enabled: bot.enabled,
            };
            let valid = draft.validate().map_err(|_| StoreError::Taken("bot"))?;
            let created = self.create_bot(project, &valid, None).await?;
            for endpoint in endpoints {
                self.create_endpoint_as(&created.id, endpoint, note, author).await?;
                report.endpoints += 1;
            }
            for scenario in &bot.scenarios {
                self.save_scenario(&created.id, scenario, note, author).await?;
                report.scenarios += 1;
            }
            report.bots.push((bot.id.clone(), created.id));
        }
        let new_maps: Vec<(MapId, MapId)> = doc.maps.iter().map(|m| (m.id.clone(), MapId::generate())).collect();
        let bots = report.bots.clone();
        let map_to = |old: &MapId| new_maps.iter().find(|(o, _)| o == old).map(|(_, n)| n.clone());
        let bot_to = |old: &BotId| bots.iter().find(|(o, _)| o == old).map(|(_, n)| n.clone());
        // Consecutive creation times keep the exported order.
        let start = now_millis();
        for (i, (exported, (_, new_id))) in doc.maps.iter().zip(&new_maps).enumerate() {
            let mut content = exported.content.clone();
            content.remap(&map_to, &bot_to);
            self.insert_map(project, new_id.clone(), &exported.title, &content, note, author, start + i as i64).await?;
        }
        report.maps = new_maps;
        Ok(report)
    }
}
