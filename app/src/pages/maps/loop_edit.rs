//! What editing the ComOps loop by hand changes in a map, without views.
//!
//! On the loop view (SPEC §6, visual editor) an architect drags a
//! communication row onto an endpoint to bind the row's API trigger to
//! it, or selects that link and presses Delete to unbind it. Each is one
//! ordinary map save of the row's map — the version the loop was drawn
//! from, changed here, saved through `api::maps::save_map` with that
//! version as its base and a note saying what the loop did — so a loop
//! drawn before someone else's save is a conflict like any editor's, the
//! server checks who may bind, and the map's history shows the change.
//!
//! A row is linked to a CJM stage or a blueprint cell (dropped on it) or
//! unlinked the same way ([`link`]), and items are added and deleted: a
//! communication row made for a CJM stage or an endpoint ([`new_row_for`]),
//! a CJM or blueprint stage made after another ([`new_stage_after`]), an
//! endpoint's row in the integration-points table ([`new_point_for`]), a
//! stage or row deleted ([`put_item`] with nothing), and either put back
//! by an undo. A stage deleted takes along the links other maps hold to
//! it and its cells ([`cut_links`]), and its undo puts them back
//! ([`put_links`]).
//!
//! An endpoint's scenario is the endpoint's, not a map's: set on its
//! panel, it is saved as the endpoint's next version
//! (`api::endpoints::set_endpoint_scenario`), with [`scenario_note`]. So
//! is an endpoint the maps bind to and no bot has, created as they plan
//! it (`api::endpoints::create_planned_endpoint`).
//!
//! Which node a pointer is over and which links are a row's binding are
//! the drawing's business (`loop_model`); here: the change to the map's
//! JSON (the trigger cell's own [`set_trigger`]) and the version note.

use super::model::new_row;
use crate::api::maps::BindableEndpoint;
use crate::components::editable_table::set_trigger;
use crate::i18n::{t, t1, t2, K};
use comops_core::map::blueprint::{cell_id, Lane};
use comops_core::map::MapKind;
use comops_core::Locale;
use serde_json::{json, Value};

/// What a communication row's link names, and the row's list holding
/// it: a CJM stage (`stages`) or a blueprint cell (`cells`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefList {
    Stages,
    Cells,
}

impl RefList {
    pub fn key(self) -> &'static str {
        match self {
            RefList::Stages => "stages",
            RefList::Cells => "cells",
        }
    }
}

/// Whether row `row_id` names item `item` of map `map` in its `list`, or
/// `None` when the map has no such row.
pub fn names(content: &Value, row_id: &str, list: RefList, map: &str, item: &str) -> Option<bool> {
    let (_, row) = find(content, "rows", row_id)?;
    Some(row.get(list.key()).and_then(Value::as_array).is_some_and(|refs| refs.iter().any(|s| is_ref(s, map, item))))
}

/// A link to item `item` of map `map`, as maps hold it (`ItemRef`).
fn item_ref(map: &str, item: &str) -> Value {
    json!({"map": map, "item": item})
}

fn is_ref(v: &Value, map: &str, item: &str) -> bool {
    v.get("map").and_then(Value::as_str) == Some(map) && v.get("item").and_then(Value::as_str) == Some(item)
}

fn has_id(item: &Value, id: &str) -> bool {
    item.get("id").and_then(Value::as_str) == Some(id)
}

/// Item `id` of the map's `list` and its place, as it is in `content`.
fn find<'a>(content: &'a Value, list: &str, id: &str) -> Option<(usize, &'a Value)> {
    content.get(list)?.as_array()?.iter().enumerate().find(|(_, r)| has_id(r, id))
}

/// Links row `row_id` to item `item` of map `map` in its `list` (`on`:
/// once, at `place` in the list, else last) or unlinks it. Returns the
/// row's number as [`bind_row`] does and where the item was in the list
/// (what an undo puts back); `None` — content untouched — when there is
/// no such row.
pub fn link(content: &mut Value, row_id: &str, list: RefList, map: &str, item: &str, on: bool, place: Option<usize>) -> Option<(i64, Option<usize>)> {
    let (number, row) = row_mut(content, row_id)?;
    let row = row.as_object_mut()?;
    let refs = row.entry(list.key()).or_insert_with(|| json!([]));
    if !refs.is_array() {
        *refs = json!([]);
    }
    let refs = refs.as_array_mut()?;
    let was = refs.iter().position(|s| is_ref(s, map, item));
    refs.retain(|s| !is_ref(s, map, item));
    if on {
        refs.insert(place.unwrap_or(refs.len()).min(refs.len()), item_ref(map, item));
    }
    Some((number, was))
}

/// The version note of a row linked on the loop, "loop: row 3 ↔ stage
/// «Registration»" (or "blueprint cell"), or unlinked.
pub fn link_note(locale: Locale, number: i64, list: RefList, label: &str, on: bool) -> String {
    let key = match (list, on) {
        (RefList::Stages, true) => K::LoopNoteLinkStage,
        (RefList::Stages, false) => K::LoopNoteUnlinkStage,
        (RefList::Cells, true) => K::LoopNoteLinkCell,
        (RefList::Cells, false) => K::LoopNoteUnlinkCell,
    };
    t(locale, key).replacen("{}", &number.to_string(), 1).replacen("{}", label, 1)
}

/// A map item as it stands: its place in its map's list and its JSON.
pub type Placed = (usize, Value);

/// Item `id` of the map's `list` (`stages` or `rows`) and its place, or
/// `None` when the map has no such item.
pub fn item_of(content: &Value, list: &str, id: &str) -> Option<Placed> {
    find(content, list, id).map(|(place, item)| (place, item.clone()))
}

