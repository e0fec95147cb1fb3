//! The run executor: pending run → interpreter → outbox, http callbacks,
//! traces. One transaction per advance; every claim is a lease.

use super::dispatch::DirectSends;
use comops_core::scenario::{advance, Effect, Input, LeadInfo, RunInputs, RunState, Scenario, ScriptLimits, Status, Waiting};
use comops_core::store::leads::{Lead, LeadChange};
use comops_core::store::runs::{ClaimedRun, NewOutboxMessage, RunContext, RunProgress};
use comops_core::store::{now_millis, Store, StoreResult};
use comops_core::trace::detail::{Detail, Failure, HttpOutcome};
use comops_core::TraceEvent;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify, Semaphore};

/// How long a claimed run stays ours unless an advance extends it
/// ([`hold_lease`]) before a step that may take longer.
pub const LEASE_MS: i64 = 120_000;

/// Kept beyond a step's longest time when the lease is extended for it.
const LEASE_MARGIN_MS: i64 = 30_000;

/// Runs advanced at once (each may wait on an http step or a script, and
/// every save waits for its group commit, so many in flight make the
/// batches large: at 32 the executor kept up with about 650 runs/s on the
/// bench machine, short of 1,000 events/s).
const MAX_IN_FLIGHT: usize = 256;

/// Starts the executor loop. It takes runs the event writer handed over
/// (`handed`: written already leased to it, see
/// `comops_core::store::writer`) at once, as many as it has room for;
/// every 100 ms, or at once when `bell` rings (an
/// event was accepted with runs left pending), it claims what else can
/// move. Each run is advanced in its own task, so a slow http step holds
/// up only its own run. With `sends` (SQLite) each save's messages are
/// planned on the dispatcher's clocks and handed to it by the save
/// (`dispatch::DirectSends`); without, `outbox_bell` rings after each.
pub fn spawn(store: Store, bell: Arc<Notify>, outbox_bell: Arc<Notify>, mut handed: mpsc::Receiver<ClaimedRun>, lease_ms: i64, sends: Option<DirectSends>) {
    tokio::spawn(async move {
        let http = reqwest::Client::builder().build().unwrap_or_default();
        let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut runs = Vec::new();
            // Handed runs only while there is room to start them: the loop
            // never waits for a permit, and the rest wait in the queue.
            let poll = tokio::select! {
                _ = tick.tick() => true,
                _ = bell.notified() => true,
                Some(run) = handed.recv(), if in_flight.available_permits() > 0 => {
                    runs.push(run);
                    false
                }
            };
            while runs.len() < in_flight.available_permits() {
                match handed.try_recv() {
                    Ok(run) => runs.push(run),
                    Err(_) => break,
                }
            }
            let free = in_flight.available_permits().saturating_sub(runs.len());
            if poll && free > 0 {
                match store.claim_runs(now_millis(), free as i64, lease_ms).await {
                    Ok(claimed) => runs.extend(claimed),
                    Err(err) => tracing::error!(error = %err, "cannot claim runs"),
                }
            }
            if runs.is_empty() {
                continue;
            }
            // Their leads and addresses in two queries, not two per run;
            // if that fails, each run reads its own.
            let mut contexts = match store.run_contexts(&runs).await {
                Ok(contexts) => contexts,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot read the claimed runs' leads together");
                    Default::default()
                }
            };
            for run in runs {
                let Ok(permit) = in_flight.clone().acquire_owned().await else { return };
                let (store, http, outbox_bell, sends) = (store.clone(), http.clone(), outbox_bell.clone(), sends.clone());
                let context = contexts.remove(&run.id);
                tokio::spawn(async move {
                    match advance_run(&store, &http, &run, None, context, sends.as_ref()).await {
                        // The save handed its messages over itself.
                        Ok(()) if sends.is_some() => {}
                        Ok(()) => outbox_bell.notify_one(),
                        Err(err) if err.is_unreachable() => {
                            // The database went away mid-advance: give the
                            // run back as soon as it returns, not when the
                            // lease ends (two minutes).
                            tracing::warn!(run = %run.id, error = %err, "cannot advance run; releasing it");
                            if let Err(err) = super::persist(run.lease_until, || store.release_run(&run)).await {
                                tracing::error!(run = %run.id, error = %err, "cannot release run");
                            }
                        }
                        Err(err) => tracing::error!(run = %run.id, error = %err, "cannot advance run"),
                    }
                    drop(permit);
                });
            }
        }
    });
}

