//! Endpoints (integration points): what a business system may call on a
//! bot, `POST /bots/{botId}/call/{alias}`, with the methodology's
//! documentation fields (alias, purpose, owner, request, response).
//! Every save is a version ([`versions`]).

pub mod versions;

use crate::alias::Alias;
use crate::id::{BotId, EndpointId};
use crate::schema::RequestSchema;
use crate::validation::{optional_text, FieldError, Problem};
use crate::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: EndpointId,
    pub bot_id: BotId,
    pub alias: Alias,
    pub description: String,
    pub owner: String,
    pub schema: RequestSchema,
    /// An example request body (JSON), shown in the docs and used by "try it".
    pub example: serde_json::Value,
    pub response_description: String,
    /// Only tokens that name this alias explicitly may call it.
    pub isolated: bool,
    pub enabled: bool,
    /// The scenario a call starts (by name); empty until one is bound.
    pub scenario: String,
    /// Allow a new run for a lead while one from this endpoint is active.
    pub allow_overlap: bool,
    /// The scenario started for a lead who turns out to have blocked the
    /// bot when a run from this endpoint messages them (its `http` step
    /// tells the business system); empty: nobody is told.
    #[serde(default)]
    pub on_blocked: String,
    /// The current version's number (1 when created; every save adds one;
    /// 1 too when read from JSON written before versions).
    #[serde(default = "first_version")]
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

fn first_version() -> i64 {
    1
}

impl Endpoint {
    /// The scenarios this endpoint names: the one it runs and the one that
    /// reports a block (each may be empty).
    pub fn scenarios(&self) -> [&str; 2] {
        [&self.scenario, &self.on_blocked]
    }

    /// Whether it names scenario `name` (to run, or to report a block).
    pub fn uses_scenario(&self, name: &str) -> bool {
        !name.is_empty() && self.scenarios().contains(&name)
    }
}

/// What the studio or an import submits for an endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointDraft {
    pub alias: String,
    pub description: String,
    pub owner: String,
    pub schema: RequestSchema,
    /// JSON text as typed in the studio (empty = `{}`).
    pub example: String,
    pub response_description: String,
    pub isolated: bool,
    pub enabled: bool,
    pub scenario: String,
    pub allow_overlap: bool,
    pub on_blocked: String,
}

/// A draft that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEndpoint {
    pub alias: Alias,
    pub description: String,
    pub owner: String,
    pub schema: RequestSchema,
    pub example: serde_json::Value,
    pub response_description: String,
    pub isolated: bool,
    pub enabled: bool,
    pub scenario: String,
    pub allow_overlap: bool,
    pub on_blocked: String,
}

/// The longest description and response description, in characters.
pub const MAX_DESCRIPTION: usize = 2000;
/// The longest owner, scenario name and `on_blocked` scenario name.
pub const MAX_NAME: usize = 120;

impl EndpointDraft {
    pub fn validate(&self) -> Result<ValidEndpoint, Vec<FieldError>> {
        let mut errors = Vec::new();
        let alias = Alias::parse(&self.alias).map_err(|p| errors.push(FieldError::new("alias", p))).ok();
        let description = optional_text("description", &self.description, MAX_DESCRIPTION, &mut errors);
        let owner = optional_text("owner", &self.owner, MAX_NAME, &mut errors);
        let response_description = optional_text("response_description", &self.response_description, MAX_DESCRIPTION, &mut errors);
        let scenario = optional_text("scenario", &self.scenario, MAX_NAME, &mut errors);
        let on_blocked = optional_text("on_blocked", &self.on_blocked, MAX_NAME, &mut errors);
        if let Err(schema_errors) = self.schema.validate() {
            errors.extend(schema_errors);
        }
        let example = if self.example.trim().is_empty() {
            serde_json::json!({})
        } else {
            match serde_json::from_str::<serde_json::Value>(&self.example) {
                Ok(value) if value.is_object() => value,
                _ => {
                    errors.push(FieldError::new("example", Problem::BadJson));
                    serde_json::Value::Null
                }
            }
        };
        match alias {
            Some(alias) if errors.is_empty() => Ok(ValidEndpoint {
                alias,
                description,
                owner,
                schema: self.schema.clone(),
                example,
                response_description,
                isolated: self.isolated,
                enabled: self.enabled,
                scenario,
                allow_overlap: self.allow_overlap,
                on_blocked,
            }),
            _ => Err(errors),
        }
    }
}

