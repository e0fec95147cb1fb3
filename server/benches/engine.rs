//! Benchmark: the engine behind `POST /bots/{botId}/call/{alias}` — event →
//! message latency under load, and a 10,000-recipient fan-out on one bot
//! (SPEC §9: p50 < 5 ms, p99 < 25 ms added by ComOps at 1,000 events/s,
//! server RSS < 150 MB; fan-out ≥ 98 % of the 30 msg/s budget, zero 429s).
//!
//! `cargo bench -p comops-server --bench engine` starts the release `comops`
//! binary (fresh SQLite in a temp dir) against the protocol-faithful fake
//! Bot API (`comops_fakes::FakeTelegram`, in this process, so the bench's
//! send time and the fake's arrival time are read from the same clock):
//!
//! 1. **Latency.** 40 bots × 25 events/s = 1,000 events/s, open loop (each
//!    call leaves at its scheduled time whatever the earlier ones do), for
//!    `COMOPS_BENCH_SECS` (default 30) after a 3 s warm-up. Each call names
//!    one of 250 linked users of its bot (a chat hears from the bot every
//!    10 s, far under 1 msg/s) and carries a sequence number `n` that the
//!    one-message scenario puts in the text; latency = the fake's arrival
//!    time of message `n` − the moment the bench sent call `n`. Limits are
//!    not enforced at the fake here. The fake serves one bot token, and
//!    `--telegram-api-base` is one URL per process, so the 40 bots share the
//!    fake's token; ComOps paces per bot id, so each bot still has its own
//!    30 msg/s budget (25 msg/s are used).
//! 2. **Fan-out.** One bot, `COMOPS_BENCH_FANOUT` (default 10,000) linked
//!    users, `userIds` calls of at most `CallRequest::MAX_RECIPIENTS`, a
//!    second comops process in front of a fresh fake enforcing
//!    `Limits::telegram()` (30/s per bot, 1/s per chat, strict sliding
//!    windows, 429 with `retry_after` otherwise).
//!
//! `COMOPS_BENCH_DB=postgres` runs `comops` on a fresh PostgreSQL database
//! (beside `COMOPS_TEST_PG_URL`'s) instead of SQLite, and only prints.
//! `COMOPS_BENCH_PART=latency` or `=fanout` runs one part only;
//! `COMOPS_BENCH_BIN=path/to/comops` runs another build of `comops` under
//! the same bench (an A/B of two commits on one machine). The figures
//! go to their own sections of docs/benchmarks.md and to the status lines.
//! Every load is bounded in time and only targets 127.0.0.1.

use comops_core::bot::BotDraft;
use comops_core::call::CallRequest;
use comops_core::endpoint::EndpointDraft;
use comops_core::scenario::Scenario;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::{BotId, ProjectId};
use comops_fakes::{FakeTelegram, Limits};
use server_use::{cpu_secs, lane_report, lane_use, metrics_token};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/server_use.rs"]
mod server_use;

#[path = "support/doc_section.rs"]
mod doc_section;

/// Bots of the latency part; the target rate (SPEC §9) spread over them.
const BOTS: usize = 40;
const TARGET_RATE: u64 = 1_000;
/// Linked users per bot in the latency part (round robin: each chat hears
/// from its bot every `LEADS_PER_BOT / 25` s).
const LEADS_PER_BOT: usize = 250;
const WARMUP: Duration = Duration::from_secs(3);
/// A message not at the fake this long after the last call is lost.
const GRACE: Duration = Duration::from_secs(10);
/// Telegram's budget per bot.
const BUDGET: f64 = 30.0;

const LATENCY_TOKEN: &str = "700000001:ENGINE-latency-bench";
const FANOUT_TOKEN: &str = "700000002:ENGINE-fanout-bench";

fn main() {
    let secs: u64 = std::env::var("COMOPS_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let fanout: usize = std::env::var("COMOPS_BENCH_FANOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let part = std::env::var("COMOPS_BENCH_PART").unwrap_or_default();
    // The target rate first; lower rates show the engine's own latency when
    // it keeps up.
    let rates: Vec<u64> = std::env::var("COMOPS_BENCH_RATES")
        .ok()
        .map(|s| s.split(',').filter_map(|r| r.trim().parse().ok()).filter(|r| *r > 0).collect())
        .filter(|r: &Vec<u64>| !r.is_empty())
        .unwrap_or_else(|| vec![TARGET_RATE, 100]);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mut report = Report::default();
        if part.is_empty() || part == "latency" {
            for rate in &rates {
                report.latency.push(latency(*rate, Duration::from_secs(secs)).await);
            }
        }
        if part.is_empty() || part == "fanout" {
            report.fanout = Some(fan_out(fanout).await);
        }
        write_report(&report);
    });
}

