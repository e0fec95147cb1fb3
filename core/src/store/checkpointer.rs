//! SQLite's WAL checkpoints, off the write path.
//!
//! By default the connection whose commit takes the WAL past 1,000 pages
//! copies it back into the database file before its commit returns (and
//! fsyncs the file): in the profile of `call/{alias}` at full load, 12 % of
//! comops's time was such checkpoints inside the one writer's turn, with
//! every other write waiting behind it. Here a task checkpoints every
//! [`EVERY`] on a pooled connection (`PASSIVE`: it never waits for, or
//! blocks, the writer), and the writers' own threshold is raised to
//! [`BACKSTOP`], which they reach only if this task falls behind.

use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;

/// How often the task checkpoints.
pub const EVERY: Duration = Duration::from_millis(250);
/// The writers' own checkpoint threshold, set on every connection: 10,000
/// pages of 4 KiB, 40 MiB of WAL.
pub const BACKSTOP: &str = "PRAGMA wal_autocheckpoint = 10000";

/// Keeps a store's checkpointing task going: the store holds it, and the
/// task ends once every clone of the store has gone (like the store's
/// group-commit tasks), so a dropped store does not leave its pool open.
#[derive(Debug)]
pub(crate) struct Checkpoints;

/// Starts the checkpointing task of a SQLite pool; it ends when the pool
/// is closed or the returned handle is dropped.
pub(crate) fn start(pool: AnyPool) -> Arc<Checkpoints> {
    let running = Arc::new(Checkpoints);
    let held = Arc::downgrade(&running);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if held.strong_count() == 0 || pool.is_closed() {
                return;
            }
            if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                if matches!(err, sqlx::Error::PoolClosed) {
                    return;
                }
                tracing::warn!(error = %err, "WAL checkpoint failed; trying again");
            }
        }
    });
    running
}
