//! Runs as the engine sees them: claim the ones that can move, save their
//! state after every step together with the messages it produced.
//!
//! A claim is a lease (`lease_until`) set by a conditional UPDATE, so
//! several workers and processes never advance one run at the same time,
//! and a run whose worker died is picked up again when the lease ends.

use super::traces::time_ordered_id;
use super::{now_millis, Store, StoreResult, WriteTurn};
use crate::trace::TraceEvent;
use crate::{BotId, Millis};
use serde_json::{Map, Value};
use super::doubtful_claims::Queue;
use super::group_commit::GroupCommit;
use super::send_hand_off::{HandedSends, SendHandOff, SendPlan};
use sqlx::Row;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

/// A run a worker may advance now.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedRun {
    pub id: String,
    pub bot_id: BotId,
    pub scenario: String,
    pub scenario_version: i64,
    pub lead_id: String,
    pub user_id: String,
    pub trace_id: String,
    pub status: String,
    pub state_json: String,
    pub params: Map<String, Value>,
    pub created_at: Millis,
    /// The lease this claim holds; saving checks it is still ours.
    pub lease_until: Millis,
}

/// A claimed run's lead as the executor reads it before an advance
/// ([`Store::run_contexts`]).
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    /// None when the lead does not exist (any more).
    pub lead: Option<super::leads::Lead>,
    /// Its active `(channel, chat_id)` addresses, opened, sorted, unique.
    pub addresses: Vec<(String, String)>,
}

/// A run as the studio lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub scenario: String,
    pub scenario_version: i64,
    /// `pending`, `waiting`, `done` or `failed`.
    pub status: String,
    /// The goal reached or the error.
    pub outcome: String,
    pub trace_id: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A message for one chat, produced by a step.
#[derive(Debug, Clone)]
pub struct NewOutboxMessage {
    /// Unique per message and chat: re-running the step inserts nothing.
    pub delivery_key: String,
    pub lead_id: String,
    pub channel: String,
    pub chat_id: String,
    pub payload: Value,
    /// When it may go (`send_hand_off`): queued unless the executor
    /// reserved it a slot on the dispatcher's clocks or paced it.
    pub plan: SendPlan,
}

/// How an outbox row stores its address: `chat_id` (per-chat order; the
/// blind index of a personal address) and `address` (the sealed personal
/// address, else '').
#[derive(Debug, Clone)]
pub(crate) struct OutboxAddress {
    pub chat_key: String,
    pub sealed: String,
}

/// How a save's messages go out: each one's [`OutboxAddress`], and where
/// the store hands those it writes `sending` (`send_hand_off`).
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub addresses: Vec<OutboxAddress>,
    pub hand_off: Option<SendHandOff>,
}

/// A run's progress as the group commit saves it, with how its messages
/// go out.
pub(crate) type ProgressSave = (ClaimedRun, RunProgress, Outgoing);

/// What a worker saves after advancing a run.
#[derive(Debug, Clone)]
pub struct RunProgress {
    pub state_json: String,
    /// `pending`, `waiting`, `done` or `failed`.
    pub status: String,
    pub wake_at: Option<Millis>,
    /// The goal reached or the error.
    pub outcome: String,
    pub messages: Vec<NewOutboxMessage>,
    pub traces: Vec<TraceEvent>,
    /// What the advance's `set`/`script` steps changed on the lead.
    pub lead_change: super::leads::LeadChange,
    /// Scenarios its `run` steps start for the same lead (new runs).
    pub start_runs: Vec<String>,
    /// The channel on which the person blocked the bot, when a message of
    /// the advance found the lead with no active address left because of
    /// it (blocked after the run was accepted): the run's endpoint hears of
    /// the block as if the message had met it (`Store::deactivate_address`'s
    /// report).
    pub blocked_on: Option<String>,
}

impl Store {
    /// Claims up to `limit` runs that are pending, or waiting with a wake
    /// time that has come, for `lease_ms` — except runs of leads an
    /// operator has taken over (they wait until the lead is handed back),
    /// other than block reports: the person cannot be written to by bot or
    /// operator, and the business system should hear it now.
    /// One conditional UPDATE takes the leases (one write, not one per run).
    pub async fn claim_runs(&self, now: Millis, limit: i64, lease_ms: i64) -> StoreResult<Vec<ClaimedRun>> {
        self.release_doubtful_claims(Queue::Runs).await?;
        let lease_until = now + lease_ms;
        // Candidates are read outside the write lane; the UPDATE
        // takes only those still free, so racing claimers lose nothing.
        let candidates: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM runs WHERE lease_until < $1 AND (status = 'pending' OR (status = 'waiting' AND wake_at IS NOT NULL AND wake_at <= $1)) \
             AND ({reports} OR NOT EXISTS (SELECT 1 FROM leads l WHERE l.bot_id = runs.bot_id AND l.id = runs.lead_id AND l.operator <> '')) \
             ORDER BY created_at LIMIT {}",
            limit.clamp(1, 500),
            reports = super::blocked::IS_REPORT,
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        if candidates.is_empty() {
            return Ok(vec![]);
        }
        let claimed = self.lease_runs(&candidates, now, lease_until).await;
        if let Err(err) = &claimed {
            if err.is_unreachable() {
                self.doubt_claim(Queue::Runs, &candidates, lease_until);
            }
        }
        claimed
    }

