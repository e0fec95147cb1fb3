//! The event writer: group commit for `call/{alias}`.
//!
//! Every accepted call needs one durable commit before its 200. Committing
//! each on its own makes the commit (and on SQLite, the single write lock)
//! the bottleneck. Requests instead hand their [`NewEvent`] to a writer
//! task through a channel and wait; the writer takes everything queued at
//! that moment (up to [`MAX_BATCH`]) and commits it with
//! [`Store::accept_events`] in one transaction, then answers each waiter.
//! Under light load a batch is one event, so latency does not grow; under
//! heavy load one commit serves many requests. Nothing is answered before
//! its commit, so durability is unchanged.

use super::events::{Accepted, NewEvent};
use super::{Dialect, Store, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Most events committed together.
pub const MAX_BATCH: usize = 256;

type Job = (NewEvent, oneshot::Sender<StoreResult<Accepted>>);

/// A cheap handle to the writer tasks.
#[derive(Clone, Debug)]
pub struct EventWriter {
    queue: mpsc::Sender<Job>,
}

impl EventWriter {
    /// Starts the writers: one on SQLite (it has one writer anyway), a few
    /// on PostgreSQL so commits overlap.
    pub fn start(store: Store) -> Self {
        let (queue, receiver) = mpsc::channel::<Job>(MAX_BATCH * 8);
        let writers = match store.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 4,
        };
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..writers {
            let (store, receiver) = (store.clone(), receiver.clone());
            tokio::spawn(async move {
                loop {
                    let mut batch = Vec::new();
                    {
                        let mut receiver = receiver.lock().await;
                        match receiver.recv().await {
                            Some(job) => batch.push(job),
                            None => return,
                        }
                        while batch.len() < MAX_BATCH {
                            match receiver.try_recv() {
                                Ok(job) => batch.push(job),
                                Err(_) => break,
                            }
                        }
                    }
                    let (events, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                    let results = store.accept_events(&events).await;
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(result);
                    }
                }
            });
        }
        EventWriter { queue }
    }

    /// Accepts one event; returns once it is committed (or failed).
    pub async fn accept(&self, event: NewEvent) -> StoreResult<Accepted> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((event, reply)).await.map_err(|_| StoreError::Unavailable("event writer stopped"))?;
        answer.await.map_err(|_| StoreError::Unavailable("event writer dropped the event"))?
    }
}
