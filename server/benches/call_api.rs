//! Benchmark: durable accept rate of `POST /bots/{botId}/call/{alias}`
//! next to a bare axum JSON handler, measured in the same run on the same
//! machine (SPEC §9: ≥ 30 % of bare axum, p99 < 10 ms).
//!
//! `cargo bench -p comops-server --bench call_api` starts the release
//! `comops` binary on a fresh SQLite database (and on PostgreSQL when
//! reachable), and a bare axum server as a second process (this binary
//! re-executed), then drives each over loopback with `CONNECTIONS`
//! keep-alive HTTP/1.1 connections for `COMOPS_BENCH_SECS` seconds and
//! writes the figures to docs/benchmarks.md. `COMOPS_BENCH_BIN=path/to/comops`
//! runs another build of `comops` instead (an A/B on one machine);
//! `COMOPS_BENCH_CONNECTIONS=n` drives it with n connections instead (the
//! table is then not written: SPEC §9's figure is at 64).
//! `COMOPS_BENCH_LOADGEN=wrk` drives every target with Debian's `wrk`
//! (2 threads, the same connections, one fixed request) instead of the
//! bench's own generator — SPEC §9's bare-axum figure was taken with
//! wrk — and writes its own section.
//! Every load is bounded in time and only targets 127.0.0.1.

use comops_core::endpoint::EndpointDraft;
use comops_core::store::identities::IdentityLink;
use comops_core::store::Store;
use comops_core::token::{TokenAction, TokenDraft};
use comops_core::BotId;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 64;

/// The connections each load keeps open: [`CONNECTIONS`] unless
/// `COMOPS_BENCH_CONNECTIONS` says otherwise.
fn connections() -> usize {
    std::env::var("COMOPS_BENCH_CONNECTIONS").ok().and_then(|n| n.parse().ok()).filter(|n| *n > 0).unwrap_or(CONNECTIONS)
}

#[path = "support/server_use.rs"]
mod server_use;

#[path = "support/doc_section.rs"]
mod doc_section;

#[path = "support/wrk.rs"]
mod wrk;

/// Whether `COMOPS_BENCH_LOADGEN=wrk` asks for wrk as the load generator.
fn by_wrk() -> bool {
    std::env::var("COMOPS_BENCH_LOADGEN").is_ok_and(|gen| gen == "wrk")
}

/// The body every call sends (wrk sends this one; the bench's own
/// generator varies the order id).
const BODY: &str = "{\"orderId\": 1, \"userId\": \"125\", \"status\": \"shipped\"}";

fn main() {
    if std::env::var("COMOPS_BENCH_BARE").is_ok() {
        return bare_axum();
    }
    let secs: u64 = std::env::var("COMOPS_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(run(Duration::from_secs(secs)));
}

/// A bare axum server answering `{"success": true}` to JSON POSTs.
fn bare_axum() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        async fn handler(axum::Json(_body): axum::Json<serde_json::Value>) -> axum::Json<serde_json::Value> {
            axum::Json(serde_json::json!({ "success": true, "message": "ok" }))
        }
        let app = axum::Router::new().route("/call", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("comops listening on http://{}", listener.local_addr().expect("addr"));
        axum::serve(listener, app).await.expect("serve");
    });
}

#[derive(Clone)]
struct Target {
    name: String,
    host: String,
    path: String,
    token: Option<String>,
    /// Send `X-Dry-Run: true` (validation, lookups, the preview; only a trace written).
    dry_run: bool,
    /// A token that may read comops's `/metrics` (the write lane's use).
    metrics: Option<String>,
    process: Arc<ChildGuard>,
}

