//! The `call_api` load driven by wrk (Debian's `wrk`), the tool SPEC §9
//! names for its bare-axum figure, instead of the bench's own generator:
//! the Lua script wrk runs (one fixed request, and a `done` that prints
//! wrk's own figures on one line) and the reading of that line.
//! `#[path]`-included by the bench and by `tests/bench_docs.rs`.

/// What wrk measured: its own counts and its latency percentiles.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkFigures {
    pub requests: u64,
    /// Answers outside 2xx/3xx.
    pub status_errors: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
    pub duration_secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The line the script's `done` prints starts with this.
const MARK: &str = "comops-wrk";

/// Lua for one POST of `body` with `headers`, the same request every
/// time (wrk then builds it once), and a `done` printing the figures.
pub fn script(body: &str, headers: &[(&str, &str)]) -> String {
    let mut lua = String::from("wrk.method = \"POST\"\n");
    lua += &format!("wrk.body = {}\n", lua_string(body));
    for (name, value) in headers {
        lua += &format!("wrk.headers[{}] = {}\n", lua_string(name), lua_string(value));
    }
    lua += &format!(
        "done = function(summary, latency, requests)\n  \
         local e = summary.errors\n  \
         io.write(string.format(\"{MARK} requests=%d status_errors=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\\n\", \
         summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration, \
         latency:percentile(50), latency:percentile(99)))\n\
         end\n"
    );
    lua
}

/// A Lua string literal of `text` (long brackets would not survive `]]`).
fn lua_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The figures from wrk's output; `None` when the script's line is
/// missing or incomplete (wrk failed, or another script ran).
pub fn parse(output: &str) -> Option<WrkFigures> {
    let line = output.lines().find_map(|line| line.strip_prefix(MARK))?;
    let field = |name: &str| -> Option<u64> {
        line.split_whitespace().find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    Some(WrkFigures {
        requests: field("requests")?,
        status_errors: field("status_errors")?,
        socket_errors: field("socket_errors")?,
        duration_secs: field("duration_us")? as f64 / 1e6,
        p50_ms: field("p50_us")? as f64 / 1e3,
        p99_ms: field("p99_us")? as f64 / 1e3,
    })
}
