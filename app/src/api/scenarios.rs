//! Scenarios of a bot in the studio: list, load (current or an old
//! version), history, save, create from a template, restore, delete, and
//! the dry run of the scenario being edited.
//!
//! Reading needs `View`; every change and every dry run needs
//! `DesignIntegrations`. A save
//! is validated by `comops_core`'s rules (`Scenario::validate`) and comes
//! back as [`SaveOutcome::Invalid`] with one [`StepIssue`] per problem,
//! each naming the step (`steps[3].next`, step id `ask_phone`) so the
//! editor can mark it. The definition travels as JSON text: the studio
//! edits exactly that, and a form field carries it without a nested-form
//! encoding.
//!
//! Saves never overwrite silently: the editor sends the version it
//! started from, and a newer one saved meanwhile is a
//! [`SaveOutcome::Conflict`].

use crate::api::endpoints::BotChoice;
use crate::error::AppError;
use comops_core::history::HistoryPage;
use comops_core::scenario::{Scenario, ScenarioError, ScenarioIssue, Step, StepKind};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The templates a new scenario starts from.
pub const TEMPLATES: [&str; 2] = ["empty", "message"];

/// A row of the scenario list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRow {
    pub name: String,
    pub description: String,
    pub version: i64,
    pub steps: usize,
    pub author: String,
    pub updated_at: i64,
    /// Aliases of the endpoints that start this scenario, or name it as
    /// their block report (`on_blocked`).
    pub endpoints: Vec<String>,
    /// Whether it is the bot's entry scenario (started by inbound messages).
    pub entry: bool,
}

/// The scenario page's data: every bot (for the picker), the chosen one
/// (the first when none was asked for) and its scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioPage {
    pub bots: Vec<BotChoice>,
    pub bot_id: String,
    pub scenarios: Vec<ScenarioRow>,
}

/// One version of a scenario, opened in the editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedScenario {
    pub definition: Scenario,
    pub version: i64,
    /// The scenario's current version (`version` is older when an old one
    /// was opened).
    pub current: i64,
    pub note: String,
    pub author: String,
    pub created_at: i64,
    /// The dry run's sample params: the example request of an endpoint
    /// that starts this scenario ("" when none has one).
    #[serde(default)]
    pub sample_params: String,
}

/// One entry of a scenario's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRow {
    pub version: i64,
    pub note: String,
    pub author: String,
    pub created_at: i64,
    pub steps: usize,
}

/// One problem of a scenario, placed so the editor can mark it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepIssue {
    /// The step's id, when the problem belongs to a step.
    pub step: Option<String>,
    /// The step's position in `steps`.
    pub index: Option<usize>,
    /// The field within the step (`next`, `buttons[0].label`), or of the
    /// scenario (`start`, `name`).
    pub field: String,
    /// Where in the whole definition: `steps[3].next`, `start`.
    pub path: String,
    /// In English (core's wording); the studio says [`Self::issue`].
    pub message: String,
    pub issue: ScenarioIssue,
}

impl StepIssue {
    /// A problem of the scenario as a whole (its JSON, its name).
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    fn whole(field: &str, issue: ScenarioIssue) -> Self {
        StepIssue { step: None, index: None, field: field.into(), path: field.into(), message: issue.english(), issue }
    }
}

/// What a save (or a restore) did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved { version: i64 },
    /// Nothing was saved; every problem found.
    Invalid { errors: Vec<StepIssue> },
    /// Someone saved `current` after the version this edit started from;
    /// nothing was saved.
    Conflict { current: i64, author: String },
}

/// What the runs of one scenario version did, step by step: the studio
/// canvas's trace overlay. Counted from the runs' saved state (each run
/// keeps the steps it entered, `RunState::trail`, and where it is now).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceCounts {
    pub version: i64,
    /// Runs of that version counted (the newest [`TRACE_RUN_LIMIT`]).
    pub runs: u64,
    pub steps: Vec<StepCount>,
    pub links: Vec<LinkCount>,
}

/// The newest runs the trace overlay counts.
pub const TRACE_RUN_LIMIT: i64 = 5_000;

