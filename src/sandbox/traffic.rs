//! The sandbox's request log, for the benchmarks: every request each server
//! answered, with when it arrived and when its answer was ready. Off unless
//! [`super::SandboxOptions::record_requests`] is set, so a long-running
//! sandbox does not grow.
//!
//! Requests the sandbox makes to itself (Entra's Test Connection and the
//! provisioning cycle calling Orchidea's SCIM endpoint) carry
//! [`INTERNAL_HEADER`]: they are marked in the log, and injected latency
//! skips them — it models the admin's network, not Entra's datacenter.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Set on the sandbox's own outbound SCIM requests.
pub const INTERNAL_HEADER: &str = "x-orchidea-sandbox";

/// Which of the sandbox's servers answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Graph,
    /// Orchidea's admin API and web UI.
    OrchideaAdmin,
    Scim,
}

/// One answered request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub server: Server,
    pub method: String,
    /// Path and query, as received.
    pub target: String,
    pub started: Instant,
    pub finished: Instant,
    pub status: u16,
    /// Made by the sandbox itself.
    pub internal: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RequestLog(Arc<Mutex<Option<Vec<RequestRecord>>>>);

impl RequestLog {
    pub fn new(enabled: bool) -> Self {
        RequestLog(Arc::new(Mutex::new(enabled.then(Vec::new))))
    }

    /// Everything logged so far, and a fresh start.
    pub fn take(&self) -> Vec<RequestRecord> {
        let mut log = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn push(&self, record: RequestRecord) {
        let mut log = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(log) = log.as_mut() {
            log.push(record);
        }
    }

    fn enabled(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }
}

/// Whether the sandbox made this request to itself.
pub fn is_internal(request: &Request) -> bool {
    request.headers().contains_key(INTERNAL_HEADER)
}

/// Middleware: logs the request once its answer is ready.
pub(crate) async fn record(
    State((log, server)): State<(RequestLog, Server)>,
    request: Request,
    next: Next,
) -> Response {
    if !log.enabled() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), ToString::to_string);
    let internal = is_internal(&request);
    let response = next.run(request).await;
    log.push(RequestRecord {
        server,
        method,
        target,
        started,
        finished: Instant::now(),
        status: response.status().as_u16(),
        internal,
    });
    response
}
