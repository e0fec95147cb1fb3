//! The Service Blueprint as it is drawn: four lanes (rows) × stages
//! (columns), with the lines of interaction, visibility and internal
//! interaction between the lanes, each cell's bound endpoints, and the
//! crossings (arrows across a line at a stage: ↓ down, ↑ up, with a note).
//! It follows the table below it (where the cells are edited) as one
//! types; crossings are edited here: added at a stage's line, turned,
//! their note changed (on Enter or leaving the field), removed.

use crate::components::editable_table::{cell_text, fresh_id, rows};
use crate::components::l;
use crate::i18n::{use_locale, K};
use comops_core::map::blueprint::Lane;
use leptos::prelude::*;
use serde_json::{json, Value};

const MARK: &str = "rounded px-1 text-slate-500 hover:bg-slate-200 hover:text-slate-900";

fn endpoints(cell: Option<&Value>) -> String {
    cell.and_then(|c| c.get("endpoints"))
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|b| cell_text(b, "alias")).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// The crossings at `stage` on `line`: (id, upward, note).
fn crossings_at(doc: &Value, stage: &str, line: &str) -> Vec<(String, bool, String)> {
    rows(doc, "crossings")
        .iter()
        .filter(|c| cell_text(c, "stage") == stage && cell_text(c, "line") == line)
        .map(|c| (cell_text(c, "id"), c.get("upward").and_then(Value::as_bool).unwrap_or(false), cell_text(c, "note")))
        .collect()
}

/// Changes the map's crossings (made a list if it was none) and marks the map unsaved.
fn edit_crossings(doc: RwSignal<Value>, dirty: RwSignal<bool>, change: impl FnOnce(&mut Vec<Value>, String)) {
    doc.update(|d| {
        let id = fresh_id(d, "crossings", "x");
        if let Some(map) = d.as_object_mut() {
            let list = map.entry("crossings").or_insert_with(|| Value::Array(Vec::new()));
            if !list.is_array() {
                *list = Value::Array(Vec::new());
            }
            if let Some(list) = list.as_array_mut() {
                change(list, id);
            }
        }
    });
    dirty.set(true);
}

/// Writes a crossing's note as typed, without drawing the grid again: the
/// field already shows it, and a redraw between a button's press and its
/// release (the field's change comes as it loses the focus) would lose
/// that button's click.
fn note_crossing(doc: RwSignal<Value>, dirty: RwSignal<bool>, id: &str, note: String) {
    doc.update_untracked(|d| {
        if let Some(c) = d.get_mut("crossings").and_then(Value::as_array_mut).and_then(|list| crossing(list, id)) {
            c.insert("note".into(), Value::String(note));
        }
    });
    dirty.set(true);
}

/// The crossing `id` of `list`, to change in place.
fn crossing<'a>(list: &'a mut [Value], id: &str) -> Option<&'a mut serde_json::Map<String, Value>> {
    list.iter_mut().find(|c| cell_text(c, "id") == id).and_then(Value::as_object_mut)
}

/// One crossing: its arrow and note; for editors the arrow turns it, the
/// note is a field, × removes it.
fn crossing_view(doc: RwSignal<Value>, dirty: RwSignal<bool>, editable: bool, (id, upward, note): (String, bool, String)) -> AnyView {
    let arrow = if upward { "↑" } else { "↓" };
    if !editable {
        return view! { <span class="block" data-crossing=id>{arrow}" "{note}</span> }.into_any();
    }
    let (turn_id, note_id, remove_id) = (id.clone(), id.clone(), id.clone());
    view! {
        <span class="flex items-center gap-0.5" data-crossing=id>
            <button type="button" class=MARK title=l(K::MapCrossingTurn) aria-label=l(K::MapCrossingTurn) data-testid="crossing-turn"
                on:click=move |_| edit_crossings(doc, dirty, |list, _| {
                    if let Some(c) = crossing(list, &turn_id) {
                        c.insert("upward".into(), Value::Bool(!upward));
                    }
                })>{arrow}</button>
            <input class="min-w-0 grow rounded border border-slate-200 px-1 text-[11px]" name="crossing-note" value=note
                aria-label=l(K::MapCrossingNote) on:change=move |ev| note_crossing(doc, dirty, &note_id, event_target_value(&ev))/>
            <button type="button" class=MARK title=l(K::MapCrossingRemove) aria-label=l(K::MapCrossingRemove) data-testid="crossing-remove"
                on:click=move |_| edit_crossings(doc, dirty, |list, _| list.retain(|c| cell_text(c, "id") != remove_id))>"×"</button>
        </span>
    }
    .into_any()
}

#[component]
pub(super) fn BlueprintGrid(doc: RwSignal<Value>, dirty: RwSignal<bool>, editable: bool) -> impl IntoView {
    let locale = use_locale();
    let grid = move || {
        doc.with(|d| {
            let stages = rows(d, "stages");
            let head = stages.iter().map(|s| view! { <th class="px-2 py-1 font-medium">{cell_text(s, "name")}</th> }).collect_view();
            let lanes = Lane::ALL
                .into_iter()
                .map(|lane| {
                    let cells = stages
                        .iter()
                        .map(|s| {
                            let text = cell_text(s, lane.text_field());
                            let bound = endpoints(s.get(lane.as_str()));
                            view! {
                                <td class="border-l border-slate-100 px-2 py-1 align-top whitespace-pre-wrap">
                                    {text}
                                    <span class="block font-mono text-[11px] text-sky-800">{bound}</span>
                                </td>
                            }
                        })
                        .collect_view();
                    let line = lane.line_below().map(|line| {
                        let (label, line) = (move || line.name(locale.get()), line.as_str());
                        let cells = stages
                            .iter()
                            .map(|s| {
                                let stage = cell_text(s, "id");
                                let marks = crossings_at(d, &stage, line).into_iter().map(|c| crossing_view(doc, dirty, editable, c)).collect_view();
                                let at = stage.clone();
                                let add = editable.then(|| view! {
                                    <button type="button" class=MARK title=l(K::MapCrossingAdd) aria-label=l(K::MapCrossingAdd) data-add-crossing=at
                                        on:click=move |_| {
                                            let stage = stage.clone();
                                            edit_crossings(doc, dirty, move |list, id| list.push(json!({"id": id, "stage": stage, "line": line, "upward": false, "note": ""})));
                                        }>"+"</button>
                                });
                                view! { <td class="border-l border-slate-100 px-2 py-0.5 align-top text-[11px] text-slate-600">{marks}{add}</td> }
                            })
                            .collect_view();
                        view! {
                            <tr class="border-t border-dashed border-slate-400" data-line=line>
                                <td class="px-2 text-[10px] uppercase text-slate-400">{label}</td>
                                {cells}
                            </tr>
                        }
                    });
                    view! {
                        <tr><th class="px-2 py-1 text-left text-xs font-medium text-slate-500 align-top">{move || lane.name(locale.get())}</th>{cells}</tr>
                        {line}
                    }
                })
                .collect_view();
            view! {
                <thead class="bg-slate-50 text-xs text-slate-500"><tr><th></th>{head}</tr></thead>
                <tbody>{lanes}</tbody>
            }
        })
    };
    view! {
        <div class="mb-3 overflow-x-auto rounded border border-slate-200 bg-white">
            <table class="w-full text-sm" data-testid="blueprint-grid">{grid}</table>
        </div>
    }
}
