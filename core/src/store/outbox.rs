//! The outbox: messages waiting for delivery, claimed by dispatch workers.
//!
//! Per-chat order: a message is due only when no older message to the same
//! chat is still undelivered. A claim marks the row `claimed` with a lease
//! (a conditional UPDATE, so processes sharing the database never take one
//! row twice). Processes sharing a PostgreSQL claim, then reserve each
//! send slot on the shared clocks, which marks the message `sending`, and
//! put the paced ones back in one commit per pass ([`Store::start_sends`]).
//! A process pacing on its own clocks (SQLite) reads the due messages
//! first ([`Store::due_messages`]), reserves their slots in memory and
//! takes them in one turn ([`Store::take_due_messages`]): the admitted
//! ones straight to `sending`, the paced ones left pending until their
//! time. Either way the messenger is called only after that commit. After a crash, a row still `claimed` past its lease was never
//! handed to the messenger and simply goes back to the queue; a row still
//! `sending` belonged to a process that died mid-call: the messenger may
//! or may not have it, and messengers offer no idempotency key, so it is
//! dead-lettered as "interrupted" rather than sent again (never twice; an
//! operator can re-drive it).

use super::group_commit::GroupCommit;
use super::doubtful_claims::Queue;
use super::{now_millis, Store, StoreResult, WriteTurn};
use crate::trace::TraceEvent;
use crate::{BotId, Millis};
use serde_json::Value;
use sqlx::Row;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: String,
    pub bot_id: BotId,
    pub lead_id: String,
    pub run_id: String,
    pub channel: String,
    /// The address the message goes to (opened when sealed).
    pub chat_id: String,
    /// The chat as stored (the blind index of a personal address, else the
    /// address): what pacing clocks and per-chat order are keyed by, so no
    /// phone number or email address lands in them.
    pub chat_key: String,
    pub payload: Value,
    pub trace_id: String,
    pub attempts: i64,
    /// The lease this claim holds; finishing checks it is still ours.
    pub lease_until: Millis,
}

/// A message due for delivery, as a dispatcher pass reads it before
/// taking it: what finding its channel and pacing it need.
#[derive(Debug, Clone, PartialEq)]
pub struct DueMessage {
    pub id: String,
    pub bot_id: BotId,
    pub channel: String,
    /// The chat as stored (see [`OutboxMessage::chat_key`]).
    pub chat_key: String,
}

/// What [`Store::take_due_messages`] took.
#[derive(Debug, Default)]
pub struct Taken {
    /// Now `sending`: to be sent, each at its reserved slot.
    pub sending: Vec<OutboxMessage>,
    /// Now `claimed`, not to be sent by this pass (filed instead).
    pub claimed: Vec<OutboxMessage>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    Sent { provider_message_id: String },
    /// Try again at `at` (throttled or a transient error); `count` says
    /// whether this attempt counts toward the dead-letter limit.
    Retry { at: Millis, error: String, count: bool },
    /// Give up (bad request, blocked, attempts exhausted).
    Dead { error: String },
}

impl Store {
    /// Claims up to `limit` due messages, each the oldest undelivered one of
    /// its chat, for `lease_ms`. One conditional UPDATE takes them all.
    pub async fn claim_due_messages(&self, now: Millis, limit: i64, lease_ms: i64) -> StoreResult<Vec<OutboxMessage>> {
        let due = self.due_messages(now, limit).await?;
        if due.is_empty() {
            return Ok(vec![]);
        }
        let ids: Vec<String> = due.into_iter().map(|m| m.id).collect();
        let lease_until = now + lease_ms;
        let mut turn = self.write_turn(super::Work::ClaimMessages).await;
        let taken = async { self.take(turn.connection().await?, "claimed", &ids, lease_until).await }.await;
        taken.inspect_err(|err: &super::StoreError| {
            if err.is_unreachable() {
                self.doubt_claim(Queue::Outbox, &ids, lease_until);
            }
        })
    }

