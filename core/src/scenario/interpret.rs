//! The scenario interpreter: pure and deterministic (backend only, because
//! it renders templates).
//!
//! [`advance`] takes a run's [`RunState`], one [`Input`] and the time, runs
//! steps until one must wait (an ask for a reply, a wait for its time, an
//! http or script step for its result) or the run ends, and returns an
//! [`Outcome`]: the [`Effect`]s for the caller to perform (send a message,
//! call an API, run a script, schedule a wake-up…) and the run's new
//! [`Status`]. It does no IO, reads no clock and runs no JavaScript (the
//! caller runs scripts in [`super::script`]), so the worker persists the
//! state after every call and a restarted process resumes exactly where the
//! run was.
//!
//! Guards (SPEC §4): at most [`MAX_STEPS`] steps per run, one step at most
//! [`MAX_REPEATS`] times in a row, a run expires [`MAX_AGE_MS`] after it
//! started.

use super::reply::{parse_reply, SharedContact};
use super::script::{ScriptError, ScriptOutcome};
use super::template::{self, Context, LeadView};
use super::{Button, ButtonKind, Expect, Scenario, StepKind};
use crate::job::parse_rfc3339;
use crate::trace::detail::{Failure, Ignored};
use crate::Millis;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const MAX_STEPS: u32 = 1_000;
pub const MAX_REPEATS: u32 = 10;
pub const MAX_AGE_MS: Millis = 30 * 24 * 3600 * 1000;

/// Everything about a run that must survive a restart; persisted after
/// every [`advance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// The version of the scenario the run started with.
    pub scenario_version: i64,
    /// The step being executed or waited on; after the end, the last step.
    pub current: Option<String>,
    pub vars: Map<String, Value>,
    /// Attributes this run set (over the lead's own).
    pub attributes: Map<String, Value>,
    /// Tags this run changed: `true` added, `false` removed.
    pub tags: BTreeMap<String, bool>,
    /// The lead status this run set.
    pub status: Option<String>,
    pub steps_taken: u32,
    /// The last step executed and how many times in a row.
    pub repeats: (String, u32),
    pub started_at: Millis,
    pub waiting: Option<Waiting>,
    /// The run finished or failed; further inputs are ignored.
    #[serde(default)]
    pub ended: bool,
    /// The steps this run entered, in order (at most [`MAX_TRAIL`]): the
    /// studio's trace overlay counts passes per step and per link from it.
    /// Absent in runs saved before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trail: Vec<String>,
}

/// How many entered steps a run remembers for the trace overlay; later
/// ones are not recorded (a run takes at most [`MAX_STEPS`]).
pub const MAX_TRAIL: usize = 200;

impl RunState {
    pub fn new(scenario_version: i64, started_at: Millis) -> Self {
        Self {
            scenario_version,
            current: None,
            vars: Map::new(),
            attributes: Map::new(),
            tags: BTreeMap::new(),
            status: None,
            steps_taken: 0,
            repeats: (String::new(), 0),
            started_at,
            waiting: None,
            ended: false,
            trail: Vec::new(),
        }
    }

    /// When a paused run must be woken: at `own` (an ask's timeout, a
    /// wait's time) or when it expires, [`MAX_AGE_MS`] after it started,
    /// whichever comes first. An ask without a timeout would otherwise
    /// wait for ever, and hold its lead's one run of the endpoint with it.
    pub fn wake_at(&self, own: Option<Millis>) -> Millis {
        let expires = self.started_at.saturating_add(MAX_AGE_MS + 1);
        own.map_or(expires, |at| at.min(expires))
    }

    /// When this run, as it waits now, must be woken ([`RunState::wake_at`]
    /// of its ask's timeout or its wait's time); `None` when it waits for
    /// nothing the clock brings (an http or script result in the advance).
    pub fn next_wake(&self) -> Option<Millis> {
        match &self.waiting {
            Some(Waiting::Reply { timeout_at, .. }) => Some(self.wake_at(*timeout_at)),
            Some(Waiting::Until { at, .. }) => Some(self.wake_at(Some(*at))),
            _ => None,
        }
    }
}

/// What a paused run waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Waiting {
    /// A reply to an ask; `timeout_at` when it has a timeout; `reasks` sent
    /// so far.
    Reply { step: String, timeout_at: Option<Millis>, reasks: u32 },
    /// The time of a wait step.
    Until { step: String, at: Millis },
    /// The result of an http step the caller performs.
    Http { step: String },
    /// The result of a script step the caller runs.
    Script { step: String },
}

