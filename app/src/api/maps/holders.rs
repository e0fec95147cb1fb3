//! A save that takes items out of a map (a CJM's or a blueprint's stages,
//! with a blueprint stage's cells) takes out, in the same commit, the links
//! the project's other maps hold to them: whichever way the save came (the
//! editor, a restore, a CSV import, a script calling `maps/save`), no link
//! is left naming nothing. The loop cuts the links it knows of itself and
//! sends them in the same set (its Undo needs them); what it could not
//! know (a link saved since it looked) is found here. A map's deletion
//! finds the maps linking to it here too ([`cut`]), and `maps/linking`
//! answers with [`linking`].

use super::{audit_saved, LinksTakenOut};
use crate::error::AppError;
use comops_core::audit_detail::LinksCut;
use comops_core::map::{Map, MapContent, MapId, MapKind};
use comops_core::store::maps::MapSave;
use comops_core::store::{Store, StoreError};
use comops_core::{FieldError, Locale, ProjectId, Problem};
use std::collections::BTreeSet;

/// Items of a map that go: the map, its title as notes name it, and
/// which of its items (`gone`).
pub struct Target<'a> {
    pub map: &'a MapId,
    pub title: &'a str,
    pub gone: &'a (dyn Fn(&str) -> bool + Sync),
}

