//! The dry run shown in the studio: what the lead would receive before the
//! run first has to wait (backend only).
//!
//! [`dry_run_preview`] drives the real interpreter from `Start` with the
//! given params and lead and no secrets, collects every message it would
//! send (an ask's prompt included), and stops at the first wait, ask, http
//! or script step — nothing is called, run, sent or scheduled.
//! [`dry_run_preview_with_scripts`] runs the script steps it meets instead
//! (the integration API's dry run, in the sandbox), unless a script needs
//! the outside world: then it stops there as well.

use super::interpret::{advance, Effect, Input, LeadInfo, RunInputs, RunState, Status, Waiting};
use super::script::{run_script, ApiRequest, ApiResponse, ScriptError, ScriptLimits, ScriptOutcome};
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
/// `"script"` (one that calls out or reads secrets, not run), `"limit"`
/// (the dry run's scripts ran as many or as long as it may), `"end"` or
/// `"error: …"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum StopReason {
    Wait,
    Ask,
    Http,
    Script,
    Limit,
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
            StopReason::Limit => f.write_str("limit"),
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
            "limit" => StopReason::Limit,
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
    preview(scenario, params, lead, None)
}

/// A script step's run for a dry run: its code and `ctx` in, what came of
/// it out.
pub type DryScript<'a> = &'a mut dyn FnMut(&str, &Value) -> DryScriptRun;

/// What a dry run made of a script step.
#[derive(Debug, Clone, PartialEq)]
pub enum DryScriptRun {
    /// It ran: its outcome or its error, as a live run would meet it.
    Ran(Result<ScriptOutcome, ScriptError>),
    /// Not run: it needs what a dry run does not have (`callApi`, the
    /// bot's secrets). The preview stops there ([`StopReason::Script`]).
    NeedsTheWorld,
    /// Not run: the dry run's scripts have had their time
    /// ([`StopReason::Limit`]).
    OutOfTime,
}

/// Script steps a dry run runs at most: a scenario that keeps looping
/// through scripts stops at the next one.
pub const DRY_SCRIPTS: usize = 20;

/// The time all of a dry run's scripts may take together, in ms (one
/// script alone has a live run's second).
pub const DRY_SCRIPTS_MS: u64 = 2_000;

/// [`dry_run_preview`] that goes on past script steps by running them with
/// `run_script`: a script's changes reach the later messages, and a script
/// error that the step does not route stops the preview with that error,
/// as it would fail the run (`Script error at line 23: …`).
pub fn dry_run_preview_with_scripts(scenario: &Scenario, params: &Value, lead: &LeadInfo, run_script: DryScript<'_>) -> Preview {
    preview(scenario, params, lead, Some(run_script))
}

/// [`dry_run_preview_with_scripts`] with the sandbox, for the integration
/// API's dry run and the studio's: each script step runs with a live run's
/// limits, all of them together for at most [`DRY_SCRIPTS_MS`], `ctx.user`
/// the call's first recipient (`user_id`) as a live run has it. A script
/// that uses `callApi` or reads `secrets` is not run and the preview stops
/// at it: without the call and the bot's secrets (which a dry run does not
/// read) it would fail where the live run would not; one that reaches
/// `callApi` another way is refused the call and stops the preview the
/// same way. Blocking: [`sandboxed_preview_off_thread`] runs it on the
/// blocking pool, a few at a time.
pub fn sandboxed_preview(scenario: &Scenario, params: &Value, lead: &LeadInfo, user_id: Option<&str>) -> Preview {
    let started = std::time::Instant::now();
    let mut run = |code: &str, ctx: &Value| {
        if code.contains("callApi") || code.contains("secrets") {
            return DryScriptRun::NeedsTheWorld;
        }
        let spent = started.elapsed().as_millis() as u64;
        if spent >= DRY_SCRIPTS_MS {
            return DryScriptRun::OutOfTime;
        }
        let mut ctx = ctx.clone();
        if let Some(user) = user_id.filter(|u| !u.is_empty()) {
            ctx["user"] = serde_json::json!({ "id": user });
        }
        let mut called_out = false;
        let mut refuse = |_: ApiRequest| -> Result<ApiResponse, String> {
            called_out = true;
            Err("callApi is not made in a dry run".into())
        };
        let limits = ScriptLimits { time_ms: ScriptLimits::default().time_ms.min(DRY_SCRIPTS_MS - spent), ..ScriptLimits::default() };
        let result = run_script(code, &ctx, limits, &mut refuse);
        if called_out {
            DryScriptRun::NeedsTheWorld
        } else if result.is_err() && started.elapsed().as_millis() as u64 >= DRY_SCRIPTS_MS {
            // Cut short by the dry run's own budget, not failed: a live run
            // would have had its whole second.
            DryScriptRun::OutOfTime
        } else {
            DryScriptRun::Ran(result)
        }
    };
    dry_run_preview_with_scripts(scenario, params, lead, &mut run)
}