// ---------------------------------------------------------------- process

struct Server {
    child: Child,
    host: String,
    database_url: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var("COMOPS_BENCH_KEEP").is_ok() {
            eprintln!("kept {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// The database a run's `comops serve` uses: a fresh SQLite file in
/// `dir`, or with `COMOPS_BENCH_DB=postgres` a fresh PostgreSQL database
/// beside `COMOPS_TEST_PG_URL`'s.
async fn bench_database(dir: &std::path::Path, label: &str) -> String {
    match std::env::var("COMOPS_BENCH_DB").as_deref() {
        Ok("postgres") => comops_core::store::scratch::test_postgres(&format!("bench_engine_{label}")).await.expect("COMOPS_BENCH_DB=postgres, but PostgreSQL does not answer"),
        Ok("sqlite") | Err(_) => format!("sqlite://{}/comops.db", dir.display()),
        Ok(other) => panic!("COMOPS_BENCH_DB={other}: expected sqlite or postgres"),
    }
}

/// Starts `comops serve` on a fresh database (`bench_database`), pointed
/// at `telegram`.
async fn start_comops(telegram: &FakeTelegram, label: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("comops-bench-engine-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let database_url = bench_database(&dir, label).await;
    let log = std::fs::File::create(dir.join("comops.log")).expect("log file");
    let binary = std::env::var_os("COMOPS_BENCH_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_comops")));
    let mut child = Command::new(binary)
        .args(["serve", "--demo-bots", "--listen", "127.0.0.1:0", "--telegram-api-base"])
        .arg(telegram.base_url())
        .env("DATABASE_URL", &database_url)
        .env("COMOPS_DATA_DIR", &dir)
        .env("COMOPS_ADMIN_PASSWORD", "bench-admin-password")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn comops");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("comops listening on http://") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let host = rx.recv_timeout(Duration::from_secs(60)).expect("comops did not start");
    Server { child, host, database_url, dir }
}

/// Peak and current resident set of a process, in KiB (`VmHWM`, `VmRSS`).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Samples the peak `VmRSS` of `pid` until `stop` is set.
fn sample_rss(pid: u32, stop: Arc<std::sync::atomic::AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(memory_kib(pid).1);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        peak.max(memory_kib(pid).1)
    })
}

// ---------------------------------------------------------------- arrange

fn one_message_scenario(name: &str, text: &str) -> Scenario {
    let scenario: Scenario = serde_json::from_value(json!({
        "name": name, "start": "say",
        "steps": [{"id": "say", "type": "message", "text": text, "next": "end"}, {"id": "end", "type": "end"}]
    }))
    .expect("scenario");
    scenario.validate().expect("valid scenario");
    scenario
}

/// Telegram settings, the scenario and its endpoint on `bot`.
async fn arrange_bot(store: &Store, bot: &BotId, token: &str, scenario: &Scenario, alias: &str) {
    store.set_bot_channel(bot, "telegram", &json!({"token": token, "webhook_secret": "x"})).await.expect("telegram settings");
    store.save_scenario(bot, scenario, "bench", "bench").await.expect("scenario");
    let endpoint = EndpointDraft { alias: alias.into(), scenario: scenario.name.clone(), enabled: true, ..Default::default() };
    store.create_endpoint(bot, &endpoint.validate().expect("valid endpoint")).await.expect("endpoint");
}

/// Links `(bot, user, lead, chat)` rows, a few at a time.
async fn link_all(store: &Store, links: Vec<(BotId, IdentityLink)>) {
    let started = Instant::now();
    let total = links.len();
    let queue = Arc::new(std::sync::Mutex::new(links));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (store, queue) = (store.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue").pop();
                let Some((bot, link)) = next else { break };
                store.link_identity(&bot, &link).await.expect("link identity");
            }
        }));
    }
    for task in tasks {
        task.await.expect("link task");
    }
    eprintln!("linked {total} identities in {:.1} s", started.elapsed().as_secs_f64());
}

