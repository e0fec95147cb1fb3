//! The write lane: the engine's hot writes, one at a time, on SQLite
//! through one connection that stays this process's writer.
//!
//! SQLite has one writer. Writers that collide get `SQLITE_BUSY` and its
//! busy handler sleeps (1, 2, 5 … 100 ms), which under the engine's load
//! left the write lock idle most of the time (23 runs/s at 1,000
//! events/s); queueing the hot writes here (fair, woken at once) keeps the
//! lock busy instead. They also share one connection: a SQLite connection
//! drops its whole page cache when it finds that another connection wrote
//! since it last looked, so writers taking turns on the pool's connections
//! read every page they touch again (the profile at 1,000 events/s:
//! `read` calls among comops's top kernel time). One connection doing all
//! of them keeps its cache warm.
//!
//! On PostgreSQL there is no lane: a turn takes any pooled connection and
//! turns overlap (so their held times add up to more than the time
//! passed, and waiting for a pooled connection counts as held).
//!
//! On SQLite the tasks that write in batches (the event writer and the
//! group commits) run on a thread of their own ([`WriteLane::spawn`]):
//! a turn goes to the connection's thread and back once per statement,
//! and on the server's runtime each way back waited in the queue behind
//! the HTTP tasks while the lane stayed held (the connection's thread
//! was busy a third of the time the lane was held at 1,000 events/s).
//!
//! Every turn names its [`Work`]; the lane counts turns, the time spent
//! waiting for them and the time they were held, per kind of work
//! ([`WriteLane::figures`], `comops_write_lane_*` in `/metrics`), so a
//! queue in front of the one writer can be traced to who holds it.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::{Mutex, MutexGuard};

/// What a turn of the lane is for. A new kind goes into [`Work::ALL`] and
/// [`Work::name`] too; one missing from `ALL` would be counted as `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// Accepted business events with their runs and traces.
    Accept,
    /// Runs leased to an executor (claims, lease extensions, releases).
    ClaimRuns,
    /// Runs' progress: new state, queued messages, traces.
    SaveRuns,
    /// Outbox messages leased to a dispatcher.
    ClaimMessages,
    /// A dispatcher pass's sends marked `sending`, paced ones put back.
    StartSends,
    /// Delivery results filed.
    Deliveries,
    /// Single trace events (dry runs, refused calls, replies).
    Traces,
    /// Anything else (addresses deactivated, lost claims handed back).
    Other,
}

impl Work {
    pub const ALL: [Work; 8] = [Work::Accept, Work::ClaimRuns, Work::SaveRuns, Work::ClaimMessages, Work::StartSends, Work::Deliveries, Work::Traces, Work::Other];

    /// The `work` label in `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Work::Accept => "accept",
            Work::ClaimRuns => "claim_runs",
            Work::SaveRuns => "save_runs",
            Work::ClaimMessages => "claim_messages",
            Work::StartSends => "start_sends",
            Work::Deliveries => "deliveries",
            Work::Traces => "traces",
            Work::Other => "other",
        }
    }
}

/// One kind of work's use of the lane since the process started.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneUse {
    pub work: Work,
    pub turns: u64,
    /// Seconds spent waiting for turns.
    pub waited_s: f64,
    /// Seconds turns were held (writing and committing).
    pub held_s: f64,
}

#[derive(Debug, Default)]
struct Tally {
    turns: AtomicU64,
    waited_us: AtomicU64,
    held_us: AtomicU64,
}

/// The held connection's page cache: 16 MiB.
const LANE_CACHE: &str = "PRAGMA cache_size = -16384";

/// The connection SQLite's hot writes share, taken from the pool when
/// first needed (and again after it failed).
type Held = Option<PoolConnection<Any>>;

/// Where the store's hot writes queue; shared by the store and its group
/// commits.
#[derive(Debug)]
pub(crate) struct WriteLane {
    pool: AnyPool,
    /// SQLite only.
    held: Option<Mutex<Held>>,
    /// SQLite only: where the batch writers run (see the module doc).
    writers: Option<WriterThread>,
    /// The held connection failed as if broken; the next turn takes a
    /// fresh one.
    broken: AtomicBool,
    /// A text that begins and ends its own transaction (`one_trip`) was
    /// sent and has not been seen to end: were its turn dropped meanwhile
    /// (a cancelled future, a panic), the transaction may still be open,
    /// which sqlx does not know of, so the next turn takes a fresh
    /// connection (closing this one rolls it back).
    in_trip: AtomicBool,
    /// Per [`Work`], in the order of [`Work::ALL`].
    tallies: [Tally; Work::ALL.len()],
}

impl WriteLane {
    /// A lane on `pool`: one held connection when `single` (SQLite).
    pub fn new(pool: AnyPool, single: bool) -> Self {
        let writers = if single { WriterThread::start() } else { None };
        WriteLane { pool, held: single.then(|| Mutex::new(None)), writers, broken: AtomicBool::new(false), in_trip: AtomicBool::new(false), tallies: Default::default() }
    }

