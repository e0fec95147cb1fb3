//! The `call_api` bench's wrk load (`benches/support/wrk.rs`): the script
//! it hands wrk, and the reading of the line that script prints.

#[path = "../benches/support/wrk.rs"]
mod wrk;

#[test]
fn the_script_posts_one_fixed_request_and_prints_wrks_figures() {
    let lua = wrk::script("{\"a\": \"b\\\\c\"}", &[("Authorization", "Bearer t0k"), ("X-Dry-Run", "true")]);
    assert!(lua.starts_with("wrk.method = \"POST\"\n"), "{lua}");
    // The body's quotes and backslash escaped for Lua.
    assert!(lua.contains("wrk.body = \"{\\\"a\\\": \\\"b\\\\\\\\c\\\"}\"\n"), "{lua}");
    assert!(lua.contains("wrk.headers[\"Authorization\"] = \"Bearer t0k\"\n"), "{lua}");
    assert!(lua.contains("wrk.headers[\"X-Dry-Run\"] = \"true\"\n"), "{lua}");
    // No `request` function: wrk builds the request once.
    assert!(!lua.contains("request ="), "{lua}");
    assert!(lua.contains("done = function(summary, latency, requests)"), "{lua}");
}

#[test]
fn wrks_figures_are_read_from_the_scripts_line() {
    let output = "Running 10s test @ http://127.0.0.1:4000/call\n  2 threads and 64 connections\n\
                  comops-wrk requests=812345 status_errors=3 socket_errors=1 duration_us=10004000 p50_us=512 p99_us=4870\n\
                  Requests/sec:  81202.12\n";
    let figures = wrk::parse(output).expect("the figures");
    assert_eq!(figures.requests, 812_345);
    assert_eq!(figures.status_errors, 3);
    assert_eq!(figures.socket_errors, 1);
    assert!((figures.duration_secs - 10.004).abs() < 1e-9);
    assert!((figures.p50_ms - 0.512).abs() < 1e-9 && (figures.p99_ms - 4.87).abs() < 1e-9);
    // wrk's own summary alone (the script did not run), or a cut line.
    assert_eq!(wrk::parse("Requests/sec:  81202.12\n"), None);
    assert_eq!(wrk::parse("comops-wrk requests=1 status_errors=0\n"), None);
}
