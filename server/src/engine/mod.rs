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

use std::sync::Arc;
use tokio::sync::Notify;

/// Wake-ups between the parts of the engine, so work starts at once rather
/// than at the next poll (the polls stay: other processes' work and timers
/// ring no bell here).
#[derive(Clone, Default)]
pub struct Bells {
    /// An event was accepted: runs are pending.
    pub runs: Arc<Notify>,
    /// A run queued messages: the outbox has work.
    pub outbox: Arc<Notify>,
}
