//! A scenario as a graph: every step is a node, every link of a step
//! (`next`, `then`, `on_error`, `cases[0].next`, …) an edge labelled with
//! the field that holds it. Connecting two nodes on the canvas writes that
//! field; removing a link or the nodes it pointed at clears it, so the
//! validator names what still needs a target.

use comops_core::scenario::{Case, Scenario, StepKind};
use serde_json::Value;
use std::collections::BTreeSet;

/// One link between two steps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    /// The field of `from` that names `to`: `next`, `then`, `cases[1].next`.
    pub field: String,
    pub to: String,
}

/// Every link whose target exists, in step order (a link to a missing
/// step is a validation problem, shown on its node instead).
pub fn edges(scenario: &Scenario) -> Vec<Edge> {
    let ids: BTreeSet<&str> = scenario.steps.iter().map(|s| s.id.as_str()).collect();
    scenario
        .steps
        .iter()
        .flat_map(|step| {
            step.kind.transitions().into_iter().filter(|(_, to)| ids.contains(to)).map(|(field, to)| Edge {
                from: step.id.clone(),
                field,
                to: to.to_string(),
            })
        })
        .collect()
}

/// Switch steps get one more choice when connecting: a new case.
pub const NEW_CASE: &str = "cases[+].next";

/// The fields a connection from a step of this kind may set, in the order
/// offered; an `end` has none.
pub fn link_fields(kind: &StepKind) -> Vec<String> {
    let fixed: &[&str] = match kind {
        StepKind::Message { .. } | StepKind::Set { .. } | StepKind::Run { .. } | StepKind::Handover { .. } | StepKind::Wait { .. } => {
            &["next"]
        }
        StepKind::Ask { .. } => &["next", "on_no_reply", "on_delivery_failed"],
        StepKind::Http { .. } | StepKind::Script { .. } => &["next", "on_error"],
        StepKind::If { .. } => &["then", "otherwise"],
        StepKind::Goto { .. } => &["target"],
        StepKind::End { .. } => &[],
        StepKind::Switch { cases, .. } => {
            let mut out: Vec<String> = (0..cases.len()).map(|i| format!("cases[{i}].next")).collect();
            out.push(NEW_CASE.into());
            out.push("default".into());
            return out;
        }
    };
    fixed.iter().map(|f| f.to_string()).collect()
}

/// Where link `field` of a step lives: an optional link (`message.next`,
/// `on_error`, `on_no_reply`, …) or a required one (`ask.next`, `then`, a
/// switch case's `next`, …).
enum LinkSlot<'a> {
    Optional(&'a mut Option<String>),
    Required(&'a mut String),
}

/// The slot of link `field` of a step of `kind`; None when there is no
/// such field (or no such switch case).
fn link_slot<'a>(kind: &'a mut StepKind, field: &str) -> Option<LinkSlot<'a>> {
    Some(match (kind, field) {
        (StepKind::Message { next, .. }, "next")
        | (StepKind::Set { next, .. }, "next")
        | (StepKind::Run { next, .. }, "next")
        | (StepKind::Handover { next, .. }, "next")
        | (StepKind::Ask { on_no_reply: next, .. }, "on_no_reply")
        | (StepKind::Ask { on_delivery_failed: next, .. }, "on_delivery_failed")
        | (StepKind::Http { on_error: next, .. }, "on_error")
        | (StepKind::Script { on_error: next, .. }, "on_error") => LinkSlot::Optional(next),
        (StepKind::Ask { next, .. }, "next")
        | (StepKind::Http { next, .. }, "next")
        | (StepKind::Script { next, .. }, "next")
        | (StepKind::Wait { next, .. }, "next")
        | (StepKind::If { then: next, .. }, "then")
        | (StepKind::If { otherwise: next, .. }, "otherwise")
        | (StepKind::Switch { default: next, .. }, "default")
        | (StepKind::Goto { target: next }, "target") => LinkSlot::Required(next),
        (StepKind::Switch { cases, .. }, field) => {
            let i = field.strip_prefix("cases[").and_then(|r| r.strip_suffix("].next")).and_then(|n| n.parse::<usize>().ok())?;
            LinkSlot::Required(&mut cases.get_mut(i)?.next)
        }
        _ => return None,
    })
}