/// What the caller brings to a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// Begin a fresh run at the scenario's start step.
    Start,
    /// The person answered (text, a button's value, or a shared contact).
    Reply {
        text: String,
        #[serde(default)]
        contact: Option<SharedContact>,
    },
    /// The ask's timeout passed without a reply.
    Timeout,
    /// The ask's prompt could not be delivered.
    DeliveryFailed,
    /// The http step's response (the body as JSON, `null` if it was not).
    HttpResult { status: u16, json: Value },
    /// The http step got no response (timeout, DNS, TLS…) after its retries.
    HttpError { message: String },
    /// The wait step's time came.
    WaitElapsed,
    /// The script step finished: what it changed.
    ScriptResult { outcome: ScriptOutcome },
    /// The script step failed at `line` of its code (when known).
    ScriptError {
        #[serde(default)]
        line: Option<u32>,
        message: String,
    },
}

/// The lead as the caller knows it now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadInfo {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub tags: Vec<String>,
    pub status: Option<String>,
}

/// The context of a run besides its state: the business call's payload,
/// the lead and the project's secrets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInputs {
    pub params: Value,
    pub lead: LeadInfo,
    /// Never persisted with the run and never put into traces.
    #[serde(skip)]
    pub secrets: BTreeMap<String, String>,
}

/// Something the caller must do. Performed in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    Send { step: String, text: String, buttons: Vec<Button>, media_url: Option<String> },
    /// Perform the request, then come back with [`Input::HttpResult`] or
    /// [`Input::HttpError`]. Headers may hold secrets: do not log them.
    CallHttp {
        step: String,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<String>,
        timeout_ms: u64,
        retries: u32,
    },
    /// Run the script with `context` as its `ctx`, then come back with
    /// [`Input::ScriptResult`] or [`Input::ScriptError`]. The context holds
    /// the secrets: do not log it.
    RunScript { step: String, code: String, context: Value },
    /// Store these changes on the lead.
    SetAttributes {
        step: String,
        attributes: Map<String, Value>,
        add_tags: Vec<String>,
        remove_tags: Vec<String>,
        status: Option<String>,
    },
    Handover { step: String, note: String },
    /// Start the bot's scenario of this name for the same lead (a run of
    /// its own; this one goes on).
    StartScenario { step: String, name: String },
    /// Come back at `at` with [`Input::Timeout`] (ask) or
    /// [`Input::WaitElapsed`] (wait).
    ScheduleWake { at: Millis },
}

/// Where the run is after an [`advance`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Waiting(Waiting),
    Finished { goal: Option<String> },
    Failed { step: Option<String>, message: String },
    /// The input did not apply (a stale timer, a reply nobody waits for, a
    /// run that has ended); nothing changed.
    Ignored { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub effects: Vec<Effect>,
    pub status: Status,
}

/// Apply one input to a run. See the module docs.
pub fn advance(scenario: &Scenario, state: &mut RunState, inputs: &RunInputs, input: Input, now: Millis) -> Outcome {
    let mut run = Run { scenario, state, inputs, now, effects: Vec::new() };
    let status = run.apply(input);
    Outcome { effects: run.effects, status }
}

struct Run<'a> {
    scenario: &'a Scenario,
    state: &'a mut RunState,
    inputs: &'a RunInputs,
    now: Millis,
    effects: Vec<Effect>,
}

/// The run does not take the input, and says why (its trace's words).
fn ignored(why: Ignored) -> Status {
    Status::Ignored { reason: why.to_string() }
}

