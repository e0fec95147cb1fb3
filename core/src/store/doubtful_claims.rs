//! Claims whose commit may have happened: the database went away after
//! the claiming statement was sent and before its answer came (PostgreSQL
//! shut down between writing the commit and telling us). Such a claim may
//! hold runs or outbox rows for a whole lease (two minutes for a run) with
//! no worker on them. The claimer remembers them here and, at its next
//! claim, hands back whatever the claim did take: only rows still holding
//! exactly that lease, which no other claimer can have set after ours
//! committed (a claim needs the old lease to have ended). An outbox take
//! (SQLite's one process) marks rows `sending` itself; nothing is sent
//! before its answer, so an unheard take's `sending` rows are handed back
//! too. A claim's never are: a claim only marks rows `claimed`, and a
//! `sending` row of the same lease value may be another process's send.

use super::{Store, StoreResult};
use crate::Millis;
use std::sync::Mutex;

/// Which queue a claim was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    Runs,
    Outbox,
}

/// One claim of unknown outcome: the rows it may have taken and the lease
/// it would have set.
#[derive(Debug)]
struct Doubtful {
    queue: Queue,
    ids: Vec<String>,
    lease_until: Millis,
    /// A take that marks outbox rows `sending` (`Store::take_due_messages`):
    /// its `sending` rows of that lease are handed back too. A claim's are
    /// not: they may be another process's send in flight that happens to
    /// hold the same lease value.
    sending: bool,
}

/// The claims of this process whose outcome is unknown.
#[derive(Debug, Default)]
pub(crate) struct DoubtfulClaims(Mutex<Vec<Doubtful>>);

impl DoubtfulClaims {
    /// The doubtful claims on `queue`, taken out. Every claim asks, so the
    /// usual answer (none) touches nothing but the lock.
    fn take(&self, queue: Queue) -> Vec<Doubtful> {
        let mut all = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !all.iter().any(|d| d.queue == queue) {
            return Vec::new();
        }
        let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|d| d.queue == queue);
        *all = rest;
        mine
    }

    fn put(&self, doubtful: Doubtful) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(doubtful);
    }
}

impl Store {
    /// Notes that a claim of `ids` on `queue` until `lease_until` failed
    /// as if the database were unreachable, so it may have committed.
    pub(crate) fn doubt_claim(&self, queue: Queue, ids: &[String], lease_until: Millis) {
        tracing::warn!(?queue, rows = ids.len(), "a claim's answer was lost; what it took is handed back at the next claim");
        self.doubtful_claims.put(Doubtful { queue, ids: ids.to_vec(), lease_until, sending: false });
    }

    /// Notes that a take of outbox rows `ids` until `lease_until`, which
    /// marks the admitted ones `sending`, failed as if the database were
    /// unreachable. Nothing is sent before a take is heard, so its
    /// `sending` rows are handed back too.
    pub(crate) fn doubt_take(&self, ids: &[String], lease_until: Millis) {
        // A take of paced messages only set no lease: nothing to hand back.
        if ids.is_empty() {
            return;
        }
        tracing::warn!(rows = ids.len(), "an outbox take's answer was lost; what it took is handed back at the next pass");
        self.doubtful_claims.put(Doubtful { queue: Queue::Outbox, ids: ids.to_vec(), lease_until, sending: true });
    }

    /// Hands back what this process's doubtful claims on `queue` took.
    /// Those that cannot be handed back yet stay for the next claim.
    pub(crate) async fn release_doubtful_claims(&self, queue: Queue) -> StoreResult<()> {
        let mut pending = self.doubtful_claims.take(queue).into_iter();
        while let Some(claim) = pending.next() {
            if let Err(err) = self.release_claim(&claim).await {
                self.doubtful_claims.put(claim);
                pending.for_each(|rest| self.doubtful_claims.put(rest));
                return Err(err);
            }
        }
        Ok(())
    }

