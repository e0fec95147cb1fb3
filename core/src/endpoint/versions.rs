//! An endpoint's versions (SPEC §6 "Versions"): what an entry of its
//! history says, the part-by-part differences between two versions (the
//! studio's side-by-side view), and the merge of an editor's changes onto
//! a version someone else saved meanwhile.
//!
//! A version's content is the [`EndpointDraft`] the studio edits, so a
//! restored or merged version goes through the same validation as a typed
//! one. Request fields are matched by name.

use super::EndpointDraft;
use crate::schema::SchemaField;
use crate::Millis;
use serde::{Deserialize, Serialize};

/// One entry of an endpoint's history (without its content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointVersionInfo {
    pub version: i64,
    pub note: String,
    pub author: String,
    pub created_at: Millis,
}

/// One saved version of an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointVersion {
    pub version: i64,
    pub draft: EndpointDraft,
    pub note: String,
    pub author: String,
    pub created_at: Millis,
}

/// A part of an endpoint that a version can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointPart {
    Alias,
    Description,
    Owner,
    Scenario,
    Enabled,
    Isolated,
    AllowOverlap,
    OnBlocked,
    /// One field of the request schema (named by [`PartChange::name`]).
    RequestField,
    Example,
    ResponseDescription,
}

/// One difference between two versions: the part (for a request field,
/// its name too) and both sides as text; an empty side is absent. Flags
/// read `true` / `false`, a request field its JSON definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartChange {
    pub part: EndpointPart,
    pub name: String,
    pub before: String,
    pub after: String,
}

/// Every part that differs from `before` to `after`, in the form's order;
/// request fields in `after`'s order, removed ones last. An example that
/// only changed its layout is the same example.
pub fn changes(before: &EndpointDraft, after: &EndpointDraft) -> Vec<PartChange> {
    let mut out = Vec::new();
    let mut part = |part: EndpointPart, name: &str, before: String, after: String| {
        if before != after {
            out.push(PartChange { part, name: name.to_string(), before, after });
        }
    };
    part(EndpointPart::Alias, "", before.alias.clone(), after.alias.clone());
    part(EndpointPart::Description, "", before.description.clone(), after.description.clone());
    part(EndpointPart::Owner, "", before.owner.clone(), after.owner.clone());
    part(EndpointPart::Scenario, "", before.scenario.clone(), after.scenario.clone());
    part(EndpointPart::Enabled, "", before.enabled.to_string(), after.enabled.to_string());
    part(EndpointPart::Isolated, "", before.isolated.to_string(), after.isolated.to_string());
    part(EndpointPart::AllowOverlap, "", before.allow_overlap.to_string(), after.allow_overlap.to_string());
    part(EndpointPart::OnBlocked, "", before.on_blocked.clone(), after.on_blocked.clone());
    let named = |fields: &[SchemaField], name: &str| fields.iter().find(|f| f.name == name).map(field_text).unwrap_or_default();
    for field in &after.schema.fields {
        part(EndpointPart::RequestField, &field.name, named(&before.schema.fields, &field.name), field_text(field));
    }
    for field in before.schema.fields.iter().filter(|f| !after.schema.fields.iter().any(|a| a.name == f.name)) {
        part(EndpointPart::RequestField, &field.name, field_text(field), String::new());
    }
    if !same_example(&before.example, &after.example) {
        part(EndpointPart::Example, "", before.example.clone(), after.example.clone());
    }
    part(EndpointPart::ResponseDescription, "", before.response_description.clone(), after.response_description.clone());
    out
}

