//! The `script` step's JavaScript sandbox (SPEC §4; backend only).
//!
//! [`run_script`] runs one script in QuickJS (through `rquickjs`) and
//! reports what it changed. The design, in the order a run goes through it:
//!
//! - **A fresh engine per run.** Every call makes its own QuickJS runtime
//!   and context and drops them at the end: nothing survives from one
//!   script (or one lead) to the next.
//! - **Nothing but `ctx` and `callApi`.** The context has the standard
//!   JavaScript built-ins (`JSON`, `Math`, `Date`…) and no host objects: no
//!   `require`, no module loader (so `import` fails), no filesystem, no
//!   timers, no network. The only way out is `callApi`.
//! - **`ctx` in, changes out.** The caller's JSON context becomes the global
//!   `ctx` — `lead` (id, attributes, tags, status), `user` ({id}), `params`
//!   and its alias `data`, `vars`, `attributes` (the same object as
//!   `lead.attributes`) and `secrets`. After the script, `ctx.vars`,
//!   `ctx.attributes`, `ctx.lead.tags` and `ctx.lead.status` are read back
//!   and compared with what went in; the differences and the script's
//!   `return` value make the [`ScriptOutcome`]. The code runs as the body of
//!   a strict-mode function, so `return` works and a typo'd assignment
//!   (`totl = 1`) is an error instead of a new global.
//! - **`callApi` is synchronous**, as in the methodology's example:
//!   `callApi({url, method, headers, body})` returns `{status, json}`; a
//!   transport failure (timeout, refused connection) throws. QuickJS cannot
//!   hold a borrowed Rust closure (its functions must be `'static`), so the
//!   script runs on a thread of its own and `callApi` hands each request
//!   over a channel to the caller's thread, which runs the caller's closure
//!   and hands the answer back. At most [`ScriptLimits::api_calls`] calls.
//! - **Limits.** A memory limit on the runtime, a maximum stack size (and a
//!   thread stack with room to spare above it), and an interrupt handler
//!   that stops the script once it has *run* longer than the time limit —
//!   time spent waiting for `callApi` answers is not counted, the caller
//!   bounds that with its own HTTP timeout.
//! - **Errors name a line.** A [`ScriptError`] carries the script's line
//!   (from the exception's stack) and reads like the methodology:
//!   `Script error at line 23: ReferenceError: foo is not defined`.
//!   Running out of time or memory says so in plain words (a timeout names
//!   no line: QuickJS does not record where a tight loop was interrupted).

use rquickjs::context::EvalOptions;
use rquickjs::function::Opt;
use rquickjs::{Context, Ctx, Exception, Function, Object, Runtime, Value as JsValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// What one script may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Heap of the JavaScript runtime, in bytes.
    pub memory_bytes: usize,
    /// Time the script may run, not counting `callApi` waits.
    pub time_ms: u64,
    /// JavaScript stack, in bytes (deep recursion fails with a RangeError).
    pub stack_bytes: usize,
    /// `callApi` calls per run.
    pub api_calls: u32,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        Self { memory_bytes: 16 * 1024 * 1024, time_ms: 1_000, stack_bytes: 512 * 1024, api_calls: 10 }
    }
}

/// One `callApi` request, for the caller to perform. Headers may hold
/// secrets (`'Bearer ' + ctx.secrets.crm_token`): do not log them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRequest {
    pub url: String,
    /// Upper case: GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// A string body as given; any other value as its JSON text.
    pub body: Option<String>,
}

/// The answer `callApi` returns to the script as `{status, json}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiResponse {
    pub status: u16,
    /// The body as JSON (a string if it was not JSON, `null` if empty).
    pub json: Value,
}

/// What a script changed, and what it returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScriptOutcome {
    /// Vars the script set or changed.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub vars: Map<String, Value>,
    /// Vars the script deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_vars: Vec<String>,
    /// Lead attributes the script set or changed (deleting one is not a
    /// change: attributes are only ever set).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
    /// The new lead status, when the script set a different one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The script's `return` value as JSON (`None` without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

impl ScriptOutcome {
    /// Whether the lead itself changed (attributes, tags or status).
    pub fn changes_lead(&self) -> bool {
        !self.attributes.is_empty() || !self.add_tags.is_empty() || !self.remove_tags.is_empty() || self.status.is_some()
    }
}

