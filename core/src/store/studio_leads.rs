//! Reads only the studio's Leads section needs: the channels of a page of
//! leads in one query, so the search table does not ask once per row.

use super::{Store, StoreResult};
use crate::BotId;

/// One channel of a lead: the channel name and whether any address of the
/// lead on it is still active.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeadChannel {
    pub lead_id: String,
    pub channel: String,
    pub active: bool,
}

impl Store {
    /// The channels each of `lead_ids` has an identity link on, ordered by
    /// lead and channel. At most 200 leads are asked about at once.
    pub async fn channels_of_leads(&self, bot: &BotId, lead_ids: &[String]) -> StoreResult<Vec<LeadChannel>> {
        let lead_ids = &lead_ids[..lead_ids.len().min(200)];
        if lead_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (0..lead_ids.len()).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT lead_id, channel, MAX(is_active) FROM identity_links WHERE bot_id = $1 AND lead_id IN ({placeholders}) \
             GROUP BY lead_id, channel ORDER BY lead_id, channel"
        );
        let mut query = sqlx::query_as::<_, (String, String, i64)>(&sql).bind(bot.as_str());
        for lead in lead_ids {
            query = query.bind(lead.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(lead_id, channel, active)| LeadChannel { lead_id, channel, active: active != 0 }).collect())
    }
}
