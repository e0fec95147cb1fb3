//! Studio maps (SPEC §6, seed «Стратегическое планирование», «Карта
//! коммуникаций»): the analyst's and architect's design documents, kept
//! next to the live endpoints they describe.
//!
//! Four kinds, one file each:
//! - [`cjm`] — Customer Journey Map: stages with the seed template's ten
//!   columns and an emotion score for the curve;
//! - [`blueprint`] — Service Blueprint: four lanes × stages, with the lines
//!   of interaction, visibility and internal interaction;
//! - [`communication`] — communication map: `№, event, communication,
//!   participants, channel, user action, result, API trigger`;
//! - [`integration`] — the integration-points table of the seed.
//!
//! A [`Map`] has a stable [`MapId`], its project, kind, title, content and
//! version (every save is a version, see `store/maps.rs`). The ComOps loop
//! (CJM stage → map rows → blueprint cells → endpoints) is stored as ids on
//! the rows and cells ([`ItemRef`], [`EndpointBinding`]) and walked both
//! ways by [`links`].
//!
//! Content arrives as untrusted JSON: [`MapContent::parse`] reads it field
//! by field and reports every problem as a [`FieldError`] with its path
//! (`stages[3].emotion_score`), within the [`limits`]. The pure tools live
//! here too: [`csv`] (RFC 4180 export/import), [`diff`] (row/cell-level,
//! for the side-by-side view), [`changes`] (a save as what changed since
//! its base version), [`first_rows`] (a long map opened first rows
//! first), [`spec`] (the «ТЗ на DMI-проект» as Markdown), [`export`]
//! (a whole project as JSON) and [`planned`] (the endpoint the maps plan
//! and no bot has yet, as a draft).

pub mod blueprint;
pub mod changes;
pub mod cjm;
pub mod communication;
pub mod csv;
pub mod diff;
pub mod export;
pub mod first_rows;
pub mod integration;
pub mod links;
pub mod planned;
pub mod spec;

mod fields;

use crate::validation::{FieldError, Problem};
use crate::{Alias, BotId, Millis, ProjectId};
use serde::{Deserialize, Serialize};

pub use blueprint::Blueprint;
pub use cjm::Cjm;
pub use communication::CommunicationMap;
pub use integration::IntegrationMap;

/// Size limits of one map (SPEC §6: "works at 1,000-row maps").
pub mod limits {
    /// Rows of a communication or integration map, stages of a CJM or a blueprint.
    pub const MAX_ROWS: usize = 2_000;
    /// Characters of one cell.
    pub const MAX_CELL: usize = 4_000;
    /// Characters of a map's title.
    pub const MAX_TITLE: usize = 200;
    /// Links (stage or cell references, endpoint bindings) on one row or cell.
    pub const MAX_LINKS: usize = 50;
    /// Bytes of a map's JSON or CSV text as submitted.
    pub const MAX_BYTES: usize = 16 * 1024 * 1024;
    /// Characters of a row, stage or cell id.
    pub const MAX_ID: usize = 64;
}

pub use crate::id::MapId;

/// The four kinds of map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MapKind {
    Cjm,
    Blueprint,
    Communication,
    Integration,
}

impl MapKind {
    pub const ALL: [MapKind; 4] = [MapKind::Cjm, MapKind::Blueprint, MapKind::Communication, MapKind::Integration];

    pub fn as_str(self) -> &'static str {
        match self {
            MapKind::Cjm => "cjm",
            MapKind::Blueprint => "blueprint",
            MapKind::Communication => "communication",
            MapKind::Integration => "integration",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        MapKind::ALL.into_iter().find(|k| k.as_str() == raw.trim())
    }

    /// The seed's name of the kind (Russian, as in «ТЗ на DMI-проект»).
    pub fn title_ru(self) -> &'static str {
        match self {
            MapKind::Cjm => "Customer Journey Map",
            MapKind::Blueprint => "Service Blueprint",
            MapKind::Communication => "Карта коммуникаций",
            MapKind::Integration => "Карта точек интеграции",
        }
    }

    /// The kind's name in English («ТЗ» in English).
    pub fn title_en(self) -> &'static str {
        match self {
            MapKind::Cjm => "Customer Journey Map",
            MapKind::Blueprint => "Service Blueprint",
            MapKind::Communication => "Communication map",
            MapKind::Integration => "Integration points map",
        }
    }
}