/// A script that did not finish: where (the line of the script, when
/// known) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ScriptError {
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "Script error at line {line}: {}", self.message),
            None => write!(f, "Script error: {}", self.message),
        }
    }
}

impl ScriptError {
    fn plain(message: impl Into<String>) -> Self {
        Self { line: None, message: message.into() }
    }
}

/// The file name QuickJS gives the script in stack traces.
const FILE: &str = "script";

/// Run `code` with `ctx` as the global `ctx`; `call_api` performs each
/// `callApi` request (on this thread, while the script waits). See the
/// module docs.
pub fn run_script(
    code: &str,
    ctx: &Value,
    limits: ScriptLimits,
    call_api: &mut dyn FnMut(ApiRequest) -> Result<ApiResponse, String>,
) -> Result<ScriptOutcome, ScriptError> {
    let (request_tx, request_rx) = mpsc::channel::<ApiRequest>();
    let (response_tx, response_rx) = mpsc::channel::<Result<ApiResponse, String>>();
    std::thread::scope(|scope| {
        let sandbox = std::thread::Builder::new()
            .name("comops-script".into())
            // QuickJS stops at `stack_bytes`; native frames need room above it.
            .stack_size(limits.stack_bytes + 2 * 1024 * 1024)
            .spawn_scoped(scope, move || {
                let bridge = Bridge { requests: request_tx, responses: response_rx };
                execute(code, ctx, limits, bridge)
            })
            .map_err(|e| ScriptError::plain(format!("cannot start the sandbox: {e}")))?;
        // The sandbox drops its sender when the script is over, ending this loop.
        for request in request_rx {
            if response_tx.send(call_api(request)).is_err() {
                break;
            }
        }
        sandbox.join().unwrap_or_else(|_| Err(ScriptError::plain("the script engine crashed")))
    })
}

/// Parse `code` without running it: a syntax error with its line, or `Ok`.
/// Used when a scenario is saved.
pub fn check_script(code: &str) -> Result<(), ScriptError> {
    let limits = ScriptLimits::default();
    let (runtime, context) = engine(&limits, None)?;
    let checked = context.with(|ctx| {
        // Evaluating the function expression compiles the body and runs nothing.
        let compiled: rquickjs::Result<JsValue> = ctx.eval_with_options(wrap(code, false), eval_options());
        compiled.map(|_| ()).map_err(|e| describe(&ctx, e, &limits, false))
    });
    drop(context);
    drop(runtime);
    checked
}

/// The sandbox's end of the `callApi` channel.
struct Bridge {
    requests: mpsc::Sender<ApiRequest>,
    responses: mpsc::Receiver<Result<ApiResponse, String>>,
}

/// Time the script has run, not counting `callApi` waits; read by the
/// interrupt handler QuickJS polls while it executes.
struct Clock {
    started: Instant,
    waited_ns: AtomicU64,
    limit: Duration,
    expired: AtomicBool,
}

impl Clock {
    fn check(&self) -> bool {
        let waited = Duration::from_nanos(self.waited_ns.load(Ordering::Relaxed));
        let ran = self.started.elapsed().saturating_sub(waited);
        if ran > self.limit {
            self.expired.store(true, Ordering::Relaxed);
        }
        self.expired.load(Ordering::Relaxed)
    }