async fn call_token(store: &Store) -> String {
    let token = TokenDraft { name: "engine bench".into(), actions: vec![TokenAction::Call], ..Default::default() };
    store.issue_token(&token.validate().expect("valid token"), "bench").await.expect("token").1
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

// ---------------------------------------------------------------- part 1

#[derive(Debug, Clone)]
struct LatencyFigures {
    rate: u64,
    secs: u64,
    sent: usize,
    http_errors: usize,
    delivered: usize,
    lost: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    http_p50: f64,
    http_p99: f64,
    /// How late the bench itself issued calls (scheduler lag), p99 and max.
    send_lag_p99: f64,
    send_lag_max: f64,
    achieved_rate: f64,
    peak_rss_mb: f64,
    hwm_mb: f64,
    comops_cpu: f64,
    bench_cpu: f64,
    /// From the outbox rows (ms clock of comops): accepted → message queued
    /// by the executor, and queued → delivery filed by the dispatcher;
    /// p50 and p99.
    executor_ms: (f64, f64),
    dispatcher_ms: (f64, f64),
}

/// One sent call: its sequence number, when it left, how it was answered.
struct Sent {
    n: u64,
    at: Instant,
    lag: Duration,
    status: u16,
    answered_in: Duration,
}

async fn latency(rate: u64, duration: Duration) -> LatencyFigures {
    let telegram = FakeTelegram::start(LATENCY_TOKEN).await;
    let server = start_comops(&telegram, "latency").await;
    let store = Store::connect(&server.database_url).await.expect("store");
    let project = ProjectId::parse(comops_core::demo::DEMO_PROJECT).expect("project id");
    let scenario = one_message_scenario("bench_ping", "bench {{ params.n }}");
    let mut bots = Vec::new();
    let mut links = Vec::new();
    for b in 0..BOTS {
        let id = BotId::parse(&format!("bot_bench-{b:02}")).expect("bot id");
        let draft = BotDraft { name: format!("Bench {b:02}"), enabled: true, ..Default::default() };
        store.create_bot(&project, &draft.validate().expect("valid bot"), Some(id.clone())).await.expect("bot");
        arrange_bot(&store, &id, LATENCY_TOKEN, &scenario, "bench/ping").await;
        for l in 0..LEADS_PER_BOT {
            let chat = (1_000_000 + b * 1_000 + l).to_string();
            links.push((id.clone(), IdentityLink::telegram(&format!("u{l}"), &format!("L-{b}-{l}"), &chat, "bench")));
        }
        bots.push(id);
    }
    link_all(&store, links).await;
    let token = call_token(&store).await;
    let reader = metrics_token(&store).await;
    store.close().await;

    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client");
    let mut lane_before = None;
    let urls: Arc<Vec<String>> = Arc::new(bots.iter().map(|b| format!("http://{}/bots/{b}/call/bench/ping", server.host)).collect());
    let warm = WARMUP.as_secs() * rate;
    let total = warm + duration.as_secs() * rate;
    eprintln!("latency: {rate} events/s over {BOTS} bots, {} s warm-up + {} s", WARMUP.as_secs(), duration.as_secs());

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Sent>();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut rss = None;
    let mut cpu_start = (0.0, 0.0);
    let mut measured_start = Instant::now();
    let mut measured_start_ms = 0i64;
    let start = Instant::now();
    for i in 0..total {
        if i == warm {
            rss = Some(sample_rss(server.pid(), stop.clone()));
            cpu_start = (cpu_secs(&server.pid().to_string()), cpu_secs("self"));
            // Read beside the calls: awaiting it here would hold back the
            // calls due meanwhile and send them in a burst.
            let (client, host, reader) = (client.clone(), server.host.clone(), reader.clone());
            lane_before = Some(tokio::spawn(async move { lane_use(&client, &host, &reader).await }));
            measured_start = Instant::now();
            measured_start_ms = unix_ms();
        }
        let due = start + Duration::from_nanos(i * 1_000_000_000 / rate);
        if due > Instant::now() {
            tokio::time::sleep_until(due.into()).await;
        }
        let bot = (i as usize) % BOTS;
        let user = (i as usize / BOTS) % LEADS_PER_BOT;
        let (client, urls, token, tx) = (client.clone(), urls.clone(), token.clone(), tx.clone());
        tokio::spawn(async move {
            let request = client
                .post(&urls[bot])
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(format!("{{\"userId\": \"u{user}\", \"n\": {i}}}"));
            let at = Instant::now();
            let status = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            let _ = tx.send(Sent { n: i, at, lag: at.saturating_duration_since(due), status, answered_in: at.elapsed() });
        });
    }
    let send_window = measured_start.elapsed();
    drop(tx);
    let cpu_end = (cpu_secs(&server.pid().to_string()), cpu_secs("self"));
    let lane_after = lane_use(&client, &server.host, &reader).await;
    let lane_before = match lane_before {
        Some(task) => task.await.unwrap_or_default(),
        None => BTreeMap::new(),
    };
    if lane_after.is_empty() {
        eprintln!("write lane: /metrics did not answer with the lane's counters");
    } else {
        eprint!("{}", lane_report(&lane_before, &lane_after, send_window.as_secs_f64()));
    }

    // Wait for the measured messages, at most GRACE after the last call.
    let deadline = Instant::now() + GRACE;
    let mut sent_calls = Vec::with_capacity(total as usize);
    while let Some(s) = rx.recv().await {
        sent_calls.push(s);
    }
    let wanted = sent_calls.iter().filter(|s| s.n >= warm && s.status == 200).count();
    loop {
        let arrived = telegram.sent().iter().filter(|m| parse_n(&m.text).is_some_and(|n| n >= warm)).count();
        if arrived >= wanted || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak_rss_kib = match rss {
        Some(task) => task.await.unwrap_or(0),
        None => 0,
    };
    let (hwm_kib, _) = memory_kib(server.pid());
    let (executor_ms, dispatcher_ms) = stages(&server.database_url, measured_start_ms).await;

    let arrivals: HashMap<u64, Instant> = telegram.sent().iter().filter_map(|m| parse_n(&m.text).map(|n| (n, m.at))).collect();
    let measured: Vec<&Sent> = sent_calls.iter().filter(|s| s.n >= warm).collect();
    let http_errors = measured.iter().filter(|s| s.status != 200).count();
    let mut latencies = Vec::new();
    let mut lost = 0;
    for s in measured.iter().filter(|s| s.status == 200) {
        match arrivals.get(&s.n) {
            Some(arrived) => latencies.push(arrived.saturating_duration_since(s.at).as_secs_f64() * 1000.0),
            None => lost += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let mut answered: Vec<f64> = measured.iter().filter(|s| s.status == 200).map(|s| s.answered_in.as_secs_f64() * 1000.0).collect();
    answered.sort_by(f64::total_cmp);
    let mut lags: Vec<f64> = measured.iter().map(|s| s.lag.as_secs_f64() * 1000.0).collect();
    lags.sort_by(f64::total_cmp);
    let figures = LatencyFigures {
        rate,
        secs: duration.as_secs(),
        sent: measured.len(),
        http_errors,
        delivered: latencies.len(),
        lost,
        p50: percentile(&latencies, 0.50),
        p90: percentile(&latencies, 0.90),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or(f64::NAN),
        http_p50: percentile(&answered, 0.50),
        http_p99: percentile(&answered, 0.99),
        send_lag_p99: percentile(&lags, 0.99),
        send_lag_max: lags.last().copied().unwrap_or(0.0),
        achieved_rate: measured.len() as f64 / send_window.as_secs_f64(),
        peak_rss_mb: peak_rss_kib as f64 / 1024.0,
        hwm_mb: hwm_kib as f64 / 1024.0,
        comops_cpu: (cpu_end.0 - cpu_start.0) / send_window.as_secs_f64(),
        bench_cpu: (cpu_end.1 - cpu_start.1) / send_window.as_secs_f64(),
        executor_ms,
        dispatcher_ms,
    };
    eprintln!("{figures:#?}");
    drop(server);
    figures
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Where the time went inside comops, from its own rows: (accepted →
/// queued in the outbox) and (queued → delivery filed), p50 and p99 in ms,
/// over the messages of events accepted since `since_ms`.
async fn stages(database_url: &str, since_ms: i64) -> ((f64, f64), (f64, f64)) {
    let Ok(store) = Store::connect(database_url).await else { return ((f64::NAN, f64::NAN), (f64::NAN, f64::NAN)) };
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT r.created_at, o.created_at, o.sent_at FROM outbox o JOIN runs r ON r.id = o.run_id \
         WHERE o.status = 'sent' AND r.created_at >= $1",
    )
    .bind(since_ms)
    .fetch_all(store.pool())
    .await
    .unwrap_or_default();
    store.close().await;
    let mut executor: Vec<f64> = rows.iter().map(|(a, q, _)| (q - a) as f64).collect();
    let mut dispatcher: Vec<f64> = rows.iter().map(|(_, q, s)| (s - q) as f64).collect();
    executor.sort_by(f64::total_cmp);
    dispatcher.sort_by(f64::total_cmp);
    (
        (percentile(&executor, 0.5), percentile(&executor, 0.99)),
        (percentile(&dispatcher, 0.5), percentile(&dispatcher, 0.99)),
    )
}

fn parse_n(text: &str) -> Option<u64> {
    text.strip_prefix("bench ")?.trim().parse().ok()
}

// ---------------------------------------------------------------- part 2

#[derive(Debug, Clone)]
struct FanoutFigures {
    recipients: usize,
    calls: usize,
    http_errors: usize,
    accept_secs: f64,
    delivered: usize,
    distinct_chats: usize,
    duplicates: usize,
    missing: usize,
    wall_secs: f64,
    rate: f64,
    share: f64,
    /// `delivered / (30 × (first → last + 1 s))`: a sliding 1 s window of 30
    /// allows at most 30 × (T + 1) sends in T seconds, so this does not
    /// flatter short runs with the first second's burst.
    share_strict: f64,
    /// Event accepted → the last run's message queued (the executor's part).
    planned_secs: f64,
    throttled: u64,
    /// Most arrivals in any one-second window (the fake allows 30).
    max_in_a_second: usize,
    first_after_call_ms: f64,
    peak_rss_mb: f64,
    /// CPU seconds comops used from the first call to the end (user + system).
    comops_cpu_secs: f64,
}

async fn fan_out(recipients: usize) -> FanoutFigures {
    let telegram = FakeTelegram::start(FANOUT_TOKEN).await;
    telegram.set_limits(Limits::telegram());
    let server = start_comops(&telegram, "fanout").await;
    let store = Store::connect(&server.database_url).await.expect("store");
    let bot = BotId::parse("bot_shop").expect("bot id");
    let scenario = one_message_scenario("bench_fanout", "fan-out {{ params.batch }}");
    arrange_bot(&store, &bot, FANOUT_TOKEN, &scenario, "bench/fanout").await;
    let chat_of = |i: usize| 500_000_000i64 + i as i64;
    let links = (0..recipients)
        .map(|i| (bot.clone(), IdentityLink::telegram(&format!("f{i}"), &format!("F-{i}"), &chat_of(i).to_string(), "bench")))
        .collect();
    link_all(&store, links).await;
    let token = call_token(&store).await;
    store.close().await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rss = sample_rss(server.pid(), stop.clone());
    eprintln!("fan-out: {recipients} recipients on one bot, Telegram limits enforced at the fake");
    let client = reqwest::Client::new();
    let url = format!("http://{}/bots/{bot}/call/bench/fanout", server.host);
    let users: Vec<String> = (0..recipients).map(|i| format!("f{i}")).collect();
    let called = Instant::now();
    let cpu_start = cpu_secs(&server.pid().to_string());
    let mut http_errors = 0;
    let mut calls = 0;
    for (batch, chunk) in users.chunks(CallRequest::MAX_RECIPIENTS).enumerate() {
        calls += 1;
        let response = client.post(&url).bearer_auth(&token).json(&json!({"userIds": chunk, "batch": batch})).send().await;
        match response {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                http_errors += 1;
                eprintln!("fan-out call {batch}: {} {}", r.status(), r.text().await.unwrap_or_default());
            }
            Err(err) => {
                http_errors += 1;
                eprintln!("fan-out call {batch}: {err}");
            }
        }
    }
    let accept_secs = called.elapsed().as_secs_f64();

    // Wait until everything arrived, progress stalls for 30 s, or the
    // budget's time plus a margin passed.
    let limit = called + Duration::from_secs_f64(recipients as f64 / (BUDGET * 0.9) + 60.0);
    let mut last_count = 0;
    let mut last_progress = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let count = telegram.sent_count();
        if count != last_count {
            last_count = count;
            last_progress = Instant::now();
            if count % 1_000 < 30 {
                eprintln!("  {count} delivered after {:.0} s, {} × 429", called.elapsed().as_secs_f64(), telegram.throttled());
            }
        }
        if count >= recipients || last_progress.elapsed() > Duration::from_secs(30) || Instant::now() > limit {
            break;
        }
    }
    // Anything sent twice would come now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak_rss_kib = rss.await.unwrap_or(0);
    let comops_cpu_secs = cpu_secs(&server.pid().to_string()) - cpu_start;

    let planned_secs = match Store::connect(&server.database_url).await {
        Ok(store) => {
            let span: Option<(Option<i64>, Option<i64>)> = sqlx::query_as("SELECT MIN(r.created_at), MAX(o.created_at) FROM outbox o JOIN runs r ON r.id = o.run_id")
                .fetch_optional(store.pool())
                .await
                .ok()
                .flatten();
            store.close().await;
            match span {
                Some((Some(first), Some(last))) => (last - first) as f64 / 1000.0,
                _ => f64::NAN,
            }
        }
        Err(_) => f64::NAN,
    };
    let sent = telegram.sent();
    let mut per_chat: HashMap<i64, usize> = HashMap::new();
    for m in &sent {
        *per_chat.entry(m.chat_id).or_default() += 1;
    }
    let missing = (0..recipients).filter(|i| !per_chat.contains_key(&chat_of(*i))).count();
    let duplicates = per_chat.values().filter(|c| **c > 1).count();
    let mut times: Vec<Instant> = sent.iter().map(|m| m.at).collect();
    times.sort();
    let wall_secs = match (times.first(), times.last()) {
        (Some(first), Some(last)) => last.duration_since(*first).as_secs_f64(),
        _ => 0.0,
    };
    let mut max_in_a_second = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi].duration_since(times[lo]) >= Duration::from_secs(1) {
            lo += 1;
        }
        max_in_a_second = max_in_a_second.max(hi - lo + 1);
    }
    let rate = if wall_secs > 0.0 { (sent.len() - 1) as f64 / wall_secs } else { 0.0 };
    print_fanout_timeline(&times);
    let figures = FanoutFigures {
        recipients,
        calls,
        http_errors,
        accept_secs,
        delivered: sent.len(),
        distinct_chats: per_chat.len(),
        duplicates,
        missing,
        wall_secs,
        rate,
        share: rate / BUDGET,
        share_strict: sent.len() as f64 / (BUDGET * (wall_secs + 1.0)),
        planned_secs,
        throttled: telegram.throttled(),
        max_in_a_second,
        first_after_call_ms: times.first().map(|t| t.saturating_duration_since(called).as_secs_f64() * 1000.0).unwrap_or(f64::NAN),
        peak_rss_mb: peak_rss_kib as f64 / 1024.0,
        comops_cpu_secs,
    };
    eprintln!("{figures:#?}");
    eprintln!("comops used {:.1} CPU seconds over the fan-out", figures.comops_cpu_secs);
    drop(server);
    figures
}

/// Where a fan-out lost time: arrivals per 30 s, and the pauses between
/// arrivals longer than 100 ms (the pacer spaces them 34 ms apart), with
/// when they happened — on stderr, for reading beside the figures.
fn print_fanout_timeline(times: &[Instant]) {
    let Some(first) = times.first().copied() else { return };
    let at = |t: Instant| t.duration_since(first).as_secs_f64();
    let mut per_window: Vec<usize> = Vec::new();
    for t in times {
        let w = (at(*t) / 30.0) as usize;
        if per_window.len() <= w {
            per_window.resize(w + 1, 0);
        }
        per_window[w] += 1;
    }
    let rates: Vec<String> = per_window.iter().enumerate().map(|(w, n)| format!("{}s: {:.2}", w * 30, *n as f64 / 30.0)).collect();
    eprintln!("arrivals per second, by 30 s window from the first: {}", rates.join(", "));
    let mut pauses: Vec<(f64, f64)> = times.windows(2).map(|p| (at(p[0]), p[1].duration_since(p[0]).as_secs_f64() * 1000.0)).filter(|(_, ms)| *ms > 100.0).collect();
    let lost: f64 = pauses.iter().map(|(_, ms)| ms - 34.0).sum();
    pauses.sort_by(|a, b| b.1.total_cmp(&a.1));
    let longest: Vec<String> = pauses.iter().take(10).map(|(t, ms)| format!("{ms:.0} ms at {t:.1} s")).collect();
    eprintln!("pauses over 100 ms: {} ({lost:.0} ms beyond the 34 ms spacing); longest: {}", pauses.len(), longest.join(", "));
}

// ---------------------------------------------------------------- report

#[derive(Default)]
struct Report {
    latency: Vec<LatencyFigures>,
    fanout: Option<FanoutFigures>,
}

const LATENCY_HEADING: &str = "## Engine: event → message latency";
const FANOUT_HEADING: &str = "## Engine: fan-out";
const STATUS_HEADING: &str = "## Status against SPEC §9";
const LATENCY_BULLET: &str = "- Event → message latency at 1,000 events/s:";
const RSS_BULLET: &str = "- Server RSS at 1,000 events/s:";
const FANOUT_BULLET: &str = "- Fan-out on one Telegram bot:";

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Milliseconds, or seconds from 10 s up.
fn fmt_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "**met**"
    } else {
        "**not met**"
    }
}

