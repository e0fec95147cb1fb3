//! Where the store seals values (`crate::seal`), and the two whole-database
//! passes over them: the start-up check (is every sealed value readable with
//! the configured keys?) and `comops rotate-key` (re-seal everything with
//! the current key).
//!
//! Sealed columns, each value bound to its row by its *place*:
//! - `bot_channels.config_json` — a bot's channel credentials, webhook
//!   secrets and scenario secrets (`bot_channels.config_json:<bot>/<kind>`);
//! - `identity_links.chat_id` of personal addresses (WhatsApp numbers, email
//!   addresses; see [`is_personal_channel`]), found through the blind index
//!   in `identity_links.chat_idx` (`identity_links.chat_id:<link id>`);
//! - `outbox.address` of messages to those addresses (`outbox.chat_id`
//!   holds the blind index, for per-chat order; `outbox.address:<delivery
//!   key>`);
//! - `inbound_updates.event_json`, every channel: what people write
//!   (`inbound_updates.event_json:<bot>/<channel>/<external id>`);
//! - `leads.attributes_json`'s values of attributes named like `phone` or
//!   `email` (`leads.attributes_json:<bot>/<lead>/<name>`);
//! - `events.params_json` and `scheduled_jobs.params_json`, what the
//!   business system sent (`events.params_json:<event id>`,
//!   `scheduled_jobs.params_json:<job id>`);
//! - `runs.state_json`, a run's position and variables — what people
//!   answered and what the business system's calls returned
//!   (`runs.state_json:<run id>`);
//! - `webchat_messages.body_json` of what visitors wrote in the web chat
//!   (`webchat_messages.body_json:<chat id>`; the bot's messages are its
//!   own words, as in the outbox).
//!
//! Each is sealed where it is written and opened where it is read, in the
//! entity's own file; this file holds the places and the helpers.

use super::{Store, StoreResult};
use crate::seal::{Keyring, PREFIX};
use sqlx::Row;

/// Rows read per batch by [`Store::reseal_all`].
const BATCH: i64 = 200;

/// The place of a bot's channel settings.
pub(crate) fn channel_place(bot: &str, kind: &str) -> String {
    format!("bot_channels.config_json:{bot}/{kind}")
}

/// The place of an identity link's address.
pub(crate) fn link_place(link_id: &str) -> String {
    format!("identity_links.chat_id:{link_id}")
}

/// The place of an outbox message's address (by its delivery key, known
/// before the row's id).
pub(crate) fn outbox_place(delivery_key: &str) -> String {
    format!("outbox.address:{delivery_key}")
}

/// The place of an inbound update's event.
pub(crate) fn inbound_place(bot: &str, channel: &str, external_id: &str) -> String {
    format!("inbound_updates.event_json:{bot}/{channel}/{external_id}")
}

/// The place of a business event's params.
pub(crate) fn event_place(event_id: &str) -> String {
    format!("events.params_json:{event_id}")
}

/// The place of a scheduled job's params.
pub(crate) fn job_place(job_id: &str) -> String {
    format!("scheduled_jobs.params_json:{job_id}")
}

/// The place of a run's state (its variables).
pub(crate) fn run_state_place(run_id: &str) -> String {
    format!("runs.state_json:{run_id}")
}

/// The place of what a web chat visitor wrote (their conversation's).
pub(crate) fn webchat_place(chat_id: &str) -> String {
    format!("webchat_messages.body_json:{chat_id}")
}

/// The place of one lead attribute's value.
pub(crate) fn attribute_place(bot: &str, lead: &str, name: &str) -> String {
    format!("leads.attributes_json:{bot}/{lead}/{name}")
}

/// Channels whose addresses are personal data (SPEC §7: phone numbers and
/// email addresses). Telegram chat ids, VK peer ids, web chat and webhook
/// chat ids are opaque numbers or ours, and stay in the clear: they are
/// looked up on every message and reveal nothing by themselves.
pub fn is_personal_channel(channel: &str) -> bool {
    matches!(channel, "whatsapp" | "email")
}

/// Lead attributes that hold personal data: any name containing `phone` or
/// `email` (`phone`, `email`, `work_phone`, …).
pub fn is_personal_attribute(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.contains("phone") || name.contains("email")
}

/// The blind index's kind for addresses: one for both personal channels.
const ADDRESS: &str = "address";

/// What [`Store::reseal_all`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResealReport {
    /// Values written again under the current key (plaintext or old key).
    pub resealed: u64,
    /// Values already under the current key.
    pub unchanged: u64,
}

/// Sealed values per key id, for the start-up check.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SealCensus {
    /// (key id, how many values) of sealed values.
    pub sealed: Vec<(String, i64)>,
    /// Values that would be sealed but are not (written without a key).
    pub plaintext: i64,
}

