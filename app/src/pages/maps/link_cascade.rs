//! The links other maps hold to stages that go: found in the project's
//! blueprints and communication maps as they are now, taken out, and
//! ready to be saved in the same commit as the stages' own map
//! (`api::maps::save_map_set`). The ComOps loop deletes stages this way,
//! because its Undo puts back the very links it cut; any other save
//! (the map editor's among them) leaves the cutting to the server
//! (`api::maps::holders`), which also cuts what a set did not carry.
//!
//! The loop's "Take them out" cuts links to items deleted since the same
//! way ([`cut_in`]), and all of them read a set save's answer as the
//! map's own ([`own_outcome`]).
//!
//! The holders are read as they are, not as the page drew them: only
//! those links change in them, so a save of theirs meanwhile is no
//! conflict, and a map or link made since is looked in too.

use super::loop_edit::{self, HeldLink};
use crate::api::maps::{load_map, maps_linking_to, LoadedMap, MapPart, MapSaveOutcome, MapSetOutcome};
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
/// how many went. Maps that hold none are not among them; the server
/// finds those that do (`maps_linking_to`), in one round trip.
pub async fn cut_from_holders(map: &str, kind: MapKind, stages: &[String], note: impl Fn(usize) -> String) -> Result<Vec<Cut>, AppError> {
    let items: Vec<String> = stages.iter().flat_map(|stage| loop_edit::gone_with_stage(kind, stage)).collect();
    if items.is_empty() || !matches!(kind, MapKind::Cjm | MapKind::Blueprint) {
        return Ok(Vec::new());
    }
    let targets = [(map, items.as_slice())];
    let mut cuts = Vec::new();
    for holder in maps_linking_to(map.to_string(), items.clone()).await? {
        let origin = serde_json::from_slice(holder.content.as_bytes()).unwrap_or(Value::Null);
        cuts.extend(cut_in(&holder, &origin, &targets, &note));
    }
    Ok(cuts)
}

/// Map `loaded` (its content `origin`) without its links to `targets`
/// (each a map and items of it), noted by `note` with how many went;
/// `None` when it holds none.
pub fn cut_in(loaded: &LoadedMap, origin: &Value, targets: &[(&str, &[String])], note: impl Fn(usize) -> String) -> Option<Cut> {
    let mut content = origin.clone();
    let links: Vec<HeldLink> = targets.iter().flat_map(|(map, items)| loop_edit::cut_links(&mut content, map, items)).collect();
    if links.is_empty() {
        return None;
    }
    let part = MapPart::of(&loaded.id, loaded.kind, origin, &content, &note(links.len()), loaded.version);
    Some(Cut { part, title: loaded.title.clone(), links })
}

/// What a save of a map with the maps `others` (each by id, with its
/// title) came to, as the map's own save's answer and the others' new
/// versions (in order); a problem in another map is named by its title.
/// A conflict also says which other map it is (`Some(title)`: one saved
/// in the moment between reading it and this save), `None` when it is
/// the map's own.
pub fn own_outcome(answer: MapSetOutcome, others: &[(String, String)]) -> (MapSaveOutcome, Vec<i64>, Option<String>) {
    let title_of = |id: &str| others.iter().find(|(other, _)| other == id).map(|(_, title)| title.clone());
    match answer {
        MapSetOutcome::Saved { versions, links_taken_out } => {
            let version = versions.first().copied().unwrap_or_default();
            (MapSaveOutcome::Saved { version, links_taken_out }, versions.into_iter().skip(1).collect(), None)
        }
        MapSetOutcome::Conflict { map_id, current, author } => (MapSaveOutcome::Conflict { current, author }, Vec::new(), title_of(&map_id)),
        MapSetOutcome::Invalid { map_id, mut errors } => {
            if let Some(title) = title_of(&map_id) {
                for error in &mut errors {
                    error.field = format!("«{title}» {}", error.field);
                }
            }
            (MapSaveOutcome::Invalid { errors }, Vec::new(), None)
        }
    }
}