/// Runs at one step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepCount {
    pub step: String,
    /// Runs that entered the step (once each, however often).
    pub passed: u64,
    /// Runs waiting there now (a reply, a delay) or about to go on.
    pub waiting: u64,
    /// Runs that ended or failed there.
    pub ended: u64,
}

/// Runs that went from one step straight to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkCount {
    pub from: String,
    pub to: String,
    pub runs: u64,
}

/// What a dry run of the edited scenario would do (`dry_run_scenario`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DryRunOutcome {
    /// The run up to its first pause: the steps it entered, every message
    /// as the lead would get it, where and why it stopped (`wait`, `ask`,
    /// `http`, `script`, `end` or `error`, with `error` saying what).
    Ran { steps: Vec<String>, messages: Vec<DryMessage>, stopped_at: Option<String>, stop: String, error: Option<String> },
    /// The scenario does not pass the checks: nothing ran.
    Invalid { errors: Vec<StepIssue> },
    /// The sample params are not a call body; `message` is in the user's language.
    BadParams { message: String },
}

/// One message of a dry run, rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryMessage {
    pub step: String,
    pub text: String,
    /// The labels of its buttons.
    pub buttons: Vec<String>,
    /// `params.…` / `vars.…` it reads that the sample did not have (drawn
    /// as empty text).
    pub missing: Vec<String>,
}

#[cfg(feature = "ssr")]
impl From<comops_core::scenario::preview::RenderedMessage> for DryMessage {
    fn from(m: comops_core::scenario::preview::RenderedMessage) -> Self {
        DryMessage { step: m.step, text: m.text, buttons: m.buttons.into_iter().map(|b| b.label).collect(), missing: m.missing }
    }
}

/// What a delete did: done, or why it was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeleteOutcome {
    Deleted,
    /// Not deleted; `bot_id` and `name` say which scenario.
    Refused { bot_id: String, name: String, endpoints: Vec<String>, entry: bool, active_runs: i64, scheduled_jobs: i64 },
}

impl DeleteOutcome {
    /// The scenario's bot and name when the delete was refused only
    /// because scheduled jobs still name it, which a delete with
    /// `cancel_jobs` cancels first.
    pub fn held_only_by_jobs(&self) -> Option<(&str, &str)> {
        match self {
            DeleteOutcome::Refused { bot_id, name, endpoints, entry: false, active_runs: 0, scheduled_jobs } if endpoints.is_empty() && *scheduled_jobs > 0 => {
                Some((bot_id, name))
            }
            _ => None,
        }
    }
}

/// Places core's validation errors on step positions.
pub fn issues(scenario: &Scenario, errors: Vec<ScenarioError>) -> Vec<StepIssue> {
    errors
        .into_iter()
        .map(|e| {
            let index = match &e.step {
                Some(id) => scenario.steps.iter().position(|s| &s.id == id),
                // `steps[2].id` (an empty id) names its position itself.
                None => e
                    .field
                    .strip_prefix("steps[")
                    .and_then(|rest| rest.split_once(']'))
                    .and_then(|(n, _)| n.parse().ok()),
            };
            let path = match (&e.step, index) {
                (Some(_), Some(i)) => format!("steps[{i}].{}", e.field),
                (Some(id), None) => format!("steps.{id}.{}", e.field),
                (None, _) => e.field.clone(),
            };
            StepIssue { step: e.step, index, field: e.field, path, message: e.message, issue: e.issue }
        })
        .collect()
}

/// The first definition of a new scenario: a single `end` step
/// (`empty`), or a greeting in `locale` followed by `end` (`message`).
pub fn template(locale: comops_core::Locale, name: &str, description: &str, template: &str) -> Scenario {
    let end = Step { id: "end".into(), kind: StepKind::End { goal: None } };
    let steps = match template {
        "message" => vec![
            Step {
                id: "hello".into(),
                kind: StepKind::Message { text: crate::i18n::t(locale, crate::i18n::K::TemplateGreeting).into(), buttons: vec![], media_url: None, next: Some("end".into()) },
            },
            end,
        ],
        _ => vec![end],
    };
    let start = steps[0].id.clone();
    Scenario { name: name.into(), description: description.into(), start, steps, layout: Default::default() }
}

