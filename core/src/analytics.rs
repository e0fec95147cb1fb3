//! Analytics: SPEC §8's six metrics, the weekly engagement trend, the
//! funnel Event → Communication → Reply → Action and the heatmap of
//! scenario steps, computed from facts the store reads for one bot and
//! period. Pure and wasm-safe: the studio draws the [`Report`], the store
//! only gathers [`Facts`].
//!
//! Definitions (SPEC §8):
//! - Delivery rate = delivered / attempted messages (sent / (sent + dead
//!   letters); messages still queued are not attempted yet).
//! - Engagement rate = leads who replied within 24 h of a delivered
//!   message / leads messaged.
//! - Response time = median time from a bot message to the lead's reply
//!   (each reply measured from the latest message before it, within 24 h).
//! - Conversion rate = runs reaching a `goal` end / runs started.
//! - CSAT = mean of rating answers (1–5).
//! - Error rate = failed outbound API calls / all outbound API calls.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub const DAY_MS: i64 = 86_400_000;
/// The window in which a reply counts as engagement.
pub const REPLY_WINDOW_MS: i64 = DAY_MS;
/// The longest period one report covers.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The most runs one report reads (newest first); beyond them the report
/// says it is truncated.
pub const MAX_RUNS: i64 = 50_000;
/// Heatmap rows: the busiest steps.
pub const HEATMAP_STEPS: usize = 30;

/// `part / whole`, kept as counts so a reader sees what a rate rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratio {
    pub part: u64,
    pub whole: u64,
}

impl Ratio {
    /// The rate, or `None` when nothing was counted.
    pub fn value(&self) -> Option<f64> {
        (self.whole > 0).then(|| self.part as f64 / self.whole as f64)
    }

    /// `87.5 %`, or `—` without data.
    pub fn percent(&self) -> String {
        match self.value() {
            Some(v) => format!("{:.1} %", v * 100.0),
            None => "—".into(),
        }
    }
}

/// An outgoing message's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Sent,
    Dead,
    Queued,
}

/// One run started in the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFact {
    pub id: String,
    pub trace_id: String,
    /// The endpoint alias that started it; empty for runs started by a
    /// messenger (entry scenarios) or a deep link.
    pub alias: String,
    pub scenario: String,
    pub lead: String,
    pub created_at: i64,
    pub goal: bool,
    /// Answers to `ask` steps expecting a rating.
    pub ratings: Vec<i64>,
}

/// One outgoing message of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageFact {
    pub run: String,
    pub lead: String,
    pub delivery: Delivery,
    pub sent_at: Option<i64>,
}

/// A lead's reply (any message from the lead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyFact {
    pub lead: String,
    pub at: i64,
}

/// An outbound API call (http step, script `callApi`) of a run's trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallFact {
    pub trace_id: String,
    pub failed: bool,
}

/// How many times runs executed a scenario step on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFact {
    pub scenario: String,
    pub step: String,
    /// Days since the epoch (UTC).
    pub day: i64,
    pub count: u64,
}

/// Everything the store gathered for one bot and period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub runs: Vec<RunFact>,
    pub messages: Vec<MessageFact>,
    pub replies: Vec<ReplyFact>,
    pub calls: Vec<CallFact>,
    pub steps: Vec<StepFact>,
    /// The store hit its row limit: figures cover the newest rows only.
    pub truncated: bool,
    /// Traces before this moment (epoch ms, inside the period) were
    /// purged by a version that kept nothing of them: replies, outbound
    /// calls and steps before it are missing. (Purges keep them since.)
    pub traces_purged_before: Option<i64>,
}

/// What a report is about, inside one bot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Only runs started by these endpoint aliases (an endpoint, or the
    /// rows of a communication map bound to this bot); `None` = all.
    pub aliases: Option<BTreeSet<String>>,
    /// Only runs of this scenario.
    pub scenario: Option<String>,
}

