//! The state of the step side form: every field of every step type as
//! text (so switching the type keeps what was typed), and its conversion
//! back to a [`Step`], naming the fields that are not numbers.

use super::model::expect_name;
use comops_core::scenario::{Button, ButtonKind, Case, Expect, Header, HttpMethod, Step, StepKind};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// A key/value row (headers, vars, attributes, switch cases).
#[derive(Clone, Copy)]
pub(super) struct PairRow {
    pub(super) key: RwSignal<String>,
    pub(super) value: RwSignal<String>,
}

impl PairRow {
    pub(super) fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self { key: RwSignal::new(key.into()), value: RwSignal::new(value.into()) }
    }
}

/// A button row of a message or ask.
#[derive(Clone, Copy)]
pub(super) struct ButtonRow {
    pub(super) label: RwSignal<String>,
    pub(super) kind: RwSignal<String>,
    pub(super) value: RwSignal<String>,
    pub(super) url: RwSignal<String>,
}

impl ButtonRow {
    pub(super) fn new(button: Option<&Button>) -> Self {
        let kind = button.map_or(ButtonKind::Reply, |b| b.kind);
        Self {
            label: RwSignal::new(button.map(|b| b.label.clone()).unwrap_or_default()),
            kind: RwSignal::new(button_kind_name(kind).into()),
            value: RwSignal::new(button.and_then(|b| b.value.clone()).unwrap_or_default()),
            url: RwSignal::new(button.and_then(|b| b.url.clone()).unwrap_or_default()),
        }
    }

    fn button(&self) -> Button {
        let kind = match self.kind.get_untracked().as_str() {
            "inline" => ButtonKind::Inline,
            "url" => ButtonKind::Url,
            "contact" => ButtonKind::Contact,
            _ => ButtonKind::Reply,
        };
        Button { label: self.label.get_untracked(), kind, value: non_empty(self.value), url: non_empty(self.url) }
    }
}

fn button_kind_name(kind: ButtonKind) -> &'static str {
    match kind {
        ButtonKind::Reply => "reply",
        ButtonKind::Inline => "inline",
        ButtonKind::Url => "url",
        ButtonKind::Contact => "contact",
    }
}

fn non_empty(value: RwSignal<String>) -> Option<String> {
    let v = value.get_untracked();
    (!v.trim().is_empty()).then_some(v)
}

