//! What an all-time call figure costs on a long trace log, before and
//! after the calls are tallied (`call_tallies`): a map row's figures
//! (`Store::endpoint_figures(…, 0)`, read when a communication map opens)
//! and `/metrics` (`Store::metric_families`), then the tally and the
//! purge themselves.
//!
//! `cargo bench -p comops-core --features backend --bench figures`;
//! `COMOPS_BENCH_CALLS` (default 250,000 calls, four traces each, spread
//! over 90 days, 2 bots × 25 endpoints), `COMOPS_BENCH_DB=postgres` for a
//! scratch database beside `COMOPS_TEST_PG_URL`'s. Prints a Markdown table.

use comops_core::store::{now_millis, Store};
use comops_core::BotId;
use std::time::Instant;

const DAY_MS: i64 = 86_400_000;
const BOTS: [&str; 2] = ["bot_shop", "bot_rehau"];
const ENDPOINTS: usize = 25;
/// The traces one call leaves: the call, the run's step, the message, an
/// http step calling out.
const STEPS: [&str; 4] = ["api.call", "scenario.step", "telegram.send", "callback.http"];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let calls: i64 = std::env::var("COMOPS_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(250_000);
    let store = match std::env::var("COMOPS_BENCH_DB").as_deref() {
        Ok("postgres") => {
            let url = comops_core::store::scratch::test_postgres("figures_bench").await.expect("COMOPS_TEST_PG_URL names a reachable PostgreSQL");
            Store::connect(&url).await.expect("connect")
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("comops-figures-bench-{}", std::process::id()));
            Store::connect(&format!("sqlite://{}/comops.db", dir.display())).await.expect("connect")
        }
    };
    store.migrate().await.expect("migrate");
    let project = store
        .create_project(&comops_core::project::ProjectDraft { name: "Bench".into(), slug: String::new(), description: String::new() }.validate().expect("draft"), None, None)
        .await
        .expect("project");
    for bot in BOTS {
        let draft = comops_core::bot::BotDraft { name: bot.into(), username: format!("{}_bot", bot.trim_start_matches("bot_")), description: String::new(), enabled: true };
        store.create_bot(&project.id, &draft.validate().expect("bot"), BotId::parse(bot)).await.expect("bot");
    }
    let bots: Vec<BotId> = BOTS.iter().filter_map(|b| BotId::parse(b)).collect();

    let now = now_millis();
    let started = Instant::now();
    fill(&store, calls, now).await;
    println!("{} traces written in {:.1} s", calls * STEPS.len() as i64, started.elapsed().as_secs_f64());
    if std::env::var("COMOPS_BENCH_DB").as_deref() == Ok("postgres") {
        // What autovacuum does soon after a load like this one; SQLite
        // keeps no statistics unless asked, and ComOps never asks.
        sqlx::query("ANALYZE trace_events").execute(store.pool()).await.expect("analyze");
    }

    // The all-time query as it was before `call_tallies`, for reference.
    let counted = timed(11, || async {
        sqlx::query_as::<_, (String, String, i64, i64, Option<i64>)>(
            "SELECT bot_id, endpoint, COUNT(*), SUM(CASE WHEN status = 'success' THEN 0 ELSE 1 END), MAX(at) FROM trace_events \
             WHERE step = 'api.call' AND dry_run = 0 AND at >= $1 AND bot_id IN ($2, $3) GROUP BY bot_id, endpoint ORDER BY bot_id, endpoint",
        )
        .bind(0_i64)
        .bind(BOTS[0])
        .bind(BOTS[1])
        .fetch_all(store.pool())
        .await
        .expect("old figures")
    })
    .await;
    let week_before = timed(11, || async { store.endpoint_figures(&bots, now - 7 * DAY_MS).await.expect("figures") }).await;
    let before_figures = timed(11, || async { store.endpoint_figures(&bots, 0).await.expect("figures") }).await;
    let before_metrics = timed(5, || async { store.metric_families(|_| true).await.expect("metrics") }).await;
    let expected = store.endpoint_figures(&bots, 0).await.expect("figures");

    let started = Instant::now();
    let mut passes = 1;
    while !store.roll_up_calls(now, comops_core::store::call_tallies::PASS_TRACES).await.expect("tally") {
        passes += 1;
    }
    let tally_s = started.elapsed().as_secs_f64();
    let after_figures = timed(11, || async { store.endpoint_figures(&bots, 0).await.expect("figures") }).await;
    let after_metrics = timed(5, || async { store.metric_families(|_| true).await.expect("metrics") }).await;
    assert_eq!(store.endpoint_figures(&bots, 0).await.expect("figures"), expected, "tallying changes no figure");

    let started = Instant::now();
    let purged = store.purge_traces(now - 30 * DAY_MS).await.expect("purge");
    let purge_s = started.elapsed().as_secs_f64();
    assert_eq!(store.endpoint_figures(&bots, 0).await.expect("figures"), expected, "purging changes no figure");

    println!();
    println!("| {} calls ({} traces, 90 days) | before tallying | after |", calls, calls * STEPS.len() as i64);
    println!("|---|---:|---:|");
    println!("| endpoint figures, all time (p50 of 11) | {before_figures:.1} ms | {after_figures:.1} ms |");
    println!("| endpoint figures, last 7 days (the loop overlay; p50 of 11) | {week_before:.1} ms | (same query) |");
    println!("| the all-time query before `call_tallies` (p50 of 11) | {counted:.1} ms | |");
    println!("| `/metrics` families (p50 of 5) | {before_metrics:.1} ms | {after_metrics:.1} ms |");
    println!();
    println!("First tally of the whole log: {tally_s:.1} s in {passes} passes; purge of the traces older than 30 days: {purged} traces in {purge_s:.1} s.");
}

