//! A listener that can be switched "down".
//!
//! An outage of a real API looks like refused or dropped connections, not like
//! a polite HTTP error, so while the gate is down every new connection is
//! accepted and dropped at once (the client sees a closed connection). Requests
//! on connections that were already open are answered by the fake itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::serve::Listener;
use tokio::net::{TcpListener, TcpStream};

/// Wraps a [`TcpListener`]; drops new connections while `down` is set.
pub(crate) struct GatedListener {
    pub(crate) inner: TcpListener,
    pub(crate) down: Arc<AtomicBool>,
}

impl Listener for GatedListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = Listener::accept(&mut self.inner).await;
            if self.down.load(Ordering::SeqCst) {
                drop(stream);
                continue;
            }
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Aborts the server tasks when the last handle clone is dropped.
pub(crate) struct TaskGuard(pub(crate) Vec<tokio::task::JoinHandle<()>>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Locks a mutex, ignoring poisoning: a panicking test thread must not turn
/// every later request into a second panic.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
