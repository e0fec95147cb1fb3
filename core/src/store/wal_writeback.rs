//! Early writeback of SQLite's WAL, so a checkpoint's `fsync` of it has
//! little left to write.
//!
//! A checkpoint (`checkpointer`) first makes the WAL durable with an
//! `fsync`, while the one writer keeps appending to that file; every page
//! the commits of the last quarter-second dirtied is written out then, and
//! the writer's commits were slow meanwhile. At 1,000 events/s that was
//! most of the tail of the event → message latency: with only the WAL's
//! `fsync` made a no-op (a test, not a setting) p99 fell from 37–38 ms to
//! 11.5–11.8 ms; with only the database file's it did not move
//! (docs/benchmarks.md, 2026-12-05). So a thread here asks the kernel to
//! start writing the WAL's dirty pages every [`EVERY`]
//! (`sync_file_range(SYNC_FILE_RANGE_WRITE)`: it starts writeback and
//! does not wait for it, nor make anything durable). Durability is
//! unchanged: commits are as durable as before (WAL, as the database
//! URL's `synchronous=` sets) and the checkpoint still syncs the WAL
//! before copying it.
//! The gain depends on the disk: on a machine whose ext4 had no journal
//! it measured no help (p99 55–56 ms without it, 60–69 with), within that
//! machine's spread. Linux only; elsewhere nothing starts.

use std::path::PathBuf;
use std::sync::Weak;
use std::time::Duration;

/// How often the WAL's dirty pages are handed to the kernel's writeback.
pub const EVERY: Duration = Duration::from_millis(20);

/// Starts the writeback thread for the WAL beside the database at `db`;
/// it stops once `running` has gone (the store was dropped).
pub(crate) fn start<T: Send + Sync + 'static>(db: PathBuf, running: Weak<T>) {
    #[cfg(target_os = "linux")]
    {
        let mut wal = db.into_os_string();
        wal.push("-wal");
        let spawned = std::thread::Builder::new().name("comops-wal-writeback".into()).spawn(move || linux::run(wal.into(), running));
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start the WAL's early writeback; checkpoints will write more at once");
        }
    }
    #[cfg(not(target_os = "linux"))]
    drop((db, running));
}

#[cfg(target_os = "linux")]
mod linux {
    use super::EVERY;
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::path::PathBuf;
    use std::sync::Weak;
    use std::time::{Duration, Instant};

    /// The WAL is opened again this often: SQLite deletes it when its last
    /// connection closes and makes a new one later, and writeback of the
    /// old file would do nothing.
    const REOPEN: Duration = Duration::from_secs(1);

    pub(super) fn run<T>(wal: PathBuf, running: Weak<T>) {
        let mut file: Option<(File, Instant)> = None;
        while running.strong_count() > 0 {
            std::thread::sleep(EVERY);
            if file.as_ref().is_none_or(|(_, opened)| opened.elapsed() >= REOPEN) {
                // Not there yet (nothing written) or gone: try again later.
                file = File::open(&wal).ok().map(|opened| (opened, Instant::now()));
            }
            if let Some((wal, _)) = &file {
                // SAFETY: a plain syscall on a descriptor this thread owns
                // for the call's length; it reads no memory of ours.
                unsafe { libc::sync_file_range(wal.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
            }
        }
    }
}
