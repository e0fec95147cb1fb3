//! The ComOps loop view (`/maps/loop?project=…`, SPEC §6): a project's
//! CJM stages, communication rows, blueprint stages and cells,
//! integration points, endpoints and scenarios on one SVG canvas, in
//! columns (`loop_model`), with every stored link.
//!
//! Selecting a node (click, or the arrow keys on the focused canvas)
//! lights up its chain — everything upstream and downstream of it — and
//! opens a side panel with its details, its links (each selects that
//! node: the loop is navigable both ways) and where to open it: the map
//! editor at that row, the endpoint, its docs and traces, the scenario
//! editor. Enter opens, Escape clears, double-click opens. Gaps are marked
//! on their nodes and counted at the top; a count cycles through its nodes.
//! Every endpoint of the project is drawn, also those no map uses yet (a
//! gap, and a place to drop a row on). "Runs" (or R) lays the trace
//! overlay over the nodes: each endpoint's calls and errors, each
//! scenario's runs done, waiting and failed or stopped, over a period.
//!
//! Whoever may bind rows to endpoints (architects, admins: the server's
//! `save_map` decides, `DesignIntegrations`) edits the loop here: a
//! communication row dragged onto an endpoint (by its body or its ●
//! port) binds the row's API trigger to it, dragged onto a CJM stage or
//! a blueprint cell links the row to it; a row's link (its binding, a
//! stage or a cell), selected, goes with Delete/Backspace or the panel's button; the row's
//! panel also binds by picking from every endpoint of the project, and
//! links and unlinks its CJM stages and blueprint cells. Escape cancels a
//! drag. A CJM stage's panel adds a communication row for it, an
//! endpoint's panel one calling it (the map and the event); a CJM or
//! blueprint stage's panel adds a stage after it (a form above the
//! canvas, the first of a map that has none); an endpoint's panel
//! adds its row to an integration-points table (when none has one) and
//! picks the scenario it starts (a version of the endpoint); an endpoint
//! rows are bound to that no bot has is created from its panel as the
//! maps plan it (`api::endpoints::create_planned_endpoint`); and a
//! selected CJM or blueprint stage (with the crossings drawn at it) or a
//! row goes from its map with Delete or its panel's button. A stage
//! takes along the links the project's other blueprints and
//! communication maps hold to it or its cells (`loop_edit::cut_links`),
//! each such map a version with its own note, all saved in one commit
//! with the stage's (`api::maps::save_map_set`); its undo puts them back
//! where they were. Each other change
//! is one save of the item's map at the version the loop was drawn from
//! (`loop_edit`) — an endpoint's
//! scenario one of the endpoint, if it still starts the one drawn; a
//! created endpoint's undo deletes it only at the version it was made
//! as, and not once it has been called — so a loop drawn before someone
//! else's save gets the conflict, not an overwrite; then the loop is read
//! again, keeping the zoom, pan and selection (a new row or stage
//! selected). Undo (the button, Ctrl+Z) saves the change that takes the
//! last one back, Redo (Ctrl+Shift+Z) the one that makes it again, each
//! on the item's map (or the endpoint) as drawn; a gesture clears
//! Redo, a conflict the saved changes of both, and one that cannot be
//! saved (its item gone, nothing to change, or refused by the map's
//! checks or the role) is said once and dropped.
//! Everyone else reads it only.
//!
//! Anyone may move a node by hand (Shift+drag; Escape puts it back): the
//! positions are this browser's (`localStorage`, per project), never the
//! maps'; "Auto-layout" or L puts every node back in its column. Several
//! nodes are picked with Ctrl+click or a rubber band (Shift+drag on empty
//! space), and Shift+drag on one of them moves them together. A move (and
//! an auto-layout) is a step of Undo and Redo like a change saved to a
//! map, for everyone.
//!
//! Cheap on a few hundred nodes: nodes and links are rendered once; a
//! node's place is one signal (its links' paths follow it), and a
//! selection or a drag only re-evaluates each one's class from one memo.
//! Zoom and pan move a single transform (`components::canvas::viewport`
//! does the arithmetic).
//!
//! One job per file:
//! - this file: the page — reading the loop, saving a change
//!   (`save_change`: a binding, a row's stage or cell link, an item
//!   deleted or put back, a new row, stage or integration point; an
//!   endpoint's scenario, a planned
//!   endpoint created or deleted again)
//!   and the banner that says how it went;
//! - [`canvas`]: the canvas's shared state ([`canvas::Canvas`]), the
//!   toolbar, gap counts, first-stage forms, legend, links and column
//!   titles;
//! - [`node`]: one node's drawing (outline, label, gap mark, port, drop ring);
//! - [`gestures`]: what the pointer and the keys do (select, pan, zoom,
//!   drag a row to bind it, Shift+drag to move a node or the picked ones,
//!   Ctrl+click and the rubber band to pick, arrows, Delete);
//! - [`spots`]: where each node is, and the hand-moved places kept in
//!   this browser;
//! - [`panels`]: the side panels of the selected node or link;
//! - [`overlay`]: the trace overlay ("Runs", R): calls and errors on the
//!   endpoints, runs done, waiting and failed on the scenarios.

mod canvas;
mod gestures;
mod node;
mod overlay;
mod panels;
mod spots;

use super::link_cascade;
use super::loop_edit::{self, Placed, RefList, RowFor};
use super::loop_model::{parse_loop_page, LinkName, LoopGraph};
use crate::api::maps::{list_maps, load_map, map_endpoints, project_loop, save_map, save_map_set, BindableEndpoint, LoadedMap, MapPart, MapSaveOutcome};
use crate::api::endpoints::{create_planned_endpoint, delete_endpoint_at, list_endpoints, set_endpoint_scenario, EndpointStep};
use crate::api::projects::list_projects;
use crate::components::form::can;
use crate::components::{l, load_error, loading};
use crate::error::AppError;
use crate::i18n::{problem_text, t, t1, use_locale, K};
use canvas::LoopCanvas;
use comops_core::map::MapKind;
use comops_core::{Locale, Permission};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

