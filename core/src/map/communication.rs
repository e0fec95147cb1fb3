//! Communication map (seed: «Карта коммуникаций — сердце интеграции»):
//! who, when and why says something to the user. One process = one map;
//! one row per business event: `№, event, communication / scenario,
//! participants, channel, user action, result, API trigger`.
//!
//! The API trigger is the scenario the event starts and, once the
//! architect binds it, the live endpoint (`bot_id` + alias) the business
//! system calls. An analyst may write the alias while designing; setting
//! the bot (binding to a live endpoint) is the architect's. Rows link back
//! to CJM stages and across to blueprint cells — the ComOps loop.

use super::{fields, EndpointBinding, ItemRef};
use crate::validation::FieldError;
use crate::{Alias, BotId};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommunicationMap {
    /// The process this map describes (seed: «Один процесс = одна карта»).
    #[serde(default)]
    pub process: String,
    #[serde(default)]
    pub rows: Vec<CommRow>,
}

/// The API trigger of a row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiTrigger {
    /// The bot whose endpoint this row is bound to; `None` while designing.
    pub bot_id: Option<BotId>,
    /// The endpoint alias (`order/thank-you`).
    pub alias: Option<Alias>,
    /// The scenario the event starts (`registration_flow`).
    pub scenario: String,
}

impl ApiTrigger {
    /// The live endpoint, when both bot and alias are set.
    pub fn binding(&self) -> Option<EndpointBinding> {
        Some(EndpointBinding { bot_id: self.bot_id.clone()?, alias: self.alias.clone()? })
    }

    /// The seed's way of writing it: `/bots/bot_shop/call/order/thank-you`,
    /// `/bots/{botId}/call/order/thank-you` before binding, empty without alias.
    pub fn url(&self) -> String {
        match (&self.bot_id, &self.alias) {
            (Some(bot), Some(alias)) => format!("/bots/{bot}/call/{alias}"),
            (None, Some(alias)) => format!("/bots/{{botId}}/call/{alias}"),
            (Some(bot), None) => format!("/bots/{bot}/call/"),
            (None, None) => String::new(),
        }
    }

    /// Reads [`ApiTrigger::url`] back; also accepts a bare alias
    /// (`/order/status`) and the seed's placeholders (`/bots/{id}/…`,
    /// `/bots/123/…`), which leave the row unbound. A row is bound by its
    /// bot's full id: the API answers `/bots/123/…` for a bot `bot_123`,
    /// but in a map `123` stays the seed's placeholder, as its tables
    /// write it for any bot.
    pub fn parse_url(raw: &str) -> Result<(Option<BotId>, Option<Alias>), crate::Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok((None, None));
        }
        let (bot, alias) = match raw.strip_prefix("/bots/").and_then(|rest| rest.split_once("/call/")) {
            Some((bot, alias)) => (BotId::parse(bot), alias),
            None => (None, raw),
        };
        if alias.trim().is_empty() {
            return Ok((bot, None));
        }
        Ok((bot, Some(Alias::parse(alias)?)))
    }
}

/// One row of the map.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommRow {
    pub id: String,
    /// «№» as shown (rows may be renumbered; the id is the identity).
    pub number: i64,
    /// «Событие в системе».
    pub event: String,
    /// «Коммуникация / сценарий»: the message as the user reads it.
    pub communication: String,
    /// «Участники».
    pub participants: String,
    /// «Канал».
    pub channel: String,
    /// «Действие пользователя».
    pub user_action: String,
    /// «Ответ / результат».
    pub result: String,
    /// «API / триггер».
    pub trigger: ApiTrigger,
    /// CJM stages this row zooms into.
    pub stages: Vec<ItemRef>,
    /// Blueprint cells this row realises.
    pub cells: Vec<ItemRef>,
}

/// The seed's text columns after «№», in order: (field, seed's header, English header).
pub const COLUMNS: [(&str, &str, &str); 6] = [
    ("event", "Событие в системе", "Event"),
    ("communication", "Коммуникация / сценарий", "Communication / scenario"),
    ("participants", "Участники", "Participants"),
    ("channel", "Канал", "Channel"),
    ("user_action", "Действие пользователя", "User action"),
    ("result", "Ответ / результат", "Result"),
];

impl CommRow {
    pub fn column(&self, field: &str) -> &str {
        match field {
            "event" => &self.event,
            "communication" => &self.communication,
            "participants" => &self.participants,
            "channel" => &self.channel,
            "user_action" => &self.user_action,
            "result" => &self.result,
            _ => "",
        }
    }

    pub fn column_mut(&mut self, field: &str) -> Option<&mut String> {
        Some(match field {
            "event" => &mut self.event,
            "communication" => &mut self.communication,
            "participants" => &mut self.participants,
            "channel" => &mut self.channel,
            "user_action" => &mut self.user_action,
            "result" => &mut self.result,
            _ => return None,
        })
    }
}

impl CommunicationMap {
    pub(crate) fn read(value: &serde_json::Value, errors: &mut Vec<FieldError>) -> Self {
        let o = fields::object(value, "", errors);
        let process = fields::text(o, "process", "", errors);
        let mut seen = HashSet::new();
        let rows = fields::rows(o, "rows", errors)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("rows[{i}]");
                let r = fields::object(v, &path, errors);
                let mut row = CommRow {
                    id: fields::id(r, &path, &mut seen, errors),
                    number: fields::int(r, "number", &path, 0..=1_000_000, (i + 1) as i64, errors),
                    stages: fields::refs(r, "stages", &path, errors),
                    cells: fields::refs(r, "cells", &path, errors),
                    ..Default::default()
                };
                for (field, _, _) in COLUMNS {
                    let value = fields::text(r, field, &path, errors);
                    if let Some(slot) = row.column_mut(field) {
                        *slot = value;
                    }
                }
                let at = format!("{path}.trigger");
                if let Some(t) = r.get("trigger").filter(|t| !t.is_null()) {
                    let t = fields::object(t, &at, errors);
                    row.trigger = ApiTrigger {
                        bot_id: fields::bot(t, "bot_id", &at, errors),
                        alias: fields::alias(t, "alias", &at, errors),
                        scenario: fields::text_max(t, "scenario", &at, 120, errors),
                    };
                }
                row
            })
            .collect();
        CommunicationMap { process, rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_urls_read_back() {
        let bound = ApiTrigger { bot_id: BotId::parse("bot_rehau"), alias: Alias::parse("users/connect-bot").ok(), scenario: String::new() };
        assert_eq!(bound.url(), "/bots/bot_rehau/call/users/connect-bot");
        assert_eq!(ApiTrigger::parse_url(&bound.url()).unwrap(), (bound.bot_id.clone(), bound.alias.clone()));
        let open = ApiTrigger { bot_id: None, ..bound.clone() };
        assert_eq!(ApiTrigger::parse_url(&open.url()).unwrap(), (None, open.alias.clone()));
        assert_eq!(ApiTrigger::parse_url("/bots/123/call/user/register").unwrap().1.unwrap().as_str(), "user/register");
        assert_eq!(ApiTrigger::parse_url("/order/status").unwrap(), (None, Alias::parse("order/status").ok()));
        assert_eq!(ApiTrigger::parse_url("").unwrap(), (None, None));
        assert!(ApiTrigger::parse_url("Order Status!").is_err());
    }
}
