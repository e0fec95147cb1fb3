//! Counts for `/metrics`, per bot, from the tables the engine keeps: events,
//! runs (and goals reached), outbox messages by status, outbound API calls
//! by result, leads by status, inbound updates; and SPEC §8's six rates
//! (engagement, response time and CSAT over the last week, from the
//! analytics' facts). Counting whole tables is fine at a scrape every 15 s
//! or more; nothing personal is exposed.

use super::call_tallies::{calls_since, Calls};
use super::{now_millis, Store, StoreResult};
use crate::analytics::DAY_MS;
use crate::metrics::{ratio, Family};
use crate::BotId;
use std::collections::BTreeMap;

/// The days engagement, response time and CSAT look back on `/metrics`.
pub const RATE_WINDOW_DAYS: i64 = 7;

/// How long those three are served from the last reading: each is an
/// analytics reading per bot (its runs, messages and replies of the
/// week), too much for every scrape.
pub const RATES_KEPT: std::time::Duration = std::time::Duration::from_secs(60);

/// The last reading of every bot's week: (when, bot → rates).
#[derive(Debug, Default)]
pub(crate) struct RecentRates(tokio::sync::Mutex<Option<(std::time::Instant, Vec<(String, crate::analytics::Rates)>)>>);

impl Store {
    /// Every family for the bots `visible` allows, ready to render.
    pub async fn metric_families(&self, visible: impl Fn(&BotId) -> bool) -> StoreResult<Vec<Family>> {
        let show = |bot: &str| visible(&BotId::from_store(bot.to_string()));

        let mut events = Family::counter("comops_events_total", "Business events accepted by call/{alias} (dry runs excluded).");
        for (bot, count) in self.grouped::<(String, i64)>("SELECT bot_id, COUNT(*) FROM events GROUP BY bot_id ORDER BY bot_id").await? {
            if show(&bot) {
                events.push(vec![("bot", bot)], count as f64);
            }
        }

        let mut runs = Family::gauge("comops_runs", "Scenario runs by status.");
        let mut started: BTreeMap<String, i64> = BTreeMap::new();
        for (bot, status, count) in self.grouped::<(String, String, i64)>("SELECT bot_id, status, COUNT(*) FROM runs GROUP BY bot_id, status ORDER BY bot_id, status").await? {
            if show(&bot) {
                *started.entry(bot.clone()).or_default() += count;
                runs.push(vec![("bot", bot), ("status", status)], count as f64);
            }
        }
        let mut goals = Family::counter("comops_runs_goal_total", "Runs that reached an end with a goal.");
        let mut conversion = Family::gauge("comops_conversion_rate", "Runs reaching a goal / runs started (SPEC §8).");
        let goal_rows = self
            .grouped::<(String, i64)>("SELECT bot_id, COUNT(*) FROM runs WHERE status = 'done' AND outcome <> '' GROUP BY bot_id ORDER BY bot_id")
            .await?;
        let goal_of: BTreeMap<String, i64> = goal_rows.into_iter().collect();
        for (bot, total) in &started {
            let reached = goal_of.get(bot).copied().unwrap_or(0);
            goals.push(vec![("bot", bot.clone())], reached as f64);
            if let Some(rate) = ratio(reached as f64, *total as f64) {
                conversion.push(vec![("bot", bot.clone())], rate);
            }
        }

        let mut messages = Family::gauge("comops_outbox_messages", "Outgoing messages by channel and status (pending, claimed, sending, sent, dead).");
        let mut attempted: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
        for (bot, channel, status, count) in self
            .grouped::<(String, String, String, i64)>("SELECT bot_id, channel, status, COUNT(*) FROM outbox GROUP BY bot_id, channel, status ORDER BY bot_id, channel, status")
            .await?
        {
            if show(&bot) {
                let entry = attempted.entry((bot.clone(), channel.clone())).or_default();
                match status.as_str() {
                    "sent" => entry.0 += count,
                    "dead" => entry.1 += count,
                    _ => {}
                }
                messages.push(vec![("bot", bot), ("channel", channel), ("status", status)], count as f64);
            }
        }
        let mut delivery = Family::gauge("comops_delivery_rate", "Delivered / attempted messages: sent / (sent + dead letters) (SPEC §8).");
        for ((bot, channel), (sent, dead)) in &attempted {
            if let Some(rate) = ratio(*sent as f64, (*sent + *dead) as f64) {
                delivery.push(vec![("bot", bot.clone()), ("channel", channel.clone())], rate);
            }
        }

        let mut calls = Family::counter("comops_outbound_api_calls_total", "Calls of http steps and script callApi to business systems, by result.");
        let mut call_totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (bot, status, count) in self.outbound_calls().await? {
            if show(&bot) {
                let entry = call_totals.entry(bot.clone()).or_default();
                entry.1 += count;
                if status == "fail" {
                    entry.0 += count;
                }
                calls.push(vec![("bot", bot), ("result", status)], count as f64);
            }
        }
        let mut errors = Family::gauge("comops_error_rate", "Failed outbound API calls / all outbound API calls (SPEC §8).");
        for (bot, (failed, total)) in &call_totals {
            if let Some(rate) = ratio(*failed as f64, *total as f64) {
                errors.push(vec![("bot", bot.clone())], rate);
            }
        }

        let mut leads = Family::gauge("comops_leads", "Leads by status.");
        for (bot, status, count) in self.grouped::<(String, String, i64)>("SELECT bot_id, status, COUNT(*) FROM leads GROUP BY bot_id, status ORDER BY bot_id, status").await? {
            if show(&bot) {
                leads.push(vec![("bot", bot), ("status", status)], count as f64);
            }
        }

        let mut inbound = Family::counter("comops_inbound_updates_total", "Updates received from messengers (after deduplication).");
        for (bot, channel, count) in self
            .grouped::<(String, String, i64)>("SELECT bot_id, channel, COUNT(*) FROM inbound_updates GROUP BY bot_id, channel ORDER BY bot_id, channel")
            .await?
        {
            if show(&bot) {
                inbound.push(vec![("bot", bot), ("channel", channel)], count as f64);
            }
        }

        let [engagement, response, csat] = self.recent_rate_families(&show, now_millis()).await?;
        Ok(vec![events, runs, goals, conversion, messages, delivery, calls, errors, leads, inbound, engagement, response, csat])
    }