    /// Up to `limit` messages due at `now`, each the oldest undelivered one
    /// of its chat, oldest first, read without taking them: a pass paces
    /// them first and then takes them all in one turn
    /// ([`Store::take_due_messages`]).
    pub async fn due_messages(&self, now: Millis, limit: i64) -> StoreResult<Vec<DueMessage>> {
        self.release_doubtful_claims(Queue::Outbox).await?;
        // Rows of a claimer that died: claimed ones go back to the queue,
        // ones it was sending are not resent (see the module docs).
        // Looked for first, so the common case writes nothing.
        let abandoned: Option<i64> = sqlx::query_scalar("SELECT 1 FROM outbox WHERE status IN ('claimed', 'sending') AND lease_until < $1 LIMIT 1")
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        if abandoned.is_some() {
            let mut turn = self.write_turn(super::Work::ClaimMessages).await;
            let mut tx = turn.begin().await?;
            sqlx::query("UPDATE outbox SET status = 'pending', lease_until = 0 WHERE status = 'claimed' AND lease_until < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE outbox SET status = 'dead', last_error = 'interrupted while sending; not resent to avoid a duplicate' \
                 WHERE status = 'sending' AND lease_until < $1",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        // Read outside the write lane (this is the expensive part: every
        // pending row is checked against its chat); taking them then takes
        // only those still pending and still first of their chat, so a race
        // with another claimer or a retry loses nothing and keeps each
        // chat's order.
        let rows = sqlx::query(&format!(
            "SELECT o.id, o.bot_id, o.channel, o.chat_id FROM outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= $1 \
             AND o.id = (SELECT MIN(p.id) FROM outbox p WHERE p.bot_id = o.bot_id AND p.channel = o.channel \
                         AND p.chat_id = o.chat_id AND p.status IN ('pending', 'claimed', 'sending')) \
             ORDER BY o.id LIMIT {}",
            limit.clamp(1, 1000)
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DueMessage {
                    id: row.try_get("id")?,
                    bot_id: BotId::from_store(row.try_get("bot_id")?),
                    channel: row.try_get("channel")?,
                    chat_key: row.try_get("chat_id")?,
                })
            })
            .collect()
    }

    /// Takes a pass's due messages in one write turn, each only if it is
    /// still pending and still the first of its chat, all under the lease
    /// `lease_until`: those in `sending` (their send slots reserved) become
    /// `sending` at once — from here a crash leaves them interrupted, never
    /// resent — and those in `claiming` (not to be sent by this pass: their
    /// channel is unavailable) `claimed`; the `later` ones (paced) stay
    /// pending, each until its time. Taking messages straight to `sending`
    /// is for a process that paces on its own clocks (SQLite): it needs
    /// one turn where a claim and then the pass's marks took two.
    pub async fn take_due_messages(&self, sending: &[String], claiming: &[String], later: &[(String, Millis)], lease_until: Millis) -> StoreResult<Taken> {
        if sending.is_empty() && claiming.is_empty() && later.is_empty() {
            return Ok(Taken::default());
        }
        let mut turn = self.write_turn(super::Work::ClaimMessages).await;
        let taken = async {
            if self.dialect() == super::Dialect::Sqlite {
                turn.trip_begins();
                let taken = self.take_in_one_trip(turn.connection().await?, sending, claiming, later, lease_until).await;
                turn.trip_ended(taken.as_ref().err().and_then(super::StoreError::database));
                return taken;
            }
            let mut tx = turn.begin().await?;
            let sending = self.take(&mut *tx, "sending", sending, lease_until).await?;
            let claimed = self.take(&mut *tx, "claimed", claiming, lease_until).await?;
            for chunk in super::row_chunks(later) {
                let sql = super::statement_texts::multi_row(&tx, "later_attempts", chunk.len(), || {
                    let rows = super::values_rows(1, 2, chunk.len(), |b| format!("(${}, CAST(${} AS BIGINT))", b, b + 1));
                    format!(
                        "WITH later (message_id, due) AS (VALUES {rows}) \
                         UPDATE outbox SET next_attempt_at = later.due FROM later WHERE outbox.id = later.message_id AND outbox.status = 'pending'"
                    )
                });
                let mut query = sqlx::query(&sql);
                for (id, due) in chunk {
                    query = query.bind(id).bind(*due);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Taken { sending, claimed })
        }
        .await;
        // Sent but unanswered: it may have taken them (see `doubtful_claims`).
        taken.inspect_err(|err: &super::StoreError| {
            if err.is_unreachable() {
                self.doubt_take(&sending.iter().chain(claiming).cloned().collect::<Vec<_>>(), lease_until);
            }
        })
    }

    /// Sets `status` (`claimed` or `sending`) and `lease_until` on those of
    /// `ids` still pending and first of their chat; returns them, oldest
    /// first. One statement.
    async fn take(&self, conn: &mut sqlx::AnyConnection, status: &str, ids: &[String], lease_until: Millis) -> StoreResult<Vec<OutboxMessage>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let placeholders = super::placeholders(3, ids.len());
        let sql = format!(
            "UPDATE outbox SET status = $1, lease_until = $2 WHERE status = 'pending' AND id IN ({placeholders}) \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.bot_id = outbox.bot_id AND p.channel = outbox.channel \
                             AND p.chat_id = outbox.chat_id AND p.status IN ('pending', 'claimed', 'sending') AND p.id < outbox.id) \
             RETURNING id, delivery_key, bot_id, lead_id, run_id, channel, chat_id, address, payload_json, trace_id, attempts"
        );
        let mut query = sqlx::query(&sql).bind(status).bind(lease_until);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(conn).await?;
        self.taken(&rows, lease_until)
    }

    /// SQLite: [`Store::take_due_messages`]'s transaction in one trip
    /// (`one_trip`); rolled back if it fails.
    async fn take_in_one_trip(&self, conn: &mut sqlx::AnyConnection, sending: &[String], claiming: &[String], later: &[(String, Millis)], lease_until: Millis) -> StoreResult<Taken> {
        use super::endpoints::json_text;
        let rows = sqlx::query(TAKE_TRIP.as_str())
            .bind(lease_until)
            .bind(json_text(&sending))
            .bind(lease_until)
            .bind(json_text(&claiming))
            .bind(json_text(&later))
            .fetch_all(&mut *conn)
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(err) => {
                super::one_trip::roll_back(conn).await;
                return Err(err.into());
            }
        };
        let decoded = (|| {
            let (mut sending, mut claimed) = (Vec::new(), Vec::new());
            for row in rows {
                if row.try_get::<String, _>("status")? == "sending" {
                    sending.push(row);
                } else {
                    claimed.push(row);
                }
            }
            Ok(Taken { sending: self.taken(&sending, lease_until)?, claimed: self.taken(&claimed, lease_until)? })
        })();
        // Committed, but a row does not read (an address that does not
        // open): nothing was sent, so all of them go back to the queue at
        // the next pass rather than waiting out the lease as interrupted.
        if decoded.is_err() {
            self.doubt_take(&sending.iter().chain(claiming).cloned().collect::<Vec<_>>(), lease_until);
        }
        decoded
    }