/// Advances one claimed run with `input` (None: start it, or wake it if
/// its time came) until it waits or ends, then saves everything.
pub async fn step(store: &Store, http: &reqwest::Client, run: &ClaimedRun, input: Option<Input>) -> StoreResult<()> {
    advance_run(store, http, run, input, None, None).await
}

/// [`step`] with the run's lead and addresses already read (`context`),
/// or read here when None; its messages planned on `sends` when given.
async fn advance_run(store: &Store, http: &reqwest::Client, run: &ClaimedRun, input: Option<Input>, context: Option<RunContext>, sends: Option<&DirectSends>) -> StoreResult<()> {
    let now = now_millis();
    // Started or woken by its time (not resumed by a reply or a delivery).
    let wakes = input.is_none();
    let scenario = match load_scenario(store, run).await? {
        Some(scenario) => scenario,
        None => {
            let message = Failure::NoScenario { name: run.scenario.clone() }.to_string();
            return store.save_run_progress(run, &failed(run, None, &message)).await;
        }
    };
    let (mut state, mut input) = match (run.state_json.is_empty(), input) {
        (true, _) => (RunState::new(run.scenario_version, run.created_at), Input::Start),
        (false, given) => {
            let state: RunState = match serde_json::from_str(&run.state_json) {
                Ok(state) => state,
                Err(err) => return store.save_run_progress(run, &failed(run, None, &format!("unreadable run state: {err}"))).await,
            };
            let input = given.unwrap_or_else(|| match &state.waiting {
                Some(Waiting::Reply { .. }) => Input::Timeout,
                _ => Input::WaitElapsed,
            });
            (state, input)
        }
    };
    let RunContext { lead, addresses } = match context {
        Some(context) => context,
        None => RunContext { lead: store.lead(&run.bot_id, &run.lead_id).await?, addresses: store.addresses_of_lead(&run.bot_id, &run.lead_id).await? },
    };
    if wakes && lead.as_ref().is_some_and(|lead| !lead.operator.is_empty()) && !comops_core::store::is_block_report(run.id.as_str()) {
        // An operator has the lead (taken over after the run was accepted
        // or claimed; a claim skips such runs, a hand-off does not): the
        // bot stays out, and the run waits until the lead is handed back.
        // A block report goes on: it writes to the business system only.
        return store.release_run(run).await;
    }
    let inputs = RunInputs { params: Value::Object(run.params.clone()), lead: lead_info(run, lead), secrets: secrets(store, run).await? };
    // Delivery keys: the state this advance starts from plus the message's
    // place in it. Replaying the same advance after a crash makes the same
    // keys (nothing is sent twice); a later advance (a re-ask from the same
    // step) makes new ones.
    // The lease this advance holds; extended before a step that may
    // outlast it.
    let mut lease = run.lease_until;
    let generation = short_hash(&run.state_json);
    let mut sequence = 0usize;
    let mut progress = RunProgress { state_json: String::new(), status: "waiting".into(), wake_at: None, outcome: String::new(), messages: vec![], traces: vec![], lead_change: Default::default(), start_runs: vec![], blocked_on: None };
    loop {
        let outcome = advance(&scenario, &mut state, &inputs, input, now);
        let mut next_input = None;
        for effect in outcome.effects {
            match effect {
                Effect::Send { step, text, buttons, media_url } => {
                    let payload = json!({ "text": text, "buttons": buttons, "media_url": media_url });
                    sequence += 1;
                    for (channel, chat_id) in &addresses {
                        progress.messages.push(NewOutboxMessage {
                            // The blind index of a personal address, never the address.
                            delivery_key: format!("{}:{generation}:{sequence}:{step}:{channel}:{}", run.id, store.address_key(channel, chat_id)),
                            lead_id: run.lead_id.clone(),
                            channel: channel.clone(),
                            chat_id: chat_id.clone(),
                            payload: payload.clone(),
                            plan: Default::default(),
                        });
                    }
                    let status = if addresses.is_empty() { "fail" } else { "success" };
                    let detail = if addresses.is_empty() {
                        // If the person blocked the bot since the call was
                        // accepted (another run's message found out), it is
                        // reported as if this message had met the block,
                        // once a run; an address deactivated otherwise is not
                        // a block.
                        if progress.blocked_on.is_none() && !comops_core::store::is_block_report(run.id.as_str()) {
                            progress.blocked_on = store.blocked_channel(&run.bot_id, &run.lead_id).await?;
                        }
                        Detail::NoAddress { blocked_on: progress.blocked_on.clone() }
                    } else {
                        Detail::Queued { addresses: addresses.len() }
                    };
                    progress.traces.push(trace(run, "scenario.message", &step, status, 0, detail.to_string()));
                }
                Effect::CallHttp { step, method, url, headers, body, timeout_ms, retries } => {
                    if !hold_lease(store, run, &mut lease, http_step_longest_ms(timeout_ms, retries)).await? {
                        return Ok(());
                    }
                    let key = format!("{}:{}:{}", run.id, step, state.steps_taken);
                    let (result, attempts) = call_http(http, &method, &url, &headers, body.as_deref(), timeout_ms, retries, &key, &run.trace_id).await;
                    // One trace event per attempt, so a retried call shows
                    // each try. Only the method and host go into the
                    // trace: URLs may carry secrets.
                    let target = format!("{method} {}", host_of(&url));
                    for (n, attempt) in attempts.into_iter().enumerate() {
                        let of = (retries > 0).then(|| (n as u32 + 1, retries + 1));
                        let (status, detail) = http_detail(&target, attempt.answer, of);
                        progress.traces.push(trace(run, "callback.http", &step, status, attempt.latency_ms, detail));
                    }
                    next_input = Some(match result {
                        Ok((status, json)) => Input::HttpResult { status, json },
                        Err(message) => Input::HttpError { message },
                    });
                }
                Effect::RunScript { step, code, mut context } => {
                    let limits = ScriptLimits::default();
                    let longest = limits.time_ms as i64 + limits.api_calls as i64 * SCRIPT_CALL_TIMEOUT_MS as i64;
                    if !hold_lease(store, run, &mut lease, longest).await? {
                        return Ok(());
                    }
                    // The run knows the business user better than the params (a fan-out call names many).
                    if !run.user_id.is_empty() {
                        context["user"] = json!({ "id": run.user_id });
                    }
                    let started = Instant::now();
                    let (result, calls) = run_script_step(http, run, &step, state.steps_taken, code, context).await;
                    let latency = started.elapsed().as_millis() as i64;
                    for call in calls {
                        let (status, detail) = http_detail(&call.target, call.answer, None);
                        progress.traces.push(trace(run, "callback.http", &step, status, call.latency_ms, detail));
                    }
                    next_input = Some(match result {
                        Ok(outcome) => {
                            progress.traces.push(trace(run, "scenario.script", &step, "success", latency, Detail::ScriptFinished.to_string()));
                            Input::ScriptResult { outcome }
                        }
                        Err(error) => {
                            progress.traces.push(trace(run, "scenario.script", &step, "fail", latency, error.to_string()));
                            Input::ScriptError { line: error.line, message: error.message }
                        }
                    });
                }
                Effect::ScheduleWake { at } => progress.wake_at = Some(at),
                Effect::SetAttributes { step, attributes, add_tags, remove_tags, status } => {
                    let change = LeadChange { attributes, add_tags, remove_tags, status, handover: false };
                    let detail = describe_change(&change);
                    merge_change(&mut progress.lead_change, change);
                    progress.traces.push(trace(run, "scenario.set", &step, "success", 0, detail));
                }
                Effect::Handover { step, note } => {
                    // The lead waits for an operator; the bot pauses for them.
                    progress.lead_change.handover = true;
                    progress.traces.push(trace(run, "scenario.handover", &step, "success", 0, note));
                }
                Effect::StartScenario { step, name } => {
                    // Saved with this advance, so a replay after a crash
                    // does not start it twice.
                    progress.start_runs.push(name.clone());
                    progress.traces.push(trace(run, "scenario.run", &step, "success", 0, Detail::RunStarted { scenario: name }.to_string()));
                }
            }
        }
        match outcome.status {
            Status::Waiting(Waiting::Http { .. }) if next_input.is_some() => {
                input = next_input.take().unwrap_or(Input::WaitElapsed);
                continue;
            }
            Status::Waiting(Waiting::Script { .. }) if next_input.is_some() => {
                input = next_input.take().unwrap_or(Input::WaitElapsed);
                continue;
            }
            // Woken at its time, or to expire (an ask may have no timeout).
            Status::Waiting(Waiting::Reply { .. } | Waiting::Until { .. }) => {
                progress.status = "waiting".into();
                progress.wake_at = state.next_wake();
            }
            Status::Waiting(Waiting::Http { .. }) => {
                progress.status = "failed".into();
                progress.outcome = "http step without a result".into();
            }
            Status::Waiting(Waiting::Script { .. }) => {
                progress.status = "failed".into();
                progress.outcome = "script step without a result".into();
            }
            Status::Finished { goal } => {
                progress.status = "done".into();
                progress.outcome = goal.clone().unwrap_or_default();
                progress.wake_at = None;
                progress.traces.push(trace(run, "scenario.end", state.current.as_deref().unwrap_or(""), "success", 0, goal.map(|goal| Detail::Goal { goal }.to_string()).unwrap_or_default()));
            }
            Status::Failed { step, message } => {
                progress.status = "failed".into();
                progress.outcome = message.clone();
                progress.wake_at = None;
                progress.traces.push(trace(run, "scenario.error", step.as_deref().unwrap_or(""), "fail", 0, message));
            }
            Status::Ignored { reason } => {
                progress.status = run.status.clone();
                // It goes on waiting as it did: its wake time as well (the
                // save writes it; without one a paused run never wakes).
                progress.wake_at = state.next_wake();
                progress.traces.push(trace(run, "scenario.ignored", state.current.as_deref().unwrap_or(""), "success", 0, reason));
            }
        }
        break;
    }
    progress.state_json = serde_json::to_string(&state).unwrap_or_default();
    // Last, so the slots are reserved for when the save commits.
    if let Some(sends) = sends {
        sends.plan(store, &run.bot_id, &mut progress.messages);
    }
    if lease == run.lease_until {
        super::persist(lease, || store.save_run_progress(run, &progress)).await
    } else {
        let run = ClaimedRun { lease_until: lease, ..run.clone() };
        super::persist(lease, || store.save_run_progress(&run, &progress)).await
    }
}