    /// Leases those of `candidates` still free until `lease_until` and reads
    /// them, in one transaction.
    async fn lease_runs(&self, candidates: &[String], now: Millis, lease_until: Millis) -> StoreResult<Vec<ClaimedRun>> {
        let placeholders = super::placeholders(3, candidates.len());
        let sql = format!(
            "UPDATE runs SET lease_until = $1, updated_at = $2 WHERE lease_until < $2 \
             AND (status = 'pending' OR (status = 'waiting' AND wake_at IS NOT NULL AND wake_at <= $2)) AND id IN ({placeholders}) RETURNING id"
        );
        // The leases and the rows they hand out are read in one
        // transaction: leases taken but never read (the database went away
        // in between) would hold their runs for the whole lease. A commit
        // whose answer is lost is the claimer's to hand back
        // (`doubtful_claims`).
        let mut turn = self.write_turn(super::Work::ClaimRuns).await;
        let mut tx = turn.begin().await?;
        let ids: Vec<String> = {
            let mut query = sqlx::query_scalar(&sql).bind(lease_until).bind(now);
            for id in candidates {
                query = query.bind(id);
            }
            query.fetch_all(&mut *tx).await?
        };
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let placeholders = super::placeholders(1, ids.len());
        let sql = format!("{CLAIMED_RUN_SELECT} WHERE r.id IN ({placeholders}) ORDER BY r.created_at");
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        rows.iter().map(|row| claimed_run(row, lease_until, &self.keyring)).collect()
    }

    /// Claims one pending or waiting run by id if no one holds it (an
    /// inbound reply claims its waiting run this way).
    pub async fn claim_run(&self, id: &str, now: Millis, lease_ms: i64) -> StoreResult<Option<ClaimedRun>> {
        let lease_until = now + lease_ms;
        let done = {
            let mut turn = self.write_turn(super::Work::ClaimRuns).await;
            sqlx::query("UPDATE runs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_until < $2 AND status IN ('pending', 'waiting')")
                .bind(lease_until)
                .bind(now)
                .bind(id)
                .execute(turn.connection().await?)
                .await?
        };
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(Some(self.claimed_run(id, lease_until).await?))
    }

    /// Reads a run this worker has just leased until `lease_until`.
    async fn claimed_run(&self, id: &str, lease_until: Millis) -> StoreResult<ClaimedRun> {
        let row = sqlx::query(&format!("{CLAIMED_RUN_SELECT} WHERE r.id = $1")).bind(id).fetch_one(&self.pool).await?;
        claimed_run(&row, lease_until, &self.keyring)
    }

    /// Saves a run's new state, its outbox messages and traces in one
    /// transaction, and releases the lease — only while the lease is still
    /// this claim's (otherwise nothing is saved). Saves arriving together
    /// share a commit ([`super::group_commit`]).
    pub async fn save_run_progress(&self, run: &ClaimedRun, progress: &RunProgress) -> StoreResult<()> {
        let saves = self.run_saves.get_or_init(|| GroupCommit::start(self.lane.clone(), super::Work::SaveRuns, commit_run_progress));
        // Sealed here, outside the commit: personal addresses of the
        // messages (by delivery key), personal lead attributes, the state.
        let mut progress = progress.clone();
        let addresses = progress
            .messages
            .iter()
            .map(|m| OutboxAddress {
                chat_key: self.address_key(&m.channel, &m.chat_id),
                sealed: if super::sealing::is_personal_channel(&m.channel) {
                    self.keyring.seal(&super::sealing::outbox_place(&m.delivery_key), &m.chat_id)
                } else {
                    String::new()
                },
            })
            .collect();
        if !progress.lead_change.attributes.is_empty() {
            progress.lead_change = self.seal_lead_change(run.bot_id.as_str(), &run.lead_id, &progress.lead_change);
        }
        // The run's variables hold what people answered (an `ask` for a
        // phone or an email) and what the business system said.
        if !progress.state_json.is_empty() {
            progress.state_json = self.keyring.seal(&super::sealing::run_state_place(&run.id), &progress.state_json);
        }
        saves.submit((run.clone(), progress, Outgoing { addresses, hand_off: self.send_hand_off.get().cloned() })).await
    }

