//! The differences between two versions of a scenario, for the studio's
//! side-by-side view (SPEC §6 "Versions").
//!
//! Steps are matched by id. Each step is read as its stored JSON object
//! (`type`, `text`, `next`, `buttons`, …), so every kind of step, now and
//! later, compares the same way: one line per field that differs, a whole
//! step added or removed as its every field on one side. Where the canvas
//! drew the steps (`layout`) is not a difference.

use super::{Scenario, Step};
use crate::map::diff::Change;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field that differs: the step's id (empty for the scenario's own
/// `description` and `start`), what happened to the step, the field and
/// both sides as text (empty = absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub step: String,
    pub change: Change,
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Every field that differs from `before` to `after`: the scenario's own
/// first, then the steps in `after`'s order, removed steps last.
pub fn changes(before: &Scenario, after: &Scenario) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (field, old, new) in [("description", &before.description, &after.description), ("start", &before.start, &after.start)] {
        if old != new {
            out.push(FieldChange { step: String::new(), change: Change::Changed, field: field.into(), before: old.clone(), after: new.clone() });
        }
    }
    for step in &after.steps {
        let (change, old) = match before.step(&step.id) {
            Some(old) => (Change::Changed, fields(old)),
            None => (Change::Added, Vec::new()),
        };
        push_step(&mut out, &step.id, change, &old, &fields(step));
    }
    for step in before.steps.iter().filter(|s| after.step(&s.id).is_none()) {
        push_step(&mut out, &step.id, Change::Removed, &fields(step), &[]);
    }
    out
}

/// How many steps (and the scenario's own fields) differ.
pub fn changed_items(changes: &[FieldChange]) -> usize {
    let mut items: Vec<&str> = changes.iter().map(|c| if c.step.is_empty() { c.field.as_str() } else { c.step.as_str() }).collect();
    items.dedup();
    items.len()
}

/// A step's fields other than its id, as (name, text), by name.
fn fields(step: &Step) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = match serde_json::to_value(step) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter(|(name, _)| name != "id")
            .map(|(name, value)| {
                let text = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                (name, text)
            })
            .collect(),
        _ => Vec::new(),
    };
    list.sort();
    list
}

fn push_step(out: &mut Vec<FieldChange>, step: &str, change: Change, old: &[(String, String)], new: &[(String, String)]) {
    let side = |list: &[(String, String)], name: &str| list.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone()).unwrap_or_default();
    let mut names: Vec<&str> = new.iter().map(|(n, _)| n.as_str()).collect();
    names.extend(old.iter().map(|(n, _)| n.as_str()).filter(|n| !new.iter().any(|(m, _)| m == n)));
    for name in names {
        let (before, after) = (side(old, name), side(new, name));
        if before != after {
            out.push(FieldChange { step: step.into(), change, field: name.into(), before, after });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(value: serde_json::Value) -> Scenario {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn lists_changed_added_and_removed_steps_field_by_field() {
        let before = scenario(json!({"name": "thank_you", "start": "hi", "steps": [
            {"id": "hi", "type": "message", "text": "Спасибо за заказ!", "next": "rate"},
            {"id": "rate", "type": "ask", "prompt": "Оцените", "expect": "text", "var": "rating", "next": "bye"},
            {"id": "bye", "type": "end"}
        ]}));
        let mut after = scenario(json!({"name": "thank_you", "start": "hi", "description": "CSAT", "steps": [
            {"id": "hi", "type": "message", "text": "Спасибо за заказ, {{ lead.name }}!", "next": "rate"},
            {"id": "rate", "type": "ask", "prompt": "Оцените", "expect": "text", "var": "rating", "next": "thanks"},
            {"id": "thanks", "type": "message", "text": "Спасибо!"}
        ]}));
        after.layout.insert("hi".into(), [10, 20]);
        let found = changes(&before, &after);
        let lines: Vec<(&str, Change, &str)> = found.iter().map(|c| (c.step.as_str(), c.change, c.field.as_str())).collect();
        assert_eq!(
            lines,
            [
                ("", Change::Changed, "description"),
                ("hi", Change::Changed, "text"),
                ("rate", Change::Changed, "next"),
                ("thanks", Change::Added, "text"),
                ("thanks", Change::Added, "type"),
                ("bye", Change::Removed, "type"),
            ]
        );
        assert_eq!((found[1].before.as_str(), found[1].after.as_str()), ("Спасибо за заказ!", "Спасибо за заказ, {{ lead.name }}!"));
        assert_eq!((found[3].before.as_str(), found[3].after.as_str()), ("", "Спасибо!"));
        assert_eq!(changed_items(&found), 5);
        assert_eq!(changes(&before, &before), []);
    }
}