    /// The messages of `take`'s rows, oldest first, as the dispatcher
    /// sends them.
    fn taken(&self, rows: &[sqlx::any::AnyRow], lease_until: Millis) -> StoreResult<Vec<OutboxMessage>> {
        let mut taken = Vec::with_capacity(rows.len());
        for row in rows {
            let payload: String = row.try_get("payload_json")?;
            // A personal address is sealed in `address` (`chat_id` holds its
            // blind index, for ordering).
            let address: String = row.try_get("address")?;
            let chat_key: String = row.try_get("chat_id")?;
            let chat_id = if address.is_empty() {
                chat_key.clone()
            } else {
                let delivery_key: String = row.try_get("delivery_key")?;
                self.keyring.open(&super::sealing::outbox_place(&delivery_key), &address)?
            };
            taken.push(OutboxMessage {
                id: row.try_get("id")?,
                bot_id: BotId::from_store(row.try_get("bot_id")?),
                lead_id: row.try_get("lead_id")?,
                run_id: row.try_get("run_id")?,
                channel: row.try_get("channel")?,
                chat_id,
                chat_key,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                trace_id: row.try_get("trace_id")?,
                attempts: row.try_get("attempts")?,
                lease_until,
            });
        }
        // Oldest first, as the messenger should see them.
        taken.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(taken)
    }

    /// Records the end of a delivery attempt and its trace event. Results
    /// arriving together share a commit ([`super::group_commit`]).
    pub async fn finish_delivery(&self, message: &OutboxMessage, result: &DeliveryResult, trace: &TraceEvent) -> StoreResult<()> {
        let saves = self.delivery_saves.get_or_init(|| GroupCommit::start(self.lane.clone(), super::Work::Deliveries, commit_deliveries));
        saves.submit((message.clone(), result.clone(), trace.clone())).await
    }

