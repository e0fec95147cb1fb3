//! The checks a scenario passes before it is saved (SPEC §4).
//!
//! [`Scenario::validate`] collects every problem at once, each a
//! [`ScenarioError`] naming the step and field, so the studio can mark them
//! all on the canvas.
//!
//! Structural checks run in every build (the studio runs them in the
//! browser): step ids, references, reachability, the settings of each step,
//! no literal bearer tokens. With `backend` the templates and expressions
//! are parsed as well, and every `vars.X` they read must be set on some path
//! from `start` before the step (by an ask, an http step, a script or a
//! `set`). A script's code is parsed too (backend), so a syntax error is
//! refused on save with its line.
//! `params`, `lead`, `attributes` and `secrets` are always available.

use super::{ButtonKind, Expect, Scenario, StepKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};

/// One problem of a scenario: where (step id and field) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioError {
    /// The step at fault; `None` for the scenario itself (`start`, `name`).
    pub step: Option<String>,
    pub field: String,
    /// In English, for logs and API clients; the studio says
    /// [`Self::issue`] in the reader's language.
    pub message: String,
    pub issue: ScenarioIssue,
}

/// What is wrong with a scenario, as the studio translates it. Details
/// quoted from a parser (`detail`) stay as the parser wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScenarioIssue {
    Required,
    /// A scenario without steps.
    NoSteps,
    DuplicateId { id: String },
    /// `start` or a transition names a step that does not exist.
    NoSuchStep { id: String },
    /// A transition names no step yet (a node just added on the canvas).
    NoNextStep,
    Unreachable,
    TemplateSyntax { detail: String },
    ExpressionSyntax { detail: String },
    /// A template reads a root that is not params, vars, lead, attributes
    /// or secrets.
    UnknownVariable { root: String },
    /// `vars.NAME` read where no path from `start` has set it.
    UsedBeforeSet { name: String },
    UrlButtonWithoutUrl,
    /// Not a name of letters, digits and `_`.
    NotAName,
    ChoiceWithoutChoices,
    AtMost { max: i64 },
    /// Outside `1..=max`; in seconds when `seconds`.
    Between { max: i64, seconds: bool },
    NotAHeaderName,
    /// A credential written into a header instead of `{{ secrets.NAME }}`.
    InlineCredential,
    ScriptTooLarge { kib: i64 },
    ScriptSyntax { detail: String },
    AttributeNameMissing,
    EmptyTag,
    /// A wait needs exactly one of `seconds` and `until`.
    SecondsOrUntil,
    /// The definition is not a scenario's JSON (the studio's JSON view);
    /// `detail` is the parser's.
    NotJson { detail: String },
    /// A new scenario's name people could not type in a URL.
    BadName,
}

impl ScenarioIssue {
    /// The English wording (the API's and the logs').
    pub fn english(&self) -> String {
        match self {
            ScenarioIssue::Required => "is required".into(),
            ScenarioIssue::NoSteps => "a scenario needs at least one step".into(),
            ScenarioIssue::DuplicateId { id } => format!("duplicate step id \"{id}\""),
            ScenarioIssue::NoSuchStep { id } => format!("no step with id \"{id}\""),
            ScenarioIssue::NoNextStep => "leads nowhere yet: choose the next step".into(),
            ScenarioIssue::Unreachable => "unreachable from the start step".into(),
            ScenarioIssue::TemplateSyntax { detail } => format!("template does not parse: {detail}"),
            ScenarioIssue::ExpressionSyntax { detail } => format!("expression does not parse: {detail}"),
            ScenarioIssue::UnknownVariable { root } => {
                format!("unknown variable \"{root}\": use params.{root}, vars.{root}, lead.*, attributes.* or secrets.*")
            }
            ScenarioIssue::UsedBeforeSet { name } => format!("vars.{name} is used before any step sets it"),
            ScenarioIssue::UrlButtonWithoutUrl => "a url button needs a url".into(),
            ScenarioIssue::NotAName => "must be a name of letters, digits and '_'".into(),
            ScenarioIssue::ChoiceWithoutChoices => "a choice ask needs choices".into(),
            ScenarioIssue::AtMost { max } => format!("at most {max}"),
            ScenarioIssue::Between { max, seconds: true } => format!("must be between 1 and {max} seconds"),
            ScenarioIssue::Between { max, seconds: false } => format!("must be between 1 and {max}"),
            ScenarioIssue::NotAHeaderName => "is not a header name".into(),
            ScenarioIssue::InlineCredential => "credentials must be referenced as {{ secrets.NAME }}, not written inline".into(),
            ScenarioIssue::ScriptTooLarge { kib } => format!("at most {kib} KiB"),
            ScenarioIssue::ScriptSyntax { detail } => format!("script does not parse: {detail}"),
            ScenarioIssue::AttributeNameMissing => "attribute names are required".into(),
            ScenarioIssue::EmptyTag => "tags must not be empty".into(),
            ScenarioIssue::SecondsOrUntil => "give exactly one of seconds or until".into(),
            ScenarioIssue::NotJson { detail } => detail.clone(),
            ScenarioIssue::BadName => "must be lowercase letters, digits, '-' and '_', at most 64".into(),
        }
    }
}

