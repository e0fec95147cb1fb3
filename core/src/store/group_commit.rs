//! Group commit for the engine's hot writes: a run's progress after each
//! advance, a message's delivery result after each send.
//!
//! At 1,000 events/s every event costs a run save and a delivery save;
//! one transaction each makes the commit the bottleneck (on SQLite the one
//! write lock). Callers instead hand their job to a [`GroupCommit`] task
//! and wait; the task takes everything queued at that moment (up to
//! [`MAX_BATCH`]) and commits it in one transaction, then answers each
//! caller. Under light load a batch is one job, so latency does not grow.
//! The batch is taken once the lane's turn is had, so what queued while
//! the task waited for it goes in the same commit.
//! If the batch's transaction fails, each job is retried in its own
//! transaction, so one bad job fails alone. Nothing is answered before its
//! commit, so durability is what it was.

use super::write_lane::{Work, WriteLane, WriteTurn};
use super::{StoreError, StoreResult};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed together.
pub const MAX_BATCH: usize = 128;

type Reply = oneshot::Sender<StoreResult<()>>;

/// Commits a batch of jobs in one transaction, begun on the turn.
pub(crate) type CommitFn<J> = for<'a, 'b> fn(&'a mut WriteTurn<'b>, &'a [J]) -> Pin<Box<dyn Future<Output = StoreResult<()>> + Send + 'a>>;

/// A queue in front of one committing task.
pub(crate) struct GroupCommit<J> {
    queue: mpsc::Sender<(J, Reply)>,
}

impl<J> std::fmt::Debug for GroupCommit<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl<J: Send + Sync + 'static> GroupCommit<J> {
    /// Starts the committing task. It holds the write lane (not the
    /// store), so it ends when the last handle to this queue is dropped.
    pub fn start(lane: Arc<WriteLane>, work: Work, commit: CommitFn<J>) -> Self {
        let (queue, mut receiver) = mpsc::channel::<(J, Reply)>(MAX_BATCH * 8);
        let runs_on = lane.clone();
        runs_on.spawn(async move {
            while let Some(first) = receiver.recv().await {
                // The turn first, then what queued meanwhile: the jobs that
                // came while this one waited for the lane go with it, not
                // after a wait of their own.
                let mut turn = lane.turn(work).await;
                let mut batch = vec![first];
                drain(&mut receiver, &mut batch, MAX_BATCH);
                let (jobs, replies): (Vec<J>, Vec<Reply>) = batch.into_iter().unzip();
                match commit(&mut turn, &jobs).await {
                    Ok(()) => {
                        for reply in replies {
                            let _ = reply.send(Ok(()));
                        }
                    }
                    Err(_) if jobs.len() > 1 => {
                        // One at a time, so a bad job fails alone.
                        for (job, reply) in jobs.iter().zip(replies) {
                            let _ = reply.send(commit(&mut turn, std::slice::from_ref(job)).await);
                        }
                    }
                    Err(err) => {
                        for reply in replies {
                            let _ = reply.send(Err(copy_error(&err)));
                        }
                    }
                }
            }
        });
        GroupCommit { queue }
    }

    /// Queues a job; returns once it is committed (or failed).
    pub async fn submit(&self, job: J) -> StoreResult<()> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((job, reply)).await.map_err(|_| StoreError::Unavailable("group commit stopped"))?;
        answer.await.map_err(|_| StoreError::Unavailable("group commit dropped the job"))?
    }
}

/// Moves what is queued into `batch`, until it holds `most`.
pub(crate) fn drain<T>(receiver: &mut mpsc::Receiver<T>, batch: &mut Vec<T>, most: usize) {
    while batch.len() < most {
        match receiver.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Store errors do not clone; the message is kept, and whether the
/// database was unreachable.
fn copy_error(err: &StoreError) -> StoreError {
    err.copy()
}