impl std::fmt::Display for MapKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to a stage, row or cell of another (or the same) map: the
/// ComOps loop's links. Blueprint cells are named `stage_id:lane`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemRef {
    pub map: MapId,
    pub item: String,
}

impl ItemRef {
    /// `map_x#item`, the form used in CSV cells.
    pub fn to_text(&self) -> String {
        format!("{}#{}", self.map, self.item)
    }

    pub fn parse_text(raw: &str) -> Option<Self> {
        let (map, item) = raw.trim().split_once('#')?;
        let item = item.trim();
        (fields::valid_ref_item(item)).then_some(())?;
        Some(ItemRef { map: MapId::parse(map.trim())?, item: item.to_string() })
    }
}

/// A row or cell bound to a live endpoint of a bot (the architect's part).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EndpointBinding {
    pub bot_id: BotId,
    pub alias: Alias,
}

impl EndpointBinding {
    /// `/bots/{botId}/call/{alias}`, the seed's way to write a trigger.
    pub fn url(&self) -> String {
        format!("/bots/{}/call/{}", self.bot_id, self.alias)
    }
}

/// One map's content, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MapContent {
    Cjm(Cjm),
    Blueprint(Blueprint),
    Communication(CommunicationMap),
    Integration(IntegrationMap),
}

impl MapContent {
    pub fn kind(&self) -> MapKind {
        match self {
            MapContent::Cjm(_) => MapKind::Cjm,
            MapContent::Blueprint(_) => MapKind::Blueprint,
            MapContent::Communication(_) => MapKind::Communication,
            MapContent::Integration(_) => MapKind::Integration,
        }
    }

    /// An empty map of `kind` (what "create" starts from).
    pub fn empty(kind: MapKind) -> Self {
        match kind {
            MapKind::Cjm => MapContent::Cjm(Cjm::default()),
            MapKind::Blueprint => MapContent::Blueprint(Blueprint::default()),
            MapKind::Communication => MapContent::Communication(CommunicationMap::default()),
            MapKind::Integration => MapContent::Integration(IntegrationMap::default()),
        }
    }

