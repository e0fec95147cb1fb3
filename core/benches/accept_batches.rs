//! Benchmark: what a batch of accepted calls costs on SQLite by its size,
//! with nothing else running — no HTTP, no engine, one caller.
//!
//! `cargo bench -p comops-core --features backend --bench accept_batches`
//! makes a fresh SQLite store with the demo bots, one endpoint and one
//! linked user (as `call_api`'s), then for each batch size accepts
//! `COMOPS_BENCH_CALLS` calls (default 40,000; `COMOPS_BENCH_BATCHES=25,50`
//! for other sizes than [`BATCHES`]) through
//! `Store::accept_events`, batch after batch, and prints per call the wall
//! time and the CPU of the caller's thread and of sqlx's SQLite connection
//! threads (from `/proc/self/task`). It shows how much of the durable
//! accept is SQLite's own work and how it falls with the batch, the
//! group commit's size under load (docs/benchmarks.md).

use comops_core::call::Recipients;
use comops_core::endpoint::EndpointDraft;
use comops_core::store::events::{NewEvent, Recipient};
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::{BotId, Endpoint, EventId, TokenId, TraceEvent, TraceId};
use std::collections::HashMap;
use std::time::Instant;

const BATCHES: [usize; 7] = [1, 4, 10, 25, 50, 100, 200];

/// CPU seconds of this process's threads so far, summed by thread name.
fn cpu_by_thread() -> HashMap<String, f64> {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut cpu = HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_string();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the name's closing parenthesis: utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
        let used: f64 = [11, 12].iter().filter_map(|i| fields.get(*i)?.parse::<f64>().ok()).sum();
        *cpu.entry(name).or_insert(0.0) += used / ticks;
    }
    cpu
}

/// One call as `call/{alias}` would accept it.
fn call(bot: &BotId, endpoint: &Endpoint, token: &TokenId, leads: &[Recipient], n: usize) -> NewEvent {
    let params = serde_json::from_str(&format!("{{\"orderId\": {n}, \"userId\": \"125\", \"status\": \"shipped\"}}")).expect("params");
    NewEvent {
        id: EventId::ordered(comops_core::store::now_millis()),
        bot: bot.clone(),
        endpoint: endpoint.clone(),
        token: token.clone(),
        trace: TraceEvent {
            id: String::new(),
            trace_id: TraceId::generate().to_string(),
            source_system: "bench".into(),
            bot_id: bot.to_string(),
            endpoint: endpoint.alias.to_string(),
            user_id: "125".into(),
            lead_id: leads.first().map(|l| l.lead_id.clone()).unwrap_or_default(),
            step: "api.call".into(),
            status: "success".into(),
            http_status: 200,
            latency_ms: 1,
            dry_run: false,
            detail: format!("accepted; scenario {}; 1 lead(s), 0 unresolved", endpoint.scenario),
            at: 0,
        },
        params,
        recipients: Recipients::Users(vec!["125".into()]),
        leads: leads.to_vec(),
        idempotency: None,
        http_status: 200,
        response_body: String::new(),
        hand_off_ms: None,
    }
}

fn main() {
    let calls: usize = std::env::var("COMOPS_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(40_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("comops-accept-batches-{}", std::process::id()));
        let store = Store::connect(&format!("sqlite://{}/comops.db", dir.display())).await.expect("store");
        store.migrate().await.expect("migrate");
        comops_core::demo::seed(&store, false).await.expect("demo bots");
        let bot = BotId::parse("bot_shop").expect("bot id");
        let draft = EndpointDraft { alias: "order/status".into(), scenario: "order_status".into(), enabled: true, ..Default::default() };
        let endpoint = store.create_endpoint(&bot, &draft.validate().expect("valid")).await.expect("endpoint");
        store.link_identity(&bot, &IdentityLink::telegram("125", "TG-125", "125", "bench")).await.expect("link");
        let draft = TokenDraft { name: "bench".into(), actions: vec![TokenAction::Call], ..Default::default() };
        let (token, _) = store.issue_token(&draft.validate().expect("valid"), "bench").await.expect("token");
        let leads: Vec<Recipient> =
            store.leads_of_user(&bot, "125").await.expect("leads").into_iter().map(|lead_id| Recipient { lead_id, user_id: "125".into() }).collect();
        let caller = std::fs::read_to_string("/proc/thread-self/comm").unwrap_or_default().trim().to_string();

        println!("| calls a batch | calls | wall per call | calls a second | SQLite's threads, CPU per call | the caller's thread, CPU per call |\n|---:|---:|---:|---:|---:|---:|");
        let batches: Vec<usize> = match std::env::var("COMOPS_BENCH_BATCHES") {
            Ok(sizes) => sizes.split(',').filter_map(|size| size.trim().parse().ok()).filter(|size| *size > 0).collect(),
            Err(_) => BATCHES.to_vec(),
        };
        let mut n = 0;
        for batch in batches {
            let rounds = (calls / batch).max(1);
            // `rounds` batches of calls, each call numbered anew.
            let mut calls_in = |rounds: usize| -> Vec<Vec<NewEvent>> {
                (0..rounds).map(|_| (0..batch).map(|_| { n += 1; call(&bot, &endpoint, &token.id, &leads, n) }).collect()).collect()
            };
            // A warm-up of a tenth, then the measured calls, made beforehand.
            for events in calls_in(rounds / 10 + 1) {
                for accepted in store.accept_events(&events).await {
                    accepted.expect("accepted");
                }
            }
            let measured = calls_in(rounds);
            let (before, start) = (cpu_by_thread(), Instant::now());
            for events in &measured {
                for accepted in store.accept_events(events).await {
                    accepted.expect("accepted");
                }
            }
            let (wall, after) = (start.elapsed().as_secs_f64(), cpu_by_thread());
            let used = |name: &str| after.iter().filter(|(t, _)| t.starts_with(name)).map(|(t, s)| s - before.get(t).copied().unwrap_or(0.0)).sum::<f64>();
            let done = (rounds * batch) as f64;
            println!(
                "| {batch} | {} | {:.1} µs | {:.0} | {:.1} µs | {:.1} µs |",
                rounds * batch,
                wall * 1e6 / done,
                done / wall,
                used("sqlx-sqlite-wor") * 1e6 / done,
                used(&caller) * 1e6 / done
            );
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