    fn add_wait(&self, waited: Duration) {
        self.waited_ns.fetch_add(waited.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// A runtime with the limits set, and a context with the standard
/// built-ins only.
fn engine(limits: &ScriptLimits, clock: Option<Arc<Clock>>) -> Result<(Runtime, Context), ScriptError> {
    let runtime = Runtime::new().map_err(|e| ScriptError::plain(format!("cannot start the sandbox: {e}")))?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(limits.stack_bytes);
    if let Some(clock) = clock {
        runtime.set_interrupt_handler(Some(Box::new(move || clock.check())));
    }
    let context = Context::full(&runtime).map_err(|e| ScriptError::plain(format!("cannot start the sandbox: {e}")))?;
    Ok((runtime, context))
}

/// The code as the body of a strict function: `return` works, and the
/// opening line adds no line, so errors keep the script's own numbering.
fn wrap(code: &str, call: bool) -> String {
    format!("(function () {{{code}\n}}){}", if call { "()" } else { "" })
}

fn eval_options() -> EvalOptions {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = true;
    options.backtrace_barrier = true;
    options.filename = Some(FILE.into());
    options
}

/// Puts `ctx` and `callApi` in place; `ctx.data` is `ctx.params` and
/// `ctx.lead.attributes` is `ctx.attributes`.
const PRELUDE: &str = r#"(function (ctx, callApi) {
    "use strict";
    if (ctx.params !== undefined) ctx.data = ctx.params;
    if (ctx.lead && typeof ctx.lead === "object" && ctx.attributes !== undefined) ctx.lead.attributes = ctx.attributes;
    Object.defineProperty(globalThis, "ctx", { value: ctx, enumerable: true });
    Object.defineProperty(globalThis, "callApi", { value: callApi, enumerable: true });
})"#;

/// Runs on the sandbox thread.
fn execute(code: &str, input: &Value, limits: ScriptLimits, bridge: Bridge) -> Result<ScriptOutcome, ScriptError> {
    let clock = Arc::new(Clock {
        started: Instant::now(),
        waited_ns: AtomicU64::new(0),
        limit: Duration::from_millis(limits.time_ms),
        expired: AtomicBool::new(false),
    });
    let (runtime, context) = engine(&limits, Some(clock.clone()))?;
    let outcome = context.with(|ctx| {
        let timed_out = || clock.expired.load(Ordering::Relaxed);
        run(&ctx, code, input, &limits, bridge, clock.clone()).map_err(|e| match e {
            Failure::Js(e) => describe(&ctx, e, &limits, timed_out()),
            Failure::Script(e) => e,
        })
    });
    drop(context);
    drop(runtime);
    outcome
}

enum Failure {
    Js(rquickjs::Error),
    Script(ScriptError),
}

impl From<rquickjs::Error> for Failure {
    fn from(e: rquickjs::Error) -> Self {
        Failure::Js(e)
    }
}

fn run<'js>(
    ctx: &Ctx<'js>,
    code: &str,
    input: &Value,
    limits: &ScriptLimits,
    bridge: Bridge,
    clock: Arc<Clock>,
) -> Result<ScriptOutcome, Failure> {
    let js_ctx = ctx.json_parse(input.to_string())?;
    let Some(object) = js_ctx.as_object().cloned() else {
        return Err(Failure::Script(ScriptError::plain("the script context is not an object")));
    };
    let call_api = api_function(ctx, limits.api_calls, bridge, clock)?;
    let prelude: Function = ctx.eval(PRELUDE)?;
    prelude.call::<_, ()>((object.clone(), call_api))?;

    let returned: JsValue = ctx.eval_with_options(wrap(code, true), eval_options())?;
    let result = if returned.is_undefined() { None } else { Some(to_json(ctx, returned)?) };
    let after = read_back(ctx, &object)?;
    diff(input, after, result).map_err(|message| Failure::Script(ScriptError::plain(message)))
}

/// `callApi({url, method, headers, body})` → `{status, json}`.
fn api_function<'js>(ctx: &Ctx<'js>, max_calls: u32, bridge: Bridge, clock: Arc<Clock>) -> rquickjs::Result<Function<'js>> {
    let calls = std::cell::Cell::new(0u32);
    Function::new(ctx.clone(), move |ctx: Ctx<'js>, request: Opt<JsValue<'js>>| -> rquickjs::Result<JsValue<'js>> {
        if calls.get() >= max_calls {
            return Err(Exception::throw_message(&ctx, &format!("callApi: at most {max_calls} calls per script")));
        }
        calls.set(calls.get() + 1);
        let request = match request.0 {
            Some(value) if value.is_object() => to_json(&ctx, value)?,
            _ => return Err(Exception::throw_type(&ctx, "callApi expects {url, method, headers, body}")),
        };
        let request = api_request(&request).map_err(|message| Exception::throw_type(&ctx, &format!("callApi: {message}")))?;
        let asked = Instant::now();
        let answer = match bridge.requests.send(request) {
            Ok(()) => bridge.responses.recv().unwrap_or_else(|_| Err("the caller went away".into())),
            Err(_) => Err("the caller went away".into()),
        };
        clock.add_wait(asked.elapsed());
        match answer {
            Ok(response) => ctx.json_parse(serde_json::json!({"status": response.status, "json": response.json}).to_string()),
            Err(message) => Err(Exception::throw_message(&ctx, &format!("callApi: {message}"))),
        }
    })
}