/// Makes sure the run's lease (`lease`, moved forward when extended)
/// outlasts a step that may take `longest_ms`, so no other worker takes
/// the run over and repeats the step meanwhile. False when the lease was
/// lost already: the advance stops and saves nothing (the other worker
/// has the run).
async fn hold_lease(store: &Store, run: &ClaimedRun, lease: &mut i64, longest_ms: i64) -> StoreResult<bool> {
    let now = now_millis();
    if now + longest_ms + LEASE_MARGIN_MS / 2 <= *lease {
        return Ok(true);
    }
    let until = now + longest_ms + LEASE_MARGIN_MS;
    if super::persist(*lease, || store.extend_run_lease(&run.id, *lease, until)).await? {
        *lease = until;
        Ok(true)
    } else {
        tracing::warn!(run = %run.id, "lost the run's lease before a long step; this advance stops");
        Ok(false)
    }
}

/// The longest an http step may take: every attempt timing out, and the
/// pauses between them ([`call_http`]'s backoff).
fn http_step_longest_ms(timeout_ms: u64, retries: u32) -> i64 {
    let pauses: u64 = (1..=retries).map(|attempt| 200 * 2u64.pow(attempt.min(5))).sum();
    (timeout_ms.max(1) * (u64::from(retries) + 1) + pauses) as i64
}