/// Points link `field` of step `from` at `to` ([`NEW_CASE`] adds a switch
/// case). False when the step or the field does not exist.
pub fn set_link(scenario: &mut Scenario, from: &str, field: &str, to: &str) -> bool {
    let Some(step) = scenario.steps.iter_mut().find(|s| s.id == from) else {
        return false;
    };
    match (&mut step.kind, field) {
        (StepKind::Switch { cases, .. }, NEW_CASE) => cases.push(Case { equals: Value::String(String::new()), next: to.to_string() }),
        (kind, field) => match link_slot(kind, field) {
            Some(LinkSlot::Optional(slot)) => *slot = Some(to.to_string()),
            Some(LinkSlot::Required(slot)) => *slot = to.to_string(),
            None => return false,
        },
    }
    true
}

/// Removes link `field` of step `from` (one edge): an optional link is
/// dropped, a required one emptied, so the validator names the step that
/// needs a new target. False when there is no such link.
pub fn remove_link(scenario: &mut Scenario, from: &str, field: &str) -> bool {
    let Some(step) = scenario.steps.iter_mut().find(|s| s.id == from) else {
        return false;
    };
    match link_slot(&mut step.kind, field) {
        Some(LinkSlot::Optional(slot)) => slot.take().is_some(),
        Some(LinkSlot::Required(slot)) => !std::mem::take(slot).is_empty(),
        None => false,
    }
}

/// Removes the steps `ids` and their positions. Optional links that
/// pointed at them are dropped, required ones emptied (the validator then
/// names them); a removed start passes to the first step left.
pub fn remove_steps(scenario: &mut Scenario, ids: &BTreeSet<String>) {
    scenario.steps.retain(|s| !ids.contains(&s.id));
    scenario.layout.retain(|id, _| !ids.contains(id));
    let gone = |t: &String| ids.contains(t);
    let clear = |t: &mut String| {
        if gone(t) {
            t.clear()
        }
    };
    let drop_opt = |t: &mut Option<String>| {
        if t.as_ref().is_some_and(gone) {
            *t = None
        }
    };
    for step in &mut scenario.steps {
        match &mut step.kind {
            StepKind::Message { next, .. } | StepKind::Set { next, .. } | StepKind::Run { next, .. } | StepKind::Handover { next, .. } => {
                drop_opt(next)
            }
            StepKind::Ask { next, on_no_reply, on_delivery_failed, .. } => {
                clear(next);
                drop_opt(on_no_reply);
                drop_opt(on_delivery_failed);
            }
            StepKind::Http { next, on_error, .. } | StepKind::Script { next, on_error, .. } => {
                clear(next);
                drop_opt(on_error);
            }
            StepKind::If { then, otherwise, .. } => {
                clear(then);
                clear(otherwise);
            }
            StepKind::Switch { cases, default, .. } => {
                cases.iter_mut().for_each(|c| clear(&mut c.next));
                clear(default);
            }
            StepKind::Wait { next, .. } => clear(next),
            StepKind::Goto { target } => clear(target),
            StepKind::End { .. } => {}
        }
    }
    if gone(&scenario.start) {
        scenario.start = scenario.steps.first().map(|s| s.id.clone()).unwrap_or_default();
    }
}

