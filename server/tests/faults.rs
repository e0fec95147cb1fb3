//! Faults from SPEC §9, against the real `comops` process and
//! protocol-faithful fakes: the process killed mid fan-out, the messenger
//! down, the business system down, PostgreSQL restarted under load.
//!
//! "Exactly once" for messages is what docs/decisions.md settles: nobody
//! gets a message twice, every message not interrupted is delivered, and a
//! message interrupted mid-send by a crash is a dead letter (never resent),
//! bounded by what was in flight.

mod support;

use comops_fakes::{FakeCrm, FakeTelegram, Limits, Outage};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::fanout::{FanOut, TOKEN};
use support::TestServer;

/// A short send lease, so the restarted process finds the interrupted
/// sends within seconds (the default is 30 s).
const LEASE: [&str; 2] = ["--send-lease-ms", "2000"];

/// `kill -9` while a fan-out of `members` is being paced out under
/// Telegram's limits, restart on the same database, and check that every
/// member got the message exactly once or holds an "interrupted" dead
/// letter, at most `in_flight_bound` of them.
async fn kill_mid_fan_out(database_url: String, members: usize, in_flight_bound: usize) {
    let started = Instant::now();
    let telegram = FakeTelegram::start(TOKEN).await;
    telegram.set_limits(Limits::telegram());
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let args = ["--demo-bots", "--telegram-api-base", base.as_str(), LEASE[0], LEASE[1]];
    let mut server = TestServer::start(database_url.clone(), dir.clone(), &args);
    let fan_out = FanOut::arrange(server.store().await, members).await;
    fan_out.call(&server.base, 1, &fan_out.family).await;
    // About two seconds into the ten: kill it.
    let before = telegram.wait_for_messages(60, Duration::from_secs(20)).await.len();
    assert!(before >= 60, "the fan-out did not start: {before} sent");
    server.kill9();
    let at_kill = telegram.sent().len();
    let restarted = TestServer::start(database_url, dir, &args);
    let settled = fan_out.settle(Duration::from_secs(45)).await;
    let interrupted = settled.check_exactly_once(&telegram, &fan_out.family, in_flight_bound);
    // Sends are 34 ms apart; on a loaded 2-core machine arrivals can bunch
    // by a few ms, which the strict window may count as a 31st message.
    // On SQLite the restarted process also cannot know what the dead one
    // sent in its last second (its clocks were in memory).
    assert!(telegram.throttled() <= support::JITTER_REFUSALS, "{} refusals: the budget was not kept", telegram.throttled());
    eprintln!(
        "kill -9 mid fan-out: {members} members, {at_kill} received before the kill, {} after, {interrupted} interrupted (bound {in_flight_bound}), {} × 429, {:.1} s",
        telegram.sent().len() - at_kill,
        telegram.throttled(),
        started.elapsed().as_secs_f64()
    );
    drop(restarted);
}

/// What may be `sending` when the process dies: the sends whose slots are
/// reserved ahead (30 msg/s × how far ahead) plus a few awaiting the Bot
/// API's answer. Claimed messages not yet given a slot go back to the
/// queue instead.
const fn in_flight_bound(reserve_ahead_ms: usize) -> usize {
    30 * reserve_ahead_ms / 1000 + 5
}

#[tokio::test]
async fn a_kill_9_mid_fan_out_on_sqlite_sends_nobody_anything_twice() {
    let dir = support::scratch_dir();
    // In-memory clocks reserve up to a quarter of the 2 s lease ahead.
    kill_mid_fan_out(format!("sqlite://{}/comops.db", dir.display()), 300, in_flight_bound(500)).await;
}

#[tokio::test]
async fn a_kill_9_mid_fan_out_on_postgres_sends_nobody_anything_twice() {
    let Some(url) = comops_core::store::scratch::test_postgres("faults_kill").await else { return };
    // Shared clocks reserve up to 250 ms ahead.
    kill_mid_fan_out(url, 300, in_flight_bound(250)).await;
}