const BUTTON: &str = "rounded border border-slate-300 bg-white px-2 py-0.5 text-xs hover:bg-slate-100";
const LINK: &str = "text-sky-800 hover:underline";

/// A change of one row's binding asked for on the canvas.
#[derive(Debug, Clone, PartialEq)]
struct Rebind {
    /// The row's map and the version the loop was drawn from.
    map: String,
    base: i64,
    /// The row's id in its map.
    row: String,
    /// The endpoint to bind to; `None` unbinds.
    endpoint: Option<BindableEndpoint>,
    /// The alias it is bound to now (the note of an unbinding), and its
    /// bot (empty when unbound): what an undo binds back.
    was: String,
    was_bot: String,
    /// An undo or redo: the row's trigger written back as it was (the
    /// planned alias and scenario too; `endpoint` then only names it)…
    restore: Option<Value>,
    /// …if the row's trigger is still what the change it takes back left;
    /// else someone changed the row since: a conflict, nothing saved.
    expect: Option<Value>,
}

impl Rebind {
    /// The change that takes this one back, the row's trigger having
    /// been `before` and become `after` (`endpoints`: the project's, to
    /// name what `before` was bound to). Its base is set once the save
    /// says which version it made (`MapChange::set_base`), as for every
    /// change's undo.
    fn undone(&self, before: Value, after: Value, endpoints: &[BindableEndpoint]) -> Rebind {
        let endpoint = endpoints.iter().find(|e| e.bot_id == self.was_bot && e.alias == self.was).cloned();
        let (was, was_bot) = self.endpoint.as_ref().map(|e| (e.alias.clone(), e.bot_id.clone())).unwrap_or_default();
        Rebind { map: self.map.clone(), base: self.base, row: self.row.clone(), endpoint, was, was_bot, restore: Some(before), expect: Some(after) }
    }
}

/// Where a node is drawn: moved by hand to a place, or (`None`) where
/// the layout puts it — which the loop read again may put elsewhere.
type Place = Option<(f64, f64)>;

/// Nodes moved by hand (this browser's places, not the maps'): each
/// node's key, where it was and where it went.
#[derive(Debug, Clone, PartialEq)]
struct Moved(Vec<(String, Place, Place)>);

impl Moved {
    /// The move that puts them back.
    fn undone(&self) -> Moved {
        Moved(self.0.iter().map(|(key, from, to)| (key.clone(), *to, *from)).collect())
    }

    /// Where each node goes.
    fn places(&self) -> Vec<(String, Place)> {
        self.0.iter().map(|(key, _, to)| (key.clone(), *to)).collect()
    }
}

/// A map item deleted on the canvas, or put back (or deleted again) by
/// an undo or redo.
#[derive(Debug, Clone, PartialEq)]
struct ItemPut {
    /// The item's map and the version the loop was drawn from.
    map: String,
    base: i64,
    /// The map's list holding it (`stages`, `rows`) and its id.
    list: &'static str,
    item: String,
    /// Where it goes, as what; `None` deletes it.
    now: Option<Placed>,
    /// An undo or redo: the item as the change it takes back left it
    /// (`None`: absent); else someone changed it since — a conflict,
    /// nothing saved.
    expect: Option<Option<Value>>,
    /// A blueprint stage put back: the crossings drawn at it that went
    /// with it, at their places (a stage deleted takes its own along).
    crossings: Vec<Placed>,
    /// Put back: the links that went with it, to put back with it.
    held: Vec<HeldBy>,
    /// Put back: how many of its own links were left out, naming items
    /// deleted since (said in the note).
    left_out: usize,
}

/// Another map's links to a stage deleted on the loop (or to its cells)
/// that went with it, to put back with it.
#[derive(Debug, Clone, PartialEq)]
struct HeldBy {
    map: String,
    links: Vec<loop_edit::HeldLink>,
}

impl ItemPut {
    /// A put of `now` (`None`: deleting) with nothing to expect or bring back.
    fn new(map: String, base: i64, list: &'static str, item: String, now: Option<Placed>) -> ItemPut {
        ItemPut { map, base, list, item, now, expect: None, crossings: Vec::new(), held: Vec::new(), left_out: 0 }
    }

    /// The put that takes this one back, the item having been `before`
    /// and `crossings` and the links `held` by other maps having gone
    /// with it (none when it was put back).
    fn undone(&self, before: Option<Placed>, crossings: Vec<Placed>, held: Vec<HeldBy>) -> ItemPut {
        let expect = Some(self.now.as_ref().map(|(_, item)| item.clone()));
        ItemPut { now: before, expect, crossings, held, left_out: 0, ..self.clone() }
    }
}

/// A communication row asked for on a CJM stage's or an endpoint's
/// panel: made in the map's version the loop was drawn from, last, for
/// that stage or bound to that endpoint.
#[derive(Debug, Clone, PartialEq)]
struct NewRow {
    map: String,
    base: i64,
    purpose: RowFor,
    event: String,
}

/// A CJM or blueprint stage asked for on a stage's panel, or as the first
/// of a map that has none (the form above the canvas): made in the map's
/// version the loop was drawn from, right after that stage or first.
#[derive(Debug, Clone, PartialEq)]
struct NewStage {
    map: String,
    base: i64,
    /// The stage it follows, by id; empty: the map's first.
    after: String,
    name: String,
}

/// An endpoint's row asked for in an integration-points table, from the
/// endpoint's panel: made last in the table's version the loop was drawn
/// from, saying what the endpoint is (read when it is saved).
#[derive(Debug, Clone, PartialEq)]
struct NewPoint {
    map: String,
    base: i64,
    bot: String,
    alias: String,
}

/// A communication row linked to a CJM stage or a blueprint cell
/// (dropped on it) or unlinked from it (its link removed), or that taken
/// back.
#[derive(Debug, Clone, PartialEq)]
struct RowLink {
    /// The row's map and the version the loop was drawn from; the row's id.
    map: String,
    base: i64,
    row: String,
    /// The row's list the link is in: its stages or its cells.
    list: RefList,
    /// What it names: its map, its id there and its name (for the note).
    to_map: String,
    to: String,
    to_label: LinkName,
    /// Linked (`true`) or unlinked.
    on: bool,
    /// Where in the row's list a link goes (an undone unlinking: where it
    /// was); `None`: last.
    place: Option<usize>,
    /// An undo or redo: whether the row names it as the change it takes
    /// back left it; else someone changed it since — a conflict.
    expect: Option<bool>,
}