    /// Moves a claimed run's lease from `held` to `until` (an advance about
    /// to wait on a step longer than its lease has left). False when the
    /// claim no longer holds it: another worker has the run.
    pub async fn extend_run_lease(&self, id: &str, held: Millis, until: Millis) -> StoreResult<bool> {
        let mut turn = self.write_turn(super::Work::ClaimRuns).await;
        let done = sqlx::query("UPDATE runs SET lease_until = $1 WHERE id = $2 AND lease_until = $3")
            .bind(until)
            .bind(id)
            .bind(held)
            .execute(turn.connection().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives a claimed run back untouched, if the claim still holds it, so
    /// any worker may claim it now rather than when the lease ends.
    pub async fn release_run(&self, run: &ClaimedRun) -> StoreResult<()> {
        let mut turn = self.write_turn(super::Work::ClaimRuns).await;
        sqlx::query("UPDATE runs SET lease_until = 0 WHERE id = $1 AND lease_until = $2")
            .bind(&run.id)
            .bind(run.lease_until)
            .execute(turn.connection().await?)
            .await?;
        Ok(())
    }

    /// What the executor reads about each run's lead before advancing it
    /// (the lead as it is now, its active addresses), for a batch of
    /// claimed runs in two queries rather than two per run. Runs whose lead
    /// does not exist get no lead and no addresses.
    pub async fn run_contexts(&self, runs: &[ClaimedRun]) -> StoreResult<std::collections::HashMap<String, RunContext>> {
        use std::collections::HashMap;
        let mut leads: Vec<(&str, &str)> = runs.iter().map(|run| (run.bot_id.as_str(), run.lead_id.as_str())).collect();
        leads.sort_unstable();
        leads.dedup();
        let mut found: HashMap<(String, String), super::leads::Lead> = HashMap::new();
        let mut addresses: HashMap<(String, String), Vec<(String, String, String)>> = HashMap::new();
        // By (bot, lead) through a list joined to each table, so both are
        // read by their index (an `IN` on the lead alone scans them), in
        // chunks of the three cached shapes.
        for chunk in super::row_chunks(&leads) {
            let wanted = format!("WITH wanted (bot, lead) AS (VALUES {})", super::row_placeholders(2, chunk.len()));
            let sql = format!(
                "{wanted} SELECT l.bot_id, l.id, l.attributes_json, l.tags_json, l.status, l.operator, l.created_at, l.updated_at \
                 FROM wanted JOIN leads l ON l.bot_id = wanted.bot AND l.id = wanted.lead"
            );
            let mut query = sqlx::query(&sql);
            for (bot, lead) in chunk {
                query = query.bind(*bot).bind(*lead);
            }
            for row in query.fetch_all(&self.pool).await? {
                let bot: String = row.try_get("bot_id")?;
                let lead = self.opened_lead(&BotId::from_store(bot.clone()), &row)?;
                found.insert((bot, lead.id.clone()), lead);
            }
            let sql = format!(
                "{wanted} SELECT i.bot_id, i.lead_id, i.id, i.channel, i.chat_id \
                 FROM wanted JOIN identity_links i ON i.bot_id = wanted.bot AND i.lead_id = wanted.lead WHERE i.is_active = 1"
            );
            let mut query = sqlx::query_as::<_, (String, String, String, String, String)>(&sql);
            for (bot, lead) in chunk {
                query = query.bind(*bot).bind(*lead);
            }
            for (bot, lead, id, channel, chat_id) in query.fetch_all(&self.pool).await? {
                addresses.entry((bot, lead)).or_default().push((id, channel, chat_id));
            }
        }
        let mut contexts = HashMap::new();
        for run in runs {
            let key = (run.bot_id.as_str().to_string(), run.lead_id.clone());
            let context = RunContext {
                lead: found.get(&key).cloned(),
                addresses: self.open_addresses(addresses.get(&key).cloned().unwrap_or_default())?,
            };
            contexts.insert(run.id.clone(), context);
        }
        Ok(contexts)
    }

    /// The active channel addresses `(channel, chat_id)` of a lead.
    pub async fn addresses_of_lead(&self, bot: &BotId, lead_id: &str) -> StoreResult<Vec<(String, String)>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, channel, chat_id FROM identity_links WHERE bot_id = $1 AND lead_id = $2 AND is_active = 1")
                .bind(bot.as_str())
                .bind(lead_id)
                .fetch_all(&self.pool)
                .await?;
        self.open_addresses(rows)
    }

    /// `(channel, chat_id)` of identity link rows `(id, channel, stored
    /// chat_id)`, opened, sorted and without repeats.
    pub(crate) fn open_addresses(&self, rows: Vec<(String, String, String)>) -> StoreResult<Vec<(String, String)>> {
        let mut addresses = Vec::with_capacity(rows.len());
        for (id, channel, stored) in rows {
            let chat_id = self.keyring.open(&super::sealing::link_place(&id), &stored)?;
            addresses.push((channel, chat_id));
        }
        addresses.sort();
        addresses.dedup();
        Ok(addresses)
    }

    /// The run of `lead` waiting for a reply (at an `ask`) on `bot`, the
    /// newest if several. A run paused in a `wait` step is `waiting` too,
    /// but not for the person: a reply goes past it to the run that asked,
    /// so only the run's state (sealed) can tell them apart. Read a few at
    /// a time, newest first, until one asks; a state that cannot be read
    /// is not waiting for this reply.
    pub async fn waiting_run_of_lead(&self, bot: &BotId, lead_id: &str) -> StoreResult<Option<String>> {
        const PAGE: i64 = 8;
        let mut offset = 0;
        loop {
            let waiting: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, state_json FROM runs WHERE bot_id = $1 AND lead_id = $2 AND status = 'waiting' \
                 ORDER BY updated_at DESC, id LIMIT $3 OFFSET $4",
            )
            .bind(bot.as_str())
            .bind(lead_id)
            .bind(PAGE)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
            let read = waiting.len() as i64;
            for (id, stored) in waiting {
                let state = match self.keyring.open(&super::sealing::run_state_place(&id), &stored) {
                    Ok(state) => state,
                    Err(err) => {
                        tracing::warn!(run = %id, error = %err, "a waiting run's state cannot be opened; a reply passes it by");
                        continue;
                    }
                };
                let asks = serde_json::from_str::<crate::scenario::RunState>(&state)
                    .is_ok_and(|state| matches!(state.waiting, Some(crate::scenario::Waiting::Reply { .. })));
                if asks {
                    return Ok(Some(id));
                }
            }
            if read < PAGE {
                return Ok(None);
            }
            offset += PAGE;
        }
    }