/// The request object as the script wrote it, checked.
fn api_request(raw: &Value) -> Result<ApiRequest, String> {
    let url = match raw.get("url") {
        Some(Value::String(url)) if !url.trim().is_empty() => url.trim().to_string(),
        _ => return Err("url is required".into()),
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err("url must start with http:// or https://".into());
    }
    let method = match raw.get("method") {
        None | Some(Value::Null) => "GET".to_string(),
        Some(Value::String(m)) => m.to_ascii_uppercase(),
        Some(_) => return Err("method must be a string".into()),
    };
    if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
        return Err(format!("unsupported method {method}"));
    }
    let mut headers = Vec::new();
    match raw.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    other => other.to_string(),
                };
                headers.push((name.clone(), value));
            }
        }
        Some(_) => return Err("headers must be an object".into()),
    }
    let body = match raw.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(ApiRequest { url, method, headers, body })
}

fn to_json<'js>(ctx: &Ctx<'js>, value: JsValue<'js>) -> rquickjs::Result<Value> {
    let Some(text) = ctx.json_stringify(value)? else { return Ok(Value::Null) };
    let text = text.to_string()?;
    serde_json::from_str(&text).map_err(|e| rquickjs::Error::new_from_js_message("value", "JSON", e.to_string()))
}

/// The parts of `ctx` a script may change, as they are after it.
struct After {
    vars: Value,
    attributes: Value,
    lead_attributes: Value,
    tags: Value,
    status: Value,
}

fn read_back<'js>(ctx: &Ctx<'js>, object: &Object<'js>) -> rquickjs::Result<After> {
    let field = |parent: &Object<'js>, name: &str| -> rquickjs::Result<Value> {
        let value: JsValue = parent.get(name)?;
        if value.is_undefined() {
            return Ok(Value::Null);
        }
        to_json(ctx, value)
    };
    let lead: JsValue = object.get("lead")?;
    let lead = lead.as_object().cloned();
    Ok(After {
        vars: field(object, "vars")?,
        attributes: field(object, "attributes")?,
        lead_attributes: match &lead {
            Some(lead) => field(lead, "attributes")?,
            None => Value::Null,
        },
        tags: match &lead {
            Some(lead) => field(lead, "tags")?,
            None => Value::Null,
        },
        status: match &lead {
            Some(lead) => field(lead, "status")?,
            None => Value::Null,
        },
    })
}

/// Compares what went in with what came out.
fn diff(input: &Value, after: After, result: Option<Value>) -> Result<ScriptOutcome, String> {
    let empty = Map::new();
    let object_of = |v: &Value| v.as_object().cloned();
    let before_vars = input.get("vars").and_then(Value::as_object).unwrap_or(&empty);
    let Some(vars) = object_of(&after.vars) else { return Err("ctx.vars must stay an object".into()) };
    let mut outcome = ScriptOutcome { result, ..Default::default() };
    for (name, value) in &vars {
        if before_vars.get(name) != Some(value) {
            outcome.vars.insert(name.clone(), value.clone());
        }
    }
    outcome.removed_vars = before_vars.keys().filter(|k| !vars.contains_key(*k)).cloned().collect();

    let before_attributes = input.get("attributes").and_then(Value::as_object).unwrap_or(&empty);
    let mut attributes = match (&after.attributes, &input.get("attributes")) {
        (Value::Object(map), _) => map.clone(),
        (Value::Null, None) => Map::new(),
        _ => return Err("ctx.attributes must stay an object".into()),
    };
    // `ctx.lead.attributes` is the same object unless the script replaced it.
    if let Value::Object(map) = &after.lead_attributes {
        attributes.extend(map.clone());
    }
    for (name, value) in attributes {
        if before_attributes.get(&name) != Some(&value) {
            outcome.attributes.insert(name, value);
        }
    }

    let before_tags: BTreeSet<String> = input
        .pointer("/lead/tags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(|t| t.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let tags: BTreeSet<String> = match &after.tags {
        Value::Null => before_tags.clone(),
        Value::Array(items) => items
            .iter()
            .map(|t| t.as_str().map(String::from).ok_or_else(|| "ctx.lead.tags must be an array of strings".to_string()))
            .collect::<Result<_, _>>()?,
        _ => return Err("ctx.lead.tags must be an array of strings".into()),
    };
    outcome.add_tags = tags.difference(&before_tags).cloned().collect();
    outcome.remove_tags = before_tags.difference(&tags).cloned().collect();

    let before_status = input.pointer("/lead/status").and_then(Value::as_str);
    match &after.status {
        Value::String(status) if Some(status.as_str()) != before_status => outcome.status = Some(status.clone()),
        Value::String(_) | Value::Null => {}
        _ => return Err("ctx.lead.status must be a string".into()),
    }
    Ok(outcome)
}

