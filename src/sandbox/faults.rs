//! Fault injection: make the sandbox's Graph or Orchidea's SCIM endpoints fail, slow down or drop connections, a given number of times.
//!
//! A [`Fault`] comes from a tenant file (`"faults": [...]`), from
//! [`super::SandboxOptions::faults`] (the CLI parses its flag with
//! [`Fault::parse`]), or at runtime from [`super::Sandbox::inject_fault`].
//! Each request to the targeted server is checked against the faults in the
//! order they were added; the first one that matches is applied and its
//! count goes down by one. A fault whose count reaches zero is spent and
//! removed; a fault with `count: 0` never runs out.
//!
//! Spec grammar (`docs/sandbox-tenant.md`, "Fault injection"): segments
//! separated by `:`, the target first, the rest in any order:
//!
//! ```text
//! graph|scim|admin [:METHOD] [:/path-substring] [:STATUS[xN|x*]] [:retry-after=S] [:latency=MS] [:drop] [:xN|x*] [:skip=N]
//! ```
//!
//! `skip=N` lets the first N matching requests through untouched (e.g. the
//! second `validateCredentials` of a run fails, not the first).
//!
//! e.g. `scim:503x3`, `scim:/Users:401x2`, `graph:POST:/start:429x1:retry-after=2`,
//! `graph:latency=200`, `scim:POST:drop:x1`.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Which of the sandbox's servers a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// The simulated Microsoft Graph (`/v1.0/...`).
    Graph,
    /// Orchidea's SCIM endpoints (`/scim/v2/...`).
    Scim,
    /// Orchidea's admin API (`/api/admin/v1/...`).
    Admin,
}

/// A failure, a delay or a dropped connection for requests to one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "FaultRepr")]
pub struct Fault {
    pub target: FaultTarget,
    /// Only requests whose path contains this text (case-sensitive), e.g. `/Users` or `/start`.
    #[serde(default)]
    pub path: Option<String>,
    /// Only requests with this HTTP method (case-insensitive), e.g. `POST`.
    #[serde(default)]
    pub method: Option<String>,
    /// The status to answer with, 400–599; 0 = no failure (latency or drop only).
    #[serde(default)]
    pub status: u16,
    /// How many matching requests the fault applies to, then it is spent; 0 = every request, forever.
    #[serde(default)]
    pub count: u32,
    /// Seconds for a `Retry-After` header on the failure.
    #[serde(default)]
    pub retry_after: Option<u32>,
    /// Added before the request is handled (or fails).
    #[serde(default)]
    pub latency_ms: u32,
    /// Close the connection without a complete answer (the client sees a transport error).
    #[serde(default)]
    pub drop_connection: bool,
    /// Fail, drop or crash only after the request was handled: the change
    /// is made, its answer lost.
    #[serde(default)]
    pub after: bool,
    /// End the whole process (exit code 86) — the sandbox inside the CLI, for
    /// the kill-and-resume test. The state is saved first.
    #[serde(default)]
    pub crash: bool,
    /// Matching requests to let through before the fault applies.
    #[serde(default)]
    pub skip: u32,
}

/// The exit code of an injected crash.
pub const CRASH_EXIT_CODE: i32 = 86;

/// A tenant file may give a fault as an object or as a spec string.
#[derive(Deserialize)]
#[serde(untagged)]
enum FaultRepr {
    Spec(String),
    Object(FaultObject),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultObject {
    target: FaultTarget,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    status: u16,
    #[serde(default)]
    count: u32,
    #[serde(default)]
    retry_after: Option<u32>,
    #[serde(default)]
    latency_ms: u32,
    #[serde(default)]
    drop_connection: bool,
    #[serde(default)]
    after: bool,
    #[serde(default)]
    crash: bool,
    #[serde(default)]
    skip: u32,
}

impl TryFrom<FaultRepr> for Fault {
    type Error = FaultSpecError;