/// `mine` (edited from `base`) merged onto `theirs` (saved from `base`
/// meanwhile): each part `mine` left as it was takes `theirs`, each part
/// `mine` changed keeps `mine`. The request schema is one part.
pub fn rebase(base: &EndpointDraft, theirs: &EndpointDraft, mine: &EndpointDraft) -> EndpointDraft {
    fn pick<T: PartialEq + Clone>(base: &T, theirs: &T, mine: &T) -> T {
        if mine == base { theirs.clone() } else { mine.clone() }
    }
    EndpointDraft {
        alias: pick(&base.alias, &theirs.alias, &mine.alias),
        description: pick(&base.description, &theirs.description, &mine.description),
        owner: pick(&base.owner, &theirs.owner, &mine.owner),
        schema: pick(&base.schema, &theirs.schema, &mine.schema),
        example: if same_example(&mine.example, &base.example) { theirs.example.clone() } else { mine.example.clone() },
        response_description: pick(&base.response_description, &theirs.response_description, &mine.response_description),
        isolated: pick(&base.isolated, &theirs.isolated, &mine.isolated),
        enabled: pick(&base.enabled, &theirs.enabled, &mine.enabled),
        scenario: pick(&base.scenario, &theirs.scenario, &mine.scenario),
        allow_overlap: pick(&base.allow_overlap, &theirs.allow_overlap, &mine.allow_overlap),
        on_blocked: pick(&base.on_blocked, &theirs.on_blocked, &mine.on_blocked),
    }
}

/// A request field as its JSON definition (the docs' notation, the same
/// in every language).
fn field_text(field: &SchemaField) -> String {
    serde_json::to_string(field).unwrap_or_default()
}

/// Two example texts that are the same JSON (or the same text).
fn same_example(a: &str, b: &str) -> bool {
    let parse = |text: &str| if text.trim().is_empty() { Some(serde_json::json!({})) } else { serde_json::from_str::<serde_json::Value>(text).ok() };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(value: serde_json::Value) -> EndpointDraft {
        serde_json::from_value(value).unwrap()
    }

    fn order() -> EndpointDraft {
        draft(json!({
            "alias": "order/thank-you", "description": "Thank the buyer", "enabled": true,
            "schema": {"fields": [
                {"name": "phone", "type": "string", "required": true, "format": "phone"},
                {"name": "order_id", "type": "string", "required": true}
            ]},
            "example": "{\"phone\": \"+79990000000\", \"order_id\": \"A-1\"}"
        }))
    }

    #[test]
    fn lists_each_changed_part_and_request_field() {
        let before = order();
        let mut after = order();
        after.description = "Thank the buyer and ask for a rating".into();
        after.enabled = false;
        after.schema.fields.remove(0);
        after.schema.fields[0].required = false;
        after.schema.fields.push(draft(json!({"schema": {"fields": [{"name": "total", "type": "number"}]}})).schema.fields.remove(0));
        let list = changes(&before, &after);
        assert_eq!(
            list.iter().map(|c| c.part).collect::<Vec<_>>(),
            [EndpointPart::Description, EndpointPart::Enabled, EndpointPart::RequestField, EndpointPart::RequestField, EndpointPart::RequestField]
        );
        assert_eq!((list[1].before.as_str(), list[1].after.as_str()), ("true", "false"));
        assert_eq!(list[2].name, "order_id");
        assert!(list[2].before.contains(r#""required":true"#) && !list[2].after.contains("required\":true"));
        assert_eq!((list[3].name.as_str(), list[3].before.as_str()), ("total", ""));
        assert_eq!((list[4].name.as_str(), list[4].after.as_str()), ("phone", ""));
    }

    #[test]
    fn an_example_laid_out_again_is_no_change() {
        let mut after = order();
        after.example = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&order().example).unwrap()).unwrap();
        assert_eq!(changes(&order(), &after), []);
        after.example = r#"{"phone": "+79990000001"}"#.into();
        assert_eq!(changes(&order(), &after).iter().map(|c| c.part).collect::<Vec<_>>(), [EndpointPart::Example]);
    }

    #[test]
    fn a_merge_keeps_both_editors_changes_and_mine_where_both_changed() {
        let base = order();
        let mut theirs = order();
        theirs.owner = "CRM team".into();
        theirs.description = "Their words".into();
        let mut mine = order();
        mine.description = "My words".into();
        mine.scenario = "thank_you".into();
        let merged = rebase(&base, &theirs, &mine);
        assert_eq!(merged.owner, "CRM team");
        assert_eq!(merged.description, "My words");
        assert_eq!(merged.scenario, "thank_you");
        assert_eq!(merged.schema, base.schema);
        assert_eq!(rebase(&base, &theirs, &base), theirs);
    }
}
