//! Requests of the identities API (`POST /bots/{botId}/identities`),
//! parsed once at the edge into an [`IdentityCommand`].
//!
//! The business system links its `userId` to a person's channel address
//! (the seed's binding flow (c), e.g. after its own sign-up) or to a lead
//! a scenario told it about (flow (b): the scenario asked for the phone and
//! sent it with `{{ lead.id }}` to the business system in an http step),
//! or deactivates links (by user, lead, channel and/or chat). Field names
//! follow the integration API: camelCase with snake_case accepted.

use crate::call::business_id_of;
use crate::schema::PayloadError;
use serde_json::{Map, Value};

/// The channel kinds an identity link may name.
pub const CHANNELS: &[&str] = &["telegram", "webchat", "whatsapp", "vk", "email", "webhook"];

/// What a `POST /bots/{botId}/identities` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityCommand {
    /// Link `user_id` to the address `channel`/`chat_id`; the lead is
    /// `lead_id` when given, else the one already at that address or of
    /// that user, else a new one.
    Link { user_id: String, lead_id: Option<String>, channel: String, chat_id: String, source: String },
    /// Link `user_id` to every active address of an existing lead (a
    /// scenario told the business system the lead id).
    LinkLead { user_id: String, lead_id: String, source: String },
    /// Deactivate every active link matching the given fields.
    Deactivate { user_id: Option<String>, lead_id: Option<String>, channel: Option<String>, chat_id: Option<String> },
}

impl IdentityCommand {
    pub fn parse(body: &Value) -> Result<Self, Vec<PayloadError>> {
        let error = |field: &str, message: &str| PayloadError { field: field.into(), message: message.into() };
        let Some(object) = body.as_object() else {
            return Err(vec![error("body", "must be a JSON object")]);
        };
        let mut errors = Vec::new();
        // A field given in a form it cannot be read in is named as such,
        // not as missing.
        for names in [["userId", "user_id"], ["chatId", "chat_id"]] {
            let given = names.iter().find(|name| object.get(**name).is_some_and(|v| !v.is_null()));
            if let Some(name) = given.filter(|name| crate::call::business_id(&object[**name]).is_none()) {
                errors.push(error(name, "must be a non-empty string or an integer"));
            }
        }
        let user_id = business_id_of(object, &["userId", "user_id"]);
        let lead_id = text(object, &["leadId", "lead_id"]);
        let chat_id = business_id_of(object, &["chatId", "chat_id"]);
        let channel = text(object, &["channel"]);
        if let Some(channel) = &channel {
            if !CHANNELS.contains(&channel.as_str()) {
                errors.push(error("channel", &format!("must be one of {}", CHANNELS.join(", "))));
            }
        }
        if let Some(lead) = &lead_id {
            if !is_lead_id(lead) {
                errors.push(error("leadId", "must be at most 128 characters without spaces or slashes, like TG-9072612"));
            }
        }
        let action = text(object, &["action"]).unwrap_or_else(|| "link".into());
        let command = match action.as_str() {
            "link" => {
                let source = text(object, &["source"]).unwrap_or_else(|| "api".into());
                if source.chars().count() > 64 {
                    errors.push(error("source", "must be at most 64 characters"));
                }
                if user_id.is_none() && !errors.iter().any(|e| e.field == "userId" || e.field == "user_id") {
                    errors.push(error("userId", "is required"));
                }
                match (user_id, lead_id, channel, chat_id) {
                    (Some(user_id), lead_id, Some(channel), Some(chat_id)) => Some(Self::Link { user_id, lead_id, channel, chat_id, source }),
                    // The seed's binding flow (b): the scenario sent the
                    // business system the lead id; it answers with its user.
                    (Some(user_id), Some(lead_id), None, None) => Some(Self::LinkLead { user_id, lead_id, source }),
                    (_, lead, channel, chat) => {
                        for (field, value) in [("channel", channel.is_some()), ("chatId", chat.is_some())] {
                            if !value && !errors.iter().any(|e: &PayloadError| e.field == field) {
                                errors.push(error(field, if lead.is_some() { "is required with the other address field" } else { "is required (or give leadId alone)" }));
                            }
                        }
                        None
                    }
                }
            }
            "deactivate" => {
                if user_id.is_none() && lead_id.is_none() && chat_id.is_none() {
                    errors.push(error("userId", "name the userId, leadId or chatId whose links to deactivate"));
                }
                Some(Self::Deactivate { user_id, lead_id, channel, chat_id })
            }
            _ => {
                errors.push(error("action", "must be link or deactivate"));
                None
            }
        };
        match command {
            Some(command) if errors.is_empty() => Ok(command),
            _ => Err(errors),
        }
    }
}

/// A lead id as the platform makes them (`TG-9072612`, `EM-anna@example.com`)
/// or a business system gives them: 1–128 bytes without spaces, control
/// characters or path separators, not starting with a dot (they appear in
/// the studio's addresses and in traces; `../../x` is no lead).
pub fn is_lead_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && !id.starts_with('.') && !id.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/' || c == '\\')
}

/// The first of `names` as a non-empty trimmed string.
fn text(object: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| object.get(*name).and_then(Value::as_str)).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_ids_are_named_not_called_missing() {
        let fields = |body: Value| IdentityCommand::parse(&body).unwrap_err().into_iter().map(|e| (e.field, e.message)).collect::<Vec<_>>();
        assert_eq!(
            fields(json!({"userId": 1.5, "channel": "telegram", "chatId": true})),
            [("userId".to_string(), "must be a non-empty string or an integer".to_string()), ("chatId".into(), "must be a non-empty string or an integer".into())]
        );
        assert_eq!(fields(json!({"userId": 1, "leadId": "../../x"}))[0].0, "leadId");
        assert_eq!(fields(json!({"userId": 1, "leadId": "TG-1", "source": "x".repeat(65)}))[0].0, "source");
        assert!(is_lead_id("EM-anna@example.com") && is_lead_id("WA-+79187777777") && is_lead_id("TG-9072612"));
        assert!(!is_lead_id("") && !is_lead_id("a b") && !is_lead_id(".hidden") && !is_lead_id(&"x".repeat(129)));
    }

    #[test]
    fn a_link_names_user_channel_and_chat() {
        let command = IdentityCommand::parse(&json!({"userId": 125, "channel": "telegram", "chatId": 9072612})).unwrap();
        assert_eq!(
            command,
            IdentityCommand::Link { user_id: "125".into(), lead_id: None, channel: "telegram".into(), chat_id: "9072612".into(), source: "api".into() }
        );
    }

    #[test]
    fn missing_and_wrong_fields_are_named() {
        let errors = IdentityCommand::parse(&json!({"channel": "fax"})).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["channel", "userId", "chatId"]);
        let lead_only = IdentityCommand::parse(&json!({"userId": 125, "leadId": "TG-540278913"})).unwrap();
        assert_eq!(lead_only, IdentityCommand::LinkLead { user_id: "125".into(), lead_id: "TG-540278913".into(), source: "api".into() });
        assert!(IdentityCommand::parse(&json!([1])).is_err());
        assert!(IdentityCommand::parse(&json!({"action": "merge"})).is_err());
    }

    #[test]
    fn a_deactivation_needs_someone_to_deactivate() {
        assert!(IdentityCommand::parse(&json!({"action": "deactivate", "channel": "telegram"})).is_err());
        let command = IdentityCommand::parse(&json!({"action": "deactivate", "user_id": "u-1"})).unwrap();
        assert_eq!(command, IdentityCommand::Deactivate { user_id: Some("u-1".into()), lead_id: None, channel: None, chat_id: None });
    }
}
