//! A saved run's messages straight to their sends (SQLite: one process,
//! its send clocks in memory).
//!
//! Without it a run's save queues its messages `pending`, and the
//! dispatcher's next pass reads them back, paces them and takes them to
//! `sending` in a write turn of its own: two reads and one turn of the one
//! write lane between every save and its sends. With it the executor asks
//! the dispatcher's clocks first ([`SendPlan`]); the save writes each
//! message whose slot is reserved `sending` at once, under a send lease,
//! and hands it to the dispatcher after the commit ([`SendHandOff`]),
//! which sends it at its slot. As with a take, a message is `sending`
//! only once its slot is reserved, so a crash leaves interrupted only
//! what was about to go out. The save keeps each chat's order as the take
//! does: a message goes `sending` only when no earlier one of its chat is
//! unfinished and it is the first of its chat in the batch; otherwise it is
//! queued, and its reserved slot goes unused.
//!
//! The group commit hands the messages over, not the caller, so an
//! executor task that went away cannot leave them `sending` with nobody to
//! send them.

use super::outbox::OutboxMessage;
use crate::Millis;
use tokio::sync::mpsc;

/// When a new message may go, as the executor planned it before the save.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SendPlan {
    /// Queued, due at once: the dispatcher's next pass finds it.
    #[default]
    Queue,
    /// Its send slot is reserved at this time (Unix ms): `sending` at the
    /// save, when the store hands sends over and its chat's order allows.
    At(Millis),
    /// Paced: queued, due at this time.
    After(Millis),
}

/// Where a store's saves hand their `sending` messages: the dispatcher's
/// queue, and the send lease to write them with.
#[derive(Clone, Debug)]
pub struct SendHandOff {
    pub sends: mpsc::UnboundedSender<HandedSends>,
    pub lease_ms: i64,
}

/// What one commit of run saves handed over.
#[derive(Debug, Default)]
pub struct HandedSends {
    /// Now `sending`, each with its reserved slot.
    pub sending: Vec<(OutboxMessage, Millis)>,
    /// Messages were queued that are due now: a pass should look.
    pub queued_due: bool,
}

impl SendHandOff {
    /// Hands `handed` to the dispatcher when there is anything in it.
    pub(crate) fn hand(&self, handed: HandedSends) {
        if handed.sending.is_empty() && !handed.queued_due {
            return;
        }
        if self.sends.send(handed).is_err() {
            // The dispatcher has stopped (the process is going down): the
            // rows stay `sending` until their lease ends, never resent.
            tracing::warn!("the dispatcher is gone; messages handed to it wait out their send lease");
        }
    }
}
