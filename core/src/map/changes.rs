//! A map save sent as what changed since the version it started from,
//! not as the whole map: one edited cell of a 1,000-row map is a row
//! (~0.4 kB), where the whole content is ~420 kB.
//!
//! The editor computes the changes from the content it loaded and its
//! edits ([`changes`]); the server applies them to that same version
//! ([`apply`]) and saves the result like a whole-map save — validated,
//! refused as a conflict if someone saved after that version. Rows are
//! matched by id; a map whose rows lack unique ids is saved whole.
//!
//! The changes are JSON:
//! `{"set": {key: value}, "unset": [key], "rows": [row], "order": [id]}` —
//! `set`/`unset` for the content's own fields (a CJM's persona), `rows`
//! for the rows added or changed (whole rows), `order` the ids of all rows
//! in order when rows were added, deleted or moved (absent: as before).

use crate::validation::{FieldError, Problem};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The key of the content's list of rows in a `kind` map.
pub fn rows_key(kind: super::MapKind) -> &'static str {
    match kind {
        super::MapKind::Cjm | super::MapKind::Blueprint => "stages",
        super::MapKind::Communication | super::MapKind::Integration => "rows",
    }
}

fn rows<'a>(content: &'a Value, list: &str) -> &'a [Value] {
    content.get(list).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn id(row: &Value) -> Option<&str> {
    row.get("id").and_then(Value::as_str).filter(|id| !id.is_empty())
}

/// The rows of `list` by id, or None when a row has no id or two share one.
fn by_id<'a>(content: &'a Value, list: &str) -> Option<HashMap<&'a str, &'a Value>> {
    let rows = rows(content, list);
    let map: HashMap<&str, &Value> = rows.iter().map(|r| id(r).map(|id| (id, r))).collect::<Option<_>>()?;
    (map.len() == rows.len()).then_some(map)
}