/// Comma list → trimmed non-empty items.
fn list(value: RwSignal<String>) -> Vec<String> {
    value.get_untracked().split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// The side form's fields: every field of every step type, as text, so
/// switching the type keeps what was typed. [`StepDraft::step`] reads the
/// ones of the chosen type.
#[derive(Clone, Copy)]
pub(super) struct StepDraft {
    pub(super) id: RwSignal<String>,
    pub(super) kind: RwSignal<String>,
    text: RwSignal<String>,
    media_url: RwSignal<String>,
    next: RwSignal<String>,
    pub(super) buttons: RwSignal<Vec<ButtonRow>>,
    prompt: RwSignal<String>,
    expect: RwSignal<String>,
    var: RwSignal<String>,
    choices: RwSignal<String>,
    reask: RwSignal<String>,
    max_reasks: RwSignal<String>,
    timeout_sec: RwSignal<String>,
    on_no_reply: RwSignal<String>,
    on_delivery_failed: RwSignal<String>,
    method: RwSignal<String>,
    url: RwSignal<String>,
    headers: RwSignal<Vec<PairRow>>,
    body: RwSignal<String>,
    save_as: RwSignal<String>,
    timeout_ms: RwSignal<String>,
    retries: RwSignal<String>,
    on_error: RwSignal<String>,
    code: RwSignal<String>,
    vars: RwSignal<Vec<PairRow>>,
    attributes: RwSignal<Vec<PairRow>>,
    add_tags: RwSignal<String>,
    remove_tags: RwSignal<String>,
    status: RwSignal<String>,
    condition: RwSignal<String>,
    then: RwSignal<String>,
    otherwise: RwSignal<String>,
    value: RwSignal<String>,
    cases: RwSignal<Vec<PairRow>>,
    default: RwSignal<String>,
    seconds: RwSignal<String>,
    until: RwSignal<String>,
    target: RwSignal<String>,
    scenario: RwSignal<String>,
    note: RwSignal<String>,
    goal: RwSignal<String>,
}

impl StepDraft {
    pub(super) fn new(step: &Step) -> Self {
        let s = || RwSignal::new(String::new());
        let d = Self {
            id: RwSignal::new(step.id.clone()),
            kind: RwSignal::new(step.kind.type_name().to_string()),
            text: s(),
            media_url: s(),
            next: s(),
            buttons: RwSignal::new(Vec::new()),
            prompt: s(),
            expect: RwSignal::new("text".into()),
            var: s(),
            choices: s(),
            reask: s(),
            max_reasks: RwSignal::new("3".into()),
            timeout_sec: s(),
            on_no_reply: s(),
            on_delivery_failed: s(),
            method: RwSignal::new("POST".into()),
            url: s(),
            headers: RwSignal::new(Vec::new()),
            body: s(),
            save_as: s(),
            timeout_ms: RwSignal::new("10000".into()),
            retries: RwSignal::new("0".into()),
            on_error: s(),
            code: s(),
            vars: RwSignal::new(Vec::new()),
            attributes: RwSignal::new(Vec::new()),
            add_tags: s(),
            remove_tags: s(),
            status: s(),
            condition: s(),
            then: s(),
            otherwise: s(),
            value: s(),
            cases: RwSignal::new(Vec::new()),
            default: s(),
            seconds: s(),
            until: s(),
            target: s(),
            scenario: s(),
            note: s(),
            goal: s(),
        };
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        match &step.kind {
            StepKind::Message { text, buttons, media_url, next } => {
                d.text.set(text.clone());
                d.buttons.set(buttons.iter().map(|b| ButtonRow::new(Some(b))).collect());
                d.media_url.set(opt(media_url));
                d.next.set(opt(next));
            }
            StepKind::Ask { prompt, expect, var, choices, buttons, reask, max_reasks, timeout_sec, next, on_no_reply, on_delivery_failed } => {
                d.prompt.set(prompt.clone());
                d.expect.set(expect_name(*expect).into());
                d.var.set(var.clone());
                d.choices.set(choices.join(", "));
                d.buttons.set(buttons.iter().map(|b| ButtonRow::new(Some(b))).collect());
                d.reask.set(opt(reask));
                d.max_reasks.set(max_reasks.to_string());
                d.timeout_sec.set(timeout_sec.map(|t| t.to_string()).unwrap_or_default());
                d.next.set(next.clone());
                d.on_no_reply.set(opt(on_no_reply));
                d.on_delivery_failed.set(opt(on_delivery_failed));
            }
            StepKind::Http { method, url, headers, body, save_as, timeout_ms, retries, next, on_error } => {
                d.method.set(method.as_str().into());
                d.url.set(url.clone());
                d.headers.set(headers.iter().map(|h| PairRow::new(h.name.clone(), h.value.clone())).collect());
                d.body.set(opt(body));
                d.save_as.set(save_as.clone());
                d.timeout_ms.set(timeout_ms.to_string());
                d.retries.set(retries.to_string());
                d.next.set(next.clone());
                d.on_error.set(opt(on_error));
            }
            StepKind::Script { code, next, on_error } => {
                d.code.set(code.clone());
                d.next.set(next.clone());
                d.on_error.set(opt(on_error));
            }
            StepKind::Set { vars, attributes, add_tags, remove_tags, status, next } => {
                d.vars.set(vars.iter().map(|(k, v)| PairRow::new(k.clone(), v.clone())).collect());
                d.attributes.set(attributes.iter().map(|(k, v)| PairRow::new(k.clone(), v.clone())).collect());
                d.add_tags.set(add_tags.join(", "));
                d.remove_tags.set(remove_tags.join(", "));
                d.status.set(opt(status));
                d.next.set(opt(next));
            }
            StepKind::If { condition, then, otherwise } => {
                d.condition.set(condition.clone());
                d.then.set(then.clone());
                d.otherwise.set(otherwise.clone());
            }
            StepKind::Switch { value, cases, default } => {
                d.value.set(value.clone());
                d.cases.set(
                    cases
                        .iter()
                        .map(|c| {
                            let shown = match &c.equals {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            PairRow::new(shown, c.next.clone())
                        })
                        .collect(),
                );
                d.default.set(default.clone());
            }
            StepKind::Wait { seconds, until, next } => {
                d.seconds.set(seconds.map(|s| s.to_string()).unwrap_or_default());
                d.until.set(opt(until));
                d.next.set(next.clone());
            }
            StepKind::Goto { target } => d.target.set(target.clone()),
            StepKind::Run { scenario, next } => {
                d.scenario.set(scenario.clone());
                d.next.set(opt(next));
            }
            StepKind::Handover { note, next } => {
                d.note.set(note.clone());
                d.next.set(opt(next));
            }
            StepKind::End { goal } => d.goal.set(opt(goal)),
        }
        d
    }

    /// The step the form describes; `Err` names fields that are not numbers.
    pub(super) fn step(&self) -> Result<Step, Vec<&'static str>> {
        let mut bad = Vec::new();
        let mut int = |field: &'static str, value: RwSignal<String>| -> Option<i64> {
            let raw = value.get_untracked();
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    bad.push(field);
                    None
                }
            }
        };
        let get = |v: RwSignal<String>| v.get_untracked();
        let opt = non_empty;
        let pairs = |rows: RwSignal<Vec<PairRow>>| -> BTreeMap<String, String> {
            rows.get_untracked()
                .iter()
                .filter(|r| !r.key.get_untracked().trim().is_empty())
                .map(|r| (r.key.get_untracked().trim().to_string(), r.value.get_untracked()))
                .collect()
        };
        let buttons = || self.buttons.get_untracked().iter().map(ButtonRow::button).collect::<Vec<_>>();
        let kind = match get(self.kind).as_str() {
            "message" => StepKind::Message { text: get(self.text), buttons: buttons(), media_url: opt(self.media_url), next: opt(self.next) },
            "ask" => StepKind::Ask {
                prompt: get(self.prompt),
                expect: parse_expect(&get(self.expect)),
                var: get(self.var).trim().to_string(),
                choices: list(self.choices),
                buttons: buttons(),
                reask: opt(self.reask),
                max_reasks: int("max_reasks", self.max_reasks).map_or(3, |n| n.clamp(0, u32::MAX as i64) as u32),
                timeout_sec: int("timeout_sec", self.timeout_sec),
                next: get(self.next).trim().to_string(),
                on_no_reply: opt(self.on_no_reply),
                on_delivery_failed: opt(self.on_delivery_failed),
            },
            "http" => StepKind::Http {
                method: parse_method(&get(self.method)),
                url: get(self.url),
                headers: self
                    .headers
                    .get_untracked()
                    .iter()
                    .filter(|h| !h.key.get_untracked().trim().is_empty() || !h.value.get_untracked().is_empty())
                    .map(|h| Header { name: h.key.get_untracked().trim().to_string(), value: h.value.get_untracked() })
                    .collect(),
                body: opt(self.body),
                save_as: get(self.save_as).trim().to_string(),
                timeout_ms: int("timeout_ms", self.timeout_ms).map_or(10_000, |n| n.max(0) as u64),
                retries: int("retries", self.retries).map_or(0, |n| n.clamp(0, u32::MAX as i64) as u32),
                next: get(self.next).trim().to_string(),
                on_error: opt(self.on_error),
            },
            "script" => StepKind::Script { code: get(self.code), next: get(self.next).trim().to_string(), on_error: opt(self.on_error) },
            "set" => StepKind::Set {
                vars: pairs(self.vars),
                attributes: pairs(self.attributes),
                add_tags: list(self.add_tags),
                remove_tags: list(self.remove_tags),
                status: opt(self.status),
                next: opt(self.next),
            },
            "if" => StepKind::If { condition: get(self.condition), then: get(self.then).trim().to_string(), otherwise: get(self.otherwise).trim().to_string() },
            "switch" => StepKind::Switch {
                value: get(self.value),
                cases: self
                    .cases
                    .get_untracked()
                    .iter()
                    .map(|c| {
                        // `5` is the number 5, `"5"` and `yes` are strings.
                        let raw = c.key.get_untracked();
                        let equals = serde_json::from_slice(raw.trim().as_bytes()).unwrap_or(serde_json::Value::String(raw));
                        Case { equals, next: c.value.get_untracked().trim().to_string() }
                    })
                    .collect(),
                default: get(self.default).trim().to_string(),
            },
            "wait" => StepKind::Wait { seconds: int("seconds", self.seconds), until: opt(self.until), next: get(self.next).trim().to_string() },
            "goto" => StepKind::Goto { target: get(self.target).trim().to_string() },
            "run" => StepKind::Run { scenario: get(self.scenario).trim().to_string(), next: opt(self.next) },
            "handover" => StepKind::Handover { note: get(self.note), next: opt(self.next) },
            _ => StepKind::End { goal: opt(self.goal) },
        };
        if bad.is_empty() {
            Ok(Step { id: get(self.id).trim().to_string(), kind })
        } else {
            Err(bad)
        }
    }
}