impl Run<'_> {
    fn apply(&mut self, input: Input) -> Status {
        if self.state.ended {
            return ignored(Ignored::Ended);
        }
        if self.now - self.state.started_at > MAX_AGE_MS {
            let step = self.state.current.clone();
            return self.fail(step, Failure::Expired.to_string());
        }
        match (self.state.waiting.clone(), input) {
            (None, Input::Start) if self.state.steps_taken == 0 => self.run_from(Some(self.scenario.start.clone())),
            (Some(Waiting::Reply { step, timeout_at, reasks }), Input::Reply { text, contact }) => {
                self.on_reply(step, timeout_at, reasks, &text, contact.as_ref())
            }
            (Some(Waiting::Reply { step, timeout_at: Some(at), .. }), Input::Timeout) => {
                if self.now < at {
                    return ignored(Ignored::TimeoutNotYet);
                }
                self.state.waiting = None;
                let target = self.ask_branch(&step, |k| match k {
                    StepKind::Ask { on_no_reply, .. } => on_no_reply.clone(),
                    _ => None,
                });
                match target {
                    Some(next) => self.run_from(Some(next)),
                    None => self.fail(Some(step), Failure::NoReply.to_string()),
                }
            }
            (Some(Waiting::Reply { step, .. }), Input::DeliveryFailed) => {
                self.state.waiting = None;
                let target = self.ask_branch(&step, |k| match k {
                    StepKind::Ask { on_delivery_failed, .. } => on_delivery_failed.clone(),
                    _ => None,
                });
                match target {
                    Some(next) => self.run_from(Some(next)),
                    None => self.fail(Some(step), Failure::Undelivered.to_string()),
                }
            }
            (Some(Waiting::Http { step }), Input::HttpResult { status, json }) => {
                let result = json!({"status": status, "json": json});
                let error = (status >= 400).then(|| format!("the API answered {status}"));
                self.on_http(step, result, error)
            }
            (Some(Waiting::Http { step }), Input::HttpError { message }) => {
                let result = json!({"status": 0, "json": null, "error": message});
                self.on_http(step, result, Some(format!("the API call failed: {message}")))
            }
            (Some(Waiting::Script { step }), Input::ScriptResult { outcome }) => self.on_script_result(step, outcome),
            (Some(Waiting::Script { step }), Input::ScriptError { line, message }) => {
                self.on_script_error(step, ScriptError { line, message })
            }
            (Some(Waiting::Until { step, at }), Input::WaitElapsed) => {
                if self.now < at {
                    return ignored(Ignored::WaitNotElapsed);
                }
                self.state.waiting = None;
                let next = match self.scenario.step(&step).map(|s| &s.kind) {
                    Some(StepKind::Wait { next, .. }) => next.clone(),
                    _ => return self.fail(Some(step), Failure::ScenarioChanged.to_string()),
                };
                self.run_from(Some(next))
            }
            (_, input) => ignored(Ignored::NotWaitingFor { input: input_name(&input).into() }),
        }
    }

    fn ask_branch(&self, step: &str, pick: impl Fn(&StepKind) -> Option<String>) -> Option<String> {
        self.scenario.step(step).and_then(|s| pick(&s.kind))
    }

    fn on_reply(
        &mut self,
        step_id: String,
        timeout_at: Option<Millis>,
        reasks: u32,
        text: &str,
        contact: Option<&SharedContact>,
    ) -> Status {
        let scenario = self.scenario;
        let Some(step) = scenario.step(&step_id) else {
            return self.fail(Some(step_id), Failure::ScenarioChanged.to_string());
        };
        let StepKind::Ask { prompt, expect, var, choices, reask, max_reasks, next, on_no_reply, .. } = &step.kind else {
            return self.fail(Some(step_id), Failure::ScenarioChanged.to_string());
        };
        match parse_reply(*expect, choices, text, contact) {
            Ok(value) => {
                self.state.vars.insert(var.clone(), value);
                self.state.waiting = None;
                self.run_from(Some(next.clone()))
            }
            Err(_) if reasks < *max_reasks => {
                let ctx = self.context();
                let source = reask.as_deref().unwrap_or(prompt);
                let text = match template::render(source, &ctx) {
                    Ok(t) => t,
                    Err(e) => return self.fail(Some(step_id), format!("reask: {e}")),
                };
                let buttons = match self.ask_buttons(&step.kind, &ctx) {
                    Ok(b) => b,
                    Err(e) => return self.fail(Some(step_id), e),
                };
                self.effects.push(Effect::Send { step: step_id.clone(), text, buttons, media_url: None });
                let waiting = Waiting::Reply { step: step_id, timeout_at, reasks: reasks + 1 };
                self.state.waiting = Some(waiting.clone());
                Status::Waiting(waiting)
            }
            Err(e) => {
                self.state.waiting = None;
                match on_no_reply {
                    Some(target) => self.run_from(Some(target.clone())),
                    None => self.fail(Some(step_id), Failure::NoValidReply { reasks: *max_reasks, why: e }.to_string()),
                }
            }
        }
    }

    fn on_http(&mut self, step_id: String, result: Value, error: Option<String>) -> Status {
        self.state.waiting = None;
        let scenario = self.scenario;
        let Some(StepKind::Http { save_as, next, on_error, .. }) = scenario.step(&step_id).map(|s| &s.kind) else {
            return self.fail(Some(step_id), Failure::ScenarioChanged.to_string());
        };
        self.state.vars.insert(save_as.clone(), result);
        match (error, on_error) {
            (None, _) => self.run_from(Some(next.clone())),
            (Some(_), Some(target)) => self.run_from(Some(target.clone())),
            (Some(message), None) => self.fail(Some(step_id), message),
        }
    }

    fn on_script_result(&mut self, step_id: String, outcome: ScriptOutcome) -> Status {
        self.state.waiting = None;
        let scenario = self.scenario;
        let Some(StepKind::Script { next, .. }) = scenario.step(&step_id).map(|s| &s.kind) else {
            return self.fail(Some(step_id), Failure::ScenarioChanged.to_string());
        };
        let ScriptOutcome { vars, removed_vars, attributes, add_tags, remove_tags, status, .. } = outcome;
        self.state.vars.extend(vars);
        for name in &removed_vars {
            self.state.vars.remove(name);
        }
        self.apply_lead_changes(&step_id, attributes, add_tags, remove_tags, status);
        self.run_from(Some(next.clone()))
    }

    fn on_script_error(&mut self, step_id: String, error: ScriptError) -> Status {
        self.state.waiting = None;
        let scenario = self.scenario;
        let Some(StepKind::Script { on_error, .. }) = scenario.step(&step_id).map(|s| &s.kind) else {
            return self.fail(Some(step_id), Failure::ScenarioChanged.to_string());
        };
        match on_error {
            Some(target) => {
                self.state.vars.insert("error".into(), Value::String(error.to_string()));
                self.run_from(Some(target.clone()))
            }
            None => self.fail(Some(step_id), error.to_string()),
        }
    }

    /// Records changes to the lead in the run and asks the caller to store them.
    fn apply_lead_changes(
        &mut self,
        step: &str,
        attributes: Map<String, Value>,
        add_tags: Vec<String>,
        remove_tags: Vec<String>,
        status: Option<String>,
    ) {
        self.state.attributes.extend(attributes.clone());
        for tag in &add_tags {
            self.state.tags.insert(tag.clone(), true);
        }
        for tag in &remove_tags {
            self.state.tags.insert(tag.clone(), false);
        }
        if status.is_some() {
            self.state.status = status.clone();
        }
        if !attributes.is_empty() || !add_tags.is_empty() || !remove_tags.is_empty() || status.is_some() {
            self.effects.push(Effect::SetAttributes { step: step.into(), attributes, add_tags, remove_tags, status });
        }
    }

    /// The `ctx` a script sees: the template context (secrets included, for
    /// `callApi` headers) plus `user` — the business user id of the call,
    /// which the caller may know better (a fan-out call names many).
    fn script_context(&self) -> Value {
        let mut ctx = serde_json::to_value(self.context()).unwrap_or_else(|_| json!({}));
        let user_id = self.inputs.params.as_object().and_then(|p| crate::call::business_id_of(p, &["userId", "user_id"]));
        ctx["user"] = json!({ "id": user_id });
        ctx
    }

    /// Execute steps from `next` until the run must wait or ends.
    fn run_from(&mut self, mut next: Option<String>) -> Status {
        loop {
            let Some(id) = next.take() else {
                return self.finish(None);
            };
            if self.state.steps_taken >= MAX_STEPS {
                return self.fail(Some(id), Failure::StepLimit { max: MAX_STEPS }.to_string());
            }
            if self.state.repeats.0 == id {
                self.state.repeats.1 += 1;
            } else {
                self.state.repeats = (id.clone(), 1);
            }
            if self.state.repeats.1 > MAX_REPEATS {
                return self.fail(Some(id), Failure::Repeated { times: MAX_REPEATS }.to_string());
            }
            self.state.steps_taken += 1;
            self.state.current = Some(id.clone());
            if self.state.trail.len() < MAX_TRAIL {
                self.state.trail.push(id.clone());
            }
            let scenario = self.scenario;
            let Some(step) = scenario.step(&id) else {
                return self.fail(Some(id.clone()), format!("no step with id \"{id}\""));
            };
            match self.execute(&id, &step.kind) {
                Ok(Flow::Next(n)) => next = n,
                Ok(Flow::Wait(waiting)) => {
                    self.state.waiting = Some(waiting.clone());
                    return Status::Waiting(waiting);
                }
                Ok(Flow::End(goal)) => return self.finish(goal),
                Err(message) => return self.fail(Some(id), message),
            }
        }
    }

    fn execute(&mut self, id: &str, kind: &StepKind) -> Result<Flow, String> {
        let ctx = self.context();
        let render = |field: &str, source: &str| template::render(source, &ctx).map_err(|e| format!("{field}: {e}"));
        match kind {
            StepKind::Message { text, buttons, media_url, next } => {
                let text = render("text", text)?;
                let buttons = render_buttons(buttons, &ctx)?;
                let media_url = media_url.as_deref().map(|m| render("media_url", m)).transpose()?;
                self.effects.push(Effect::Send { step: id.into(), text, buttons, media_url });
                Ok(Flow::Next(next.clone()))
            }
            StepKind::Ask { prompt, timeout_sec, .. } => {
                let text = render("prompt", prompt)?;
                let buttons = self.ask_buttons(kind, &ctx)?;
                self.effects.push(Effect::Send { step: id.into(), text, buttons, media_url: None });
                let timeout_at = timeout_sec.map(|s| self.now + s * 1000);
                if let Some(at) = timeout_at {
                    self.effects.push(Effect::ScheduleWake { at });
                }
                Ok(Flow::Wait(Waiting::Reply { step: id.into(), timeout_at, reasks: 0 }))
            }
            StepKind::Http { method, url, headers, body, timeout_ms, retries, .. } => {
                let url = render("url", url)?;
                let headers = headers
                    .iter()
                    .map(|h| Ok((h.name.clone(), render("headers", &h.value)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                let body = body.as_deref().map(|b| render("body", b)).transpose()?;
                self.effects.push(Effect::CallHttp {
                    step: id.into(),
                    method: method.as_str().into(),
                    url,
                    headers,
                    body,
                    timeout_ms: *timeout_ms,
                    retries: *retries,
                });
                Ok(Flow::Wait(Waiting::Http { step: id.into() }))
            }
            StepKind::Script { code, .. } => {
                self.effects.push(Effect::RunScript { step: id.into(), code: code.clone(), context: self.script_context() });
                Ok(Flow::Wait(Waiting::Script { step: id.into() }))
            }
            StepKind::Set { vars, attributes, add_tags, remove_tags, status, next } => {
                // Values are rendered against the context before the step.
                let mut new_vars = Vec::new();
                for (name, source) in vars {
                    new_vars.push((name.clone(), Value::String(render(&format!("vars.{name}"), source)?)));
                }
                let mut new_attributes = Map::new();
                for (name, source) in attributes {
                    new_attributes.insert(name.clone(), Value::String(render(&format!("attributes.{name}"), source)?));
                }
                self.state.vars.extend(new_vars);
                self.apply_lead_changes(id, new_attributes, add_tags.clone(), remove_tags.clone(), status.clone());
                Ok(Flow::Next(next.clone()))
            }
            StepKind::If { condition, then, otherwise } => {
                let yes = template::eval_bool(condition, &ctx).map_err(|e| format!("condition: {e}"))?;
                Ok(Flow::Next(Some(if yes { then.clone() } else { otherwise.clone() })))
            }
            StepKind::Switch { value, cases, default } => {
                let value = template::eval(value, &ctx).map_err(|e| format!("value: {e}"))?;
                let target = cases.iter().find(|c| loosely_equal(&value, &c.equals)).map(|c| &c.next).unwrap_or(default);
                Ok(Flow::Next(Some(target.clone())))
            }
            StepKind::Wait { seconds, until, next } => {
                let at = match (seconds, until) {
                    (Some(s), _) => self.now + s * 1000,
                    (None, Some(u)) => {
                        let text = render("until", u)?;
                        parse_rfc3339(text.trim()).ok_or_else(|| format!("until: \"{text}\" is not an RFC 3339 time"))?
                    }
                    (None, None) => return Err("a wait needs seconds or until".into()),
                };
                if at <= self.now {
                    return Ok(Flow::Next(Some(next.clone())));
                }
                self.effects.push(Effect::ScheduleWake { at });
                Ok(Flow::Wait(Waiting::Until { step: id.into(), at }))
            }
            StepKind::Goto { target } => Ok(Flow::Next(Some(target.clone()))),
            StepKind::Run { scenario, next } => {
                self.effects.push(Effect::StartScenario { step: id.into(), name: scenario.clone() });
                Ok(Flow::Next(next.clone()))
            }
            StepKind::Handover { note, next } => {
                let note = render("note", note)?;
                self.effects.push(Effect::Handover { step: id.into(), note });
                Ok(Flow::Next(next.clone()))
            }
            StepKind::End { goal } => Ok(Flow::End(goal.clone())),
        }
    }

    /// The ask's own buttons, or the default ones for its kind.
    fn ask_buttons(&self, kind: &StepKind, ctx: &Context) -> Result<Vec<Button>, String> {
        let StepKind::Ask { expect, choices, buttons, .. } = kind else { return Ok(Vec::new()) };
        if !buttons.is_empty() {
            return render_buttons(buttons, ctx);
        }
        let reply = |label: String| Button { label, kind: ButtonKind::Reply, value: None, url: None };
        Ok(match expect {
            Expect::Choice => choices.iter().cloned().map(reply).collect(),
            Expect::Rating => (1..=5).map(|n| reply(n.to_string())).collect(),
            Expect::Contact => vec![Button { label: "📱".into(), kind: ButtonKind::Contact, value: None, url: None }],
            _ => Vec::new(),
        })
    }

    /// The template context: the call's params, the run's vars, and the
    /// lead with this run's changes applied.
    fn context(&self) -> Context {
        let lead = &self.inputs.lead;
        let mut attributes = lead.attributes.clone();
        attributes.extend(self.state.attributes.clone());
        let mut tags: BTreeSet<String> = lead.tags.iter().cloned().collect();
        for (tag, added) in &self.state.tags {
            if *added {
                tags.insert(tag.clone());
            } else {
                tags.remove(tag);
            }
        }
        let status = self.state.status.clone().or_else(|| lead.status.clone());
        Context {
            params: self.inputs.params.clone(),
            vars: self.state.vars.clone(),
            lead: LeadView { id: lead.id.clone(), attributes: attributes.clone(), tags, status },
            attributes,
            secrets: self.inputs.secrets.clone(),
        }
    }

    fn finish(&mut self, goal: Option<String>) -> Status {
        self.state.ended = true;
        self.state.waiting = None;
        Status::Finished { goal }
    }

    fn fail(&mut self, step: Option<String>, message: impl Into<String>) -> Status {
        self.state.ended = true;
        self.state.waiting = None;
        Status::Failed { step, message: message.into() }
    }
}

enum Flow {
    Next(Option<String>),
    Wait(Waiting),
    End(Option<String>),
}

fn render_buttons(buttons: &[Button], ctx: &Context) -> Result<Vec<Button>, String> {
    buttons
        .iter()
        .map(|b| {
            let label = template::render(&b.label, ctx).map_err(|e| format!("button label: {e}"))?;
            let url = b.url.as_deref().map(|u| template::render(u, ctx)).transpose().map_err(|e| format!("button url: {e}"))?;
            Ok(Button { label, kind: b.kind, value: b.value.clone(), url })
        })
        .collect()
}

/// `switch` equality: JSON equality, or the same text (`5` matches `"5"`).
fn loosely_equal(a: &Value, b: &Value) -> bool {
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    a == b || text(a) == text(b)
}

fn input_name(input: &Input) -> &'static str {
    match input {
        Input::Start => "start",
        Input::Reply { .. } => "a reply",
        Input::Timeout => "a timeout",
        Input::DeliveryFailed => "a delivery failure",
        Input::HttpResult { .. } | Input::HttpError { .. } => "an http result",
        Input::WaitElapsed => "a wake-up",
        Input::ScriptResult { .. } | Input::ScriptError { .. } => "a script result",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(steps: Value) -> Scenario {
        serde_json::from_value(json!({"name": "t", "start": "a", "steps": steps})).unwrap()
    }

    #[test]
    fn set_if_switch() {
        let s = scenario(json!([
            {"id": "a", "type": "set", "vars": {"tier": "gold"}, "attributes": {"city": "{{ params.city }}"}, "add_tags": ["vip"], "status": "active", "next": "b"},
            {"id": "b", "type": "if", "condition": "'vip' in lead.tags and attributes.city == 'Казань'", "then": "c", "otherwise": "z"},
            {"id": "c", "type": "switch", "value": "vars.tier", "cases": [{"equals": "silver", "next": "z"}, {"equals": "gold", "next": "d"}], "default": "z"},
            {"id": "d", "type": "message", "text": "{{ lead.status }} {{ vars.tier }}"},
            {"id": "z", "type": "end", "goal": "wrong"}
        ]));
        let inputs = RunInputs { params: json!({"city": "Казань"}), ..RunInputs::default() };
        let mut state = RunState::new(1, 0);
        let out = advance(&s, &mut state, &inputs, Input::Start, 0);
        assert_eq!(out.status, Status::Finished { goal: None });
        assert!(matches!(&out.effects[0], Effect::SetAttributes { add_tags, .. } if add_tags == &vec!["vip".to_string()]));
        assert!(matches!(&out.effects[1], Effect::Send { text, .. } if text == "active gold"));
        assert_eq!(state.steps_taken, 4);
        assert_eq!(state.trail, ["a", "b", "c", "d"], "the trail the studio's trace overlay counts");
    }

    #[test]
    fn wait_schedules_and_ignores_early_wakes() {
        let s = scenario(json!([
            {"id": "a", "type": "wait", "seconds": 60, "next": "b"},
            {"id": "b", "type": "end", "goal": "done"}
        ]));
        let inputs = RunInputs::default();
        let mut state = RunState::new(1, 1_000);
        let out = advance(&s, &mut state, &inputs, Input::Start, 1_000);
        assert_eq!(out.effects, vec![Effect::ScheduleWake { at: 61_000 }]);
        assert!(matches!(advance(&s, &mut state, &inputs, Input::WaitElapsed, 2_000).status, Status::Ignored { .. }));
        let out = advance(&s, &mut state, &inputs, Input::WaitElapsed, 61_000);
        assert_eq!(out.status, Status::Finished { goal: Some("done".into()) });
        assert!(matches!(advance(&s, &mut state, &inputs, Input::Start, 62_000).status, Status::Ignored { .. }));
    }

    #[test]
    fn wait_until_a_rendered_time() {
        let s = scenario(json!([
            {"id": "a", "type": "wait", "until": "{{ params.at }}", "next": "b"},
            {"id": "b", "type": "end"}
        ]));
        let inputs = RunInputs { params: json!({"at": "1970-01-01T00:01:00Z"}), ..RunInputs::default() };
        let mut state = RunState::new(1, 0);
        let out = advance(&s, &mut state, &inputs, Input::Start, 0);
        assert_eq!(out.status, Status::Waiting(Waiting::Until { step: "a".into(), at: 60_000 }));
    }

    #[test]
    fn old_runs_expire() {
        let s = scenario(json!([
            {"id": "a", "type": "wait", "seconds": 3600, "next": "b"},
            {"id": "b", "type": "end"}
        ]));
        let mut state = RunState::new(1, 0);
        advance(&s, &mut state, &RunInputs::default(), Input::Start, 0);
        let out = advance(&s, &mut state, &RunInputs::default(), Input::WaitElapsed, MAX_AGE_MS + 1);
        assert!(matches!(&out.status, Status::Failed { message, .. } if message.contains("expired")));
    }

    #[test]
    fn a_paused_run_wakes_by_its_expiry_at_the_latest() {
        let s = scenario(json!([
            {"id": "a", "type": "ask", "prompt": "Оцените от 1 до 5", "expect": "rating", "var": "rating", "next": "b"},
            {"id": "b", "type": "end"}
        ]));
        let mut state = RunState::new(1, 1_000);
        advance(&s, &mut state, &RunInputs::default(), Input::Start, 1_000);
        assert!(matches!(state.waiting, Some(Waiting::Reply { timeout_at: None, .. })));
        let expiry = state.wake_at(None);
        assert_eq!(expiry, 1_000 + MAX_AGE_MS + 1);
        assert_eq!(state.wake_at(Some(5_000)), 5_000, "its own time when sooner");
        assert_eq!(state.wake_at(Some(expiry + 60_000)), expiry);
        assert_eq!(state.next_wake(), Some(expiry), "as it waits now");
        // Woken then, with no reply, it ends as expired.
        let out = advance(&s, &mut state, &RunInputs::default(), Input::Timeout, expiry);
        assert!(matches!(&out.status, Status::Failed { message, .. } if message.contains("expired")), "{:?}", out.status);
    }

    fn script_scenario(on_error: Option<&str>) -> Scenario {
        let mut check = json!({"id": "check", "type": "script", "code": "ctx.vars.total = 1;", "next": "thanks"});
        if let Some(target) = on_error {
            check["on_error"] = json!(target);
        }
        serde_json::from_value(json!({"name": "t", "start": "hi", "steps": [
            {"id": "hi", "type": "set", "vars": {"order": "{{ params.orderId }}"}, "next": "check"},
            check,
            {"id": "thanks", "type": "message", "text": "Итого {{ vars.total }} ({{ lead.status }}, {{ attributes.tier }})", "next": "bye"},
            {"id": "sorry", "type": "message", "text": "{{ vars.error }}", "next": "bye"},
            {"id": "bye", "type": "end", "goal": "done"}
        ]}))
        .unwrap()
    }

    fn script_inputs() -> RunInputs {
        let mut inputs = RunInputs {
            params: json!({"orderId": 9821, "userId": 125}),
            lead: LeadInfo { id: "TG-9072612".into(), tags: vec!["new".into()], ..LeadInfo::default() },
            ..RunInputs::default()
        };
        inputs.secrets.insert("crm_url".into(), "https://crm.example.com".into());
        inputs
    }

    #[test]
    fn a_script_step_asks_the_caller_to_run_it_and_waits() {
        let s = script_scenario(None);
        let mut state = RunState::new(1, 0);
        let out = advance(&s, &mut state, &script_inputs(), Input::Start, 0);
        assert_eq!(out.status, Status::Waiting(Waiting::Script { step: "check".into() }));
        let [Effect::RunScript { step, code, context }] = out.effects.as_slice() else { panic!("{:?}", out.effects) };
        assert_eq!((step.as_str(), code.as_str()), ("check", "ctx.vars.total = 1;"));
        assert_eq!(context["params"]["orderId"], 9821);
        assert_eq!(context["vars"]["order"], "9821", "the vars set before the script");
        assert_eq!(context["lead"]["id"], "TG-9072612");
        assert_eq!(context["lead"]["tags"], json!(["new"]));
        assert_eq!(context["user"]["id"], "125");
        assert_eq!(context["secrets"]["crm_url"], "https://crm.example.com", "for callApi headers and urls");
        // Anything but the script's result is not for this run now.
        let out = advance(&s, &mut state, &script_inputs(), Input::HttpResult { status: 200, json: Value::Null }, 0);
        assert!(matches!(out.status, Status::Ignored { .. }));
        assert_eq!(state.waiting, Some(Waiting::Script { step: "check".into() }));
        let back: RunState = serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(back, state, "a waiting script survives a restart");
    }

    #[test]
    fn a_script_result_is_applied_like_a_set_step() {
        let s = script_scenario(None);
        let mut state = RunState::new(1, 0);
        advance(&s, &mut state, &script_inputs(), Input::Start, 0);
        let outcome = ScriptOutcome {
            vars: json!({"total": 3500}).as_object().unwrap().clone(),
            removed_vars: vec!["order".into()],
            attributes: json!({"tier": "gold"}).as_object().unwrap().clone(),
            add_tags: vec!["paid".into()],
            remove_tags: vec!["new".into()],
            status: Some("customer".into()),
            result: Some(json!(true)),
        };
        let out = advance(&s, &mut state, &script_inputs(), Input::ScriptResult { outcome }, 0);
        assert_eq!(out.status, Status::Finished { goal: Some("done".into()) });
        assert_eq!(
            out.effects[0],
            Effect::SetAttributes {
                step: "check".into(),
                attributes: json!({"tier": "gold"}).as_object().unwrap().clone(),
                add_tags: vec!["paid".into()],
                remove_tags: vec!["new".into()],
                status: Some("customer".into()),
            }
        );
        assert!(matches!(&out.effects[1], Effect::Send { text, .. } if text == "Итого 3500 (customer, gold)"), "{:?}", out.effects);
        assert_eq!(state.vars.get("order"), None);
        assert_eq!(state.tags.get("new"), Some(&false));

        // A script that changed only vars stores nothing on the lead.
        let mut state = RunState::new(1, 0);
        advance(&s, &mut state, &script_inputs(), Input::Start, 0);
        let outcome = ScriptOutcome { vars: json!({"total": 1}).as_object().unwrap().clone(), ..ScriptOutcome::default() };
        let out = advance(&s, &mut state, &script_inputs(), Input::ScriptResult { outcome }, 0);
        assert!(matches!(out.effects.as_slice(), [Effect::Send { text, .. }] if text.starts_with("Итого 1 ")), "{:?}", out.effects);
    }

    #[test]
    fn a_script_error_fails_the_run_with_its_line_or_takes_on_error() {
        let error = || Input::ScriptError { line: Some(23), message: "ReferenceError: foo is not defined".into() };
        let s = script_scenario(None);
        let mut state = RunState::new(1, 0);
        advance(&s, &mut state, &script_inputs(), Input::Start, 0);
        let out = advance(&s, &mut state, &script_inputs(), error(), 0);
        assert_eq!(
            out.status,
            Status::Failed { step: Some("check".into()), message: "Script error at line 23: ReferenceError: foo is not defined".into() }
        );
        assert!(state.ended);

        let s = script_scenario(Some("sorry"));
        let mut state = RunState::new(1, 0);
        advance(&s, &mut state, &script_inputs(), Input::Start, 0);
        let out = advance(&s, &mut state, &script_inputs(), error(), 0);
        assert_eq!(out.status, Status::Finished { goal: Some("done".into()) });
        assert!(matches!(&out.effects[0], Effect::Send { text, .. } if text == "Script error at line 23: ReferenceError: foo is not defined"));
        assert_eq!(state.vars["error"], "Script error at line 23: ReferenceError: foo is not defined");
    }

    #[test]
    fn script_inputs_round_trip_as_json() {
        let input = Input::ScriptError { line: None, message: "script ran longer than 1000 ms".into() };
        assert_eq!(serde_json::from_value::<Input>(serde_json::to_value(&input).unwrap()).unwrap(), input);
        let input = Input::ScriptResult { outcome: ScriptOutcome { status: Some("vip".into()), ..ScriptOutcome::default() } };
        assert_eq!(serde_json::from_value::<Input>(serde_json::to_value(&input).unwrap()).unwrap(), input);
    }

    #[test]
    fn run_state_round_trips() {
        let mut state = RunState::new(3, 5);
        state.waiting = Some(Waiting::Reply { step: "q".into(), timeout_at: Some(10), reasks: 1 });
        let back: RunState = serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(back, state);
    }
}