/// A fan-out of ten members while the Bot API is out for `outage`, with
/// a retry delay of 250 ms tripling: every member gets the message once,
/// after at least one failed attempt that the trace names (each retry's
/// reason is one of `reasons`, and the first of them occurs).
async fn outage_then_delivery(kind: Outage, outage: Duration, reasons: &[&str]) {
    let started = Instant::now();
    let telegram = FakeTelegram::start(TOKEN).await;
    telegram.set_limits(Limits::telegram());
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let server = TestServer::start(
        format!("sqlite://{}/comops.db", dir.display()),
        dir,
        &["--demo-bots", "--telegram-api-base", base.as_str(), "--send-retry-base-ms", "250"],
    );
    let fan_out = FanOut::arrange(server.store().await, 10).await;
    telegram.outage(kind, outage);
    fan_out.call(&server.base, 1, &fan_out.family).await;
    let settled = fan_out.settle(outage + Duration::from_secs(20)).await;
    assert_eq!(settled.check_exactly_once(&telegram, &fan_out.family, 0), 0, "nothing dead-lettered");
    let delivered_at = telegram.sent().iter().map(|m| m.at).min().unwrap();
    let attempts: i64 = sqlx::query_scalar("SELECT MIN(attempts) FROM outbox").fetch_one(fan_out.store.pool()).await.unwrap();
    assert!(attempts >= 2, "every message failed at least once before it went through ({attempts})");
    let retries: Vec<String> = sqlx::query_scalar("SELECT detail FROM trace_events WHERE step = 'messenger.send' AND status = 'retry'")
        .fetch_all(fan_out.store.pool())
        .await
        .unwrap();
    assert!(retries.len() >= 10, "{retries:?}");
    assert!(retries.iter().all(|r| reasons.iter().any(|reason| r.contains(reason))), "each retry names the failure ({reasons:?}): {retries:?}");
    assert!(retries.iter().any(|r| r.contains(reasons[0])), "{retries:?}");
    eprintln!(
        "{kind:?} for {outage:?}: first delivery {:.1} s after the start, {} retries, {:.1} s in all",
        delivered_at.duration_since(started).as_secs_f64(),
        retries.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn telegram_answering_502_for_a_while_is_retried_until_delivered() {
    outage_then_delivery(Outage::Status(502), Duration::from_secs(2), &["Telegram answered 502: Bad Gateway"]).await;
}

#[tokio::test]
async fn telegram_refusing_connections_for_a_while_is_retried_until_delivered() {
    // Connections the adapter already had open get 503 from the fake.
    outage_then_delivery(Outage::Refused, Duration::from_secs(2), &["sendMessage: ", "Telegram answered 503"]).await;
}

#[tokio::test]
async fn telegram_not_answering_is_timed_out_and_retried_until_delivered() {
    // The adapter waits 10 s for an answer; the fake is silent a little longer.
    // A try still waiting when the outage ends gets 504.
    outage_then_delivery(Outage::Silent, Duration::from_millis(10_500), &["sendMessage: no answer from Telegram within the timeout", "Telegram answered 504"])
        .await;
}

#[tokio::test]
async fn an_outage_longer_than_the_retries_leaves_a_readable_dead_letter_and_keeps_the_lead() {
    let telegram = FakeTelegram::start(TOKEN).await;
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    // 8 attempts 2, 6, 18 … 1,458 ms apart: the dead letter within ~3 s.
    let server = TestServer::start(
        format!("sqlite://{}/comops.db", dir.display()),
        dir,
        &["--demo-bots", "--telegram-api-base", base.as_str(), "--send-retry-base-ms", "2"],
    );
    let fan_out = FanOut::arrange(server.store().await, 1).await;
    let member = fan_out.family[0];
    telegram.outage(Outage::Status(502), Duration::from_secs(120));
    fan_out.call(&server.base, 1, &fan_out.family).await;
    let settled = fan_out.settle(Duration::from_secs(30)).await;
    assert_eq!(settled.open, 0, "{settled:?}");
    assert_eq!(settled.dead.get(&member).map(String::as_str), Some("Telegram answered 502: Bad Gateway (after 8 attempts)"));
    assert!(telegram.sent().is_empty());

    // The studio lists it with its reason.
    let admin = server.client();
    assert_eq!(admin.login(support::ADMIN_EMAIL, support::ADMIN_PASSWORD).await.status(), 200);
    let page: Value = admin.call("leads/dead-letters", &[("bot_id", "bot_fmlst"), ("offset", "0")]).await.json().await.unwrap();
    let letter = &page["letters"][0];
    assert_eq!(letter["last_error"], "Telegram answered 502: Bad Gateway (after 8 attempts)", "{page}");
    assert_eq!(letter["attempts"], 8);
    assert_eq!(letter["chat_id"], member.to_string());

    // The lead is not lost: still active and reachable, its run finished.
    let lead = format!("TG-{member}");
    assert_eq!(fan_out.store.leads_of_user(&fan_out.bot, &member.to_string()).await.unwrap(), [lead.clone()], "the address stays active");
    let status: String = sqlx::query_scalar("SELECT status FROM leads WHERE id = $1").bind(&lead).fetch_one(fan_out.store.pool()).await.unwrap();
    assert_eq!(status, "active");
    let runs: Vec<String> = sqlx::query_scalar("SELECT status FROM runs").fetch_all(fan_out.store.pool()).await.unwrap();
    assert_eq!(runs, ["done"]);

    // Telegram is back; an operator re-drives the letter and it arrives once.
    telegram.recover();
    let id = letter["id"].as_str().unwrap();
    let redrive = admin.call("leads/redrive", &[("bot_id", "bot_fmlst"), ("message_id", id)]).await;
    assert_eq!(redrive.status(), 200);
    let settled = fan_out.settle(Duration::from_secs(10)).await;
    assert_eq!(settled.check_exactly_once(&telegram, &fan_out.family, 0), 0);
}

/// The registration loop's callback: the CRM confirms the user (`retries`:
/// 2, so up to three tries), then Telegram greets by the CRM's name, or
/// apologises on the `on_error` path. Returns the run's trace of the step.
async fn registration_against(crm_url: &str, telegram: &FakeTelegram) -> (Vec<(String, String)>, String) {
    registration_with(crm_url, telegram, &[]).await
}

/// [`registration_against`] with more arguments for `comops serve`.
async fn registration_with(crm_url: &str, telegram: &FakeTelegram, extra: &[&str]) -> (Vec<(String, String)>, String) {
    let base = telegram.base_url();
    let dir = support::scratch_dir();
    let mut args = vec!["--demo-bots", "--telegram-api-base", base.as_str()];
    args.extend_from_slice(extra);
    let server = TestServer::start(format!("sqlite://{}/comops.db", dir.display()), dir, &args);
    let fan_out = FanOut::arrange(server.store().await, 1).await;
    let (store, bot) = (&fan_out.store, &fan_out.bot);
    store.set_bot_channel(bot, "secrets", &json!({"crm_url": crm_url})).await.unwrap();
    let scenario: comops_core::scenario::Scenario = serde_json::from_value(json!({
        "name": "post_notice", "start": "confirm",
        "steps": [
            {"id": "confirm", "type": "http", "method": "POST", "url": "{{ secrets.crm_url }}/api/user/confirm",
             "body": "{\"userId\": \"{{ params.postId }}\"}", "save_as": "crm", "timeout_ms": 2000, "retries": 2,
             "next": "welcome", "on_error": "sorry"},
            {"id": "welcome", "type": "message", "text": "Добро пожаловать, {{ vars.crm.json.name }}!", "next": "done"},
            {"id": "sorry", "type": "message", "text": "Не получилось активировать кабинет, мы уже разбираемся.", "next": "failed"},
            {"id": "done", "type": "end", "goal": "registered"},
            {"id": "failed", "type": "end"}
        ]
    }))
    .unwrap();
    scenario.validate().unwrap();
    store.save_scenario(bot, &scenario, "v2", "t").await.unwrap();
    fan_out.call(&server.base, 125, &fan_out.family).await;
    let sent = telegram.wait_for_messages(1, Duration::from_secs(20)).await;
    assert_eq!(sent.len(), 1, "the lead hears back either way");
    let run: (String, String) = sqlx::query_as("SELECT status, trace_id FROM runs").fetch_one(store.pool()).await.unwrap();
    assert_eq!(run.0, "done");
    let hops: Vec<(String, String)> = sqlx::query_as("SELECT status, detail FROM trace_events WHERE trace_id = $1 AND step = 'callback.http' ORDER BY at, id")
        .bind(&run.1)
        .fetch_all(store.pool())
        .await
        .unwrap();
    (hops, sent[0].text.clone())
}

#[tokio::test]
async fn a_crm_failing_twice_is_retried_as_the_step_declares_and_the_run_goes_on() {
    let crm = FakeCrm::start().await;
    crm.respond("POST", "/api/user/confirm", 200, json!({"userId": 125, "name": "Анна", "active": true}));
    crm.fail_next("/api/user/confirm", 2, 503);
    let telegram = FakeTelegram::start(TOKEN).await;
    let (hops, text) = registration_against(&crm.base_url(), &telegram).await;
    assert_eq!(text, "Добро пожаловать, Анна!");
    let host = crm.base_url().trim_start_matches("http://").to_string();
    assert_eq!(hops, [
        ("fail".to_string(), format!("POST {host} → 503 (attempt 1 of 3)")),
        ("fail".to_string(), format!("POST {host} → 503 (attempt 2 of 3)")),
        ("success".to_string(), format!("POST {host} → 200 (attempt 3 of 3)")),
    ]);
    let requests = crm.requests();
    assert_eq!(requests.len(), 3);
    let keys: Vec<_> = requests.iter().map(|r| r.header("idempotency-key").unwrap().to_string()).collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one idempotency key for the retries of a step: {keys:?}");
}

#[tokio::test]
async fn a_crm_that_is_down_takes_the_on_error_path_after_every_retry() {
    // A port nobody listens on: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let telegram = FakeTelegram::start(TOKEN).await;
    let (hops, text) = registration_against(&url, &telegram).await;
    assert_eq!(text, "Не получилось активировать кабинет, мы уже разбираемся.");
    let host = url.trim_start_matches("http://");
    assert_eq!(hops, (1..=3).map(|n| ("fail".to_string(), format!("POST {host}: connection failed (attempt {n} of 3)"))).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_crm_that_does_not_answer_times_out_on_every_try_then_takes_the_on_error_path() {
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let telegram = FakeTelegram::start(TOKEN).await;
    let (hops, text) = registration_against(&url, &telegram).await;
    assert_eq!(text, "Не получилось активировать кабинет, мы уже разбираемся.");
    let host = url.trim_start_matches("http://");
    assert_eq!(hops, (1..=3).map(|n| ("fail".to_string(), format!("POST {host}: timed out (attempt {n} of 3)"))).collect::<Vec<_>>());
    held.abort();
}

#[tokio::test]
async fn an_http_step_longer_than_the_run_lease_is_not_taken_over_and_repeated() {
    // The step may take 3 × 2 s plus pauses, three times a 2 s run lease:
    // the advance extends its lease first, so no other pass of the
    // executor claims the run meanwhile and calls the CRM again.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let held = {
        let connections = connections.clone();
        tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                open.push(socket);
            }
        })
    };
    let telegram = FakeTelegram::start(TOKEN).await;
    let (hops, text) = registration_with(&url, &telegram, &["--run-lease-ms", "2000"]).await;
    assert_eq!(text, "Не получилось активировать кабинет, мы уже разбираемся.");
    let host = url.trim_start_matches("http://");
    assert_eq!(hops, (1..=3).map(|n| ("fail".to_string(), format!("POST {host}: timed out (attempt {n} of 3)"))).collect::<Vec<_>>());
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 3, "one call series, not one per lease");
    assert_eq!(telegram.sent().len(), 1, "one apology");
    held.abort();
}

