//! What the table shows for each kind of map: which list of the content
//! holds the rows, its columns (the seed's template), and a new empty row.
//! No views.

use crate::components::editable_table::{fresh_id, rows, ColKind, Column, LinkKind};
use crate::i18n::{t, K};
use comops_core::map::blueprint::Lane;
use comops_core::map::MapKind;
use comops_core::Locale;
use serde_json::{json, Value};

/// The content's list that holds the rows of a `kind` map.
pub fn list_of(kind: MapKind) -> &'static str {
    comops_core::map::changes::rows_key(kind)
}

fn col(field: &'static str, label: impl Into<String>, kind: ColKind) -> Column {
    Column { field, label: label.into(), kind }
}

/// The columns of a `kind` map, labelled in `locale`. The CJM's, the
/// communication map's and the integration points' come from core's
/// templates (both languages there).
pub fn columns(kind: MapKind, locale: Locale) -> Vec<Column> {
    let ru = locale == Locale::Ru;
    match kind {
        MapKind::Cjm => {
            let mut cols: Vec<Column> = comops_core::map::cjm::COLUMNS
                .iter()
                .map(|(field, label_ru, label_en)| col(field, if ru { *label_ru } else { *label_en }, ColKind::Text))
                .collect();
            cols.insert(4, col("emotion_score", t(locale, K::MapScore), ColKind::Score));
            cols
        }
        MapKind::Communication => {
            let mut cols = vec![col("number", t(locale, K::MapNumber), ColKind::Fixed)];
            cols.extend(
                comops_core::map::communication::COLUMNS
                    .iter()
                    .map(|(field, label_ru, label_en)| col(field, if ru { *label_ru } else { *label_en }, ColKind::Text)),
            );
            cols.push(col("trigger", t(locale, K::MapTrigger), ColKind::Trigger));
            cols.push(col("stages", t(locale, K::MapCjmStages), ColKind::Links(LinkKind::CjmStage)));
            cols.push(col("cells", t(locale, K::MapBlueprintCells), ColKind::Links(LinkKind::BlueprintCell)));
            cols
        }
        MapKind::Blueprint => std::iter::once(col("name", t(locale, K::MapStageName), ColKind::Text))
            .chain(Lane::ALL.map(|lane| col(lane.text_field(), lane.name(locale), ColKind::Text)))
            .chain([col("cjm_stages", t(locale, K::MapCjmStages), ColKind::Links(LinkKind::CjmStage))])
            .collect(),
        MapKind::Integration => {
            let mut cols = vec![col("alias", t(locale, K::MapAlias), ColKind::Endpoint)];
            cols.extend(
                comops_core::map::integration::COLUMNS
                    .iter()
                    .map(|(field, label_ru, label_en)| col(field, if ru { *label_ru } else { *label_en }, ColKind::Text)),
            );
            cols
        }
    }
}

/// A new, empty row for a `kind` map whose content is `doc`.
pub fn new_row(kind: MapKind, doc: &Value) -> Value {
    let list = list_of(kind);
    match kind {
        MapKind::Cjm => json!({ "id": fresh_id(doc, list, "stage") }),
        MapKind::Blueprint => json!({ "id": fresh_id(doc, list, "stage"), "name": "" }),
        MapKind::Communication => {
            let number = rows(doc, list).iter().filter_map(|r| r.get("number").and_then(Value::as_i64)).max().unwrap_or(0) + 1;
            json!({ "id": fresh_id(doc, list, "row"), "number": number })
        }
        MapKind::Integration => json!({ "id": fresh_id(doc, list, "point") }),
    }
}

/// The key of a map kind's name.
pub fn kind_label(kind: MapKind) -> K {
    match kind {
        MapKind::Cjm => K::MapKindCjm,
        MapKind::Blueprint => K::MapKindBlueprint,
        MapKind::Communication => K::MapKindCommunication,
        MapKind::Integration => K::MapKindIntegration,
    }
}

