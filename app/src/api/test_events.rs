//! The integration points' "send test event" (SPEC §6): a request body
//! sent to an endpoint as a dry-run call — the integration API's own
//! checks (the endpoint enabled, the body JSON of a call's shape, its
//! schema), recipient resolution and preview, traced from source
//! `studio`; nothing is sent or stored but the trace. Needs
//! `DesignIntegrations` (dry runs are designers' work); no token. A user's
//! test events and scenario dry runs share 30 a minute
//! (`session::take_dry_run`).

use crate::api::scenarios::DryMessage;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the test call got back, read for the studio; `answer` is the
/// whole JSON answer as a business system would get it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEventAnswer {
    /// The HTTP status a caller would get.
    pub status: u16,
    /// The answer's `message` (the API's words, in English).
    pub message: String,
    pub trace_id: String,
    /// A refused body's field problems: (field, message).
    pub problems: Vec<(String, String)>,
    /// The leads the recipients resolved to (the first 100).
    pub leads: Vec<String>,
    /// Recipient ids that resolved to no lead (the first 100).
    pub unresolved: Vec<String>,
    /// The messages the first lead would get before the run first pauses.
    pub messages: Vec<DryMessage>,
    /// Why there is no preview (no scenario bound, or none by that name).
    pub note: String,
    /// The whole answer, pretty-printed.
    pub answer: String,
}

#[cfg(feature = "ssr")]
impl TestEventAnswer {
    /// Reads a call's JSON answer (both its success and its error shape).
    pub fn read(status: u16, answer: &serde_json::Value, trace_id: String) -> Self {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        let texts = |v: &serde_json::Value| v.as_array().map(|items| items.iter().map(text).collect()).unwrap_or_default();
        let preview = &answer["preview"];
        Self {
            status,
            message: text(&answer["message"]),
            trace_id,
            problems: answer["errors"].as_array().map(|errors| errors.iter().map(|e| (text(&e["field"]), text(&e["message"]))).collect()).unwrap_or_default(),
            leads: texts(&answer["recipients"]["leads"]),
            unresolved: texts(&answer["recipients"]["unresolved"]),
            // As the preview wrote them (none in an error's answer).
            messages: serde_json::from_value::<Vec<comops_core::scenario::RenderedMessage>>(preview["messages"].clone())
                .map(|messages| messages.into_iter().map(DryMessage::from).collect())
                .unwrap_or_default(),
            note: text(&preview["note"]),
            answer: serde_json::to_string_pretty(answer).unwrap_or_default(),
        }
    }
}

/// Sends `body` to `alias` of `bot_id` as a dry-run call.
#[server(prefix = "/api", endpoint = "endpoints/test-event", input = server_fn::codec::Json)]
pub async fn send_test_event(bot_id: String, alias: String, body: String) -> Result<TestEventAnswer, AppError> {
    use crate::session::{require, take_dry_run, TestCall, TestCalls};
    let user = require(comops_core::Permission::DesignIntegrations)?;
    take_dry_run(&user)?;
    let calls = use_context::<TestCalls>().ok_or_else(|| {
        tracing::error!("server function called without TestCalls in context");
        AppError::Internal
    })?;
    let test = TestCall { bot: bot_id, alias, body: body.into_bytes(), user: user.email.to_string() };
    let (status, answer, trace_id) = (calls.0)(test).await;
    Ok(TestEventAnswer::read(status, &answer, trace_id))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_dry_run_and_a_refusal() {
        let ok = json!({
            "success": true, "message": "Dry run: validated, nothing sent", "dry_run": true, "trace_id": "t",
            "recipients": {"leads": ["TG-125"], "resolved": 1, "unresolved": ["54321"]},
            "preview": {"scenario": "order_status", "messages": [{"step": "a", "text": "Заказ 9821 отправлен", "buttons": [{"label": "Трек"}], "missing": ["params.track"]}]}
        });
        let read = TestEventAnswer::read(200, &ok, "t".into());
        assert_eq!((read.leads, read.unresolved), (vec!["TG-125".to_string()], vec!["54321".to_string()]));
        assert_eq!(read.messages, vec![DryMessage { step: "a".into(), text: "Заказ 9821 отправлен".into(), buttons: vec!["Трек".into()], missing: vec!["params.track".into()] }]);
        let refused = json!({"success": false, "message": "Request does not match the endpoint schema", "errors": [{"field": "orderId", "message": "required"}]});
        let read = TestEventAnswer::read(422, &refused, "u".into());
        assert_eq!(read.problems, vec![("orderId".to_string(), "required".to_string())]);
        assert!(read.messages.is_empty() && read.note.is_empty());
    }
}