/// What changed from `origin` to `now` (both whole contents), or None
/// when the rows cannot be told apart by id (then save the whole map).
pub fn changes(list: &str, origin: &Value, now: &Value) -> Option<Value> {
    let (Value::Object(before), Value::Object(after)) = (origin, now) else { return None };
    let old_rows = by_id(origin, list)?;
    by_id(now, list)?;
    let set: Map<String, Value> = after.iter().filter(|(k, v)| *k != list && before.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let unset: Vec<&String> = before.keys().filter(|k| *k != list && !after.contains_key(*k)).collect();
    let changed: Vec<&Value> = rows(now, list).iter().filter(|r| id(r).and_then(|id| old_rows.get(id)) != Some(r)).collect();
    let ids = |content: &Value| rows(content, list).iter().filter_map(id).map(str::to_string).collect::<Vec<_>>();
    let order = ids(now);
    let mut out = serde_json::json!({ "set": set, "unset": unset, "rows": changed });
    if order != ids(origin) {
        out["order"] = Value::from(order);
    }
    Some(out)
}

fn problem(field: &str, problem: Problem) -> FieldError {
    FieldError::new(field, problem)
}

/// `base` (the whole content of the version the edits started from) with
/// `changes` applied. Refused: changes that are not the shape above, an
/// `order` naming a row twice or a row neither in `base` nor in `rows`,
/// rows without ids, and (without `order`) a row that is not in `base`.
pub fn apply(list: &str, base: Value, changes: &Value) -> Result<Value, FieldError> {
    let Value::Object(mut content) = base else { return Err(problem("changes", Problem::BadJson)) };
    // The base's rows, taken out to be put back in their new order.
    let old = match content.remove(list) {
        Some(Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    let set = match changes.get("set") {
        None => Map::new(),
        Some(Value::Object(set)) => set.clone(),
        Some(_) => return Err(problem("changes.set", Problem::BadJson)),
    };
    for (key, value) in set {
        if key == list {
            return Err(problem("changes.set", Problem::NotAllowedForType));
        }
        content.insert(key, value);
    }
    match changes.get("unset") {
        None => {}
        Some(Value::Array(keys)) => {
            for key in keys {
                let Some(key) = key.as_str().filter(|k| *k != list) else { return Err(problem("changes.unset", Problem::BadJson)) };
                content.remove(key);
            }
        }
        Some(_) => return Err(problem("changes.unset", Problem::BadJson)),
    }
    let changed: Vec<&Value> = match changes.get("rows") {
        None => Vec::new(),
        Some(Value::Array(rows)) => rows.iter().collect(),
        Some(_) => return Err(problem("changes.rows", Problem::BadJson)),
    };
    let mut replaced: HashMap<&str, &Value> = HashMap::new();
    for (i, row) in changed.iter().enumerate() {
        let Some(row_id) = id(row) else { return Err(problem(&format!("changes.rows[{i}].id"), Problem::Required)) };
        if replaced.insert(row_id, row).is_some() {
            return Err(problem(&format!("changes.rows[{i}].id"), Problem::Taken));
        }
    }
    let order: Vec<String> = match changes.get("order") {
        None => old.iter().map(|r| id(r).map(str::to_string).ok_or_else(|| problem(list, Problem::Required))).collect::<Result<_, _>>()?,
        Some(Value::Array(ids)) => ids.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| problem("changes.order", Problem::BadJson))).collect::<Result<_, _>>()?,
        Some(_) => return Err(problem("changes.order", Problem::BadJson)),
    };
    let mut old_by_id: HashMap<String, Value> = old.into_iter().filter_map(|r| Some((id(&r)?.to_string(), r))).collect();
    let mut seen = HashSet::new();
    let mut new_rows = Vec::with_capacity(order.len());
    for (i, row_id) in order.iter().enumerate() {
        if !seen.insert(row_id.as_str()) {
            return Err(problem(&format!("changes.order[{i}]"), Problem::Taken));
        }
        let row = match replaced.get(row_id.as_str()) {
            Some(row) => (*row).clone(),
            None => old_by_id.remove(row_id).ok_or_else(|| problem(&format!("changes.order[{i}]"), Problem::Unknown))?,
        };
        new_rows.push(row);
    }
    if let Some(stray) = replaced.keys().find(|id| !seen.contains(*id)) {
        return Err(problem(&format!("changes.rows.{stray}"), Problem::Unknown));
    }
    content.insert(list.to_string(), Value::Array(new_rows));
    Ok(Value::Object(content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Value {
        json!({"persona": "Клиент", "goal": "g", "stages": [
            {"id": "a", "goal": "найти"}, {"id": "b", "goal": "купить"}, {"id": "c", "goal": "оценить"}
        ]})
    }

    #[test]
    fn an_edited_cell_sends_its_row_only_and_applies_back() {
        let mut now = origin();
        now["stages"][1]["goal"] = json!("купить онлайн");
        let changes = changes("stages", &origin(), &now).unwrap();
        assert_eq!(changes, json!({"set": {}, "unset": [], "rows": [{"id": "b", "goal": "купить онлайн"}]}));
        assert_eq!(apply("stages", origin(), &changes).unwrap(), now);
    }

    #[test]
    fn added_deleted_and_moved_rows_and_header_fields_round_trip() {
        let now = json!({"persona": "Новый клиент", "stages": [
            {"id": "c", "goal": "оценить"}, {"id": "a", "goal": "найти"}, {"id": "stage-4", "goal": ""}
        ]});
        let changes = changes("stages", &origin(), &now).unwrap();
        assert_eq!(changes["order"], json!(["c", "a", "stage-4"]));
        assert_eq!(changes["rows"], json!([{"id": "stage-4", "goal": ""}]));
        assert_eq!(changes["unset"], json!(["goal"]));
        assert_eq!(apply("stages", origin(), &changes).unwrap(), now);
        // Nothing changed: nothing sent, the same content back.
        let none = super::changes("stages", &origin(), &origin()).unwrap();
        assert_eq!(none, json!({"set": {}, "unset": [], "rows": []}));
        assert_eq!(apply("stages", origin(), &none).unwrap(), origin());
    }

    #[test]
    fn rows_without_unique_ids_are_saved_whole() {
        let twice = json!({"stages": [{"id": "a"}, {"id": "a"}]});
        assert!(changes("stages", &twice, &twice).is_none());
        assert!(changes("stages", &origin(), &json!({"stages": [{"goal": "no id"}]})).is_none());
    }

    #[test]
    fn changes_that_do_not_fit_the_base_are_refused_by_name() {
        let field = |c: Value| apply("stages", origin(), &c).unwrap_err().field;
        assert_eq!(field(json!({"order": ["a", "zzz"]})), "changes.order[1]");
        assert_eq!(field(json!({"order": ["a", "a"]})), "changes.order[1]");
        assert_eq!(field(json!({"rows": [{"id": "new"}]})), "changes.rows.new", "a new row needs an order");
        assert_eq!(field(json!({"rows": [{"goal": "x"}]})), "changes.rows[0].id");
        assert_eq!(field(json!({"set": {"stages": []}})), "changes.set");
        assert_eq!(field(json!({"rows": "all"})), "changes.rows");
        assert_eq!(field(json!({"unset": ["stages"]})), "changes.unset");
    }
}
