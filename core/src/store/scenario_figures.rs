//! How the runs of each scenario ended up, for the ComOps loop's trace
//! overlay: per bot and scenario, how many runs are done, still waiting
//! (a reply, a timer, or not started yet) and failed or stopped.
//!
//! One grouped query over the runs of the project's bots created at or
//! after a moment, found through `runs_scenario_version` (it starts with
//! the bot). No index of its own: a run's status changes on the engine's
//! hot path, and every index holding it is written again each time.

use super::{placeholders, Store, StoreResult};
use crate::BotId;
use serde::{Deserialize, Serialize};

/// One scenario's runs by where they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioFigures {
    pub bot_id: String,
    pub scenario: String,
    /// Reached an end.
    pub done: i64,
    /// Pending or waiting (for a reply or a timer).
    pub waiting: i64,
    /// Failed, or stopped by anything else.
    pub failed: i64,
}

impl ScenarioFigures {
    /// Counts `runs` runs in `status` where they belong.
    fn add(&mut self, status: &str, runs: i64) {
        match status {
            "done" => self.done += runs,
            "pending" | "waiting" => self.waiting += runs,
            _ => self.failed += runs,
        }
    }

    pub fn total(&self) -> i64 {
        self.done + self.waiting + self.failed
    }
}

impl Store {
    /// The runs of every scenario of `bots` created at or after `since`
    /// (epoch milliseconds; 0 for all time), by bot and scenario name;
    /// scenarios without runs then are left out.
    pub async fn scenario_figures(&self, bots: &[BotId], since: i64) -> StoreResult<Vec<ScenarioFigures>> {
        if bots.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT bot_id, scenario, status, COUNT(*) FROM runs WHERE created_at >= $1 AND bot_id IN ({}) \
             GROUP BY bot_id, scenario, status ORDER BY bot_id, scenario, status",
            placeholders(2, bots.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, String, i64)>(&sql).bind(since);
        for bot in bots {
            query = query.bind(bot.as_str());
        }
        let mut out: Vec<ScenarioFigures> = Vec::new();
        for (bot_id, scenario, status, runs) in query.fetch_all(&self.pool).await? {
            match out.last_mut() {
                Some(last) if last.bot_id == bot_id && last.scenario == scenario => last.add(&status, runs),
                _ => {
                    let mut figures = ScenarioFigures { bot_id, scenario, ..Default::default() };
                    figures.add(&status, runs);
                    out.push(figures);
                }
            }
        }
        Ok(out)
    }
}