#[server(prefix = "/api", endpoint = "scenarios/page")]
pub async fn load_scenario_page(bot_id: String) -> Result<ScenarioPage, AppError> {
    use crate::session::require;
    require(comops_core::Permission::View)?;
    let bots = crate::api::endpoints::list_bot_choices().await?;
    let bot_id = if bot_id.is_empty() { bots.first().map(|b| b.id.clone()).unwrap_or_default() } else { bot_id };
    if bot_id.is_empty() {
        return Ok(ScenarioPage { bots, bot_id, scenarios: Vec::new() });
    }
    let scenarios = list_scenarios(bot_id.clone()).await?;
    Ok(ScenarioPage { bots, bot_id, scenarios })
}

#[server(prefix = "/api", endpoint = "scenarios/list")]
pub async fn list_scenarios(bot_id: String) -> Result<Vec<ScenarioRow>, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = parse_bot(&bot_id)?;
    let store = backend()?.store;
    store.bot(&bot).await?;
    let endpoints = store.list_endpoints(&bot).await?;
    let entry = entry_scenario(&store, &bot).await?;
    Ok(store
        .scenario_listing(&bot)
        .await?
        .into_iter()
        .map(|s| ScenarioRow {
            endpoints: endpoints.iter().filter(|e| e.uses_scenario(&s.name)).map(|e| e.alias.to_string()).collect(),
            entry: entry.as_deref() == Some(s.name.as_str()),
            name: s.name,
            description: s.description,
            version: s.version,
            steps: s.steps,
            author: s.author,
            updated_at: s.updated_at,
        })
        .collect())
}

/// Version `version` of scenario `name`; 0 for the current one.
#[server(prefix = "/api", endpoint = "scenarios/get")]
pub async fn load_scenario(bot_id: String, name: String, version: i64) -> Result<LoadedScenario, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = parse_bot(&bot_id)?;
    let store = backend()?.store;
    let current = store.scenario(&bot, &name).await?.ok_or(AppError::NotFound)?;
    let sample_params = store
        .list_endpoints(&bot)
        .await?
        .into_iter()
        .find(|e| e.scenario == name && e.example.is_object())
        .and_then(|e| serde_json::to_string_pretty(&e.example).ok())
        .unwrap_or_default();
    if version == 0 || version == current.version {
        return Ok(LoadedScenario {
            definition: current.definition,
            version: current.version,
            current: current.version,
            note: current.note,
            author: current.author,
            created_at: current.created_at,
            sample_params,
        });
    }
    let definition = store.scenario_version(&bot, &name, version).await?.ok_or(AppError::NotFound)?;
    let info = store.scenario_version_info(&bot, &name, version).await?.ok_or(AppError::NotFound)?;
    Ok(LoadedScenario {
        definition,
        version,
        current: current.version,
        note: info.note,
        author: info.author,
        created_at: info.created_at,
        sample_params,
    })
}

/// A page of scenario `name`'s versions, newest first: the newest, or
/// those older than `before`.
#[server(prefix = "/api", endpoint = "scenarios/versions")]
pub async fn scenario_versions(bot_id: String, name: String, #[server(default)] before: Option<i64>) -> Result<HistoryPage<VersionRow>, AppError> {
    use crate::session::{backend, require};
    use comops_core::history::HistoryWindow;
    require(comops_core::Permission::View)?;
    let bot = parse_bot(&bot_id)?;
    let store = backend()?.store;
    let history = store.scenario_history(&bot, &name, HistoryWindow { before }).await?;
    if history.versions.is_empty() && store.scenario(&bot, &name).await?.is_none() {
        return Err(AppError::NotFound);
    }
    Ok(history.map(|v| VersionRow { version: v.version, note: v.note, author: v.author, created_at: v.created_at, steps: v.steps }))
}