fn write_report(report: &Report) {
    // docs/benchmarks.md's sections and status lines are SQLite's; a run
    // on PostgreSQL prints its figures only.
    if std::env::var("COMOPS_BENCH_DB").as_deref() == Ok("postgres") {
        eprintln!("COMOPS_BENCH_DB=postgres: docs/benchmarks.md left as it is (its sections are SQLite's)");
        return;
    }
    let date = today();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let mut doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    if let Some(f) = report.latency.first() {
        let mut table = String::from(
            "| events/s (achieved) | calls sent | HTTP errors | delivered | lost | p50 ms | p90 ms | p99 ms | max ms | call answered p50 / p99 ms | in comops: accepted → queued p50 / p99 ms | queued → sent p50 / p99 ms | comops peak RSS | comops CPU |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for f in &report.latency {
            table.push_str(&format!(
                "| {} ({:.0}) | {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} | {:.0} / {:.0} | {:.0} / {:.0} | {:.1} MB | {:.0} % of a core |\n",
                f.rate,
                f.achieved_rate,
                f.sent,
                f.http_errors,
                f.delivered,
                f.lost,
                f.p50,
                f.p90,
                f.p99,
                f.max,
                f.http_p50,
                f.http_p99,
                f.executor_ms.0,
                f.executor_ms.1,
                f.dispatcher_ms.0,
                f.dispatcher_ms.1,
                f.peak_rss_mb,
                f.comops_cpu * 100.0
            ));
        }
        let lags = report
            .latency
            .iter()
            .map(|f| format!("{} events/s: {:.0} % of a core, lag p99 {:.1} ms, max {:.1} ms", f.rate, f.bench_cpu * 100.0, f.send_lag_p99, f.send_lag_max))
            .collect::<Vec<_>>()
            .join("; ");
        let section = format!(
            "{LATENCY_HEADING}\n\n\
             `cargo bench -p comops-server --bench engine` ({date}) — release `comops serve` on a fresh SQLite \
             database per row, the fake Bot API (`comops_fakes::FakeTelegram`, limits not enforced) and the load \
             generator in the bench process, all on the same 2 shared cores, loopback only. {BOTS} bots share the \
             load evenly (at 1,000 events/s: 25 per bot, under ComOps's 30 msg/s pacing per bot), open loop (each \
             call leaves at its scheduled time whatever the earlier ones do), {} s measured after a {} s warm-up. \
             Each call names one of {LEADS_PER_BOT} linked users of its bot and a sequence number the one-message \
             scenario puts in the text; latency = the fake's arrival time of that message − the moment the bench \
             sent the call (one clock), i.e. HTTP accept and commit, executor, outbox, dispatcher and the Bot API \
             request. Lost = not at the fake {} s after the last call. The two \"in comops\" columns come from \
             comops's own rows (ms clock): event accepted → message queued by the executor, queued → delivery \
             filed. The bots share the fake's token (one `--telegram-api-base` per process; ComOps paces per bot). \
             Peak RSS is the highest `VmRSS` sampled every 200 ms during the run (`VmHWM` over the process's life \
             at the target rate: {:.1} MB). The bench process itself — {lags}. \
             Targets (SPEC §9): p50 < 5 ms, p99 < 25 ms, server RSS < 150 MB at 1,000 events/s.\n\n{table}\n",
            f.secs,
            WARMUP.as_secs(),
            GRACE.as_secs(),
            f.hwm_mb,
        );
        doc = replace_section(&doc, LATENCY_HEADING, &section, &[FANOUT_HEADING, STATUS_HEADING]);
        let latency_ok = f.rate == TARGET_RATE && f.p50 < 5.0 && f.p99 < 25.0 && f.lost == 0 && f.http_errors == 0;
        let lower = report
            .latency
            .iter()
            .skip(1)
            .map(|l| format!("; at {} events/s p50 {}, p99 {}, {} lost", l.rate, fmt_ms(l.p50), fmt_ms(l.p99), l.lost))
            .collect::<String>();
        doc = replace_bullet(
            &doc,
            LATENCY_BULLET,
            &format!(
                "{LATENCY_BULLET} {} — at {} events/s p50 {}, p99 {}, {} of {} \
                 messages lost{lower} (target p50 < 5 ms, p99 < 25 ms; `bench engine`, {date}).",
                met(latency_ok),
                f.rate,
                fmt_ms(f.p50),
                fmt_ms(f.p99),
                f.lost,
                f.sent
            ),
        );
        doc = replace_bullet(
            &doc,
            RSS_BULLET,
            &format!(
                "{RSS_BULLET} {} — peak {:.0} MB at {} events/s (target < 150 MB; {date}).",
                met(f.rate == TARGET_RATE && f.peak_rss_mb.max(f.hwm_mb) < 150.0),
                f.peak_rss_mb.max(f.hwm_mb),
                f.rate
            ),
        );
    }
    if let Some(f) = &report.fanout {
        let table = format!(
            "| recipients | calls | delivered | chats reached | missing | chats with 2+ messages | first → last arrival | msg/s | share of 30 msg/s | strict share | 429s | most in any 1 s | comops peak RSS |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n\
             | {} | {} | {} | {} | {} | {} | {:.1} s | {:.2} | {:.1} % | {:.1} % | {} | {} | {:.1} MB |\n",
            f.recipients,
            f.calls,
            f.delivered,
            f.distinct_chats,
            f.missing,
            f.duplicates,
            f.wall_secs,
            f.rate,
            f.share * 100.0,
            f.share_strict * 100.0,
            f.throttled,
            f.max_in_a_second,
            f.peak_rss_mb
        );
        let section = format!(
            "{FANOUT_HEADING}\n\n\
             `cargo bench -p comops-server --bench engine` ({date}) — one bot, {} linked users, `userIds` calls of \
             at most {} recipients (here {}, accepted in {:.1} s, {} HTTP errors), a one-message scenario; the fake \
             Bot API enforces Telegram's limits strictly (30 msg/s per bot and 1 msg/s per chat as sliding windows, \
             429 with `retry_after` otherwise). Same 2 shared cores, loopback. msg/s = (delivered − 1) / time from \
             the first to the last arrival at the fake; strict share = delivered / (30 × (that time + 1 s)), which \
             does not count the first second's burst of 30 as speed. The first message arrived {:.0} ms after the \
             first call; the executor had queued every message {:.1} s after the call. \
             Target (SPEC §9, 10,000 recipients): ≥ 98 % of the 30 msg/s budget, zero 429s.\n\n{table}\n",
            f.recipients,
            CallRequest::MAX_RECIPIENTS,
            f.calls,
            f.accept_secs,
            f.http_errors,
            f.first_after_call_ms,
            f.planned_secs,
        );
        doc = replace_section(&doc, FANOUT_HEADING, &section, &[STATUS_HEADING]);
        let ok = f.share.min(f.share_strict) >= 0.98 && f.throttled == 0 && f.missing == 0 && f.duplicates == 0;
        let small = if f.recipients < 10_000 { " (fewer recipients than the target's 10,000: indicative only)" } else { "" };
        doc = replace_bullet(
            &doc,
            FANOUT_BULLET,
            &format!(
                "{FANOUT_BULLET} {} — {} recipients in {:.0} s, {:.2} msg/s = {:.1} % of 30 msg/s ({:.1} % \
                 counted strictly), {} × 429, {} missing, {} sent twice{small} (target ≥ 98 %, zero 429s; \
                 `bench engine`, {date}).",
                met(ok),
                f.recipients,
                f.wall_secs,
                f.rate,
                f.share * 100.0,
                f.share_strict * 100.0,
                f.throttled,
                f.missing,
                f.duplicates
            ),
        );
    }
    if !report.latency.is_empty() && report.fanout.is_some() {
        doc = doc.replace(
            "- Event → message latency, 10,000-recipient fan-out, RSS at 1,000 events/s,\n  1,000-row map edit: not measured yet.",
            "- 1,000-row map edit: not measured yet.",
        );
    }
    if let Err(err) = std::fs::write(&path, doc) {
        eprintln!("cannot write {}: {err}", path.display());
    }
}