impl StepDraft {
    /// The text signal of field `name` (every one-line field and area).
    pub(super) fn text(&self, name: &str) -> RwSignal<String> {
        match name {
            "id" => self.id,
            "type" => self.kind,
            "text" => self.text,
            "media_url" => self.media_url,
            "next" => self.next,
            "prompt" => self.prompt,
            "expect" => self.expect,
            "var" => self.var,
            "choices" => self.choices,
            "reask" => self.reask,
            "max_reasks" => self.max_reasks,
            "timeout_sec" => self.timeout_sec,
            "on_no_reply" => self.on_no_reply,
            "on_delivery_failed" => self.on_delivery_failed,
            "method" => self.method,
            "url" => self.url,
            "body" => self.body,
            "save_as" => self.save_as,
            "timeout_ms" => self.timeout_ms,
            "retries" => self.retries,
            "on_error" => self.on_error,
            "code" => self.code,
            "add_tags" => self.add_tags,
            "remove_tags" => self.remove_tags,
            "status" => self.status,
            "condition" => self.condition,
            "then" => self.then,
            "otherwise" => self.otherwise,
            "value" => self.value,
            "default" => self.default,
            "seconds" => self.seconds,
            "until" => self.until,
            "target" => self.target,
            "scenario" => self.scenario,
            "note" => self.note,
            _ => self.goal,
        }
    }