/// Versions `from` and `to` of scenario `name` side by side: each step
/// added, removed or changed, field by field (the step's id as the label;
/// the scenario's own fields unlabelled).
#[server(prefix = "/api", endpoint = "scenarios/diff")]
pub async fn diff_scenario(bot_id: String, name: String, from: i64, to: i64) -> Result<crate::api::versions::DiffRows, AppError> {
    use crate::api::versions::{DiffRow, DiffRows};
    use crate::session::{backend, require, session};
    use comops_core::scenario::diff::{changed_items, changes};
    require(comops_core::Permission::View)?;
    let bot = parse_bot(&bot_id)?;
    let store = backend()?.store;
    let before = store.scenario_version(&bot, &name, from).await?.ok_or(AppError::NotFound)?;
    let after = store.scenario_version(&bot, &name, to).await?.ok_or(AppError::NotFound)?;
    let found = changes(&before, &after);
    let locale = session().locale;
    let rows = found
        .iter()
        .map(|c| {
            let change = serde_json::to_value(c.change).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            let field = if c.step.is_empty() && c.field == "description" {
                crate::i18n::t(locale, crate::i18n::K::Description).to_string()
            } else {
                c.field.clone()
            };
            DiffRow { label: c.step.clone(), change, field, before: c.before.clone(), after: c.after.clone() }
        })
        .collect();
    Ok(DiffRows { count: changed_items(&found), rows })
}

/// Creates scenario `name` from a template ([`TEMPLATES`]) as version 1.
#[server(prefix = "/api", endpoint = "scenarios/create")]
pub async fn create_scenario(bot_id: String, name: String, description: String, template: String) -> Result<i64, AppError> {
    use crate::session::{backend, require};
    use comops_core::{FieldError, Problem};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = parse_bot(&bot_id)?;
    let name = comops_core::Slug::parse(&name).map_err(|p| AppError::Invalid(vec![FieldError::new("name", p)]))?;
    if !TEMPLATES.contains(&template.as_str()) {
        return Err(AppError::Invalid(vec![FieldError::new("template", Problem::Unknown)]));
    }
    let store = backend()?.store;
    store.bot(&bot).await?;
    if store.scenario(&bot, name.as_str()).await?.is_some() {
        return Err(AppError::Invalid(vec![FieldError::new("name", Problem::Taken)]));
    }
    let locale = crate::session::session().locale;
    let scenario = self::template(locale, name.as_str(), description.trim(), &template);
    let version = store.save_scenario(&bot, &scenario, crate::i18n::t(locale, crate::i18n::K::NoteCreated), user.email.as_str()).await.map_err(|e| match e {
        comops_core::store::StoreError::Taken(_) => AppError::Invalid(vec![FieldError::new("name", Problem::Taken)]),
        other => other.into(),
    })?;
    store.audit(user.email.as_str(), "scenario.create", bot.as_str(), name.as_str()).await?;
    Ok(version)
}

/// Validates `json` (a whole scenario) and saves it as the next version of
/// `name`, unless someone saved after `base_version` (0: the editor had
/// no version, so the scenario must not exist yet).
#[server(prefix = "/api", endpoint = "scenarios/save")]
pub async fn save_scenario(bot_id: String, name: String, json: String, note: String, base_version: i64) -> Result<SaveOutcome, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = parse_bot(&bot_id)?;
    let mut scenario: Scenario = match serde_json::from_str(&json) {
        Ok(scenario) => scenario,
        Err(err) => {
            return Ok(SaveOutcome::Invalid { errors: vec![StepIssue::whole("json", ScenarioIssue::NotJson { detail: err.to_string() })] });
        }
    };
    // The name is the scenario's identity (endpoints bind it); the editor
    // cannot rename, and neither can a JSON edit.
    scenario.name = name.clone();
    if let Err(errors) = scenario.validate() {
        return Ok(SaveOutcome::Invalid { errors: issues(&scenario, errors) });
    }
    let store = backend()?.store;
    store.bot(&bot).await?;
    let current = store.scenario(&bot, &name).await?;
    let current_version = current.as_ref().map_or(0, |c| c.version);
    if current_version != base_version {
        return Ok(SaveOutcome::Conflict { current: current_version, author: current.map(|c| c.author).unwrap_or_default() });
    }
    // A first save creates the scenario: its name must be one people can type.
    if current.is_none() && comops_core::Slug::parse(&name).is_err() {
        return Ok(SaveOutcome::Invalid { errors: vec![StepIssue::whole("name", ScenarioIssue::BadName)] });
    }
    let note = note.trim();
    saved(&store, &bot, &scenario, note, user.email.as_str(), "scenario.save").await
}

