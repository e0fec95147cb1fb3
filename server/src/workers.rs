//! Background workers of a `comops serve` process. For now: the scheduler,
//! which turns due scheduled jobs into runs once a second. Claims are
//! atomic in the database, so any number of processes may run it.

use comops_core::store::{now_millis, Store};
use std::time::Duration;

/// Starts the scheduler loop; it stops when the process does.
pub fn spawn_scheduler(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.run_due_jobs(now_millis(), 100).await {
                Ok(0) => {}
                Ok(ran) => tracing::info!(ran, "scheduled jobs started runs"),
                Err(err) => tracing::error!(error = %err, "scheduler pass failed"),
            }
        }
    });
}
