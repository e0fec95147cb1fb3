//! Leads — the platform's person on a bot — and the identity lookups the
//! integration API and the studio make (SPEC §2, the seed's «Сквозная
//! идентификация»).
//!
//! A lead row holds what outlives one scenario: attributes, tags and a
//! status. It is created the first time an identity link names the lead;
//! scenarios change it through [`LeadChange`]s saved in the same
//! transaction as the run's progress (`runs.rs`). A lead whose last active
//! channel address blocked the bot becomes `stopped`.

use super::identities::IdentityLink;
use super::{now_millis, Store, StoreResult};
use crate::BotId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;

/// The status a lead starts with.
pub const ACTIVE: &str = "active";
/// The status of a lead nobody can reach any more (every address blocked
/// the bot).
pub const STOPPED: &str = "stopped";

/// A lead as the API and the studio show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: String,
    pub attributes: Map<String, Value>,
    pub tags: Vec<String>,
    pub status: String,
    /// '' the bot talks; `*` handed over, waiting for an operator; else the
    /// operator's email.
    pub operator: String,
    pub created_at: crate::Millis,
    pub updated_at: crate::Millis,
}

/// [`Lead::operator`] of a lead handed over and not yet taken.
pub const AWAITING_OPERATOR: &str = "*";

/// What a scenario step changes on its lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadChange {
    pub attributes: Map<String, Value>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub status: Option<String>,
    /// A `handover` step asked for an operator.
    pub handover: bool,
}

impl LeadChange {
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.add_tags.is_empty() && self.remove_tags.is_empty() && self.status.is_none() && !self.handover
    }

    /// Applies the change to a lead's attributes, tags and status.
    pub fn apply(&self, attributes: &mut Map<String, Value>, tags: &mut Vec<String>, status: &mut String) {
        for (name, value) in &self.attributes {
            attributes.insert(name.clone(), value.clone());
        }
        tags.retain(|t| !self.remove_tags.contains(t));
        for tag in &self.add_tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        if let Some(new) = &self.status {
            *status = new.clone();
        }
    }
}

/// Which identity links a lookup or a deactivation means; empty fields
/// match anything, but at least one must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityFilter {
    pub user_id: Option<String>,
    pub lead_id: Option<String>,
    pub channel: Option<String>,
    pub chat_id: Option<String>,
}

impl IdentityFilter {
    pub fn is_empty(&self) -> bool {
        self.user_id.is_none() && self.lead_id.is_none() && self.channel.is_none() && self.chat_id.is_none()
    }

    /// `AND user_id = $2 …` for the given fields, numbered after `$1`
    /// (the bot), and the values to bind in order. A chat id matches through
    /// the blind index (`chat_idx`, see sealing.rs).
    fn clause(&self, store: &Store) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut values: Vec<String> = Vec::new();
        for (column, value) in [("user_id", &self.user_id), ("lead_id", &self.lead_id), ("channel", &self.channel)] {
            if let Some(value) = value {
                values.push(value.clone());
                sql.push_str(&format!(" AND {column} = ${}", values.len() + 1));
            }
        }
        if let Some(chat_id) = &self.chat_id {
            let candidates = store.address_candidates(chat_id);
            sql.push_str(&format!(" AND chat_idx IN ({})", super::placeholders(values.len() + 2, candidates.len())));
            values.extend(candidates);
        }
        (sql, values)
    }
}