    async fn release_claim(&self, claim: &Doubtful) -> StoreResult<()> {
        // `IN ()` is no statement on PostgreSQL.
        if claim.ids.is_empty() {
            return Ok(());
        }
        let placeholders = super::placeholders(2, claim.ids.len());
        let sql = match claim.queue {
            Queue::Runs => format!("UPDATE runs SET lease_until = 0 WHERE lease_until = $1 AND id IN ({placeholders})"),
            Queue::Outbox => format!(
                "UPDATE outbox SET status = 'pending', lease_until = 0 WHERE status IN ({}) AND lease_until = $1 AND id IN ({placeholders})",
                if claim.sending { "'claimed', 'sending'" } else { "'claimed'" }
            ),
        };
        let mut query = sqlx::query(&sql).bind(claim.lease_until);
        for id in &claim.ids {
            query = query.bind(id);
        }
        let mut turn = self.write_turn(super::Work::Other).await;
        let released = query.execute(turn.connection().await?).await?.rows_affected();
        if released > 0 {
            tracing::info!(queue = ?claim.queue, released, "handed back rows a claim took without our hearing of it");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A claim that committed unheard holds its rows until it is handed
    /// back; rows another claimer leased since are not touched.
    async fn handed_back(store: Store) {
        let now = super::super::now_millis();
        let (ours, theirs) = (now + 120_000, now + 120_001);
        for (id, lease) in [("run_ours", ours), ("run_theirs", theirs)] {
            sqlx::query(
                "INSERT INTO runs (id, event_id, bot_id, endpoint_id, scenario, lead_id, trace_id, status, created_at, updated_at, lease_until) \
                 VALUES ($1, 'ev', 'bot_shop', 'ep', 'sc', 'L-1', 't', 'pending', $2, $2, $3)",
            )
            .bind(id)
            .bind(now)
            .bind(lease)
            .execute(store.pool())
            .await
            .unwrap();
        }
        // 0003: marked `sending` by a take whose answer was lost; 0004: another
        // process's send in flight that holds the same lease value.
        for (id, status, lease) in [("0001", "claimed", ours), ("0002", "claimed", theirs), ("0003", "sending", ours), ("0004", "sending", ours)] {
            sqlx::query(
                "INSERT INTO outbox (id, delivery_key, run_id, bot_id, lead_id, channel, chat_id, payload_json, trace_id, status, next_attempt_at, created_at, lease_until) \
                 VALUES ($1, $1, 'run_ours', 'bot_shop', 'L-1', 'telegram', $1, '{}', 't', $2, $3, $3, $4)",
            )
            .bind(id)
            .bind(status)
            .bind(now)
            .bind(lease)
            .execute(store.pool())
            .await
            .unwrap();
        }
        let ids = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        store.doubt_claim(Queue::Runs, &ids(&["run_ours", "run_theirs"]), ours);
        store.doubt_claim(Queue::Outbox, &ids(&["0001", "0002", "0004"]), ours);
        store.doubt_take(&ids(&["0003"]), ours);
        // A take of paced messages only: no rows to hand back, no statement.
        store.doubt_take(&[], ours);
        store.doubtful_claims.put(Doubtful { queue: Queue::Outbox, ids: vec![], lease_until: ours, sending: false });

        store.release_doubtful_claims(Queue::Runs).await.unwrap();
        let runs: Vec<(String, i64)> = sqlx::query_as("SELECT id, lease_until FROM runs ORDER BY id").fetch_all(store.pool()).await.unwrap();
        assert_eq!(runs, [("run_ours".to_string(), 0), ("run_theirs".to_string(), theirs)]);
        let outbox = "SELECT id, status, lease_until FROM outbox ORDER BY id";
        let before: Vec<(String, String, i64)> = sqlx::query_as(outbox).fetch_all(store.pool()).await.unwrap();
        assert_eq!(before[0], ("0001".to_string(), "claimed".to_string(), ours), "the outbox's doubt waits for an outbox claim");

        let claimed = store.claim_due_messages(now + 1, 10, 30_000).await.unwrap();
        assert_eq!(claimed.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["0001", "0003"], "handed back, then claimed again");
        let after: Vec<(String, String, i64)> = sqlx::query_as(outbox).fetch_all(store.pool()).await.unwrap();
        assert_eq!(after[1], ("0002".to_string(), "claimed".to_string(), theirs));
        assert_eq!(after[3], ("0004".to_string(), "sending".to_string(), ours), "a claim's doubt leaves a send in flight alone");
        // Handed back once: nothing is left to do.
        assert!(store.doubtful_claims.take(Queue::Runs).is_empty() && store.doubtful_claims.take(Queue::Outbox).is_empty());
    }

    async fn migrated(url: &str) -> Store {
        let store = Store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn claims_answered_by_nobody_are_handed_back_on_sqlite() {
        let dir = std::env::temp_dir().join(format!("comops-doubt-{}", crate::id::random_suffix()));
        handed_back(migrated(&format!("sqlite://{}/comops.db", dir.display())).await).await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn claims_answered_by_nobody_are_handed_back_on_postgres() {
        let Some(url) = crate::store::scratch::test_postgres("doubt").await else { return };
        handed_back(migrated(&url).await).await;
    }
}