/// The ids (any kind: step names, node indexes) of the nodes (each `w`×`h`
/// at its position) that a rubber band from `a` to `b` (any two corners)
/// touches, in the order given.
pub fn in_band<T>(nodes: impl IntoIterator<Item = (T, [f64; 2])>, a: [f64; 2], b: [f64; 2], w: f64, h: f64) -> Vec<T> {
    let (x0, x1) = (a[0].min(b[0]), a[0].max(b[0]));
    let (y0, y1) = (a[1].min(b[1]), a[1].max(b[1]));
    nodes
        .into_iter()
        .filter(|(_, p)| p[0] < x1 && p[0] + w > x0 && p[1] < y1 && p[1] + h > y0)
        .map(|(id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        serde_json::from_value(serde_json::json!({
            "name": "s", "start": "ask", "steps": [
                {"id": "ask", "type": "ask", "prompt": "?", "expect": "rating", "var": "r", "next": "check", "on_no_reply": "bye"},
                {"id": "check", "type": "if", "condition": "vars.r >= 4", "then": "thanks", "otherwise": "ask"},
                {"id": "thanks", "type": "message", "text": "Спасибо!", "next": "bye"},
                {"id": "bye", "type": "end"}
            ],
            "layout": {"ask": [0, 0], "thanks": [200, 0]}
        }))
        .unwrap()
    }

    fn edge(from: &str, field: &str, to: &str) -> Edge {
        Edge { from: from.into(), field: field.into(), to: to.into() }
    }

    #[test]
    fn every_link_is_an_edge_labelled_by_its_field() {
        assert_eq!(
            edges(&scenario()),
            [
                edge("ask", "next", "check"),
                edge("ask", "on_no_reply", "bye"),
                edge("check", "then", "thanks"),
                edge("check", "otherwise", "ask"),
                edge("thanks", "next", "bye"),
            ]
        );
    }

    #[test]
    fn a_link_to_a_missing_step_is_no_edge() {
        let mut s = scenario();
        assert!(set_link(&mut s, "thanks", "next", "nowhere"));
        assert!(!edges(&s).iter().any(|e| e.from == "thanks"));
    }

    #[test]
    fn connecting_sets_the_chosen_field() {
        let mut s = scenario();
        assert!(set_link(&mut s, "ask", "on_delivery_failed", "bye"));
        assert!(set_link(&mut s, "check", "otherwise", "bye"));
        assert!(!set_link(&mut s, "bye", "next", "ask"), "an end links nowhere");
        assert!(!set_link(&mut s, "thanks", "then", "ask"), "a message has no then");
        let e = edges(&s);
        assert!(e.contains(&edge("ask", "on_delivery_failed", "bye")));
        assert!(e.contains(&edge("check", "otherwise", "bye")));
        assert_eq!(link_fields(&s.steps[0].kind), ["next", "on_no_reply", "on_delivery_failed"]);
    }

    #[test]
    fn a_switch_connection_may_add_a_case() {
        let mut s = scenario();
        s.steps.push(serde_json::from_value(serde_json::json!({"id": "sw", "type": "switch", "value": "vars.r", "default": "bye"})).unwrap());
        assert_eq!(link_fields(&s.steps[4].kind), [NEW_CASE, "default"]);
        assert!(set_link(&mut s, "sw", NEW_CASE, "thanks"));
        assert!(set_link(&mut s, "sw", "cases[0].next", "ask"));
        assert!(edges(&s).contains(&edge("sw", "cases[0].next", "ask")));
        assert!(!set_link(&mut s, "sw", "cases[5].next", "ask"));
    }

    #[test]
    fn removing_steps_clears_links_to_them_and_moves_the_start() {
        let mut s = scenario();
        remove_steps(&mut s, &["ask".to_string(), "bye".to_string()].into());
        assert_eq!(s.start, "check");
        assert_eq!(s.layout.keys().collect::<Vec<_>>(), ["thanks"]);
        assert_eq!(edges(&s), [edge("check", "then", "thanks")]);
        match &s.steps[1].kind {
            StepKind::Message { next, .. } => assert_eq!(next, &None),
            other => panic!("{other:?}"),
        }
        // The required `otherwise` is emptied: the validator names it.
        assert!(s.validate().is_err());
    }

    #[test]
    fn removing_one_link_drops_or_empties_just_that_field() {
        let mut s = scenario();
        // Optional: the ask's silence branch goes; its other links stay.
        assert!(remove_link(&mut s, "ask", "on_no_reply"));
        match &s.steps[0].kind {
            StepKind::Ask { next, on_no_reply, .. } => assert_eq!((next.as_str(), on_no_reply), ("check", &None)),
            other => panic!("{other:?}"),
        }
        assert!(!remove_link(&mut s, "ask", "on_no_reply"), "already gone");
        assert!(s.validate().is_ok(), "an ask without a silence branch is fine");
        // Required: emptied, and the validator names the step.
        assert!(remove_link(&mut s, "check", "then"));
        assert_eq!(edges(&s), [edge("ask", "next", "check"), edge("check", "otherwise", "ask"), edge("thanks", "next", "bye")]);
        let errors = s.validate().unwrap_err();
        assert!(errors.iter().any(|e| e.step.as_deref() == Some("check")), "{errors:?}");
        // A switch case keeps its value, loses its target.
        s.steps.push(serde_json::from_value(serde_json::json!({"id": "sw", "type": "switch", "value": "vars.r", "cases": [{"equals": "5", "next": "thanks"}], "default": "bye"})).unwrap());
        assert!(remove_link(&mut s, "sw", "cases[0].next"));
        assert!(!remove_link(&mut s, "sw", "cases[3].next"));
        assert!(!remove_link(&mut s, "bye", "next"), "an end has no links");
        assert!(!remove_link(&mut s, "nowhere", "next"));
        assert!(!edges(&s).iter().any(|e| e.from == "sw" && e.field.starts_with("cases")));
    }

    #[test]
    fn a_rubber_band_takes_the_nodes_it_touches() {
        let nodes = [("a", [0.0, 0.0]), ("b", [300.0, 0.0]), ("c", [0.0, 300.0])];
        assert_eq!(in_band(nodes, [250.0, 50.0], [-10.0, -10.0], 100.0, 40.0), ["a"]);
        assert_eq!(in_band(nodes, [-10.0, -10.0], [350.0, 10.0], 100.0, 40.0), ["a", "b"]);
    }
}