impl RowLink {
    /// The change that takes this one back, the link having been at
    /// `was` in the row's list.
    fn undone(&self, was: Option<usize>) -> RowLink {
        RowLink { on: !self.on, place: was, expect: Some(self.on), ..self.clone() }
    }
}

/// An endpoint's scenario set on its panel (`scenario`, empty: none),
/// saved as the endpoint's next version if it still starts `was` (as
/// drawn; an undo: as the change it takes back left it).
#[derive(Debug, Clone, PartialEq)]
struct SetScenario {
    bot: String,
    alias: String,
    scenario: String,
    was: String,
}

impl SetScenario {
    /// The change that takes this one back.
    fn undone(&self) -> SetScenario {
        SetScenario { scenario: self.was.clone(), was: self.scenario.clone(), ..self.clone() }
    }
}

/// The endpoint a project's maps plan but no bot has (a "not live" gap),
/// created on its panel as they plan it (`made`: `None`), or deleted by
/// an undo if it is still the version it was made as and nobody called
/// it (`Some((id, version))`).
#[derive(Debug, Clone, PartialEq)]
struct Planned {
    project: String,
    bot: String,
    alias: String,
    made: Option<(String, i64)>,
}

impl Planned {
    /// The change that takes this one back, the endpoint having been made
    /// as `made` (its id and version) or deleted (`None`).
    fn undone(&self, made: Option<(String, i64)>) -> Planned {
        Planned { made, ..self.clone() }
    }
}

/// Links to items deleted since (the loop's dangling list: a stage a maps
/// import through the admin API dropped, a link saved in the moment its
/// stage went, or a map deleted or saved before saves took links along),
/// taken out of the maps holding them, each
/// map as it is now and a version of its own, in one commit. Not a step
/// of Undo: they named nothing, and a link to nothing is refused when
/// saved again (each map's history keeps the version before).
#[derive(Debug, Clone, Default, PartialEq)]
struct DanglingCut {
    /// The items they name (`map_x#item`), and the maps holding them.
    targets: Vec<String>,
    holders: Vec<String>,
}

/// Why a change was not saved, besides what the save answered.
#[derive(Debug)]
enum Unsaved {
    /// The row or item is not in the version the loop was drawn from.
    Gone,
    /// The map already says what the change would make it say.
    Unchanged,
    /// Refused for a reason said in these words (an endpoint made on the
    /// loop and called since, which an undo leaves; a bot not the
    /// project's): trying again would not help.
    Said(String),
    Failed(AppError),
}

/// A change the canvas asks for: saved as a version of one map, or of
/// one endpoint (its scenario; the endpoint the maps plan, created or
/// deleted again).
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Map(MapChange),
    Scenario(SetScenario),
    Planned(Planned),
    Dangling(DanglingCut),
}

/// A change saved as a version of one map, at the version the loop was
/// drawn from (`base`).
#[derive(Debug, Clone, PartialEq)]
enum MapChange {
    Binding(Rebind),
    RowLink(RowLink),
    Item(ItemPut),
    NewRow(NewRow),
    NewStage(NewStage),
    NewPoint(NewPoint),
}

impl MapChange {
    fn map(&self) -> &str {
        match self {
            MapChange::Binding(c) => &c.map,
            MapChange::RowLink(c) => &c.map,
            MapChange::Item(c) => &c.map,
            MapChange::NewRow(c) => &c.map,
            MapChange::NewStage(c) => &c.map,
            MapChange::NewPoint(c) => &c.map,
        }
    }

    /// The map version it is saved at.
    fn base(&self) -> i64 {
        match self {
            MapChange::Binding(c) => c.base,
            MapChange::RowLink(c) => c.base,
            MapChange::Item(c) => c.base,
            MapChange::NewRow(c) => c.base,
            MapChange::NewStage(c) => c.base,
            MapChange::NewPoint(c) => c.base,
        }
    }

    /// Saves it at map version `base` (an undo, on the map as now drawn).
    fn set_base(&mut self, base: i64) {
        match self {
            MapChange::Binding(c) => c.base = base,
            MapChange::RowLink(c) => c.base = base,
            MapChange::Item(c) => c.base = base,
            MapChange::NewRow(c) => c.base = base,
            MapChange::NewStage(c) => c.base = base,
            MapChange::NewPoint(c) => c.base = base,
        }
    }
}

/// A step on the Undo or Redo stack, kept as the change that takes back
/// (or makes again) what was done: a change saved as a version of its
/// map (or endpoint), or nodes moved by hand.
#[derive(Debug, Clone, PartialEq)]
enum UndoStep {
    Saved(Change),
    Moved(Moved),
}

/// Where a change comes from: a gesture, or Ctrl+Z / Ctrl+Shift+Z.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    New,
    Undo,
    Redo,
}

/// What the last change saved (to a map or an endpoint) came to, for the
/// banner.
#[derive(Debug, Clone, PartialEq)]
enum SaveStatus {
    None,
    /// `said`: the banner's words (a save's, or a deletion's); `open`:
    /// where to open what was saved, and the link's words.
    Saved { title: String, version: i64, note: String, said: K, open: (String, K) },
    Conflict { current: i64, author: String },
    Problem(String),
}

/// What survives the loop being read again after a save: the view, the
/// selected node and the trace overlay's period (when it is on), for the
/// project they belong to.
#[derive(Debug, Clone, Default)]
struct Kept {
    project: String,
    view: Option<((f64, f64), f64)>,
    select: Option<String>,
    runs: Option<u32>,
}