fn id_of(row: &Value) -> &str {
    row.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// Puts my edits (`mine`, started from `origin`) onto `theirs`, the
/// version saved meanwhile: every field I changed — of the header or of a
/// row, matched by id — takes my value, rows I added are appended (with a
/// new id if theirs took it), rows I deleted go; everything else stays as
/// they saved it, in their order. A row they deleted and I changed comes
/// back at the end. Fields, not characters: when we both changed the same
/// cell, mine wins, and the diff shown beside it says what theirs was.
pub fn rebase(list: &str, origin: &Value, mine: &Value, theirs: &Value) -> Value {
    let mut out = theirs.clone();
    let (o_rows, m_rows) = (rows(origin, list), rows(mine, list));
    let mut merged: Vec<Value> = rows(theirs, list).to_vec();
    let deleted_by_me = |t: &Value| o_rows.iter().any(|o| id_of(o) == id_of(t)) && !m_rows.iter().any(|m| id_of(m) == id_of(t));
    merged.retain(|t| !deleted_by_me(t));
    for m in m_rows {
        match o_rows.iter().find(|o| id_of(o) == id_of(m)) {
            None => {
                let mut row = m.clone();
                if merged.iter().any(|t| id_of(t) == id_of(m)) {
                    let mut holder = Value::Object(Default::default());
                    holder[list] = Value::Array(merged.clone());
                    let prefix = id_of(m).rsplit_once('-').map_or("row", |(p, _)| p).to_string();
                    row["id"] = Value::String(fresh_id(&holder, list, &prefix));
                }
                merged.push(row);
            }
            Some(o) if o != m => match merged.iter_mut().find(|t| id_of(t) == id_of(m)) {
                Some(t) => changed_fields(o, m, t),
                None => merged.push(m.clone()),
            },
            Some(_) => {}
        }
    }
    changed_fields(origin, mine, &mut out);
    out[list] = Value::Array(merged);
    out
}

/// Copies onto `target` every field of `mine` that differs from `origin`.
fn changed_fields(origin: &Value, mine: &Value, target: &mut Value) {
    let (Some(m), Some(t)) = (mine.as_object(), target.as_object_mut()) else { return };
    for (key, value) in m {
        if origin.get(key) != Some(value) {
            t.insert(key.clone(), value.clone());
        }
    }
}

/// What a diff line's `field` (a key of core's map diff: a column, a
/// blueprint lane and its bound endpoints, a crossing's parts, a map-level
/// field) is called in `locale`; the key itself when it is none of these.
#[cfg(any(feature = "ssr", test))]
pub fn field_title(kind: MapKind, locale: Locale, field: &str) -> String {
    let columns = columns(kind, locale);
    let column = |name: &str| columns.iter().find(|c| c.field == name || c.field.strip_suffix(".text") == Some(name)).map(|c| c.label.clone());
    if let Some(label) = column(field) {
        return label;
    }
    if let Some(lane) = field.strip_suffix(".endpoints").and_then(column) {
        return format!("{lane}: {}", t(locale, K::Endpoints).to_lowercase());
    }
    let key = match (kind, field) {
        (_, "title") => K::MapTitle,
        (_, "persona") => K::MapPersona,
        (_, "process") => K::MapProcess,
        (_, "scenario") => K::Scenario,
        (MapKind::Blueprint, "cjm_stages") | (MapKind::Communication, "stages") => K::MapCjmStages,
        (MapKind::Communication, "cells") => K::MapBlueprintCells,
        (MapKind::Integration, "bot_id") => K::MapBot,
        (MapKind::Blueprint, "stage") => K::MapStageName,
        (MapKind::Blueprint, "line") => K::MapLine,
        (MapKind::Blueprint, "upward") => K::MapUpward,
        (MapKind::Blueprint, "note") => K::MapCrossingNote,
        _ => return field.to_string(),
    };
    t(locale, key).to_string()
}

/// The rows (by index, in order, once each) that problems at `fields`
/// (`rows[3].event`, `stages[0].cjm_stages[1]`) point into: the banner's
/// "go to row" buttons, which reach rows a long map has not rendered.
pub fn problem_rows<'a>(list: &str, fields: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let mut rows: Vec<usize> = fields
        .into_iter()
        .filter_map(|field| field.strip_prefix(list)?.strip_prefix('[')?.split_once(']')?.0.parse().ok())
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field core's diff names is called by a name in both
    /// languages, not by its key.
    #[test]
    fn every_diff_field_has_a_title() {
        use comops_core::map::diff::diff;
        use comops_core::map::MapContent;
        let maps = [
            (MapKind::Cjm, r#"{"persona": "p", "stages": [{"id": "s", "emotion_score": 1}]}"#),
            (MapKind::Blueprint, r#"{"persona": "p", "stages": [{"id": "s"}], "crossings": [{"id": "x", "stage": "s", "line": "visibility"}]}"#),
            (MapKind::Communication, r#"{"process": "p", "rows": [{"id": "r", "number": 1}]}"#),
            (MapKind::Integration, r#"{"rows": [{"id": "r"}]}"#),
        ];
        for (kind, text) in maps {
            let content = MapContent::parse(kind, text).unwrap();
            let empty = MapContent::parse(kind, "{}").unwrap();
            let lines = diff("", &empty, "Title", &content);
            let mut fields: Vec<&str> = lines.header.iter().map(|c| c.field.as_str()).collect();
            fields.extend(lines.items.iter().flat_map(|i| i.cells.iter().map(|c| c.field.as_str())));
            assert!(!fields.is_empty());
            for field in fields {
                for locale in [Locale::En, Locale::Ru] {
                    let title = field_title(kind, locale, field);
                    assert_ne!(title, field, "{kind:?} {field} in {locale:?}");
                }
            }
        }
        assert_eq!(field_title(MapKind::Cjm, Locale::Ru, "goal"), "Цель клиента / зачем он это делает");
        assert_eq!(field_title(MapKind::Blueprint, Locale::En, "front_stage.endpoints"), "Front Stage Interactions: endpoints");
    }

    #[test]
    fn problem_rows_are_the_rows_named_once_each_in_order() {
        let fields = ["rows[734].event", "title", "rows[2].stages[0]", "rows[734].channel", "rowsx[1].a", "rows[].a", "stages[1].goal"];
        assert_eq!(problem_rows("rows", fields), [2, 734]);
        assert_eq!(problem_rows("stages", fields), [1]);
    }

    #[test]
    fn rebase_keeps_both_sides_edits() {
        let origin = json!({"persona": "p", "stages": [{"id": "a", "goal": "g", "needs": "n"}, {"id": "b", "goal": "x"}]});
        let theirs = json!({"persona": "p", "stages": [{"id": "a", "goal": "their goal", "needs": "n"}, {"id": "b", "goal": "x"}, {"id": "stage-3"}]});
        let mine = json!({"persona": "mine", "stages": [{"id": "a", "goal": "g", "needs": "my needs"}, {"id": "stage-3", "goal": "new"}]});
        let out = rebase("stages", &origin, &mine, &theirs);
        assert_eq!(out["persona"], "mine");
        let stages = out["stages"].as_array().unwrap();
        assert_eq!(stages[0], json!({"id": "a", "goal": "their goal", "needs": "my needs"}));
        // I deleted b; their stage-3 stays, mine gets a new id.
        assert_eq!(stages.iter().map(|s| s["id"].as_str().unwrap()).collect::<Vec<_>>(), ["a", "stage-3", "stage-4"]);
    }
}
