//! The built-in web chat: the zero-setup channel for demos and tests.
//!
//! Every bot has one unless its `webchat` settings say `{"enabled":
//! "false"}`; nothing outside ComOps is involved. A visitor is a browser
//! holding a random secret [`VisitorToken`]; the channel address (the
//! `chat_id` identity links, traces and the studio show) is derived from
//! it one way ([`VisitorToken::address`]), so the secret never appears
//! where addresses do.
//!
//! Sending does not go over a network: [`WebChatChannel::send`] appends the
//! message to the conversation log in the database
//! (`crate::store::webchat`) and then wakes whoever is listening to that
//! chat in this process through the [`WebChatHub`]. The log is the truth
//! and the hub only a shortcut: a listener in another `comops` process
//! sharing the database never hears this hub, so listeners also poll the
//! log for rows newer than the last one they passed on.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::broadcast;

use super::{split_text, Channel, ChannelError, Delivered, OutboundMessage, SendFuture};
use crate::auth::{hash_secret, new_secret};
use crate::store::webchat::{Author, NewWebChatMessage, WebChatMessage};
use crate::store::Store;

/// The channel kind, as in identity links and settings.
pub const KIND: &str = "webchat";
/// The longest text one web chat message carries (a longer one is split).
pub const TEXT_LIMIT: usize = 4096;
/// Prefix of every web chat address.
pub const ADDRESS_PREFIX: &str = "wc_";

/// A visitor's secret: 256 random bits as 64 lowercase hex characters,
/// kept by the widget in `localStorage`. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct VisitorToken(String);

impl VisitorToken {
    pub fn generate() -> Self {
        Self(new_secret().0)
    }

    /// Accepts the shape [`Self::generate`] makes and nothing else.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(raw.to_string()))
    }

    /// The secret itself (only ever sent to the visitor who owns it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the token, hex: what the store keeps to check it.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }

    /// The channel address: `wc_` and the first 16 hex characters of the
    /// token's SHA-256. It names the visitor without revealing the token.
    pub fn address(&self) -> String {
        address_of_hash(&self.hash())
    }
}

/// The address belonging to a token hash (see [`VisitorToken::address`]).
pub fn address_of_hash(hash: &str) -> String {
    format!("{ADDRESS_PREFIX}{}", hash.get(..16).unwrap_or(hash))
}

impl fmt::Debug for VisitorToken {
    // Never print the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VisitorToken(<redacted>)")
    }
}

/// A bot's `webchat` settings (all optional; values are strings like every
/// channel setting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebChatSettings {
    /// `"enabled": "false"` turns the web chat off.
    pub enabled: bool,
    /// `"allowed_origins": "https://shop.example, https://example.org"`:
    /// the sites that may embed the widget. Empty: any site.
    pub allowed_origins: Vec<String>,
}

impl Default for WebChatSettings {
    fn default() -> Self {
        Self { enabled: true, allowed_origins: Vec::new() }
    }
}

impl WebChatSettings {
    /// Reads stored settings (`Value::Null` when the bot has none). Values
    /// that do not parse are ignored: validation refuses them on save.
    pub fn from_value(value: &Value) -> Self {
        let text = |name: &str| value.get(name).and_then(Value::as_str).unwrap_or_default();
        Self {
            enabled: !text("enabled").trim().eq_ignore_ascii_case("false"),
            allowed_origins: parse_origins(text("allowed_origins")).unwrap_or_default(),
        }
    }

    /// Whether a page at `origin` (the browser's `Origin` header) may use
    /// the widget's endpoints.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins.is_empty() || parse_origin(origin).is_some_and(|origin| self.allowed_origins.contains(&origin))
    }
}

/// Parses a comma-separated list of origins; `Err` names the first bad one.
pub fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| parse_origin(item).ok_or_else(|| item.to_string()))
        .collect()
}

/// An origin as browsers send it: `http` or `https`, a host, an optional
/// port, nothing else (a trailing `/` is forgiven). Lowercased.
pub fn parse_origin(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = raw.strip_prefix("https://").or_else(|| raw.strip_prefix("http://"))?;
    let (host, port) = if rest.starts_with('[') {
        // An IPv6 literal: `[::1]` or `[::1]:3000`.
        let (host, tail) = rest.split_at(rest.find(']')? + 1);
        (host, if tail.is_empty() { None } else { Some(tail.strip_prefix(':')?) })
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    (host_ok && port_ok).then_some(raw)
}

/// Wakes the listeners of a chat in this process when a message is added.
/// Cheap to clone; one per server process, shared by the dispatcher (which
/// sends bot messages) and the HTTP routes (visitor messages, streams).
#[derive(Clone, Default)]
pub struct WebChatHub {
    chats: Arc<Mutex<HashMap<String, broadcast::Sender<WebChatMessage>>>>,
}

/// Messages a slow listener may fall behind by before it is told it lagged
/// (it then re-reads the log, so nothing is lost).
const LISTENER_BUFFER: usize = 64;

impl WebChatHub {
    /// Listens to `chat_id` from now on.
    pub fn subscribe(&self, chat_id: &str) -> broadcast::Receiver<WebChatMessage> {
        let mut chats = self.chats.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if chats.len() > 1024 {
            // Forget chats nobody listens to any more.
            chats.retain(|_, sender| sender.receiver_count() > 0);
        }
        chats.entry(chat_id.to_string()).or_insert_with(|| broadcast::channel(LISTENER_BUFFER).0).subscribe()
    }

    /// Tells the listeners of `chat_id`, if any, about a stored message.
    pub fn publish(&self, chat_id: &str, message: &WebChatMessage) {
        let mut chats = self.chats.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = chats.get(chat_id) {
            if sender.send(message.clone()).is_err() {
                chats.remove(chat_id);
            }
        }
    }

    /// How many chats have a sender (for tests).
    pub fn chats(&self) -> usize {
        self.chats.lock().map(|chats| chats.len()).unwrap_or_default()
    }
}

impl fmt::Debug for WebChatHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebChatHub").field("chats", &self.chats()).finish()
    }
}