    fn try_from(r: FaultRepr) -> Result<Fault, FaultSpecError> {
        match r {
            FaultRepr::Spec(s) => Fault::parse(&s),
            FaultRepr::Object(o) => {
                let f = Fault {
                    target: o.target,
                    path: o.path,
                    method: o.method.map(|m| m.to_ascii_uppercase()),
                    status: o.status,
                    count: o.count,
                    retry_after: o.retry_after,
                    latency_ms: o.latency_ms,
                    drop_connection: o.drop_connection,
                    after: o.after,
                    crash: o.crash,
                    skip: o.skip,
                };
                f.check()?;
                Ok(f)
            }
        }
    }
}

message_error!(
    /// A fault spec (`--sandbox-fault`, a tenant file's `faults`) the sandbox refuses.
    FaultSpecError
);

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Fault {
    /// A fault that answers `status` to the next `count` requests to `target`.
    pub fn fail(target: FaultTarget, status: u16, count: u32) -> Fault {
        Fault {
            target,
            path: None,
            method: None,
            status,
            count,
            retry_after: None,
            latency_ms: 0,
            drop_connection: false,
            after: false,
            crash: false,
            skip: 0,
        }
    }

    /// Parses a spec such as `scim:503x3` or `graph:POST:/start:429x1:retry-after=2`
    /// (grammar in the module docs). Without `xN` a failure or drop applies
    /// once and a latency-only fault applies forever.
    pub fn parse(spec: &str) -> Result<Fault, FaultSpecError> {
        let mut parts = spec.trim().split(':');
        let target = match parts.next().map(str::trim).unwrap_or_default() {
            t if t.eq_ignore_ascii_case("graph") => FaultTarget::Graph,
            t if t.eq_ignore_ascii_case("scim") => FaultTarget::Scim,
            t if t.eq_ignore_ascii_case("admin") => FaultTarget::Admin,
            "" => return Err("the fault spec is empty: start with graph, scim or admin".into()),
            other => {
                return Err(
                    format!("unknown fault target \"{other}\": use graph, scim or admin").into(),
                );
            }
        };
        let mut f = Fault::fail(target, 0, 0);
        let mut count: Option<u32> = None;
        for part in parts.map(str::trim) {
            if part.is_empty() {
                return Err(format!("empty segment in the fault spec \"{spec}\"").into());
            }
            let lower = part.to_ascii_lowercase();
            if let Some(m) = METHODS.iter().find(|m| m.eq_ignore_ascii_case(part)) {
                if f.method.replace((*m).to_string()).is_some() {
                    return Err("the HTTP method is given twice".into());
                }
            } else if part.starts_with('/') {
                if f.path.replace(part.to_string()).is_some() {
                    return Err("the path is given twice".into());
                }
            } else if part.starts_with(|c: char| c.is_ascii_digit()) {
                let (status, n) = match lower.split_once('x') {
                    Some((s, n)) => (s, Some(n)),
                    None => (lower.as_str(), None),
                };
                let status: u16 = status
                    .parse()
                    .map_err(|_| format!("\"{part}\" is not a status like 503 or 503x3"))?;
                if f.status != 0 {
                    return Err("the status is given twice".into());
                }
                f.status = status;
                if let Some(n) = n {
                    set_count(n, &mut count)?;
                }
            } else if let Some(n) = lower.strip_prefix('x') {
                set_count(n, &mut count)?;
            } else if let Some(v) = lower.strip_prefix("retry-after=") {
                f.retry_after = Some(v.parse().map_err(|_| {
                    format!("retry-after must be a whole number of seconds, not \"{v}\"")
                })?);
            } else if let Some(v) = lower.strip_prefix("latency=") {
                let v = v.strip_suffix("ms").unwrap_or(v);
                f.latency_ms = v.parse().map_err(|_| {
                    format!("latency must be a whole number of milliseconds, not \"{v}\"")
                })?;
            } else if let Some(v) = lower.strip_prefix("skip=") {
                f.skip = v
                    .parse()
                    .map_err(|_| format!("skip must be a whole number of requests, not \"{v}\""))?;
            } else if lower == "drop" {
                f.drop_connection = true;
            } else if lower == "after" {
                f.after = true;
            } else if lower == "crash" {
                f.crash = true;
            } else {
                return Err(format!(
                    "unknown segment \"{part}\" in the fault spec: expected a method, /path, STATUS[xN], xN, retry-after=S, latency=MS, skip=N, drop, crash or after"
                ).into());
            }
        }
        f.count = match count {
            Some(n) => n,
            None if f.status != 0 || f.drop_connection || f.crash => 1,
            None => 0,
        };
        f.check()?;
        Ok(f)
    }

    /// A fault must do something, and a failure must be a failure status.
    fn check(&self) -> Result<(), FaultSpecError> {
        if self.status != 0 && !(400..=599).contains(&self.status) {
            return Err(format!(
                "the status {} is not a failure: use 400–599 (or leave it out for latency or drop only)",
                self.status
            ).into());
        }
        if self.status != 0 && self.drop_connection {
            return Err("a fault either answers a status or drops the connection, not both".into());
        }
        if [self.status != 0, self.drop_connection, self.crash]
            .iter()
            .filter(|b| **b)
            .count()
            > 1
        {
            return Err(
                "a fault answers a status, drops the connection or crashes: one of them".into(),
            );
        }
        if self.status == 0 && !self.drop_connection && !self.crash && self.latency_ms == 0 {
            return Err(
                "the fault does nothing: give a status (e.g. 503x3), latency=MS or drop".into(),
            );
        }
        if let Some(m) = &self.method
            && !METHODS.iter().any(|k| k.eq_ignore_ascii_case(m))
        {
            return Err(format!("unknown HTTP method \"{m}\"").into());
        }
        Ok(())
    }

    fn matches(&self, target: FaultTarget, method: &str, path: &str) -> bool {
        self.target == target
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// Reads the `N` of `xN` (`*` = 0, forever) into `count`, once.
fn set_count(text: &str, count: &mut Option<u32>) -> Result<(), FaultSpecError> {
    let n = if text == "*" {
        0
    } else {
        text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
            format!("the count \"x{text}\" must be a positive number, or x* for every request")
        })?
    };
    if count.replace(n).is_some() {
        return Err("the count is given twice".into());
    }
    Ok(())
}

/// Saves the sandbox's state before an injected crash ends the process.
pub(crate) type BeforeCrash =
    Arc<dyn Fn() -> futures::future::BoxFuture<'static, ()> + Send + Sync>;

/// The faults of a running sandbox, shared by both servers' middleware.
#[derive(Clone, Default)]
pub(crate) struct Faults(
    Arc<Mutex<Vec<Fault>>>,
    Arc<std::sync::OnceLock<BeforeCrash>>,
);

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Faults").field(&self.pending()).finish()
    }
}