/// Puts item `id` of the map's `list` as `now` says: gone (`None`), or
/// at its place (past the end: last) as that JSON, instead of what was
/// there. `None` — content untouched — when the map has no such list.
pub fn put_item(content: &mut Value, list: &str, id: &str, now: Option<&Placed>) -> Option<()> {
    let items = content.get_mut(list)?.as_array_mut()?;
    items.retain(|r| !has_id(r, id));
    if let Some((place, item)) = now {
        items.insert((*place).min(items.len()), item.clone());
    }
    Some(())
}

/// What a communication row made on the loop is for: a CJM stage it
/// zooms into (`stages`), or an endpoint its API trigger calls.
#[derive(Debug, Clone, PartialEq)]
pub enum RowFor {
    /// A CJM stage: its map and its id there.
    Stage { map: String, item: String },
    Endpoint(BindableEndpoint),
}

/// A new communication row, last in the map whose content is `content`,
/// for what `purpose` names: its event, the next number, a fresh id, and
/// the stage it zooms into or its trigger bound to the endpoint. `None`
/// when `content` is no communication map.
pub fn new_row_for(content: &Value, purpose: &RowFor, event: &str) -> Option<Placed> {
    let place = content.get("rows")?.as_array()?.len();
    let mut row = new_row(MapKind::Communication, content);
    row["event"] = Value::String(event.trim().to_string());
    match purpose {
        RowFor::Stage { map, item } => row["stages"] = json!([item_ref(map, item)]),
        RowFor::Endpoint(endpoint) => set_trigger(&mut row, Some(endpoint)),
    }
    Some((place, row))
}

/// A new stage named `name` right after stage `after` of the CJM or
/// blueprint whose content is `content` (`after` empty: its first, when
/// it has none), with a fresh id; `None` when `content` is neither, has
/// no such stage (deleted since the loop was drawn), or, asked for its
/// first, has stages.
pub fn new_stage_after(content: &Value, kind: MapKind, after: &str, name: &str) -> Option<Placed> {
    let field = match kind {
        MapKind::Cjm => "stage",
        MapKind::Blueprint => "name",
        MapKind::Communication | MapKind::Integration => return None,
    };
    let place = if after.is_empty() {
        content.get("stages")?.as_array().filter(|stages| stages.is_empty())?;
        0
    } else {
        find(content, "stages", after)?.0 + 1
    };
    let mut stage = new_row(kind, content);
    stage[field] = Value::String(name.trim().to_string());
    Some((place, stage))
}

/// What an integration point says of its endpoint, taken from the
/// endpoint as it is: bound to it (bot and alias), `POST` to its URL as
/// the seed writes it, its description, request fields (`{ userId,
/// orderId }`), response and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct PointOf {
    pub bot: String,
    pub alias: String,
    pub description: String,
    pub fields: Vec<String>,
    pub response: String,
    pub owner: String,
}

/// The integration point of the table whose content is `content` for the
/// endpoint `of` names: the row planned for its alias (no bot yet), bound
/// to it, its empty cells filled from it — the row as it was and as it
/// becomes (`Some` first) — or, when none is planned, a new row last with
/// a fresh id (`None` first). `None` when `content` has no rows.
pub fn new_point_for(content: &Value, of: &PointOf) -> Option<(Option<Placed>, Placed)> {
    let rows = content.get("rows")?.as_array()?;
    let planned = rows.iter().enumerate().find(|(_, r)| {
        r.get("alias").and_then(Value::as_str) == Some(of.alias.as_str()) && r.get("bot_id").and_then(Value::as_str).unwrap_or_default().is_empty()
    });
    let (was, mut row) = match planned {
        Some((place, row)) => (Some((place, row.clone())), row.clone()),
        None => (None, new_row(MapKind::Integration, content)),
    };
    let place = was.as_ref().map_or(rows.len(), |(place, _)| *place);
    for (field, text) in point_cells(of) {
        let empty = row.get(field).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty());
        if empty || field == "bot_id" {
            row[field] = Value::String(text);
        }
    }
    Some((was, (place, row)))
}

/// The cells an integration point of the endpoint `of` names has; its
/// request fields as the seed writes them (`{ userId, orderId }`), cut to
/// a map cell's length.
fn point_cells(of: &PointOf) -> [(&'static str, String); 8] {
    let mut request = String::new();
    for name in &of.fields {
        if request.len() + name.len() + 8 > comops_core::map::limits::MAX_CELL {
            request.push_str(", …");
            break;
        }
        request.push_str(if request.is_empty() { "{ " } else { ", " });
        request.push_str(name);
    }
    if !request.is_empty() {
        request.push_str(" }");
    }
    [
        ("alias", of.alias.clone()),
        ("bot_id", of.bot.clone()),
        ("method", "POST".to_string()),
        ("url", format!("/bots/{{botId}}/call/{}", of.alias)),
        ("description", of.description.clone()),
        ("request", request),
        ("response", of.response.clone()),
        ("owner", of.owner.clone()),
    ]
}

/// Takes the crossings (arrows across a line) drawn at stage `stage` out
/// of a blueprint's content: a stage deleted takes them along, as they
/// would name no stage. Returns them at their places, for an undo.
pub fn take_crossings(content: &mut Value, stage: &str) -> Vec<Placed> {
    let Some(all) = content.get_mut("crossings").and_then(Value::as_array_mut) else { return Vec::new() };
    let at = |c: &Value| c.get("stage").and_then(Value::as_str) == Some(stage);
    let taken: Vec<Placed> = all.iter().enumerate().filter(|(_, c)| at(c)).map(|(place, c)| (place, c.clone())).collect();
    all.retain(|c| !at(c));
    taken
}

/// Puts crossings [`take_crossings`] took back at their places; one whose
/// id a crossing drawn meanwhile took comes back as `x-3-2` (ids are
/// unique in a blueprint).
pub fn put_crossings(content: &mut Value, crossings: &[Placed]) {
    if crossings.is_empty() {
        return;
    }
    let Some(object) = content.as_object_mut() else { return };
    let all = object.entry("crossings").or_insert_with(|| json!([]));
    if let Some(all) = all.as_array_mut() {
        for (place, c) in crossings {
            let mut c = c.clone();
            let id = c.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            let taken = |candidate: &str| all.iter().any(|other| has_id(other, candidate));
            if taken(&id) {
                let free = (2..).map(|n| format!("{id}-{n}")).find(|candidate| !taken(candidate)).unwrap_or_default();
                c["id"] = Value::String(free);
            }
            all.insert((*place).min(all.len()), c);
        }
    }
}

/// A link a map item held to an item deleted with a stage, taken out with
/// it ([`cut_links`]): the holder's list (`stages`, `rows`) and id, its
/// list of links (`cjm_stages`, `stages`, `cells`), where the link was in
/// that list, and the link.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldLink {
    pub list: String,
    pub holder: String,
    pub field: String,
    pub place: usize,
    pub link: Value,
}