    /// Starts a run of `scenario` for a lead outside any business event: the
    /// bot's entry scenario for someone who wrote in, or a `run` step's
    /// scenario. No params; the executor picks it up on its next pass.
    pub async fn start_run(&self, bot: &BotId, lead_id: &str, user_id: &str, scenario: &str, trace_id: &str) -> StoreResult<()> {
        let recipient = super::events::Recipient { lead_id: lead_id.into(), user_id: user_id.into() };
        let run = super::events::NewRun { source_id: "", bot, endpoint_id: "", scenario, recipient: &recipient, trace_id, exclusive: false, lease_until: 0 };
        let mut conn = self.pool.acquire().await?;
        super::events::insert_run(&mut conn, &run, now_millis()).await?;
        Ok(())
    }

    /// The business user linked to a lead (its newest active link), or "".
    pub async fn user_of_lead(&self, bot: &BotId, lead_id: &str) -> StoreResult<String> {
        let user: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM identity_links WHERE bot_id = $1 AND lead_id = $2 AND is_active = 1 AND user_id <> '' ORDER BY connected_at DESC LIMIT 1",
        )
        .bind(bot.as_str())
        .bind(lead_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user.unwrap_or_default())
    }

    /// A lead's runs, newest first, for the studio.
    pub async fn runs_of_lead(&self, bot: &BotId, lead_id: &str, limit: i64) -> StoreResult<Vec<RunSummary>> {
        let rows: Vec<(String, String, i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, scenario, scenario_version, status, outcome, trace_id, created_at, updated_at FROM runs \
             WHERE bot_id = $1 AND lead_id = $2 ORDER BY created_at DESC LIMIT $3",
        )
        .bind(bot.as_str())
        .bind(lead_id)
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, scenario, scenario_version, status, outcome, trace_id, created_at, updated_at)| RunSummary {
                id,
                scenario,
                scenario_version,
                status,
                outcome,
                trace_id,
                created_at,
                updated_at,
            })
            .collect())
    }

    /// `(status, state_json)` of the newest `limit` runs of version
    /// `version` of a scenario: the studio canvas's trace overlay counts
    /// the steps they entered and where they are.
    pub async fn run_states_of_version(&self, bot: &BotId, scenario: &str, version: i64, limit: i64) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT status, state_json FROM runs WHERE bot_id = $1 AND scenario = $2 AND scenario_version = $3 \
             ORDER BY created_at DESC LIMIT $4",
        )
        .bind(bot.as_str())
        .bind(scenario)
        .bind(version)
        .bind(limit.clamp(1, 50_000))
        .fetch_all(&self.pool)
        .await?)
    }

    /// `(status, outcome)` of a run, for tests and the studio.
    pub async fn run_status(&self, id: &str) -> StoreResult<Option<(String, String)>> {
        Ok(sqlx::query_as("SELECT status, outcome FROM runs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?)
    }
}

/// Commits a batch of run saves in one transaction: on SQLite in two
/// trips ([`progress_in_two_trips`]); on PostgreSQL, when each run is
/// saved once and none changes its lead or starts runs (nearly all), in
/// one statement ([`progress_in_one_statement`]).
fn commit_run_progress<'a>(turn: &'a mut WriteTurn<'_>, jobs: &'a [ProgressSave]) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + 'a>> {
    Box::pin(async move {
        let now = now_millis();
        let once_each = jobs.iter().map(|(run, _, _)| run.id.as_str()).collect::<std::collections::HashSet<_>>().len() == jobs.len();
        let plain = once_each && jobs.iter().all(|(_, p, _)| p.lead_change.is_empty() && p.start_runs.is_empty() && p.blocked_on.is_none());
        let dialect = super::Dialect::of(turn.connection().await?);
        if dialect == super::Dialect::Postgres && plain {
            return progress_in_one_statement(turn.connection().await?, jobs, now).await;
        }
        if dialect == super::Dialect::Sqlite && once_each {
            turn.trip_begins();
            let written = progress_in_two_trips(turn.connection().await?, jobs, now).await;
            turn.trip_ended(written.as_ref().err().and_then(super::StoreError::database));
            return written;
        }
        let mut tx = turn.begin().await?;
        // The runs' new states, many rows per statement (each fenced by its
        // lease); then the lead changes and started runs of those saved,
        // and their messages and traces, many rows per statement.
        let saved = save_states(&mut tx, jobs, now).await?;
        let follow = FollowUps::of(jobs, &saved);
        follow.change_leads_and_start_runs(&mut tx, now).await?;
        insert_outbox(&mut tx, &follow.messages, now).await?;
        let traces: Vec<TraceEvent> = follow.traces.iter().map(|trace| TraceEvent { at: super::traces::At::OwnOr(now).of(trace), ..(*trace).clone() }).collect();
        super::traces::insert_traces(&mut tx, &traces.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        // Every message was queued here: the dispatcher looks at once.
        if let Some(hand_off) = jobs.iter().find_map(|(_, _, outgoing)| outgoing.hand_off.as_ref()) {
            hand_off.hand(HandedSends { sending: Vec::new(), queued_due: !follow.messages.is_empty() });
        }
        Ok(())
    })
}

