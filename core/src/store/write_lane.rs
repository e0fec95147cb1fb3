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
//! of them keeps its cache warm. And they share commits: consecutive
//! turns write in one open transaction, each in a savepoint of its own,
//! and the group commits once (see [`WriteTurn`]); a turn's writes count
//! only after [`WriteTurn::done`].
//!
//! On PostgreSQL there is no lane: a turn takes any pooled connection and
//! turns overlap (so their held times add up to more than the time
//! passed, and waiting for a pooled connection counts as held).
//!
//! Every turn names its [`Work`]; the lane counts turns, the time spent
//! waiting for them and the time they were held, per kind of work
//! ([`WriteLane::figures`], `comops_write_lane_*` in `/metrics`), so a
//! queue in front of the one writer can be traced to who holds it.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Database, Transaction, TransactionManager};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Mutex, MutexGuard};

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
    /// The commit closing a group of turns (SQLite; see [`WriteTurn::done`]):
    /// its turns are commits, its waited time is none.
    Commit,
    /// Anything else (addresses deactivated, lost claims handed back).
    Other,
}

impl Work {
    pub const ALL: [Work; 9] =
        [Work::Accept, Work::ClaimRuns, Work::SaveRuns, Work::ClaimMessages, Work::StartSends, Work::Deliveries, Work::Traces, Work::Commit, Work::Other];

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
            Work::Commit => "commit",
            Work::Other => "other",
        }
    }

    /// Where this kind is counted: its place in [`Work::ALL`] (`Other`'s
    /// for a kind missing there, so never out of bounds).
    fn place(self) -> usize {
        Work::ALL.iter().position(|w| *w == self).unwrap_or(Work::ALL.len() - 1)
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

/// How a group's transaction begins: with the write lock taken at once, so
/// a group that read first cannot find, when it writes, that another
/// connection committed since (`SQLITE_BUSY_SNAPSHOT`, which no wait
/// cures).
const GROUP_BEGIN: &str = "BEGIN IMMEDIATE";

/// Most turns one commit closes, by default.
pub const GROUP_TURNS: usize = 16;

/// Longest a group stays open, by default: its first turn waits this long
/// at most for the turns after it (plus the last one's own time).
pub const GROUP_AGE: Duration = Duration::from_millis(5);

/// A group's outcome, once it is committed or failed; shared by its turns.
type Outcome = Option<Result<(), Arc<sqlx::Error>>>;

/// Turns written in one open transaction, waiting for its commit.
#[derive(Debug)]
struct Group {
    began: Instant,
    turns: usize,
    outcome: watch::Sender<Outcome>,
}

/// What SQLite's one writer holds between turns: its connection (taken
/// from the pool when first needed, and again after it failed) and the
/// open group, if any.
#[derive(Debug, Default)]
struct Lane {
    connection: Option<PoolConnection<Any>>,
    group: Option<Group>,
}

/// The parts of the lane a task that closes a group needs too.
#[derive(Debug)]
struct Shared {
    /// SQLite's; unused on PostgreSQL.
    lane: Mutex<Lane>,
    /// Turns waiting for the lane: while one waits, a group stays open for
    /// it (within `group_turns` and `group_age_us`).
    asking: AtomicUsize,
    /// The group limits ([`GROUP_TURNS`], [`GROUP_AGE`] unless set).
    group_turns: AtomicUsize,
    group_age_us: AtomicU64,
    /// The held connection failed as if broken; the next turn takes a
    /// fresh one.
    broken: AtomicBool,
    /// Per [`Work`], in the order of [`Work::ALL`].
    tallies: [Tally; Work::ALL.len()],
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            lane: Default::default(),
            asking: Default::default(),
            group_turns: AtomicUsize::new(GROUP_TURNS),
            group_age_us: AtomicU64::new(micros(GROUP_AGE)),
            broken: Default::default(),
            tallies: Default::default(),
        }
    }
}

impl Shared {
    /// Whether the open group is to be committed now: nobody waits to join
    /// it, or it is full, or old enough.
    fn closing(&self, lane: &Lane) -> bool {
        lane.group.as_ref().is_some_and(|group| {
            self.asking.load(Ordering::Acquire) == 0
                || group.turns >= self.group_turns.load(Ordering::Relaxed)
                || micros(group.began.elapsed()) >= self.group_age_us.load(Ordering::Relaxed)
        })
    }

