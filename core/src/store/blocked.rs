//! A person blocked the bot (SPEC §5's channel taxonomy): their address
//! on the channel goes inactive, their undelivered messages there are
//! dead-lettered, a lead left with no active address becomes `stopped`,
//! and for each run whose message met the block or died with it that came
//! from an endpoint that asks to hear of it (`endpoints.on_blocked`), a
//! run of that scenario starts for the lead so its `http` step reports it
//! to the business system. All in one transaction: a crash loses neither
//! the deactivation nor a report. When the person writes in again from
//! that address (they unblocked the bot), or a dead letter to it is
//! re-driven, it is active again and so is a lead it had left `stopped`.
//!
//! The report run's source is the blocked run, so it reads the call's
//! params (`userId`, the order, …) as that run did, and it is in the same
//! trace. Its id is made from the blocked run's, so a run reports once
//! however many of its messages meet the block. A run that comes to a
//! message after its lead's last active address went inactive (blocked
//! since the call was accepted, found out by another run's message)
//! reports it too, in the commit that saves that advance
//! (`RunProgress::blocked_on`, [`Store::blocked_channel`]). A run a `run` step
//! started has no endpoint: the endpoint of the run that started it (or
//! of its starter, up the chain) is asked instead. A report run is never
//! reported itself, and it does not wait while an operator has the lead
//! (nobody can write to the person; the business system hears at once).

use super::events::{insert_run_with_id, NewRun, Recipient};
use super::{now_millis, Store, StoreResult};
use crate::trace::TraceEvent;
use crate::BotId;

/// SQL: the lead of the `leads` row at hand has no active address on its
/// bot — the condition for `stopped` after a block, and for `active` again
/// when an address comes back.
pub(crate) const NO_ACTIVE_ADDRESS: &str =
    "NOT EXISTS (SELECT 1 FROM identity_links a WHERE a.bot_id = leads.bot_id AND a.lead_id = leads.id AND a.is_active = 1)";

impl Store {
    /// The person at `chat_id` on `channel` blocked `bot`; `run_id` is the
    /// run whose message found out ("" for none): see the module doc.
    pub async fn deactivate_address(&self, bot: &BotId, channel: &str, chat_id: &str, run_id: &str) -> StoreResult<()> {
        // Both tables hold a personal address as its blind index.
        let candidates = self.address_candidates(chat_id);
        let keys = super::placeholders(3, candidates.len());
        let mut turn = self.write_turn(super::Work::Other).await;
        let mut tx = turn.begin().await?;
        // The runs whose messages die with the block, besides `run_id`'s.
        let sql = format!(
            "SELECT DISTINCT run_id FROM outbox WHERE bot_id = $1 AND channel = $2 AND chat_id IN ({keys}) AND status IN ('pending', 'claimed', 'sending') AND run_id <> ''"
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(bot.as_str()).bind(channel);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        let mut runs = query.fetch_all(&mut *tx).await?;
        if !run_id.is_empty() && !runs.iter().any(|r| r == run_id) {
            runs.push(run_id.to_string());
        }
        let now = now_millis();
        let sql = format!(
            "UPDATE identity_links SET is_active = 0, blocked_at = $3 WHERE bot_id = $1 AND channel = $2 AND chat_idx IN ({})",
            super::placeholders(4, candidates.len())
        );
        let mut query = sqlx::query(&sql).bind(bot.as_str()).bind(channel).bind(now);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        query.execute(&mut *tx).await?;
        let sql = format!("UPDATE outbox SET status = 'dead', last_error = 'blocked by the user' WHERE bot_id = $1 AND channel = $2 AND chat_id IN ({keys}) AND status IN ('pending', 'claimed', 'sending')");
        let mut query = sqlx::query(&sql).bind(bot.as_str()).bind(channel);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        query.execute(&mut *tx).await?;
        let sql = format!(
            "UPDATE leads SET status = $1, updated_at = $2 WHERE bot_id = $3 \
             AND id IN (SELECT lead_id FROM identity_links WHERE bot_id = $3 AND channel = $4 AND chat_idx IN ({})) AND {NO_ACTIVE_ADDRESS}",
            super::placeholders(5, candidates.len())
        );
        let mut query = sqlx::query(&sql).bind(super::leads::STOPPED).bind(now).bind(bot.as_str()).bind(channel);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        query.execute(&mut *tx).await?;
        for run in &runs {
            report(&mut tx, bot, channel, run, now).await?;
        }
        tx.commit().await?;
        self.cache.leads.clear();
        Ok(())
    }

    /// The channel of an address of `lead_id` on `bot` that is inactive
    /// because the person blocked the bot (the first by name), if any:
    /// read when a run's message finds the lead with no active address, to
    /// tell a block from a lead never reachable or deactivated by the
    /// business system or the studio (`deactivate_identities`).
    pub async fn blocked_channel(&self, bot: &BotId, lead_id: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT MIN(channel) FROM identity_links WHERE bot_id = $1 AND lead_id = $2 AND is_active = 0 AND blocked_at > 0")
            .bind(bot.as_str())
            .bind(lead_id)
            .fetch_one(&self.pool)
            .await?)
    }