/// The items a stage's deletion takes along, which links may name: the
/// stage, and a blueprint stage's four cells.
pub fn gone_with_stage(kind: MapKind, stage: &str) -> Vec<String> {
    let mut items = vec![stage.to_string()];
    if kind == MapKind::Blueprint {
        items.extend(Lane::ALL.iter().map(|lane| cell_id(stage, *lane)));
    }
    items
}

/// Takes out of a map's `content` every link naming one of `items` of map
/// `map` (a blueprint stage's `cjm_stages`, a row's `stages` and
/// `cells`), so a stage deleted on the loop leaves no link to nothing.
/// Returns them in order, for [`put_links`].
pub fn cut_links(content: &mut Value, map: &str, items: &[String]) -> Vec<HeldLink> {
    let mut cut = Vec::new();
    for list in ["stages", "rows"] {
        let Some(holders) = content.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for holder in holders {
            let id = holder.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            for field in ["cjm_stages", "stages", "cells"] {
                let Some(links) = holder.get_mut(field).and_then(Value::as_array_mut) else { continue };
                let named = |link: &Value| items.iter().any(|item| is_ref(link, map, item));
                for (place, link) in links.iter().enumerate().filter(|(_, link)| named(link)) {
                    cut.push(HeldLink { list: list.into(), holder: id.clone(), field: field.into(), place, link: link.clone() });
                }
                links.retain(|link| !named(link));
            }
        }
    }
    cut
}

/// Puts links [`cut_links`] took back, each at its place in its holder's
/// list; a holder deleted since gets none, and one naming the item again
/// meanwhile keeps its own. Returns how many were put back.
pub fn put_links(content: &mut Value, links: &[HeldLink]) -> usize {
    let mut put = 0;
    for held in links {
        let Some(holder) = content.get_mut(held.list.as_str()).and_then(Value::as_array_mut).and_then(|all| all.iter_mut().find(|h| has_id(h, &held.holder))) else {
            continue;
        };
        let Some(holder) = holder.as_object_mut() else { continue };
        let list = holder.entry(held.field.clone()).or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        let Some(list) = list.as_array_mut() else { continue };
        if list.contains(&held.link) {
            continue;
        }
        list.insert(held.place.min(list.len()), held.link.clone());
        put += 1;
    }
    put
}

/// Whether a map item names anything another map or a bot has: links
/// (`cjm_stages`, `stages`, `cells`), a row's bound trigger, an
/// integration point's endpoint, a blueprint cell's endpoints.
pub fn names_anything(item: &Value) -> bool {
    let some = |v: Option<&Value>| v.and_then(Value::as_array).is_some_and(|list| !list.is_empty());
    ["cjm_stages", "stages", "cells"].iter().any(|field| some(item.get(*field)))
        || item.get("trigger").and_then(|t| t.get("bot_id")).is_some_and(Value::is_string)
        || item.get("bot_id").is_some_and(Value::is_string)
        || Lane::ALL.iter().any(|lane| some(item.get(lane.as_str()).and_then(|cell| cell.get("endpoints"))))
}

/// Takes out of a map item put back by an undo the links it holds to
/// items no map has any more (`exists` says which do, by `map_x#item`)
/// and its bindings to endpoints no bot has any more (`live`, by
/// `endpoint:bot_x/alias`; a row's trigger and an integration point keep
/// their alias, bound to no bot, as planned): saved, the map's checks
/// would refuse them as new, and the undo with them. Returns how many
/// went.
pub fn drop_links_to_nothing(item: &mut Value, exists: impl Fn(&str) -> bool, live: impl Fn(&str) -> bool) -> usize {
    let mut dropped = 0;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    // A binding names a bot and an alias; a bot alone binds nothing.
    let bound = |v: &Value| v.get("bot_id").is_some_and(Value::is_string) && v.get("alias").is_some_and(Value::is_string);
    let dead = |v: &Value| bound(v) && !live(&format!("endpoint:{}/{}", text(v, "bot_id"), text(v, "alias")));
    if let Some(trigger) = item.get_mut("trigger").filter(|t| dead(t)) {
        trigger["bot_id"] = Value::Null;
        dropped += 1;
    }
    if dead(item) {
        item["bot_id"] = Value::Null;
        dropped += 1;
    }
    for lane in Lane::ALL {
        let Some(endpoints) = item.get_mut(lane.as_str()).and_then(|cell| cell.get_mut("endpoints")).and_then(Value::as_array_mut) else { continue };
        let before = endpoints.len();
        endpoints.retain(|e| !dead(e));
        dropped += before - endpoints.len();
    }
    for field in ["cjm_stages", "stages", "cells"] {
        let Some(links) = item.get_mut(field).and_then(Value::as_array_mut) else { continue };
        let before = links.len();
        links.retain(|link| {
            let key = format!("{}#{}", link.get("map").and_then(Value::as_str).unwrap_or_default(), link.get("item").and_then(Value::as_str).unwrap_or_default());
            exists(&key)
        });
        dropped += before - links.len();
    }
    dropped
}