    /// SPEC §8's three rates that need the analytics' facts — engagement,
    /// response time, CSAT — per bot, over the runs started in the last
    /// [`RATE_WINDOW_DAYS`] days, computed as the analytics screen computes
    /// them for that period (the other three above count all time); read
    /// for every bot at most once per [`RATES_KEPT`].
    async fn recent_rate_families(&self, show: &impl Fn(&str) -> bool, now: crate::Millis) -> StoreResult<[Family; 3]> {
        let mut engagement = Family::gauge("comops_engagement_rate", "Leads who replied within 24 h / leads messaged, runs started in the last 7 days (SPEC §8).");
        let mut response = Family::gauge("comops_response_time_seconds", "Median time from a bot message to the lead's reply, runs started in the last 7 days (SPEC §8).");
        let mut csat = Family::gauge("comops_csat", "Mean of rating answers (1-5), runs started in the last 7 days (SPEC §8).");
        // One reader at a time: a second scrape waits for the first's reading.
        let mut kept = self.recent_rates.0.lock().await;
        let fresh = kept.as_ref().is_some_and(|(at, _)| at.elapsed() < RATES_KEPT);
        if !fresh {
            let from = now - RATE_WINDOW_DAYS * DAY_MS;
            let bots: Vec<String> = sqlx::query_scalar("SELECT id FROM bots ORDER BY id").fetch_all(&self.pool).await?;
            let mut read = Vec::with_capacity(bots.len());
            for bot in bots {
                let facts = self.analytics_facts(&BotId::from_store(bot.clone()), from, now + 1).await?;
                read.push((bot, crate::analytics::report(&facts, &Default::default(), from / DAY_MS, now / DAY_MS + 1).rates));
            }
            *kept = Some((std::time::Instant::now(), read));
        }
        for (bot, rates) in kept.iter().flat_map(|(_, read)| read).filter(|(bot, _)| show(bot)) {
            if let Some(rate) = rates.engagement.value() {
                engagement.push(vec![("bot", bot.clone())], rate);
            }
            if let Some(ms) = rates.response_ms {
                response.push(vec![("bot", bot.clone())], ms as f64 / 1000.0);
            }
            if let Some(mean) = rates.csat {
                csat.push(vec![("bot", bot.clone())], mean);
            }
        }
        Ok([engagement, response, csat])
    }

    /// This process's use of the write lane per kind of work: turns,
    /// seconds waited, seconds held. Not per bot (the lane is the
    /// process's), so only for readers of every bot: it shows the whole
    /// instance's activity.
    pub fn write_lane_families(&self) -> [Family; 3] {
        let mut turns = Family::counter(
            "comops_write_lane_turns_total",
            "Turns of this process's write lane for the engine's hot writes (SQLite: one writer at a time; PostgreSQL: turns overlap), by work.",
        );
        let mut waited = Family::counter("comops_write_lane_wait_seconds_total", "Seconds spent waiting for a turn of the write lane, by work.");
        let mut held = Family::counter(
            "comops_write_lane_busy_seconds_total",
            "Seconds turns of the write lane were held (connection, writing, committing), by work.",
        );
        for lane in self.write_lane_figures() {
            let label = || vec![("work", lane.work.name().to_string())];
            turns.push(label(), lane.turns as f64);
            waited.push(label(), lane.waited_s);
            held.push(label(), lane.held_s);
        }
        [turns, waited, held]
    }

    /// Outbound calls by bot and result over all time: tallied, plus the
    /// traces not tallied yet (`call_tallies`), so the counter never goes
    /// down when old traces are purged.
    async fn outbound_calls(&self) -> StoreResult<Vec<(String, String, i64)>> {
        let sql = format!(
            "SELECT bot_id, status, CAST(SUM(calls) AS BIGINT) FROM ({}) calls GROUP BY bot_id, status ORDER BY bot_id, status",
            calls_since("callback.http", None)
        );
        let bound = Calls { mark: self.tally_mark().await?, since: 0, bots: &[] };
        Ok(bound.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?)
    }

    async fn grouped<T>(&self, sql: &str) -> StoreResult<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        Ok(sqlx::query_as::<_, T>(sql).fetch_all(&self.pool).await?)
    }
}
