//! Accepting business events durably.
//!
//! [`Store::accept_event`] writes, in one transaction, the event, one
//! pending run per resolved lead, the idempotency record with the exact
//! response body, the `api.call` trace event, and a `run.skipped` one when
//! leads were skipped (a run from the endpoint still active for them).
//! `call/{alias}` answers 200 only after this commits, so a crash after
//! the answer loses nothing.

mod at_once;

use super::traces::time_ordered_id;
use super::{now_millis, Store, StoreError, StoreResult};
use crate::call::Recipients;
use crate::trace::TraceEvent;
use crate::{BotId, Endpoint, EventId, TokenId};
use serde_json::{Map, Value};

/// Idempotency records are kept at least this long.
pub const IDEMPOTENCY_TTL_MS: i64 = 48 * 3600 * 1000;

/// What an idempotency key says about a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Replay {
    /// New key: go on.
    Fresh,
    /// Same key, same request: answer this again.
    Same { http_status: u16, body: String },
    /// Same key, different request.
    Conflict,
}

/// A resolved lead that gets a run, with the business id that named it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    pub lead_id: String,
    pub user_id: String,
}

/// An event to accept, owned so it can wait in the writer's queue.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: EventId,
    pub bot: BotId,
    pub endpoint: Endpoint,
    pub token: TokenId,
    pub trace: TraceEvent,
    pub params: Map<String, Value>,
    pub recipients: Recipients,
    pub leads: Vec<Recipient>,
    /// `(key, request hash)` when the caller sent an `Idempotency-Key`.
    pub idempotency: Option<(String, String)>,
    pub http_status: u16,
    pub response_body: String,
    /// Hand the event's runs to this process's executor: they are written
    /// already leased to it for this long (ms) and come back in
    /// [`Accepted::handed`], so no claim has to find them. None: they wait
    /// pending for any claimer. The event writer sets it
    /// ([`super::writer::RunHandOff`]).
    pub hand_off_ms: Option<i64>,
}

/// How an accepted event turned into runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accepted {
    pub runs: usize,
    /// Leads skipped because a run from this endpoint is still active.
    pub skipped_active: usize,
    /// Its runs, leased to the caller as claimed (with
    /// [`NewEvent::hand_off_ms`]; else empty); the event writer passes
    /// them on to the executor.
    pub handed: Vec<super::runs::ClaimedRun>,
    /// How many runs were handed off that way (they need no claim).
    pub handed_off: usize,
}

/// A run to create: for an event (or a scheduled job) and one lead.
pub(crate) struct NewRun<'a> {
    /// The event or job that caused the run.
    pub source_id: &'a str,
    pub bot: &'a BotId,
    /// Empty for runs started by a schedule.
    pub endpoint_id: &'a str,
    pub scenario: &'a str,
    pub recipient: &'a Recipient,
    pub trace_id: &'a str,
    /// At most one active run of this endpoint per lead.
    pub exclusive: bool,
    /// Written already leased until then (handed to the executor); 0: free.
    pub lease_until: crate::Millis,
}

/// Inserts a pending run inside the caller's transaction; it records the
/// scenario's current version (0 if the scenario does not exist yet).
/// Returns false when the run is `exclusive` and the lead already has an
/// active run of this endpoint (the unique index `runs_one_active` decides,
/// so two concurrent calls cannot both start one).
pub(crate) async fn insert_run(conn: &mut sqlx::AnyConnection, run: &NewRun<'_>, now: crate::Millis) -> Result<bool, sqlx::Error> {
    Ok(insert_runs(conn, std::slice::from_ref(run), now).await?.first().is_some_and(Option::is_some))
}