/// The version note of a map whose links to a stage deleted on the loop
/// went with it (`on`: `false`), or came back with it: "loop: links to
/// «Registration» taken out (2)".
pub fn links_note(locale: Locale, count: usize, label: &str, on: bool) -> String {
    let key = if on { K::LoopNoteLinksBack } else { K::LoopNoteLinksCut };
    t2(locale, key, label, count)
}

/// What a map item is called in a version note: its name (an integration
/// point's description, else its alias), else its number or id.
pub fn item_label(item: &Value) -> String {
    let text = ["event", "stage", "name", "description", "alias"].iter().find_map(|k| item.get(*k).and_then(Value::as_str).filter(|s| !s.trim().is_empty()));
    match (text, item.get("number").and_then(Value::as_i64)) {
        (Some(text), _) => text.trim().to_string(),
        (None, Some(n)) => n.to_string(),
        (None, None) => item.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
    }
}

/// What a change did to one item of a map: added it (or put it back),
/// deleted it, or changed it (written over as another version of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemDone {
    Added,
    Deleted,
    Changed,
}

impl ItemDone {
    /// What putting `now` where `before` was does.
    pub fn of(before: bool, now: bool) -> ItemDone {
        match (before, now) {
            (true, true) => ItemDone::Changed,
            (_, true) => ItemDone::Added,
            (_, false) => ItemDone::Deleted,
        }
    }
}

/// The version note of an item added (or put back) on the loop, "loop:
/// «Order paid» added", deleted, or changed.
pub fn item_note(locale: Locale, label: &str, done: ItemDone) -> String {
    let key = match done {
        ItemDone::Added => K::LoopNoteAdd,
        ItemDone::Deleted => K::LoopNoteDelete,
        ItemDone::Changed => K::LoopNoteChange,
    };
    t1(locale, key, label)
}

/// The version note of an endpoint's scenario set on the loop: "loop:
/// users/feedback → scenario «feedback_flow»", or with none "loop:
/// users/feedback starts no scenario".
pub fn scenario_note(locale: Locale, alias: &str, scenario: &str) -> String {
    match scenario {
        "" => t1(locale, K::LoopNoteNoScenario, alias),
        name => t1(locale, K::LoopNoteScenario, alias).replacen("{}", name, 1),
    }
}

/// Binds row `row_id` of a communication map's content to `endpoint`, or
/// unbinds it (`None`). Returns the row's number (its «№», else its
/// place) for the note, or `None` — content untouched — when the map has
/// no such row (deleted since the loop was drawn).
pub fn bind_row(content: &mut Value, row_id: &str, endpoint: Option<&BindableEndpoint>) -> Option<i64> {
    let (number, row) = row_mut(content, row_id)?;
    set_trigger(row, endpoint);
    Some(number)
}

/// Row `row_id` of a communication map's content, to change, with its
/// number (its «№», else its place).
fn row_mut<'a>(content: &'a mut Value, row_id: &str) -> Option<(i64, &'a mut Value)> {
    let rows = content.get_mut("rows")?.as_array_mut()?;
    let (place, row) = rows.iter_mut().enumerate().find(|(_, r)| has_id(r, row_id))?;
    Some((row.get("number").and_then(Value::as_i64).unwrap_or(place as i64 + 1), row))
}

/// Row `row_id`'s trigger as it is (`Null` when it has none), or `None`
/// when the map has no such row: what an undo writes back, and what it
/// expects to find.
pub fn trigger_of(content: &Value, row_id: &str) -> Option<Value> {
    let (_, row) = find(content, "rows", row_id)?;
    Some(row.get("trigger").cloned().unwrap_or(Value::Null))
}

/// Writes row `row_id`'s trigger back as it was (`trigger`: an undo puts
/// back the planned alias and the scenario too). Returns the row's number
/// as [`bind_row`] does.
pub fn restore_row(content: &mut Value, row_id: &str, trigger: &Value) -> Option<i64> {
    let (number, row) = row_mut(content, row_id)?;
    row.as_object_mut()?.insert("trigger".into(), trigger.clone());
    Some(number)
}

