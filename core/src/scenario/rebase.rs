//! One editor's changes put onto the version someone else saved meanwhile
//! (the studio's "keep my edits" after a save conflict, SPEC §6).
//!
//! Steps are matched by id, as in the diff: a step I changed or added
//! takes my version, placed after the step it followed in mine; a step I
//! deleted goes; every other step stays as they saved it, in their order.
//! The description, the start and each step's place on the canvas: mine
//! where I changed them, else theirs. Where we both changed the same thing
//! differently, mine is kept and it is named, so the editor can look.

use super::Scenario;

/// The merged scenario and what both sides changed differently (step ids;
/// `description` and `start` for the scenario's own fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Rebased {
    /// Theirs with my edits on top.
    pub scenario: Scenario,
    /// What we both changed differently, mine kept: step ids (also a step
    /// one side deleted and the other changed), `description`, `start`.
    pub both_changed: Vec<String>,
}

/// My edits (`mine`, started from `origin`) on top of `theirs`.
pub fn rebase(origin: &Scenario, mine: &Scenario, theirs: &Scenario) -> Rebased {
    let mut out = theirs.clone();
    let mut both_changed = Vec::new();
    for (field, o, m, t) in [
        ("description", &origin.description, &mine.description, &theirs.description),
        ("start", &origin.start, &mine.start, &theirs.start),
    ] {
        if m != o {
            if t != o && t != m {
                both_changed.push(field.to_string());
            }
            match field {
                "description" => out.description = m.clone(),
                _ => out.start = m.clone(),
            }
        }
    }
    // The steps I deleted go; one they changed meanwhile is named.
    out.steps.retain(|t| {
        let deleted = origin.step(&t.id).is_some_and(|o| mine.step(&t.id).is_none() && {
            if o != t {
                both_changed.push(t.id.clone());
            }
            true
        });
        !deleted
    });
    let mut previous: Option<&str> = None;
    for m in &mine.steps {
        let o = origin.step(&m.id);
        if o != Some(m) {
            // Changed by both, or changed by me and deleted by them.
            let t = theirs.step(&m.id);
            if t.is_some_and(|t| Some(t) != o && t != m) || (o.is_some() && t.is_none()) {
                both_changed.push(m.id.clone());
            }
            match out.steps.iter_mut().find(|s| s.id == m.id) {
                Some(s) => *s = m.clone(),
                None => {
                    // After the step it follows in mine; first if it is
                    // my first; last if that step is not there.
                    let at = match previous {
                        None => 0,
                        Some(p) => out.steps.iter().position(|s| s.id == p).map_or(out.steps.len(), |i| i + 1),
                    };
                    out.steps.insert(at, m.clone());
                }
            }
        }
        previous = Some(&m.id);
    }
    for (id, at) in &mine.layout {
        if origin.layout.get(id) != Some(at) {
            out.layout.insert(id.clone(), *at);
        }
    }
    for id in origin.layout.keys().filter(|id| !mine.layout.contains_key(*id)) {
        out.layout.remove(id);
    }
    Rebased { scenario: out, both_changed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(value: serde_json::Value) -> Scenario {
        serde_json::from_value(value).unwrap()
    }

    fn ids(s: &Scenario) -> Vec<&str> {
        s.steps.iter().map(|s| s.id.as_str()).collect()
    }

    fn origin() -> Scenario {
        scenario(json!({"name": "thank_you", "start": "hi", "steps": [
            {"id": "hi", "type": "message", "text": "Спасибо за заказ!", "next": "rate"},
            {"id": "rate", "type": "ask", "prompt": "Оцените", "expect": "text", "var": "rating", "next": "bye"},
            {"id": "bye", "type": "end"}
        ]}))
    }

    #[test]
    fn my_steps_go_onto_theirs_and_theirs_stay() {
        let origin = origin();
        // I reworded the greeting and added a step after it; I deleted nothing.
        let mut mine = origin.clone();
        mine.steps[0] = scenario(json!({"name": "x", "start": "hi", "steps": [{"id": "hi", "type": "message", "text": "Спасибо, {{ lead.name }}!", "next": "promo"}]})).steps[0].clone();
        mine.steps.insert(1, scenario(json!({"name": "x", "start": "promo", "steps": [{"id": "promo", "type": "message", "text": "Промокод", "next": "rate"}]})).steps[0].clone());
        mine.layout.insert("promo".into(), [10, 20]);
        // They changed the question and the description, and dropped the end step.
        let mut theirs = origin.clone();
        theirs.description = "CSAT".into();
        theirs.steps[1] = scenario(json!({"name": "x", "start": "rate", "steps": [{"id": "rate", "type": "ask", "prompt": "Оцените от 1 до 5", "expect": "text", "var": "rating", "next": "bye"}]})).steps[0].clone();
        theirs.steps.pop();

        let merged = rebase(&origin, &mine, &theirs);
        assert_eq!(ids(&merged.scenario), ["hi", "promo", "rate"], "their deletion stays; my new step after the one it followed");
        assert_eq!(merged.scenario.steps[0], mine.steps[0]);
        assert_eq!(merged.scenario.steps[2], theirs.steps[1], "their change stays");
        assert_eq!(merged.scenario.description, "CSAT");
        assert_eq!(merged.scenario.layout.get("promo"), Some(&[10, 20]));
        assert!(merged.both_changed.is_empty());
    }

    #[test]
    fn a_step_i_deleted_goes_and_a_step_we_both_changed_is_mine_and_named() {
        let origin = origin();
        let mut mine = origin.clone();
        mine.steps.remove(2);
        mine.steps[1] = scenario(json!({"name": "x", "start": "rate", "steps": [{"id": "rate", "type": "ask", "prompt": "Мой вопрос", "expect": "text", "var": "rating", "next": "hi"}]})).steps[0].clone();
        mine.start = "rate".into();
        let mut theirs = origin.clone();
        theirs.steps[1] = scenario(json!({"name": "x", "start": "rate", "steps": [{"id": "rate", "type": "ask", "prompt": "Их вопрос", "expect": "text", "var": "rating", "next": "bye"}]})).steps[0].clone();
        theirs.start = "bye".into();

        let merged = rebase(&origin, &mine, &theirs);
        assert_eq!(ids(&merged.scenario), ["hi", "rate"]);
        assert_eq!(merged.scenario.steps[1], mine.steps[1]);
        assert_eq!(merged.scenario.start, "rate");
        assert_eq!(merged.both_changed, ["start", "rate"]);
        // A step one side deleted and the other changed is named too.
        let mut deleted_theirs_changed = origin.clone();
        deleted_theirs_changed.steps.remove(0);
        let mut changed_hi = origin.clone();
        changed_hi.steps[0] = scenario(json!({"name": "x", "start": "hi", "steps": [{"id": "hi", "type": "message", "text": "Привет!", "next": "rate"}]})).steps[0].clone();
        let merged = rebase(&origin, &deleted_theirs_changed, &changed_hi);
        assert_eq!((ids(&merged.scenario), merged.both_changed), (vec!["rate", "bye"], vec!["hi".to_string()]), "I deleted what they changed");
        let merged = rebase(&origin, &changed_hi, &deleted_theirs_changed);
        assert_eq!((ids(&merged.scenario)[0], merged.both_changed), ("hi", vec!["hi".to_string()]), "they deleted what I changed: back, named");
        // The same change on both sides is no conflict.
        assert!(rebase(&origin, &mine, &mine).both_changed.is_empty());
        // Nothing of mine changed: theirs exactly.
        assert_eq!(rebase(&origin, &origin, &theirs).scenario, theirs);
    }
}
