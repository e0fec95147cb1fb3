//! Background workers of a `comops serve` process: the scheduler, which
//! turns due scheduled jobs into runs once a second (claims are atomic in
//! the database, so any number of processes may run it), and the
//! housekeeping of expired sessions, idempotency records and handled
//! inbound updates.

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