/// `/maps/loop`, `?project=…` (else the first project).
#[component]
pub fn LoopViewPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let project_param = move || query.with(|q| q.get("project").unwrap_or_default());
    // Bumped to read the loop again (after a save, or to resolve a conflict).
    let reload = RwSignal::new(0u32);
    let page = Resource::new(
        move || (project_param(), reload.get()),
        |(wanted, _)| async move {
            let projects = list_projects().await?;
            let Some(project) = projects.iter().find(|p| p.id.to_string() == wanted).or(projects.first()).map(|p| p.id.to_string()) else {
                return Ok(None);
            };
            // The maps' versions before the loop: a save in between makes
            // a change's base older than what is drawn — a conflict, never
            // a save over content nobody saw.
            let maps = list_maps(project.clone()).await?;
            let view = project_loop(project.clone()).await?;
            let endpoints = map_endpoints(project.clone()).await?;
            Ok::<_, AppError>(Some((project, view, endpoints, maps)))
        },
    );
    let editable = can(Permission::DesignIntegrations);
    let status = RwSignal::new(SaveStatus::None);
    let kept = StoredValue::new(Kept::default());
    // The changes that take back the saved ones (newest last), and those
    // that make again what was taken back; a gesture clears the latter.
    let undo = RwSignal::new(Vec::<UndoStep>::new());
    let redo = RwSignal::new(Vec::<UndoStep>::new());
    // Places the canvas puts nodes at (an undone or redone move).
    let put = RwSignal::new(None::<Vec<(String, Place)>>);
    let endpoints_now = move || page.get_untracked().and_then(Result::ok).flatten().map(|(_, _, endpoints, _)| endpoints).unwrap_or_default();
    let save = Action::new(move |(change, step): &(Change, Step)| {
        let (change, step, loc) = (change.clone(), *step, locale.get_untracked());
        let endpoints = endpoints_now();
        async move {
            let answer = save_change(change.clone(), loc, &endpoints).await;
            // The page may have gone meanwhile.
            if status.is_disposed() {
                return;
            }
            // An undo or redo whose item or map is gone, or which the map
            // or the role refuses, would fail again: said once, then dropped.
            let hopeless = matches!(
                answer,
                Err(Unsaved::Gone | Unsaved::Unchanged | Unsaved::Said(_) | Unsaved::Failed(AppError::NotFound | AppError::Forbidden | AppError::Invalid(_))) | Ok(SaveAnswer { outcome: MapSaveOutcome::Invalid { .. } | MapSaveOutcome::BadCsv { .. }, .. })
            );
            let mut undone = None;
            let next = match answer {
                Ok(SaveAnswer { title, note, outcome: MapSaveOutcome::Saved { version, .. }, undo, select, said, open }) => {
                    kept.update_value(|k| k.select = Some(select));
                    undone = undo;
                    SaveStatus::Saved { title, version, note, said, open }
                }
                Ok(SaveAnswer { outcome: MapSaveOutcome::Conflict { current, author }, .. }) => SaveStatus::Conflict { current, author },
                Ok(SaveAnswer { outcome: MapSaveOutcome::Invalid { errors }, .. }) => {
                    SaveStatus::Problem(errors.iter().map(|e| format!("{}: {}", e.field, problem_text(loc, &e.problem))).collect::<Vec<_>>().join("; "))
                }
                Ok(SaveAnswer { outcome: MapSaveOutcome::BadCsv { message, .. }, .. }) => SaveStatus::Problem(message),
                Err(Unsaved::Gone) => SaveStatus::Problem(t(loc, K::LoopRowGone).into()),
                Err(Unsaved::Unchanged) => SaveStatus::Problem(t(loc, K::LoopUnchanged).into()),
                Err(Unsaved::Said(words)) => SaveStatus::Problem(words),
                Err(Unsaved::Failed(err)) => SaveStatus::Problem(err.message(loc)),
            };
            let saved = matches!(next, SaveStatus::Saved { .. });
            let (to, from) = if step == Step::Undo { (redo, undo) } else { (undo, redo) };
            match (&next, undone) {
                (SaveStatus::Saved { .. }, Some(undone)) => {
                    to.update(|list| list.push(UndoStep::Saved(undone)));
                    if step == Step::New {
                        from.update(Vec::clear);
                    }
                }
                // A change that is no step of Undo (links to nothing taken
                // out) still ends what Redo could make again.
                (SaveStatus::Saved { .. }, None) if step == Step::New => from.update(Vec::clear),
                // Read again, the loop's versions have moved on (or the
                // item was changed by someone): the changes kept would
                // conflict (moves by hand stay).
                (SaveStatus::Conflict { .. }, _) => {
                    undo.update(|list| list.retain(|edit| matches!(edit, UndoStep::Moved(_))));
                    redo.update(|list| list.retain(|edit| matches!(edit, UndoStep::Moved(_))));
                }
                // Not saved: an undo or redo stays to be tried again
                // (the database was out of reach), unless it is hopeless.
                _ if step != Step::New && !hopeless => from.update(|list| list.push(UndoStep::Saved(change.clone()))),
                _ => {}
            }
            status.set(next);
            if saved {
                reload.update(|r| *r += 1);
            }
        }
    });
    let saving = save.pending();
    // A reload (after a save, or the conflict's "reload") keeps the old
    // drawing until the new one is in; no edit may start on the old one
    // meanwhile: its drop would be lost when the new drawing replaces it.
    // In the browser only: on the server the Transition's pending state
    // can still be set when the canvas is rendered, and hydration would
    // keep that stale `aria-busy`.
    let reloading = RwSignal::new(false);
    let busy = Signal::derive(move || saving.get() || (cfg!(feature = "hydrate") && reloading.get()));
    let on_change = Callback::new(move |change: Change| {
        if !busy.get_untracked() {
            save.dispatch((change, Step::New));
        }
    });
    // Nodes moved by hand: one step to take back.
    let on_moved = Callback::new(move |moved: Moved| {
        undo.update(|list| list.push(UndoStep::Moved(moved.undone())));
        redo.update(Vec::clear);
    });
    // Takes back the last change (`false`) or makes again the last one
    // taken back (`true`): a change on its map as now drawn, a move at
    // once.
    let on_history = Callback::new(move |again: bool| {
        if busy.get_untracked() {
            return;
        }
        let (list, other, step) = if again { (redo, undo, Step::Redo) } else { (undo, redo, Step::Undo) };
        match list.try_update(Vec::pop).flatten() {
            Some(UndoStep::Moved(moved)) => {
                put.set(Some(moved.places()));
                other.update(|list| list.push(UndoStep::Moved(moved.undone())));
            }
            Some(UndoStep::Saved(mut change)) => {
                if let Change::Map(change) = &mut change {
                    let drawn = page.get_untracked().and_then(Result::ok).flatten().and_then(|(_, _, _, maps)| maps.iter().find(|m| m.id == change.map()).map(|m| m.version));
                    if let Some(drawn) = drawn {
                        change.set_base(drawn);
                    }
                }
                save.dispatch((change, step));
            }
            None => {}
        }
    });
    // Everyone may move nodes, so everyone may take a move back.
    let history_buttons = move || {
        Some(view! {
            <div class="flex gap-1" role="group">
                <button type="button" class=BUTTON data-testid="loop-undo" title=l(K::LoopUndoHint)
                    disabled=move || busy.get() || undo.with(Vec::is_empty) on:click=move |_| on_history.run(false)>{l(K::LoopUndo)}</button>
                <button type="button" class=BUTTON data-testid="loop-redo" title=l(K::LoopRedoHint)
                    disabled=move || busy.get() || redo.with(Vec::is_empty) on:click=move |_| on_history.run(true)>{l(K::LoopRedo)}</button>
            </div>
        })
    };
    let banner = move || {
        let loc = locale.get();
        if saving.get() {
            return view! { <p class="mb-2 text-sm text-slate-600" role="status" data-testid="loop-saving">{t(loc, K::LoopSaving)}</p> }.into_any();
        }
        match status.get() {
            SaveStatus::None => ().into_any(),
            SaveStatus::Saved { title, version, note, said, open: (href, words) } => {
                let text = t(loc, said).replacen("{}", &format!("«{title}»"), 1).replacen("{}", &version.to_string(), 1);
                view! {
                    <p class="mb-2 text-sm text-emerald-700" role="status" data-testid="loop-saved" data-version=version>
                        {text}" "<span data-testid="loop-saved-note">{note}</span>" · "
                        <a class=LINK href=href>{t(loc, words)}</a>
                    </p>
                }
                .into_any()
            }
            SaveStatus::Conflict { current, author } => view! {
                <div role="alert" class="mb-2 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="loop-conflict">
                    <p>{t1(loc, K::LoopConflict, author)}" "{t1(loc, K::MapConflictCurrent, current)}</p>
                    <button type="button" class=format!("{BUTTON} mt-2") data-testid="loop-conflict-reload"
                        on:click=move |_| { status.set(SaveStatus::None); reload.update(|r| *r += 1); }>{t(loc, K::LoopReload)}</button>
                </div>
            }
            .into_any(),
            SaveStatus::Problem(message) => view! {
                <p role="alert" class="mb-2 rounded border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800" data-testid="loop-save-error">{message}</p>
            }
            .into_any(),
        }
    };
    view! {
        <div class="mb-3 flex flex-wrap items-start justify-between gap-4">
            <div>
                <h1 class="text-xl font-semibold" data-testid="loop-title">{l(K::LoopTitle)}</h1>
                <p class="text-slate-600">{l(K::LoopIntro)}</p>
                {editable.then(|| view! { <p class="text-sm text-slate-600" data-testid="loop-edit-hint">{l(K::LoopEditHint)}</p> })}
            </div>
            <div class="flex items-center gap-2">
                {history_buttons}
                <a class=BUTTON href=move || format!("/maps?project={}", project_param()) data-testid="loop-back">{l(K::LoopBack)}</a>
            </div>
        </div>
        {banner}
        <Transition fallback=loading set_pending=reloading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some((project, text, endpoints, maps))) => {
                        let graph = LoopGraph::build(&parse_loop_page(&text), &endpoints);
                        if kept.with_value(|k| k.project != project) {
                            kept.set_value(Kept { project, ..Default::default() });
                        }
                        if graph.nodes.is_empty() {
                            // A new project's empty CJM still asks for its first stage.
                            let first = editable.then(|| canvas::first_stages(&maps, busy, on_change));
                            view! { {first} <p class="text-slate-500" data-testid="loop-empty">{l(K::LoopEmpty)}</p> }.into_any()
                        } else {
                            view! { <LoopCanvas graph maps endpoints editable busy on_change on_history on_moved put kept/> }.into_any()
                        }
                    }
                    Ok(None) => view! { <p class="text-slate-500" data-testid="loop-empty">{l(K::LoopEmpty)}</p> }.into_any(),
                    Err(err) => load_error(err, locale.get_untracked()),
                }
            })}
        </Transition>
    }
}

