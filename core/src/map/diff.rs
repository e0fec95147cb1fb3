//! Row- and cell-level differences between two versions of a map, for the
//! studio's side-by-side view (SPEC §6 "Versions").
//!
//! Every kind is flattened into items (CJM stages, blueprint stages,
//! communication and integration rows; blueprint crossings too) matched by
//! id, each a list of named cells as text. The diff lists the items of the
//! newer version in its order, with the removed ones placed where they
//! were, and for each item every cell before and after — so the view can
//! draw both sides aligned and highlight what changed.

use super::blueprint::{Lane, Line};
use super::communication;
use super::{ItemRef, MapContent};
use serde::{Deserialize, Serialize};

/// What happened to an item between the two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Unchanged,
    Added,
    Removed,
    /// Some cell differs (or only its position, see [`ItemDiff::moved`]).
    Changed,
}

/// One cell of an item, both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellDiff {
    pub field: String,
    pub before: String,
    pub after: String,
    pub changed: bool,
}

/// One row, stage or crossing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemDiff {
    pub id: String,
    /// What the item is called (its stage name, event, alias), newest side first.
    pub label: String,
    /// `stage`, `row` or `crossing`.
    pub section: String,
    pub change: Change,
    pub before_index: Option<usize>,
    pub after_index: Option<usize>,
    /// Same content at another position.
    pub moved: bool,
    pub cells: Vec<CellDiff>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapDiff {
    /// Map-level fields (title, persona, process).
    pub header: Vec<CellDiff>,
    pub items: Vec<ItemDiff>,
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
}

impl MapDiff {
    pub fn is_empty(&self) -> bool {
        self.added == 0 && self.removed == 0 && self.changed == 0 && self.header.iter().all(|c| !c.changed)
    }
}

/// A flattened item: id, label, section and its cells.
struct Item {
    id: String,
    label: String,
    section: &'static str,
    cells: Vec<(String, String)>,
}

fn refs(list: &[ItemRef]) -> String {
    list.iter().map(ItemRef::to_text).collect::<Vec<_>>().join("; ")
}

fn line_name(line: Line) -> &'static str {
    match line {
        Line::Interaction => "interaction",
        Line::Visibility => "visibility",
        Line::InternalInteraction => "internal_interaction",
    }
}

/// (header cells, items) of one version.
fn flatten(content: &MapContent) -> (Vec<(String, String)>, Vec<Item>) {
    match content {
        MapContent::Cjm(m) => (
            vec![("persona".into(), m.persona.clone())],
            m.stages
                .iter()
                .map(|s| {
                    let mut cells: Vec<(String, String)> =
                        super::cjm::COLUMNS.iter().map(|(f, _, _)| (f.to_string(), s.column(f).to_string())).collect();
                    cells.insert(4, ("emotion_score".into(), s.emotion_score.map(|n| n.to_string()).unwrap_or_default()));
                    Item { id: s.id.clone(), label: s.stage.clone(), section: "stage", cells }
                })
                .collect(),
        ),
        MapContent::Blueprint(m) => {
            let mut items: Vec<Item> = m
                .stages
                .iter()
                .map(|s| {
                    let mut cells = vec![("name".to_string(), s.name.clone())];
                    for lane in Lane::ALL {
                        let cell = s.cell(lane);
                        cells.push((lane.as_str().to_string(), cell.text.clone()));
                        let bound: Vec<String> = cell.endpoints.iter().map(|b| b.url()).collect();
                        cells.push((format!("{}.endpoints", lane.as_str()), bound.join("; ")));
                    }
                    cells.push(("cjm_stages".into(), refs(&s.cjm_stages)));
                    Item { id: s.id.clone(), label: s.name.clone(), section: "stage", cells }
                })
                .collect();
            items.extend(m.crossings.iter().map(|c| Item {
                id: c.id.clone(),
                label: c.note.clone(),
                section: "crossing",
                cells: vec![
                    ("stage".into(), c.stage.clone()),
                    ("line".into(), line_name(c.line).into()),
                    ("upward".into(), c.upward.to_string()),
                    ("note".into(), c.note.clone()),
                ],
            }));
            (vec![("persona".into(), m.persona.clone())], items)
        }
        MapContent::Communication(m) => (
            vec![("process".into(), m.process.clone())],
            m.rows
                .iter()
                .map(|r| {
                    let mut cells = vec![("number".to_string(), r.number.to_string())];
                    cells.extend(communication::COLUMNS.iter().map(|(f, _, _)| (f.to_string(), r.column(f).to_string())));
                    cells.push(("trigger".into(), r.trigger.url()));
                    cells.push(("scenario".into(), r.trigger.scenario.clone()));
                    cells.push(("stages".into(), refs(&r.stages)));
                    cells.push(("cells".into(), refs(&r.cells)));
                    Item { id: r.id.clone(), label: r.event.clone(), section: "row", cells }
                })
                .collect(),
        ),
        MapContent::Integration(m) => (
            Vec::new(),
            m.rows
                .iter()
                .map(|r| {
                    let alias = r.alias.as_ref().map(|a| a.to_string()).unwrap_or_default();
                    let mut cells = vec![
                        ("alias".to_string(), alias.clone()),
                        ("bot_id".to_string(), r.bot_id.as_ref().map(|b| b.to_string()).unwrap_or_default()),
                    ];
                    cells.extend(super::integration::COLUMNS.iter().map(|(f, _, _)| (f.to_string(), r.column(f).to_string())));
                    Item { id: r.id.clone(), label: alias, section: "row", cells }
                })
                .collect(),
        ),
    }
}