/// The web chat as a [`Channel`]: a send is a durable append plus a wake-up.
#[derive(Clone, Debug)]
pub struct WebChatChannel {
    store: Store,
    hub: WebChatHub,
}

impl WebChatChannel {
    pub fn new(store: Store, hub: WebChatHub) -> Self {
        Self { store, hub }
    }

    async fn send_message(&self, message: &OutboundMessage) -> Result<Delivered, ChannelError> {
        let parts = split_text(&message.text, TEXT_LIMIT);
        let last = parts.len() - 1;
        let mut delivered = None;
        for (index, text) in parts.into_iter().enumerate() {
            let part = NewWebChatMessage {
                text,
                // A picture goes with the first part, buttons under the last.
                media_url: if index == 0 { message.media_url.clone() } else { None },
                buttons: if index == last { message.buttons.clone() } else { Vec::new() },
                delivery_key: (!message.id.is_empty()).then(|| format!("{}/{index}", message.id)),
            };
            let stored = self
                .store
                .append_webchat_message(&message.chat_id, Author::Bot, &part)
                .await
                .map_err(|err| ChannelError::Transient(format!("cannot store the web chat message: {err}")))?
                .ok_or_else(|| ChannelError::BadRequest("no web chat visitor at this address".into()))?;
            self.hub.publish(&message.chat_id, &stored);
            delivered = Some(Delivered { provider_message_id: stored.id.to_string() });
        }
        // `split_text` returns at least one part.
        delivered.ok_or_else(|| ChannelError::BadRequest("empty message".into()))
    }
}

impl Channel for WebChatChannel {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn text_limit(&self) -> usize {
        TEXT_LIMIT
    }

    fn send<'a>(&'a self, message: &'a OutboundMessage) -> SendFuture<'a> {
        Box::pin(self.send_message(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_address_is_derived_from_the_token_and_does_not_reveal_it() {
        let token = VisitorToken::generate();
        let address = token.address();
        assert_eq!(address.len(), 3 + 16);
        assert!(address.starts_with("wc_"));
        assert_eq!(address, format!("wc_{}", &token.hash()[..16]));
        assert!(!address.contains(&token.expose()[..16]), "the address is not a piece of the token");
        assert_eq!(address, VisitorToken::parse(token.expose()).unwrap().address(), "stable");
        assert_ne!(address, VisitorToken::generate().address());
        // A known vector: sha256("0" * 64).
        let zeros = VisitorToken::parse(&"0".repeat(64)).unwrap();
        assert_eq!(zeros.address(), "wc_60e05bd1b195af2f");
    }

    #[test]
    fn tokens_parse_strictly_and_never_print() {
        let token = VisitorToken::generate();
        assert_eq!(token.expose().len(), 64, "256 bits");
        assert!(VisitorToken::parse(&token.expose().to_uppercase()).is_none());
        assert!(VisitorToken::parse("abc").is_none());
        assert!(VisitorToken::parse(&"g".repeat(64)).is_none());
        assert!(!format!("{token:?}").contains(token.expose()));
    }

    #[test]
    fn settings_default_to_on_for_every_site() {
        let settings = WebChatSettings::from_value(&Value::Null);
        assert!(settings.enabled);
        assert!(settings.allows_origin("https://anything.example"));
        assert!(!WebChatSettings::from_value(&json!({"enabled": "false"})).enabled);
        assert!(WebChatSettings::from_value(&json!({"enabled": "true"})).enabled);
    }

    #[test]
    fn allowed_origins_restrict_embedding() {
        let settings = WebChatSettings::from_value(&json!({"allowed_origins": "https://shop.example, http://localhost:8080/"}));
        assert_eq!(settings.allowed_origins, ["https://shop.example", "http://localhost:8080"]);
        assert!(settings.allows_origin("https://shop.example"));
        assert!(settings.allows_origin("HTTPS://Shop.Example"));
        assert!(settings.allows_origin("http://localhost:8080"));
        assert!(!settings.allows_origin("http://shop.example"));
        assert!(!settings.allows_origin("https://evil.example"));
        assert!(!settings.allows_origin("null"));
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(parse_origin("https://a.example:8443"), Some("https://a.example:8443".into()));
        assert_eq!(parse_origin("http://[::1]:3000"), Some("http://[::1]:3000".into()));
        assert_eq!(parse_origin("http://[::1]"), Some("http://[::1]".into()));
        assert_eq!(parse_origin("ftp://a.example"), None);
        assert_eq!(parse_origin("https://a.example/path"), None);
        assert_eq!(parse_origin("https://"), None);
        assert_eq!(parse_origin("https://a.example:port"), None);
        assert_eq!(parse_origins("https://a.example,,https://b.example").unwrap().len(), 2);
        assert_eq!(parse_origins("https://a.example, *"), Err("*".into()));
    }

    #[tokio::test]
    async fn the_hub_wakes_listeners_of_that_chat_only() {
        let hub = WebChatHub::default();
        let mut mine = hub.subscribe("wc_1");
        let mut other = hub.subscribe("wc_2");
        let message = WebChatMessage { id: 1, from: Author::Bot, text: "Привет!".into(), buttons: vec![], media_url: None, at: 0 };
        hub.publish("wc_1", &message);
        assert_eq!(mine.recv().await.unwrap(), message);
        assert!(other.try_recv().is_err());
        drop(mine);
        hub.publish("wc_1", &message);
        assert_eq!(hub.chats(), 1, "a chat without listeners is forgotten");
    }
}