impl Faults {
    pub fn new(faults: Vec<Fault>) -> Faults {
        Faults(Arc::new(Mutex::new(faults)), Arc::default())
    }

    /// What to do before an injected crash (the sandbox saves its state).
    pub fn before_crash(&self, hook: BeforeCrash) {
        let _ = self.1.set(hook);
    }

    /// Ends the process as a kill would, after saving the state.
    async fn crash(&self) -> ! {
        if let Some(hook) = self.1.get() {
            hook().await;
        }
        tracing::warn!("injected crash: the process ends now");
        std::process::exit(CRASH_EXIT_CODE)
    }

    pub fn push(&self, fault: Fault) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(fault);
    }

    /// What to do with a request: the latency of every matching fault that
    /// only delays, plus the first matching fault that fails or drops. Each
    /// fault applied is counted down, and removed when spent.
    pub fn take(&self, target: FaultTarget, method: &str, path: &str) -> Option<Fault> {
        let mut faults = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut applied: Option<Fault> = None;
        let mut i = 0;
        while i < faults.len() {
            let f = &faults[i];
            let fails = f.status != 0 || f.drop_connection || f.crash;
            let already_failing = applied
                .as_ref()
                .is_some_and(|a| a.status != 0 || a.drop_connection || a.crash);
            if !f.matches(target, method, path) || (fails && already_failing) {
                i += 1;
                continue;
            }
            if f.skip > 0 {
                faults[i].skip -= 1;
                i += 1;
                continue;
            }
            let combined = applied.get_or_insert_with(|| Fault {
                status: 0,
                count: 1,
                retry_after: None,
                latency_ms: 0,
                drop_connection: false,
                crash: false,
                after: false,
                skip: 0,
                ..f.clone()
            });
            combined.latency_ms = combined.latency_ms.saturating_add(f.latency_ms);
            if fails {
                combined.status = f.status;
                combined.drop_connection = f.drop_connection;
                combined.crash = f.crash;
                combined.after = f.after;
                combined.retry_after = f.retry_after;
                combined.path.clone_from(&f.path);
                combined.method.clone_from(&f.method);
            }
            match faults[i].count {
                0 => i += 1,
                1 => {
                    faults.remove(i);
                }
                _ => {
                    faults[i].count -= 1;
                    i += 1;
                }
            }
        }
        applied
    }

    /// Faults not yet spent.
    pub fn pending(&self) -> Vec<Fault> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Graph's error code for an injected status.
fn graph_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "InvalidAuthenticationToken",
        403 => "Authorization_RequestDenied",
        404 => "Request_ResourceNotFound",
        409 => "Conflict",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => "UnknownError",
    }
}

/// A response whose body fails at once: the server closes the connection
/// and the client gets a transport error instead of an answer.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped by an injected fault",
        ))
    });
    Response::new(Body::from_stream(stream))
}