/// A change saved, or not: the map's title (an endpoint's alias), the
/// version note and the outcome; once saved, the change that takes it
/// back and the node to select in the loop read again.
struct SaveAnswer {
    title: String,
    note: String,
    outcome: MapSaveOutcome,
    undo: Option<Change>,
    select: String,
    /// The banner's words: saved as a version, or (an undone creation)
    /// deleted.
    said: K,
    /// Where to open what was saved, and the link's words.
    open: (String, K),
}

impl SaveAnswer {
    /// An undo or redo refused before saving: the item is not what the
    /// change it takes back left — someone changed it since.
    fn conflict(loaded: &LoadedMap) -> SaveAnswer {
        let outcome = MapSaveOutcome::Conflict { current: loaded.current, author: loaded.author.clone() };
        SaveAnswer { title: loaded.title.clone(), note: String::new(), outcome, undo: None, select: String::new(), said: K::LoopSaved, open: (String::new(), K::LoopOpenItem) }
    }
}

/// The version a save made, if it did.
fn saved_as(outcome: &MapSaveOutcome) -> Option<i64> {
    match outcome {
        MapSaveOutcome::Saved { version, .. } => Some(*version),
        _ => None,
    }
}

/// Saves one change: to its map ([`save_to_map`]) or its endpoint
/// ([`save_scenario`], [`save_planned`]).
async fn save_change(change: Change, locale: Locale, endpoints: &[BindableEndpoint]) -> Result<SaveAnswer, Unsaved> {
    match change {
        Change::Map(change) => save_to_map(change, locale, endpoints).await,
        Change::Scenario(set) => save_scenario(set, locale).await,
        Change::Planned(planned) => save_planned(planned, locale).await,
        Change::Dangling(cut) => save_dangling_cut(cut, locale).await,
    }
}

