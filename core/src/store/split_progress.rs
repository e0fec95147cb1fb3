//! How far a split message got: the parts an attempt delivered before the
//! messenger failed it (`ChannelError::PartlySent`), so that its retry sends
//! only the rest (`OutboundMessage::parts_sent`) and the person never reads
//! a part twice.

use super::{Store, StoreResult};

impl Store {
    /// Records that the first `parts` parts of outbox message `message`
    /// are delivered.
    pub async fn record_parts_sent(&self, message: &str, parts: usize) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO outbox_parts (message_id, parts_sent) VALUES ($1, $2) \
             ON CONFLICT (message_id) DO UPDATE SET parts_sent = excluded.parts_sent",
        )
        .bind(message)
        .bind(i64::try_from(parts).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The parts of outbox message `message` an earlier attempt delivered.
    pub async fn parts_sent(&self, message: &str) -> StoreResult<usize> {
        let parts: Option<i64> = sqlx::query_scalar("SELECT parts_sent FROM outbox_parts WHERE message_id = $1")
            .bind(message)
            .fetch_optional(&self.pool)
            .await?;
        Ok(parts.map_or(0, |p| usize::try_from(p).unwrap_or(0)))
    }
}
