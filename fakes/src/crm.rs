//! A fake business system (a CRM) that ComOps calls.
//!
//! It records every request — method, path, headers, JSON body — and answers
//! per `(method, path)` with a canned status and JSON body; unknown routes
//! answer `200 {"success": true}`. `fail_next` makes a route fail a few times
//! to exercise retries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::gate::{lock, TaskGuard};

/// One request the CRM received.
#[derive(Debug, Clone)]
pub struct CrmRequest {
    /// Upper-case HTTP method, e.g. `"POST"`.
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body; `Null` when empty, a JSON string when not JSON.
    pub body: Value,
    pub at: Instant,
}

impl CrmRequest {
    /// The first value of a header (name is case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    requests: Vec<CrmRequest>,
    routes: HashMap<(String, String), (u16, Value)>,
    /// path → (remaining, status)
    failures: HashMap<String, (u32, u16)>,
}

struct State {
    inner: std::sync::Mutex<Inner>,
    changed: Notify,
}

/// A running fake CRM. Clones share the server; it stops with the last clone.
#[derive(Clone)]
pub struct FakeCrm {
    state: Arc<State>,
    addr: SocketAddr,
    _tasks: Arc<TaskGuard>,
}

impl FakeCrm {
    /// Starts the CRM on `127.0.0.1` with a free port.
    ///
    /// # Panics
    /// If no local port can be bound.
    pub async fn start() -> Self {
        let state = Arc::new(State {
            inner: Default::default(),
            changed: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake crm: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake crm: local address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake crm stopped");
            }
        });
        Self {
            state,
            addr,
            _tasks: Arc::new(TaskGuard(vec![server])),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `{base_url}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// Answers `method path` with `status` and `json` from now on.
    pub fn respond(&self, method: &str, path: &str, status: u16, json: Value) {
        let key = (method.to_ascii_uppercase(), path.to_string());
        lock(&self.state.inner).routes.insert(key, (status, json));
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<CrmRequest> {
        lock(&self.state.inner).requests.clone()
    }

    /// Waits until at least `n` requests arrived or `timeout` passes; returns
    /// all requests (fewer than `n` on timeout).
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<CrmRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.state.changed.notified();
            {
                let inner = lock(&self.state.inner);
                if inner.requests.len() >= n || tokio::time::Instant::now() >= deadline {
                    return inner.requests.clone();
                }
            }
            let _ = tokio::time::timeout_at(deadline, changed).await;
        }
    }

    /// The next `n` requests to `path` (any method) answer `status` with
    /// `{"success": false, "error": "…"}`; they are still recorded.
    pub fn fail_next(&self, path: &str, n: u32, status: u16) {
        lock(&self.state.inner)
            .failures
            .insert(path.to_string(), (n, status));
    }
}

async fn handle(
    AxumState(state): AxumState<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body_json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    let request = CrmRequest {
        method: method.as_str().to_ascii_uppercase(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body_json,
        at: Instant::now(),
    };
    let (status, reply) = {
        let mut inner = lock(&state.inner);
        let failure = inner
            .failures
            .get_mut(&request.path)
            .filter(|(left, _)| *left > 0)
            .map(|(left, status)| {
                *left -= 1;
                *status
            });
        let reply = match failure {
            Some(status) => (
                status,
                json!({ "success": false, "error": "simulated failure" }),
            ),
            None => inner
                .routes
                .get(&(request.method.clone(), request.path.clone()))
                .cloned()
                .unwrap_or_else(|| (200, json!({ "success": true }))),
        };
        inner.requests.push(request);
        reply
    };
    state.changed.notify_waiters();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(reply)).into_response()
}