    /// Commits the open group and tells its turns how it went. A failed
    /// commit leaves the connection in doubt: the next turn takes another.
    async fn close(&self, lane: &mut Lane) {
        let Some(group) = lane.group.take() else { return };
        let since = Instant::now();
        let committed = match lane.connection.as_mut() {
            Some(connection) => <Any as Database>::TransactionManager::commit(&mut **connection).await,
            None => Err(sqlx::Error::Protocol("the write lane lost its connection with a group open".into())),
        };
        if let Err(err) = &committed {
            tracing::warn!(error = %err, turns = group.turns, "a write group's commit failed; the next turn takes another connection");
            self.broken.store(true, Ordering::Relaxed);
        }
        let tally = &self.tallies[Work::Commit.place()];
        tally.turns.fetch_add(1, Ordering::Relaxed);
        tally.held_us.fetch_add(micros(since.elapsed()), Ordering::Relaxed);
        group.outcome.send_replace(Some(committed.map_err(Arc::new)));
    }
}

/// Where the store's hot writes queue; shared by the store and its group
/// commits.
#[derive(Debug)]
pub(crate) struct WriteLane {
    pool: AnyPool,
    /// One held connection, turns grouped into shared commits (SQLite).
    single: bool,
    shared: Arc<Shared>,
}

impl WriteLane {
    /// A lane on `pool`: one held connection when `single` (SQLite).
    pub fn new(pool: AnyPool, single: bool) -> Self {
        WriteLane { pool, single, shared: Default::default() }
    }

    /// Sets how many turns a group takes at most and how long it stays
    /// open at most (SQLite; [`GROUP_TURNS`] and [`GROUP_AGE`] by default).
    /// Takes effect from the next turn.
    pub fn set_group_limits(&self, turns: usize, age: Duration) {
        self.shared.group_turns.store(turns.max(1), Ordering::Relaxed);
        self.shared.group_age_us.store(micros(age), Ordering::Relaxed);
    }

    /// How each kind of work has used the lane so far.
    pub fn figures(&self) -> Vec<LaneUse> {
        let seconds = |us: &AtomicU64| us.load(Ordering::Relaxed) as f64 / 1e6;
        Work::ALL
            .iter()
            .zip(&self.shared.tallies)
            .map(|(work, tally)| LaneUse { work: *work, turns: tally.turns.load(Ordering::Relaxed), waited_s: seconds(&tally.waited_us), held_s: seconds(&tally.held_us) })
            .collect()
    }

    /// Waits for this process's turn to write (at once on PostgreSQL).
    /// Hold the turn until the commit, then [`WriteTurn::done`]; never
    /// take a second turn while holding one.
    pub async fn turn(&self, work: Work) -> WriteTurn<'_> {
        let asked = Instant::now();
        let shared = &self.shared;
        let held = if self.single {
            shared.asking.fetch_add(1, Ordering::AcqRel);
            let mut lane = shared.lane.lock().await;
            shared.asking.fetch_sub(1, Ordering::AcqRel);
            if shared.broken.swap(false, Ordering::Relaxed) {
                // Its open group, if any, commits there or fails there.
                shared.close(&mut lane).await;
                if let Some(mut broken) = lane.connection.take() {
                    broken.close_on_drop();
                }
                shared.broken.store(false, Ordering::Relaxed);
            }
            Some(lane)
        } else {
            None
        };
        let tally = &shared.tallies[work.place()];
        let since = Instant::now();
        tally.turns.fetch_add(1, Ordering::Relaxed);
        tally.waited_us.fetch_add(micros(since - asked), Ordering::Relaxed);
        WriteTurn { pool: &self.pool, shared, held, own: None, tally, since: Some(since), joined: None, finished: false }
    }

    /// Commits the open group and gives the held connection back to the
    /// pool (before the pool closes: a closing pool waits for every
    /// connection to come back).
    pub async fn release(&self) {
        if self.single {
            let mut lane = self.shared.lane.lock().await;
            self.shared.close(&mut lane).await;
            lane.connection.take();
        }
    }
}

/// One writer's turn; the lane is free again when it is dropped or
/// [`done`](WriteTurn::done).
///
/// On SQLite the turns share one open transaction (a group): a turn's
/// own transaction ([`WriteTurn::begin`]) is a savepoint in it, so a turn
/// that fails still undoes only its own writes, and the group commits once
/// for all of them: when nobody waits for the lane, or after
/// [`GROUP_TURNS`] turns or [`GROUP_AGE`] (unless set otherwise). Each commit writes every page
/// it touched to the WAL, and the turns of a group touch the same pages
/// (the ends of the outbox, runs and traces); commits were a quarter of
/// SQLite's time at 1,000 events/s. What a turn wrote is durable only
/// after [`WriteTurn::done`]: nothing may be answered, sent or handed on
/// before it.
pub struct WriteTurn<'a> {
    pool: &'a AnyPool,
    shared: &'a Arc<Shared>,
    /// SQLite: the lane, held for this turn.
    held: Option<MutexGuard<'a, Lane>>,
    /// PostgreSQL: a pooled connection for this turn only.
    own: Option<PoolConnection<Any>>,
    /// Where the turn's held time is counted, and since when (until it is
    /// counted).
    tally: &'a Tally,
    since: Option<Instant>,
    /// The group this turn wrote in.
    joined: Option<watch::Receiver<Outcome>>,
    /// [`WriteTurn::done`] was called: the group's closing is seen to.
    finished: bool,
}