/// What the saved runs of a batch write after their states: lead
/// changes, runs their `run` steps start, block reports, messages and
/// traces.
struct FollowUps<'a> {
    changed: Vec<&'a ProgressSave>,
    starters: Vec<(&'a ClaimedRun, &'a RunProgress, super::events::Recipient)>,
    /// Runs whose messages found the lead blocked, with the channel.
    blocked: Vec<(&'a ClaimedRun, &'a str)>,
    messages: Vec<(&'a ClaimedRun, &'a NewOutboxMessage, &'a OutboxAddress)>,
    /// As the advances made them: each at its own time, or the save's
    /// where unset (`At::OwnOr`).
    traces: Vec<&'a TraceEvent>,
}

impl<'a> FollowUps<'a> {
    /// Those of the runs in `saved`; a run not saved lost its lease, and
    /// its advance is dropped.
    fn of(jobs: &'a [ProgressSave], saved: &std::collections::HashSet<&str>) -> Self {
        let mut follow = FollowUps { changed: Vec::new(), starters: Vec::new(), blocked: Vec::new(), messages: Vec::new(), traces: Vec::new() };
        for job in jobs {
            let (run, progress, outgoing) = job;
            if !saved.contains(run.id.as_str()) {
                tracing::warn!(run = %run.id, "lost the run's lease before saving; this advance is dropped");
                continue;
            }
            if !progress.lead_change.is_empty() {
                follow.changed.push(job);
            }
            if !progress.start_runs.is_empty() {
                follow.starters.push((run, progress, super::events::Recipient { lead_id: run.lead_id.clone(), user_id: run.user_id.clone() }));
            }
            if let Some(channel) = &progress.blocked_on {
                follow.blocked.push((run, channel));
            }
            follow.messages.extend(progress.messages.iter().zip(&outgoing.addresses).map(|(message, address)| (run, message, address)));
            follow.traces.extend(&progress.traces);
        }
        follow
    }

    /// Writes the lead changes, inserts the started runs and starts the
    /// block reports asked for.
    async fn change_leads_and_start_runs(&self, conn: &mut sqlx::AnyConnection, now: Millis) -> StoreResult<()> {
        for (run, progress, _) in &self.changed {
            super::leads::apply_change(&mut *conn, &run.bot_id, &run.lead_id, &progress.lead_change, now).await?;
        }
        let started: Vec<super::events::NewRun> = self
            .starters
            .iter()
            .flat_map(|(run, progress, recipient)| {
                progress.start_runs.iter().map(move |scenario| super::events::NewRun {
                    source_id: &run.id,
                    bot: &run.bot_id,
                    endpoint_id: "",
                    scenario,
                    recipient,
                    trace_id: &run.trace_id,
                    exclusive: false,
                    lease_until: 0,
                })
            })
            .collect();
        super::events::insert_runs(&mut *conn, &started, now).await?;
        for (run, channel) in &self.blocked {
            super::blocked::report(&mut *conn, &run.bot_id, channel, &run.id, now).await?;
        }
        Ok(())
    }
}

/// SQLite, first trip of a batch of run saves (`one_trip`): begin, the
/// states (as [`save_states`]). Binds: the saves, the time.
static STATES_TRIP: LazyLock<String> =
    LazyLock::new(|| format!("BEGIN IMMEDIATE; WITH {} {}", saves(&super::one_trip::fields(6), super::one_trip::ROWS), UPDATE_STATES.replace("{time}", "?")));

/// SQLite, last trip: the messages (as [`insert_outbox`]; those planned a
/// slot `sending` under the send lease where their chat's order allows,
/// see `send_hand_off`), the traces, commit. Binds: the send lease, the
/// time, the messages, the traces. Returns the messages inserted.
static MESSAGES_TRIP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, address, payload_json, trace_id, status, lease_until, next_attempt_at, created_at) \
         SELECT {}, CASE WHEN goes THEN 'sending' ELSE 'pending' END, CASE WHEN goes THEN ? ELSE 0 END, value ->> 11, ? \
         FROM (SELECT value, value ->> 10 = 1 AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.bot_id = value ->> 3 AND p.channel = value ->> 5 \
                                                      AND p.chat_id = value ->> 6 AND p.status IN ('pending', 'claimed', 'sending')) AS goes \
               FROM {}) \
         WHERE true ON CONFLICT (delivery_key) DO NOTHING RETURNING id, delivery_key, status, next_attempt_at; \
         {}; \
         COMMIT",
        super::one_trip::fields(10),
        super::one_trip::ROWS,
        *super::traces::INSERT_JSON_ROWS
    )
});