/// Takes the links to items deleted since out of the maps holding them
/// ([`DanglingCut`]), each map as it is now, and only links to what is
/// still missing (an item restored since keeps its links); the banner
/// names the first map, how many went in all and the others' new
/// versions.
async fn save_dangling_cut(cut: DanglingCut, locale: Locale) -> Result<SaveAnswer, Unsaved> {
    let mut holders = Vec::new();
    for holder in &cut.holders {
        if let Some(now) = link_cascade::map_now(holder).await.map_err(Unsaved::Failed)? {
            holders.push(now);
        }
    }
    let missing: Vec<&String> = match holders.first() {
        Some((first, _)) => {
            let now = parse_loop_page(&project_loop(first.project_id.clone()).await.map_err(Unsaved::Failed)?);
            let known: std::collections::HashSet<&str> = now.view.nodes.iter().map(|n| n.key.as_str()).collect();
            cut.targets.iter().filter(|key| !known.contains(key.as_str())).collect()
        }
        None => Vec::new(),
    };
    let mut targets: Vec<(&str, Vec<String>)> = Vec::new();
    for key in missing {
        let Some((map, item)) = key.split_once('#') else { continue };
        match targets.iter_mut().find(|(m, _)| *m == map) {
            Some((_, items)) => items.push(item.to_string()),
            None => targets.push((map, vec![item.to_string()])),
        }
    }
    let targets: Vec<(&str, &[String])> = targets.iter().map(|(map, items)| (*map, items.as_slice())).collect();
    let cuts: Vec<link_cascade::Cut> = holders.iter().filter_map(|(loaded, origin)| link_cascade::cut_in(loaded, origin, &targets, |n| t1(locale, K::LoopNoteDanglingCut, n))).collect();
    let Some((first, title)) = cuts.first().map(|cut| (cut.part.map_id.clone(), cut.title.clone())) else {
        return Err(Unsaved::Said(t(locale, K::LoopDanglingGone).into()));
    };
    let total: usize = cuts.iter().map(|cut| cut.links.len()).sum();
    let others: Vec<(String, String)> = cuts.iter().skip(1).map(|cut| (cut.part.map_id.clone(), cut.title.clone())).collect();
    let answer = save_map_set(cuts.into_iter().map(|cut| cut.part).collect()).await.map_err(Unsaved::Failed)?;
    let (outcome, versions, _) = link_cascade::own_outcome(answer, &others);
    let mut note = t1(locale, K::LoopNoteDanglingCut, total);
    for ((_, other), version) in others.iter().zip(versions) {
        note.push_str(&format!("; «{other}» v{version}"));
    }
    Ok(SaveAnswer { title, note, outcome, undo: None, select: String::new(), said: K::LoopSaved, open: (format!("/maps/{first}"), K::LoopOpenItem) })
}