/// Applies a fault to the request if one matches: waits, then fails, drops or goes on.
async fn apply(
    faults: &Faults,
    target: FaultTarget,
    request: Request,
    next: Next,
    fail: impl FnOnce(&Fault) -> Response,
) -> Response {
    let path = request.uri().path().to_string();
    let Some(fault) = faults.take(target, request.method().as_str(), &path) else {
        return next.run(request).await;
    };
    // Latency models the admin's network: Entra's own calls to Orchidea
    // (Test Connection, the cycle) do not cross it.
    if fault.latency_ms > 0 && !super::traffic::is_internal(&request) {
        tokio::time::sleep(Duration::from_millis(u64::from(fault.latency_ms))).await;
    }
    let fails = fault.status != 0 || fault.drop_connection || fault.crash;
    if !fails {
        return next.run(request).await;
    }
    if fault.after {
        // The change happens; only its answer is lost.
        let _handled = next.run(request).await;
    }
    if fault.crash {
        faults.crash().await;
    }
    if fault.drop_connection {
        return dropped();
    }
    let mut response = fail(&fault);
    if let Some(s) = fault.retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn describe(f: &Fault) -> String {
    let mut text = format!("The sandbox injected this failure ({}", f.status);
    if let Some(m) = &f.method {
        let _ = write!(text, " on {m}");
    }
    if let Some(p) = &f.path {
        let _ = write!(text, " for paths containing \"{p}\"");
    }
    text.push_str(").");
    text
}

/// Middleware for the Graph router. It runs inside the envelope, so a
/// failure gets Graph's error body and request ids.
pub(crate) async fn graph_layer(
    State(faults): State<Faults>,
    request: Request,
    next: Next,
) -> Response {
    apply(&faults, FaultTarget::Graph, request, next, |f| {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        super::graph::GraphError::new(status, graph_code(f.status), describe(f)).into_response()
    })
    .await
}

/// Middleware for Orchidea's SCIM router: a failure has SCIM's error body.
pub(crate) async fn scim_layer(
    State(faults): State<Faults>,
    request: Request,
    next: Next,
) -> Response {
    apply(&faults, FaultTarget::Scim, request, next, |f| {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": f.status.to_string(),
            "detail": describe(f),
        });
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json"),
        );
        if f.status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"orchidea-scim\""),
            );
        }
        response
    })
    .await
}