    /// Reads untrusted JSON text as a map of `kind`, reporting every
    /// problem with its path. A `kind` key inside the JSON is ignored: the
    /// map's kind never changes.
    pub fn parse(kind: MapKind, json: &str) -> Result<Self, Vec<FieldError>> {
        if json.len() > limits::MAX_BYTES {
            return Err(vec![FieldError::new("content", Problem::TooLong { max: limits::MAX_BYTES })]);
        }
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|_| vec![FieldError::new("content", Problem::BadJson)])?;
        Self::from_value(kind, &value)
    }

    /// [`MapContent::parse`] for an already parsed JSON value.
    pub fn from_value(kind: MapKind, value: &serde_json::Value) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let content = match kind {
            MapKind::Cjm => MapContent::Cjm(Cjm::read(value, &mut errors)),
            MapKind::Blueprint => MapContent::Blueprint(Blueprint::read(value, &mut errors)),
            MapKind::Communication => MapContent::Communication(CommunicationMap::read(value, &mut errors)),
            MapKind::Integration => MapContent::Integration(IntegrationMap::read(value, &mut errors)),
        };
        if errors.is_empty() {
            Ok(content)
        } else {
            Err(errors)
        }
    }

    /// Checks a content built in code (CSV import, demo, restore) against
    /// the same rules as [`MapContent::parse`].
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        Self::from_value(self.kind(), &self.to_value()).map(|_| ())
    }

    /// The JSON stored for this content (the inner struct, without `kind`).
    pub fn to_value(&self) -> serde_json::Value {
        let value = match self {
            MapContent::Cjm(m) => serde_json::to_value(m),
            MapContent::Blueprint(m) => serde_json::to_value(m),
            MapContent::Communication(m) => serde_json::to_value(m),
            MapContent::Integration(m) => serde_json::to_value(m),
        };
        value.unwrap_or(serde_json::Value::Null)
    }

    /// Rows (stages for a CJM or a blueprint) in this map.
    pub fn len(&self) -> usize {
        match self {
            MapContent::Cjm(m) => m.stages.len(),
            MapContent::Blueprint(m) => m.stages.len(),
            MapContent::Communication(m) => m.rows.len(),
            MapContent::Integration(m) => m.rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ids other maps may point at: CJM stages, blueprint stages and
    /// cells (`stage:lane`), communication and integration rows.
    pub fn item_ids(&self) -> Vec<String> {
        match self {
            MapContent::Cjm(m) => m.stages.iter().map(|s| s.id.clone()).collect(),
            MapContent::Blueprint(m) => m
                .stages
                .iter()
                .flat_map(|s| {
                    std::iter::once(s.id.clone())
                        .chain(blueprint::Lane::ALL.iter().map(move |lane| blueprint::cell_id(&s.id, *lane)))
                })
                .collect(),
            MapContent::Communication(m) => m.rows.iter().map(|r| r.id.clone()).collect(),
            MapContent::Integration(m) => m.rows.iter().map(|r| r.id.clone()).collect(),
        }
    }

    /// The items (stages, a blueprint's cells, rows) this content has and
    /// `now` has not: what a save of `now` over it takes out.
    pub fn items_gone(&self, now: &MapContent) -> std::collections::BTreeSet<String> {
        let kept: std::collections::HashSet<String> = now.item_ids().into_iter().collect();
        self.item_ids().into_iter().filter(|item| !kept.contains(item)).collect()
    }

    /// Every link to another map's item, with the path of the field that
    /// holds it (for "does not exist" errors).
    pub fn refs(&self) -> Vec<(String, &ItemRef)> {
        let mut out = Vec::new();
        match self {
            MapContent::Communication(m) => {
                for (i, row) in m.rows.iter().enumerate() {
                    out.extend(row.stages.iter().enumerate().map(|(j, r)| (format!("rows[{i}].stages[{j}]"), r)));
                    out.extend(row.cells.iter().enumerate().map(|(j, r)| (format!("rows[{i}].cells[{j}]"), r)));
                }
            }
            MapContent::Blueprint(m) => {
                for (i, stage) in m.stages.iter().enumerate() {
                    out.extend(stage.cjm_stages.iter().enumerate().map(|(j, r)| (format!("stages[{i}].cjm_stages[{j}]"), r)));
                }
            }
            MapContent::Cjm(_) | MapContent::Integration(_) => {}
        }
        out
    }

    /// Takes out the links to the items of map `map` that `gone` takes
    /// (stages deleted from it and their cells; every item, the map
    /// deleted). Returns how many went.
    pub fn drop_refs(&mut self, map: &MapId, gone: impl Fn(&str) -> bool) -> usize {
        let mut dropped = 0;
        let mut keep = |links: &mut Vec<ItemRef>| {
            let before = links.len();
            links.retain(|r| &r.map != map || !gone(&r.item));
            dropped += before - links.len();
        };
        match self {
            MapContent::Communication(m) => {
                for row in &mut m.rows {
                    keep(&mut row.stages);
                    keep(&mut row.cells);
                }
            }
            MapContent::Blueprint(m) => {
                for stage in &mut m.stages {
                    keep(&mut stage.cjm_stages);
                }
            }
            MapContent::Cjm(_) | MapContent::Integration(_) => {}
        }
        dropped
    }

    /// Which live endpoint each row or cell is bound to, keyed by the
    /// row or cell id. A change here is the architect's to make
    /// (`Permission::DesignIntegrations`); the rest is the analyst's.
    pub fn bindings(&self) -> std::collections::BTreeSet<(String, EndpointBinding)> {
        let mut out = std::collections::BTreeSet::new();
        match self {
            MapContent::Communication(m) => {
                for row in &m.rows {
                    if let Some(binding) = row.trigger.binding() {
                        out.insert((row.id.clone(), binding));
                    }
                }
            }
            MapContent::Integration(m) => {
                for row in &m.rows {
                    if let Some(binding) = row.binding() {
                        out.insert((row.id.clone(), binding));
                    }
                }
            }
            MapContent::Blueprint(m) => {
                for stage in &m.stages {
                    for lane in blueprint::Lane::ALL {
                        for binding in &stage.cell(lane).endpoints {
                            out.insert((blueprint::cell_id(&stage.id, lane), binding.clone()));
                        }
                    }
                }
            }
            MapContent::Cjm(_) => {}
        }
        out
    }

    /// Rewrites map ids in links and bot ids in bindings (project import).
    pub fn remap(&mut self, maps: &dyn Fn(&MapId) -> Option<MapId>, bots: &dyn Fn(&BotId) -> Option<BotId>) {
        let fix_ref = |r: &mut ItemRef| {
            if let Some(new) = maps(&r.map) {
                r.map = new;
            }
        };
        let fix_bot = |b: &mut BotId| {
            if let Some(new) = bots(b) {
                *b = new;
            }
        };
        match self {
            MapContent::Communication(m) => {
                for row in &mut m.rows {
                    row.stages.iter_mut().for_each(fix_ref);
                    row.cells.iter_mut().for_each(fix_ref);
                    if let Some(bot) = &mut row.trigger.bot_id {
                        fix_bot(bot);
                    }
                }
            }
            MapContent::Integration(m) => {
                for row in &mut m.rows {
                    if let Some(bot) = &mut row.bot_id {
                        fix_bot(bot);
                    }
                }
            }
            MapContent::Blueprint(m) => {
                for stage in &mut m.stages {
                    stage.cjm_stages.iter_mut().for_each(fix_ref);
                    for lane in blueprint::Lane::ALL {
                        for binding in &mut stage.cell_mut(lane).endpoints {
                            fix_bot(&mut binding.bot_id);
                        }
                    }
                }
            }
            MapContent::Cjm(_) => {}
        }
    }
}

/// A map as the studio sees it: identity, current content and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Map {
    pub id: MapId,
    pub project_id: ProjectId,
    pub kind: MapKind,
    pub title: String,
    pub content: MapContent,
    /// The current version (1 after create; +1 per save or restore).
    pub version: i64,
    /// Who saved the current version.
    pub author: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Trims a title and checks it is present and within [`limits::MAX_TITLE`].
pub fn parse_title(raw: &str) -> Result<String, FieldError> {
    let mut errors = Vec::new();
    let title = crate::validation::required_text("title", raw, limits::MAX_TITLE, &mut errors);
    match errors.pop() {
        Some(error) => Err(error),
        None => Ok(title),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_ids_keep_to_their_kind() {
        assert!(MapId::parse("map_rehau-1").is_some());
        assert!(MapId::parse("bot_rehau").is_none());
        assert!(MapId::parse("map_").is_none());
        assert_eq!(ItemRef::parse_text("map_a#st-1").unwrap().item, "st-1");
        assert_eq!(ItemRef::parse_text("map_a#reg:front_stage").unwrap().item, "reg:front_stage");
        assert!(ItemRef::parse_text("map_a").is_none());
    }

    #[test]
    fn bad_json_and_wrong_types_name_the_field() {
        assert_eq!(MapContent::parse(MapKind::Cjm, "{oops").unwrap_err(), vec![FieldError::new("content", Problem::BadJson)]);
        let errors = MapContent::parse(MapKind::Cjm, r#"{"stages": [{"id": "a", "stage": 5, "emotion_score": 9}, {"id": "a"}]}"#)
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.problem.clone())).collect();
        assert_eq!(
            fields,
            [
                ("stages[0].stage", Problem::BadJson),
                ("stages[0].emotion_score", Problem::OutOfRange),
                ("stages[1].id", Problem::Taken),
            ]
        );
    }

    #[test]
    fn limits_hold() {
        let long = "я".repeat(limits::MAX_CELL + 1);
        let json = serde_json::json!({"rows": [{"id": "r1", "event": long}]}).to_string();
        let errors = MapContent::parse(MapKind::Communication, &json).unwrap_err();
        assert_eq!(errors, vec![FieldError::new("rows[0].event", Problem::TooLong { max: limits::MAX_CELL })]);
        let rows: Vec<_> = (0..=limits::MAX_ROWS).map(|i| serde_json::json!({"id": format!("r{i}")})).collect();
        let json = serde_json::json!({ "rows": rows }).to_string();
        let errors = MapContent::parse(MapKind::Communication, &json).unwrap_err();
        assert_eq!(errors, vec![FieldError::new("rows", Problem::OutOfRange)]);
    }

    #[test]
    fn a_deleted_maps_links_are_dropped_and_counted_the_others_kept() {
        let json = serde_json::json!({"rows": [
            {"id": "r1", "stages": [{"map": "map_cjm", "item": "a"}, {"map": "map_other", "item": "a"}, {"map": "map_cjm", "item": "b"}],
             "cells": [{"map": "map_bp", "item": "s:front_stage"}]},
            {"id": "r2", "cells": [{"map": "map_cjm", "item": "c"}]},
        ]})
        .to_string();
        let mut content = MapContent::parse(MapKind::Communication, &json).unwrap();
        let cjm = MapId::parse("map_cjm").unwrap();
        assert_eq!(content.drop_refs(&cjm, |_| true), 3);
        let left: Vec<String> = content.refs().iter().map(|(path, r)| format!("{path} {}", r.to_text())).collect();
        assert_eq!(left, ["rows[0].stages[0] map_other#a", "rows[0].cells[0] map_bp#s:front_stage"]);
        assert_eq!(content.drop_refs(&cjm, |_| true), 0, "nothing left to drop");
        let blueprint = serde_json::json!({"stages": [{"id": "s", "cjm_stages": [{"map": "map_cjm", "item": "a"}, {"map": "map_x", "item": "a"}]}]}).to_string();
        let mut blueprint = MapContent::parse(MapKind::Blueprint, &blueprint).unwrap();
        assert_eq!(blueprint.drop_refs(&cjm, |_| true), 1);
        assert_eq!(blueprint.refs().len(), 1);
    }

    #[test]
    fn only_the_links_to_items_gone_are_dropped() {
        let json = serde_json::json!({"rows": [
            {"id": "r1", "stages": [{"map": "map_cjm", "item": "a"}, {"map": "map_other", "item": "b"}, {"map": "map_cjm", "item": "b"}],
             "cells": [{"map": "map_bp", "item": "s:front_stage"}, {"map": "map_bp", "item": "t:front_stage"}]},
        ]})
        .to_string();
        let mut content = MapContent::parse(MapKind::Communication, &json).unwrap();
        let cjm = MapId::parse("map_cjm").unwrap();
        assert_eq!(content.drop_refs(&cjm, |item| item == "b"), 1, "another map's «b» stays");
        let bp = MapId::parse("map_bp").unwrap();
        assert_eq!(content.drop_refs(&bp, |item| item.starts_with("s:")), 1);
        let left: Vec<String> = content.refs().iter().map(|(path, r)| format!("{path} {}", r.to_text())).collect();
        assert_eq!(left, ["rows[0].stages[0] map_cjm#a", "rows[0].stages[1] map_other#b", "rows[0].cells[0] map_bp#t:front_stage"]);
    }

    #[test]
    fn the_items_a_save_takes_out_are_its_stages_and_their_cells() {
        let was = serde_json::json!({"stages": [{"id": "s"}, {"id": "t"}]}).to_string();
        let was = MapContent::parse(MapKind::Blueprint, &was).unwrap();
        let now = serde_json::json!({"stages": [{"id": "t"}, {"id": "u"}]}).to_string();
        let now = MapContent::parse(MapKind::Blueprint, &now).unwrap();
        let gone: Vec<String> = was.items_gone(&now).into_iter().collect();
        assert_eq!(gone, ["s", "s:back_stage", "s:customer_actions", "s:front_stage", "s:support"]);
        assert!(now.items_gone(&now).is_empty());
    }
}
