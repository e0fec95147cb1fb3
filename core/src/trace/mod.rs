//! Traces: one id follows an event through every hop
//! (`CRM event → endpoint → scenario → messenger → user → callback`), and
//! each hop writes a [`TraceEvent`] with the methodology's log fields.

pub mod detail;

pub use detail::Detail;

use crate::Millis;
use serde::{Deserialize, Serialize};

/// A W3C trace id: 32 lowercase hex digits, not all zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceId(String);

impl TraceId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 32
            && raw.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
            && raw.chars().any(|c| c != '0');
        ok.then(|| Self(raw.to_string()))
    }

    /// The trace id of a `traceparent` header (`00-<trace>-<span>-<flags>`),
    /// if it is well-formed.
    pub fn from_traceparent(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
        if !hex(version, 2) || version == "ff" || !hex(span, 16) || span.chars().all(|c| c == '0') || !hex(flags, 2) {
            return None;
        }
        TraceId::parse(trace)
    }

    /// A fresh trace id: the time in milliseconds (6 bytes), then 10
    /// random bytes. Time first, so the ids of one moment sort together
    /// and the index over them (`trace_events_trace`) grows at its end,
    /// where a random id made every event write a page somewhere in the
    /// tree. The random right half is what W3C Trace Context (level 2)
    /// asks of a random trace id: at least the rightmost 7 bytes.
    #[cfg(feature = "backend")]
    pub fn generate() -> Self {
        Self::generate_at(crate::store::now_millis())
    }

    /// [`TraceId::generate`] at `now` (ms since the Unix epoch).
    #[cfg(feature = "backend")]
    pub fn generate_at(now: Millis) -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 16];
        // Never all zero: the time is at least 1.
        bytes[..6].copy_from_slice(&(now.max(1) as u64).to_be_bytes()[2..]);
        rand::thread_rng().fill_bytes(&mut bytes[6..]);
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TraceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One hop of a trace, as stored and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Time-ordered: sorting by id sorts by time.
    pub id: String,
    pub trace_id: String,
    /// CRM, ERP, portal…: the `X-Source-System` header or the token's name.
    pub source_system: String,
    pub bot_id: String,
    /// The endpoint alias (or the step, channel or callback of later hops).
    pub endpoint: String,
    pub user_id: String,
    pub lead_id: String,
    /// Which hop: `api.call`, `scenario.step`, `messenger.send`, …
    pub step: String,
    /// `success`, `fail`, `rejected`, …
    pub status: String,
    /// The HTTP status of an API hop (0 otherwise).
    pub http_status: i64,
    pub latency_ms: i64,
    pub dry_run: bool,
    pub detail: String,
    pub at: Millis,
}

/// Filters of the trace log (all optional; `limit` defaults to 100).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceFilter {
    pub trace_id: String,
    pub bot_id: String,
    pub endpoint: String,
    pub user: String,
    pub status: String,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub limit: Option<i64>,
    /// Return events with `id` below this (for paging back).
    pub before_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_w3c_traceparent() {
        let id = TraceId::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(id.as_str(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(TraceId::from_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
        assert!(TraceId::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01").is_none());
        assert!(TraceId::from_traceparent("garbage").is_none());
        assert!(TraceId::from_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
    }

    #[cfg(feature = "backend")]
    #[test]
    fn generated_ids_sort_by_time_and_keep_a_random_half() {
        let (earlier, later) = (TraceId::generate_at(1_764_000_000_000), TraceId::generate_at(1_764_000_000_001));
        assert!(earlier.as_str() < later.as_str());
        assert_eq!(&earlier.as_str()[..12], "019ab697e800", "{earlier:?}");
        assert!(TraceId::parse(earlier.as_str()).is_some());
        let again = TraceId::generate_at(1_764_000_000_000);
        assert_eq!(earlier.as_str()[..12], again.as_str()[..12]);
        assert_ne!(earlier.as_str()[12..], again.as_str()[12..], "80 random bits");
        assert!(TraceId::parse(TraceId::generate_at(0).as_str()).is_some(), "never all zero");
    }
}