impl SealCensus {
    /// Key ids in use that `keyring` cannot open.
    pub fn missing_keys(&self, keyring: &Keyring) -> Vec<String> {
        self.sealed.iter().filter(|(id, _)| !keyring.has_key(id)).map(|(id, _)| id.clone()).collect()
    }
}

impl Store {
    /// How an address is stored in `identity_links.chat_idx` and
    /// `outbox.chat_id` (and named in delivery keys): the blind index of a
    /// personal address, else the address.
    pub fn address_key(&self, channel: &str, chat_id: &str) -> String {
        if is_personal_channel(channel) {
            self.keyring.blind_index(ADDRESS, chat_id)
        } else {
            chat_id.to_string()
        }
    }

    /// Every stored form that may mean `chat_id` (under each key of the
    /// ring, normalized, as given), for `chat_idx IN (…)` lookups; a
    /// rotation in progress or rows from before any key still match.
    pub(crate) fn address_candidates(&self, chat_id: &str) -> Vec<String> {
        let mut all = self.keyring.blind_indexes(ADDRESS, chat_id);
        if !all.iter().any(|c| c == chat_id) {
            all.push(chat_id.to_string());
        }
        all
    }

    /// A personal address sealed for `place`; other addresses as they are.
    pub(crate) fn seal_address(&self, channel: &str, place: &str, chat_id: &str) -> String {
        if is_personal_channel(channel) {
            self.keyring.seal(place, chat_id)
        } else {
            chat_id.to_string()
        }
    }

    /// The address of an outbox row: its sealed `address`, opened, or its
    /// `chat_id` when that is the address.
    pub(crate) fn outbox_address(&self, delivery_key: &str, chat_id: String, address: &str) -> StoreResult<String> {
        if address.is_empty() {
            Ok(chat_id)
        } else {
            Ok(self.keyring.open(&outbox_place(delivery_key), address)?)
        }
    }

    /// A lead change with its personal attributes sealed (each value's JSON
    /// text), ready to be merged into `leads.attributes_json`.
    pub(crate) fn seal_lead_change(&self, bot: &str, lead: &str, change: &super::leads::LeadChange) -> super::leads::LeadChange {
        let mut change = change.clone();
        if self.keyring.is_enabled() {
            for (name, value) in change.attributes.iter_mut() {
                if is_personal_attribute(name) && !value.is_null() {
                    *value = serde_json::Value::String(self.keyring.seal(&attribute_place(bot, lead, name), &value.to_string()));
                }
            }
        }
        change
    }

    /// Opens a lead's sealed attributes in place.
    pub(crate) fn open_attributes(&self, bot: &str, lead: &str, attributes: &mut serde_json::Map<String, serde_json::Value>) -> StoreResult<()> {
        for (name, value) in attributes.iter_mut() {
            if let Some(sealed) = value.as_str().filter(|v| v.starts_with(PREFIX)) {
                let json = self.keyring.open(&attribute_place(bot, lead, name), sealed)?;
                *value = serde_json::from_str(&json).unwrap_or(serde_json::Value::String(json));
            }
        }
        Ok(())
    }

    /// Counts sealed values by key id across every sealed column (a scan of
    /// each table: for `rotate-key` and tests).
    pub async fn seal_census(&self) -> StoreResult<SealCensus> {
        self.census_of(SEALED_COLUMNS).await
    }

    /// [`Store::seal_census`] of the channel settings only: cheap enough for
    /// every start (events, outbox and runs grow without bound). Whoever
    /// seals anything seals channel credentials first, so a missing key
    /// shows here; elsewhere it is an error on first read.
    pub async fn channel_seal_census(&self) -> StoreResult<SealCensus> {
        self.census_of(&SEALED_COLUMNS[..1]).await
    }

