//! The run executor: pending run → interpreter → outbox, http callbacks,
//! traces. One transaction per advance; every claim is a lease.

use comops_core::scenario::{advance, Effect, Input, LeadInfo, RunInputs, RunState, Scenario, Status, Waiting};
use comops_core::store::runs::{ClaimedRun, NewOutboxMessage, RunProgress};
use comops_core::store::{now_millis, Store, StoreResult};
use comops_core::TraceEvent;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long a claimed run stays ours (an http step may take its timeout
/// times its retries).
const LEASE_MS: i64 = 120_000;

/// Starts the executor loop.
pub fn spawn(store: Store) {
    tokio::spawn(async move {
        let http = reqwest::Client::builder().build().unwrap_or_default();
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let runs = match store.claim_runs(now_millis(), 10, LEASE_MS).await {
                Ok(runs) => runs,
                Err(err) => {
                    tracing::error!(error = %err, "cannot claim runs");
                    continue;
                }
            };
            for run in runs {
                if let Err(err) = step(&store, &http, &run, None).await {
                    tracing::error!(run = %run.id, error = %err, "cannot advance run");
                }
            }
        }
    });
}

/// Advances one claimed run with `input` (None: start it, or wake it if
/// its time came) until it waits or ends, then saves everything.
pub async fn step(store: &Store, http: &reqwest::Client, run: &ClaimedRun, input: Option<Input>) -> StoreResult<()> {
    let now = now_millis();
    let scenario = match load_scenario(store, run).await? {
        Some(scenario) => scenario,
        None => {
            let message = format!("scenario {} does not exist", run.scenario);
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
    let inputs = RunInputs {
        params: Value::Object(run.params.clone()),
        lead: LeadInfo { id: run.lead_id.clone(), ..Default::default() },
        secrets: secrets(store, run).await?,
    };
    let addresses = store.addresses_of_lead(&run.bot_id, &run.lead_id).await?;
    // Delivery keys: the state this advance starts from plus the message's
    // place in it. Replaying the same advance after a crash makes the same
    // keys (nothing is sent twice); a later advance (a re-ask from the same
    // step) makes new ones.
    let generation = short_hash(&run.state_json);
    let mut sequence = 0usize;
    let mut progress = RunProgress { state_json: String::new(), status: "waiting".into(), wake_at: None, outcome: String::new(), messages: vec![], traces: vec![] };
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
                            delivery_key: format!("{}:{generation}:{sequence}:{step}:{channel}:{chat_id}", run.id),
                            lead_id: run.lead_id.clone(),
                            channel: channel.clone(),
                            chat_id: chat_id.clone(),
                            payload: payload.clone(),
                        });
                    }
                    let status = if addresses.is_empty() { "fail" } else { "success" };
                    let detail = if addresses.is_empty() { "no active channel address".to_string() } else { format!("queued for {} address(es)", addresses.len()) };
                    progress.traces.push(trace(run, "scenario.message", &step, status, 0, detail));
                }
                Effect::CallHttp { step, method, url, headers, body, timeout_ms, retries } => {
                    let started = Instant::now();
                    let key = format!("{}:{}:{}", run.id, step, state.steps_taken);
                    let result = call_http(http, &method, &url, &headers, body.as_deref(), timeout_ms, retries, &key, &run.trace_id).await;
                    let latency = started.elapsed().as_millis() as i64;
                    // Only the method and host go into the trace: URLs may carry secrets.
                    let target = format!("{method} {}", host_of(&url));
                    match &result {
                        Ok((status, _)) => progress.traces.push(trace(
                            run,
                            "callback.http",
                            &step,
                            if *status < 400 { "success" } else { "fail" },
                            latency,
                            format!("{target} → {status}"),
                        )),
                        Err(message) => progress.traces.push(trace(run, "callback.http", &step, "fail", latency, format!("{target}: {message}"))),
                    }
                    next_input = Some(match result {
                        Ok((status, json)) => Input::HttpResult { status, json },
                        Err(message) => Input::HttpError { message },
                    });
                }
                Effect::ScheduleWake { at } => progress.wake_at = Some(at),
                Effect::SetAttributes { step, .. } => progress.traces.push(trace(run, "scenario.set", &step, "success", 0, String::new())),
                Effect::Handover { step, note } => progress.traces.push(trace(run, "scenario.handover", &step, "success", 0, note)),
                Effect::StartScenario { step, name } => {
                    progress.traces.push(trace(run, "scenario.run", &step, "success", 0, format!("start {name}")))
                }
            }
        }
        match outcome.status {
            Status::Waiting(Waiting::Http { .. }) if next_input.is_some() => {
                input = next_input.take().unwrap_or(Input::WaitElapsed);
                continue;
            }
            Status::Waiting(Waiting::Reply { timeout_at, .. }) => {
                progress.status = "waiting".into();
                progress.wake_at = timeout_at;
            }
            Status::Waiting(Waiting::Until { at, .. }) => {
                progress.status = "waiting".into();
                progress.wake_at = Some(at);
            }
            Status::Waiting(Waiting::Http { .. }) => {
                progress.status = "failed".into();
                progress.outcome = "http step without a result".into();
            }
            Status::Finished { goal } => {
                progress.status = "done".into();
                progress.outcome = goal.clone().unwrap_or_default();
                progress.wake_at = None;
                progress.traces.push(trace(run, "scenario.end", state.current.as_deref().unwrap_or(""), "success", 0, goal.map(|g| format!("goal {g}")).unwrap_or_default()));
            }
            Status::Failed { step, message } => {
                progress.status = "failed".into();
                progress.outcome = message.clone();
                progress.wake_at = None;
                progress.traces.push(trace(run, "scenario.error", step.as_deref().unwrap_or(""), "fail", 0, message));
            }
            Status::Ignored { reason } => {
                progress.status = run.status.clone();
                progress.traces.push(trace(run, "scenario.ignored", state.current.as_deref().unwrap_or(""), "success", 0, reason));
            }
        }
        break;
    }
    progress.state_json = serde_json::to_string(&state).unwrap_or_default();
    store.save_run_progress(run, &progress).await
}

async fn load_scenario(store: &Store, run: &ClaimedRun) -> StoreResult<Option<Scenario>> {
    if run.scenario_version > 0 {
        if let Some(scenario) = store.scenario_version(&run.bot_id, &run.scenario, run.scenario_version).await? {
            return Ok(Some(scenario));
        }
    }
    Ok(store.scenario(&run.bot_id, &run.scenario).await?.map(|v| v.definition))
}

/// The bot's secrets (stored as its `secrets` settings), for `{{ secrets.X }}`.
async fn secrets(store: &Store, run: &ClaimedRun) -> StoreResult<std::collections::BTreeMap<String, String>> {
    let map = store.bot_channel(&run.bot_id, "secrets").await?.and_then(|v| v.as_object().cloned()).unwrap_or_default();
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

/// Performs an http step: JSON body, `Idempotency-Key` (stable per run and
/// step, so a business system can drop a repeat after a crash) and the
/// run's `traceparent`. Retries transport errors and 5xx.
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
) -> Result<(u16, Value), String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|_| format!("bad method {method}"))?;
    let mut last = String::new();
    for attempt in 0..=retries {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt.min(5)))).await;
        }
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
                if status >= 500 && attempt < retries {
                    last = format!("HTTP {status}");
                    continue;
                }
                return Ok((status, json));
            }
            Err(err) => last = if err.is_timeout() { "timed out".into() } else { "connection failed".into() },
        }
    }
    Err(last)
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