/// [`insert_run`] for many runs, many rows per statement (chunks of
/// [`super::row_chunks`]); one entry per run, in order: its id and the
/// scenario version it recorded if it was inserted. The inserted rows come
/// back (`RETURNING`), so a run the unique index skipped is known without
/// a statement of its own.
pub(crate) async fn insert_runs(conn: &mut sqlx::AnyConnection, runs: &[NewRun<'_>], now: crate::Millis) -> Result<Vec<Option<(String, i64)>>, sqlx::Error> {
    let ids: Vec<String> = runs.iter().map(|_| time_ordered_id("run_", now)).collect();
    insert_runs_named(conn, runs, ids, now).await
}

/// [`insert_run`] with the run's id chosen by the caller: false when a run
/// of that id exists already (or the run is `exclusive` and skipped).
pub(crate) async fn insert_run_with_id(conn: &mut sqlx::AnyConnection, id: &str, run: &NewRun<'_>, now: crate::Millis) -> Result<bool, sqlx::Error> {
    Ok(insert_runs_named(conn, std::slice::from_ref(run), vec![id.to_string()], now).await?.first().is_some_and(Option::is_some))
}

/// [`insert_runs`] with one id per run given.
async fn insert_runs_named(conn: &mut sqlx::AnyConnection, runs: &[NewRun<'_>], ids: Vec<String>, now: crate::Millis) -> Result<Vec<Option<(String, i64)>>, sqlx::Error> {
    // Each bind once and in order (a value the row uses twice is bound
    // twice), so SQLite binds them anonymously (`statement_texts`).
    const WIDTH: usize = 14;
    let mut inserted = std::collections::HashMap::new();
    let mut offset = 0;
    for chunk in super::row_chunks(runs) {
        let sql = super::statement_texts::multi_row(conn, "insert_runs", chunk.len(), || {
            let rows = super::values_rows(1, WIDTH, chunk.len(), |b| {
                let p = |i: usize| format!("${}", b + i);
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, 'pending', {}, {}, (SELECT COALESCE(MAX(version), 0) FROM scenario_versions WHERE bot_id = {} AND name = {}), {}, {})",
                    p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12), p(13)
                )
            });
            format!(
                "INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, user_id, trace_id, status, created_at, updated_at, scenario_version, exclusive, lease_until) \
                 VALUES {rows} ON CONFLICT DO NOTHING RETURNING id, scenario_version"
            )
        });
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
        for (run, id) in chunk.iter().zip(&ids[offset..]) {
            query = query
                .bind(id.as_str())
                .bind(run.source_id)
                .bind(run.bot.as_str())
                .bind(run.endpoint_id)
                .bind(run.scenario)
                .bind(&run.recipient.lead_id)
                .bind(&run.recipient.user_id)
                .bind(run.trace_id)
                .bind(now)
                .bind(now)
                .bind(run.bot.as_str())
                .bind(run.scenario)
                .bind(run.exclusive as i64)
                .bind(run.lease_until);
        }
        inserted.extend(query.fetch_all(&mut *conn).await?);
        offset += chunk.len();
    }
    Ok(ids.into_iter().map(|id| inserted.remove(&id).map(|version| (id, version))).collect())
}

/// The `run.skipped` step of a call whose trace is `trace`, saying
/// `detail` (the one-trip accept writes the count in SQL,
/// `at_once::skipped_steps`).
fn skipped_step(trace: &TraceEvent, detail: String) -> TraceEvent {
    TraceEvent { step: "run.skipped".into(), detail, ..trace.clone() }
}

/// sqlx errors are not `Clone`; a batch reports one failure to many callers.
fn clone_error(err: &sqlx::Error) -> sqlx::Error {
    super::copy_error(err)
}