/// Median milliseconds of `runs` runs of `work`.
async fn timed<F, Fut, T>(runs: usize, work: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        std::hint::black_box(work().await);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// `calls` calls evenly over the 90 days before `now`, four traces each,
/// one in twenty failed; written as multi-row INSERTs.
async fn fill(store: &Store, calls: i64, now: i64) {
    let span = 90 * DAY_MS;
    let per_row = 8;
    let rows_per_insert = 100;
    let mut pending: Vec<(String, String, &str, String, &str, &str, i64)> = Vec::new();
    for call in 0..calls {
        let at = now - span + call * span / calls;
        let bot = BOTS[(call % 2) as usize];
        let endpoint = format!("order/step-{}", call % ENDPOINTS as i64);
        let status = if call % 20 == 0 { "fail" } else { "success" };
        for (n, step) in STEPS.iter().enumerate() {
            pending.push((format!("{at:013x}{call:010x}{n}"), format!("{call:032x}"), bot, endpoint.clone(), step, status, at + n as i64));
        }
        if pending.len() >= rows_per_insert * 10 || call == calls - 1 {
            let mut tx = store.pool().begin().await.expect("begin");
            for chunk in pending.chunks(rows_per_insert) {
                let values = (0..chunk.len())
                    .map(|r| format!("({})", (1..=per_row).map(|c| format!("${}", r * per_row + c)).collect::<Vec<_>>().join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!("INSERT INTO trace_events (id, trace_id, bot_id, endpoint, step, status, dry_run, at) VALUES {values}");
                let mut query = sqlx::query(&sql);
                for (id, trace, bot, endpoint, step, status, at) in chunk {
                    query = query.bind(id.clone()).bind(trace.clone()).bind(*bot).bind(endpoint.clone()).bind(*step).bind(status).bind(0_i64).bind(*at);
                }
                query.execute(&mut *tx).await.expect("insert");
            }
            tx.commit().await.expect("commit");
            pending.clear();
        }
    }
}
