//! Webhook delivery: while a webhook is set, queued updates are POSTed to it
//! one at a time, in order, with `X-Telegram-Bot-Api-Secret-Token` when a
//! secret was given. A non-2xx answer or a network error keeps the update
//! queued, is reported in `getWebhookInfo` (`last_error_message`, worded like
//! Telegram's) and is retried with a short, growing pause.

use std::sync::Arc;
use std::time::Duration;

use super::state::{unix_now, State};
use crate::gate::lock;

/// The header Telegram sets on webhook requests when a secret is configured.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

const FIRST_PAUSE: Duration = Duration::from_millis(50);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Runs for the fake's lifetime.
pub(crate) async fn deliver_forever(state: Arc<State>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mut pause = FIRST_PAUSE;
    loop {
        let changed = state.updates_changed.notified();
        let job = {
            let inner = lock(&state.inner);
            inner.webhook.as_ref().and_then(|w| {
                inner
                    .queue
                    .front()
                    .map(|u| (w.url.clone(), w.secret_token.clone(), u.clone()))
            })
        };
        let Some((url, secret, update)) = job else {
            changed.await;
            continue;
        };
        let mut request = client.post(&url).json(&update);
        if let Some(secret) = secret {
            request = request.header(SECRET_HEADER, secret);
        }
        let error = match request.send().await {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!(
                "Wrong response from the webhook: {} {}",
                r.status().as_u16(),
                r.status().canonical_reason().unwrap_or("")
            )),
            Err(e) if e.is_connect() => Some("Connection refused".to_string()),
            Err(e) if e.is_timeout() => Some("Read timeout expired".to_string()),
            Err(e) => Some(format!("Connection error: {e}")),
        };
        let failed = {
            let mut inner = lock(&state.inner);
            match error {
                None => {
                    if inner
                        .queue
                        .front()
                        .is_some_and(|u| u.update_id == update.update_id)
                    {
                        inner.queue.pop_front();
                    }
                    false
                }
                Some(message) => {
                    tracing::debug!(%url, %message, "fake telegram: webhook delivery failed");
                    if let Some(w) = inner.webhook.as_mut().filter(|w| w.url == url) {
                        w.last_error_date = Some(unix_now());
                        w.last_error_message = Some(message);
                    }
                    true
                }
            }
        };
        if failed {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
        } else {
            pause = FIRST_PAUSE;
        }
    }
}
