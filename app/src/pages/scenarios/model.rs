//! Edits of the scenario value that the editor makes, with no views: new
//! step ids, a new step of a type, and renaming a step everywhere.

use comops_core::scenario::{Expect, HttpMethod, Scenario, Step, StepKind};
use std::collections::BTreeMap;

/// The JSON name of an expected answer kind.
pub(super) fn expect_name(expect: Expect) -> &'static str {
    match expect {
        Expect::Text => "text",
        Expect::Number => "number",
        Expect::Phone => "phone",
        Expect::Email => "email",
        Expect::Choice => "choice",
        Expect::Contact => "contact",
        Expect::Rating => "rating",
    }
}

/// A step id not used yet: `message`, `message_2`, …
pub(super) fn unique_id(scenario: &Scenario, kind: &str) -> String {
    let taken = |id: &str| scenario.steps.iter().any(|s| s.id == id);
    if !taken(kind) {
        return kind.to_string();
    }
    (2..).map(|n| format!("{kind}_{n}")).find(|id| !taken(id)).unwrap_or_else(|| kind.to_string())
}

/// A new step of type `kind` with empty settings (the validator names
/// what still needs filling in).
pub(super) fn default_step(kind: &str, id: String) -> Step {
    let kind = match kind {
        "ask" => StepKind::Ask {
            prompt: String::new(),
            expect: Expect::Text,
            var: "answer".into(),
            choices: vec![],
            buttons: vec![],
            reask: None,
            max_reasks: 3,
            timeout_sec: None,
            next: String::new(),
            on_no_reply: None,
            on_delivery_failed: None,
        },
        "http" => StepKind::Http {
            method: HttpMethod::Post,
            url: String::new(),
            headers: vec![],
            body: None,
            save_as: "response".into(),
            timeout_ms: 10_000,
            retries: 0,
            next: String::new(),
            on_error: None,
        },
        "script" => StepKind::Script { code: String::new(), next: String::new(), on_error: None },
        "set" => StepKind::Set {
            vars: BTreeMap::new(),
            attributes: BTreeMap::new(),
            add_tags: vec![],
            remove_tags: vec![],
            status: None,
            next: None,
        },
        "if" => StepKind::If { condition: String::new(), then: String::new(), otherwise: String::new() },
        "switch" => StepKind::Switch { value: String::new(), cases: vec![], default: String::new() },
        "wait" => StepKind::Wait { seconds: Some(60), until: None, next: String::new() },
        "goto" => StepKind::Goto { target: String::new() },
        "run" => StepKind::Run { scenario: String::new(), next: None },
        "handover" => StepKind::Handover { note: String::new(), next: None },
        "end" => StepKind::End { goal: None },
        _ => StepKind::Message { text: String::new(), buttons: vec![], media_url: None, next: None },
    };
    Step { id, kind }
}

/// Points every reference to step `old` at `new` (after a rename).
pub(super) fn rename_references(scenario: &mut Scenario, old: &str, new: &str) {
    if old == new {
        return;
    }
    let fix = |target: &mut String| {
        if target == old {
            *target = new.to_string();
        }
    };
    let fix_opt = |target: &mut Option<String>| {
        if let Some(t) = target {
            if t == old {
                *t = new.to_string();
            }
        }
    };
    if scenario.start == old {
        scenario.start = new.to_string();
    }
    if let Some(at) = scenario.layout.remove(old) {
        scenario.layout.insert(new.to_string(), at);
    }
    for step in &mut scenario.steps {
        match &mut step.kind {
            StepKind::Message { next, .. } | StepKind::Set { next, .. } | StepKind::Run { next, .. } | StepKind::Handover { next, .. } => {
                fix_opt(next)
            }
            StepKind::Ask { next, on_no_reply, on_delivery_failed, .. } => {
                fix(next);
                fix_opt(on_no_reply);
                fix_opt(on_delivery_failed);
            }
            StepKind::Http { next, on_error, .. } | StepKind::Script { next, on_error, .. } => {
                fix(next);
                fix_opt(on_error);
            }
            StepKind::If { then, otherwise, .. } => {
                fix(then);
                fix(otherwise);
            }
            StepKind::Switch { cases, default, .. } => {
                for case in cases {
                    fix(&mut case.next);
                }
                fix(default);
            }
            StepKind::Wait { next, .. } => fix(next),
            StepKind::Goto { target } => fix(target),
            StepKind::End { .. } => {}
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An ask and a switch that point at each other.
    pub(in crate::pages::scenarios) fn scenario() -> Scenario {
        serde_json::from_value(serde_json::json!({
            "name": "s", "start": "a", "steps": [
                {"id": "a", "type": "ask", "prompt": "?", "expect": "rating", "var": "r", "next": "b", "on_no_reply": "b"},
                {"id": "b", "type": "switch", "value": "vars.r", "cases": [{"equals": 5, "next": "a"}], "default": "b"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn renaming_a_step_moves_every_reference() {
        let mut s = scenario();
        rename_references(&mut s, "a", "start");
        assert_eq!(s.start, "start");
        let targets: Vec<String> = s.steps.iter().flat_map(|st| st.kind.transitions().into_iter().map(|(_, t)| t.to_string())).collect();
        assert_eq!(targets, ["b", "b", "start", "b"]);
        s.layout.insert("b".into(), [10, 20]);
        rename_references(&mut s, "b", "branch");
        assert_eq!(s.layout.get("branch"), Some(&[10, 20]), "the canvas position moves with the id");
    }

    #[test]
    fn new_ids_do_not_collide() {
        let mut s = scenario();
        assert_eq!(unique_id(&s, "message"), "message");
        s.steps.push(default_step("message", "message".into()));
        assert_eq!(unique_id(&s, "message"), "message_2");
    }

    #[test]
    fn expect_names_match_the_json() {
        for name in ["text", "number", "phone", "email", "choice", "contact", "rating"] {
            let expect: Expect = serde_json::from_value(serde_json::Value::String(name.into())).unwrap();
            assert_eq!(expect_name(expect), name);
        }
    }
}