impl Scope {
    fn admits(&self, run: &RunFact) -> bool {
        self.aliases.as_ref().is_none_or(|a| a.contains(&run.alias)) && self.scenario.as_ref().is_none_or(|s| *s == run.scenario)
    }
}

/// The six metrics of SPEC §8 over one set of runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub delivery: Ratio,
    pub engagement: Ratio,
    /// Median, milliseconds; `None` without replies.
    pub response_ms: Option<i64>,
    pub responses: u64,
    pub conversion: Ratio,
    /// Mean rating; `None` without ratings.
    pub csat: Option<f64>,
    pub ratings: u64,
    pub error: Ratio,
}

/// Engagement of the leads first messaged in one week (Monday, UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekPoint {
    /// Days since the epoch of the week's Monday.
    pub monday: i64,
    pub engagement: Ratio,
}

/// Leads at each stage: reached by an event (a run started), messaged
/// (a message delivered), replied within 24 h, acted (a run reached a goal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funnel {
    pub event: u64,
    pub communication: u64,
    pub reply: u64,
    pub action: u64,
}

/// Step executions per day: `counts[row][column]` for `steps[row]` on
/// `days[column]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// `scenario/step`, busiest first.
    pub steps: Vec<String>,
    pub days: Vec<i64>,
    pub counts: Vec<Vec<u64>>,
}

impl Heatmap {
    pub fn max(&self) -> u64 {
        self.counts.iter().flatten().copied().max().unwrap_or(0)
    }
}

/// The metrics of one endpoint alias (`""` = runs no endpoint started).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasRates {
    pub alias: String,
    pub runs: u64,
    pub rates: Rates,
}

/// Everything the analytics screen shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Period, days since the epoch, `[from, to)`.
    pub from_day: i64,
    pub to_day: i64,
    pub rates: Rates,
    pub weekly: Vec<WeekPoint>,
    pub funnel: Funnel,
    pub heatmap: Heatmap,
    pub endpoints: Vec<AliasRates>,
    pub truncated: bool,
    /// See [`Facts::traces_purged_before`].
    pub traces_purged_before: Option<i64>,
}

/// Days since the epoch of the Monday of `day`'s week (1970-01-01 was a
/// Thursday).
pub fn monday_of(day: i64) -> i64 {
    (day + 3).div_euclid(7) * 7 - 3
}

/// `YYYY-MM-DD` of days since the epoch (proleptic Gregorian, UTC).
pub fn date_of(day: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since the epoch of `YYYY-MM-DD`, or `None` if it is not a date.
pub fn day_of(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let day = era * 146_097 + doe - 719_468;
    (date_of(day) == format!("{:04}-{:02}-{:02}", if m <= 2 { y + 1 } else { y }, m, d)).then_some(day)
}

/// The report for `scope` over `[from_day, to_day)`.
pub fn report(facts: &Facts, scope: &Scope, from_day: i64, to_day: i64) -> Report {
    let runs: Vec<&RunFact> = facts.runs.iter().filter(|r| scope.admits(r)).collect();
    let replies = replies_by_lead(&facts.replies);
    let rates = rates_of(&runs, facts, &replies);

    let mut by_alias: BTreeMap<&str, Vec<&RunFact>> = BTreeMap::new();
    for run in &runs {
        by_alias.entry(run.alias.as_str()).or_default().push(run);
    }
    let endpoints = by_alias
        .into_iter()
        .map(|(alias, runs)| AliasRates { alias: alias.to_string(), runs: runs.len() as u64, rates: rates_of(&runs, facts, &replies) })
        .collect();

    let run_ids: HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    let sent = sent_by_lead(facts, &run_ids);
    let engaged = engaged_leads(&sent, &replies);
    let weekly = weekly(&sent, &replies, from_day, to_day);
    let funnel = Funnel {
        event: runs.iter().map(|r| r.lead.as_str()).collect::<HashSet<_>>().len() as u64,
        communication: sent.len() as u64,
        reply: engaged.len() as u64,
        action: runs.iter().filter(|r| r.goal).map(|r| r.lead.as_str()).collect::<HashSet<_>>().len() as u64,
    };
    let scenarios: Option<HashSet<&str>> = match (&scope.scenario, &scope.aliases) {
        (Some(s), _) => Some(HashSet::from([s.as_str()])),
        (None, Some(_)) => Some(runs.iter().map(|r| r.scenario.as_str()).collect()),
        (None, None) => None,
    };
    let heatmap = heatmap(&facts.steps, scenarios.as_ref(), from_day, to_day);
    Report { from_day, to_day, rates, weekly, funnel, heatmap, endpoints, truncated: facts.truncated, traces_purged_before: facts.traces_purged_before }
}

type Replies<'a> = HashMap<&'a str, Vec<i64>>;

fn replies_by_lead(replies: &[ReplyFact]) -> Replies<'_> {
    let mut by_lead: Replies = HashMap::new();
    for reply in replies {
        by_lead.entry(reply.lead.as_str()).or_default().push(reply.at);
    }
    for times in by_lead.values_mut() {
        times.sort_unstable();
    }
    by_lead
}