/// The inserts of one accepted event, inside the caller's transaction.
/// The params every run of the event reads: without the recipient lists
/// (`userIds`, `leadIds`), which `recipients_json` keeps once. A fan-out
/// to 10,000 users otherwise gave each of its 10,000 runs a copy of the
/// whole list to parse (19 s before the first message, 778 MB RSS).
fn stored_params(params: &serde_json::Map<String, serde_json::Value>) -> std::borrow::Cow<'_, serde_json::Map<String, serde_json::Value>> {
    const LISTS: [&str; 4] = ["userIds", "user_ids", "leadIds", "lead_ids"];
    if LISTS.iter().any(|key| params.contains_key(*key)) {
        let mut params = params.clone();
        for key in LISTS {
            params.remove(key);
        }
        std::borrow::Cow::Owned(params)
    } else {
        std::borrow::Cow::Borrowed(params)
    }
}

/// Inserts events with their params as stored (`params_json`: sealed when
/// a data key is set) and their runs, many rows per statement; what each
/// event became, in order. Idempotency records are the caller's.
async fn insert_events(conn: &mut sqlx::AnyConnection, events: &[(&NewEvent, &str)], now: crate::Millis) -> Result<Vec<Accepted>, sqlx::Error> {
    const WIDTH: usize = 10;
    for chunk in super::row_chunks(events) {
        let sql = super::statement_texts::multi_row(conn, "insert_events", chunk.len(), || {
            let rows = super::values_rows(1, WIDTH, chunk.len(), |b| {
                format!("({}, 'accepted', ${})", super::placeholders(b, WIDTH - 1), b + WIDTH - 1)
            });
            format!(
                "INSERT INTO events (id, bot_id, endpoint_id, alias, trace_id, token_id, source_system, params_json, recipients_json, status, created_at) VALUES {rows}"
            )
        });
        let mut query = sqlx::query(&sql);
        for (event, params_json) in chunk {
            query = query
                .bind(event.id.as_str())
                .bind(event.bot.as_str())
                .bind(event.endpoint.id.as_str())
                .bind(event.endpoint.alias.as_str())
                .bind(&event.trace.trace_id)
                .bind(event.token.as_str())
                .bind(&event.trace.source_system)
                .bind(*params_json)
                .bind(super::endpoints::json_text(&event.recipients))
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }

    let (owners, runs) = planned_runs(events, now);
    let inserted = insert_runs(conn, &runs, now).await?;
    Ok(what_events_became(events, &owners, &runs, inserted, now))
}

/// Every run the events start, and the index of the event each is for.
fn planned_runs<'a>(events: &[(&'a NewEvent, &str)], now: crate::Millis) -> (Vec<usize>, Vec<NewRun<'a>>) {
    let mut owners = Vec::new();
    let mut runs = Vec::new();
    for (index, (event, _)) in events.iter().enumerate() {
        if event.endpoint.scenario.is_empty() {
            continue;
        }
        let lease_until = event.hand_off_ms.map_or(0, |ms| now + ms);
        for recipient in &event.leads {
            owners.push(index);
            runs.push(NewRun {
                source_id: event.id.as_str(),
                bot: &event.bot,
                endpoint_id: event.endpoint.id.as_str(),
                scenario: &event.endpoint.scenario,
                recipient,
                trace_id: &event.trace.trace_id,
                exclusive: !event.endpoint.allow_overlap,
                lease_until,
            });
        }
    }
    (owners, runs)
}