    async fn census_of(&self, columns: &[(&str, &str, &str)]) -> StoreResult<SealCensus> {
        let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
        let mut plaintext = 0;
        for (table, column, filter) in columns {
            // The key id is the 8 characters after `sealed:v1:`.
            let sql = format!(
                "SELECT SUBSTR({column}, {start}, 8) AS kid, COUNT(*) AS n FROM {table} WHERE {column} LIKE '{PREFIX}%' GROUP BY SUBSTR({column}, {start}, 8)",
                start = PREFIX.len() + 1
            );
            for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
                *counts.entry(row.try_get("kid")?).or_default() += row.try_get::<i64, _>("n")?;
            }
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} NOT LIKE '{PREFIX}%' AND {filter}");
            plaintext += sqlx::query_scalar::<_, i64>(&sql).fetch_one(&self.pool).await?;
        }
        Ok(SealCensus { sealed: counts.into_iter().collect(), plaintext })
    }

    /// Re-seals every sealed column with the current key: plaintext rows
    /// (written before a key was set) and rows under previous keys, with
    /// their blind indexes. In batches, each row written only if it did not
    /// change meanwhile; safe to stop and run again. Without a current key
    /// it does nothing.
    pub async fn reseal_all(&self) -> StoreResult<ResealReport> {
        let mut report = ResealReport::default();
        if !self.keyring.is_enabled() {
            return Ok(report);
        }
        let ring = &self.keyring;
        self.reseal_table("bot_channels", &["bot_id", "kind"], &["config_json"], "1 = 1", &mut report, |keys, values| {
            let place = channel_place(&keys[0], &keys[1]);
            Ok(ring.needs_reseal(&values[0]).then(|| -> StoreResult<_> { Ok(vec![ring.seal(&place, &ring.open(&place, &values[0])?)]) }).transpose()?)
        })
        .await?;
        self.reseal_table("identity_links", &["id"], &["channel", "chat_id", "chat_idx"], PERSONAL_ROWS, &mut report, |keys, values| {
            let place = link_place(&keys[0]);
            let address = ring.open(&place, &values[1])?;
            let index = self.address_key(&values[0], &address);
            if !ring.needs_reseal(&values[1]) && values[2] == index {
                return Ok(None);
            }
            Ok(Some(vec![values[0].clone(), ring.seal(&place, &address), index]))
        })
        .await?;
        self.reseal_table("outbox", &["id"], &["channel", "delivery_key", "chat_id", "address"], PERSONAL_ROWS, &mut report, |_, values| {
            let (channel, delivery_key, chat_key, sealed) = (&values[0], &values[1], &values[2], &values[3]);
            let address = self.outbox_address(delivery_key, chat_key.clone(), sealed)?;
            let index = self.address_key(channel, &address);
            if !sealed.is_empty() && !ring.needs_reseal(sealed) && *chat_key == index {
                return Ok(None);
            }
            // Delivery keys made by the executor end in `:<channel>:<chat>`:
            // renamed with the chat, as a re-run of the step would name it.
            let delivery_key = match delivery_key.strip_suffix(&format!(":{channel}:{chat_key}")) {
                Some(head) => format!("{head}:{channel}:{index}"),
                None => delivery_key.clone(),
            };
            let sealed = ring.seal(&outbox_place(&delivery_key), &address);
            Ok(Some(vec![channel.clone(), delivery_key, index, sealed]))
        })
        .await?;
        self.reseal_table("inbound_updates", &["bot_id", "channel", "external_id"], &["event_json"], "1 = 1", &mut report, |keys, values| {
            let place = inbound_place(&keys[0], &keys[1], &keys[2]);
            Ok(ring.needs_reseal(&values[0]).then(|| -> StoreResult<_> { Ok(vec![ring.seal(&place, &ring.open(&place, &values[0])?)]) }).transpose()?)
        })
        .await?;
        for (table, place) in [("events", event_place as fn(&str) -> String), ("scheduled_jobs", job_place)] {
            self.reseal_table(table, &["id"], &["params_json"], "1 = 1", &mut report, |keys, values| {
                let place = place(&keys[0]);
                Ok(ring.needs_reseal(&values[0]).then(|| -> StoreResult<_> { Ok(vec![ring.seal(&place, &ring.open(&place, &values[0])?)]) }).transpose()?)
            })
            .await?;
        }
        self.reseal_table("runs", &["id"], &["state_json"], "state_json <> ''", &mut report, |keys, values| {
            let place = run_state_place(&keys[0]);
            Ok(ring.needs_reseal(&values[0]).then(|| -> StoreResult<_> { Ok(vec![ring.seal(&place, &ring.open(&place, &values[0])?)]) }).transpose()?)
        })
        .await?;
        self.reseal_table("leads", &["bot_id", "id"], &["attributes_json"], "attributes_json <> '{}'", &mut report, |keys, values| {
            let Ok(mut attributes) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&values[0]) else { return Ok(None) };
            let mut changed = false;
            for (name, value) in attributes.iter_mut() {
                let place = attribute_place(&keys[0], &keys[1], name);
                let json = match value.as_str().filter(|v| v.starts_with(PREFIX)) {
                    Some(sealed) if ring.needs_reseal(sealed) => ring.open(&place, sealed)?,
                    Some(_) => continue,
                    None if is_personal_attribute(name) && !value.is_null() => value.to_string(),
                    None => continue,
                };
                *value = serde_json::Value::String(ring.seal(&place, &json));
                changed = true;
            }
            Ok(changed.then(|| vec![super::endpoints::json_text(&attributes)]))
        })
        .await?;
        self.reseal_webchat(&mut report).await?;
        self.cache.channels.clear();
        self.cache.leads.clear();
        Ok(report)
    }

    /// [`Store::reseal_all`]'s pass over what web chat visitors wrote:
    /// keyed by chat and number (a number is not text, which
    /// [`Store::reseal_table`] walks by), otherwise the same.
    async fn reseal_webchat(&self, report: &mut ResealReport) -> StoreResult<()> {
        let ring = &self.keyring;
        let (mut chat, mut seq) = (String::new(), i64::MIN);
        let select = format!(
            "SELECT chat_id, seq, body_json FROM webchat_messages WHERE author = 'visitor' AND (chat_id > $1 OR (chat_id = $1 AND seq > $2)) \
             ORDER BY chat_id, seq LIMIT {BATCH}"
        );
        loop {
            let rows: Vec<(String, i64, String)> = sqlx::query_as(&select).bind(&chat).bind(seq).fetch_all(&self.pool).await?;
            if rows.is_empty() {
                return Ok(());
            }
            for (chat_id, number, stored) in rows {
                if ring.needs_reseal(&stored) {
                    let place = webchat_place(&chat_id);
                    let sealed = ring.seal(&place, &ring.open(&place, &stored)?);
                    let done = sqlx::query("UPDATE webchat_messages SET body_json = $1 WHERE chat_id = $2 AND seq = $3 AND body_json = $4")
                        .bind(&sealed)
                        .bind(&chat_id)
                        .bind(number)
                        .bind(&stored)
                        .execute(&self.pool)
                        .await?;
                    report.resealed += done.rows_affected();
                } else {
                    report.unchanged += 1;
                }
                (chat, seq) = (chat_id, number);
            }
        }
    }

    /// Walks `table` in key order, [`BATCH`] rows at a time (`filter`
    /// chooses the rows); `fix` gets a row's keys and `columns` and returns
    /// their new values, or `None` when the row is fine. A row is written
    /// only if its columns still hold what was read.
    async fn reseal_table<F>(&self, table: &str, keys: &[&str], columns: &[&str], filter: &str, report: &mut ResealReport, mut fix: F) -> StoreResult<()>
    where
        F: FnMut(&[String], &[String]) -> StoreResult<Option<Vec<String>>>,
    {
        let key_list = keys.join(", ");
        let after = super::placeholders(1, keys.len());
        let select = format!(
            "SELECT {key_list}, {} FROM {table} WHERE {filter} AND ({key_list}) > ({after}) ORDER BY {key_list} LIMIT {BATCH}",
            columns.join(", ")
        );
        let sets: Vec<String> = columns.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
        let wheres: Vec<String> = keys
            .iter()
            .chain(columns)
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", columns.len() + i + 1))
            .collect();
        let update = format!("UPDATE {table} SET {} WHERE {}", sets.join(", "), wheres.join(" AND "));
        let mut last: Vec<String> = vec![String::new(); keys.len()];
        loop {
            let mut query = sqlx::query(&select);
            for key in &last {
                query = query.bind(key);
            }
            let rows = query.fetch_all(&self.pool).await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in &rows {
                let mut texts = Vec::with_capacity(keys.len() + columns.len());
                for i in 0..keys.len() + columns.len() {
                    texts.push(row.try_get::<String, _>(i)?);
                }
                let (row_keys, values) = texts.split_at(keys.len());
                match fix(row_keys, values)? {
                    None => report.unchanged += 1,
                    Some(new) => {
                        let mut query = sqlx::query(&update);
                        for value in new.iter().chain(row_keys).chain(values) {
                            query = query.bind(value);
                        }
                        report.resealed += query.execute(&self.pool).await?.rows_affected();
                    }
                }
                last = row_keys.to_vec();
            }
        }
    }
}

/// Rows of personal channels.
const PERSONAL_ROWS: &str = "channel IN ('whatsapp', 'email')";

/// Every (table, column, which rows) that may hold sealed values.
/// The first, channel settings, is checked at every start.
const SEALED_COLUMNS: &[(&str, &str, &str)] = &[
    ("bot_channels", "config_json", "1 = 1"),
    ("identity_links", "chat_id", PERSONAL_ROWS),
    ("outbox", "address", PERSONAL_ROWS),
    ("inbound_updates", "event_json", "1 = 1"),
    ("runs", "state_json", "state_json <> ''"),
    ("events", "params_json", "1 = 1"),
    ("scheduled_jobs", "params_json", "1 = 1"),
    ("webchat_messages", "body_json", "author = 'visitor'"),
];