/// What the runs of version `version` of scenario `name` did, per step and
/// link (the canvas's trace overlay).
#[server(prefix = "/api", endpoint = "scenarios/trace")]
pub async fn scenario_trace(bot_id: String, name: String, version: i64) -> Result<TraceCounts, AppError> {
    use crate::session::{backend, require};
    require(comops_core::Permission::View)?;
    let bot = parse_bot(&bot_id)?;
    let rows = backend()?.store.run_states_of_version(&bot, &name, version, TRACE_RUN_LIMIT).await?;
    Ok(count_runs(version, &rows))
}

/// Counts runs per step and per link from `(status, state_json)` rows.
/// A run counts once per step however often it entered it; `pending` and
/// `waiting` runs are waiting at their current step, the others ended
/// there. Runs saved before the trail existed count only where they are.
#[cfg(any(feature = "ssr", test))]
fn count_runs(version: i64, rows: &[(String, String)]) -> TraceCounts {
    use std::collections::{BTreeMap, BTreeSet};
    /// The part of the engine's `RunState` the overlay reads.
    #[derive(Deserialize, Default)]
    struct Trail {
        #[serde(default)]
        current: Option<String>,
        #[serde(default)]
        trail: Vec<String>,
    }
    let mut steps: BTreeMap<String, StepCount> = BTreeMap::new();
    let mut links: BTreeMap<(String, String), u64> = BTreeMap::new();
    fn entry<'a>(steps: &'a mut BTreeMap<String, StepCount>, id: &str) -> &'a mut StepCount {
        steps.entry(id.to_string()).or_insert_with(|| StepCount { step: id.to_string(), ..StepCount::default() })
    }
    for (status, state_json) in rows {
        let run: Trail = serde_json::from_str(state_json).unwrap_or_default();
        let mut seen = BTreeSet::new();
        for id in &run.trail {
            if seen.insert(id.as_str()) {
                entry(&mut steps, id).passed += 1;
            }
        }
        let mut walked = BTreeSet::new();
        for pair in run.trail.windows(2) {
            if walked.insert((pair[0].as_str(), pair[1].as_str())) {
                *links.entry((pair[0].clone(), pair[1].clone())).or_default() += 1;
            }
        }
        let Some(current) = run.current.as_deref() else { continue };
        let here = entry(&mut steps, current);
        if run.trail.is_empty() {
            here.passed += 1;
        }
        match status.as_str() {
            "pending" | "waiting" => here.waiting += 1,
            _ => here.ended += 1,
        }
    }
    TraceCounts {
        version,
        runs: rows.len() as u64,
        steps: steps.into_values().collect(),
        links: links.into_iter().map(|((from, to), runs)| LinkCount { from, to, runs }).collect(),
    }
}

/// Dry-runs `json` (the scenario as edited, saved or not) with `params`
/// (a call body, either shape of `POST /bots/{botId}/call/{alias}`) through
/// the engine's own preview, the one the integration API's dry run uses
/// (`comops_core::scenario::sandboxed_preview`): up to the first pause,
/// script steps run in the sandbox unless they call out, nothing sent,
/// called, stored or traced. It shares the user's 30 studio dry runs a
/// minute with the test events (`session::take_dry_run`).
#[server(prefix = "/api", endpoint = "scenarios/dry-run", input = server_fn::codec::Json)]
pub async fn dry_run_scenario(bot_id: String, json: String, params: String) -> Result<DryRunOutcome, AppError> {
    use crate::i18n::{t, K};
    use crate::session::{backend, require, session, take_dry_run};
    use comops_core::scenario::{sandboxed_preview_off_thread, LeadInfo, StopReason};
    use comops_core::{FieldError, Problem};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    take_dry_run(&user)?;
    let bot = parse_bot(&bot_id)?;
    backend()?.store.bot(&bot).await?;
    let locale = session().locale;
    let scenario: Scenario = serde_json::from_str(&json).map_err(|_| AppError::Invalid(vec![FieldError::new("json", Problem::BadJson)]))?;
    if let Err(errors) = scenario.validate() {
        return Ok(DryRunOutcome::Invalid { errors: issues(&scenario, errors) });
    }
    let body: serde_json::Value = match serde_json::from_str(&params) {
        Ok(body) => body,
        Err(err) => {
            let message = t(locale, K::DryParamsNotJson).replacen("{}", &err.line().to_string(), 1).replacen("{}", &err.column().to_string(), 1);
            return Ok(DryRunOutcome::BadParams { message });
        }
    };
    let request = match comops_core::call::CallRequest::parse(body) {
        Ok(request) => request,
        Err(bad) => {
            let words = crate::api_message::field_problem_text(locale, &bad.field, &bad.message);
            return Ok(DryRunOutcome::BadParams { message: format!("{} {}", t(locale, K::DryParamsBad), words) });
        }
    };
    let preview = sandboxed_preview_off_thread(scenario, serde_json::Value::Object(request.params), LeadInfo::default(), None)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a studio dry run's preview stopped");
            AppError::Internal
        })?;
    let (stop, error) = match preview.reason {
        StopReason::Error { message } => ("error".to_string(), Some(message)),
        other => (other.to_string(), None),
    };
    Ok(DryRunOutcome::Ran {
        steps: preview.steps,
        messages: preview.messages.into_iter().map(DryMessage::from).collect(),
        stopped_at: preview.stopped_at,
        stop,
        error,
    })
}