/// Replaces the bench's part of the section starting at `heading` (up to
/// the end of its table; the notes below stay), or inserts the section
/// before the first of `before` present, else at the end.
fn replace_section(doc: &str, heading: &str, section: &str, before: &[&str]) -> String {
    if let Some(replaced) = doc_section::replace_generated(doc, heading, section) {
        return replaced;
    }
    for next in before {
        if let Some(at) = doc.find(next) {
            return format!("{}{}{}", &doc[..at], section, &doc[at..]);
        }
    }
    format!("{}\n\n{}", doc.trim_end(), section)
}

/// Replaces the status bullet starting with `prefix` (up to the next bullet,
/// blank line or section), or adds it as the first bullet of the status
/// section (creating the section if needed).
fn replace_bullet(doc: &str, prefix: &str, bullet: &str) -> String {
    let wrapped = wrap(bullet);
    if let Some(start) = doc.find(prefix) {
        let rest = &doc[start + prefix.len()..];
        let end = ["\n- ", "\n\n", "\n## "]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
            .map(|i| start + prefix.len() + i + 1)
            .unwrap_or(doc.len());
        return format!("{}{}\n{}", &doc[..start], wrapped, &doc[end..]);
    }
    let Some(at) = doc.find(STATUS_HEADING) else {
        return format!("{}\n\n{STATUS_HEADING}\n\n{wrapped}\n", doc.trim_end());
    };
    // Before the "not measured yet" bullet of the section, else at its end.
    let section_end = doc[at + 1..].find("\n## ").map(|i| at + 1 + i + 1).unwrap_or(doc.len());
    let section = &doc[at..section_end];
    let insert = match section.rfind("\n- ").filter(|i| section[*i..].contains("not measured yet")) {
        Some(i) => at + i + 1,
        None => {
            let body_end = at + section.trim_end().len();
            let sep = if section_end < doc.len() { "\n\n" } else { "\n" };
            return format!("{}\n{wrapped}{sep}{}", &doc[..body_end], doc[body_end..].trim_start_matches('\n'));
        }
    };
    format!("{}{}\n{}", &doc[..insert], wrapped, &doc[insert..])
}

/// Wraps a bullet at about 76 columns with a two-space hanging indent.
fn wrap(bullet: &str) -> String {
    let mut lines = vec![String::new()];
    for word in bullet.split(' ') {
        let line = lines.last_mut().expect("a line");
        if line.is_empty() {
            line.push_str(word);
        } else if line.chars().count() + 1 + word.chars().count() > 76 {
            lines.push(format!("  {word}"));
        } else {
            line.push(' ');
            line.push_str(word);
        }
    }
    lines.join("\n")
}