    /// The person at `chat_id` on `channel` wrote to `bot` from an address
    /// that had gone inactive (they unblocked the bot): it is active again,
    /// and a `stopped` lead that had no active address is `active` — the
    /// inverse of [`Store::deactivate_address`]. Returns whether an
    /// address changed.
    pub async fn reactivate_address(&self, bot: &BotId, channel: &str, chat_id: &str) -> StoreResult<bool> {
        let candidates = self.address_candidates(chat_id);
        let mut turn = self.write_turn(super::Work::Other).await;
        let mut tx = turn.begin().await?;
        let changed = reactivate(&mut tx, bot, channel, &candidates, now_millis()).await?;
        tx.commit().await?;
        self.cache.leads.clear();
        Ok(changed)
    }
}

/// Activates the links of `bot` on `channel` whose address's blind index
/// is one of `candidates`, first making `active` the `stopped` leads they
/// belong to that have no active address (so a lead stopped for another
/// reason while reachable elsewhere stays stopped). Whether a link changed.
pub(crate) async fn reactivate(conn: &mut sqlx::AnyConnection, bot: &BotId, channel: &str, candidates: &[String], now: crate::Millis) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE leads SET status = 'active', updated_at = $1 WHERE bot_id = $2 AND status = $3 \
         AND id IN (SELECT lead_id FROM identity_links WHERE bot_id = $2 AND channel = $4 AND is_active = 0 AND chat_idx IN ({})) AND {NO_ACTIVE_ADDRESS}",
        super::placeholders(5, candidates.len())
    );
    let mut query = sqlx::query(&sql).bind(now).bind(bot.as_str()).bind(super::leads::STOPPED).bind(channel);
    for candidate in candidates {
        query = query.bind(candidate);
    }
    query.execute(&mut *conn).await?;
    let sql = format!(
        "UPDATE identity_links SET is_active = 1 WHERE bot_id = $1 AND channel = $2 AND is_active = 0 AND chat_idx IN ({})",
        super::placeholders(3, candidates.len())
    );
    let mut query = sqlx::query(&sql).bind(bot.as_str()).bind(channel);
    for candidate in candidates {
        query = query.bind(candidate);
    }
    Ok(query.execute(&mut *conn).await?.rows_affected() > 0)
}

/// The id of the run that reports `run_id`'s block.
fn report_run_id(run_id: &str) -> String {
    format!("{run_id}_blocked")
}

/// [`is_report`] as SQL over `runs`.
pub(super) const IS_REPORT: &str = "runs.id LIKE '%\\_blocked' ESCAPE '\\'";

/// Whether `run_id` is a report run ([`report_run_id`]).
pub fn is_report(run_id: &str) -> bool {
    run_id.ends_with("_blocked")
}

/// The report a blocked run `$1` of bot `$2` asks for: the scenario and
/// alias of its endpoint, or — for a run a `run` step started, which has
/// none — of the nearest run up its chain of starters that has one (at
/// most 20 up); with the blocked run's lead, user and trace.
const ASKED: &str = "WITH RECURSIVE chain (id, event_id, endpoint_id, depth) AS ( \
         SELECT id, event_id, endpoint_id, 0 FROM runs WHERE id = $1 AND bot_id = $2 \
         UNION ALL \
         SELECT r.id, r.event_id, r.endpoint_id, chain.depth + 1 FROM runs r JOIN chain ON r.id = chain.event_id \
         WHERE chain.endpoint_id = '' AND chain.depth < 20 AND r.bot_id = $2) \
     SELECT e.on_blocked, e.alias, b.lead_id, b.user_id, b.trace_id FROM chain JOIN endpoints e ON e.id = chain.endpoint_id \
     JOIN runs b ON b.id = $1 \
     WHERE e.on_blocked <> '' ORDER BY chain.depth LIMIT 1";

/// Starts the report of `run_id`'s endpoint, if it asks for one and it was
/// not started before, and traces it.
pub(super) async fn report(conn: &mut sqlx::AnyConnection, bot: &BotId, channel: &str, run_id: &str, now: crate::Millis) -> Result<(), sqlx::Error> {
    if is_report(run_id) {
        // A report is not reported: its endpoint heard already.
        return Ok(());
    }
    let asked: Option<(String, String, String, String, String)> = sqlx::query_as(ASKED).bind(run_id).bind(bot.as_str()).fetch_optional(&mut *conn).await?;
    let Some((scenario, alias, lead_id, user_id, trace_id)) = asked else { return Ok(()) };
    let recipient = Recipient { lead_id, user_id };
    let run = NewRun { source_id: run_id, bot, endpoint_id: "", scenario: &scenario, recipient: &recipient, trace_id: &trace_id, exclusive: false, lease_until: 0 };
    if !insert_run_with_id(conn, &report_run_id(run_id), &run, now).await? {
        return Ok(());
    }
    let trace = TraceEvent {
        id: String::new(),
        trace_id: trace_id.clone(),
        source_system: "comops".into(),
        bot_id: bot.to_string(),
        endpoint: alias,
        user_id: recipient.user_id.clone(),
        lead_id: recipient.lead_id.clone(),
        step: "report.blocked".into(),
        status: "success".into(),
        http_status: 0,
        latency_ms: 0,
        dry_run: false,
        detail: crate::trace::Detail::BlockReported { channel: channel.to_string(), scenario }.to_string(),
        at: now,
    };
    super::traces::insert_traces(conn, &[&trace]).await
}
