//! Scenarios: what a bot does after a business system calls it (SPEC §4).
//!
//! A [`Scenario`] is a list of [`Step`]s joined by step ids: a `message`
//! names its `next`, an `ask` names where a valid reply, silence and a
//! failed delivery go, an `if` names `then` and `otherwise`, and so on. It is
//! stored and edited as JSON in exactly the shape of these types.
//!
//! The module is split so each file holds one concept:
//!
//! - this file — the model (wasm-safe: the studio edits it in the browser);
//! - [`validate`] — the checks run on save, each error pointing at a step;
//! - [`reply`] — what counts as a valid answer to an `ask` (wasm-safe);
//! - `template` (backend) — minijinja rendering in a sandbox;
//! - `interpret` (backend) — the pure interpreter: `advance` takes a run's
//!   state and one input and returns the effects for the caller to perform;
//! - `preview` (backend) — the dry run shown in the studio;
//! - `script` (backend) — the JavaScript sandbox of the `script` step.
//!
//! Templates (`{{ params.name }}`) and expressions (`vars.rating >= 4`) are
//! plain strings here; only the backend parses them, so the default build
//! checks structure only.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub mod diff;
pub mod rebase;
pub mod reply;
pub mod validate;

#[cfg(feature = "backend")]
pub mod interpret;
#[cfg(feature = "backend")]
pub mod preview;
#[cfg(feature = "backend")]
pub mod script;
#[cfg(feature = "backend")]
pub mod template;

pub use reply::{ReplyError, SharedContact};
pub use validate::{ScenarioError, ScenarioIssue};

#[cfg(feature = "backend")]
pub use interpret::{advance, Effect, Input, LeadInfo, Outcome, RunInputs, RunState, Status, Waiting};
#[cfg(feature = "backend")]
pub use preview::{dry_run_preview, dry_run_preview_with_scripts, sandboxed_preview, sandboxed_preview_off_thread, DryScript, DryScriptRun, Preview, RenderedMessage, StopReason, DRY_SCRIPTS, DRY_SCRIPTS_MS};
#[cfg(feature = "backend")]
pub use script::{run_script, ApiRequest, ApiResponse, ScriptError, ScriptLimits, ScriptOutcome};
#[cfg(feature = "backend")]
pub use template::{Context, TemplateError};

/// One scenario as stored and edited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Id of the first step.
    pub start: String,
    pub steps: Vec<Step>,
    /// Where the studio's canvas drew each step, by step id: `{"hi": [40,
    /// 120]}`. Only the editor reads it; the engine ignores it. Absent in
    /// older scenarios (and never written when empty), so the canvas lays
    /// them out itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layout: BTreeMap<String, [i32; 2]>,
}

impl Scenario {
    /// The step with this id (the first one, if ids are duplicated —
    /// validation refuses that on save).
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// One step: an id other steps refer to, and what it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    #[serde(flatten)]
    pub kind: StepKind,
}