/// A server process, killed when dropped; the folders it wrote
/// (its data, its SQLite database) are removed once it has ended.
struct ChildGuard(Child, Vec<std::path::PathBuf>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        for dir in &self.1 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Spawns a server process and waits for its "listening on" line.
fn spawn(mut command: Command) -> (ChildGuard, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("comops listening on http://") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let host = rx.recv_timeout(Duration::from_secs(60)).expect("server did not start");
    (ChildGuard(child, Vec::new()), host)
}

/// comops serving `database_url`; `scratch` (the SQLite database's
/// folder) goes with its data folder when the process ends.
async fn comops_target(name: &str, database_url: String, scratch: Option<std::path::PathBuf>) -> Target {
    let dir = std::env::temp_dir().join(format!("comops-bench-{}", comops_core::auth::new_secret().0.split_at(12).0));
    // Another build of comops under the same load (an A/B of two commits).
    let binary = std::env::var_os("COMOPS_BENCH_BIN").map(std::path::PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_comops").into());
    let mut command = Command::new(binary);
    command
        .args(["serve", "--demo-bots", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &database_url)
        .env("COMOPS_DATA_DIR", &dir)
        .env("COMOPS_ADMIN_PASSWORD", "bench-admin-password")
        .env("RUST_LOG", "error");
    let (mut child, host) = spawn(command);
    child.1.push(dir);
    child.1.extend(scratch);
    let store = Store::connect(&database_url).await.expect("store");
    let shop = BotId::parse("bot_shop").expect("bot id");
    let draft = EndpointDraft { alias: "order/status".into(), scenario: "order_status".into(), enabled: true, ..Default::default() };
    store.create_endpoint(&shop, &draft.validate().expect("valid")).await.expect("endpoint");
    let link = IdentityLink::telegram("125", "TG-125", "125", "bench");
    store.link_identity(&shop, &link).await.expect("link");
    let token = TokenDraft { name: "bench".into(), actions: vec![TokenAction::Call], ..Default::default() };
    let (_, secret) = store.issue_token(&token.validate().expect("valid"), "bench").await.expect("token");
    let metrics = server_use::metrics_token(&store).await;
    store.close().await;
    Target {
        name: name.into(),
        host,
        path: "/bots/bot_shop/call/order/status".into(),
        token: Some(secret),
        dry_run: false,
        metrics: Some(metrics),
        process: Arc::new(child),
    }
}

struct Figures {
    requests: usize,
    errors: usize,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The server process's CPU time (user + system) per answered request.
    cpu_us: f64,
}

/// Drives `target` with keep-alive connections for `duration`, by wrk
/// when asked ([`by_wrk`]), else by the bench's own generator.
async fn load(target: &Target, duration: Duration) -> Figures {
    if by_wrk() {
        let target = target.clone();
        return tokio::task::spawn_blocking(move || load_by_wrk(&target, duration)).await.expect("wrk task");
    }
    load_own(target, duration).await
}

/// Runs `wrk -t2 -c<connections> --latency` against `target` for
/// `duration`; panics, saying why, when wrk is missing or failed.
fn load_by_wrk(target: &Target, duration: Duration) -> Figures {
    let server = target.process.0.id().to_string();
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if let Some(token) = &target.token {
        headers.push(("Authorization", format!("Bearer {token}")));
    }
    if target.dry_run {
        headers.push(("X-Dry-Run", "true".into()));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let script = std::env::temp_dir().join(format!("comops-bench-wrk-{}.lua", std::process::id()));
    std::fs::write(&script, wrk::script(BODY, &headers)).expect("write the wrk script");
    let cpu_start = server_use::cpu_secs(&server);
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{}", connections()), &format!("-d{}s", duration.as_secs().max(1)), "--latency", "-s"])
        .arg(&script)
        .arg(format!("http://{}{}", target.host, target.path))
        .output();
    let cpu = server_use::cpu_secs(&server) - cpu_start;
    let _ = std::fs::remove_file(&script);
    let output = output.expect("run wrk (Debian's package `wrk`)");
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(f) = wrk::parse(&text) else {
        panic!("wrk printed no figures:\n{text}\n{}", String::from_utf8_lossy(&output.stderr));
    };
    let answered = f.requests.max(1) as f64;
    Figures {
        requests: f.requests as usize,
        errors: (f.status_errors + f.socket_errors) as usize,
        per_sec: f.requests as f64 / f.duration_secs.max(1e-9),
        p50_ms: f.p50_ms,
        p99_ms: f.p99_ms,
        cpu_us: cpu * 1e6 / answered,
    }
}

/// The bench's own generator: one hyper client task per connection.
async fn load_own(target: &Target, duration: Duration) -> Figures {
    let server = target.process.0.id().to_string();
    let cpu_start = server_use::cpu_secs(&server);
    let target = Arc::new((target.host.clone(), target.path.clone(), target.token.clone(), target.dry_run));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for connection in 0..connections() {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let (host, path, token, dry_run) = &*target;
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let Ok(stream) = TcpStream::connect(host.as_str()).await else { return (latencies, 1) };
            let io = hyper_util::rt::TokioIo::new(stream);
            let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake::<_, Full<Bytes>>(io).await else {
                return (latencies, 1);
            };
            tokio::spawn(conn);
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let body = format!("{{\"orderId\": {}, \"userId\": \"125\", \"status\": \"shipped\"}}", connection as u64 * 1_000_000 + n);
                let mut request = hyper::Request::post(path.as_str())
                    .header("host", host.as_str())
                    .header("content-type", "application/json");
                if let Some(token) = token {
                    request = request.header("authorization", format!("Bearer {token}"));
                }
                if *dry_run {
                    request = request.header("x-dry-run", "true");
                }
                let request = request.body(Full::new(Bytes::from(body))).expect("request");
                let sent = Instant::now();
                match sender.send_request(request).await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let _ = response.into_body().collect().await;
                        latencies.push(sent.elapsed().as_micros() as u32);
                        if !ok {
                            errors += 1;
                        }
                    }
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (mut l, e) = task.await.expect("load task");
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or(0) as f64 / 1000.0;
    let cpu_us = (server_use::cpu_secs(&server) - cpu_start) * 1e6 / latencies.len().max(1) as f64;
    Figures { requests: latencies.len(), errors, per_sec: latencies.len() as f64 / elapsed, p50_ms: pct(0.50), p99_ms: pct(0.99), cpu_us }
}

async fn run(duration: Duration) {
    let mut bare_cmd = Command::new(std::env::current_exe().expect("current exe"));
    bare_cmd.env("COMOPS_BENCH_BARE", "1");
    let (bare_child, bare_host) = spawn(bare_cmd);
    let bare = Target {
        name: "bare axum JSON handler".into(),
        host: bare_host,
        path: "/call".into(),
        token: None,
        dry_run: false,
        metrics: None,
        process: Arc::new(bare_child),
    };

    let dir = std::env::temp_dir().join(format!("comops-bench-db-{}", std::process::id()));
    let sqlite = comops_target("comops call/{alias}, SQLite", format!("sqlite://{}/comops.db", dir.display()), Some(dir.clone())).await;
    let dry = Target { name: "comops call/{alias} dry run (trace only), SQLite".into(), dry_run: true, ..sqlite.clone() };
    let mut targets = vec![sqlite, dry];
    // The same accept with the WAL synced at each commit (survives a power
    // loss too); not for another build (COMOPS_BENCH_BIN), which may not
    // know the URL's `synchronous=`.
    if std::env::var_os("COMOPS_BENCH_BIN").is_none() {
        let full_dir = std::env::temp_dir().join(format!("comops-bench-db-full-{}", std::process::id()));
        let url = format!("sqlite://{}/comops.db?synchronous=full", full_dir.display());
        targets.push(comops_target("comops call/{alias}, SQLite synchronous=full", url, Some(full_dir)).await);
    } else {
        eprintln!("COMOPS_BENCH_BIN is set: no synchronous=full row");
    }
    let postgres = comops_core::store::scratch::test_postgres("bench").await;
    match &postgres {
        Some(url) => targets.push(comops_target("comops call/{alias}, PostgreSQL", url.clone(), None).await),
        None => eprintln!("PostgreSQL not reachable: measuring SQLite only"),
    }

    eprintln!("warming up and measuring {} s per target, {} connections{}", duration.as_secs(), connections(), if by_wrk() { ", by wrk" } else { "" });
    let _ = load(&bare, Duration::from_secs(1)).await;
    let bare_figures = load(&bare, duration).await;
    let mut rows = vec![(bare.name.clone(), bare_figures)];
    let client = reqwest::Client::new();
    for target in &targets {
        let _ = load(target, Duration::from_secs(1)).await;
        let metrics = target.metrics.as_deref().unwrap_or_default();
        let before = server_use::lane_use(&client, &target.host, metrics).await;
        let figures = load(target, duration).await;
        let after = server_use::lane_use(&client, &target.host, metrics).await;
        if !after.is_empty() {
            eprint!("{}: {}", target.name, server_use::lane_report(&before, &after, duration.as_secs_f64()));
        }
        rows.push((target.name.clone(), figures));
    }

    let baseline = rows[0].1.per_sec;
    let mut table = String::from("| target | requests | errors | req/s | share of bare axum | p50 ms | p99 ms | server CPU per request |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (name, f) in &rows {
        table.push_str(&format!(
            "| {name} | {} | {} | {:.0} | {:.0} % | {:.2} | {:.2} | {:.0} µs |\n",
            f.requests,
            f.errors,
            f.per_sec,
            100.0 * f.per_sec / baseline,
            f.p50_ms,
            f.p99_ms,
            f.cpu_us
        ));
    }
    println!("{table}");
    if connections() == CONNECTIONS {
        write_report(&table, duration);
    }
    // The servers end with their targets; then their PostgreSQL database goes.
    drop((bare, targets));
    if let Some(url) = postgres {
        if let Err(err) = comops_core::store::scratch::drop_scratch_postgres(&url).await {
            eprintln!("cannot drop the scratch database {url}: {err}");
        }
    }
}

fn write_report(table: &str, duration: Duration) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let secs = duration.as_secs();
    let (heading, how) = if by_wrk() {
        (
            "## Integration API: durable accept vs bare axum, driven by wrk",
            format!(
                "`COMOPS_BENCH_LOADGEN=wrk cargo bench -p comops-server --bench call_api` — the same servers and \
                 rows as the section above, driven by Debian's `wrk` 4.1 (`-t2 -c{CONNECTIONS} --latency`, {secs} s \
                 per target after a 1 s warm-up), the tool SPEC §9's bare-axum figure (≈ 74k req/s) was taken \
                 with. wrk sends one fixed request over and over (`{BODY}`), so every comops call is a new event \
                 for the same order; latencies and errors are wrk's own (errors: answers outside 2xx/3xx and \
                 socket errors). wrk runs on the same 2 cores as the servers. Target (SPEC §9): ≥ 30 % of bare \
                 axum, p99 < 10 ms."
            ),
        )
    } else {
        (
            "## Integration API: durable accept vs bare axum",
            format!(
                "`cargo bench -p comops-server --bench call_api` — release build, loopback, {CONNECTIONS} keep-alive \
                 connections, {secs} s per target after a 1 s warm-up; the load generator runs on the same 2 cores as the \
                 servers. Each comops request is authenticated, validated, and committed (event + trace in one \
                 transaction, group-committed with the requests queued beside it) before its 200. Every call names \
                 the same linked user, so a call writes a run only when that lead has none active; the scenario \
                 the endpoint names does not exist, so each run fails at once and few are written — this \
                 measures the accept, `bench engine` the runs. The dry-run row (the same server, after the live \
                 row) resolves the recipient, looks the scenario up for its preview and writes only its trace. \
                 The `synchronous=full` row is the live row on a database whose URL asks for the WAL to be synced \
                 at each commit (`?synchronous=full`: a commit survives a power loss); the others are SQLite's \
                 default here, `normal` (a commit survives a killed process). \
                 The last column is the server process's CPU time (user + system, from `/proc`) per answered request \
                 (PostgreSQL's own not counted). Target (SPEC §9): ≥ 30 % of bare axum, p99 < 10 ms."
            ),
        )
    };
    let section = format!("{heading}\n\n{how}\n\n{table}\n");
    let updated = match doc_section::replace_generated(&existing, heading, &section) {
        Some(updated) => updated,
        None => format!("{}\n{}", existing.trim_end(), format!("\n{section}")),
    };
    if let Err(err) = std::fs::write(&path, updated) {
        eprintln!("cannot write {}: {err}", path.display());
    }
}
