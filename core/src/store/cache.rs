//! A short-lived read cache for the hot path of `call/{alias}`.
//!
//! Every business call needs its token, bot, endpoint and the recipients'
//! identity links. Reading them from the database on each request costs
//! more than the durable write itself, so [`Store`] keeps them here for at
//! most [`TTL`]. Every write through this process's `Store` to tokens,
//! bots, endpoints or identity links clears the matching map at once (so
//! a revoked token is refused by the next request); another `comops`
//! process sharing the database sees such a change within [`TTL`].

use crate::{ApiToken, Bot, Endpoint};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a cached row may be served.
pub const TTL: Duration = Duration::from_secs(1);

/// One map of the cache: key → (value, when it was read).
#[derive(Debug)]
pub(crate) struct TtlMap<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    fn new() -> Self {
        Self { entries: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(key).filter(|(_, at)| at.elapsed() < TTL).map(|(value, _)| value.clone())
    }

    pub(crate) fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 100_000 {
            entries.retain(|_, (_, at)| at.elapsed() < TTL);
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub(crate) fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[derive(Debug)]
pub(crate) struct ReadCache {
    /// By token id; the secret hash is kept with it and compared each time.
    pub tokens: TtlMap<String, Option<(ApiToken, String)>>,
    pub bots: TtlMap<String, Option<Bot>>,
    pub endpoints: TtlMap<(String, String), Option<Endpoint>>,
    pub leads: TtlMap<(String, String), Vec<String>>,
    /// Scenario versions never change once saved; the engine reads one per
    /// advance. By (bot, name, version).
    pub scenario_versions: TtlMap<(String, String, i64), Option<crate::scenario::Scenario>>,
    /// A bot's channel settings by (bot, kind): the engine reads `secrets`
    /// per advance.
    pub channels: TtlMap<(String, String), Option<serde_json::Value>>,
}

impl ReadCache {
    pub(crate) fn new() -> Self {
        Self { tokens: TtlMap::new(), bots: TtlMap::new(), endpoints: TtlMap::new(), leads: TtlMap::new(), scenario_versions: TtlMap::new(), channels: TtlMap::new() }
    }
}
