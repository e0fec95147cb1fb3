//! The dry run shown in the studio: what the lead would receive before the
//! run first has to wait (backend only).
//!
//! [`dry_run_preview`] drives the real interpreter from `Start` with the
//! given params and lead and no secrets, collects every message it would
//! send (an ask's prompt included), and stops at the first wait, ask, http
//! or script step — nothing is called, run, sent or scheduled.

use super::interpret::{advance, Effect, Input, LeadInfo, RunInputs, RunState, Status, Waiting};
use super::{Button, Scenario};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One message as the lead would see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderedMessage {
    pub step: String,
    pub text: String,
    pub buttons: Vec<Button>,
    /// The `params.…` and `vars.…` the message reads that the preview did
    /// not have: each was rendered as empty text (a real run with the same
    /// request would send the same gap).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// Why the preview stopped; on the wire `"wait"`, `"ask"`, `"http"`,
/// `"script"`, `"end"` or `"error: …"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum StopReason {
    Wait,
    Ask,
    Http,
    Script,
    End,
    Error { message: String },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::Wait => f.write_str("wait"),
            StopReason::Ask => f.write_str("ask"),
            StopReason::Http => f.write_str("http"),
            StopReason::Script => f.write_str("script"),
            StopReason::End => f.write_str("end"),
            StopReason::Error { message } => write!(f, "error: {message}"),
        }
    }
}

impl From<StopReason> for String {
    fn from(reason: StopReason) -> String {
        reason.to_string()
    }
}

impl From<String> for StopReason {
    fn from(text: String) -> StopReason {
        match text.as_str() {
            "wait" => StopReason::Wait,
            "ask" => StopReason::Ask,
            "http" => StopReason::Http,
            "script" => StopReason::Script,
            "end" => StopReason::End,
            _ => StopReason::Error { message: text.strip_prefix("error: ").unwrap_or(&text).to_string() },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// The steps the run entered, in order (its `RunState::trail`).
    #[serde(default)]
    pub steps: Vec<String>,
    pub messages: Vec<RenderedMessage>,
    /// The step the run would stop at (the last step when it ends).
    pub stopped_at: Option<String>,
    pub reason: StopReason,
}

/// Render a scenario's messages up to its first pause. Pure: the preview
/// time is the epoch, so `wait` steps always stop it.
pub fn dry_run_preview(scenario: &Scenario, params: &Value, lead: &LeadInfo) -> Preview {
    let inputs = RunInputs { params: params.clone(), lead: lead.clone(), secrets: Default::default() };
    let mut state = RunState::new(0, 0);
    let outcome = advance(scenario, &mut state, &inputs, Input::Start, 0);
    let messages = outcome
        .effects
        .into_iter()
        .filter_map(|effect| match effect {
            Effect::Send { step, text, buttons, .. } => {
                let missing = missing_values(scenario, &step, params, &state.vars);
                Some(RenderedMessage { step, text, buttons, missing })
            }
            _ => None,
        })
        .collect();
    let (stopped_at, reason) = match outcome.status {
        Status::Waiting(Waiting::Reply { step, .. }) => (Some(step), StopReason::Ask),
        Status::Waiting(Waiting::Until { step, .. }) => (Some(step), StopReason::Wait),
        Status::Waiting(Waiting::Http { step }) => (Some(step), StopReason::Http),
        Status::Waiting(Waiting::Script { step }) => (Some(step), StopReason::Script),
        Status::Finished { .. } => (state.current, StopReason::End),
        Status::Failed { step, message } => (step, StopReason::Error { message }),
        Status::Ignored { reason } => (None, StopReason::Error { message: reason }),
    };
    Preview { steps: state.trail, messages, stopped_at, reason }
}

/// The `params.…` and `vars.…` paths that step `step_id`'s message (its
/// text or prompt and its buttons, not an ask's re-ask) reads and that
/// `params` and `vars` do not hold, or hold as null.
fn missing_values(scenario: &Scenario, step_id: &str, params: &Value, vars: &serde_json::Map<String, Value>) -> Vec<String> {
    let Some(step) = scenario.steps.iter().find(|s| s.id == step_id) else { return Vec::new() };
    let mut missing = Vec::new();
    for (field, source) in step.kind.templates() {
        if field == "reask" {
            continue;
        }
        let Ok(paths) = super::template::check_template(source) else { continue };
        for path in paths {
            let mut parts = path.split('.');
            let found = match parts.next() {
                Some("params") => params.get(parts.next().unwrap_or_default()),
                Some("vars") => vars.get(parts.next().unwrap_or_default()),
                _ => continue,
            };
            let value = parts.try_fold(found, |value, part| Some(value?.get(part))).flatten();
            if value.is_none_or(Value::is_null) && !missing.contains(&path) {
                missing.push(path);
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_plain_strings_on_the_wire() {
        assert_eq!(serde_json::to_value(StopReason::Ask).unwrap(), "ask");
        let error = StopReason::Error { message: "text: syntax error".into() };
        assert_eq!(serde_json::to_value(&error).unwrap(), "error: text: syntax error");
        assert_eq!(serde_json::from_value::<StopReason>("error: text: syntax error".into()).unwrap(), error);
        assert_eq!(serde_json::from_value::<StopReason>("script".into()).unwrap(), StopReason::Script);
    }

    /// A message that reads a param the request does not carry says so:
    /// it rendered as empty text.
    #[test]
    fn a_missing_param_is_named() {
        let scenario: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t",
            "start": "hi",
            "steps": [
                {"id": "hi", "type": "message", "next": "bye",
                 "text": "Заказ №{{ params.orderId }}, {{ params.customer.name }}, {{ params.customer.city }}, {{ params.note }}",
                 "buttons": [{"label": "{{ params.cta }}", "kind": "reply"}]},
                {"id": "bye", "type": "message", "text": "Готово"}
            ]
        }))
        .unwrap();
        let params = serde_json::json!({"orderId": 9821, "customer": {"name": "Анна"}, "note": null});
        let preview = dry_run_preview(&scenario, &params, &LeadInfo::default());
        assert_eq!(preview.messages[0].text, "Заказ №9821, Анна, , ");
        assert_eq!(preview.messages[0].missing, ["params.customer.city", "params.note", "params.cta"]);
        assert!(preview.messages[1].missing.is_empty());
        let wire = serde_json::to_value(&preview.messages[1]).unwrap();
        assert!(wire.get("missing").is_none(), "left out when nothing is missing: {wire}");
    }

    #[test]
    fn a_script_step_ends_the_preview_like_an_http_step() {
        let scenario: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t",
            "start": "hi",
            "steps": [
                {"id": "hi", "type": "message", "text": "Проверяем заказ №{{ params.orderId }}", "next": "check"},
                {"id": "check", "type": "script", "code": "ctx.vars.ok = true;", "next": "bye"},
                {"id": "bye", "type": "message", "text": "Готово"}
            ]
        }))
        .unwrap();
        let preview = dry_run_preview(&scenario, &serde_json::json!({"orderId": 9821}), &LeadInfo::default());
        let texts: Vec<_> = preview.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Проверяем заказ №9821"]);
        assert_eq!(preview.steps, ["hi", "check"], "the steps it entered");
        assert_eq!(preview.stopped_at.as_deref(), Some("check"));
        assert_eq!(preview.reason, StopReason::Script);
    }
}
