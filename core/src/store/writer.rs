//! The event writer: group commit for `call/{alias}`.
//!
//! Every accepted call needs one durable commit before its 200. Committing
//! each on its own makes the commit (and on SQLite, the single write lock)
//! the bottleneck. Requests instead hand their [`NewEvent`] to a writer
//! task through a channel and wait; the writer takes everything queued at
//! that moment (up to [`MAX_BATCH`]), and again once it has its turn of
//! the write lane, and commits it with [`Store::accept_events`] in one
//! transaction, then answers each waiter.
//! Under light load a batch is one event, so latency does not grow; under
//! heavy load one commit serves many requests. Nothing is answered before
//! its commit, so durability is unchanged.
//!
//! With a [`RunHandOff`] (the process's executor), a batch's runs are
//! written already leased to the executor and passed to it after the
//! commit, when it has room for all of them: no claim has to find them.
//! The writer task does it, so a caller that goes away (a client that
//! hung up) cannot leave runs leased with nobody to advance them.

use super::events::{Accepted, NewEvent};
use super::group_commit::drain;
use super::runs::ClaimedRun;
use super::{Dialect, Store, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Most events committed together.
pub const MAX_BATCH: usize = 256;

/// Runs waiting to be taken by the executor at most: what it was handed
/// is leased to it, so no other process could take those meanwhile.
pub const HAND_OFF_ROOM: usize = 256;

/// Where accepted runs go: the executor's queue, and the lease to write
/// them with.
#[derive(Clone, Debug)]
pub struct RunHandOff {
    pub runs: mpsc::Sender<ClaimedRun>,
    pub lease_ms: i64,
}

type Job = (NewEvent, oneshot::Sender<StoreResult<Accepted>>);

/// A cheap handle to the writer tasks.
#[derive(Clone, Debug)]
pub struct EventWriter {
    queue: mpsc::Sender<Job>,
}

impl EventWriter {
    /// Starts the writers: one on SQLite (it has one writer anyway), two
    /// on PostgreSQL, so one commits while the other's WAL is flushed.
    /// More writers make more, smaller commits, each waiting on its own
    /// flush: 8 accepted ~13.4k calls a second here, 4 ~15.5k, 2 ~16.6k,
    /// 1 ~17.4k with its commits back to back (docs/benchmarks.md).
    pub fn start(store: Store, hand_off: Option<RunHandOff>) -> Self {
        let (queue, receiver) = mpsc::channel::<Job>(MAX_BATCH * 8);
        let writers = match store.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 2,
        };
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..writers {
            let (store, receiver, hand_off) = (store.clone(), receiver.clone(), hand_off.clone());
            let runs_on = store.clone();
            runs_on.spawn_writer(async move {
                loop {
                    let mut batch = Vec::new();
                    {
                        let mut receiver = receiver.lock().await;
                        match receiver.recv().await {
                            Some(job) => batch.push(job),
                            None => return,
                        }
                        drain(&mut receiver, &mut batch, MAX_BATCH);
                    }
                    let mut params = store.stored_event_params(batch.iter().map(|(event, _)| event));
                    let mut turn = store.write_turn(super::Work::Accept).await;
                    // What queued while the turn was awaited (SQLite's lane)
                    // goes in the same commit, not after a wait of its own;
                    // unless another writer is waiting on the queue, which
                    // then was empty (PostgreSQL's turns come at once).
                    if let Ok(mut receiver) = receiver.try_lock() {
                        drain(&mut receiver, &mut batch, MAX_BATCH);
                        params.extend(store.stored_event_params(batch[params.len()..].iter().map(|(event, _)| event)));
                    }
                    let (mut events, replies): (Vec<NewEvent>, Vec<_>) = batch.into_iter().unzip();
                    // Room for every run the batch may start, or none handed.
                    let wanted: usize = events.iter().filter(|e| !e.endpoint.scenario.is_empty()).map(|e| e.leads.len()).sum();
                    let places = hand_off.as_ref().filter(|_| wanted > 0).and_then(|h| h.runs.try_reserve_many(wanted).ok().map(|places| (h.lease_ms, places)));
                    if let Some((lease_ms, _)) = &places {
                        for event in &mut events {
                            event.hand_off_ms = Some(*lease_ms);
                        }
                    }
                    let mut results = store.accept_events_on(&mut turn, &events, &params).await;
                    drop(turn);
                    if let Some((_, places)) = places {
                        let runs = results.iter_mut().flatten().flat_map(|accepted| std::mem::take(&mut accepted.handed));
                        for (place, run) in places.zip(runs) {
                            place.send(run);
                        }
                    }
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
