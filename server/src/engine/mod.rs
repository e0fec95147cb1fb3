//! The engine of a `comops serve` process: workers that move runs forward
//! and deliver what they say.
//!
//! - `executor`: claims pending runs (and waiting runs whose time came),
//!   advances them with the pure interpreter (`comops_core::scenario`),
//!   performs their http steps, and saves state + outbox messages + traces
//!   in one transaction per run.
//! - `dispatch`: delivers outbox messages through channel adapters, paced
//!   per channel kind (`pacing`).
//! - `channels`: which adapter serves a bot's channel, built from its settings.
//! - `inbound`: what people send (replies resume runs, `/start <code>` links).
//! - `polling`: Telegram long polling for bots without a webhook.

pub mod channels;
pub mod dispatch;
pub mod executor;
pub mod inbound;
pub mod polling;
mod pacing;

pub use pacing::{ChannelLimits, Pacers};

use comops_core::store::{now_millis, StoreResult};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Wake-ups between the parts of the engine, so work starts at once rather
/// than at the next poll (the polls stay: other processes' work and timers
/// ring no bell here).
#[derive(Clone, Default)]
pub struct Bells {
    /// An event was accepted with runs left pending (not handed over).
    pub runs: Arc<Notify>,
    /// A run queued messages: the outbox has work.
    pub outbox: Arc<Notify>,
}

/// Tries a write of the engine's again while the database is unreachable
/// (restarting, the network cut), 100 ms doubling to 2 s apart, until
/// `deadline` (Unix ms: the end of the claim's lease, after which the
/// write would be refused anyway). The work being recorded is already done
/// — a message sent, an http step called — so giving up at the first
/// error would leave the claim to run out: a sent message would be taken
/// for an interrupted one, a finished advance would be made again.
/// Other errors are returned at once.
pub(crate) async fn persist<T, F, Fut>(deadline: i64, mut write: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut pause = Duration::from_millis(100);
    loop {
        match write().await {
            Err(err) if err.is_unreachable() && now_millis() + (pause.as_millis() as i64) < deadline => {
                tracing::warn!(error = %err, "database unreachable; trying the save again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
}