/// What a step does. Stored with a `"type"` tag: `{"id": "hi", "type":
/// "message", "text": "…", "next": "ask_phone"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepKind {
    /// Send a text (a template) with optional buttons and media. Without
    /// `next` the scenario ends after it.
    Message {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Button>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_url: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Ask for a value, validate the reply by kind and save it into `vars`.
    Ask {
        prompt: String,
        expect: Expect,
        /// The variable (`vars.<var>`) a valid reply is saved into.
        var: String,
        /// The accepted answers of a `choice` ask.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        choices: Vec<String>,
        /// Buttons sent with the prompt; when empty, choice and rating asks
        /// get one reply button per answer and contact asks a share button.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        buttons: Vec<Button>,
        /// Text sent on an invalid reply (a template); the prompt again if
        /// absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reask: Option<String>,
        #[serde(default = "default_max_reasks")]
        max_reasks: u32,
        /// Seconds to wait for a reply before taking `on_no_reply`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_sec: Option<i64>,
        next: String,
        /// Taken on timeout and when re-asks run out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_no_reply: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_delivery_failed: Option<String>,
    },
    /// Call a business system (pull data or call it back). The result
    /// `{status, json}` is saved into `vars.<save_as>`.
    Http {
        method: HttpMethod,
        /// A template, e.g. `{{ secrets.crm_url }}/api/user/confirm`.
        url: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<Header>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        save_as: String,
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
        #[serde(default)]
        retries: u32,
        next: String,
        /// Taken on status ≥ 400 or a transport error.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_error: Option<String>,
    },
    /// JavaScript in a sandbox (QuickJS; see `script`): the code reads and
    /// changes `ctx` (`lead`, `user`, `params`/`data`, `vars`,
    /// `attributes`, `secrets`) and may call business systems with
    /// synchronous `callApi({url, method, headers, body})` → `{status,
    /// json}`. Limits: 16 MiB, 1 s of running time, 10 `callApi` calls. On
    /// an error (with its line) the run takes `on_error` with `vars.error`
    /// set, or fails. Validation counts a var as set by the script when the
    /// code names it as `ctx.vars.NAME` or `ctx.vars["NAME"]`.
    Script {
        code: String,
        next: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_error: Option<String>,
    },
    /// Set variables, lead attributes, tags and status. Values are templates.
    Set {
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        vars: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        attributes: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        add_tags: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove_tags: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Branch on an expression (`vars.rating >= 4`).
    If { condition: String, then: String, otherwise: String },
    /// Branch on the value of an expression.
    Switch {
        value: String,
        #[serde(default)]
        cases: Vec<Case>,
        default: String,
    },
    /// A durable pause: `seconds`, or `until` (a template rendering an
    /// RFC 3339 time). Exactly one of the two.
    Wait {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<String>,
        next: String,
    },
    Goto { target: String },
    /// Start another scenario of the bot (by name) for the same lead, then
    /// continue with `next` (or end).
    Run {
        scenario: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// Hand the conversation to an operator; `note` (a template) is for them.
    Handover {
        #[serde(default)]
        note: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// End the run; a `goal` counts as a conversion.
    End {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        goal: Option<String>,
    },
}

fn default_max_reasks() -> u32 {
    3
}

fn default_timeout_ms() -> u64 {
    10_000
}

/// A button under a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// A template.
    pub label: String,
    #[serde(default)]
    pub kind: ButtonKind,
    /// What an inline button sends back (the label if absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where a `url` button leads (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonKind {
    /// A keyboard button: pressing it sends its label as a reply.
    #[default]
    Reply,
    /// A button attached to the message, sending `value` back.
    Inline,
    /// A link.
    Url,
    /// A keyboard button that shares the person's phone contact.
    Contact,
}

/// The kind of value an `ask` expects; see [`reply::parse_reply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Text,
    Number,
    Phone,
    Email,
    Choice,
    Contact,
    /// 1–5.
    Rating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[serde(alias = "get")]
    Get,
    #[serde(alias = "post")]
    Post,
    #[serde(alias = "put")]
    Put,
    #[serde(alias = "patch")]
    Patch,
    #[serde(alias = "delete")]
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// A request header; the value is a template so secrets are referenced
/// (`Bearer {{ secrets.crm_token }}`), never written inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// One branch of a `switch`: taken when the value equals `equals` (a JSON
/// value; `5` and `"5"` are equal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub equals: Value,
    pub next: String,
}

/// Where a transition is written: the field name and the target step id.
pub type Transition<'a> = (String, &'a str);

