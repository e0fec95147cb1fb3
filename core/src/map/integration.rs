//! Integration-points map (seed: «Шаблон таблицы точек интеграции»): the
//! endpoints a process needs, as the architect designs them before (and
//! while) they exist — `Endpoint Alias, Method, URL, Описание, Request
//! Params, Response`. A row bound to a bot points at the live endpoint of
//! that alias; the endpoint table itself stays the source of truth for
//! what the API accepts.

use super::{fields, EndpointBinding};
use crate::validation::FieldError;
use crate::{Alias, BotId};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IntegrationMap {
    #[serde(default)]
    pub rows: Vec<IntegrationRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationRow {
    pub id: String,
    /// «Endpoint Alias».
    pub alias: Option<Alias>,
    /// The bot of the live endpoint, once bound.
    pub bot_id: Option<BotId>,
    /// «Method» (`POST` for `call/{alias}`).
    pub method: String,
    /// «URL» as documented (`/bots/{botId}/call/users/connect-bot`).
    pub url: String,
    /// «Описание».
    pub description: String,
    /// «Request Params» (`{ userId }`).
    pub request: String,
    /// «Response» (`{ success: true }`).
    pub response: String,
    /// «Owner» (seed: «Как проектировать точки интеграции»).
    pub owner: String,
}

/// The text columns after the alias: (field, seed's header, English header).
pub const COLUMNS: [(&str, &str, &str); 6] = [
    ("method", "Method", "Method"),
    ("url", "URL", "URL"),
    ("description", "Описание", "Description"),
    ("request", "Request Params", "Request Params"),
    ("response", "Response", "Response"),
    ("owner", "Владелец", "Owner"),
];

impl IntegrationRow {
    pub fn binding(&self) -> Option<EndpointBinding> {
        Some(EndpointBinding { bot_id: self.bot_id.clone()?, alias: self.alias.clone()? })
    }

    pub fn column(&self, field: &str) -> &str {
        match field {
            "method" => &self.method,
            "url" => &self.url,
            "description" => &self.description,
            "request" => &self.request,
            "response" => &self.response,
            "owner" => &self.owner,
            _ => "",
        }
    }

    pub fn column_mut(&mut self, field: &str) -> Option<&mut String> {
        Some(match field {
            "method" => &mut self.method,
            "url" => &mut self.url,
            "description" => &mut self.description,
            "request" => &mut self.request,
            "response" => &mut self.response,
            "owner" => &mut self.owner,
            _ => return None,
        })
    }
}

impl IntegrationMap {
    pub(crate) fn read(value: &serde_json::Value, errors: &mut Vec<FieldError>) -> Self {
        let o = fields::object(value, "", errors);
        let mut seen = HashSet::new();
        let rows = fields::rows(o, "rows", errors)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("rows[{i}]");
                let r = fields::object(v, &path, errors);
                let mut row = IntegrationRow {
                    id: fields::id(r, &path, &mut seen, errors),
                    alias: fields::alias(r, "alias", &path, errors),
                    bot_id: fields::bot(r, "bot_id", &path, errors),
                    ..Default::default()
                };
                for (field, _, _) in COLUMNS {
                    let value = fields::text(r, field, &path, errors);
                    if let Some(slot) = row.column_mut(field) {
                        *slot = value;
                    }
                }
                row
            })
            .collect();
        IntegrationMap { rows }
    }
}
