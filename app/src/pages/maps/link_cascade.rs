//! The links other maps hold to stages that go: found in the project's
//! blueprints and communication maps as they are now, taken out, and
//! ready to be saved in the same commit as the stages' own map
//! (`api::maps::save_map_set`). The ComOps loop and the map editor both
//! delete stages this way, so no link is left naming nothing.
//!
//! The holders are read as they are, not as the page drew them: only
//! those links change in them, so a save of theirs meanwhile is no
//! conflict, and a map or link made since is looked in too.

use super::loop_edit::{self, HeldLink};
use crate::api::maps::{list_maps, load_map, LoadedMap, MapPart};
use crate::error::AppError;
use comops_core::map::MapKind;
use serde_json::Value;

/// Map `id` as it is now and its content, or `None` when it was deleted.
pub async fn map_now(id: &str) -> Result<Option<(LoadedMap, Value)>, AppError> {
    match load_map(id.to_string(), 0).await {
        Ok(loaded) => {
            let content = serde_json::from_slice(loaded.content.as_bytes()).unwrap_or(Value::Null);
            Ok(Some((loaded, content)))
        }
        Err(AppError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

/// One map holding links to stages that go: its save without them (what
/// changed, with `note`), its title, and the links taken out (for an
/// undo that puts them back).
pub struct Cut {
    pub part: MapPart,
    pub title: String,
    pub links: Vec<HeldLink>,
}

/// The project's other blueprints and communication maps that hold links
/// to stages `stages` of map `map` (a `kind` map: a CJM's stages, or a
/// blueprint's and their cells), each without them, noted by `note` with
/// how many went. Maps that hold none are not among them.
pub async fn cut_from_holders(project: &str, map: &str, kind: MapKind, stages: &[String], note: impl Fn(usize) -> String) -> Result<Vec<Cut>, AppError> {
    let items: Vec<String> = stages.iter().flat_map(|stage| loop_edit::gone_with_stage(kind, stage)).collect();
    if items.is_empty() || !matches!(kind, MapKind::Cjm | MapKind::Blueprint) {
        return Ok(Vec::new());
    }
    let holders = list_maps(project.to_string()).await?;
    let mut cuts = Vec::new();
    for holder in holders.iter().filter(|m| m.id != map && matches!(m.kind, MapKind::Blueprint | MapKind::Communication)) {
        let Some((loaded, origin)) = map_now(&holder.id).await? else { continue };
        let mut content = origin.clone();
        let links = loop_edit::cut_links(&mut content, map, &items);
        if links.is_empty() {
            continue;
        }
        let part = MapPart::of(&loaded.id, loaded.kind, &origin, &content, &note(links.len()), loaded.version);
        cuts.push(Cut { part, title: loaded.title, links });
    }
    Ok(cuts)
}
