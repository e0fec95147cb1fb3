//! Putting a project's maps back from a JSON document by id (the CI
//! import, `MapsExport`): a changed map becomes its next version, an id
//! the database does not know becomes a new map with that id, an unchanged
//! map is left as it is. Every map is checked before any is written: an id
//! that belongs to another project's map, or to a map of another kind, is
//! refused.

use super::{Store, StoreError};
use crate::map::export::{ImportIssue, ImportProblem, MapExport};
use crate::ProjectId;
use serde::{Deserialize, Serialize};

/// What an import of maps did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapSync {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Why nothing was imported.
#[derive(Debug)]
pub enum MapSyncError {
    /// Maps the project may not take, at their place in the document.
    Refused(Vec<ImportProblem>),
    Store(StoreError),
}

impl From<StoreError> for MapSyncError {
    fn from(err: StoreError) -> Self {
        MapSyncError::Store(err)
    }
}

impl Store {
    /// Puts `maps` (checked by `MapsExport::parse`) into `project`, each
    /// written version noted `note` by `author`.
    pub async fn sync_maps(&self, project: &ProjectId, maps: &[MapExport], note: &str, author: &str) -> Result<MapSync, MapSyncError> {
        self.project(project).await?;
        let mut current = Vec::with_capacity(maps.len());
        let mut refused = Vec::new();
        for (i, map) in maps.iter().enumerate() {
            match self.map(&map.id).await {
                Ok(found) if found.project_id != *project => refused.push(ImportProblem {
                    path: format!("maps[{i}].id"),
                    message: "a map of another project has this id".into(),
                    issue: ImportIssue::Repeated,
                }),
                Ok(found) if found.kind != map.kind() => refused.push(ImportProblem {
                    path: format!("maps[{i}].content.kind"),
                    message: format!("the map with this id is a {} map", found.kind.as_str()),
                    issue: ImportIssue::Field { problem: crate::validation::Problem::NotAllowedForType },
                }),
                Ok(found) => current.push(Some(found)),
                Err(StoreError::NotFound) => current.push(None),
                Err(other) => return Err(other.into()),
            }
        }
        if !refused.is_empty() {
            return Err(MapSyncError::Refused(refused));
        }
        let mut done = MapSync::default();
        for (map, found) in maps.iter().zip(current) {
            match found {
                None => {
                    self.insert_map(project, map.id.clone(), &map.title, &map.content, note, author, super::now_millis()).await?;
                    done.created += 1;
                }
                Some(found) if found.title == map.title && found.content == map.content => done.unchanged += 1,
                Some(found) => {
                    self.save_map(&map.id, found.version, &map.title, &map.content, note, author).await?;
                    done.updated += 1;
                }
            }
        }
        Ok(done)
    }
}