fn cells(before: &[(String, String)], after: &[(String, String)]) -> Vec<CellDiff> {
    let mut out: Vec<CellDiff> = after
        .iter()
        .map(|(field, value)| {
            let old = before.iter().find(|(f, _)| f == field).map(|(_, v)| v.clone()).unwrap_or_default();
            CellDiff { field: field.clone(), changed: &old != value, before: old, after: value.clone() }
        })
        .collect();
    for (field, value) in before {
        if !after.iter().any(|(f, _)| f == field) {
            out.push(CellDiff { field: field.clone(), before: value.clone(), after: String::new(), changed: !value.is_empty() });
        }
    }
    out
}

/// Compares `before` (title and content) with `after`.
pub fn diff(before_title: &str, before: &MapContent, after_title: &str, after: &MapContent) -> MapDiff {
    let (before_header, before_items) = flatten(before);
    let (after_header, after_items) = flatten(after);
    let mut header = vec![CellDiff {
        field: "title".into(),
        before: before_title.into(),
        after: after_title.into(),
        changed: before_title != after_title,
    }];
    header.extend(cells(&before_header, &after_header));

    let key = |item: &Item| (item.section, item.id.clone());
    let before_at: std::collections::HashMap<_, usize> = before_items.iter().enumerate().map(|(i, it)| (key(it), i)).collect();
    let after_keys: std::collections::HashSet<_> = after_items.iter().map(key).collect();
    // Relative order of the items both sides share, to tell a real move
    // from a shift caused by an insertion or removal above.
    let shared_before: std::collections::HashMap<_, usize> =
        before_items.iter().filter(|it| after_keys.contains(&key(it))).map(key).enumerate().map(|(i, k)| (k, i)).collect();
    let shared_after: std::collections::HashMap<_, usize> =
        after_items.iter().filter(|it| before_at.contains_key(&key(it))).map(key).enumerate().map(|(i, k)| (k, i)).collect();

    let mut items = Vec::new();
    let mut emitted_before = 0;
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    let push_removed_up_to = |limit: usize, items: &mut Vec<ItemDiff>, emitted: &mut usize, removed: &mut usize| {
        while *emitted < limit {
            let it = &before_items[*emitted];
            if !after_keys.contains(&key(it)) {
                *removed += 1;
                items.push(ItemDiff {
                    id: it.id.clone(),
                    label: it.label.clone(),
                    section: it.section.into(),
                    change: Change::Removed,
                    before_index: Some(*emitted),
                    after_index: None,
                    moved: false,
                    cells: cells(&it.cells, &[]),
                });
            }
            *emitted += 1;
        }
    };
    for (after_index, it) in after_items.iter().enumerate() {
        match before_at.get(&key(it)) {
            Some(&before_index) => {
                push_removed_up_to(before_index, &mut items, &mut emitted_before, &mut removed);
                let old = &before_items[before_index];
                let cell_diffs = cells(&old.cells, &it.cells);
                let moved = shared_before.get(&key(it)) != shared_after.get(&key(it));
                let any = cell_diffs.iter().any(|c| c.changed) || moved;
                if any {
                    changed += 1;
                }
                items.push(ItemDiff {
                    id: it.id.clone(),
                    label: if it.label.is_empty() { old.label.clone() } else { it.label.clone() },
                    section: it.section.into(),
                    change: if any { Change::Changed } else { Change::Unchanged },
                    before_index: Some(before_index),
                    after_index: Some(after_index),
                    moved,
                    cells: cell_diffs,
                });
            }
            None => {
                added += 1;
                items.push(ItemDiff {
                    id: it.id.clone(),
                    label: it.label.clone(),
                    section: it.section.into(),
                    change: Change::Added,
                    before_index: None,
                    after_index: Some(after_index),
                    moved: false,
                    cells: cells(&[], &it.cells),
                });
            }
        }
    }
    push_removed_up_to(before_items.len(), &mut items, &mut emitted_before, &mut removed);
    MapDiff { header, items, added, removed, changed }
}