    /// The rows of a name/value list.
    pub(super) fn pairs(&self, name: &str) -> RwSignal<Vec<PairRow>> {
        match name {
            "headers" => self.headers,
            "vars" => self.vars,
            "attributes" => self.attributes,
            _ => self.cases,
        }
    }
}

fn parse_expect(name: &str) -> Expect {
    [Expect::Text, Expect::Number, Expect::Phone, Expect::Email, Expect::Choice, Expect::Contact, Expect::Rating]
        .into_iter()
        .find(|e| expect_name(*e) == name)
        .unwrap_or(Expect::Text)
}

fn parse_method(name: &str) -> HttpMethod {
    [HttpMethod::Get, HttpMethod::Post, HttpMethod::Put, HttpMethod::Patch, HttpMethod::Delete]
        .into_iter()
        .find(|m| m.as_str() == name)
        .unwrap_or(HttpMethod::Post)
}


#[cfg(test)]
mod tests {
    use super::StepDraft;
    use crate::pages::scenarios::model::{default_step, tests::scenario};
    use leptos::prelude::*;

    #[test]
    fn a_draft_gives_back_the_step_it_was_made_from() {
        let owner = Owner::new();
        owner.with(|| {
            for step in scenario().steps {
                let draft = StepDraft::new(&step);
                assert_eq!(draft.step().ok(), Some(step.clone()));
            }
            let draft = StepDraft::new(&default_step("wait", "w".into()));
            draft.seconds.set("soon".into());
            assert_eq!(draft.step().err(), Some(vec!["seconds"]));
        });
    }
}
