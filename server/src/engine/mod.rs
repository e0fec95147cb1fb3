//! The engine of a `comops serve` process: workers that move runs forward
//! and deliver what they say.
//!
//! - `executor`: claims pending runs (and waiting runs whose time came),
//!   advances them with the pure interpreter (`comops_core::scenario`),
//!   performs their http steps, and saves state + outbox messages + traces
//!   in one transaction per run.
//! - `dispatch`: delivers outbox messages through channel adapters.

pub mod dispatch;
pub mod executor;
pub mod inbound;
mod pacing;