async fn load_scenario(store: &Store, run: &ClaimedRun) -> StoreResult<Option<Scenario>> {
    if run.scenario_version > 0 {
        if let Some(scenario) = store.scenario_version(&run.bot_id, &run.scenario, run.scenario_version).await? {
            return Ok(Some(scenario));
        }
    }
    Ok(store.scenario(&run.bot_id, &run.scenario).await?.map(|v| v.definition))
}

/// The lead as it is now (attributes, tags, status), for templates and
/// conditions.
fn lead_info(run: &ClaimedRun, lead: Option<Lead>) -> LeadInfo {
    match lead {
        Some(lead) => LeadInfo::from(lead),
        None => LeadInfo { id: run.lead_id.clone(), ..Default::default() },
    }
}

/// Folds a later change of the same advance into the earlier ones.
fn merge_change(into: &mut LeadChange, change: LeadChange) {
    into.attributes.extend(change.attributes);
    into.add_tags.retain(|t| !change.remove_tags.contains(t));
    into.remove_tags.retain(|t| !change.add_tags.contains(t));
    into.add_tags.extend(change.add_tags);
    into.remove_tags.extend(change.remove_tags);
    if change.status.is_some() {
        into.status = change.status;
    }
    into.handover |= change.handover;
}

/// Names (not values: they may be personal data) of what a step changed.
fn describe_change(change: &LeadChange) -> String {
    Detail::LeadChanged {
        attributes: change.attributes.keys().cloned().collect(),
        add_tags: change.add_tags.clone(),
        remove_tags: change.remove_tags.clone(),
        status: change.status.clone(),
    }
    .to_string()
}

