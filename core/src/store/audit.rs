//! The audit log of admin actions (users, tokens, credentials, settings):
//! written one entry per action, read a filtered page at a time, newest
//! first, with each subject's current name.

use super::conditions::Conditions;
use super::{now_millis, placeholders, Store, StoreResult};
use crate::audit::{ActorMatch, AuditCursor, AuditEntry, AuditFilter, AuditPage, AREAS, NAMED_KINDS};
use sqlx::Row;
use std::collections::HashMap;

impl Store {
    /// Records that `actor` did `action` to `subject`. `detail` must never
    /// contain a secret. Ids are time-ordered, so entries of the same
    /// millisecond read back in the order they were written.
    pub async fn audit(&self, actor: &str, action: &str, subject: &str, detail: &str) -> StoreResult<()> {
        let at = now_millis();
        sqlx::query("INSERT INTO audit_log (id, actor, action, subject, detail, at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(super::time_ordered_id("aud_", at))
            .bind(actor)
            .bind(action)
            .bind(subject)
            .bind(detail)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Up to `limit` entries (1–500) matching `filter`, newest first, and
    /// the cursor of the next page when there is one. An area outside
    /// [`AREAS`] matches nothing.
    pub async fn audit_page(&self, filter: &AuditFilter, limit: usize) -> StoreResult<AuditPage> {
        let limit = limit.clamp(1, 500);
        let mut conditions = Conditions::default();
        // SQLite's LOWER folds ASCII only: the text as typed matches too
        // (`token:Интеграция`).
        match ActorMatch::of(&filter.actor) {
            Some(ActorMatch::Holding(part)) => {
                conditions.add("(LOWER(actor) LIKE ? ESCAPE '\\' OR actor LIKE ? ESCAPE '\\')", [super::contains_pattern(part).into(), super::contains_pattern_as_typed(part).into()]);
            }
            Some(ActorMatch::Exactly(actor)) => conditions.add("(LOWER(actor) = ? OR actor = ?)", [actor.to_lowercase().into(), actor.into()]),
            None => {}
        }
        let area = filter.area.trim();
        if !area.is_empty() {
            let known = AREAS.iter().find(|a| **a == area).copied().unwrap_or("-");
            conditions.add("action LIKE ?", [format!("{known}.%").into()]);
        }
        let subject = filter.subject.trim();
        if !subject.is_empty() {
            conditions.add("subject = ?", [subject.into()]);
        }
        if let Some(cursor) = &filter.before {
            // `at <= …` first: a range the index on `at` can read.
            conditions.add("at <= ? AND (at < ? OR id < ?)", [cursor.at.into(), cursor.at.into(), cursor.id.as_str().into()]);
        }
        if let Some(since) = filter.since {
            conditions.add("at >= ?", [since.into()]);
        }
        // One more than asked: whether an older page exists.
        let sql = format!("SELECT id, actor, action, subject, detail, at FROM audit_log{} ORDER BY at DESC, id DESC LIMIT {}", conditions.sql(), limit + 1);
        let query = conditions.bind(sqlx::query(&sql));
        let rows = query.fetch_all(&self.pool).await?;
        let mut entries = Vec::with_capacity(rows.len().min(limit));
        for row in rows.iter().take(limit) {
            entries.push(AuditEntry {
                id: row.try_get("id")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                subject: row.try_get("subject")?,
                subject_name: None,
                detail: row.try_get("detail")?,
                at: row.try_get("at")?,
            });
        }
        let names = self.subject_names(&entries).await?;
        for entry in &mut entries {
            entry.subject_name = names.get(&entry.subject).cloned();
        }
        let older = (rows.len() > limit).then(|| entries.last().map(|e| AuditCursor { at: e.at, id: e.id.clone() })).flatten();
        Ok(AuditPage { entries, older })
    }

    /// The newest `most` entries matching `filter` (its cursor ignored),
    /// read a page of 500 at a time.
    pub async fn audit_export(&self, filter: &AuditFilter, most: usize) -> StoreResult<Vec<AuditEntry>> {
        let mut filter = AuditFilter { before: None, ..filter.clone() };
        let mut entries = Vec::new();
        while entries.len() < most {
            let page = self.audit_page(&filter, (most - entries.len()).min(500)).await?;
            entries.extend(page.entries);
            match page.older {
                Some(cursor) => filter.before = Some(cursor),
                None => break,
            }
        }
        Ok(entries)
    }

    /// The current names of the entries' subjects, by id, in one query.
    async fn subject_names(&self, entries: &[AuditEntry]) -> StoreResult<HashMap<String, String>> {
        let mut parts = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        for (prefix, table, column) in NAMED_KINDS {
            let mut these: Vec<&str> = entries.iter().map(|e| e.subject.as_str()).filter(|s| s.starts_with(prefix)).collect();
            these.sort_unstable();
            these.dedup();
            if these.is_empty() {
                continue;
            }
            parts.push(format!("SELECT id, {column} AS name FROM {table} WHERE id IN ({})", placeholders(ids.len() + 1, these.len())));
            ids.extend(these);
        }
        if parts.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = parts.join(" UNION ALL ");
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get("id")?, row.try_get("name")?))).collect()
    }
}
