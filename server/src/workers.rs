//! Background workers of a `comops serve` process: the scheduler, which
//! turns due scheduled jobs into runs once a second (claims are atomic in
//! the database, so any number of processes may run it), and the
//! housekeeping of expired sessions, idempotency records and handled
//! inbound updates; and the trace upkeep, which tallies calls and purges
//! traces past their retention.

use comops_core::store::call_tallies::PASS_TRACES;
use comops_core::store::{now_millis, Store};
use std::time::Duration;

/// Starts the scheduler loop; it stops when the process does.
pub fn spawn_scheduler(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            if ticks % 600 == 1 {
                housekeeping(&store).await;
            }
            match store.run_due_jobs(now_millis(), 100).await {
                Ok(0) => {}
                Ok(ran) => tracing::info!(ran, "scheduled jobs started runs"),
                Err(err) => tracing::error!(error = %err, "scheduler pass failed"),
            }
        }
    });
}

/// Starts the trace upkeep: every minute the calls traced before the
/// tallies' lag are counted into `call_tallies` (until caught up), and
/// every ten minutes the traces older than `retention_days` (0: never)
/// and tallied are removed (what the analytics read from them kept). Any
/// number of processes may run it: a tally pass moves the mark only from
/// the value it read, and a purge waits on the mark's row for another's
/// commit, then finds its traces gone.
pub fn spawn_trace_upkeep(store: Store, retention_days: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ticks: u64 = 0;
        loop {
            tick.tick().await;
            ticks += 1;
            tally_calls(&store).await;
            if retention_days > 0 && ticks % 10 == 1 {
                let before = now_millis() - i64::from(retention_days) * 86_400_000;
                match store.purge_traces(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(purged = n, retention_days, "traces past their retention removed"),
                    Err(err) => tracing::warn!(error = %err, "cannot purge old traces"),
                }
            }
        }
    });
}

/// Tallies calls until caught up (a long history takes several passes,
/// each its own write turn).
async fn tally_calls(store: &Store) {
    loop {
        match store.roll_up_calls(now_millis(), PASS_TRACES).await {
            Ok(true) => return,
            Ok(false) => tokio::task::yield_now().await,
            Err(err) => {
                tracing::warn!(error = %err, "cannot tally calls");
                return;
            }
        }
    }
}

/// Forgets what no longer counts: idempotency records past their 48 h and
/// expired sessions. Deletes are idempotent, so every process may run it.
async fn housekeeping(store: &Store) {
    match store.purge_idempotency_keys().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "expired idempotency records removed"),
        Err(err) => tracing::warn!(error = %err, "cannot purge idempotency records"),
    }
    if let Err(err) = store.purge_updates().await {
        tracing::warn!(error = %err, "cannot purge handled inbound updates");
    }
    if let Err(err) = store.purge_expired_sessions().await {
        tracing::warn!(error = %err, "cannot purge expired sessions");
    }
}