impl From<&Endpoint> for EndpointDraft {
    fn from(e: &Endpoint) -> Self {
        EndpointDraft {
            alias: e.alias.to_string(),
            description: e.description.clone(),
            owner: e.owner.clone(),
            schema: e.schema.clone(),
            example: serde_json::to_string_pretty(&e.example).unwrap_or_default(),
            response_description: e.response_description.clone(),
            isolated: e.isolated,
            enabled: e.enabled,
            scenario: e.scenario.clone(),
            allow_overlap: e.allow_overlap,
            on_blocked: e.on_blocked.clone(),
        }
    }
}

impl From<&ValidEndpoint> for EndpointDraft {
    fn from(v: &ValidEndpoint) -> Self {
        EndpointDraft {
            alias: v.alias.to_string(),
            description: v.description.clone(),
            owner: v.owner.clone(),
            schema: v.schema.clone(),
            example: serde_json::to_string_pretty(&v.example).unwrap_or_default(),
            response_description: v.response_description.clone(),
            isolated: v.isolated,
            enabled: v.enabled,
            scenario: v.scenario.clone(),
            allow_overlap: v.allow_overlap,
            on_blocked: v.on_blocked.clone(),
        }
    }
}

/// The JSON export of a bot's endpoints (`comops` ⇄ CI ⇄ `comops`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointExport {
    pub format: String,
    pub bot_id: BotId,
    pub endpoints: Vec<EndpointDraft>,
}

impl EndpointExport {
    pub const FORMAT: &'static str = "comops.endpoints/v1";

    /// Every endpoint of the document validated, or every problem, each
    /// naming its draft (`endpoints[2].alias`); an alias twice in the
    /// document is one (the second would silently overwrite the first).
    /// The document's own `bot_id` is not checked: importing is also how
    /// endpoints are copied between bots.
    pub fn validate(&self) -> Result<Vec<ValidEndpoint>, Vec<FieldError>> {
        let mut valid = Vec::with_capacity(self.endpoints.len());
        let mut errors = Vec::new();
        let mut aliases = std::collections::HashSet::new();
        for (i, draft) in self.endpoints.iter().enumerate() {
            match draft.validate() {
                Ok(endpoint) => {
                    if !aliases.insert(endpoint.alias.to_string()) {
                        errors.push(FieldError::new(format!("endpoints[{i}].alias"), Problem::Taken));
                    }
                    valid.push(endpoint);
                }
                Err(found) => errors.extend(found.into_iter().map(|e| FieldError::new(format!("endpoints[{i}].{}", e.field), e.problem))),
            }
        }
        if errors.is_empty() {
            Ok(valid)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_alias_example_and_schema_together() {
        let draft = EndpointDraft {
            alias: "Order Thank You".into(),
            example: "{not json".into(),
            schema: serde_json::from_value(serde_json::json!({"fields": [{"name": "", "type": "string"}]})).unwrap(),
            ..Default::default()
        };
        let fields: Vec<_> = draft.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["alias", "schema.fields[0].name", "example"]);
    }

    #[test]
    fn empty_example_is_an_empty_object() {
        let draft = EndpointDraft { alias: "/order/thank-you".into(), enabled: true, ..Default::default() };
        let valid = draft.validate().unwrap();
        assert_eq!(valid.alias.as_str(), "order/thank-you");
        assert_eq!(valid.example, serde_json::json!({}));
    }
}
