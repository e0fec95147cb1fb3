//! The Service Blueprint as it is drawn: four lanes (rows) × stages
//! (columns), with the lines of interaction, visibility and internal
//! interaction between the lanes, and each cell's bound endpoints. It
//! follows the table below it (where the cells are edited) as one types.

use crate::components::editable_table::{cell_text, rows};
use crate::components::l;
use crate::i18n::K;
use leptos::prelude::*;
use serde_json::Value;

const LANES: [(&str, K, Option<K>); 4] = [
    ("customer_actions", K::MapLaneCustomer, Some(K::MapLineInteraction)),
    ("front_stage", K::MapLaneFront, Some(K::MapLineVisibility)),
    ("back_stage", K::MapLaneBack, Some(K::MapLineInternal)),
    ("support", K::MapLaneSupport, None),
];

fn endpoints(cell: Option<&Value>) -> String {
    cell.and_then(|c| c.get("endpoints"))
        .and_then(Value::as_array)
        .map(|list| list.iter().map(|b| cell_text(b, "alias")).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

#[component]
pub(super) fn BlueprintGrid(doc: RwSignal<Value>) -> impl IntoView {
    let grid = move || {
        doc.with(|d| {
            let stages = rows(d, "stages");
            let head = stages.iter().map(|s| view! { <th class="px-2 py-1 font-medium">{cell_text(s, "name")}</th> }).collect_view();
            let span = (stages.len() + 1).to_string();
            let lanes = LANES
                .iter()
                .map(|(lane, label, line)| {
                    let cells = stages
                        .iter()
                        .map(|s| {
                            let text = cell_text(s, &format!("{lane}.text"));
                            let bound = endpoints(s.get(*lane));
                            view! {
                                <td class="border-l border-slate-100 px-2 py-1 align-top whitespace-pre-wrap">
                                    {text}
                                    <span class="block font-mono text-[11px] text-sky-800">{bound}</span>
                                </td>
                            }
                        })
                        .collect_view();
                    let line = line.map(|k| view! {
                        <tr><td colspan=span.clone() class="border-t border-dashed border-slate-400 px-2 text-[10px] uppercase text-slate-400">{l(k)}</td></tr>
                    });
                    view! {
                        <tr><th class="px-2 py-1 text-left text-xs font-medium text-slate-500 align-top">{l(*label)}</th>{cells}</tr>
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