/// Middleware for Orchidea's admin API: a failure has the admin API's
/// error body (`docs/orchidea-admin-api.md`).
pub(crate) async fn admin_layer(
    State(faults): State<Faults>,
    request: Request,
    next: Next,
) -> Response {
    apply(&faults, FaultTarget::Admin, request, next, |f| {
        let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let body = json!({ "error": { "code": "injected", "message": describe(f) } });
        (status, axum::Json(body)).into_response()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_into_faults() {
        assert_eq!(
            Fault::parse("scim:503x3").unwrap(),
            Fault::fail(FaultTarget::Scim, 503, 3)
        );
        let f = Fault::parse("scim:/Users:401x2").unwrap();
        assert_eq!(f.path.as_deref(), Some("/Users"));
        assert_eq!((f.status, f.count), (401, 2));
        let f = Fault::parse("graph:POST:/start:429x1:retry-after=2").unwrap();
        assert_eq!(f.target, FaultTarget::Graph);
        assert_eq!(f.method.as_deref(), Some("POST"));
        assert_eq!(f.path.as_deref(), Some("/start"));
        assert_eq!((f.status, f.count, f.retry_after), (429, 1, Some(2)));
        let f = Fault::parse("graph:latency=200").unwrap();
        assert_eq!((f.status, f.count, f.latency_ms), (0, 0, 200));
        let f = Fault::parse("SCIM:patch:drop:x2").unwrap();
        assert_eq!(f.method.as_deref(), Some("PATCH"));
        assert!(f.drop_connection);
        assert_eq!(f.count, 2);
        assert_eq!(
            Fault::parse("scim:500").unwrap().count,
            1,
            "once by default"
        );
        assert_eq!(Fault::parse("scim:500x*").unwrap().count, 0, "x* = forever");
        let f = Fault::parse("scim:503:latency=50ms:x4").unwrap();
        assert_eq!((f.status, f.latency_ms, f.count), (503, 50, 4));
        let f = Fault::parse("graph:POST:/validateCredentials:400x1:skip=2").unwrap();
        assert_eq!((f.status, f.count, f.skip), (400, 1, 2));
    }

    #[test]
    fn skip_lets_the_first_matching_requests_through() {
        let faults = Faults::new(vec![
            Fault::parse("graph:POST:/validate:400x1:skip=2").unwrap(),
        ]);
        let take = || faults.take(FaultTarget::Graph, "POST", "/v1.0/x/validateCredentials");
        assert!(take().is_none() && take().is_none(), "two let through");
        assert!(
            faults
                .take(FaultTarget::Graph, "GET", "/v1.0/x/validate")
                .is_none(),
            "a request that does not match is not counted"
        );
        assert_eq!(take().map(|f| f.status), Some(400), "the third fails");
        assert!(take().is_none(), "then it is spent");
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let err = |s: &str| Fault::parse(s).unwrap_err().to_string();
        assert_eq!(
            err(""),
            "the fault spec is empty: start with graph, scim or admin"
        );
        assert_eq!(
            err("login:503"),
            "unknown fault target \"login\": use graph, scim or admin"
        );
        assert_eq!(
            Fault::parse("admin:POST:500").unwrap().target,
            FaultTarget::Admin
        );
        assert_eq!(
            err("scim"),
            "the fault does nothing: give a status (e.g. 503x3), latency=MS or drop"
        );
        assert_eq!(
            err("scim:200"),
            "the status 200 is not a failure: use 400–599 (or leave it out for latency or drop only)"
        );
        assert_eq!(
            err("scim:503x0"),
            "the count \"x0\" must be a positive number, or x* for every request"
        );
        assert_eq!(err("scim:503x2:x3"), "the count is given twice");
        assert_eq!(err("scim:5o3"), "\"5o3\" is not a status like 503 or 503x3");
        assert_eq!(
            err("graph:429:retry-after=soon"),
            "retry-after must be a whole number of seconds, not \"soon\""
        );
        assert_eq!(
            err("graph:latency=fast"),
            "latency must be a whole number of milliseconds, not \"fast\""
        );
        assert!(err("graph:FETCH:503").starts_with("unknown segment \"FETCH\""));
        assert_eq!(
            err("scim::503"),
            "empty segment in the fault spec \"scim::503\""
        );
        assert_eq!(
            err("scim:503:drop"),
            "a fault either answers a status or drops the connection, not both"
        );
        assert_eq!(err("scim:GET:POST:503"), "the HTTP method is given twice");
        assert_eq!(
            err("graph:400:skip=two"),
            "skip must be a whole number of requests, not \"two\""
        );
    }

    #[test]
    fn tenant_files_give_faults_as_objects_or_specs() {
        let faults: Vec<Fault> = serde_json::from_value(json!([
            "scim:503x2",
            {"target": "graph", "path": "/start", "method": "post", "status": 429, "count": 1, "retryAfter": 3}
        ]))
        .unwrap();
        assert_eq!(faults[0], Fault::fail(FaultTarget::Scim, 503, 2));
        assert_eq!(faults[1].method.as_deref(), Some("POST"));
        assert_eq!(faults[1].retry_after, Some(3));
        let bad: Result<Vec<Fault>, _> = serde_json::from_value(json!([{"target": "scim"}]));
        assert!(bad.is_err());
    }

    #[test]
    fn faults_are_counted_down_and_spent() {
        let faults = Faults::new(vec![
            Fault::parse("scim:POST:/Users:409x2").unwrap(),
            Fault::parse("scim:latency=1").unwrap(),
        ]);
        let hit = |m: &str, p: &str| {
            faults
                .take(FaultTarget::Scim, m, p)
                .map(|f| (f.status, f.latency_ms))
        };
        assert_eq!(
            hit("GET", "/scim/v2/Users"),
            Some((0, 1)),
            "latency, forever"
        );
        assert_eq!(hit("POST", "/scim/v2/Users"), Some((409, 1)), "both apply");
        assert_eq!(hit("post", "/scim/v2/Users"), Some((409, 1)));
        assert_eq!(
            hit("POST", "/scim/v2/Users"),
            Some((0, 1)),
            "the 409 is spent"
        );
        assert_eq!(faults.pending().len(), 1);
        assert!(faults.take(FaultTarget::Graph, "GET", "/v1.0/me").is_none());
        // Only the first failing fault applies; the next waits its turn.
        let faults = Faults::new(vec![
            Fault::parse("graph:503x1").unwrap(),
            Fault::parse("graph:/start:429x1").unwrap(),
        ]);
        let status = |p: &str| faults.take(FaultTarget::Graph, "POST", p).map(|f| f.status);
        assert_eq!(status("/v1.0/x/start"), Some(503));
        assert_eq!(status("/v1.0/x/start"), Some(429));
        assert_eq!(status("/v1.0/x/start"), None);
    }
}
