//! Reading untrusted map JSON one field at a time, so every problem is
//! reported with its path (`rows[3].channel`) instead of serde's first
//! error. Missing fields take their empty value; a value of the wrong type
//! is `BadJson` at its path; keys we do not know are ignored.

use super::limits::{MAX_CELL, MAX_ID, MAX_LINKS, MAX_ROWS};
use super::{EndpointBinding, ItemRef, MapId};
use crate::validation::{FieldError, Problem};
use crate::{Alias, BotId};
use serde_json::{Map, Value};

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

/// The object at `path`, or an error and an empty object.
pub(crate) fn object<'v>(value: &'v Value, path: &str, errors: &mut Vec<FieldError>) -> &'v Map<String, Value> {
    match value {
        Value::Object(o) => o,
        _ => {
            errors.push(FieldError::new(if path.is_empty() { "content" } else { path }, Problem::BadJson));
            &EMPTY
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A free-text cell: a string of at most [`MAX_CELL`] characters (kept as
/// typed: cells are not trimmed, so an export gives back what was saved).
pub(crate) fn text(o: &Map<String, Value>, key: &str, path: &str, errors: &mut Vec<FieldError>) -> String {
    text_max(o, key, path, MAX_CELL, errors)
}

pub(crate) fn text_max(o: &Map<String, Value>, key: &str, path: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    match o.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => {
            if s.chars().count() > max {
                errors.push(FieldError::new(join(path, key), Problem::TooLong { max }));
            }
            s.clone()
        }
        Some(_) => {
            errors.push(FieldError::new(join(path, key), Problem::BadJson));
            String::new()
        }
    }
}

/// An integer in `range` (missing = `default`).
pub(crate) fn int(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
    errors: &mut Vec<FieldError>,
) -> i64 {
    optional_int(o, key, path, range, errors).unwrap_or(default)
}

/// The integer under `key` within `range`; none when missing, null or
/// wrong (an error then).
pub(crate) fn optional_int(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
    range: std::ops::RangeInclusive<i64>,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    match o.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if range.contains(&v) => Some(v),
            _ => {
                errors.push(FieldError::new(join(path, key), Problem::OutOfRange));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(join(path, key), Problem::BadJson));
            None
        }
    }
}

/// The array under `key` (missing = empty), at most `max` long.
pub(crate) fn list<'v>(o: &'v Map<String, Value>, key: &str, path: &str, max: usize, errors: &mut Vec<FieldError>) -> &'v [Value] {
    match o.get(key) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(items)) if items.len() <= max => items,
        Some(Value::Array(_)) => {
            errors.push(FieldError::new(join(path, key), Problem::OutOfRange));
            &[]
        }
        Some(_) => {
            errors.push(FieldError::new(join(path, key), Problem::BadJson));
            &[]
        }
    }
}

/// The rows (or stages) array of a map: at most [`MAX_ROWS`].
pub(crate) fn rows<'v>(o: &'v Map<String, Value>, key: &str, errors: &mut Vec<FieldError>) -> &'v [Value] {
    list(o, key, "", MAX_ROWS, errors)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A blueprint cell is named `stage:lane`; stages and rows by their id.
pub(crate) fn valid_ref_item(item: &str) -> bool {
    match item.split_once(':') {
        Some((stage, lane)) => valid_id(stage) && valid_id(lane),
        None => valid_id(item),
    }
}

/// A row or stage id: required, lowercase letters, digits, `-`, `_`, and
/// unique among `seen`.
pub(crate) fn id(
    o: &Map<String, Value>,
    path: &str,
    seen: &mut std::collections::HashSet<String>,
    errors: &mut Vec<FieldError>,
) -> String {
    let field = join(path, "id");
    let id = text_max(o, "id", path, MAX_ID, errors);
    if id.is_empty() {
        errors.push(FieldError::new(field, Problem::Required));
    } else if !valid_id(&id) {
        errors.push(FieldError::new(field, Problem::BadSlug));
    } else if !seen.insert(id.clone()) {
        errors.push(FieldError::new(field, Problem::Taken));
    }
    id
}

/// Links to other maps' items: `[{"map": "map_x", "item": "st-1"}]`.
pub(crate) fn refs(o: &Map<String, Value>, key: &str, path: &str, errors: &mut Vec<FieldError>) -> Vec<ItemRef> {
    let field = join(path, key);
    list(o, key, path, MAX_LINKS, errors)
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let at = format!("{field}[{i}]");
            let r = object(v, &at, errors);
            let map = text_max(r, "map", &at, MAX_ID, errors);
            let item = text_max(r, "item", &at, 2 * MAX_ID + 1, errors);
            let map = match MapId::parse(&map) {
                Some(map) => Some(map),
                None => {
                    errors.push(FieldError::new(join(&at, "map"), if map.is_empty() { Problem::Required } else { Problem::Unknown }));
                    None
                }
            };
            if !valid_ref_item(&item) {
                errors.push(FieldError::new(join(&at, "item"), if item.is_empty() { Problem::Required } else { Problem::BadSlug }));
                return None;
            }
            Some(ItemRef { map: map?, item })
        })
        .collect()
}

/// An optional bot id (`null` or `""` = none).
pub(crate) fn bot(o: &Map<String, Value>, key: &str, path: &str, errors: &mut Vec<FieldError>) -> Option<BotId> {
    let raw = text_max(o, key, path, MAX_ID, errors);
    if raw.is_empty() {
        return None;
    }
    let parsed = BotId::parse(&raw);
    if parsed.is_none() {
        errors.push(FieldError::new(join(path, key), Problem::Unknown));
    }
    parsed
}

/// An optional endpoint alias (`null` or `""` = none).
pub(crate) fn alias(o: &Map<String, Value>, key: &str, path: &str, errors: &mut Vec<FieldError>) -> Option<Alias> {
    let raw = text_max(o, key, path, 200, errors);
    if raw.trim().is_empty() {
        return None;
    }
    match Alias::parse(&raw) {
        Ok(alias) => Some(alias),
        Err(problem) => {
            errors.push(FieldError::new(join(path, key), problem));
            None
        }
    }
}

/// Bindings of a blueprint cell: `[{"bot_id": "bot_x", "alias": "a/b"}]`.
pub(crate) fn bindings(o: &Map<String, Value>, key: &str, path: &str, errors: &mut Vec<FieldError>) -> Vec<EndpointBinding> {
    let field = join(path, key);
    list(o, key, path, MAX_LINKS, errors)
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let at = format!("{field}[{i}]");
            let b = object(v, &at, errors);
            // Both halves are required; a present but bad one is reported by its reader.
            let blank = |key: &str| b.get(key).and_then(Value::as_str).is_none_or(|s| s.trim().is_empty());
            let bot_id = bot(b, "bot_id", &at, errors);
            let alias = alias(b, "alias", &at, errors);
            for key in ["bot_id", "alias"] {
                if blank(key) {
                    errors.push(FieldError::new(join(&at, key), Problem::Required));
                }
            }
            Some(EndpointBinding { bot_id: bot_id?, alias: alias? })
        })
        .collect()
}