impl ScenarioError {
    fn at(step: &str, field: impl Into<String>, issue: ScenarioIssue) -> Self {
        Self { step: Some(step.to_string()), field: field.into(), message: issue.english(), issue }
    }

    fn top(field: impl Into<String>, issue: ScenarioIssue) -> Self {
        Self { step: None, field: field.into(), message: issue.english(), issue }
    }
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.step {
            Some(step) => write!(f, "step {step}, {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// Longest pause a `wait` may ask for: a run expires after 30 days anyway.
pub const MAX_WAIT_SEC: i64 = 30 * 24 * 3600;
/// Longest http timeout, and most retries, a step may ask for.
pub const MAX_HTTP_TIMEOUT_MS: u64 = 60_000;
pub const MAX_HTTP_RETRIES: u32 = 5;
/// Longest script a step may hold.
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

impl Scenario {
    /// Check the scenario; every problem found, or `Ok`.
    pub fn validate(&self) -> Result<(), Vec<ScenarioError>> {
        let mut errors = Vec::new();
        self.check_ids(&mut errors);
        for step in &self.steps {
            check_settings(&step.id, &step.kind, &mut errors);
        }
        let ids: BTreeSet<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        if !ids.contains(self.start.as_str()) {
            errors.push(ScenarioError::top("start", ScenarioIssue::NoSuchStep { id: self.start.clone() }));
        }
        for step in &self.steps {
            for (field, target) in step.kind.transitions() {
                if target.trim().is_empty() {
                    errors.push(ScenarioError::at(&step.id, field, ScenarioIssue::NoNextStep));
                } else if !ids.contains(target) {
                    errors.push(ScenarioError::at(&step.id, field, ScenarioIssue::NoSuchStep { id: target.to_string() }));
                }
            }
        }
        if ids.contains(self.start.as_str()) {
            let reachable = self.reachable();
            for step in &self.steps {
                if !step.id.is_empty() && !reachable.contains(step.id.as_str()) {
                    errors.push(ScenarioError::at(&step.id, "id", ScenarioIssue::Unreachable));
                }
            }
        }
        #[cfg(feature = "backend")]
        self.check_templates(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn check_ids(&self, errors: &mut Vec<ScenarioError>) {
        if self.name.trim().is_empty() {
            errors.push(ScenarioError::top("name", ScenarioIssue::Required));
        }
        if self.steps.is_empty() {
            errors.push(ScenarioError::top("steps", ScenarioIssue::NoSteps));
        }
        let mut seen = BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            if step.id.trim().is_empty() {
                errors.push(ScenarioError::top(format!("steps[{i}].id"), ScenarioIssue::Required));
            } else if !seen.insert(step.id.as_str()) {
                errors.push(ScenarioError::at(&step.id, "id", ScenarioIssue::DuplicateId { id: step.id.clone() }));
            }
        }
    }

    /// Step ids reachable from `start` following every transition.
    fn reachable(&self) -> BTreeSet<&str> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([self.start.as_str()]);
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(step) = self.step(id) {
                for (_, target) in step.kind.transitions() {
                    queue.push_back(target);
                }
            }
        }
        seen
    }

    /// For each step, the vars set on some path from `start` before it runs
    /// (a forward "may be set" data flow over the step graph).
    #[cfg(feature = "backend")]
    fn vars_available(&self) -> std::collections::BTreeMap<&str, BTreeSet<&str>> {
        let mut avail = std::collections::BTreeMap::<&str, BTreeSet<&str>>::new();
        avail.insert(self.start.as_str(), BTreeSet::new());
        let mut queue = VecDeque::from([self.start.as_str()]);
        while let Some(id) = queue.pop_front() {
            let Some(step) = self.step(id) else { continue };
            let here = avail.get(id).cloned().unwrap_or_default();
            for (field, target) in step.kind.transitions() {
                let mut out = here.clone();
                out.extend(step.kind.sets_vars_on(&field));
                // Revisit the target when it is new or learned new vars.
                let is_new = !avail.contains_key(target);
                let entry = avail.entry(target).or_default();
                let before = entry.len();
                entry.extend(out);
                if is_new || entry.len() > before {
                    queue.push_back(target);
                }
            }
        }
        avail
    }

    #[cfg(feature = "backend")]
    fn check_templates(&self, errors: &mut Vec<ScenarioError>) {
        use super::template::{check_expression, check_template, is_known_root};

        let avail = self.vars_available();
        for step in &self.steps {
            let mut used = Vec::new();
            for (field, source) in step.kind.templates() {
                match check_template(source) {
                    Ok(vars) => used.push((field, vars)),
                    Err(e) => errors.push(ScenarioError::at(&step.id, field, ScenarioIssue::TemplateSyntax { detail: e.to_string() })),
                }
            }
            for (field, source) in step.kind.expressions() {
                if source.trim().is_empty() {
                    errors.push(ScenarioError::at(&step.id, field, ScenarioIssue::Required));
                    continue;
                }
                match check_expression(source) {
                    Ok(vars) => used.push((field, vars)),
                    Err(e) => errors.push(ScenarioError::at(&step.id, field, ScenarioIssue::ExpressionSyntax { detail: e.to_string() })),
                }
            }
            // Unreachable steps are reported already; no data flow reaches them.
            let Some(available) = avail.get(step.id.as_str()) else { continue };
            for (field, vars) in used {
                let mut reported = BTreeSet::new();
                for path in &vars {
                    let mut parts = path.split('.');
                    let root = parts.next().unwrap_or_default();
                    if !is_known_root(root) {
                        if reported.insert(root.to_string()) {
                            errors.push(ScenarioError::at(&step.id, field.clone(), ScenarioIssue::UnknownVariable { root: root.to_string() }));
                        }
                        continue;
                    }
                    if root != "vars" {
                        continue;
                    }
                    if let Some(name) = parts.next() {
                        if !available.contains(name) && reported.insert(name.to_string()) {
                            errors.push(ScenarioError::at(&step.id, field.clone(), ScenarioIssue::UsedBeforeSet { name: name.to_string() }));
                        }
                    }
                }
            }
        }
    }
}

/// The vars a script step may set, for the "used before set" check: every
/// `ctx.vars.NAME` / `ctx.vars["NAME"]` its code names (a script is not
/// analysed further), and `error` on its `on_error` branch.
pub(super) fn script_vars<'a>(code: &'a str, field: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("ctx.vars") {
        let rest = &code[at + "ctx.vars".len()..];
        let name = if let Some(dotted) = rest.strip_prefix('.') {
            let end = dotted.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(dotted.len());
            &dotted[..end]
        } else if let Some(quoted) = rest.strip_prefix("[\"").or_else(|| rest.strip_prefix("['")) {
            let end = quoted.find(['"', '\'']).unwrap_or(0);
            &quoted[..end]
        } else {
            continue;
        };
        if is_identifier(name) && !out.contains(&name) {
            out.push(name);
        }
    }
    if field == "on_error" {
        out.push("error");
    }
    out
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A header value that carries a credential written out instead of
/// referenced: `Bearer abc123` (but `Bearer {{ secrets.crm_token }}` is fine).
fn is_literal_bearer(value: &str) -> bool {
    let v = value.trim_start();
    let lower = v.to_ascii_lowercase();
    (lower.starts_with("bearer ") || lower.starts_with("basic ")) && !v.contains("{{")
}

/// Per-step settings that make sense without parsing templates.
fn check_settings(id: &str, kind: &StepKind, errors: &mut Vec<ScenarioError>) {
    let mut err = |field: &str, issue: ScenarioIssue| errors.push(ScenarioError::at(id, field, issue));
    match kind {
        StepKind::Message { text, buttons, .. } => {
            if text.trim().is_empty() {
                err("text", ScenarioIssue::Required);
            }
            for (i, b) in buttons.iter().enumerate() {
                if b.label.trim().is_empty() {
                    err(&format!("buttons[{i}].label"), ScenarioIssue::Required);
                }
                if b.kind == ButtonKind::Url && b.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
                    err(&format!("buttons[{i}].url"), ScenarioIssue::UrlButtonWithoutUrl);
                }
            }
        }
        StepKind::Ask { prompt, expect, var, choices, max_reasks, timeout_sec, .. } => {
            if prompt.trim().is_empty() {
                err("prompt", ScenarioIssue::Required);
            }
            if !is_identifier(var) {
                err("var", ScenarioIssue::NotAName);
            }
            if *expect == Expect::Choice && choices.iter().all(|c| c.trim().is_empty()) {
                err("choices", ScenarioIssue::ChoiceWithoutChoices);
            }
            if *max_reasks > 10 {
                err("max_reasks", ScenarioIssue::AtMost { max: 10 });
            }
            if let Some(t) = timeout_sec {
                if !(1..=MAX_WAIT_SEC).contains(t) {
                    err("timeout_sec", ScenarioIssue::Between { max: MAX_WAIT_SEC, seconds: true });
                }
            }
        }
        StepKind::Http { url, headers, save_as, timeout_ms, retries, .. } => {
            if url.trim().is_empty() {
                err("url", ScenarioIssue::Required);
            }
            if !is_identifier(save_as) {
                err("save_as", ScenarioIssue::NotAName);
            }
            if !(1..=MAX_HTTP_TIMEOUT_MS).contains(timeout_ms) {
                err("timeout_ms", ScenarioIssue::Between { max: MAX_HTTP_TIMEOUT_MS as i64, seconds: false });
            }
            if *retries > MAX_HTTP_RETRIES {
                err("retries", ScenarioIssue::AtMost { max: i64::from(MAX_HTTP_RETRIES) });
            }
            for (i, h) in headers.iter().enumerate() {
                if h.name.trim().is_empty() || h.name.contains(|c: char| c.is_whitespace() || c == ':') {
                    err(&format!("headers[{i}].name"), ScenarioIssue::NotAHeaderName);
                }
                if is_literal_bearer(&h.value) {
                    err(&format!("headers[{i}].value"), ScenarioIssue::InlineCredential);
                }
            }
        }
        StepKind::Script { code, .. } => {
            if code.trim().is_empty() {
                err("code", ScenarioIssue::Required);
            } else if code.len() > MAX_SCRIPT_BYTES {
                err("code", ScenarioIssue::ScriptTooLarge { kib: (MAX_SCRIPT_BYTES / 1024) as i64 });
            }
            // Only the backend has the JavaScript engine to parse the code with.
            #[cfg(feature = "backend")]
            if !code.trim().is_empty() {
                if let Err(e) = super::script::check_script(code) {
                    err("code", ScenarioIssue::ScriptSyntax { detail: e.to_string() });
                }
            }
        }
        StepKind::Set { vars, attributes, add_tags, remove_tags, .. } => {
            for name in vars.keys() {
                if !is_identifier(name) {
                    err(&format!("vars.{name}"), ScenarioIssue::NotAName);
                }
            }
            for name in attributes.keys() {
                if name.trim().is_empty() {
                    err("attributes", ScenarioIssue::AttributeNameMissing);
                }
            }
            for (field, tags) in [("add_tags", add_tags), ("remove_tags", remove_tags)] {
                if tags.iter().any(|t| t.trim().is_empty()) {
                    err(field, ScenarioIssue::EmptyTag);
                }
            }
        }
        StepKind::Wait { seconds, until, .. } => match (seconds, until) {
            (Some(s), None) => {
                if !(1..=MAX_WAIT_SEC).contains(s) {
                    err("seconds", ScenarioIssue::Between { max: MAX_WAIT_SEC, seconds: false });
                }
            }
            (None, Some(u)) if !u.trim().is_empty() => {}
            _ => err("seconds", ScenarioIssue::SecondsOrUntil),
        },
        StepKind::Run { scenario, .. } => {
            if scenario.trim().is_empty() {
                err("scenario", ScenarioIssue::Required);
            }
        }
        StepKind::If { .. } | StepKind::Switch { .. } | StepKind::Goto { .. } => {}
        StepKind::Handover { .. } | StepKind::End { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scenario(steps: serde_json::Value) -> Scenario {
        serde_json::from_value(json!({"name": "t", "start": "a", "steps": steps})).unwrap()
    }

    fn errors(s: &Scenario) -> Vec<ScenarioError> {
        s.validate().expect_err("should not validate")
    }

    fn has(errors: &[ScenarioError], step: &str, field: &str) -> bool {
        errors.iter().any(|e| e.step.as_deref() == Some(step) && e.field == field)
    }

    #[test]
    fn a_linear_scenario_is_valid() {
        let s = scenario(json!([
            {"id": "a", "type": "message", "text": "Привет", "next": "b"},
            {"id": "b", "type": "end"}
        ]));
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn structure() {
        let s = scenario(json!([
            {"id": "a", "type": "message", "text": "Привет", "next": "nowhere"},
            {"id": "a", "type": "end"},
            {"id": "lost", "type": "end"},
            {"id": "q", "type": "ask", "prompt": "?", "expect": "choice", "var": "x", "next": "a"}
        ]));
        let e = errors(&s);
        assert!(has(&e, "a", "next"), "{e:?}");
        assert!(e.iter().any(|e| e.message.contains("duplicate")), "{e:?}");
        assert!(has(&e, "lost", "id"), "{e:?}");
        assert!(has(&e, "q", "choices"), "{e:?}");
    }

    #[test]
    fn unknown_start() {
        let s: Scenario = serde_json::from_value(json!({"name": "t", "start": "zz", "steps": [{"id": "a", "type": "end"}]})).unwrap();
        let e = errors(&s);
        assert!(e.iter().any(|e| e.step.is_none() && e.field == "start"), "{e:?}");
    }

    #[test]
    fn literal_bearer_tokens_are_refused() {
        assert!(is_literal_bearer("Bearer sk_live_123"));
        assert!(is_literal_bearer("bearer abc"));
        assert!(!is_literal_bearer("Bearer {{ secrets.crm_token }}"));
        assert!(!is_literal_bearer("application/json"));
    }

    #[cfg(feature = "backend")]
    #[test]
    fn scripts_name_the_vars_they_set() {
        let s = scenario(json!([
            {"id": "a", "type": "script", "code": "const r = callApi({url: ctx.secrets.crm_url + '/orders/' + ctx.params.orderId});\nctx.vars.order_total = r.json.total;\nctx.vars['paid'] = true;",
             "next": "b", "on_error": "c"},
            {"id": "b", "type": "message", "text": "{{ vars.order_total }} {{ vars.paid }}"},
            {"id": "c", "type": "message", "text": "{{ vars.error }}"}
        ]));
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(script_vars("ctx.vars.a = 1; ctx.vars[\"b\"] = ctx.vars.a; ctx.varsx = 1; ctx.vars[k] = 2;", "next"), ["a", "b"]);

        let s = scenario(json!([
            {"id": "a", "type": "script", "code": "ctx.vars.x = 1;", "next": "b"},
            {"id": "b", "type": "message", "text": "{{ vars.y }} {{ vars.error }}"},
            {"id": "c", "type": "script", "code": "   ", "next": "b"}
        ]));
        let e = errors(&s);
        assert!(e.iter().any(|e| e.step.as_deref() == Some("b") && e.message.contains("vars.y")), "{e:?}");
        assert!(e.iter().any(|e| e.step.as_deref() == Some("b") && e.message.contains("vars.error")), "no on_error, no vars.error: {e:?}");
        assert!(has(&e, "c", "code"), "{e:?}");
    }

    #[cfg(feature = "backend")]
    #[test]
    fn a_script_that_does_not_parse_is_refused_with_its_line() {
        let s = scenario(json!([
            {"id": "a", "type": "script", "code": "let total = 1;\nif (total > 0 {\n}", "next": "b"},
            {"id": "b", "type": "end"}
        ]));
        let e = errors(&s);
        let error = e.iter().find(|e| e.step.as_deref() == Some("a") && e.field == "code").expect("an error at the code");
        assert!(error.message.starts_with("script does not parse: Script error at line 2: SyntaxError"), "{error}");
    }

    #[test]
    fn wait_needs_one_of_seconds_or_until() {
        let s = scenario(json!([
            {"id": "a", "type": "wait", "next": "b"},
            {"id": "b", "type": "end"}
        ]));
        assert!(has(&errors(&s), "a", "seconds"));
    }
}