/// The status and detail of one try of an http call (`target` is `METHOD
/// host`), `attempt` n of m when the step retries.
fn http_detail(target: &str, answer: Result<u16, String>, attempt: Option<(u32, u32)>) -> (&'static str, String) {
    let (status, outcome) = match answer {
        Ok(code) => (if code < 400 { "success" } else { "fail" }, HttpOutcome::Status(code)),
        Err(error) => ("fail", HttpOutcome::Error(error)),
    };
    (status, Detail::Http { target: target.to_string(), outcome, attempt }.to_string())
}

/// The bot's secrets (stored as its `secrets` settings), for `{{ secrets.X }}`.
async fn secrets(store: &Store, run: &ClaimedRun) -> StoreResult<std::collections::BTreeMap<String, String>> {
    let map = store.bot_channel_cached(&run.bot_id, "secrets").await?.and_then(|v| v.as_object().cloned()).unwrap_or_default();
    Ok(map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect())
}

fn failed(run: &ClaimedRun, step: Option<&str>, message: &str) -> RunProgress {
    RunProgress {
        state_json: run.state_json.clone(),
        status: "failed".into(),
        wake_at: None,
        outcome: message.into(),
        messages: vec![],
        traces: vec![trace(run, "scenario.error", step.unwrap_or(""), "fail", 0, message.into())],
        lead_change: Default::default(),
        start_runs: vec![],
        blocked_on: None,
    }
}

fn trace(run: &ClaimedRun, hop: &str, step: &str, status: &str, latency_ms: i64, detail: String) -> TraceEvent {
    TraceEvent {
        id: String::new(),
        trace_id: run.trace_id.clone(),
        source_system: "comops".into(),
        bot_id: run.bot_id.to_string(),
        endpoint: format!("{}/{}", run.scenario, step),
        user_id: run.user_id.clone(),
        lead_id: run.lead_id.clone(),
        step: hop.into(),
        status: status.into(),
        http_status: 0,
        latency_ms,
        dry_run: false,
        detail,
        at: 0,
    }
}

/// `host[:port]` of a URL for traces: no path, query or userinfo (any of
/// which may carry a secret).
fn host_of(url: &str) -> String {
    let authority = url.split("://").nth(1).and_then(|rest| rest.split(['/', '?', '#']).next()).unwrap_or("");
    authority.rsplit('@').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn traces_name_only_the_host() {
        assert_eq!(super::host_of("https://bot:s3cr3t@crm.example.com:8443/api/user/confirm?key=k"), "crm.example.com:8443");
        assert_eq!(super::host_of("http://127.0.0.1:9000/x"), "127.0.0.1:9000");
        assert_eq!(super::host_of("not a url"), "");
    }
}

/// One try of an http call, for its trace.
struct Attempt {
    latency_ms: i64,
    /// The status, or why there was none.
    answer: Result<u16, String>,
}