/// Turns an engine error into a [`ScriptError`] with the script's line.
fn describe(ctx: &Ctx<'_>, error: rquickjs::Error, limits: &ScriptLimits, timed_out: bool) -> ScriptError {
    let (line, message) = match error {
        rquickjs::Error::Exception => {
            let thrown = ctx.catch();
            match thrown.as_exception() {
                Some(exception) => {
                    let name: Option<String> = exception.get("name").ok();
                    let message = exception.message().unwrap_or_default();
                    let text = match name {
                        Some(name) if !name.is_empty() => format!("{name}: {message}"),
                        _ => message,
                    };
                    (exception.stack().as_deref().and_then(line_of), text)
                }
                // `throw "text"` or `throw {…}`: no stack to take a line from.
                None => (None, thrown_text(ctx, thrown)),
            }
        }
        rquickjs::Error::Allocation => (None, "out of memory".to_string()),
        other => (None, other.to_string()),
    };
    // QuickJS does not record where a tight loop was interrupted (the stack
    // names the function's first line), so a timeout names no line.
    if timed_out {
        return ScriptError::plain(format!("script ran longer than {} ms", limits.time_ms));
    }
    let message = if message.contains("out of memory") {
        format!("script used more than {}", mebibytes(limits.memory_bytes))
    } else {
        message
    };
    ScriptError { line, message }
}

fn thrown_text<'js>(ctx: &Ctx<'js>, value: JsValue<'js>) -> String {
    if let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) {
        return text;
    }
    match to_json(ctx, value) {
        Ok(json) => format!("uncaught {json}"),
        Err(_) => "uncaught exception".into(),
    }
}