    /// Settles a dispatcher pass in one transaction: the `admitted`
    /// messages (their send slots reserved) become `sending` — from here a
    /// crash leaves them interrupted, never resent — and the `paced` ones
    /// go back to the queue untouched, each until its time. Only rows the
    /// claim still holds change; the answer names the admitted messages
    /// that may be sent. A paced message may already be `sending`: its
    /// slot reservation committed but the answer was lost (the database
    /// went away mid-commit). The claimer never sent it, so it goes back
    /// too, rather than being taken for an interrupted send at lease end.
    /// For the same reason an admitted message already `sending` under this
    /// claim is named again: an earlier try of this pass committed it
    /// unheard, and nothing is sent before the pass hears its answer.
    pub async fn start_sends(&self, admitted: &[(String, Millis)], paced: &[(OutboxMessage, Millis)]) -> StoreResult<std::collections::HashSet<String>> {
        let mut marked = std::collections::HashSet::new();
        if admitted.is_empty() && paced.is_empty() {
            return Ok(marked);
        }
        let mut turn = self.write_turn(super::Work::StartSends).await;
        let mut tx = turn.begin().await?;
        // One statement per claim (a pass has one).
        let mut claims: std::collections::BTreeMap<Millis, Vec<&str>> = Default::default();
        for (id, lease_until) in admitted {
            claims.entry(*lease_until).or_default().push(id);
        }
        for (lease_until, ids) in claims {
            for chunk in ids.chunks(500) {
                let sql = format!(
                    "UPDATE outbox SET status = 'sending' WHERE status IN ('claimed', 'sending') AND lease_until = $1 AND id IN ({}) RETURNING id",
                    super::placeholders(2, chunk.len())
                );
                let mut query = sqlx::query_scalar::<_, String>(&sql).bind(lease_until);
                for id in chunk {
                    query = query.bind(*id);
                }
                marked.extend(query.fetch_all(&mut *tx).await?);
            }
        }
        for chunk in super::row_chunks(paced) {
            let sql = super::statement_texts::multi_row(&tx, "paced_back", chunk.len(), || {
                let rows = super::values_rows(1, 3, chunk.len(), |b| format!("(${}, CAST(${} AS BIGINT), CAST(${} AS BIGINT))", b, b + 1, b + 2));
                format!(
                    "WITH paced (message_id, claim, due) AS (VALUES {rows}) \
                     UPDATE outbox SET status = 'pending', next_attempt_at = paced.due, lease_until = 0 \
                     FROM paced WHERE outbox.id = paced.message_id AND outbox.status IN ('claimed', 'sending') AND outbox.lease_until = paced.claim"
                )
            });
            let mut query = sqlx::query(&sql);
            for (message, at) in chunk {
                query = query.bind(&message.id).bind(message.lease_until).bind(*at);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(marked)
    }

    /// `(status, count)` of a bot's outbox, for tests and the studio.
    pub async fn outbox_counts(&self, bot: &BotId) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as("SELECT status, COUNT(*) FROM outbox WHERE bot_id = $1 GROUP BY status ORDER BY status")
            .bind(bot.as_str())
            .fetch_all(&self.pool)
            .await?)
    }