/// The version note of a binding made on the loop: "loop: row 3 →
/// users/connect-bot", or for an unbinding "loop: row 3 unbound from
/// users/connect-bot" (`was`, the alias it had).
pub fn note(locale: Locale, number: i64, endpoint: Option<&BindableEndpoint>, was: &str) -> String {
    let (key, alias) = match endpoint {
        Some(e) => (K::LoopNoteBind, e.alias.as_str()),
        None => (K::LoopNoteUnbind, was),
    };
    t(locale, key).replacen("{}", &number.to_string(), 1).replacen("{}", alias, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connect_bot() -> BindableEndpoint {
        BindableEndpoint {
            bot_id: "bot_rehau".into(),
            alias: "users/connect-bot".into(),
            scenario: "registration_flow".into(),
            enabled: true,
            calls: 0,
            errors: 0,
            last_call_at: None,
        }
    }

    /// The demo's registration map: rows designed with an alias, bound to no bot.
    fn registration() -> Value {
        json!({"process": "Регистрация пользователя", "rows": [
            {"id": "r1", "number": 1, "event": "Пользователь зарегистрировался", "trigger": {"bot_id": null, "alias": "user/register", "scenario": "registration_flow"}},
            {"id": "r2", "number": 7, "event": "Email не подтверждён", "trigger": {"bot_id": null, "alias": "user/email", "scenario": "email_confirm"}},
            {"id": "r3", "event": "Профиль заполнен"},
        ]})
    }

    #[test]
    fn a_deleted_stage_takes_the_links_to_it_and_its_cells_and_gives_them_back() {
        let gone = gone_with_stage(MapKind::Blueprint, "signup");
        assert_eq!(gone.len(), 5);
        assert!(gone.contains(&"signup:front_stage".to_string()));
        assert_eq!(gone_with_stage(MapKind::Cjm, "registration"), ["registration"]);
        let other = json!({"map": "map_bp", "item": "other:back_stage"});
        let mut rows = json!({"rows": [
            {"id": "r1", "stages": [{"map": "map_cjm", "item": "registration"}], "cells": [{"map": "map_bp", "item": "signup:front_stage"}, other.clone(), {"map": "map_bp", "item": "signup:support"}]},
            {"id": "r2", "cells": [{"map": "map_elsewhere", "item": "signup:front_stage"}]},
        ]});
        let was = rows.clone();
        let cut = cut_links(&mut rows, "map_bp", &gone);
        assert_eq!(cut.iter().map(|h| (h.holder.as_str(), h.field.as_str(), h.place)).collect::<Vec<_>>(), [("r1", "cells", 0), ("r1", "cells", 2)]);
        assert_eq!(rows["rows"][0]["cells"], json!([other]));
        assert_eq!(rows["rows"][1], was["rows"][1], "another map's item of the same name stays");
        assert_eq!(put_links(&mut rows, &cut), 2);
        assert_eq!(rows, was, "each back at its place");
        // Put back again: nothing twice.
        assert_eq!(put_links(&mut rows, &cut), 0);
        assert_eq!(rows, was);

        // A blueprint stage's CJM stages; a holder deleted since gets nothing back.
        let mut blueprint = json!({"stages": [{"id": "a", "cjm_stages": [{"map": "map_cjm", "item": "registration"}]}, {"id": "b", "cjm_stages": [{"map": "map_cjm", "item": "registration"}]}]});
        let cut = cut_links(&mut blueprint, "map_cjm", &gone_with_stage(MapKind::Cjm, "registration"));
        assert_eq!(cut.len(), 2);
        assert_eq!(blueprint["stages"][0]["cjm_stages"], json!([]));
        put_item(&mut blueprint, "stages", "b", None);
        assert_eq!(put_links(&mut blueprint, &cut), 1);
        assert_eq!(blueprint, json!({"stages": [{"id": "a", "cjm_stages": [{"map": "map_cjm", "item": "registration"}]}]}));
        assert!(cut_links(&mut json!({"persona": "x"}), "map_cjm", &["registration".into()]).is_empty());
        assert_eq!(links_note(Locale::En, 2, "Регистрация", false), "loop: links to «Регистрация» taken out (2)");
        assert_eq!(links_note(Locale::Ru, 1, "Регистрация", true), "петля: возвращены связи с «Регистрация» (1)");
        assert_eq!(links_note(Locale::En, 3, "a {} b", false), "loop: links to «a {} b» taken out (3)", "a name holding {{}} is not filled again");
    }

    #[test]
    fn an_item_put_back_leaves_out_its_links_to_items_deleted_since() {
        let mut row = json!({"id": "r1", "event": "x", "stages": [{"map": "map_cjm", "item": "gone"}, {"map": "map_cjm", "item": "kept"}], "cells": [{"map": "map_bp", "item": "gone:support"}]});
        let exists = |key: &str| key == "map_cjm#kept";
        let live = |key: &str| key == "endpoint:bot_a/users/kept";
        assert!(names_anything(&row));
        assert_eq!(drop_links_to_nothing(&mut row, exists, live), 2);
        assert_eq!(row, json!({"id": "r1", "event": "x", "stages": [{"map": "map_cjm", "item": "kept"}], "cells": []}));
        assert_eq!(drop_links_to_nothing(&mut row, exists, live), 0);
        let mut stage = json!({"id": "s", "cjm_stages": [{"map": "map_cjm", "item": "gone"}], "support": {"text": "t", "endpoints": [{"bot_id": "bot_a", "alias": "users/gone"}, {"bot_id": "bot_a", "alias": "users/kept"}]}});
        assert_eq!(drop_links_to_nothing(&mut stage, exists, live), 2);
        assert_eq!(stage["cjm_stages"], json!([]));
        assert_eq!(stage["support"]["endpoints"], json!([{"bot_id": "bot_a", "alias": "users/kept"}]));
        let cjm_stage = json!({"id": "c", "stage": "x"});
        assert!(!names_anything(&cjm_stage));
        assert_eq!(drop_links_to_nothing(&mut cjm_stage.clone(), exists, live), 0);
        // A trigger or an integration point bound to an endpoint gone keeps its alias, unbound.
        let mut bound = json!({"id": "r2", "trigger": {"bot_id": "bot_a", "alias": "users/gone", "scenario": "s"}});
        assert_eq!(drop_links_to_nothing(&mut bound, exists, live), 1);
        assert_eq!(bound["trigger"], json!({"bot_id": null, "alias": "users/gone", "scenario": "s"}));
        let mut point = json!({"id": "p", "bot_id": "bot_a", "alias": "users/kept"});
        assert_eq!(drop_links_to_nothing(&mut point, exists, live), 0);
        point["alias"] = json!("users/gone");
        assert_eq!(drop_links_to_nothing(&mut point, exists, live), 1);
        assert_eq!(point["bot_id"], Value::Null);
        assert!(!names_anything(&point));
        // A bot without an alias binds nothing: kept as it is.
        let mut half = json!({"id": "r3", "trigger": {"bot_id": "bot_a", "alias": null}});
        assert_eq!(drop_links_to_nothing(&mut half, exists, live), 0);
        assert_eq!(half["trigger"]["bot_id"], "bot_a");
    }

    #[test]
    fn a_row_dropped_on_an_endpoint_takes_its_bot_alias_and_scenario() {
        let mut map = registration();
        assert_eq!(bind_row(&mut map, "r2", Some(&connect_bot())), Some(7));
        assert_eq!(map["rows"][1]["trigger"], json!({"bot_id": "bot_rehau", "alias": "users/connect-bot", "scenario": "registration_flow"}));
        // The other rows and the map's own fields stay as they were.
        assert_eq!(map["rows"][0], registration()["rows"][0]);
        assert_eq!(map["process"], "Регистрация пользователя");
        // A row without a trigger or a number: one is made, the place is its number.
        assert_eq!(bind_row(&mut map, "r3", Some(&connect_bot())), Some(3));
        assert_eq!(map["rows"][2]["trigger"]["alias"], "users/connect-bot");
        // An endpoint with no scenario leaves the row's scenario alone.
        let bare = BindableEndpoint { scenario: String::new(), alias: "feedback/received".into(), ..connect_bot() };
        bind_row(&mut map, "r1", Some(&bare));
        assert_eq!(map["rows"][0]["trigger"], json!({"bot_id": "bot_rehau", "alias": "feedback/received", "scenario": "registration_flow"}));
    }

    #[test]
    fn unbinding_clears_bot_and_alias_and_keeps_the_scenario() {
        let mut map = registration();
        bind_row(&mut map, "r1", Some(&connect_bot()));
        assert_eq!(bind_row(&mut map, "r1", None), Some(1));
        assert_eq!(map["rows"][0]["trigger"], json!({"bot_id": null, "alias": null, "scenario": "registration_flow"}));
    }

    #[test]
    fn an_undo_writes_the_trigger_back_as_it_was() {
        let mut map = registration();
        let before = trigger_of(&map, "r1").unwrap();
        bind_row(&mut map, "r1", Some(&connect_bot()));
        assert_ne!(trigger_of(&map, "r1"), Some(before.clone()));
        assert_eq!(restore_row(&mut map, "r1", &before), Some(1));
        assert_eq!(map, registration(), "the planned alias and the scenario are back");
        assert_eq!(trigger_of(&map, "r3"), Some(Value::Null));
        assert_eq!(trigger_of(&map, "r9"), None);
    }

    #[test]
    fn a_row_deleted_since_the_loop_was_drawn_changes_nothing() {
        let mut map = registration();
        assert_eq!(bind_row(&mut map, "r9", Some(&connect_bot())), None);
        assert_eq!(map, registration());
        let mut cjm = json!({"stages": [{"id": "r1"}]});
        assert_eq!(bind_row(&mut cjm, "r1", None), None);
        assert_eq!(bind_row(&mut Value::Null, "r1", None), None);
    }

    #[test]
    fn an_item_deleted_comes_back_at_its_place_and_a_new_row_goes_last() {
        let mut map = registration();
        let r2 = item_of(&map, "rows", "r2").unwrap();
        assert_eq!(r2.0, 1);
        assert_eq!(put_item(&mut map, "rows", "r2", None), Some(()));
        assert_eq!(item_of(&map, "rows", "r2"), None);
        assert_eq!(map["rows"].as_array().unwrap().len(), 2);
        // Put back where it was, as it was: the map is as before.
        put_item(&mut map, "rows", "r2", Some(&r2));
        assert_eq!(map, registration());
        // A place past the end (rows deleted meanwhile) is last.
        put_item(&mut map, "rows", "r2", Some(&(9, r2.1.clone())));
        assert_eq!(item_of(&map, "rows", "r2").unwrap().0, 2);
        // No such list: nothing changes.
        let mut cjm = json!({"stages": [{"id": "s1"}]});
        assert_eq!(put_item(&mut cjm, "rows", "s1", None), None);
        assert_eq!(cjm, json!({"stages": [{"id": "s1"}]}));

        let stage = RowFor::Stage { map: "map_cjm".into(), item: "registration".into() };
        let (place, row) = new_row_for(&registration(), &stage, " Заказ оплачен ").unwrap();
        assert_eq!(place, 3);
        assert_eq!(row["number"], 8, "after the highest number");
        assert_eq!(row["event"], "Заказ оплачен");
        assert_eq!(row["stages"], json!([{"map": "map_cjm", "item": "registration"}]));
        let id = row["id"].as_str().unwrap();
        assert!(!["r1", "r2", "r3"].contains(&id), "a fresh id, not {id}");
        assert_eq!(row.get("trigger"), None, "no endpoint yet");
        assert_eq!(new_row_for(&cjm, &stage, "x"), None, "a CJM has no rows");
        // For an endpoint: its trigger calls it, and no stage is named.
        let (place, row) = new_row_for(&registration(), &RowFor::Endpoint(connect_bot()), "Installer registered").unwrap();
        assert_eq!((place, row["number"].as_i64()), (3, Some(8)));
        assert_eq!((row["trigger"]["bot_id"].as_str(), row["trigger"]["alias"].as_str()), (Some("bot_rehau"), Some("users/connect-bot")));
        assert_eq!(row["trigger"]["scenario"], connect_bot().scenario.as_str());
        assert_eq!(row.get("stages"), None);
    }

    #[test]
    fn a_new_stage_goes_right_after_the_one_asked_for_named_by_its_kinds_field() {
        let cjm = json!({"stages": [{"id": "awareness", "stage": "Awareness"}, {"id": "registration", "stage": "Registration"}]});
        let (place, stage) = new_stage_after(&cjm, MapKind::Cjm, "awareness", " Trial ").unwrap();
        assert_eq!(place, 1, "between the two");
        assert_eq!(stage["stage"], "Trial");
        let id = stage["id"].as_str().unwrap();
        assert!(!["awareness", "registration"].contains(&id), "a fresh id, not {id}");
        assert_eq!(new_stage_after(&cjm, MapKind::Cjm, "registration", "Use").unwrap().0, 2, "after the last: last");
        let blueprint = json!({"stages": [{"id": "s1", "name": "Use"}]});
        let (place, stage) = new_stage_after(&blueprint, MapKind::Blueprint, "s1", "Warranty").unwrap();
        assert_eq!((place, stage["name"].as_str()), (1, Some("Warranty")));
        // A stage deleted takes its crossings along; put back, they are
        // where they were.
        let drawn = json!({"stages": [{"id": "s1"}, {"id": "s2"}], "crossings": [
            {"id": "c1", "stage": "s1", "line": "interaction"}, {"id": "c2", "stage": "s2", "line": "visibility"}, {"id": "c3", "stage": "s1", "line": "visibility"}]});
        let mut deleted = drawn.clone();
        let taken = take_crossings(&mut deleted, "s1");
        assert_eq!(taken.iter().map(|(place, c)| (*place, c["id"].as_str().unwrap())).collect::<Vec<_>>(), vec![(0, "c1"), (2, "c3")]);
        assert_eq!(deleted["crossings"], json!([{"id": "c2", "stage": "s2", "line": "visibility"}]));
        put_crossings(&mut deleted, &taken);
        assert_eq!(deleted, drawn);
        // An id taken meanwhile: the one put back gets a free one.
        let mut redrawn = json!({"stages": [{"id": "s2"}], "crossings": [{"id": "c1", "stage": "s2", "line": "interaction"}]});
        put_crossings(&mut redrawn, &taken);
        let ids: Vec<&str> = redrawn["crossings"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec!["c1-2", "c1", "c3"]);
        assert!(take_crossings(&mut blueprint.clone(), "s1").is_empty());
        // A stage deleted since the loop was drawn, or a map without stages.
        assert_eq!(new_stage_after(&cjm, MapKind::Cjm, "gone", "x"), None);
        assert_eq!(new_stage_after(&registration(), MapKind::Communication, "r1", "x"), None);
        // The first of a map that has none; not a "first" of one that has.
        let (place, stage) = new_stage_after(&json!({"stages": [], "crossings": []}), MapKind::Blueprint, "", "Search").unwrap();
        assert_eq!((place, stage["name"].as_str()), (0, Some("Search")));
        assert!(stage["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert_eq!(new_stage_after(&cjm, MapKind::Cjm, "", "x"), None);
        assert_eq!(new_stage_after(&json!({}), MapKind::Cjm, "", "x"), None);
    }

    #[test]
    fn an_endpoints_integration_point_says_what_the_endpoint_does_last_in_the_table() {
        let table = json!({"rows": [{"id": "point-1", "alias": "users/connect-bot"}]});
        let of = PointOf {
            bot: "bot_rehau".into(),
            alias: "users/warranty".into(),
            description: "Гарантия на монтаж".into(),
            fields: vec!["userId".into(), "orderId".into()],
            response: "{ success: true }".into(),
            owner: "REHAU portal".into(),
        };
        let (was, (place, row)) = new_point_for(&table, &of).unwrap();
        assert_eq!((was, place), (None, 1));
        assert_ne!(row["id"], "point-1");
        let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
        assert_eq!(
            ["alias", "bot_id", "method", "url", "description", "request", "response", "owner"].map(text),
            ["users/warranty", "bot_rehau", "POST", "/bots/{botId}/call/users/warranty", "Гарантия на монтаж", "{ userId, orderId }", "{ success: true }", "REHAU portal"].map(String::from)
        );
        assert_eq!(item_label(&row), "Гарантия на монтаж");
        // No fields: no request text; no description: named by its alias.
        let bare = PointOf { fields: vec![], description: String::new(), ..of.clone() };
        let (_, (_, row)) = new_point_for(&table, &bare).unwrap();
        assert_eq!((row["request"].as_str(), item_label(&row)), (Some(""), "users/warranty".to_string()));
        assert_eq!(new_point_for(&json!({"stages": []}), &bare), None);
        // A row planned for its alias (no bot yet) is bound and filled
        // where empty, in its place: what the analyst wrote stays.
        let planned = json!({"rows": [{"id": "p1", "alias": "users/warranty", "description": "Гарантия", "owner": ""}, {"id": "p2"}]});
        let (was, (place, row)) = new_point_for(&planned, &of).unwrap();
        assert_eq!(was, Some((0, planned["rows"][0].clone())));
        assert_eq!((place, row["id"].as_str(), row["bot_id"].as_str()), (0, Some("p1"), Some("bot_rehau")));
        assert_eq!((row["description"].as_str(), row["owner"].as_str()), (Some("Гарантия"), Some("REHAU portal")));
        // A request of very many long fields is cut to a cell's length.
        let many = PointOf { fields: (0..100).map(|i| format!("field_{i}_{}", "x".repeat(54))).collect(), ..of.clone() };
        let (_, (_, row)) = new_point_for(&table, &many).unwrap();
        let request = row["request"].as_str().unwrap();
        assert!(request.len() <= comops_core::map::limits::MAX_CELL && request.ends_with(", … }"), "{}", request.len());
    }

    #[test]
    fn an_endpoints_scenario_is_noted_in_both_languages() {
        assert_eq!(scenario_note(Locale::En, "feedback/received", "feedback_flow"), "loop: feedback/received → scenario «feedback_flow»");
        assert_eq!(scenario_note(Locale::Ru, "feedback/received", "feedback_flow"), "петля: feedback/received → сценарий «feedback_flow»");
        assert_eq!(scenario_note(Locale::En, "feedback/received", ""), "loop: feedback/received starts no scenario");
        assert_eq!(scenario_note(Locale::Ru, "feedback/received", ""), "петля: feedback/received не запускает сценарий");
    }

    #[test]
    fn a_row_is_linked_to_a_stage_or_cell_once_and_unlinked_from_it() {
        let mut map = registration();
        map["rows"][0]["stages"] = json!([{"map": "map_cjm", "item": "awareness"}]);
        assert_eq!(names(&map, "r1", RefList::Stages, "map_cjm", "registration"), Some(false));
        assert_eq!(link(&mut map, "r1", RefList::Stages, "map_cjm", "registration", true, None), Some((1, None)));
        assert_eq!(map["rows"][0]["stages"], json!([{"map": "map_cjm", "item": "awareness"}, {"map": "map_cjm", "item": "registration"}]));
        assert_eq!(names(&map, "r1", RefList::Stages, "map_cjm", "registration"), Some(true));
        // Twice is once; the same item of another map is another stage.
        link(&mut map, "r1", RefList::Stages, "map_cjm", "registration", true, None);
        assert_eq!(map["rows"][0]["stages"].as_array().unwrap().len(), 2);
        assert_eq!(names(&map, "r1", RefList::Stages, "map_other", "registration"), Some(false));
        // Unlinked: the other stage stays, and where it was is said…
        assert_eq!(link(&mut map, "r1", RefList::Stages, "map_cjm", "awareness", false, None), Some((1, Some(0))));
        assert_eq!(map["rows"][0]["stages"], json!([{"map": "map_cjm", "item": "registration"}]));
        // …so that an undo puts it back there.
        link(&mut map, "r1", RefList::Stages, "map_cjm", "awareness", true, Some(0));
        assert_eq!(map["rows"][0]["stages"], json!([{"map": "map_cjm", "item": "awareness"}, {"map": "map_cjm", "item": "registration"}]));
        // A row without stages gets the list; a row that is gone changes nothing.
        assert_eq!(link(&mut map, "r3", RefList::Stages, "map_cjm", "registration", true, Some(5)), Some((3, None)));
        assert_eq!(map["rows"][2]["stages"], json!([{"map": "map_cjm", "item": "registration"}]));
        let before = map.clone();
        assert_eq!(link(&mut map, "r9", RefList::Stages, "map_cjm", "registration", true, None), None);
        assert_eq!(names(&map, "r9", RefList::Stages, "map_cjm", "registration"), None);
        assert_eq!(map, before);
        assert_eq!(link_note(Locale::En, 3, RefList::Stages, "Registration", true), "loop: row 3 ↔ stage «Registration»");
        assert_eq!(link_note(Locale::Ru, 3, RefList::Stages, "Регистрация", false), "петля: строка 3 отвязана от этапа «Регистрация»");
        // A blueprint cell goes in the row's cells, beside its stages.
        assert_eq!(link(&mut map, "r1", RefList::Cells, "map_bp", "registration:support", true, None), Some((1, None)));
        assert_eq!(map["rows"][0]["cells"], json!([{"map": "map_bp", "item": "registration:support"}]));
        assert_eq!(names(&map, "r1", RefList::Cells, "map_bp", "registration:support"), Some(true));
        assert_eq!(names(&map, "r1", RefList::Stages, "map_bp", "registration:support"), Some(false));
        assert_eq!(map["rows"][0]["stages"].as_array().unwrap().len(), 2);
        assert_eq!(link_note(Locale::En, 1, RefList::Cells, "CRM", true), "loop: row 1 ↔ blueprint cell «CRM»");
        assert_eq!(link_note(Locale::Ru, 1, RefList::Cells, "CRM", false), "петля: строка 1 отвязана от ячейки блюпринта «CRM»");
    }

    #[test]
    fn an_item_is_named_by_its_text_else_its_number_or_id() {
        assert_eq!(item_label(&json!({"id": "r1", "number": 4, "event": " Оплата "})), "Оплата");
        assert_eq!(item_label(&json!({"id": "s1", "stage": "Регистрация"})), "Регистрация");
        assert_eq!(item_label(&json!({"id": "b1", "name": "Support"})), "Support");
        assert_eq!(item_label(&json!({"id": "p1", "description": "CRM → бот"})), "CRM → бот");
        assert_eq!(item_label(&json!({"id": "r9", "number": 9, "event": ""})), "9");
        assert_eq!(item_label(&json!({"id": "point-2"})), "point-2");
        assert_eq!(item_note(Locale::En, "Оплата", ItemDone::of(false, true)), "loop: «Оплата» added");
        assert_eq!(item_note(Locale::Ru, "Оплата", ItemDone::of(true, false)), "петля: удалён элемент «Оплата»");
        assert_eq!(item_note(Locale::En, "Оплата", ItemDone::of(true, true)), "loop: «Оплата» changed");
        assert_eq!(item_note(Locale::Ru, "Оплата", ItemDone::Changed), "петля: изменён элемент «Оплата»");
    }

    #[test]
    fn the_note_says_what_the_loop_did_in_both_languages() {
        assert_eq!(note(Locale::En, 3, Some(&connect_bot()), ""), "loop: row 3 → users/connect-bot");
        assert_eq!(note(Locale::Ru, 3, Some(&connect_bot()), ""), "петля: строка 3 → users/connect-bot");
        assert_eq!(note(Locale::En, 12, None, "order/status"), "loop: row 12 unbound from order/status");
        assert_eq!(note(Locale::Ru, 12, None, "order/status"), "петля: строка 12 отвязана от order/status");
    }
}