fn rates_of(runs: &[&RunFact], facts: &Facts, replies: &Replies) -> Rates {
    let run_ids: HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    let traces: HashSet<&str> = runs.iter().map(|r| r.trace_id.as_str()).collect();
    let mut delivery = Ratio::default();
    for message in facts.messages.iter().filter(|m| run_ids.contains(m.run.as_str())) {
        match message.delivery {
            Delivery::Sent => {
                delivery.part += 1;
                delivery.whole += 1;
            }
            Delivery::Dead => delivery.whole += 1,
            Delivery::Queued => {}
        }
    }
    let sent = sent_by_lead(facts, &run_ids);
    let engagement = Ratio { part: engaged_leads(&sent, replies).len() as u64, whole: sent.len() as u64 };
    let mut deltas = response_times(&sent, replies);
    let responses = deltas.len() as u64;
    let response_ms = median(&mut deltas);
    let conversion = Ratio { part: runs.iter().filter(|r| r.goal).count() as u64, whole: runs.len() as u64 };
    let ratings: Vec<i64> = runs.iter().flat_map(|r| r.ratings.iter().copied()).filter(|r| (1..=5).contains(r)).collect();
    let csat = (!ratings.is_empty()).then(|| ratings.iter().sum::<i64>() as f64 / ratings.len() as f64);
    let mut error = Ratio::default();
    for call in facts.calls.iter().filter(|c| traces.contains(c.trace_id.as_str())) {
        error.whole += 1;
        if call.failed {
            error.part += 1;
        }
    }
    Rates { delivery, engagement, response_ms, responses, conversion, csat, ratings: ratings.len() as u64, error }
}

/// Delivery times of the runs' sent messages per lead, sorted.
fn sent_by_lead<'a>(facts: &'a Facts, runs: &HashSet<&str>) -> HashMap<&'a str, Vec<i64>> {
    let mut by_lead: HashMap<&str, Vec<i64>> = HashMap::new();
    for message in facts.messages.iter().filter(|m| runs.contains(m.run.as_str())) {
        if let (Delivery::Sent, Some(at)) = (message.delivery, message.sent_at) {
            by_lead.entry(message.lead.as_str()).or_default().push(at);
        }
    }
    for times in by_lead.values_mut() {
        times.sort_unstable();
    }
    by_lead
}

/// Whether a reply came within the window after any of `sent`.
fn replied_within(sent: &[i64], replies: &[i64]) -> bool {
    sent.iter().any(|&at| {
        let first_after = replies.partition_point(|&r| r <= at);
        replies.get(first_after).is_some_and(|&r| r - at <= REPLY_WINDOW_MS)
    })
}