/// The rows of a batch's new messages as one JSON array (`one_trip`):
/// id, delivery key, run, bot, lead, channel, chat, address, payload,
/// trace, whether it goes `sending` at the save (1: planned a slot, the
/// store hands sends over, and it is the first of its chat in the batch —
/// a statement does not see its own rows) and when it is due.
fn message_rows<'a>(messages: impl Iterator<Item = (&'a ClaimedRun, &'a NewOutboxMessage, &'a OutboxAddress)>, now: Millis, sends_handed: bool) -> String {
    let mut chats = std::collections::HashSet::new();
    let rows: Vec<_> = messages
        .map(|(run, message, address)| {
            let first = chats.insert((run.bot_id.as_str(), message.channel.as_str(), address.chat_key.as_str()));
            let (goes, due) = match message.plan {
                SendPlan::At(_) => (sends_handed && first, now),
                SendPlan::After(at) => (false, at),
                SendPlan::Queue => (false, now),
            };
            (
                time_ordered_id("msg_", now),
                &message.delivery_key,
                &run.id,
                run.bot_id.as_str(),
                &message.lead_id,
                &message.channel,
                &address.chat_key,
                &address.sealed,
                super::endpoints::json_text(&message.payload),
                &run.trace_id,
                i64::from(goes),
                due,
            )
        })
        .collect();
    super::endpoints::json_text(&rows)
}

/// PostgreSQL: the saves of a batch ([`save_rows`]), its messages
/// ([`message_rows`]) and its traces, each with its run (the statement
/// writes only those of the runs it saves).
fn pg_progress_rows(jobs: &[ProgressSave], now: Millis) -> (String, String, String) {
    let messages = jobs.iter().flat_map(|(run, progress, outgoing)| progress.messages.iter().zip(&outgoing.addresses).map(move |(message, address)| (run, message, address)));
    let traces = jobs.iter().flat_map(|(run, progress, _)| progress.traces.iter().map(move |trace| (run.id.as_str(), trace)));
    let traces = super::traces::json_rows_with(traces, super::traces::At::OwnOr(now));
    (save_rows(jobs), message_rows(messages, now, false), traces)
}

/// The saves of a batch as one JSON array (rows of [`saves`]): run,
/// claim, state, status, wake time, outcome.
fn save_rows(jobs: &[ProgressSave]) -> String {
    let saves: Vec<_> = jobs.iter().map(|(run, p, _)| (&run.id, run.lease_until, &p.state_json, &p.status, p.wake_at, &p.outcome)).collect();
    super::endpoints::json_text(&saves)
}

/// The saves of a batch as a table `saves` for [`UPDATE_STATES`]:
/// `fields` are the fields of a row, `rows` where the rows come from.
fn saves(fields: &str, rows: &str) -> String {
    format!("saves (run_id, claim, new_state, new_status, new_wake_at, new_outcome) AS (SELECT {fields} FROM {rows})")
}

/// The states of the runs in `saves`, each only where the run's lease is
/// still the claim's, returning the runs saved; `{time}` is the time.
const UPDATE_STATES: &str = "UPDATE runs SET state_json = saves.new_state, status = saves.new_status, wake_at = saves.new_wake_at, \
     outcome = saves.new_outcome, lease_until = 0, updated_at = {time} \
     FROM saves WHERE runs.id = saves.run_id AND runs.lease_until = saves.claim RETURNING runs.id";

/// A run not saved lost its lease, and its advance is dropped (as
/// [`FollowUps::of`] says).
fn warn_unsaved(jobs: &[ProgressSave], saved_ids: &[String]) {
    let saved: std::collections::HashSet<&str> = saved_ids.iter().map(String::as_str).collect();
    for (run, _, _) in jobs.iter().filter(|(run, _, _)| !saved.contains(run.id.as_str())) {
        tracing::warn!(run = %run.id, "lost the run's lease before saving; this advance is dropped");
    }
}

/// SQLite: a batch of run saves (each run once) in two trips to the
/// connection's thread (`one_trip`) — the states, then the messages and
/// traces with the commit — and, between them, a statement per lead
/// change and for any runs started (rare). Rolled back if it fails; once
/// committed, the messages written `sending` go to the batch's hand-off.
async fn progress_in_two_trips(conn: &mut sqlx::AnyConnection, jobs: &[ProgressSave], now: Millis) -> StoreResult<()> {
    let hand_off = jobs.iter().find_map(|(_, _, outgoing)| outgoing.hand_off.as_ref());
    let lease_until = now + hand_off.map_or(0, |h| h.lease_ms);
    let written: StoreResult<()> = async {
        let saved_ids: Vec<String> = sqlx::query_scalar(STATES_TRIP.as_str()).bind(save_rows(jobs)).bind(now).fetch_all(&mut *conn).await?;
        let saved: std::collections::HashSet<&str> = saved_ids.iter().map(String::as_str).collect();
        let follow = FollowUps::of(jobs, &saved);
        follow.change_leads_and_start_runs(&mut *conn, now).await?;
        let inserted = sqlx::query(MESSAGES_TRIP.as_str())
            .bind(lease_until)
            .bind(now)
            .bind(message_rows(follow.messages.iter().copied(), now, hand_off.is_some()))
            .bind(super::traces::json_rows(follow.traces.iter().copied(), super::traces::At::OwnOr(now)))
            .fetch_all(&mut *conn)
            .await?;
        let Some(hand_off) = hand_off else { return Ok(()) };
        // Committed: what cannot be read back waits out its send lease
        // (interrupted, never resent) rather than failing the saves.
        match handed_sends(&follow, &inserted, now, lease_until) {
            Ok(handed) => hand_off.hand(handed),
            Err(err) => tracing::error!(error = %err, "cannot read back the messages a save wrote sending"),
        }
        Ok(())
    }
    .await;
    if written.is_err() {
        super::one_trip::roll_back(conn).await;
    }
    written
}