fn lead_row(row: &sqlx::any::AnyRow) -> Result<Lead, sqlx::Error> {
    let attributes: String = row.try_get("attributes_json")?;
    let tags: String = row.try_get("tags_json")?;
    Ok(Lead {
        id: row.try_get("id")?,
        attributes: serde_json::from_str(&attributes).unwrap_or_default(),
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        status: row.try_get("status")?,
        operator: row.try_get("operator")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn link_row(row: &sqlx::any::AnyRow, keyring: &crate::seal::Keyring) -> StoreResult<IdentityLink> {
    let id: String = row.try_get("id")?;
    let chat_id: String = row.try_get("chat_id")?;
    Ok(IdentityLink {
        user_id: row.try_get("user_id")?,
        lead_id: row.try_get("lead_id")?,
        channel: row.try_get("channel")?,
        chat_id: keyring.open(&super::sealing::link_place(&id), &chat_id)?,
        is_active: super::flag(row, "is_active")?,
        source: row.try_get("source")?,
        connected_at: row.try_get("connected_at")?,
    })
}

/// Creates the lead row if it does not exist (inside the caller's
/// transaction or on the pool).
pub(crate) async fn ensure_lead<'e, E>(executor: E, bot: &BotId, lead_id: &str, now: crate::Millis) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("INSERT INTO leads (bot_id, id, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING")
        .bind(bot.as_str())
        .bind(lead_id)
        .bind(now)
        .execute(executor)
        .await?;
    Ok(())
}

/// Applies a scenario's change to its lead inside the caller's transaction.
pub(crate) async fn apply_change(conn: &mut sqlx::AnyConnection, bot: &BotId, lead_id: &str, change: &LeadChange, now: crate::Millis) -> Result<(), sqlx::Error> {
    ensure_lead(&mut *conn, bot, lead_id, now).await?;
    let row = sqlx::query("SELECT id, attributes_json, tags_json, status, operator, created_at, updated_at FROM leads WHERE bot_id = $1 AND id = $2")
        .bind(bot.as_str())
        .bind(lead_id)
        .fetch_one(&mut *conn)
        .await?;
    let mut lead = lead_row(&row)?;
    change.apply(&mut lead.attributes, &mut lead.tags, &mut lead.status);
    sqlx::query("UPDATE leads SET attributes_json = $1, tags_json = $2, status = $3, updated_at = $4 WHERE bot_id = $5 AND id = $6")
        .bind(super::endpoints::json_text(&lead.attributes))
        .bind(super::endpoints::json_text(&lead.tags))
        .bind(&lead.status)
        .bind(now)
        .bind(bot.as_str())
        .bind(lead_id)
        .execute(&mut *conn)
        .await?;
    if change.handover {
        sqlx::query("UPDATE leads SET operator = $1, operator_at = $2 WHERE bot_id = $3 AND id = $4 AND operator = ''")
            .bind(AWAITING_OPERATOR)
            .bind(now)
            .bind(bot.as_str())
            .bind(lead_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The lead as templates and conditions see it (`lead.*`).
impl From<Lead> for crate::scenario::LeadInfo {
    fn from(lead: Lead) -> Self {
        crate::scenario::LeadInfo { id: lead.id, attributes: lead.attributes, tags: lead.tags, status: Some(lead.status) }
    }
}

impl Store {
    /// One lead, if the bot has it.
    pub async fn lead(&self, bot: &BotId, lead_id: &str) -> StoreResult<Option<Lead>> {
        let row = sqlx::query("SELECT id, attributes_json, tags_json, status, operator, created_at, updated_at FROM leads WHERE bot_id = $1 AND id = $2")
            .bind(bot.as_str())
            .bind(lead_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|row| self.opened_lead(bot, row)).transpose()
    }

    /// A lead row with its personal attributes opened.
    pub(super) fn opened_lead(&self, bot: &BotId, row: &sqlx::any::AnyRow) -> StoreResult<Lead> {
        let mut lead = lead_row(row)?;
        self.open_attributes(bot.as_str(), &lead.id, &mut lead.attributes)?;
        Ok(lead)
    }

    /// A page of the leads of a bot that [`LeadSearch`] `query` finds,
    /// newest first, and how many it finds in all — one scan: the count
    /// rides on each row (`COUNT(*) OVER ()`), so a page past the end
    /// says 0.
    pub async fn leads(&self, bot: &BotId, query: &str, limit: i64, offset: i64) -> StoreResult<FoundLeads> {
        let search = LeadSearch::new(self, query);
        let sql = format!(
            "SELECT id, attributes_json, tags_json, status, operator, created_at, updated_at, COUNT(*) OVER () AS found \
             FROM leads l WHERE {} ORDER BY updated_at DESC, id LIMIT $3 OFFSET $4",
            search.condition(5)
        );
        let select = sqlx::query(&sql).bind(bot.as_str()).bind(search.pattern.as_str()).bind(limit).bind(offset);
        let rows = search.bind_addresses(select).fetch_all(&self.pool).await?;
        let total = rows.first().map(|row| row.try_get::<i64, _>("found")).transpose()?.unwrap_or(0);
        let leads = rows.iter().map(|row| self.opened_lead(bot, row)).collect::<StoreResult<_>>()?;
        Ok(FoundLeads { leads, total })
    }

    /// The identity links matching `filter`, newest first.
    pub async fn identities(&self, bot: &BotId, filter: &IdentityFilter, limit: i64) -> StoreResult<Vec<IdentityLink>> {
        Ok(self.identities_after(bot, filter, None, limit).await?.0)
    }

    /// Up to `limit` identity links matching `filter`, newest first, after
    /// the link `after` names, and where the next page starts (the last
    /// link's `(connected_at, id)`) when there is one.
    pub async fn identities_after(
        &self,
        bot: &BotId,
        filter: &IdentityFilter,
        after: Option<(i64, &str)>,
        limit: i64,
    ) -> StoreResult<(Vec<IdentityLink>, Option<(i64, String)>)> {
        let limit = limit.clamp(1, 1000);
        let (mut clause, values) = filter.clause(self);
        if after.is_some() {
            let (at, id) = (values.len() + 2, values.len() + 3);
            clause.push_str(&format!(" AND (connected_at < ${at} OR (connected_at = ${at} AND id > ${id}))"));
        }
        let sql = format!(
            "SELECT id, user_id, lead_id, channel, chat_id, is_active, source, connected_at FROM identity_links WHERE bot_id = $1{clause} \
             ORDER BY connected_at DESC, id LIMIT {}",
            limit + 1
        );
        let mut query = sqlx::query(&sql).bind(bot.as_str());
        for value in values {
            query = query.bind(value);
        }
        if let Some((at, id)) = after {
            query = query.bind(at).bind(id.to_string());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let next = match rows.get(limit as usize - 1) {
            Some(last) if rows.len() as i64 > limit => Some((last.try_get::<i64, _>("connected_at")?, last.try_get::<String, _>("id")?)),
            _ => None,
        };
        let links = rows.iter().take(limit as usize).map(|row| link_row(row, &self.keyring)).collect::<StoreResult<_>>()?;
        Ok((links, next))
    }

    /// Deactivates the links matching `filter` (never all of a bot's: an
    /// empty filter changes nothing); returns how many were active.
    pub async fn deactivate_identities(&self, bot: &BotId, filter: &IdentityFilter) -> StoreResult<u64> {
        if filter.is_empty() {
            return Ok(0);
        }
        let (clause, values) = filter.clause(self);
        // Not a block: a run that finds no address left reports none.
        let sql = format!("UPDATE identity_links SET is_active = 0, blocked_at = 0 WHERE bot_id = $1 AND is_active = 1{clause}");
        let mut query = sqlx::query(&sql).bind(bot.as_str());
        for value in values {
            query = query.bind(value);
        }
        let done = query.execute(&self.pool).await?;
        self.cache.leads.clear();
        Ok(done.rows_affected())
    }

    /// Sets a lead's status (the studio's and the API's "stop"/"activate").
    pub async fn set_lead_status(&self, bot: &BotId, lead_id: &str, status: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE leads SET status = $1, updated_at = $2 WHERE bot_id = $3 AND id = $4")
            .bind(status)
            .bind(now_millis())
            .bind(bot.as_str())
            .bind(lead_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A new lead id for a person first seen at a channel address, in the
    /// methodology's style: `TG-9072612` for a Telegram chat, `WC-…`,
    /// `WA-…`, `VK-…`, `EM-…`, `WH-…` for the others. With a data key a
    /// personal address (WhatsApp, email) does not show in the id, which
    /// is everywhere (runs, outbox, traces): `WA-` + 12 hex digits of its
    /// blind index instead.
    pub fn new_lead_id_for_address(&self, channel: &str, chat_id: &str) -> String {
        if super::sealing::is_personal_channel(channel) && self.keyring.is_enabled() {
            let index = self.address_key(channel, chat_id);
            let digest = index.rsplit(':').next().unwrap_or_default();
            let readable = Self::lead_id_for_address(channel, "");
            return format!("{readable}{}", &digest[..12.min(digest.len())]);
        }
        Self::lead_id_for_address(channel, chat_id)
    }

    /// [`Store::new_lead_id_for_address`] without a data key.
    pub fn lead_id_for_address(channel: &str, chat_id: &str) -> String {
        let prefix = match channel {
            "telegram" => "TG",
            "webchat" => "WC",
            "whatsapp" => "WA",
            "vk" => "VK",
            "email" => "EM",
            "webhook" => "WH",
            other => return format!("{}-{chat_id}", other.to_uppercase()),
        };
        let chat = chat_id.strip_prefix("wc_").unwrap_or(chat_id);
        format!("{prefix}-{chat}")
    }
}

/// A page of a lead search and the number of leads it finds in all.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundLeads {
    pub leads: Vec<Lead>,
    pub total: i64,
}

/// What the studio's lead search looks for: `query`, trimmed, found in a
/// lead's id or in a business user id linked to it (anywhere in it, any
/// case), or a chat id linked to it (whole: personal addresses are
/// stored sealed, found through their blind index); an empty query finds
/// every lead.
struct LeadSearch {
    /// `query` lowercased for `LIKE`, its wildcards escaped; "" for all.
    pattern: String,
    /// The blind indexes (and the text itself) a chat id would be kept by.
    addresses: Vec<String>,
}

impl LeadSearch {
    fn new(store: &Store, query: &str) -> Self {
        let query = query.trim();
        if query.is_empty() {
            return Self { pattern: String::new(), addresses: Vec::new() };
        }
        Self { pattern: super::contains_pattern(query), addresses: store.address_candidates(query) }
    }

    /// The `WHERE` condition over `leads l`, with the bot as `$1`, the
    /// pattern as `$2` and the addresses from `$first` on.
    fn condition(&self, first: usize) -> String {
        let addresses = if self.addresses.is_empty() {
            String::new()
        } else {
            format!(" OR i.chat_idx IN ({})", super::placeholders(first, self.addresses.len()))
        };
        format!(
            "bot_id = $1 AND ($2 = '' OR LOWER(id) LIKE $2 ESCAPE '\\' OR EXISTS (SELECT 1 FROM identity_links i \
             WHERE i.bot_id = l.bot_id AND i.lead_id = l.id AND (LOWER(i.user_id) LIKE $2 ESCAPE '\\'{addresses})))"
        )
    }

    fn bind_addresses<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for address in &self.addresses {
            query = query.bind(address.as_str());
        }
        query
    }
}