fn engaged_leads<'a>(sent: &HashMap<&'a str, Vec<i64>>, replies: &Replies) -> HashSet<&'a str> {
    sent.iter()
        .filter(|(lead, times)| replies.get(*lead).is_some_and(|r| replied_within(times, r)))
        .map(|(lead, _)| *lead)
        .collect()
}

/// For each reply, the time since the latest message before it (within
/// the window); a message answered by several replies counts once.
fn response_times(sent: &HashMap<&str, Vec<i64>>, replies: &Replies) -> Vec<i64> {
    let mut deltas = Vec::new();
    for (lead, times) in sent {
        let Some(replies) = replies.get(lead) else { continue };
        let mut answered = HashSet::new();
        for &reply in replies {
            let before = times.partition_point(|&t| t < reply);
            if before == 0 {
                continue;
            }
            let message = times[before - 1];
            if reply - message <= REPLY_WINDOW_MS && answered.insert(message) {
                deltas.push(reply - message);
            }
        }
    }
    deltas
}

fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2 })
}

/// Engagement per week of each lead's first delivered message that week.
fn weekly(sent: &HashMap<&str, Vec<i64>>, replies: &Replies, from_day: i64, to_day: i64) -> Vec<WeekPoint> {
    let mut weeks: BTreeMap<i64, Ratio> = BTreeMap::new();
    let mut monday = monday_of(from_day);
    while monday < to_day {
        weeks.insert(monday, Ratio::default());
        monday += 7;
    }
    for (lead, times) in sent {
        let mut by_week: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for &at in times {
            by_week.entry(monday_of(at.div_euclid(DAY_MS))).or_default().push(at);
        }
        for (week, times) in by_week {
            let point = weeks.entry(week).or_default();
            point.whole += 1;
            if replies.get(lead).is_some_and(|r| replied_within(&times, r)) {
                point.part += 1;
            }
        }
    }
    weeks.into_iter().map(|(monday, engagement)| WeekPoint { monday, engagement }).collect()
}