/// Saves a change of a map: the map at the version the loop was drawn
/// from, changed (`loop_edit`), as the next version with a note — through
/// `save_map`, which refuses a stale base and checks the role.
async fn save_to_map(change: MapChange, locale: Locale, endpoints: &[BindableEndpoint]) -> Result<SaveAnswer, Unsaved> {
    let map = change.map().to_string();
    let base = change.base();
    let loaded = load_map(map.clone(), base).await.map_err(Unsaved::Failed)?;
    let mut content: Value = serde_json::from_slice(loaded.content.as_bytes()).unwrap_or(Value::Null);
    // The note, the change that takes this one back, and the node to select;
    // the other maps saved with it (a stage's links, deleted or put back).
    let added = matches!(change, MapChange::NewRow(_) | MapChange::NewStage(_) | MapChange::NewPoint(_));
    let mut also: Vec<(MapPart, String)> = Vec::new();
    let (note, undo, select) = match change {
        MapChange::Binding(change) => {
            let before = loop_edit::trigger_of(&content, &change.row).ok_or(Unsaved::Gone)?;
            if change.expect.as_ref().is_some_and(|expected| *expected != before) {
                return Ok(SaveAnswer::conflict(&loaded));
            }
            let number = match &change.restore {
                Some(trigger) => loop_edit::restore_row(&mut content, &change.row, trigger),
                None => loop_edit::bind_row(&mut content, &change.row, change.endpoint.as_ref()),
            }
            .ok_or(Unsaved::Gone)?;
            let after = loop_edit::trigger_of(&content, &change.row).unwrap_or(Value::Null);
            let note = loop_edit::note(locale, number, change.endpoint.as_ref(), &change.was);
            let select = format!("{map}#{}", change.row);
            (note, MapChange::Binding(change.undone(before, after, endpoints)), select)
        }
        MapChange::RowLink(link) => {
            let named = loop_edit::names(&content, &link.row, link.list, &link.to_map, &link.to).ok_or(Unsaved::Gone)?;
            if link.expect.is_some_and(|expected| expected != named) {
                return Ok(SaveAnswer::conflict(&loaded));
            }
            // Already so (a link the loop drew from elsewhere in the row).
            if named == link.on {
                return Err(Unsaved::Unchanged);
            }
            let (number, was) = loop_edit::link(&mut content, &link.row, link.list, &link.to_map, &link.to, link.on, link.place).ok_or(Unsaved::Gone)?;
            let note = loop_edit::link_note(locale, number, link.list, &link.to_label.text(locale), link.on);
            let select = format!("{map}#{}", link.row);
            (note, MapChange::RowLink(link.undone(was)), select)
        }
        MapChange::Item(mut put) => {
            let before = loop_edit::item_of(&content, put.list, &put.item);
            match &put.expect {
                Some(expected) if *expected != before.as_ref().map(|(_, item)| item.clone()) => return Ok(SaveAnswer::conflict(&loaded)),
                None if before.is_none() => return Err(Unsaved::Gone),
                _ => {}
            }
            // An item put back by an undo names only what is there now: a
            // link to an item deleted since would be refused as new.
            if let (Some((_, item)), Some(_)) = (&mut put.now, &put.expect) {
                if loop_edit::names_anything(item) {
                    let now = parse_loop_page(&project_loop(loaded.project_id.clone()).await.map_err(Unsaved::Failed)?);
                    let known: std::collections::HashSet<&str> = now.view.nodes.iter().map(|n| n.key.as_str()).collect();
                    // Every endpoint of the project's bots (the loop's
                    // live ones are only those a map binds now).
                    let endpoints = map_endpoints(loaded.project_id.clone()).await.map_err(Unsaved::Failed)?;
                    let live: std::collections::HashSet<String> = endpoints.iter().map(|e| format!("endpoint:{}/{}", e.bot_id, e.alias)).collect();
                    put.left_out = loop_edit::drop_links_to_nothing(item, |key| known.contains(key), |key| live.contains(key));
                }
            }
            let label = put.now.as_ref().or(before.as_ref()).map(|(_, item)| loop_edit::item_label(item)).unwrap_or_default();
            loop_edit::put_item(&mut content, put.list, &put.item, put.now.as_ref()).ok_or(Unsaved::Gone)?;
            // A blueprint stage takes the crossings drawn at it along (they
            // would name no stage), and brings them back when put back.
            let taken = match put.now {
                None if loaded.kind == MapKind::Blueprint => loop_edit::take_crossings(&mut content, &put.item),
                _ => {
                    loop_edit::put_crossings(&mut content, &put.crossings);
                    Vec::new()
                }
            };
            let mut note = loop_edit::item_note(locale, &label, loop_edit::ItemDone::of(before.is_some(), put.now.is_some()));
            if put.left_out > 0 {
                note.push_str(&t1(locale, K::LoopNoteLeftOut, put.left_out));
            }
            let select = format!("{map}#{}", put.item);
            let held = held_links(&put, &loaded, &label, locale, &mut also).await?;
            (note, MapChange::Item(put.undone(before, taken, held)), select)
        }
        MapChange::NewRow(new) => {
            let placed = loop_edit::new_row_for(&content, &new.purpose, &new.event);
            add_item(&mut content, &map, base, "rows", placed, locale)?
        }
        MapChange::NewStage(new) => {
            let placed = loop_edit::new_stage_after(&content, loaded.kind, &new.after, &new.name);
            add_item(&mut content, &map, base, "stages", placed, locale)?
        }
        MapChange::NewPoint(new) => match loop_edit::new_point_for(&content, &point_of(&new.bot, &new.alias).await?).ok_or(Unsaved::Gone)? {
            (None, placed) => add_item(&mut content, &map, base, "rows", Some(placed), locale)?,
            // The row planned for it, bound and filled: its undo puts it back as it was.
            (Some(was), now) => {
                let id = now.1.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                loop_edit::put_item(&mut content, "rows", &id, Some(&now)).ok_or(Unsaved::Gone)?;
                let note = t1(locale, K::LoopNotePointBound, format!("«{}»", loop_edit::item_label(&now.1))).replacen("{}", &new.alias, 1);
                let filled = ItemPut::new(map.clone(), base, "rows", id.clone(), Some(now));
                (note, MapChange::Item(filled.undone(Some(was), Vec::new(), Vec::new())), format!("{map}#{id}"))
            }
        },
    };
    let outcome = if also.is_empty() {
        save_map(map.clone(), loaded.title.clone(), content.to_string(), note.clone(), base).await.map_err(Unsaved::Failed)?
    } else {
        let origin: Value = serde_json::from_slice(loaded.content.as_bytes()).unwrap_or(Value::Null);
        let mine = MapPart::of(&map, loaded.kind, &origin, &content, &note, base);
        let others: Vec<(String, String)> = also.iter().map(|(part, title)| (part.map_id.clone(), title.clone())).collect();
        let answer = save_map_set(std::iter::once(mine).chain(also.into_iter().map(|(part, _)| part)).collect()).await.map_err(Unsaved::Failed)?;
        link_cascade::own_outcome(answer, &others).0
    };
    // The maps the server took links out of besides (a link made since
    // the loop was drawn to a stage this takes out): said, not undone.
    let mut note = note;
    if let MapSaveOutcome::Saved { links_taken_out, .. } = &outcome {
        for m in links_taken_out {
            note.push_str(&format!("; «{}» v{}", m.title, m.version));
        }
    }
    let Some(version) = saved_as(&outcome) else {
        return Ok(SaveAnswer { title: loaded.title, note, outcome, undo: None, select, said: K::LoopSaved, open: (format!("/maps/{map}"), K::LoopOpenItem) });
    };
    let mut undo = undo;
    undo.set_base(version);
    // A new row or stage is stored with every field of its kind, not only
    // those made here: its undo expects it as stored, read back.
    if let (MapChange::Item(put), true) = (&mut undo, added) {
        if let Ok(stored) = load_map(map.clone(), version).await {
            let content: Value = serde_json::from_slice(stored.content.as_bytes()).unwrap_or(Value::Null);
            put.expect = Some(loop_edit::item_of(&content, put.list, &put.item).map(|(_, row)| row));
        }
    }
    Ok(SaveAnswer { title: loaded.title, note, outcome, undo: Some(Change::Map(undo)), select, said: K::LoopSaved, open: (format!("/maps/{map}"), K::LoopOpenItem) })
}

/// The other maps' links that go with stage `put` deleted from its map
/// (`stage_map`; `link_cascade::cut_from_holders`), in `also` with each
/// map's title; or come back with it put back (its `held` links, each
/// where it was, in each map as it is now). A map deleted since holds
/// none. Returns the links that went, for the undo.
async fn held_links(put: &ItemPut, stage_map: &LoadedMap, label: &str, locale: Locale, also: &mut Vec<(MapPart, String)>) -> Result<Vec<HeldBy>, Unsaved> {
    if put.now.is_none() {
        if put.list != "stages" {
            return Ok(Vec::new());
        }
        let cuts = link_cascade::cut_from_holders(&stage_map.id, stage_map.kind, std::slice::from_ref(&put.item), |n| loop_edit::links_note(locale, n, label, false))
            .await
            .map_err(Unsaved::Failed)?;
        let mut held = Vec::with_capacity(cuts.len());
        for cut in cuts {
            held.push(HeldBy { map: cut.part.map_id.clone(), links: cut.links });
            also.push((cut.part, cut.title));
        }
        return Ok(held);
    }
    for back in &put.held {
        let Some((loaded, origin)) = link_cascade::map_now(&back.map).await.map_err(Unsaved::Failed)? else { continue };
        let mut content = origin.clone();
        let count = loop_edit::put_links(&mut content, &back.links);
        if count > 0 {
            let note = loop_edit::links_note(locale, count, label, true);
            also.push((MapPart::of(&back.map, loaded.kind, &origin, &content, &note, loaded.version), loaded.title));
        }
    }
    Ok(Vec::new())
}