    /// Runs a task that takes turns in a loop (a batch writer): on the
    /// lane's own thread on SQLite, else on the caller's runtime.
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.writers {
            Some(writers) => drop(writers.runtime.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
    }

    /// How each kind of work has used the lane so far.
    pub fn figures(&self) -> Vec<LaneUse> {
        let seconds = |us: &AtomicU64| us.load(Ordering::Relaxed) as f64 / 1e6;
        Work::ALL
            .iter()
            .zip(&self.tallies)
            .map(|(work, tally)| LaneUse { work: *work, turns: tally.turns.load(Ordering::Relaxed), waited_s: seconds(&tally.waited_us), held_s: seconds(&tally.held_us) })
            .collect()
    }

    /// Waits for this process's turn to write (at once on PostgreSQL).
    /// Hold the turn until the commit; never take a second turn while
    /// holding one.
    pub async fn turn(&self, work: Work) -> WriteTurn<'_> {
        let asked = Instant::now();
        let held = match &self.held {
            Some(held) => {
                let mut held = held.lock().await;
                // Both flags cleared: `|`, not `||`.
                if self.broken.swap(false, Ordering::Relaxed) | self.in_trip.swap(false, Ordering::Relaxed) {
                    if let Some(mut broken) = held.take() {
                        broken.close_on_drop();
                    }
                }
                Some(held)
            }
            None => None,
        };
        // Never out of bounds: a kind missing from `ALL` counts as `Other`.
        let tally = &self.tallies[Work::ALL.iter().position(|w| *w == work).unwrap_or(Work::ALL.len() - 1)];
        let since = Instant::now();
        tally.turns.fetch_add(1, Ordering::Relaxed);
        tally.waited_us.fetch_add(micros(since - asked), Ordering::Relaxed);
        WriteTurn { pool: &self.pool, held, own: None, broken: &self.broken, in_trip: &self.in_trip, tally, since }
    }

    /// Gives the held connection back to the pool (before the pool closes:
    /// a closing pool waits for every connection to come back).
    pub async fn release(&self) {
        if let Some(held) = &self.held {
            held.lock().await.take();
        }
    }
}

/// A thread with a runtime of its own for the batch writers; it ends
/// when the lane is dropped (its tasks hold the lane, so by then they
/// have ended).
#[derive(Debug)]
struct WriterThread {
    runtime: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl WriterThread {
    /// None (the batch writers then run on the caller's runtime) if the
    /// thread cannot be started.
    fn start() -> Option<Self> {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                tracing::warn!(error = %err, "no runtime for the write lane's own thread; its writers share the server's");
                return None;
            }
        };
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let started = std::thread::Builder::new().name("comops-writers".into()).spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            })
        });
        match started {
            Ok(_) => Some(WriterThread { runtime: handle, _stop: stop }),
            Err(err) => {
                tracing::warn!(error = %err, "no thread for the write lane's writers; they share the server's");
                None
            }
        }
    }
}

/// One writer's turn; the lane is free again when it is dropped.
pub struct WriteTurn<'a> {
    pool: &'a AnyPool,
    held: Option<MutexGuard<'a, Held>>,
    /// PostgreSQL: a pooled connection for this turn only.
    own: Held,
    broken: &'a AtomicBool,
    in_trip: &'a AtomicBool,
    /// Where the turn's held time is counted, and since when.
    tally: &'a Tally,
    since: Instant,
}

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        self.tally.held_us.fetch_add(micros(self.since.elapsed()), Ordering::Relaxed);
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl WriteTurn<'_> {
    /// The turn's connection.
    pub async fn connection(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        let pool = self.pool;
        let (slot, lane): (&mut Held, bool) = match &mut self.held {
            Some(held) => (held, true),
            None => (&mut self.own, false),
        };
        let connection = match slot {
            Some(connection) => connection,
            None => {
                let mut connection = pool.acquire().await?;
                if lane {
                    // Room for the pages the hot writes keep touching (the
                    // ends of the engine's tables and their indexes), where
                    // SQLite's default is 2 MB.
                    sqlx::Executor::execute(&mut *connection, LANE_CACHE).await?;
                }
                slot.insert(connection)
            }
        };
        Ok(&mut **connection)
    }

    /// Before sending a text that begins and ends its own transaction
    /// (`one_trip`) on the held connection: until [`WriteTurn::trip_ended`],
    /// the lane takes the connection for one left inside a transaction.
    pub fn trip_begins(&self) {
        if self.held.is_some() {
            self.in_trip.store(true, Ordering::Relaxed);
        }
    }

    /// After such a text committed, or failed and was rolled back: if it
    /// failed as if the connection were broken, the next turn takes a
    /// fresh one (as [`WriteTurn::begin`] does for a failed begin).
    pub fn trip_ended(&self, failure: Option<&sqlx::Error>) {
        self.in_trip.store(false, Ordering::Relaxed);
        if let Some(err) = failure.filter(|_| self.held.is_some()) {
            note_broken(self.broken, err);
        }
    }

    /// Begins a transaction on the turn's connection. When the held
    /// connection cannot begin one because it is broken (its worker
    /// crashed, its file went away), the next turn takes a fresh one from
    /// the pool; every group commit begins one, so a single statement that
    /// broke it is noticed at the next.
    pub async fn begin(&mut self) -> Result<Transaction<'_, Any>, sqlx::Error> {
        let broken = self.broken;
        let begun = self.connection().await?.begin().await;
        if let Err(err) = &begun {
            note_broken(broken, err);
        }
        begun
    }
}

/// Marks the held connection broken when `err` says it is, so the next
/// turn takes a fresh one.
fn note_broken(broken: &AtomicBool, err: &sqlx::Error) {
    if super::unreachable(err) {
        tracing::warn!(error = %err, "the write connection is broken; the next turn takes another");
        broken.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::Work;

    #[test]
    fn every_work_is_counted_in_its_own_place() {
        for (place, work) in Work::ALL.iter().enumerate() {
            assert_eq!(Work::ALL.iter().position(|w| w == work), Some(place), "{work:?} twice");
        }
        assert_eq!(Work::ALL.last(), Some(&Work::Other));
        let names: std::collections::HashSet<_> = Work::ALL.iter().map(|w| w.name()).collect();
        assert_eq!(names.len(), Work::ALL.len());
    }
}