/// What each event became, from which of its [`planned_runs`] were
/// inserted (their id and scenario version; None: skipped by the unique
/// index, the lead has an active run of the endpoint).
fn what_events_became(events: &[(&NewEvent, &str)], owners: &[usize], runs: &[NewRun<'_>], inserted: Vec<Option<(String, i64)>>, now: crate::Millis) -> Vec<Accepted> {
    let mut accepted = vec![Accepted::default(); events.len()];
    for ((owner, run), inserted) in owners.iter().copied().zip(runs).zip(inserted) {
        let Some((id, scenario_version)) = inserted else {
            accepted[owner].skipped_active += 1;
            continue;
        };
        accepted[owner].runs += 1;
        if run.lease_until > 0 {
            accepted[owner].handed_off += 1;
            // What a claim would read back: the run as written, with the
            // params its runs read (as stored, opened).
            let event = events[owner].0;
            accepted[owner].handed.push(super::runs::ClaimedRun {
                id,
                bot_id: event.bot.clone(),
                scenario: event.endpoint.scenario.clone(),
                scenario_version,
                lead_id: run.recipient.lead_id.clone(),
                user_id: run.recipient.user_id.clone(),
                trace_id: event.trace.trace_id.clone(),
                status: "pending".into(),
                state_json: String::new(),
                params: stored_params(&event.params).into_owned(),
                created_at: now,
                lease_until: run.lease_until,
            });
        }
    }
    accepted
}

/// Inserts one event with an idempotency key, its runs, and the key's
/// record (with the exact response to replay).
async fn insert_keyed_event(conn: &mut sqlx::AnyConnection, event: &NewEvent, params_json: &str, now: crate::Millis) -> StoreResult<Accepted> {
    let accepted = insert_events(&mut *conn, &[(event, params_json)], now).await?.pop().unwrap_or_default();
    if let Some((key, hash)) = &event.idempotency {
        // A key older than the retention is free again, purged or not.
        sqlx::query("DELETE FROM idempotency_keys WHERE token_id = $1 AND idem_key = $2 AND created_at <= $3")
            .bind(event.token.as_str())
            .bind(key)
            .bind(now - IDEMPOTENCY_TTL_MS)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO idempotency_keys (token_id, idem_key, request_hash, http_status, response_json, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event.token.as_str())
        .bind(key)
        .bind(hash)
        .bind(i64::from(event.http_status))
        .bind(&event.response_body)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Taken("idempotency_key"),
            _ => StoreError::Database(e),
        })?;
    }
    Ok(accepted)
}