/// Puts a new item (`placed`; `None`: its map has no place for it) in
/// the map's `list`: the note, the change that takes it away (deleting
/// it, if it is still as made) and the node to select.
fn add_item(content: &mut Value, map: &str, base: i64, list: &'static str, placed: Option<Placed>, locale: Locale) -> Result<(String, MapChange, String), Unsaved> {
    let (place, item) = placed.ok_or(Unsaved::Gone)?;
    let id = item.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    loop_edit::put_item(content, list, &id, Some(&(place, item.clone()))).ok_or(Unsaved::Gone)?;
    let note = loop_edit::item_note(locale, &loop_edit::item_label(&item), loop_edit::ItemDone::Added);
    let select = format!("{map}#{id}");
    let added = ItemPut::new(map.to_string(), base, list, id, Some((place, item)));
    Ok((note, MapChange::Item(added.undone(None, Vec::new(), Vec::new())), select))
}

/// What endpoint `alias` of `bot` is now, as its integration point says
/// it (`Gone` when it is no more).
async fn point_of(bot: &str, alias: &str) -> Result<loop_edit::PointOf, Unsaved> {
    let all = list_endpoints(bot.to_string()).await.map_err(Unsaved::Failed)?;
    let e = all.into_iter().find(|e| e.alias.as_str() == alias).ok_or(Unsaved::Gone)?;
    Ok(loop_edit::PointOf {
        bot: bot.to_string(),
        alias: alias.to_string(),
        description: e.description,
        fields: e.schema.fields.into_iter().map(|f| f.name).collect(),
        response: e.response_description,
        owner: e.owner,
    })
}

/// Saves an endpoint's scenario as the endpoint's next version, with a
/// note, if it still starts what the change expects (else the conflict:
/// who saved which version since).
async fn save_scenario(set: SetScenario, locale: Locale) -> Result<SaveAnswer, Unsaved> {
    if set.scenario == set.was {
        return Err(Unsaved::Unchanged);
    }
    let note = loop_edit::scenario_note(locale, &set.alias, &set.scenario);
    let answer = set_endpoint_scenario(set.bot.clone(), set.alias.clone(), set.scenario.clone(), set.was.clone(), note.clone()).await.map_err(Unsaved::Failed)?;
    let (outcome, undo) = match answer {
        EndpointStep::Saved { version } => (MapSaveOutcome::saved(version), Some(Change::Scenario(set.undone()))),
        EndpointStep::Conflict { current, author } => (MapSaveOutcome::Conflict { current, author }, None),
        // Not answers to a scenario's save.
        EndpointStep::Created { .. } | EndpointStep::Deleted | EndpointStep::Called { .. } => return Err(Unsaved::Gone),
    };
    let select = format!("endpoint:{}/{}", set.bot, set.alias);
    let open = (format!("/endpoints?bot={}", set.bot), K::LoopOpenEndpoint);
    Ok(SaveAnswer { title: set.alias, note, outcome, undo, select, said: K::LoopSaved, open })
}

/// Creates the endpoint the project's maps plan, as they plan it (its
/// version 1, with a note), or deletes it again (an undo) if it is still
/// the version it was made as and nobody called it; else the conflict
/// (who saved which version since, or made it first) or the calls.
async fn save_planned(planned: Planned, locale: Locale) -> Result<SaveAnswer, Unsaved> {
    let (bot, alias) = (planned.bot.clone(), planned.alias.clone());
    let (note, answer) = match &planned.made {
        None => {
            let note = t1(locale, K::LoopNoteEndpointMade, &alias);
            let answer = create_planned_endpoint(planned.project.clone(), bot.clone(), alias.clone(), note.clone()).await;
            (note, answer)
        }
        Some((id, version)) => (t1(locale, K::LoopNoteEndpointUnmade, &alias), delete_endpoint_at(id.clone(), *version).await),
    };
    let answer = match answer {
        Err(AppError::Invalid(errors)) if errors.iter().any(|e| e.field == "bot_id") => return Err(Unsaved::Said(t1(locale, K::LoopBotNotInProject, &bot))),
        other => other.map_err(Unsaved::Failed)?,
    };
    let (outcome, undo, said) = match answer {
        EndpointStep::Created { id, version } => (MapSaveOutcome::saved(version), planned.undone(Some((id, version))), K::LoopSaved),
        EndpointStep::Deleted => {
            let was = planned.made.as_ref().map_or(0, |(_, version)| *version);
            (MapSaveOutcome::saved(was), planned.undone(None), K::LoopEndpointDeleted)
        }
        EndpointStep::Called { calls } => return Err(Unsaved::Said(t1(locale, K::LoopEndpointCalled, format!("«{alias}»")).replacen("{}", &calls.to_string(), 1))),
        // Not an answer to a creation or its undo.
        EndpointStep::Saved { .. } => return Err(Unsaved::Gone),
        EndpointStep::Conflict { current, author } => {
            return Ok(SaveAnswer { title: alias, note, outcome: MapSaveOutcome::Conflict { current, author }, undo: None, select: String::new(), said: K::LoopSaved, open: (String::new(), K::LoopOpenEndpoint) })
        }
    };
    let select = format!("endpoint:{bot}/{alias}");
    let open = (format!("/endpoints?bot={bot}"), K::LoopOpenEndpoint);
    Ok(SaveAnswer { title: alias, note, outcome, undo: Some(Change::Planned(undo)), select, said, open })
}
