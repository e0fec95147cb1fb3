//! Bots: one conversational identity inside a project, reachable over one
//! or more channels; the `{botId}` of `POST /bots/{botId}/call/{alias}`.

use crate::id::{BotId, ProjectId};
use crate::validation::{optional_text, required_text, FieldError, Problem};
use crate::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    pub id: BotId,
    pub project_id: ProjectId,
    pub name: String,
    /// Telegram username without `@` (used for `t.me/<username>` deep
    /// links); empty when the bot has no Telegram channel yet.
    pub username: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BotDraft {
    pub name: String,
    pub username: String,
    pub description: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidBot {
    pub name: String,
    pub username: String,
    pub description: String,
    pub enabled: bool,
}

impl BotDraft {
    pub const NAME_MAX: usize = 120;
    pub const DESCRIPTION_MAX: usize = 2000;

    pub fn validate(&self) -> Result<ValidBot, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required_text("name", &self.name, Self::NAME_MAX, &mut errors);
        let username = self.username.trim().trim_start_matches('@').to_string();
        if !username.is_empty() && !is_bot_username(&username) {
            errors.push(FieldError::new("username", Problem::BadBotUsername));
        }
        let description = optional_text("description", &self.description, Self::DESCRIPTION_MAX, &mut errors);
        if errors.is_empty() {
            Ok(ValidBot { name, username, description, enabled: self.enabled })
        } else {
            Err(errors)
        }
    }
}

/// Telegram's rule: 5–32 characters of `a-z`, `0-9`, `_`, ending in `bot`
/// (any case).
fn is_bot_username(name: &str) -> bool {
    (5..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.to_ascii_lowercase().ends_with("bot")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_telegram_usernames_with_or_without_at() {
        let draft = BotDraft { name: "Shop".into(), username: "@shop_notify_bot".into(), ..Default::default() };
        assert_eq!(draft.validate().unwrap().username, "shop_notify_bot");
    }

    #[test]
    fn rejects_bad_usernames() {
        for bad in ["shop", "my shop bot", "shop_notifier"] {
            let draft = BotDraft { name: "Shop".into(), username: bad.into(), ..Default::default() };
            assert_eq!(
                draft.validate().unwrap_err(),
                vec![FieldError::new("username", Problem::BadBotUsername)],
                "{bad}"
            );
        }
    }
}