/// Saves version `version` again as the newest, noted "restored from vN".
#[server(prefix = "/api", endpoint = "scenarios/restore")]
pub async fn restore_scenario(bot_id: String, name: String, version: i64) -> Result<SaveOutcome, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = parse_bot(&bot_id)?;
    let store = backend()?.store;
    let scenario = store.scenario_version(&bot, &name, version).await?.ok_or(AppError::NotFound)?;
    // The rules may have grown stricter since that version was saved.
    if let Err(errors) = scenario.validate() {
        return Ok(SaveOutcome::Invalid { errors: issues(&scenario, errors) });
    }
    let note = crate::i18n::t1(crate::session::session().locale, crate::i18n::K::NoteRestored, version);
    saved(&store, &bot, &scenario, &note, user.email.as_str(), "scenario.restore").await
}

/// Deletes every version of scenario `name`, unless an endpoint binds it,
/// it is the bot's entry scenario, or runs and scheduled jobs still need
/// it. With `cancel_jobs`, jobs still to run it are cancelled first when
/// they are all that holds it (audited `scenario.cancel_jobs`).
#[server(prefix = "/api", endpoint = "scenarios/delete")]
pub async fn delete_scenario(bot_id: String, name: String, #[server(default)] cancel_jobs: bool) -> Result<DeleteOutcome, AppError> {
    use crate::session::{backend, require};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    let bot = parse_bot(&bot_id)?;
    let store = backend()?.store;
    store.scenario(&bot, &name).await?.ok_or(AppError::NotFound)?;
    let endpoints: Vec<String> =
        store.list_endpoints(&bot).await?.into_iter().filter(|e| e.uses_scenario(&name)).map(|e| e.alias.to_string()).collect();
    let entry = entry_scenario(&store, &bot).await?.as_deref() == Some(name.as_str());
    let used = store.scenario_in_use(&bot, &name).await?;
    let held = !endpoints.is_empty() || entry || used.active_runs > 0 || used.scheduled_jobs > 0;
    let refusal = |used: comops_core::store::scenario_history::ScenarioUse| DeleteOutcome::Refused {
        bot_id: bot.to_string(),
        name: name.clone(),
        endpoints: endpoints.clone(),
        entry,
        active_runs: used.active_runs,
        scheduled_jobs: used.scheduled_jobs,
    };
    let refused = refusal(used);
    if cancel_jobs && refused.held_only_by_jobs().is_some() {
        let cancelled = store.cancel_scenario_jobs(&bot, &name).await?;
        store.audit(user.email.as_str(), "scenario.cancel_jobs", bot.as_str(), &comops_core::audit_detail::Detail::JobsCancelled { scenario: name.clone(), jobs: cancelled as usize }.to_string()).await?;
        // A job that started its run just before the cancel left a run
        // that needs the scenario: then it stays.
        let after = store.scenario_in_use(&bot, &name).await?;
        if after.active_runs > 0 || after.scheduled_jobs > 0 {
            return Ok(refusal(after));
        }
    } else if held {
        return Ok(refused);
    }
    let versions = store.delete_scenario(&bot, &name).await?;
    store.audit(user.email.as_str(), "scenario.delete", bot.as_str(), &comops_core::audit_detail::Detail::ScenarioDeleted { scenario: name.clone(), versions: versions as usize }.to_string()).await?;
    Ok(DeleteOutcome::Deleted)
}