/// What a committed batch hands the dispatcher: the messages `inserted`
/// `sending`, each with its planned slot, and whether any queued one is
/// due now.
fn handed_sends(follow: &FollowUps<'_>, inserted: &[sqlx::any::AnyRow], now: Millis, lease_until: Millis) -> StoreResult<HandedSends> {
    let mut handed = HandedSends::default();
    let by_key: std::collections::HashMap<&str, _> = follow.messages.iter().map(|m| (m.1.delivery_key.as_str(), *m)).collect();
    for row in inserted {
        let status: String = row.try_get("status")?;
        if status != "sending" {
            handed.queued_due |= row.try_get::<i64, _>("next_attempt_at")? <= now;
            continue;
        }
        let key: String = row.try_get("delivery_key")?;
        let Some((run, message, address)) = by_key.get(key.as_str()) else { continue };
        let SendPlan::At(slot) = message.plan else { continue };
        let sending = super::outbox::OutboxMessage {
            id: row.try_get("id")?,
            bot_id: run.bot_id.clone(),
            lead_id: message.lead_id.clone(),
            run_id: run.id.clone(),
            channel: message.channel.clone(),
            chat_id: message.chat_id.clone(),
            chat_key: address.chat_key.clone(),
            payload: message.payload.clone(),
            trace_id: run.trace_id.clone(),
            attempts: 0,
            lease_until,
        };
        handed.sending.push((sending, slot));
    }
    Ok(handed)
}

/// PostgreSQL: a batch of run saves (each run once, none changing its
/// lead or starting runs) as one statement — the states (as
/// [`save_states`]), and the messages and traces of the runs it saved.
/// Binds: $1 the saves, $2 the time, $3 the messages, $4 the traces
/// (each with its run).
static PG_PROGRESS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {}, saved AS ({}), \
         new_messages AS (INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, address, payload_json, trace_id, status, next_attempt_at, created_at) \
         SELECT {}, 'pending', $2, $2 FROM {} WHERE value ->> 2 IN (SELECT id FROM saved) ON CONFLICT (delivery_key) DO NOTHING), \
         new_traces AS ({} WHERE value ->> 14 IN (SELECT id FROM saved)) \
         SELECT id FROM saved",
        saves(&super::one_trip::pg_fields(6, &[1, 4]), &super::one_trip::pg_rows(1)),
        UPDATE_STATES.replace("{time}", "$2"),
        super::one_trip::pg_fields(10, &[]),
        super::one_trip::pg_rows(3),
        super::traces::pg_insert_json_rows(4)
    )
});

/// PostgreSQL: a batch of run saves in one statement ([`PG_PROGRESS`]),
/// committed on its own.
async fn progress_in_one_statement(conn: &mut sqlx::AnyConnection, jobs: &[ProgressSave], now: Millis) -> StoreResult<()> {
    let (saves, messages, traces) = pg_progress_rows(jobs, now);
    let saved: Vec<String> = sqlx::query_scalar(PG_PROGRESS.as_str()).bind(saves).bind(now).bind(messages).bind(traces).fetch_all(&mut *conn).await?;
    warn_unsaved(jobs, &saved);
    Ok(())
}