/// Sandboxed previews running at once, process-wide: each may hold a
/// blocking thread for [`DRY_SCRIPTS_MS`], and dry runs must not starve
/// the server.
static PREVIEWS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// [`sandboxed_preview`] on the blocking pool, at most two at a time.
pub async fn sandboxed_preview_off_thread(scenario: Scenario, params: Value, lead: LeadInfo, user_id: Option<String>) -> Result<Preview, String> {
    let _turn = PREVIEWS.acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || sandboxed_preview(&scenario, &params, &lead, user_id.as_deref())).await.map_err(|e| e.to_string())
}

fn preview(scenario: &Scenario, params: &Value, lead: &LeadInfo, mut run_script: Option<DryScript<'_>>) -> Preview {
    let inputs = RunInputs { params: params.clone(), lead: lead.clone(), secrets: Default::default() };
    let mut state = RunState::new(0, 0);
    let (mut input, mut messages, mut scripts) = (Input::Start, Vec::new(), 0);
    loop {
        let outcome = advance(scenario, &mut state, &inputs, input, 0);
        let mut script = None;
        for effect in outcome.effects {
            match effect {
                Effect::Send { step, text, buttons, .. } => {
                    let missing = missing_values(scenario, &step, params, &state.vars);
                    messages.push(RenderedMessage { step, text, buttons, missing });
                }
                Effect::RunScript { code, context, .. } => script = Some((code, context)),
                _ => {}
            }
        }
        let mut out_of_scripts = false;
        if let (Status::Waiting(Waiting::Script { .. }), Some(run), Some((code, context))) = (&outcome.status, run_script.as_mut(), script) {
            let ran = if scripts < DRY_SCRIPTS { run(&code, &context) } else { DryScriptRun::OutOfTime };
            scripts += 1;
            match ran {
                DryScriptRun::Ran(result) => {
                    input = match result {
                        Ok(outcome) => Input::ScriptResult { outcome },
                        Err(error) => Input::ScriptError { line: error.line, message: error.message },
                    };
                    continue;
                }
                DryScriptRun::OutOfTime => out_of_scripts = true,
                DryScriptRun::NeedsTheWorld => {}
            }
        }
        let (stopped_at, reason) = match outcome.status {
            Status::Waiting(Waiting::Script { step }) if out_of_scripts => (Some(step), StopReason::Limit),
            Status::Waiting(Waiting::Reply { step, .. }) => (Some(step), StopReason::Ask),
            Status::Waiting(Waiting::Until { step, .. }) => (Some(step), StopReason::Wait),
            Status::Waiting(Waiting::Http { step }) => (Some(step), StopReason::Http),
            Status::Waiting(Waiting::Script { step }) => (Some(step), StopReason::Script),
            Status::Finished { .. } => (state.current, StopReason::End),
            Status::Failed { step, message } => (step, StopReason::Error { message }),
            Status::Ignored { reason } => (None, StopReason::Error { message: reason }),
        };
        return Preview { steps: state.trail, messages, stopped_at, reason };
    }
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

    fn checked_order() -> Scenario {
        serde_json::from_value(serde_json::json!({
            "name": "t",
            "start": "hi",
            "steps": [
                {"id": "hi", "type": "message", "text": "Проверяем заказ №{{ params.orderId }}", "next": "check"},
                {"id": "check", "type": "script", "code": "ctx.vars.total = ctx.params.orderId * 2;", "next": "bye"},
                {"id": "bye", "type": "message", "text": "Итого {{ vars.total }}"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn with_scripts_the_preview_goes_on_with_what_the_script_set() {
        let mut ran = Vec::new();
        let mut run = |code: &str, ctx: &Value| {
            ran.push((code.to_string(), ctx["params"]["orderId"].clone()));
            let mut outcome = ScriptOutcome::default();
            outcome.vars.insert("total".into(), serde_json::json!(19642));
            DryScriptRun::Ran(Ok(outcome))
        };
        let preview = dry_run_preview_with_scripts(&checked_order(), &serde_json::json!({"orderId": 9821}), &LeadInfo::default(), &mut run);
        let texts: Vec<_> = preview.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["Проверяем заказ №9821", "Итого 19642"]);
        assert_eq!(preview.reason, StopReason::End);
        assert_eq!(ran, [("ctx.vars.total = ctx.params.orderId * 2;".to_string(), serde_json::json!(9821))]);
    }

    #[test]
    fn with_scripts_an_unrouted_script_error_stops_the_preview_naming_its_line() {
        let mut run = |_: &str, _: &Value| DryScriptRun::Ran(Err(ScriptError { line: Some(23), message: "ReferenceError: foo is not defined".into() }));
        let preview = dry_run_preview_with_scripts(&checked_order(), &serde_json::json!({"orderId": 1}), &LeadInfo::default(), &mut run);
        assert_eq!(preview.stopped_at.as_deref(), Some("check"));
        assert_eq!(preview.reason, StopReason::Error { message: "Script error at line 23: ReferenceError: foo is not defined".into() });
        assert_eq!(preview.messages.len(), 1);
        // A script that needs the outside world stops the preview there.
        let mut needs_the_world = |_: &str, _: &Value| DryScriptRun::NeedsTheWorld;
        let preview = dry_run_preview_with_scripts(&checked_order(), &serde_json::json!({"orderId": 1}), &LeadInfo::default(), &mut needs_the_world);
        assert_eq!((preview.stopped_at.as_deref(), preview.reason), (Some("check"), StopReason::Script));
    }

    #[test]
    fn in_the_sandbox_a_script_runs_unless_it_calls_out() {
        let preview = sandboxed_preview(&checked_order(), &serde_json::json!({"orderId": 9821}), &LeadInfo::default(), None);
        assert_eq!(preview.messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["Проверяем заказ №9821", "Итого 19642"]);
        let calling: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t", "start": "ask",
            "steps": [
                {"id": "ask", "type": "script", "code": "const f = globalThis['call' + 'Api'];\nconst r = f({url: 'https://crm.example/x', method: 'GET'});\nctx.vars.ok = true;", "next": "bye"},
                {"id": "bye", "type": "message", "text": "Готово"}
            ]
        }))
        .unwrap();
        let preview = sandboxed_preview(&calling, &serde_json::json!({}), &LeadInfo::default(), None);
        assert_eq!((preview.stopped_at.as_deref(), preview.reason), (Some("ask"), StopReason::Script), "refused the call, it stops there");
        assert!(preview.messages.is_empty());
        // Secrets are not there in a dry run: a script reading them is not
        // run. The user is the call's, as in a live run.
        let secret: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t", "start": "s",
            "steps": [{"id": "s", "type": "script", "code": "ctx.vars.u = ctx.secrets.crm_url.trim();", "next": "bye"}, {"id": "bye", "type": "message", "text": "Готово"}]
        }))
        .unwrap();
        let preview = sandboxed_preview(&secret, &serde_json::json!({}), &LeadInfo::default(), None);
        assert_eq!((preview.stopped_at.as_deref(), preview.reason), (Some("s"), StopReason::Script));
        let user: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t", "start": "s",
            "steps": [{"id": "s", "type": "script", "code": "ctx.vars.u = ctx.user.id.toString();", "next": "bye"}, {"id": "bye", "type": "message", "text": "Пользователь {{ vars.u }}"}]
        }))
        .unwrap();
        let preview = sandboxed_preview(&user, &serde_json::json!({"userIds": ["125", "126"]}), &LeadInfo::default(), Some("125"));
        assert_eq!(preview.messages[0].text, "Пользователь 125");
    }

    #[test]
    fn in_the_sandbox_the_scripts_of_one_dry_run_share_two_seconds() {
        let busy: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t", "start": "a",
            "steps": [
                {"id": "a", "type": "script", "code": "while (true) {}", "next": "b", "on_error": "b"},
                {"id": "b", "type": "script", "code": "while (true) {}", "next": "c", "on_error": "c"},
                {"id": "c", "type": "script", "code": "while (true) {}", "next": "d", "on_error": "d"},
                {"id": "d", "type": "message", "text": "Готово"}
            ]
        }))
        .unwrap();
        let started = std::time::Instant::now();
        let preview = sandboxed_preview(&busy, &serde_json::json!({}), &LeadInfo::default(), None);
        // The first loop times out after a live run's second and goes on to
        // its on_error step; the second has the second that is left, and
        // is cut short by the budget, not failed.
        assert_eq!((preview.stopped_at.as_deref(), preview.reason), (Some("b"), StopReason::Limit));
        assert!(started.elapsed() < std::time::Duration::from_millis(DRY_SCRIPTS_MS + 1_000), "{:?}", started.elapsed());
    }

    #[test]
    fn with_scripts_a_loop_of_scripts_stops_after_a_bound() {
        let looping: Scenario = serde_json::from_value(serde_json::json!({
            "name": "t", "start": "ping",
            "steps": [{"id": "ping", "type": "script", "code": "1;", "next": "pong"}, {"id": "pong", "type": "script", "code": "2;", "next": "ping"}]
        }))
        .unwrap();
        let mut runs = 0;
        let mut run = |_: &str, _: &Value| {
            runs += 1;
            DryScriptRun::Ran(Ok(ScriptOutcome::default()))
        };
        let preview = dry_run_preview_with_scripts(&looping, &serde_json::json!({}), &LeadInfo::default(), &mut run);
        assert_eq!(runs, DRY_SCRIPTS);
        assert_eq!((preview.stopped_at.as_deref(), preview.reason), (Some("ping"), StopReason::Limit), "the 21st script is not run");
    }
}