impl Drop for WriteTurn<'_> {
    fn drop(&mut self) {
        self.count_held();
        if self.finished {
            return;
        }
        // Left without `done` (a failed turn, or one that only read): if
        // the group would close now, nobody else will; a task does it as
        // soon as the lane is free, since nothing can be awaited here.
        if let Some(lane) = &self.held {
            if self.shared.closing(lane) {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    let shared = self.shared.clone();
                    runtime.spawn(async move {
                        let mut lane = shared.lane.lock().await;
                        shared.close(&mut lane).await;
                    });
                }
            }
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl WriteTurn<'_> {
    fn count_held(&mut self) {
        if let Some(since) = self.since.take() {
            self.tally.held_us.fetch_add(micros(since.elapsed()), Ordering::Relaxed);
        }
    }

    /// The turn's connection. On SQLite, inside the open group's
    /// transaction (begun here if none is open).
    pub async fn connection(&mut self) -> Result<&mut AnyConnection, sqlx::Error> {
        let pool = self.pool;
        let Some(lane) = self.held.as_deref_mut() else {
            if self.own.is_none() {
                self.own = Some(pool.acquire().await?);
            }
            let Some(connection) = self.own.as_mut() else { unreachable!("just taken") };
            return Ok(&mut **connection);
        };
        if lane.connection.is_none() {
            let mut connection = pool.acquire().await?;
            // Room for the pages the hot writes keep touching (the ends of
            // the engine's tables and their indexes), where SQLite's
            // default is 2 MB.
            sqlx::Executor::execute(&mut *connection, LANE_CACHE).await?;
            lane.connection = Some(connection);
        }
        let Some(connection) = lane.connection.as_mut() else { unreachable!("just taken") };
        let group = match &mut lane.group {
            Some(group) => group,
            None => {
                if let Err(err) = <Any as Database>::TransactionManager::begin(&mut **connection, Some(GROUP_BEGIN.into())).await {
                    if super::unreachable(&err) {
                        self.shared.broken.store(true, Ordering::Relaxed);
                    }
                    return Err(err);
                }
                let (outcome, _) = watch::channel(None);
                lane.group.insert(Group { began: Instant::now(), turns: 0, outcome })
            }
        };
        if self.joined.is_none() {
            group.turns += 1;
            self.joined = Some(group.outcome.subscribe());
        }
        Ok(&mut **connection)
    }

    /// Begins a transaction on the turn's connection (on SQLite a savepoint
    /// in the group's). When the held connection cannot begin one because
    /// it is broken (its worker crashed, its file went away), the next turn
    /// takes a fresh one from the pool; every group commit begins one, so a
    /// single statement that broke it is noticed at the next.
    pub async fn begin(&mut self) -> Result<Transaction<'_, Any>, sqlx::Error> {
        let shared = self.shared.clone();
        let begun = self.connection().await?.begin().await;
        if let Err(err) = &begun {
            if super::unreachable(err) {
                tracing::warn!(error = %err, "the write connection is broken; the next turn takes another");
                shared.broken.store(true, Ordering::Relaxed);
            }
        }
        begun
    }

    /// Ends the turn and waits until what it wrote is durable: on SQLite
    /// the group's commit (made here if the group closes now, otherwise by
    /// a later turn, with the lane already free for it); on PostgreSQL the
    /// turn's own commit was it. An error means none of the group's writes
    /// were kept.
    pub async fn done(mut self) -> Result<(), sqlx::Error> {
        self.finished = true;
        // The commit is counted as the lane's `Commit` work, not this turn's.
        self.count_held();
        if let Some(lane) = self.held.as_deref_mut() {
            if self.shared.closing(lane) {
                self.shared.close(lane).await;
            }
        }
        self.held = None;
        let Some(mut joined) = self.joined.take() else { return Ok(()) };
        let outcome = match joined.wait_for(Option::is_some).await {
            Ok(outcome) => match outcome.as_ref() {
                Some(Ok(())) => Ok(()),
                Some(Err(err)) => Err(super::copy_error(err)),
                None => Err(sqlx::Error::Protocol("a write group ended without an outcome".into())),
            },
            Err(_) => Err(sqlx::Error::Protocol("a write group was dropped before its commit".into())),
        };
        outcome
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