/// A PostgreSQL cluster of this test's own (the machine's shared server
/// must never be restarted): `initdb` into a temporary folder, trust
/// auth, a free port, started and stopped with `pg_ctl` — as the
/// `postgres` OS user when the test runs as root (PostgreSQL refuses to
/// run as root).
struct OwnPostgres {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    as_postgres: bool,
}

impl OwnPostgres {
    /// `None` (with a note) when no PostgreSQL binaries are installed;
    /// with `CI=true` that is a failure instead.
    fn start() -> Option<Self> {
        let mut bins: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists() && b.join("pg_ctl").exists())
            .collect();
        bins.sort();
        let Some(bin) = bins.pop() else {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but no PostgreSQL binaries under /usr/lib/postgresql/*/bin");
            eprintln!("no PostgreSQL binaries under /usr/lib/postgresql/*/bin; skipping the PostgreSQL restart test");
            return None;
        };
        let as_postgres = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let data = support::scratch_dir().join("pg");
        std::fs::create_dir_all(&data).unwrap();
        if as_postgres {
            let owned = std::process::Command::new("chown").args(["-R", "postgres:postgres"]).arg(data.parent().unwrap()).status().unwrap();
            assert!(owned.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = OwnPostgres { bin, data, port, as_postgres };
        pg.run("initdb", &["-D", &pg.data.display().to_string(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        pg.up();
        Some(pg)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `tool` of this PostgreSQL, as the `postgres` user when we are root.
    fn command(&self, tool: &str) -> std::process::Command {
        let program = self.bin.join(tool);
        if self.as_postgres {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            std::process::Command::new(program)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert!(output.status.success(), "{tool} {args:?}: {}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    }

    /// Starts the server on its port and waits until it accepts connections.
    fn up(&self) {
        let data = self.data.display().to_string();
        let options = format!("-p {} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=100", self.port);
        self.run("pg_ctl", &["-D", &data, "-l", &format!("{data}/server.log"), "-o", &options, "-w", "-t", "60", "start"]);
    }

    /// Stops the server: `fast` disconnects every session and shuts down
    /// cleanly, `immediate` quits like a crash (recovery at the next start).
    fn down(&self, mode: &str) {
        self.run("pg_ctl", &["-D", &self.data.display().to_string(), "-m", mode, "-w", "stop"]);
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["-D", &self.data.display().to_string(), "-m", "immediate", "stop"]).output();
        let _ = std::fs::remove_dir_all(self.data.parent().unwrap());
    }
}

/// What one business call got, after waiting out any 503s.
#[derive(Debug)]
struct CallLog {
    /// Answers before the 200: each a 503 with a JSON error and Retry-After.
    unavailable: usize,
    slowest: Duration,
}

/// A business system that calls `post/new` for one member at a time with
/// an `Idempotency-Key`, and on 503 honours `Retry-After` (capped at 1 s)
/// and sends the same request again, as SPEC §3 lets it. Anything but 200
/// or a well-formed 503 fails the test.
async fn call_until_accepted(base: &str, token: &str, n: usize, member: i64) -> CallLog {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut log = CallLog { unavailable: 0, slowest: Duration::ZERO };
    loop {
        let started = Instant::now();
        let answer = http
            .post(format!("{base}/bots/bot_fmlst/call/{}", support::fanout::ALIAS))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("post-{n}"))
            .json(&json!({"postId": n, "userIds": [member]}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("call {n}: no answer: {e}"));
        log.slowest = log.slowest.max(started.elapsed());
        let status = answer.status().as_u16();
        let retry_after = answer.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let body: Value = answer.json().await.unwrap_or_else(|e| panic!("call {n}: {status} without a JSON body: {e}"));
        match status {
            200 => {
                assert_eq!(body["success"], true, "{body}");
                return log;
            }
            503 => {
                assert_eq!(body["success"], false, "{body}");
                assert!(body["message"].as_str().is_some_and(|m| m.contains("retry")), "a readable reason: {body}");
                let wait = retry_after.unwrap_or_else(|| panic!("503 without Retry-After: {body}"));
                log.unavailable += 1;
                tokio::time::sleep(Duration::from_secs(wait).min(Duration::from_secs(1))).await;
            }
            other => panic!("call {n}: {other} {body}"),
        }
    }
}

#[tokio::test]
async fn postgres_restarted_under_load_is_recovered_without_anyone_stepping_in() {
    let Some(pg) = OwnPostgres::start() else { return };
    let started = Instant::now();
    let telegram = FakeTelegram::start(TOKEN).await;
    telegram.set_limits(Limits::telegram());
    let base = telegram.base_url();
    let server = TestServer::start(pg.url(), support::scratch_dir(), &["--demo-bots", "--telegram-api-base", base.as_str()]);
    let fan_out = FanOut::arrange(server.store().await, 120).await;
    // The CMS posts one notice every 50 ms while PostgreSQL goes down
    // twice: a clean fast shutdown, then an immediate one (like a crash,
    // with recovery at the next start).
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let caller = {
        let (base, token, family) = (server.base.clone(), fan_out.token.clone(), fan_out.family.clone());
        tokio::spawn(async move {
            let mut logs = Vec::new();
            for (n, member) in family.into_iter().enumerate() {
                logs.push(call_until_accepted(&base, &token, n, member).await);
                let _ = done_tx.send(n);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            logs
        })
    };
    let mut outages = Vec::new();
    // The second outage outlasts the pool's 10 s wait for a connection.
    for (after, mode, outage) in [(20, "fast", Duration::from_secs(3)), (60, "immediate", Duration::from_secs(12))] {
        while let Some(n) = done_rx.recv().await {
            if n + 1 >= after {
                break;
            }
        }
        let down = Instant::now();
        pg.down(mode);
        tokio::time::sleep(outage).await;
        pg.up();
        outages.push((mode, down.elapsed()));
    }
    let logs = caller.await.unwrap();
    let unavailable: usize = logs.iter().map(|l| l.unavailable).sum();
    let slowest = logs.iter().map(|l| l.slowest).max().unwrap();
    // Each database step of a call waits at most 10 s for a connection.
    assert!(slowest < Duration::from_secs(25), "a call waited {slowest:?}");
    assert!(unavailable > 0, "the long outage was answered 503");

    // Everything accepted is delivered once, and no run is left behind.
    let settled = fan_out.settle(Duration::from_secs(45)).await;
    settled.check_exactly_once(&telegram, &fan_out.family, 0);
    let runs: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM runs GROUP BY status").fetch_all(fan_out.store.pool()).await.unwrap();
    assert_eq!(runs, [("done".to_string(), 120)], "every run finished");
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(fan_out.store.pool()).await.unwrap();
    assert_eq!(events, 120, "one event per notice, retries included");
    assert_eq!(telegram.throttled(), 0);
    // A call after the restarts is answered at once.
    let after = Instant::now();
    fan_out.call(&server.base, 999, &fan_out.family[..1]).await;
    assert!(after.elapsed() < Duration::from_secs(2));
    eprintln!(
        "PostgreSQL restarts {outages:?}: {unavailable} answers were 503, the slowest call took {slowest:?}; {:.1} s in all",
        started.elapsed().as_secs_f64()
    );
}

/// While PostgreSQL is down the studio says so — a call answers 503 with
/// `Unavailable`, a page a short notice — instead of a 500, or of taking
/// the person for logged out; when it is back, the same session goes on.
#[tokio::test]
async fn the_studio_says_the_database_is_unavailable_and_keeps_the_session() {
    let Some(pg) = OwnPostgres::start() else { return };
    let server = TestServer::start(pg.url(), support::scratch_dir(), &["--demo"]);
    let admin = server.client();
    assert_eq!(admin.login(support::ADMIN_EMAIL, support::ADMIN_PASSWORD).await.status(), 200);
    assert_eq!(admin.call("projects/list", &[]).await.status(), 200);

    pg.down("fast");
    let call = admin.call("projects/list", &[]).await;
    assert_eq!(call.status(), 503);
    assert!(call.headers().contains_key("retry-after"));
    assert_eq!(call.json::<Value>().await.unwrap(), json!("Unavailable"));
    let page = admin.http.get(format!("{}/projects", server.base)).header("Accept-Language", "ru").send().await.unwrap();
    assert_eq!(page.status(), 503, "not a redirect to the login page");
    assert!(page.text().await.unwrap().contains("База данных сейчас недоступна"));

    pg.up();
    let back = Instant::now();
    loop {
        let call = admin.call("projects/list", &[]).await;
        if call.status() == 200 {
            break;
        }
        assert_eq!(call.status(), 503);
        assert!(back.elapsed() < Duration::from_secs(30), "the studio did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
