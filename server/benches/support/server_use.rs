//! What a `comops` process under a bench used: its CPU time and its
//! write lane (between two readings of `/metrics`). Shared by the benches
//! (`#[path]`-included: a file directly in `benches/` would be a bench of
//! its own).

use std::collections::BTreeMap;

/// A token that may read `/metrics`.
pub async fn metrics_token(store: &comops_core::store::Store) -> String {
    use comops_core::token::{TokenAction, TokenDraft};
    let token = TokenDraft { name: "bench metrics".into(), actions: vec![TokenAction::AdminRead], ..Default::default() };
    store.issue_token(&token.validate().expect("valid token"), "bench").await.expect("token").1
}

/// What each kind of work did with the lane: work → (turns, seconds
/// waited, seconds held), as `/metrics` counts them since the start.
pub type LaneUse = BTreeMap<String, (f64, f64, f64)>;

/// The write lane's counters from `/metrics` (a token that may read it).
pub async fn lane_use(client: &reqwest::Client, host: &str, token: &str) -> LaneUse {
    let mut lane = BTreeMap::new();
    let Ok(response) = client.get(format!("http://{host}/metrics")).bearer_auth(token).send().await else { return lane };
    let text = response.text().await.unwrap_or_default();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once("{work=\"") else { continue };
        let Some((work, value)) = rest.split_once("\"} ") else { continue };
        let value: f64 = value.trim().parse().unwrap_or(0.0);
        let entry: &mut (f64, f64, f64) = lane.entry(work.to_string()).or_default();
        match name {
            "comops_write_lane_turns_total" => entry.0 = value,
            "comops_write_lane_wait_seconds_total" => entry.1 = value,
            "comops_write_lane_busy_seconds_total" => entry.2 = value,
            _ => {}
        }
    }
    lane
}

/// What each kind of work took of the write lane between two readings,
/// over `secs`: turns per second, mean wait and hold per turn, and the
/// share of the time the lane was held.
pub fn lane_report(before: &LaneUse, after: &LaneUse, secs: f64) -> String {
    let mut out = String::from("write lane (work: turns/s, mean wait ms, mean hold ms, share of time held):\n");
    let mut held_total = 0.0;
    for (work, (turns, waited, held)) in after {
        let (t0, w0, h0) = before.get(work).copied().unwrap_or_default();
        let (turns, waited, held) = (turns - t0, waited - w0, held - h0);
        held_total += held;
        if turns > 0.0 {
            out += &format!("  {work}: {:.0}/s, wait {:.2} ms, hold {:.2} ms, {:.1} %\n", turns / secs, waited * 1e3 / turns, held * 1e3 / turns, held * 100.0 / secs);
        }
    }
    out += &format!("  held in all: {:.1} % of the time\n", held_total * 100.0 / secs);
    out
}

/// CPU seconds (user + system) a process used so far (`/proc/<pid>/stat`,
/// clock ticks of 1/100 s; `self` for this one); 0 if unreadable.
pub fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat, 11 and 12 after ')'.
    (ticks(11) + ticks(12)) as f64 / 100.0
}