impl Store {
    /// Replaces the answer kept for `key` with `body`: the call's answer
    /// once its accept said what it did (leads it skipped), so a replay
    /// answers as the call did.
    pub async fn set_idempotency_answer(&self, token: &TokenId, key: &str, body: &str) -> StoreResult<()> {
        let mut turn = self.write_turn(super::Work::Other).await;
        let mut tx = turn.begin().await?;
        sqlx::query("UPDATE idempotency_keys SET response_json = $1 WHERE token_id = $2 AND idem_key = $3")
            .bind(body)
            .bind(token.as_str())
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn idempotency_replay(&self, token: &TokenId, key: &str, request_hash: &str) -> StoreResult<Replay> {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT request_hash, http_status, response_json FROM idempotency_keys WHERE token_id = $1 AND idem_key = $2 AND created_at > $3",
        )
        .bind(token.as_str())
        .bind(key)
        .bind(now_millis() - IDEMPOTENCY_TTL_MS)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            None => Replay::Fresh,
            Some((hash, status, body)) if hash == request_hash => Replay::Same { http_status: status as u16, body },
            Some(_) => Replay::Conflict,
        })
    }

    /// Resolves recipients to leads: `(leads, unresolved ids)`.
    pub async fn resolve_recipients(&self, bot: &BotId, recipients: &Recipients) -> StoreResult<(Vec<Recipient>, Vec<String>)> {
        let mut leads = Vec::new();
        let mut unresolved = Vec::new();
        match recipients {
            Recipients::Users(users) if users.len() > 1 => {
                // A fan-out: one query per 500 users, not one per user.
                let mut found = self.leads_of_users(bot, users).await?;
                for user in users {
                    let of_user = found.remove(user).unwrap_or_default();
                    if of_user.is_empty() {
                        unresolved.push(user.clone());
                    }
                    leads.extend(of_user.into_iter().map(|lead_id| Recipient { lead_id, user_id: user.clone() }));
                }
            }
            Recipients::Users(users) => {
                for user in users {
                    let found = self.leads_of_user(bot, user).await?;
                    if found.is_empty() {
                        unresolved.push(user.clone());
                    }
                    leads.extend(found.into_iter().map(|lead_id| Recipient { lead_id, user_id: user.clone() }));
                }
            }
            Recipients::Leads(ids) => {
                for lead in ids {
                    if self.lead_exists(bot, lead).await? {
                        leads.push(Recipient { lead_id: lead.clone(), user_id: String::new() });
                    } else {
                        unresolved.push(lead.clone());
                    }
                }
            }
            Recipients::None => {}
        }
        // One run per lead even when several user ids link to it.
        let mut seen = std::collections::HashSet::new();
        leads.retain(|r| seen.insert(r.lead_id.clone()));
        Ok((leads, unresolved))
    }

    /// Stores the event, its runs, the idempotency record and the trace
    /// (with the `run.skipped` step when leads were skipped) in one
    /// transaction. Returns `Err(Taken("idempotency_key"))` when a
    /// concurrent request with the same key won the race (the caller
    /// replays it).
    pub async fn accept_event(&self, event: NewEvent) -> StoreResult<Accepted> {
        self.accept_events(std::slice::from_ref(&event)).await.pop().unwrap_or(Err(StoreError::NotFound))
    }

    /// Accepts a batch in ONE transaction (one commit, one fsync): the
    /// events and their runs many rows per statement, except events with an
    /// idempotency key, each inside its own savepoint so one event's failure
    /// (a raced key) leaves the others. Results are in input order; a
    /// failed statement of the shared rows, or the commit, fails them all.
    pub async fn accept_events(&self, events: &[NewEvent]) -> Vec<StoreResult<Accepted>> {
        let params = self.stored_event_params(events);
        let mut turn = self.write_turn(super::Work::Accept).await;
        self.accept_events_on(&mut turn, events, &params).await
    }

    /// The events' params as stored: the business system's params may name
    /// the person (a phone, an email), so they are sealed — before the
    /// write lane's turn is taken, not while it is held.
    pub(crate) fn stored_event_params<'e>(&self, events: impl IntoIterator<Item = &'e NewEvent>) -> Vec<String> {
        events
            .into_iter()
            .map(|e| self.keyring.seal(&super::sealing::event_place(e.id.as_str()), &super::endpoints::json_text(&stored_params(&e.params))))
            .collect()
    }

    /// [`Store::accept_events`] on a turn of the write lane already had,
    /// with each event's params as stored ([`Store::stored_event_params`]):
    /// the event writer takes its turn, then what queued meanwhile.
    pub(crate) async fn accept_events_on(&self, turn: &mut super::WriteTurn<'_>, events: &[NewEvent], params: &[String]) -> Vec<StoreResult<Accepted>> {
        debug_assert_eq!(events.len(), params.len(), "one stored params per event");
        let now = now_millis();
        if events.iter().all(|event| event.idempotency.is_none()) {
            let rows: Vec<(&NewEvent, &str)> = events.iter().zip(params).map(|(event, params)| (event, params.as_str())).collect();
            turn.trip_begins();
            let written = match turn.connection().await {
                Ok(conn) => at_once::accept(conn, self.dialect(), &rows, now).await,
                Err(err) => Err((err, Vec::new())),
            };
            turn.trip_ended(written.as_ref().err().map(|(err, _)| err));
            return match written {
                Ok(accepted) => accepted.into_iter().map(Ok).collect(),
                Err((err, handed)) => {
                    // Committed or not, unheard: see the commit below.
                    if super::unreachable(&err) {
                        for (run, lease_until) in handed {
                            self.doubt_claim(super::doubtful_claims::Queue::Runs, &[run], lease_until);
                        }
                    }
                    events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect()
                }
            };
        }
        let mut tx = match turn.begin().await {
            Ok(tx) => tx,
            Err(err) => return events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect(),
        };
        // Only an idempotency key can make one event fail alone (a raced
        // key): those go one by one, each in a savepoint; the others all
        // together, many rows per statement.
        let mut results: Vec<Option<StoreResult<Accepted>>> = events.iter().map(|_| None).collect();
        for ((event, params_json), result) in events.iter().zip(params).zip(results.iter_mut()) {
            if event.idempotency.is_none() {
                continue;
            }
            if let Err(err) = sqlx::query("SAVEPOINT accept_event").execute(&mut *tx).await {
                return events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect();
            }
            let outcome = insert_keyed_event(&mut tx, event, params_json, now).await;
            let closed = match &outcome {
                Ok(_) => sqlx::query("RELEASE SAVEPOINT accept_event").execute(&mut *tx).await.map(|_| ()),
                Err(_) => match sqlx::query("ROLLBACK TO SAVEPOINT accept_event").execute(&mut *tx).await {
                    Ok(_) => sqlx::query("RELEASE SAVEPOINT accept_event").execute(&mut *tx).await.map(|_| ()),
                    Err(err) => Err(err),
                },
            };
            if let Err(err) = closed {
                return events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect();
            }
            *result = Some(outcome);
        }
        let plain: Vec<(usize, (&NewEvent, &str))> =
            events.iter().zip(params).enumerate().filter(|(_, (event, _))| event.idempotency.is_none()).map(|(i, (e, p))| (i, (e, p.as_str()))).collect();
        let rows: Vec<(&NewEvent, &str)> = plain.iter().map(|(_, row)| *row).collect();
        match insert_events(&mut tx, &rows, now).await {
            Ok(accepted) => {
                for ((index, _), accepted) in plain.iter().zip(accepted) {
                    results[*index] = Some(Ok(accepted));
                }
            }
            // Without a savepoint the transaction may be unusable
            // (PostgreSQL aborts it): fail the whole batch.
            Err(err) => return events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect(),
        }
        let results: Vec<StoreResult<Accepted>> = results.into_iter().map(|r| r.unwrap_or(Err(StoreError::NotFound))).collect();
        // The accepted events' traces, many rows per statement; after
        // each, what it skipped.
        let mut traces: Vec<TraceEvent> = Vec::with_capacity(events.len());
        for (event, outcome) in events.iter().zip(&results) {
            let Ok(accepted) = outcome else { continue };
            traces.push(TraceEvent { at: now, ..event.trace.clone() });
            if accepted.skipped_active > 0 {
                let detail = crate::trace::Detail::Skipped { leads: accepted.skipped_active }.to_string();
                traces.push(TraceEvent { at: now, ..skipped_step(&event.trace, detail) });
            }
        }
        if let Err(err) = super::traces::insert_traces(&mut tx, &traces.iter().collect::<Vec<_>>()).await {
            return events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect();
        }
        match tx.commit().await {
            Ok(()) => results,
            Err(err) => {
                // Committed or not, unheard: runs handed off in it would
                // sit out their lease with nobody to advance them; the next
                // claim hands them back.
                if StoreError::Database(clone_error(&err)).is_unreachable() {
                    for run in results.iter().flatten().flat_map(|accepted| &accepted.handed) {
                        self.doubt_claim(super::doubtful_claims::Queue::Runs, std::slice::from_ref(&run.id), run.lease_until);
                    }
                }
                events.iter().map(|_| Err(StoreError::Database(clone_error(&err)))).collect()
            }
        }
    }

    /// Events with their run counts, for tests and the studio.
    pub async fn count_events(&self, bot: &BotId) -> StoreResult<(i64, i64)> {
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE bot_id = $1").bind(bot.as_str()).fetch_one(&self.pool).await?;
        let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE bot_id = $1").bind(bot.as_str()).fetch_one(&self.pool).await?;
        Ok((events, runs))
    }

    /// Forgets idempotency records older than the retention.
    pub async fn purge_idempotency_keys(&self) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at <= $1")
            .bind(now_millis() - IDEMPOTENCY_TTL_MS)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