#[cfg(feature = "ssr")]
fn parse_bot(bot_id: &str) -> Result<comops_core::BotId, AppError> {
    comops_core::BotId::parse(bot_id).ok_or(AppError::NotFound)
}

/// The bot's entry scenario (its `entry` settings), if it names one.
#[cfg(feature = "ssr")]
async fn entry_scenario(store: &comops_core::store::Store, bot: &comops_core::BotId) -> Result<Option<String>, AppError> {
    Ok(store
        .bot_channel(bot, "entry")
        .await?
        .and_then(|v| v.get("scenario").and_then(|s| s.as_str()).map(str::to_string))
        .filter(|s| !s.is_empty()))
}

/// Appends the version, audits it, and reports a lost race as a conflict.
#[cfg(feature = "ssr")]
async fn saved(
    store: &comops_core::store::Store,
    bot: &comops_core::BotId,
    scenario: &Scenario,
    note: &str,
    author: &str,
    action: &str,
) -> Result<SaveOutcome, AppError> {
    use comops_core::store::StoreError;
    match store.save_scenario(bot, scenario, note, author).await {
        Ok(version) => {
            store.audit(author, action, bot.as_str(), &format!("{} v{version}", scenario.name)).await?;
            Ok(SaveOutcome::Saved { version })
        }
        Err(StoreError::Taken(_)) => {
            let current = store.scenario(bot, &scenario.name).await?;
            Ok(SaveOutcome::Conflict {
                current: current.as_ref().map_or(0, |c| c.version),
                author: current.map(|c| c.author).unwrap_or_default(),
            })
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_valid_scenarios() {
        for name in TEMPLATES {
            let scenario = template(comops_core::Locale::En, "welcome", "", name);
            assert_eq!(scenario.validate(), Ok(()), "{name}");
        }
        assert_eq!(template(comops_core::Locale::En, "welcome", "", "message").steps.len(), 2);
    }

    #[test]
    fn issues_point_at_step_positions() {
        let mut scenario = template(comops_core::Locale::En, "welcome", "", "message");
        if let StepKind::Message { next, .. } = &mut scenario.steps[0].kind {
            *next = Some("nowhere".into());
        }
        let errors = scenario.validate().unwrap_err();
        let found = issues(&scenario, errors);
        let paths: Vec<_> = found.iter().map(|i| i.path.as_str()).collect();
        assert!(paths.contains(&"steps[0].next"), "{found:?}");
        assert!(found.iter().any(|i| i.step.as_deref() == Some("hello") && i.index == Some(0)));
    }

    #[test]
    fn the_trace_overlay_counts_runs_per_step_and_link() {
        let rows = [
            // Asked, got a low rating, asked again, waiting for a reply.
            ("waiting", r#"{"current": "ask", "trail": ["hi", "ask", "check", "ask"]}"#),
            // Rated well and finished.
            ("done", r#"{"current": "bye", "trail": ["hi", "ask", "check", "bye"]}"#),
            // Failed at its first step.
            ("failed", r#"{"current": "hi", "trail": ["hi"]}"#),
            // Saved before trails existed: counted where it is.
            ("waiting", r#"{"current": "ask"}"#),
            // Not started yet.
            ("pending", ""),
        ];
        let rows: Vec<(String, String)> = rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let counts = count_runs(3, &rows);
        assert_eq!(counts.runs, 5);
        let at = |id: &str| counts.steps.iter().find(|s| s.step == id).cloned().unwrap_or_default();
        assert_eq!((at("hi").passed, at("hi").waiting, at("hi").ended), (3, 0, 1));
        assert_eq!((at("ask").passed, at("ask").waiting, at("ask").ended), (3, 2, 0), "entered twice, counted once");
        assert_eq!((at("bye").passed, at("bye").ended), (1, 1));
        let link = |a: &str, b: &str| counts.links.iter().find(|l| l.from == a && l.to == b).map_or(0, |l| l.runs);
        assert_eq!((link("hi", "ask"), link("check", "ask"), link("check", "bye"), link("ask", "bye")), (2, 1, 1, 0));
    }
}