fn heatmap(steps: &[StepFact], scenarios: Option<&HashSet<&str>>, from_day: i64, to_day: i64) -> Heatmap {
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut cells: HashMap<(String, i64), u64> = HashMap::new();
    for fact in steps.iter().filter(|f| scenarios.is_none_or(|s| s.contains(f.scenario.as_str()))) {
        let key = format!("{}/{}", fact.scenario, fact.step);
        *totals.entry(key.clone()).or_default() += fact.count;
        *cells.entry((key, fact.day)).or_default() += fact.count;
    }
    let mut ranked: Vec<(String, u64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(HEATMAP_STEPS);
    let days: Vec<i64> = (from_day..to_day).collect();
    let counts = ranked
        .iter()
        .map(|(step, _)| days.iter().map(|day| cells.get(&(step.clone(), *day)).copied().unwrap_or(0)).collect())
        .collect();
    Heatmap { steps: ranked.into_iter().map(|(s, _)| s).collect(), days, counts }
}

/// The report as CSV (RFC 4180, as the maps export): one line per figure,
/// `section,key,part,whole,value`.
pub fn to_csv(report: &Report) -> String {
    let mut rows: Vec<Vec<String>> = vec![vec!["section".into(), "key".into(), "part".into(), "whole".into(), "value".into()]];
    let ratio = |section: &str, key: &str, r: &Ratio| {
        vec![section.into(), key.into(), r.part.to_string(), r.whole.to_string(), r.value().map(|v| format!("{v:.4}")).unwrap_or_default()]
    };
    let rates = |section: &str, rates: &Rates, rows: &mut Vec<Vec<String>>| {
        rows.push(ratio(section, "delivery_rate", &rates.delivery));
        rows.push(ratio(section, "engagement_rate", &rates.engagement));
        rows.push(vec![section.into(), "response_time_ms".into(), String::new(), rates.responses.to_string(), rates.response_ms.map(|v| v.to_string()).unwrap_or_default()]);
        rows.push(ratio(section, "conversion_rate", &rates.conversion));
        rows.push(vec![section.into(), "csat".into(), String::new(), rates.ratings.to_string(), rates.csat.map(|v| format!("{v:.2}")).unwrap_or_default()]);
        rows.push(ratio(section, "error_rate", &rates.error));
    };
    rates("total", &report.rates, &mut rows);
    for endpoint in &report.endpoints {
        rates(&format!("endpoint {}", endpoint.alias), &endpoint.rates, &mut rows);
    }
    for week in &report.weekly {
        rows.push(ratio("weekly_engagement", &date_of(week.monday), &week.engagement));
    }
    let f = &report.funnel;
    for (stage, count) in [("event", f.event), ("communication", f.communication), ("reply", f.reply), ("action", f.action)] {
        rows.push(vec!["funnel".into(), stage.into(), count.to_string(), f.event.to_string(), String::new()]);
    }
    for (step, counts) in report.heatmap.steps.iter().zip(&report.heatmap.counts) {
        for (day, count) in report.heatmap.days.iter().zip(counts) {
            if *count > 0 {
                rows.push(vec!["step_heatmap".into(), format!("{step} {}", date_of(*day)), count.to_string(), String::new(), String::new()]);
            }
        }
    }
    crate::map::csv::write(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    /// 2026-11-23, a Monday.
    const MON: i64 = 20_780;

    fn run(id: &str, alias: &str, lead: &str, goal: bool, ratings: Vec<i64>) -> RunFact {
        RunFact {
            id: id.into(),
            trace_id: format!("t-{id}"),
            alias: alias.into(),
            scenario: format!("s-{alias}"),
            lead: lead.into(),
            created_at: MON * DAY_MS,
            goal,
            ratings,
        }
    }

    fn sent(run: &str, lead: &str, at: i64) -> MessageFact {
        MessageFact { run: run.into(), lead: lead.into(), delivery: Delivery::Sent, sent_at: Some(at) }
    }

    fn facts() -> Facts {
        let t0 = MON * DAY_MS + 9 * H;
        Facts {
            runs: vec![
                run("r1", "order/thank-you", "anna", true, vec![5]),
                run("r2", "order/thank-you", "boris", false, vec![2]),
                run("r3", "order/status", "vera", false, vec![]),
                run("r4", "order/status", "anna", true, vec![]),
            ],
            messages: vec![
                sent("r1", "anna", t0),
                sent("r2", "boris", t0),
                MessageFact { run: "r2".into(), lead: "boris".into(), delivery: Delivery::Dead, sent_at: None },
                sent("r3", "vera", t0 + H),
                MessageFact { run: "r4".into(), lead: "anna".into(), delivery: Delivery::Queued, sent_at: None },
            ],
            replies: vec![
                ReplyFact { lead: "anna".into(), at: t0 + 60_000 },
                ReplyFact { lead: "anna".into(), at: t0 + 120_000 },
                // Boris answers after two days: not engagement.
                ReplyFact { lead: "boris".into(), at: t0 + 49 * H },
                ReplyFact { lead: "vera".into(), at: t0 + H + 180_000 },
                // A reply before any message is no response.
                ReplyFact { lead: "vera".into(), at: t0 - H },
            ],
            calls: vec![
                CallFact { trace_id: "t-r1".into(), failed: false },
                CallFact { trace_id: "t-r2".into(), failed: true },
                CallFact { trace_id: "t-r3".into(), failed: false },
                CallFact { trace_id: "t-other".into(), failed: true },
            ],
            steps: vec![
                StepFact { scenario: "s-order/thank-you".into(), step: "thanks".into(), day: MON, count: 2 },
                StepFact { scenario: "s-order/status".into(), step: "status".into(), day: MON + 1, count: 5 },
            ],
            truncated: false,
            traces_purged_before: None,
        }
    }

    #[test]
    fn the_six_metrics_follow_spec_8() {
        let report = report(&facts(), &Scope::default(), MON, MON + 7);
        let r = &report.rates;
        assert_eq!(r.delivery, Ratio { part: 3, whole: 4 }, "queued is not attempted");
        assert_eq!(r.engagement, Ratio { part: 2, whole: 3 }, "anna and vera within 24 h, boris late");
        assert_eq!(r.responses, 2, "anna's second reply answers no new message");
        assert_eq!(r.response_ms, Some(120_000), "median of 1 min and 3 min");
        assert_eq!(r.conversion, Ratio { part: 2, whole: 4 });
        assert_eq!(r.csat, Some(3.5));
        assert_eq!(r.error, Ratio { part: 1, whole: 3 }, "a call of another trace is not ours");
        assert_eq!(report.funnel, Funnel { event: 3, communication: 3, reply: 2, action: 1 });
    }

    #[test]
    fn a_scope_narrows_every_figure_to_its_runs() {
        let scope = Scope { aliases: Some(BTreeSet::from(["order/thank-you".to_string()])), scenario: None };
        let report = report(&facts(), &scope, MON, MON + 7);
        assert_eq!(report.rates.delivery, Ratio { part: 2, whole: 3 });
        assert_eq!(report.rates.engagement, Ratio { part: 1, whole: 2 });
        assert_eq!(report.rates.conversion, Ratio { part: 1, whole: 2 });
        assert_eq!(report.rates.error, Ratio { part: 1, whole: 2 });
        assert_eq!(report.heatmap.steps, vec!["s-order/thank-you/thanks".to_string()]);
        assert_eq!(report.endpoints.len(), 1);
    }

    #[test]
    fn weeks_start_on_monday_and_the_heatmap_covers_every_day() {
        let report = report(&facts(), &Scope::default(), MON - 7, MON + 7);
        assert_eq!(report.weekly.iter().map(|w| date_of(w.monday)).collect::<Vec<_>>(), ["2026-11-16", "2026-11-23"]);
        assert_eq!(report.weekly[0].engagement, Ratio::default());
        assert_eq!(report.weekly[1].engagement, Ratio { part: 2, whole: 3 });
        assert_eq!(report.heatmap.days.len(), 14);
        assert_eq!(report.heatmap.steps[0], "s-order/status/status", "busiest first");
        assert_eq!(report.heatmap.counts[0][8], 5);
        assert_eq!(report.heatmap.max(), 5);
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(MON), "2026-11-23");
        assert_eq!(monday_of(MON + 6), MON);
        assert_eq!(day_of("2026-11-23"), Some(MON));
        assert_eq!(day_of("2024-02-29").map(date_of).as_deref(), Some("2024-02-29"));
        assert_eq!(day_of("2026-02-30"), None);
        assert_eq!(day_of("yesterday"), None);
    }

    #[test]
    fn no_data_is_no_rate_not_zero() {
        let report = report(&Facts::default(), &Scope::default(), MON, MON + 1);
        assert_eq!(report.rates.delivery.value(), None);
        assert_eq!(report.rates.delivery.percent(), "—");
        assert_eq!(report.rates.response_ms, None);
        assert_eq!(report.rates.csat, None);
    }

    #[test]
    fn the_csv_holds_every_figure() {
        let csv = to_csv(&report(&facts(), &Scope::default(), MON, MON + 7));
        assert!(csv.contains("total,delivery_rate,3,4,0.7500"), "{csv}");
        assert!(csv.contains("total,csat,,2,3.50"), "{csv}");
        assert!(csv.contains("funnel,action,1,3,"), "{csv}");
        assert!(csv.contains("step_heatmap,s-order/status/status 2026-11-24,5,,"), "{csv}");
        assert!(csv.contains("endpoint order/status,conversion_rate,1,2,0.5000"), "{csv}");
    }
}