/// Performs an http step: JSON body, `Idempotency-Key` (stable per run and
/// step, so a business system can drop a repeat after a crash) and the
/// run's `traceparent`. Retries transport errors and 5xx up to `retries`
/// times (0.4 s, 0.8 s, 1.6 s … apart); returns the last answer and every
/// attempt.
#[allow(clippy::too_many_arguments)]
async fn call_http(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    timeout_ms: u64,
    retries: u32,
    idempotency_key: &str,
    trace_id: &str,
) -> (Result<(u16, Value), String>, Vec<Attempt>) {
    let mut attempts = Vec::new();
    let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
        let message = format!("bad method {method}");
        attempts.push(Attempt { latency_ms: 0, answer: Err(message.clone()) });
        return (Err(message), attempts);
    };
    let mut last = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt.min(5)))).await;
        }
        let started = Instant::now();
        let mut request = http
            .request(method.clone(), url)
            .timeout(Duration::from_millis(timeout_ms.max(1)))
            .header("Idempotency-Key", idempotency_key)
            .header("traceparent", format!("00-{trace_id}-{}-01", &idempotency_key_span(idempotency_key)));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body.to_string());
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                let json = serde_json::from_str(&text).unwrap_or(if text.is_empty() { Value::Null } else { Value::String(text) });
                attempts.push(Attempt { latency_ms: started.elapsed().as_millis() as i64, answer: Ok(status) });
                if status >= 500 && attempt < retries {
                    last = format!("HTTP {status}");
                    continue;
                }
                return (Ok((status, json)), attempts);
            }
            Err(err) => {
                last = if err.is_timeout() { "timed out".into() } else { "connection failed".into() };
                attempts.push(Attempt { latency_ms: started.elapsed().as_millis() as i64, answer: Err(last.clone()) });
            }
        }
    }
    (Err(last), attempts)
}

/// A short stable hash (16 hex digits) of a text.
fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(text.as_bytes())[..8])
}

/// A 16-hex span id derived from the idempotency key (stable per step).
fn idempotency_key_span(key: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    format!("{:016x}", hasher.finish() | 1)
}

/// How long one `callApi` of a script may take (the http step's default).
const SCRIPT_CALL_TIMEOUT_MS: u64 = 10_000;

/// One `callApi` of a script, for its trace: method and host only.
struct ScriptCall {
    target: String,
    latency_ms: i64,
    answer: Result<u16, String>,
}

/// Runs a script step in the sandbox on a blocking thread. Each `callApi`
/// is an http call like an http step's (`Idempotency-Key` of run, step,
/// step count and call number; the run's `traceparent`), made by blocking
/// on this runtime. No retries: the script sees the answer and decides.
async fn run_script_step(
    http: &reqwest::Client,
    run: &ClaimedRun,
    step: &str,
    steps_taken: u32,
    code: String,
    context: Value,
) -> (Result<comops_core::scenario::ScriptOutcome, comops_core::scenario::ScriptError>, Vec<ScriptCall>) {
    use comops_core::scenario::{run_script, ApiRequest, ApiResponse, ScriptError};

    let runtime = tokio::runtime::Handle::current();
    let http = http.clone();
    let key_prefix = format!("{}:{step}:{steps_taken}", run.id);
    let trace_id = run.trace_id.clone();
    let task = tokio::task::spawn_blocking(move || {
        let mut calls = Vec::new();
        let mut call_api = |request: ApiRequest| -> Result<ApiResponse, String> {
            let key = format!("{key_prefix}:{}", calls.len() + 1);
            let started = Instant::now();
            let (answer, _) = runtime.block_on(call_http(
                &http,
                &request.method,
                &request.url,
                &request.headers,
                request.body.as_deref(),
                SCRIPT_CALL_TIMEOUT_MS,
                0,
                &key,
                &trace_id,
            ));
            calls.push(ScriptCall {
                // Only the method and host go into the trace: URLs may carry secrets.
                target: format!("{} {}", request.method, host_of(&request.url)),
                latency_ms: started.elapsed().as_millis() as i64,
                answer: answer.as_ref().map(|(status, _)| *status).map_err(Clone::clone),
            });
            answer.map(|(status, json)| ApiResponse { status, json })
        };
        let result = run_script(&code, &context, ScriptLimits::default(), &mut call_api);
        (result, calls)
    });
    task.await.unwrap_or_else(|_| (Err(ScriptError { line: None, message: "the script engine crashed".into() }), Vec::new()))
}