    /// Stores a bot's settings for a channel kind (`telegram`, …), sealed
    /// when a data key is set (they hold tokens and secrets).
    pub async fn set_bot_channel(&self, bot: &BotId, kind: &str, config: &Value) -> StoreResult<()> {
        self.bot(bot).await?;
        let now = now_millis();
        let json = self.keyring.seal(&super::sealing::channel_place(bot.as_str(), kind), &super::endpoints::json_text(config));
        let updated = sqlx::query("UPDATE bot_channels SET config_json = $1, enabled = 1, updated_at = $2 WHERE bot_id = $3 AND kind = $4")
            .bind(&json)
            .bind(now)
            .bind(bot.as_str())
            .bind(kind)
            .execute(&self.pool)
            .await?;
        if updated.rows_affected() == 0 {
            sqlx::query("INSERT INTO bot_channels (bot_id, kind, config_json, enabled, updated_at) VALUES ($1, $2, $3, 1, $4)")
                .bind(bot.as_str())
                .bind(kind)
                .bind(&json)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        self.cache.channels.clear();
        Ok(())
    }

    /// A bot's enabled settings for a channel kind.
    pub async fn bot_channel(&self, bot: &BotId, kind: &str) -> StoreResult<Option<Value>> {
        let json: Option<String> = sqlx::query_scalar("SELECT config_json FROM bot_channels WHERE bot_id = $1 AND kind = $2 AND enabled = 1")
            .bind(bot.as_str())
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
        let Some(json) = json else { return Ok(None) };
        let json = self.keyring.open(&super::sealing::channel_place(bot.as_str(), kind), &json)?;
        Ok(serde_json::from_str(&json).ok())
    }

    /// [`Store::bot_channel`] through the read cache: a change made by this
    /// process is seen at once, another process's within
    /// [`super::CACHE_TTL`]. For the engine's per-advance reads (secrets).
    pub async fn bot_channel_cached(&self, bot: &BotId, kind: &str) -> StoreResult<Option<Value>> {
        let key = (bot.as_str().to_string(), kind.to_string());
        if let Some(found) = self.cache.channels.get(&key) {
            return Ok(found);
        }
        let found = self.bot_channel(bot, kind).await?;
        self.cache.channels.put(key, found.clone());
        Ok(found)
    }
}

/// A delivery attempt's end, as saved.
pub(crate) type DeliverySave = (OutboxMessage, DeliveryResult, TraceEvent);

/// Commits a batch of delivery results in one transaction.
fn commit_deliveries<'a>(turn: &'a mut WriteTurn<'_>, jobs: &'a [DeliverySave]) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + 'a>> {
    Box::pin(async move {
        let now = now_millis();
        if jobs.iter().all(|(_, result, _)| matches!(result, DeliveryResult::Sent { .. })) {
            let dialect = super::Dialect::of(turn.connection().await?);
            turn.trip_begins();
            let written = sent_in_one_trip(turn.connection().await?, dialect, jobs, now).await;
            turn.trip_ended(written.as_ref().err());
            return Ok(written?);
        }
        let mut tx = turn.begin().await?;
        // Sends (nearly all results) many rows per statement; retries and
        // dead letters one by one.
        let sent: Vec<(&OutboxMessage, &str)> = jobs
            .iter()
            .filter_map(|(message, result, _)| match result {
                DeliveryResult::Sent { provider_message_id } => Some((message, provider_message_id.as_str())),
                _ => None,
            })
            .collect();
        save_sent(&mut tx, &sent, now).await?;
        for (message, result, _) in jobs {
            if !matches!(result, DeliveryResult::Sent { .. }) {
                save_delivery(&mut tx, message, result, now).await?;
            }
        }
        // The attempts' traces, many rows per statement.
        let traces: Vec<TraceEvent> = jobs.iter().map(|(_, _, trace)| TraceEvent { at: now, ..trace.clone() }).collect();
        super::traces::insert_traces(&mut tx, &traces.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(())
    })
}

/// What a take returns of each message it took.
const TAKEN_COLUMNS: &str = "status, id, delivery_key, bot_id, lead_id, run_id, channel, chat_id, address, payload_json, trace_id, attempts";

/// Those of the ids of a JSON array still pending and first of their chat
/// (as [`Store::take`]).
const STILL_FIRST: &str = "status = 'pending' AND id IN (SELECT value FROM json_each(?)) \
     AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.bot_id = outbox.bot_id AND p.channel = outbox.channel \
                     AND p.chat_id = outbox.chat_id AND p.status IN ('pending', 'claimed', 'sending') AND p.id < outbox.id)";

/// SQLite: [`Store::take_due_messages`] in one trip. Binds: the lease and
/// the ids to send, the lease and the ids to claim, the later ones.
static TAKE_TRIP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE; \
         UPDATE outbox SET status = 'sending', lease_until = ? WHERE {STILL_FIRST} RETURNING {TAKEN_COLUMNS}; \
         UPDATE outbox SET status = 'claimed', lease_until = ? WHERE {STILL_FIRST} RETURNING {TAKEN_COLUMNS}; \
         WITH later (message_id, due) AS (SELECT value ->> 0, value ->> 1 FROM {rows}) \
         UPDATE outbox SET next_attempt_at = later.due FROM later WHERE outbox.id = later.message_id AND outbox.status = 'pending'; \
         COMMIT",
        rows = super::one_trip::ROWS
    )
});

/// A batch of sends as a table `sends` for [`MARK_SENT`]: `{rows}` is
/// where its rows (message, claim, the messenger's id) come from.
const SENDS: &str = "sends (message_id, claim, provider_id) AS ({rows})";

/// Marks the messages in `sends` sent at `{time}`, each only while its
/// claim holds it.
const MARK_SENT: &str = "UPDATE outbox SET status = 'sent', sent_at = {time}, provider_message_id = sends.provider_id, attempts = attempts + 1, lease_until = 0 \
     FROM sends WHERE outbox.id = sends.message_id AND outbox.status IN ('claimed', 'sending') AND outbox.lease_until = sends.claim";

/// SQLite: a batch of sends filed in one trip (`one_trip`). Binds: the
/// sends, the time, the traces.
static SENT_TURN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "BEGIN IMMEDIATE; WITH {} {}; {}; COMMIT",
        SENDS.replace("{rows}", &format!("SELECT {} FROM {}", super::one_trip::fields(3), super::one_trip::ROWS)),
        MARK_SENT.replace("{time}", "?"),
        *super::traces::INSERT_JSON_ROWS
    )
});