/// The first line of the script named in a QuickJS stack
/// (`    at <anonymous> (script:3:9)`); frames of built-ins are skipped.
fn line_of(stack: &str) -> Option<u32> {
    stack.lines().find_map(|frame| {
        let at = frame.find(&format!("{FILE}:"))?;
        // Only `(script:` or `at script:`, not a function named `…script`.
        let before = frame[..at].chars().last();
        if !matches!(before, Some('(') | Some(' ')) {
            return None;
        }
        let rest = &frame[at + FILE.len() + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

fn mebibytes(bytes: usize) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib.fract() == 0.0 {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.1} MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Value {
        json!({
            "params": {"userId": 125, "order": {"id": 9821}},
            "vars": {"phone": "+79187777777", "temp": 1},
            "lead": {"id": "TG-9072612", "attributes": {"city": "Казань"}, "tags": ["new"], "status": "lead"},
            "attributes": {"city": "Казань"},
            "user": {"id": "125"},
            "secrets": {"crm_url": "https://crm.example.com"}
        })
    }

    fn no_api(_: ApiRequest) -> Result<ApiResponse, String> {
        Err("no API in this test".into())
    }

    fn run(code: &str) -> Result<ScriptOutcome, ScriptError> {
        run_script(code, &context(), ScriptLimits::default(), &mut no_api)
    }

    #[test]
    fn reads_ctx_and_reports_what_changed() {
        let outcome = run(r#"
            ctx.vars.total = ctx.data.order.id + 1;
            ctx.vars.who = ctx.user.id + "/" + ctx.lead.id;
            delete ctx.vars.temp;
            ctx.attributes.tier = "gold";
            ctx.lead.attributes.city = "Казань";
            ctx.lead.tags.push("paid");
            ctx.lead.tags = ctx.lead.tags.filter(t => t !== "new");
            ctx.lead.status = "customer";
            return {ok: true, phone: ctx.vars.phone};
        "#)
        .unwrap();
        assert_eq!(outcome.vars, json!({"total": 9822, "who": "125/TG-9072612"}).as_object().unwrap().clone());
        assert_eq!(outcome.removed_vars, vec!["temp".to_string()]);
        assert_eq!(outcome.attributes, json!({"tier": "gold"}).as_object().unwrap().clone(), "unchanged city is no change");
        assert_eq!(outcome.add_tags, vec!["paid".to_string()]);
        assert_eq!(outcome.remove_tags, vec!["new".to_string()]);
        assert_eq!(outcome.status.as_deref(), Some("customer"));
        assert_eq!(outcome.result, Some(json!({"ok": true, "phone": "+79187777777"})));
        assert!(outcome.changes_lead());
    }

    #[test]
    fn a_script_that_changes_nothing_reports_nothing() {
        let outcome = run("const x = ctx.vars.phone.length;").unwrap();
        assert_eq!(outcome, ScriptOutcome::default());
        assert!(!outcome.changes_lead());
    }

    #[test]
    fn call_api_is_synchronous_and_limited() {
        let mut seen = Vec::new();
        let mut api = |request: ApiRequest| {
            seen.push(request.clone());
            Ok(ApiResponse { status: 200, json: json!({"name": "Анна", "echo": request.body}) })
        };
        let code = r#"
            const r = callApi({
              url: ctx.secrets.crm_url + "/api/order/update",
              method: "post",
              headers: {Authorization: "Bearer t", "X-Count": 2},
              body: {user_id: ctx.user.id, order_id: ctx.data.order.id, action: "confirm_payment"}
            });
            ctx.vars.name = r.json.name;
            ctx.vars.status = r.status;
        "#;
        let outcome = run_script(code, &context(), ScriptLimits::default(), &mut api).unwrap();
        assert_eq!(outcome.vars["name"], "Анна");
        assert_eq!(outcome.vars["status"], 200);
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].url, "https://crm.example.com/api/order/update");
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].headers, vec![("Authorization".into(), "Bearer t".into()), ("X-Count".into(), "2".into())]);
        let body: Value = serde_json::from_str(seen[0].body.as_deref().unwrap()).unwrap();
        assert_eq!(body, json!({"user_id": "125", "order_id": 9821, "action": "confirm_payment"}));

        let mut count = 0;
        let mut api = |_: ApiRequest| {
            count += 1;
            Ok(ApiResponse { status: 204, json: Value::Null })
        };
        let limits = ScriptLimits { api_calls: 3, ..ScriptLimits::default() };
        let err = run_script("for (let i = 0; i < 5; i++) {\n  callApi({url: 'https://x.example'});\n}", &context(), limits, &mut api)
            .unwrap_err();
        assert_eq!(count, 3);
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("at most 3 calls"), "{err}");
    }

    #[test]
    fn a_transport_failure_throws_and_can_be_caught() {
        let mut api = |_: ApiRequest| Err("timed out".to_string());
        let err = run_script("\n\ncallApi({url: 'https://crm.example.com/x'});", &context(), ScriptLimits::default(), &mut api).unwrap_err();
        assert_eq!(err.to_string(), "Script error at line 3: Error: callApi: timed out");
        let outcome = run_script(
            "try { callApi({url: 'https://crm.example.com/x'}); } catch (e) { ctx.vars.failure = e.message; }",
            &context(),
            ScriptLimits::default(),
            &mut api,
        )
        .unwrap();
        assert_eq!(outcome.vars["failure"], "callApi: timed out");
        let err = run("callApi({method: 'GET'})").unwrap_err();
        assert!(err.message.contains("TypeError: callApi: url is required"), "{err}");
        let err = run("callApi({url: 'file:///etc/passwd'})").unwrap_err();
        assert!(err.message.contains("http:// or https://"), "{err}");
    }

    #[test]
    fn errors_name_the_line() {
        let err = run("const a = 1;\nconst b = 2;\nfoo(a + b);").unwrap_err();
        assert_eq!(err, ScriptError { line: Some(3), message: "ReferenceError: foo is not defined".into() });
        assert_eq!(err.to_string(), "Script error at line 3: ReferenceError: foo is not defined");

        let err = run("let x = 1;\n\nx = {;").unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.starts_with("SyntaxError"), "{err}");

        let err = run("function f() {\n  return ctx.vars.missing.name;\n}\nf();").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.starts_with("TypeError"), "{err}");

        // Strict mode: a typo'd assignment is an error, not a new global.
        let err = run("let total = 1;\ntotl = 2;").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");

        let err = run("throw 'boom';").unwrap_err();
        assert_eq!(err.to_string(), "Script error: boom");
        let err = run("\nthrow new Error('Заказ не найден');").unwrap_err();
        assert_eq!(err.to_string(), "Script error at line 2: Error: Заказ не найден");

        let err = run("ctx.vars = 5;").unwrap_err();
        assert_eq!(err.to_string(), "Script error: ctx.vars must stay an object");
    }

    #[test]
    fn an_endless_loop_runs_out_of_time() {
        let limits = ScriptLimits { time_ms: 200, ..ScriptLimits::default() };
        let started = Instant::now();
        let err = run_script("let i = 0;\nwhile (true) { i++; }", &context(), limits, &mut no_api).unwrap_err();
        assert_eq!(err.to_string(), "Script error: script ran longer than 200 ms");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The loop cannot catch its own interruption.
        let err = run_script("while (true) { try { for(;;) {} } catch (e) {} }", &context(), limits, &mut no_api).unwrap_err();
        assert_eq!(err.message, "script ran longer than 200 ms");
    }

    #[test]
    fn waiting_for_call_api_does_not_count_as_running() {
        let limits = ScriptLimits { time_ms: 250, ..ScriptLimits::default() };
        let mut slow = |_: ApiRequest| {
            std::thread::sleep(Duration::from_millis(300));
            Ok(ApiResponse { status: 200, json: json!(1) })
        };
        let code = "let n = 0;\nfor (let i = 0; i < 2; i++) n += callApi({url: 'https://crm.example.com'}).json;\nctx.vars.n = n;";
        let outcome = run_script(code, &context(), limits, &mut slow).unwrap();
        assert_eq!(outcome.vars["n"], 2);
    }

    #[test]
    fn a_huge_allocation_runs_out_of_memory() {
        let err = run("const parts = [];\nfor (;;) parts.push('x'.repeat(1 << 20));").unwrap_err();
        assert_eq!(err.message, "script used more than 16 MiB", "{err}");
        let err = run("const big = new Array(64 * 1024 * 1024).fill(0);").unwrap_err();
        assert_eq!(err.message, "script used more than 16 MiB", "{err}");
    }

    #[test]
    fn deep_recursion_hits_the_stack_limit() {
        let err = run("function down(n) { return down(n + 1) + 1; }\ndown(0);").unwrap_err();
        assert!(err.message.contains("RangeError") || err.message.contains("stack"), "{err}");
    }

    #[test]
    fn nothing_to_reach_outside() {
        for code in [
            "require('fs')",
            "process.exit(1)",
            "std.loadFile('/etc/passwd')",
            "os.exec(['ls'])",
            "fetch('https://example.com')",
            "new XMLHttpRequest()",
            "setTimeout(() => {}, 1)",
        ] {
            let err = run(code).unwrap_err();
            assert!(err.message.starts_with("ReferenceError"), "{code}: {err}");
        }
        let err = run("import fs from 'fs';").unwrap_err();
        assert!(err.message.starts_with("SyntaxError"), "{err}");
        // A dynamic import is a promise that can only fail: no module loader.
        let outcome = run("let failed = false;\nimport('fs').catch(() => { failed = true; });\nreturn typeof import('fs');").unwrap();
        assert_eq!(outcome.result, Some(json!("object")));
        // ctx and callApi cannot be replaced.
        assert!(run("ctx = {};").is_err());
        assert!(run("callApi = () => ({status: 200});").is_err());
    }

    #[test]
    fn each_run_starts_clean() {
        run("globalThis.leak = 'secret';").unwrap();
        let outcome = run("return typeof globalThis.leak;").unwrap();
        assert_eq!(outcome.result, Some(json!("undefined")));
    }

    #[test]
    fn check_script_finds_syntax_errors_without_running() {
        assert_eq!(check_script("while (true) {}\nreturn 1;"), Ok(()));
        let err = check_script("let a = 1;\nlet b = ;").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.starts_with("SyntaxError"), "{err}");
    }

    #[test]
    fn stack_lines_are_read_from_the_script_frames_only() {
        assert_eq!(line_of("    at callApi (native)\n    at <anonymous> (script:7:5)\n"), Some(7));
        assert_eq!(line_of("    at script:3:9\n"), Some(3));
        assert_eq!(line_of("    at myscript:4 (other:1:1)\n"), None);
        assert_eq!(mebibytes(16 * 1024 * 1024), "16 MiB");
    }
}
