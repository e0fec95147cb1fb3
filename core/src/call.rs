//! The body of `POST /bots/{botId}/call/{alias}`, parsed into a
//! [`CallRequest`]: the parameters the scenario gets and the recipients.
//!
//! Both shapes of the methodology are accepted: `{"script_request_params":
//! {...}}` and a plain object. Recipients come from `userId`/`user_id`
//! (a business-system id, string or number), `userIds`/`user_ids`
//! (fan-out) or `leadId`/`lead_id`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "ids", rename_all = "snake_case")]
pub enum Recipients {
    /// Business-system user ids, resolved through identity links.
    Users(Vec<String>),
    /// Platform lead ids.
    Leads(Vec<String>),
    /// No recipient named (scenarios that only call back, or broadcast).
    None,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    pub params: Map<String, Value>,
    pub recipients: Recipients,
}

/// The fixed `message`s of the call API's answers, named once so the
/// server writes and the studio words (in Russian) the same text.
pub mod answer {
    pub const SENT: &str = "Communication sent";
    pub const NOBODY_BLOCKED: &str = "Nobody reached: every recipient has blocked the bot or was deactivated";
    pub const NOBODY_NO_ADDRESS: &str = "Nobody reached: no recipient has an active address on this bot";
    pub const ALREADY_RUNNING: &str = "Already in progress: a run from this endpoint is still active for every recipient";
    pub const DRY_RUN: &str = "Dry run: validated, nothing sent";
    pub const SCHEMA_MISMATCH: &str = "Request does not match the endpoint schema";
    pub const BOT_NOT_FOUND: &str = "Bot not found";
    pub const ENDPOINT_NOT_FOUND: &str = "Endpoint not found";
    pub const INVALID_TOKEN: &str = "Invalid token";
    pub const BODY_NOT_OBJECT: &str = "Request body must be a JSON object";
    pub const PARAMS_NOT_OBJECT: &str = "script_request_params must be a JSON object";
    /// A dry run's `preview.note`.
    pub const NO_SCENARIO: &str = "No scenario is bound to this endpoint";

    /// A dry run's `preview.note` when the bound scenario is not saved yet.
    pub fn scenario_missing(name: &str) -> String {
        format!("Scenario {name} does not exist yet")
    }

    /// The scenario [`scenario_missing`] names, if `note` is that note.
    pub fn missing_scenario(note: &str) -> Option<&str> {
        note.strip_prefix("Scenario ")?.strip_suffix(" does not exist yet")
    }

    pub const ALL: [&str; 12] = [
        SENT,
        NOBODY_BLOCKED,
        NOBODY_NO_ADDRESS,
        ALREADY_RUNNING,
        DRY_RUN,
        SCHEMA_MISMATCH,
        BOT_NOT_FOUND,
        ENDPOINT_NOT_FOUND,
        INVALID_TOKEN,
        BODY_NOT_OBJECT,
        PARAMS_NOT_OBJECT,
        NO_SCENARIO,
    ];
}

/// Why a body is not a call request (→ 422 with this message, naming the
/// field: `body` for the body itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBody {
    pub field: String,
    pub message: String,
}

impl BadBody {
    fn at(field: &str, message: String) -> Self {
        BadBody { field: field.into(), message }
    }
}

impl CallRequest {
    pub const MAX_RECIPIENTS: usize = 10_000;

    pub fn parse(body: Value) -> Result<Self, BadBody> {
        let Value::Object(mut object) = body else {
            return Err(BadBody::at("body", answer::BODY_NOT_OBJECT.into()));
        };
        let params = match object.remove("script_request_params") {
            Some(Value::Object(params)) => params,
            Some(_) => return Err(BadBody::at("script_request_params", answer::PARAMS_NOT_OBJECT.into())),
            None => object,
        };
        let recipients = recipients(&params)?;
        Ok(CallRequest { params, recipients })
    }
}

/// A business-system id as JSON sends it: a non-empty string (≤ 128
/// chars, trimmed) or an integer (`125` and `"125"` are the same id).
pub fn business_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() && s.len() <= 128 => Some(s.trim().to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// The first of `names` present in `object` as a business id.
pub fn business_id_of(object: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| object.get(*name).and_then(business_id))
}

fn id_text(field: &str, value: &Value) -> Result<String, BadBody> {
    business_id(value).ok_or_else(|| BadBody::at(field, format!("{field} must be a non-empty string or an integer")))
}

fn first<'a>(params: &'a Map<String, Value>, names: [&'static str; 2]) -> Option<(&'static str, &'a Value)> {
    names.into_iter().find_map(|name| params.get(name).filter(|v| !v.is_null()).map(|v| (name, v)))
}

fn recipients(params: &Map<String, Value>) -> Result<Recipients, BadBody> {
    if let Some((field, value)) = first(params, ["userIds", "user_ids"]) {
        let Value::Array(items) = value else {
            return Err(BadBody::at(field, format!("{field} must be an array of user ids")));
        };
        if items.len() > CallRequest::MAX_RECIPIENTS {
            return Err(BadBody::at(field, format!("{field} may name at most {} users", CallRequest::MAX_RECIPIENTS)));
        }
        let mut ids = items.iter().map(|v| id_text(field, v)).collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        ids.dedup();
        return Ok(Recipients::Users(ids));
    }
    if let Some((field, value)) = first(params, ["userId", "user_id"]) {
        return Ok(Recipients::Users(vec![id_text(field, value)?]));
    }
    if let Some((field, value)) = first(params, ["leadId", "lead_id"]) {
        return Ok(Recipients::Leads(vec![id_text(field, value)?]));
    }
    Ok(Recipients::None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_body_with_user_id() {
        let call = CallRequest::parse(json!({"order_id": 9821, "user_id": "54321", "amount": 3500, "status": "paid"})).unwrap();
        assert_eq!(call.recipients, Recipients::Users(vec!["54321".into()]));
        assert_eq!(call.params["order_id"], 9821);
    }

    #[test]
    fn script_request_params_with_numeric_user_id() {
        let call = CallRequest::parse(json!({"script_request_params": {"orderId": 9821, "userId": 125}})).unwrap();
        assert_eq!(call.recipients, Recipients::Users(vec!["125".into()]));
        assert!(!call.params.contains_key("script_request_params"));
    }

    #[test]
    fn fan_out_to_family_members() {
        let call = CallRequest::parse(json!({"postId": 7, "authorId": 1, "userIds": [3, "2", 3]})).unwrap();
        assert_eq!(call.recipients, Recipients::Users(vec!["2".into(), "3".into()]));
    }

    #[test]
    fn lead_and_nobody() {
        assert_eq!(CallRequest::parse(json!({"leadId": "TG-9072612"})).unwrap().recipients, Recipients::Leads(vec!["TG-9072612".into()]));
        assert_eq!(CallRequest::parse(json!({})).unwrap().recipients, Recipients::None);
    }

    #[test]
    fn bad_shapes_are_named() {
        assert_eq!(CallRequest::parse(json!([1])).unwrap_err().message, "Request body must be a JSON object");
        assert_eq!(CallRequest::parse(json!({"script_request_params": 5})).unwrap_err().message, "script_request_params must be a JSON object");
        assert_eq!(CallRequest::parse(json!({"userId": {"x": 1}})).unwrap_err().message, "userId must be a non-empty string or an integer");
        assert_eq!(CallRequest::parse(json!({"userIds": "1,2"})).unwrap_err().message, "userIds must be an array of user ids");
        assert_eq!(CallRequest::parse(json!({"user_id": ""})).unwrap_err().field, "user_id", "the field is named");
    }
}