/// PostgreSQL: [`SENT_TURN`] as one statement. Binds: $1 the sends, $2
/// the time, $3 the traces.
static PG_SENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH {}, new_traces AS ({}) {}",
        SENDS.replace("{rows}", &format!("SELECT {} FROM {}", super::one_trip::pg_fields(3, &[1]), super::one_trip::pg_rows(1))),
        super::traces::pg_insert_json_rows(3),
        MARK_SENT.replace("{time}", "$2")
    )
});

/// Files a batch of sends (every result `Sent`) and their traces, as
/// [`save_sent`] and the traces would, in one trip (`one_trip`).
async fn sent_in_one_trip(conn: &mut sqlx::AnyConnection, dialect: super::Dialect, jobs: &[DeliverySave], now: Millis) -> Result<(), sqlx::Error> {
    let sends: Vec<(&str, Millis, &str)> = jobs
        .iter()
        .filter_map(|(message, result, _)| match result {
            DeliveryResult::Sent { provider_message_id } => Some((message.id.as_str(), message.lease_until, provider_message_id.as_str())),
            _ => None,
        })
        .collect();
    let traces = super::traces::json_rows(jobs.iter().map(|(_, _, trace)| trace), super::traces::At::Turn(now));
    let text = match dialect {
        super::Dialect::Sqlite => SENT_TURN.as_str(),
        super::Dialect::Postgres => PG_SENT.as_str(),
    };
    let turn = sqlx::query(text).bind(super::endpoints::json_text(&sends)).bind(now).bind(traces);
    super::one_trip::run(conn, dialect, turn).await
}

/// Marks messages sent with the messenger's message ids, many rows per
/// statement, each only while its claim holds it. A message is in a batch
/// once (it is filed once per attempt), so one row of `sent` updates one
/// row of the outbox.
async fn save_sent(conn: &mut sqlx::AnyConnection, sent: &[(&OutboxMessage, &str)], now: Millis) -> StoreResult<()> {
    const WIDTH: usize = 3;
    for chunk in super::row_chunks(sent) {
        // The time is the last bind, so the binds run in order
        // (`statement_texts`).
        let sql = super::statement_texts::multi_row(conn, "save_sent", chunk.len(), || {
            let rows = super::values_rows(1, WIDTH, chunk.len(), |b| format!("(${}, CAST(${} AS BIGINT), ${})", b, b + 1, b + 2));
            format!("WITH {} {}", SENDS.replace("{rows}", &format!("VALUES {rows}")), MARK_SENT.replace("{time}", &format!("${}", WIDTH * chunk.len() + 1)))
        });
        let mut query = sqlx::query(&sql);
        for (message, provider_id) in chunk {
            query = query.bind(&message.id).bind(message.lease_until).bind(*provider_id);
        }
        let query = query.bind(now);
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes one delivery result inside a transaction.
async fn save_delivery(conn: &mut sqlx::AnyConnection, message: &OutboxMessage, result: &DeliveryResult, now: Millis) -> StoreResult<()> {
    match result {
        DeliveryResult::Sent { provider_message_id } => {
            sqlx::query(
                "UPDATE outbox SET status = 'sent', sent_at = $1, provider_message_id = $2, attempts = attempts + 1, lease_until = 0 \
                 WHERE id = $3 AND status IN ('claimed', 'sending') AND lease_until = $4",
            )
            .bind(now)
            .bind(provider_message_id)
            .bind(&message.id)
            .bind(message.lease_until)
            .execute(&mut *conn)
            .await?;
        }
        DeliveryResult::Retry { at, error, count } => {
            sqlx::query("UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = $2, attempts = attempts + $3, lease_until = 0 \
                 WHERE id = $4 AND status IN ('claimed', 'sending') AND lease_until = $5")
                .bind(at)
                .bind(error)
                .bind(i64::from(*count))
                .bind(&message.id)
                .bind(message.lease_until)
                .execute(&mut *conn)
                .await?;
        }
        DeliveryResult::Dead { error } => {
            sqlx::query(
                "UPDATE outbox SET status = 'dead', last_error = $1, attempts = attempts + 1, lease_until = 0 \
                 WHERE id = $2 AND status IN ('claimed', 'sending') AND lease_until = $3",
            )
                .bind(error)
                .bind(&message.id)
                .bind(message.lease_until)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}
