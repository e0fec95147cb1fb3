//! The endpoint a project's maps plan but no bot has yet: what the rows
//! bound to it say it is, as a draft to create it from (the ComOps loop's
//! "not live" gap, closed from the loop).
//!
//! The integration-points table describes the endpoint (its description,
//! response and owner); a communication row names the scenario the event
//! starts, and its event describes the endpoint when no integration
//! point does. The first row of each kind that says something wins, in
//! the maps' order and then the rows'. The request schema is left empty
//! (any JSON object): the table's «Request Params» cell is prose
//! (`{ userId }`), not a schema. A map's cell may be longer than an
//! endpoint's field: texts are cut to the endpoint's limits (a row's
//! scenario name has the endpoint's limit already).

use super::{EndpointBinding, Map, MapContent};
use crate::endpoint::{EndpointDraft, MAX_DESCRIPTION, MAX_NAME};

/// The draft of endpoint `binding` as `maps` plan it, enabled; `None`
/// when no row or cell of them is bound to it.
pub fn planned_endpoint(maps: &[Map], binding: &EndpointBinding) -> Option<EndpointDraft> {
    let mut bound = false;
    let (mut description, mut response, mut owner) = (String::new(), String::new(), String::new());
    let (mut event, mut scenario) = (String::new(), String::new());
    let first = |slot: &mut String, text: &str| {
        if slot.is_empty() {
            *slot = text.trim().to_string();
        }
    };
    for map in maps {
        match &map.content {
            MapContent::Integration(m) => {
                for row in m.rows.iter().filter(|r| r.binding().as_ref() == Some(binding)) {
                    bound = true;
                    first(&mut description, &row.description);
                    first(&mut response, &row.response);
                    first(&mut owner, &row.owner);
                }
            }
            MapContent::Communication(m) => {
                for row in m.rows.iter().filter(|r| r.trigger.binding().as_ref() == Some(binding)) {
                    bound = true;
                    first(&mut event, &row.event);
                    first(&mut scenario, &row.trigger.scenario);
                }
            }
            MapContent::Blueprint(_) => bound |= map.content.bindings().iter().any(|(_, b)| b == binding),
            MapContent::Cjm(_) => {}
        }
    }
    bound.then(|| EndpointDraft {
        alias: binding.alias.to_string(),
        description: cut(if description.is_empty() { event } else { description }, MAX_DESCRIPTION),
        owner: cut(owner, MAX_NAME),
        response_description: cut(response, MAX_DESCRIPTION),
        enabled: true,
        scenario,
        ..EndpointDraft::default()
    })
}

/// `text`'s first `max` characters.
fn cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].trim_end().to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::{MapKind, MapId};
    use crate::{Alias, BotId, ProjectId};
    use serde_json::json;

    fn map(kind: MapKind, content: serde_json::Value) -> Map {
        Map {
            id: MapId::parse("map_test").unwrap(),
            project_id: ProjectId::parse("prj_demo").unwrap(),
            kind,
            title: String::new(),
            content: MapContent::from_value(kind, &content).unwrap(),
            version: 1,
            author: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn binding(alias: &str) -> EndpointBinding {
        EndpointBinding { bot_id: BotId::parse("bot_rehau").unwrap(), alias: Alias::parse(alias).unwrap() }
    }

    #[test]
    fn an_integration_point_describes_it_and_a_row_names_its_scenario() {
        let rows = map(
            MapKind::Communication,
            json!({"rows": [
                {"id": "r1", "number": 1, "event": "Order paid", "trigger": {"bot_id": "bot_rehau", "alias": "orders/other", "scenario": "other"}},
                {"id": "r2", "number": 2, "event": "  Warranty registered ", "trigger": {"bot_id": "bot_rehau", "alias": "users/warranty"}},
                {"id": "r3", "number": 3, "event": "Warranty again", "trigger": {"bot_id": "bot_rehau", "alias": "users/warranty", "scenario": "warranty_flow"}}
            ]}),
        );
        let points = map(
            MapKind::Integration,
            json!({"rows": [
                {"id": "p1", "alias": "users/warranty", "bot_id": "bot_rehau", "description": "Registers a warranty", "response": "{ success: true }", "owner": "CRM team"}
            ]}),
        );
        let draft = planned_endpoint(&[rows.clone(), points], &binding("users/warranty")).unwrap();
        assert_eq!(draft.alias, "users/warranty");
        assert_eq!(draft.description, "Registers a warranty");
        assert_eq!((draft.response_description.as_str(), draft.owner.as_str()), ("{ success: true }", "CRM team"));
        assert_eq!(draft.scenario, "warranty_flow");
        assert!(draft.enabled);
        assert!(draft.validate().is_ok());
        // Without an integration point, the first row's event describes it.
        let draft = planned_endpoint(&[rows], &binding("users/warranty")).unwrap();
        assert_eq!((draft.description.as_str(), draft.owner.as_str()), ("Warranty registered", ""));
    }

    #[test]
    fn texts_longer_than_an_endpoint_takes_are_cut_to_its_limits() {
        let points = map(
            MapKind::Integration,
            json!({"rows": [{"id": "p1", "alias": "users/warranty", "bot_id": "bot_rehau", "description": "д".repeat(4000), "owner": "о".repeat(300)}]}),
        );
        let rows = map(MapKind::Communication, json!({"rows": [{"id": "r1", "number": 1, "event": "x", "trigger": {"bot_id": "bot_rehau", "alias": "users/warranty", "scenario": "warranty_flow"}}]}));
        let draft = planned_endpoint(&[points, rows], &binding("users/warranty")).unwrap();
        assert_eq!((draft.description.chars().count(), draft.owner.chars().count(), draft.scenario.as_str()), (MAX_DESCRIPTION, MAX_NAME, "warranty_flow"));
        assert!(draft.validate().is_ok());
    }

    #[test]
    fn an_endpoint_nothing_binds_is_not_planned() {
        let rows = map(MapKind::Communication, json!({"rows": [{"id": "r1", "number": 1, "event": "x", "trigger": {"alias": "users/warranty"}}]}));
        // An alias without its bot is a plan, not a binding to this bot.
        assert_eq!(planned_endpoint(&[rows], &binding("users/warranty")), None);
        let other = EndpointBinding { bot_id: BotId::parse("bot_shop").unwrap(), alias: Alias::parse("users/warranty").unwrap() };
        let bound = map(MapKind::Communication, json!({"rows": [{"id": "r1", "number": 1, "event": "x", "trigger": {"bot_id": "bot_rehau", "alias": "users/warranty"}}]}));
        assert_eq!(planned_endpoint(&[bound], &other), None);
    }

    #[test]
    fn a_blueprint_cell_alone_plans_it_undescribed() {
        let blueprint = map(
            MapKind::Blueprint,
            json!({"stages": [{"id": "s1", "name": "Use", "support": {"text": "CRM", "endpoints": [{"bot_id": "bot_rehau", "alias": "users/warranty"}]}}]}),
        );
        let draft = planned_endpoint(&[blueprint], &binding("users/warranty")).unwrap();
        assert_eq!((draft.description.as_str(), draft.scenario.as_str()), ("", ""));
    }
}