/// Writes the runs' new states and releases their leases, many rows per
/// statement, only where the lease is still the claim's: a worker whose
/// lease ran out (and whose run another worker has since advanced) must
/// not overwrite newer state. Returns the ids of the runs saved.
async fn save_states<'a>(conn: &mut sqlx::AnyConnection, jobs: &'a [ProgressSave], now: Millis) -> StoreResult<std::collections::HashSet<&'a str>> {
    const WIDTH: usize = 6;
    // One save per run in a batch (a run is saved once per claim); were a
    // run there twice, one statement could not say which state wins, so
    // such a batch goes one row per statement.
    let ids: std::collections::HashSet<&'a str> = jobs.iter().map(|(run, _, _)| run.id.as_str()).collect();
    let chunks: Vec<&[ProgressSave]> = if ids.len() == jobs.len() { super::row_chunks(jobs).collect() } else { jobs.chunks(1).collect() };
    let mut saved = std::collections::HashSet::new();
    for chunk in chunks {
        // The time is the last bind, so the binds run in order
        // (`statement_texts`).
        let sql = super::statement_texts::multi_row(conn, "save_states", chunk.len(), || {
            let rows = super::values_rows(1, WIDTH, chunk.len(), |b| {
                format!("(${}, CAST(${} AS BIGINT), ${}, ${}, CAST(${} AS BIGINT), ${})", b, b + 1, b + 2, b + 3, b + 4, b + 5)
            });
            format!(
                "WITH saves (run_id, claim, new_state, new_status, new_wake_at, new_outcome) AS (VALUES {rows}) \
                 UPDATE runs SET state_json = saves.new_state, status = saves.new_status, wake_at = saves.new_wake_at, \
                 outcome = saves.new_outcome, lease_until = 0, updated_at = ${} \
                 FROM saves WHERE runs.id = saves.run_id AND runs.lease_until = saves.claim RETURNING id",
                WIDTH * chunk.len() + 1
            )
        });
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for (run, progress, _) in chunk {
            query = query.bind(&run.id).bind(run.lease_until).bind(&progress.state_json).bind(&progress.status).bind(progress.wake_at).bind(&progress.outcome);
        }
        let query = query.bind(now);
        saved.extend(query.fetch_all(&mut *conn).await?.iter().filter_map(|id| ids.get(id.as_str()).copied()));
    }
    Ok(saved)
}

/// Queues runs' messages (due at once, or a paced one at its time), many
/// rows per statement. Ids are time-ordered in slice order, which is each
/// chat's delivery order; a delivery key already queued (a replayed
/// advance) inserts nothing.
async fn insert_outbox(conn: &mut sqlx::AnyConnection, messages: &[(&ClaimedRun, &NewOutboxMessage, &OutboxAddress)], now: Millis) -> StoreResult<()> {
    for chunk in super::row_chunks(messages) {
        let sql = super::statement_texts::multi_row(conn, "insert_outbox", chunk.len(), || {
            let rows = super::values_rows(1, 12, chunk.len(), |b| format!("({}, 'pending', ${}, ${})", super::placeholders(b, 10), b + 10, b + 11));
            format!(
                "INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, address, payload_json, trace_id, status, next_attempt_at, created_at) \
                 VALUES {rows} ON CONFLICT (delivery_key) DO NOTHING"
            )
        });
        let mut query = sqlx::query(&sql);
        for (run, message, address) in chunk {
            query = query
                .bind(time_ordered_id("msg_", now))
                .bind(&message.delivery_key)
                .bind(&run.id)
                .bind(run.bot_id.as_str())
                .bind(&message.lead_id)
                .bind(&message.channel)
                .bind(&address.chat_key)
                .bind(&address.sealed)
                .bind(super::endpoints::json_text(&message.payload))
                .bind(&run.trace_id)
                .bind(match message.plan {
                    SendPlan::After(at) => at,
                    SendPlan::Queue | SendPlan::At(_) => now,
                })
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A run with its params (from its event, its job, or the run that
/// started it), as a worker needs it.
/// Each source's params are sealed for their own row, so the source is
/// read along with them.
const CLAIMED_RUN_SELECT: &str =
    "SELECT r.id, r.bot_id, r.scenario, r.scenario_version, r.lead_id, r.user_id, r.trace_id, r.status, r.state_json, r.created_at, r.event_id, \
     (SELECT e.params_json FROM events e WHERE e.id = r.event_id) AS event_params, \
     (SELECT j.params_json FROM scheduled_jobs j WHERE j.id = r.event_id) AS job_params, \
     (SELECT p.event_id FROM runs p WHERE p.id = r.event_id) AS parent_event, \
     (SELECT e.params_json FROM events e WHERE e.id = (SELECT p.event_id FROM runs p WHERE p.id = r.event_id)) AS parent_params \
     FROM runs r";

fn claimed_run(row: &sqlx::any::AnyRow, lease_until: Millis, keyring: &crate::seal::Keyring) -> StoreResult<ClaimedRun> {
    let source: String = row.try_get("event_id")?;
    let params = match (
        row.try_get::<Option<String>, _>("event_params")?,
        row.try_get::<Option<String>, _>("job_params")?,
        row.try_get::<Option<String>, _>("parent_event")?,
        row.try_get::<Option<String>, _>("parent_params")?,
    ) {
        (Some(params), _, _, _) => keyring.open(&super::sealing::event_place(&source), &params)?,
        (None, Some(params), _, _) => keyring.open(&super::sealing::job_place(&source), &params)?,
        (None, None, Some(parent), Some(params)) => keyring.open(&super::sealing::event_place(&parent), &params)?,
        _ => "{}".to_string(),
    };
    let id: String = row.try_get("id")?;
    let state_json: String = row.try_get("state_json")?;
    Ok(ClaimedRun {
        state_json: keyring.open(&super::sealing::run_state_place(&id), &state_json)?,
        id,
        bot_id: BotId::from_store(row.try_get("bot_id")?),
        scenario: row.try_get("scenario")?,
        scenario_version: row.try_get("scenario_version")?,
        lead_id: row.try_get("lead_id")?,
        user_id: row.try_get("user_id")?,
        trace_id: row.try_get("trace_id")?,
        status: row.try_get("status")?,
        params: serde_json::from_str(&params).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        lease_until,
    })
}