/// The project's blueprints and communication maps, other than `skip`,
/// holding a link to an item that goes with one of `targets`, in creation
/// order: read in one query.
pub async fn linking(store: &Store, project: &ProjectId, skip: &[&MapId], targets: &[Target<'_>]) -> Result<Vec<Map>, AppError> {
    let mut maps = store.project_maps_of(project, &[MapKind::Blueprint, MapKind::Communication]).await?;
    maps.retain(|m| !skip.contains(&&m.id) && m.content.refs().iter().any(|(_, r)| targets.iter().any(|t| r.map == *t.map && (t.gone)(&r.item))));
    Ok(maps)
}

/// Another map without its links to items that go: how many went, and the
/// title of the map (or maps) they went from.
pub struct Holder {
    pub map: Map,
    pub links: usize,
    pub of: String,
}

impl Holder {
    /// Its save without those links, as the next version noted `note`.
    pub fn save<'a>(&'a self, note: &'a str) -> MapSave<'a> {
        MapSave { id: &self.map.id, expected: self.map.version, title: &self.map.title, content: &self.map.content, note }
    }

    /// What the answer says of it, saved as `version`.
    pub fn taken_out(self, version: i64) -> LinksTakenOut {
        LinksTakenOut { map_id: self.map.id.to_string(), title: self.map.title, version, links: self.links }
    }
}

/// Each of [`linking`]'s maps without its links to the items that go.
pub async fn cut(store: &Store, project: &ProjectId, skip: &[&MapId], targets: &[Target<'_>]) -> Result<Vec<Holder>, AppError> {
    let maps = linking(store, project, skip, targets).await?;
    Ok(maps
        .into_iter()
        .map(|mut map| {
            let mut links = 0;
            let mut of = Vec::new();
            for target in targets {
                let went = map.content.drop_refs(target.map, target.gone);
                if went > 0 {
                    links += went;
                    of.push(target.title);
                }
            }
            Holder { map, links, of: of.join("», «") }
        })
        .collect())
}

/// A map being saved: as it was read (`current`, its version the one the
/// save expects), its new title, content and the new version's note.
pub struct Saving<'a> {
    pub current: &'a Map,
    pub title: &'a str,
    pub content: &'a MapContent,
    pub note: &'a str,
}

/// What [`write`] came to.
pub enum Written {
    /// The maps' new versions in the order given, and the other maps whose
    /// links to what they took out went with them.
    Saved { versions: Vec<i64>, links_taken_out: Vec<LinksTakenOut> },
    /// Map `map_id` was saved by `author` as `current` after it was read:
    /// nothing was saved.
    Moved { map_id: String, current: i64, author: String },
}

/// How many times the maps holding links are read and the commit tried,
/// when one of them is saved between reading and writing.
const TRIES: usize = 3;

/// Saves `maps` (of one project) in one commit with each other map of the
/// project holding links to items they take out, without those links: a
/// version noted in `locale` ("links to stages deleted in «…» taken out
/// (2)"), audited as `map.save`; `maps` are audited as `action`. A holder
/// saved or deleted in the moment between makes the holders be read
/// again, [`TRIES`] tries in all; then nothing is saved and the answer
/// says "changed meanwhile". One of `maps` moved is [`Written::Moved`],
/// one deleted is not found. A link that one of `maps` keeps to an item
/// another of them takes out is refused before this (`check_new_links`).
pub async fn write(store: &Store, maps: &[Saving<'_>], author: &str, action: &str, locale: Locale) -> Result<Written, AppError> {
    let gone: Vec<(&Saving, BTreeSet<String>)> = maps
        .iter()
        .filter(|m| matches!(m.current.kind, MapKind::Cjm | MapKind::Blueprint))
        .map(|m| (m, m.current.content.items_gone(m.content)))
        .filter(|(_, items)| !items.is_empty())
        .collect();
    let tests: Vec<_> = gone.iter().map(|(_, items)| move |item: &str| items.contains(item)).collect();
    let targets: Vec<Target> = gone.iter().zip(&tests).map(|((m, _), gone)| Target { map: &m.current.id, title: m.title, gone }).collect();
    let saving: Vec<&MapId> = maps.iter().map(|m| &m.current.id).collect();
    let mut tries = 0;
    loop {
        tries += 1;
        let cut = match gone.first() {
            Some((first, _)) => self::cut(store, &first.current.project_id, &saving, &targets).await?,
            None => Vec::new(),
        };
        let notes: Vec<String> = cut.iter().map(|h| crate::i18n::t2(locale, crate::i18n::K::MapNoteStageLinksCut, &h.of, h.links)).collect();
        let own = maps.iter().map(|m| MapSave { id: &m.current.id, expected: m.current.version, title: m.title, content: m.content, note: m.note });
        let saves: Vec<MapSave> = own.chain(cut.iter().zip(&notes).map(|(h, note)| h.save(note))).collect();
        match store.save_maps(&saves, author).await {
            Ok(versions) => {
                let (own, theirs) = versions.split_at(maps.len().min(versions.len()));
                // The audit log says why a map changed that nobody opened.
                for (m, version) in maps.iter().zip(own) {
                    let took = (!cut.is_empty() && gone.iter().any(|(g, _)| g.current.id == m.current.id)).then(|| LinksCut::OutOf { maps: cut.len() });
                    audit_saved(store, author, action, &m.current.id, m.title, *version, took).await?;
                }
                for (h, version) in cut.iter().zip(theirs) {
                    let why = LinksCut::ToStagesOf { of: h.of.clone(), links: h.links };
                    audit_saved(store, author, "map.save", &h.map.id, &h.map.title, *version, Some(why)).await?;
                }
                let links_taken_out = cut.into_iter().zip(theirs).map(|(h, version)| h.taken_out(*version)).collect();
                return Ok(Written::Saved { versions: own.to_vec(), links_taken_out });
            }
            Err(StoreError::Conflict { .. } | StoreError::NotFound) => {
                // One of the maps saved: the caller's conflict, said as such
                // (by whom: read whole only for the one that moved).
                for m in maps {
                    if store.map_head(&m.current.id).await?.version != m.current.version {
                        let now = store.map(&m.current.id).await?;
                        return Ok(Written::Moved { map_id: m.current.id.to_string(), current: now.version, author: now.author });
                    }
                }
                // A holder saved or deleted meanwhile: read them again.
                if tries < TRIES && !cut.is_empty() {
                    continue;
                }
                return Err(AppError::Invalid(vec![FieldError::new("map_id", Problem::ChangedMeanwhile)]));
            }
            Err(other) => return Err(other.into()),
        }
    }
}