impl StepKind {
    /// The `type` tag, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            StepKind::Message { .. } => "message",
            StepKind::Ask { .. } => "ask",
            StepKind::Http { .. } => "http",
            StepKind::Script { .. } => "script",
            StepKind::Set { .. } => "set",
            StepKind::If { .. } => "if",
            StepKind::Switch { .. } => "switch",
            StepKind::Wait { .. } => "wait",
            StepKind::Goto { .. } => "goto",
            StepKind::Run { .. } => "run",
            StepKind::Handover { .. } => "handover",
            StepKind::End { .. } => "end",
        }
    }

    /// Every step id this step can go to, with the field that names it.
    pub fn transitions(&self) -> Vec<Transition<'_>> {
        let mut out: Vec<Transition<'_>> = Vec::new();
        match self {
            StepKind::Message { next, .. }
            | StepKind::Set { next, .. }
            | StepKind::Run { next, .. }
            | StepKind::Handover { next, .. } => {
                if let Some(n) = next {
                    out.push(("next".into(), n));
                }
            }
            StepKind::Ask { next, on_no_reply, on_delivery_failed, .. } => {
                out.push(("next".into(), next));
                if let Some(n) = on_no_reply {
                    out.push(("on_no_reply".into(), n));
                }
                if let Some(n) = on_delivery_failed {
                    out.push(("on_delivery_failed".into(), n));
                }
            }
            StepKind::Http { next, on_error, .. } | StepKind::Script { next, on_error, .. } => {
                out.push(("next".into(), next));
                if let Some(n) = on_error {
                    out.push(("on_error".into(), n));
                }
            }
            StepKind::If { then, otherwise, .. } => {
                out.push(("then".into(), then));
                out.push(("otherwise".into(), otherwise));
            }
            StepKind::Switch { cases, default, .. } => {
                for (i, case) in cases.iter().enumerate() {
                    out.push((format!("cases[{i}].next"), &case.next));
                }
                out.push(("default".into(), default));
            }
            StepKind::Wait { next, .. } => out.push(("next".into(), next)),
            StepKind::Goto { target } => out.push(("target".into(), target)),
            StepKind::End { .. } => {}
        }
        out
    }

    /// Every template of the step, with the field that holds it.
    pub fn templates(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = Vec::new();
        fn push_buttons<'a>(out: &mut Vec<(String, &'a str)>, buttons: &'a [Button]) {
            for (i, b) in buttons.iter().enumerate() {
                out.push((format!("buttons[{i}].label"), &b.label));
                if let Some(url) = &b.url {
                    out.push((format!("buttons[{i}].url"), url));
                }
            }
        }
        match self {
            StepKind::Message { text, buttons, media_url, .. } => {
                out.push(("text".into(), text));
                push_buttons(&mut out, buttons);
                if let Some(m) = media_url {
                    out.push(("media_url".into(), m));
                }
            }
            StepKind::Ask { prompt, buttons, reask, .. } => {
                out.push(("prompt".into(), prompt));
                push_buttons(&mut out, buttons);
                if let Some(r) = reask {
                    out.push(("reask".into(), r));
                }
            }
            StepKind::Http { url, headers, body, .. } => {
                out.push(("url".into(), url));
                for (i, h) in headers.iter().enumerate() {
                    out.push((format!("headers[{i}].value"), &h.value));
                }
                if let Some(b) = body {
                    out.push(("body".into(), b));
                }
            }
            StepKind::Set { vars, attributes, .. } => {
                for (k, v) in vars {
                    out.push((format!("vars.{k}"), v));
                }
                for (k, v) in attributes {
                    out.push((format!("attributes.{k}"), v));
                }
            }
            StepKind::Wait { until: Some(u), .. } => out.push(("until".into(), u)),
            StepKind::Handover { note, .. } => out.push(("note".into(), note)),
            _ => {}
        }
        out
    }

    /// Every expression of the step (`if` and `switch`).
    pub fn expressions(&self) -> Vec<(String, &str)> {
        match self {
            StepKind::If { condition, .. } => vec![("condition".into(), condition.as_str())],
            StepKind::Switch { value, .. } => vec![("value".into(), value.as_str())],
            _ => Vec::new(),
        }
    }

    /// The variables leaving along `field` sets (an ask saves its reply only
    /// on `next`; an http step saves its result on both of its branches; a
    /// script the vars its code names, and `error` on `on_error`).
    pub fn sets_vars_on(&self, field: &str) -> Vec<&str> {
        match self {
            StepKind::Ask { var, .. } if field == "next" => vec![var.as_str()],
            StepKind::Http { save_as, .. } => vec![save_as.as_str()],
            StepKind::Script { code, .. } => validate::script_vars(code, field),
            StepKind::Set { vars, .. } => vars.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_round_trip_as_tagged_json() {
        let raw = json!({
            "name": "thanks",
            "start": "hi",
            "steps": [
                {"id": "hi", "type": "message", "text": "Спасибо за покупку!", "next": "rate"},
                {"id": "rate", "type": "ask", "prompt": "Оцените заказ", "expect": "rating", "var": "csat", "next": "bye"},
                {"id": "bye", "type": "end", "goal": "reviewed"}
            ]
        });
        let scenario: Scenario = serde_json::from_value(raw).unwrap();
        assert_eq!(scenario.steps.len(), 3);
        match &scenario.steps[1].kind {
            StepKind::Ask { expect, max_reasks, .. } => {
                assert_eq!(*expect, Expect::Rating);
                assert_eq!(*max_reasks, 3);
            }
            other => panic!("not an ask: {other:?}"),
        }
        let back = serde_json::to_value(&scenario).unwrap();
        assert_eq!(back["steps"][0]["type"], "message");
        let again: Scenario = serde_json::from_value(back).unwrap();
        assert_eq!(again, scenario);
    }

    #[test]
    fn http_defaults_and_lowercase_method() {
        let step: Step = serde_json::from_value(json!({
            "id": "crm", "type": "http", "method": "post", "url": "https://crm/x", "save_as": "crm", "next": "ok"
        }))
        .unwrap();
        match step.kind {
            StepKind::Http { method, timeout_ms, retries, .. } => {
                assert_eq!(method, HttpMethod::Post);
                assert_eq!(timeout_ms, 10_000);
                assert_eq!(retries, 0);
            }
            other => panic!("not http: {other:?}"),
        }
    }
}
