//! The HTTP plumbing every Graph call goes through: the bearer token (and
//! one refresh after a 401), a fresh `client-request-id`, retries per
//! [`RetryPolicy`], paging, and Graph's error bodies turned into
//! [`GraphError`]. The endpoints themselves live in the step-group files.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use futures::future::BoxFuture;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::errors::{
    ErrorBody, GraphError, classify, encode_error, short_reason, transport_detail,
};
use super::{paging, permissions};
use crate::platform::secret::Secret;

/// The largest page Graph serves for directory lists (`$top` 1–999): ten
/// times fewer round trips than the default 100 in big tenants.
pub(super) const PAGE: usize = 999;

/// Properties asked for when listing service principals.
pub(super) const USER_SELECT: &str = "id,displayName,mail,userPrincipalName,accountEnabled";
pub(super) const SP_SELECT: &str =
    "id,appId,displayName,tags,preferredSingleSignOnMode,servicePrincipalType";

/// Gives a bearer token for Graph; refreshes are the implementation's business.
pub trait TokenSource: Send + Sync {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>>;

    /// Graph answered 401 to `rejected`: a new token to retry with once, or
    /// `None` when this source cannot get one (the 401 then stands).
    /// Passing the rejected token lets concurrent callers share one refresh.
    fn refresh_after_unauthorized<'a>(
        &'a self,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Option<Secret>, GraphError>> {
        let _ = rejected;
        Box::pin(async { Ok(None) })
    }
}

/// A token obtained elsewhere (the sandbox, tests, a token pasted by the admin).
pub struct StaticToken(pub Secret);

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// A Graph client; cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
    /// Also retry 404/403/409: the object was created moments ago and
    /// Graph's replicas may not show it yet (see [`GraphClient::settling`]).
    settling: bool,
    /// Named in a 403's message ([`GraphClient::with_admin_consent_url`]).
    consent_url: Option<Arc<str>>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: Arc<dyn TokenSource>,
    retry: RetryPolicy,
    /// What was retried since the engine last asked, as sentences.
    notes: std::sync::Mutex<Vec<String>>,
}

/// When and how often a request is sent again (Graph's throttling and
/// error-handling guidance): 429 always (Graph did not carry it out), after
/// `Retry-After` or a jittered exponential backoff; 500/502/503/504 and
/// dropped connections only for requests that are safe to repeat. A create
/// whose answer was lost is left to its caller, which looks for the object
/// before creating it again ([`GraphError::outcome_unknown`]).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included.
    pub attempts: u32,
    /// The first backoff without `Retry-After`; it doubles each time.
    pub base_delay: std::time::Duration,
    pub max_delay: std::time::Duration,
    /// A longer `Retry-After` is not waited out: the step stops and says so.
    pub max_retry_after: std::time::Duration,
    /// How long an object created moments ago that Graph cannot see yet
    /// is waited for, in all: Graph's replicas can lag for minutes (support
    /// article `404-not-found-error-manage-objects-microsoft-graph.md`: wait,
    /// retry, double the wait); past this the step stops and says so.
    pub settle_within: std::time::Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: std::time::Duration::from_millis(500),
            max_delay: std::time::Duration::from_secs(30),
            max_retry_after: std::time::Duration::from_secs(120),
            settle_within: std::time::Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries (tests of single answers).
    pub fn none() -> Self {
        Self {
            attempts: 1,
            settle_within: std::time::Duration::ZERO,
            ..Self::default()
        }
    }

    /// Full jitter: anywhere up to the exponential bound, so clients that
    /// failed together do not retry together.
    pub(super) fn backoff(&self, retry: u32) -> std::time::Duration {
        let bound = self
            .base_delay
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_delay);
        let random = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
        bound.mul_f64(f64::from(random.max(100)) / 1000.0)
    }
}

/// POST actions that change nothing when repeated.
const SAFE_POSTS: [&str; 5] = [
    "validateCredentials",
    "start",
    "pause",
    "restart",
    "parseExpression",
];

fn repeatable(method: &Method, url: &Url) -> bool {
    match *method {
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD => true,
        Method::POST => url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .is_some_and(|last| SAFE_POSTS.contains(&last)),
        _ => false,
    }
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// A request body: JSON to serialize, raw bytes already serialized, or none.
pub(super) enum Body<'a> {
    None,
    Json(&'a Value),
    Bytes(Vec<u8>),
}

impl GraphClient {
    /// `base` is the versioned root, e.g. `https://graph.microsoft.com/v1.0`.
    pub fn new(http: reqwest::Client, base: Url, token: Arc<dyn TokenSource>) -> Self {
        Self::with_retry(http, base, token, RetryPolicy::default())
    }

    pub fn with_retry(
        http: reqwest::Client,
        base: Url,
        token: Arc<dyn TokenSource>,
        retry: RetryPolicy,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                base,
                token,
                retry,
                notes: std::sync::Mutex::new(Vec::new()),
            }),
            settling: false,
            consent_url: None,
        }
    }

    /// The same client; a 403 names `url` as where admin consent is given
    /// (`SignInConfig::admin_consent_url`).
    #[must_use]
    pub fn with_admin_consent_url(mut self, url: &Url) -> GraphClient {
        self.consent_url = Some(Arc::from(url.as_str()));
        self
    }

    /// The same client, for calls about an object created moments ago: a
    /// 404, 403 or 409 is retried with backoff (Graph's replication delay).
    #[must_use]
    pub fn settling(&self) -> GraphClient {
        GraphClient {
            inner: self.inner.clone(),
            settling: true,
            consent_url: self.consent_url.clone(),
        }
    }

    /// The same client waiting up to `within` for new objects to appear
    /// ([`RetryPolicy::settle_within`]).
    #[must_use]
    pub fn with_settle_within(&self, within: std::time::Duration) -> GraphClient {
        let mut retry = self.inner.retry.clone();
        retry.settle_within = within;
        GraphClient {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base: self.inner.base.clone(),
                token: self.inner.token.clone(),
                retry,
                notes: std::sync::Mutex::new(Vec::new()),
            }),
            settling: self.settling,
            consent_url: self.consent_url.clone(),
        }
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The retries since the last call, as sentences for the step's detail.
    pub fn take_retry_notes(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .inner
                .notes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Where the retry notes stand now, for [`GraphClient::summarise_retries_since`].
    pub fn retry_notes_mark(&self) -> usize {
        self.inner
            .notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Replaces the retries noted since `mark` by one sentence made from
    /// their number (a long wait reads as one line, not one per retry).
    pub fn summarise_retries_since(&self, mark: usize, summary: impl FnOnce(usize) -> String) {
        let mut notes = self
            .inner
            .notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mark = mark.min(notes.len());
        let count = notes.drain(mark..).count();
        if count > 0 {
            notes.push(summary(count));
        }
    }

    fn note(&self, text: String) {
        tracing::info!("{text}");
        self.inner
            .notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(text);
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    /// The HTTP client, for a call that carries no Graph token (the
    /// sign-in side's federation metadata, `sso.rs`).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(super) fn is_settling(&self) -> bool {
        self.settling
    }

    pub(super) fn note_retry(&self, text: String) {
        self.note(text);
    }

    /// `base` + path segments, each percent-encoded as a segment.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(super) fn job_url(&self, sp_id: &str, job_id: &str, rest: &[&str]) -> Url {
        let mut segments = vec![
            "servicePrincipals",
            sp_id,
            "synchronization",
            "jobs",
            job_id,
        ];
        segments.extend_from_slice(rest);
        self.url(&segments)
    }

    /// Reads a collection, following `@odata.nextLink` until it is absent
    /// (within [`paging::Pager`]'s bounds).
    pub(super) async fn get_all<T: DeserializeOwned>(
        &self,
        first: Url,
        what: &str,
    ) -> Result<Vec<T>, GraphError> {
        let mut out = Vec::new();
        let mut pager = paging::Pager::new(&self.inner.base, &first);
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let page: Page<T> = self.json(Method::GET, url, Body::None, what).await?;
            out.extend(page.value);
            if let Some(link) = page.next_link {
                next = Some(next_page(&mut pager, &link, what)?);
            }
        }
        Ok(out)
    }

    /// The first page of a collection only.
    pub(super) async fn first_page<T: DeserializeOwned>(
        &self,
        url: Url,
        what: &str,
    ) -> Result<Vec<T>, GraphError> {
        let page: Page<T> = self.json(Method::GET, url, Body::None, what).await?;
        Ok(page.value)
    }

    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Body<'_>,
        what: &str,
    ) -> Result<T, GraphError> {
        let bytes = self.send(method, url, body, what).await?;
        serde_json::from_slice(&bytes).map_err(|e| GraphError::UnexpectedBody {
            what: what.into(),
            detail: e.to_string(),
        })
    }

    /// The one place every request goes through: retries per [`RetryPolicy`].
    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Body<'_>,
        what: &str,
    ) -> Result<Vec<u8>, GraphError> {
        let body: Option<Vec<u8>> = match body {
            Body::None => None,
            Body::Json(v) => Some(serde_json::to_vec(v).map_err(|e| encode_error(&e))?),
            Body::Bytes(b) => Some(b),
        };
        let policy = &self.inner.retry;
        let safe = repeatable(&method, &url);
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let error = match self.send_once(&method, &url, body.clone(), what).await {
                Ok(bytes) => return Ok(bytes),
                Err(e) => e,
            };
            let not_seen_yet = matches!(
                error,
                GraphError::NotFound { .. }
                    | GraphError::Forbidden { .. }
                    | GraphError::Api { status: 409, .. }
            );
            let wait = match &error {
                // Bounded by time, not attempts (see `settle_within`).
                _ if self.settling && not_seen_yet => {
                    let wait = policy.backoff(attempt - 1);
                    (started.elapsed() + wait <= policy.settle_within).then_some(wait)
                }
                _ if attempt >= policy.attempts => None,
                // A 429 was not carried out (`concepts/throttling.md`: the
                // request fails), so even a create may be sent again; a
                // 503/504 may have landed, so only a repeatable one is.
                GraphError::Throttled {
                    status,
                    retry_after,
                    ..
                } if *status == 429 || safe => match retry_after {
                    Some(s) if std::time::Duration::from_secs(*s) > policy.max_retry_after => None,
                    Some(s) => Some(std::time::Duration::from_secs(*s)),
                    None => Some(policy.backoff(attempt - 1)),
                },
                GraphError::Transport(_)
                | GraphError::Api {
                    status: 500 | 502, ..
                } if safe => Some(policy.backoff(attempt - 1)),
                _ => None,
            };
            let Some(wait) = wait else {
                return Err(error);
            };
            self.note(format!(
                "Graph: {what}: attempt {attempt} failed ({}); retried after {:.1} s.",
                short_reason(&error),
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One request; a 401 is retried once with a refreshed token, when
    /// the token source can get one (an access token expired or revoked
    /// before its announced expiry).
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Vec<u8>>,
        what: &str,
    ) -> Result<Vec<u8>, GraphError> {
        let token = self.inner.token.token().await?;
        match self
            .send_with(method, url, body.clone(), what, &token)
            .await
        {
            Err(GraphError::Unauthorized { request_id }) => {
                match self.inner.token.refresh_after_unauthorized(&token).await? {
                    Some(fresh) => self.send_with(method, url, body, what, &fresh).await,
                    None => Err(GraphError::Unauthorized { request_id }),
                }
            }
            other => other,
        }
    }

    async fn send_with(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Vec<u8>>,
        what: &str,
        token: &Secret,
    ) -> Result<Vec<u8>, GraphError> {
        let method = method.clone();
        let called = url.clone();
        let url = url.clone();
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url)
            .bearer_auth(token.expose())
            .header("client-request-id", &client_request_id)
            .header(reqwest::header::ACCEPT, "application/json");
        if advanced_query(&called) {
            request = request.header("ConsistencyLevel", "eventual");
        }
        request = match body {
            // An explicit empty body: Graph answers 411 to a POST without a length.
            None if method == Method::POST => request
                .header(reqwest::header::CONTENT_LENGTH, "0")
                .body(Vec::new()),
            None => request,
            Some(b) => json_body(request, b),
        };
        let response = request
            .send()
            .await
            .map_err(|e| GraphError::Transport(transport_detail(&e)))?;
        let status = response.status();
        let header_request_id = header(&response, "request-id");
        let retry_after = header(&response, "retry-after").and_then(|v| v.trim().parse().ok());
        let bytes =
            match crate::platform::http::read_body(response, crate::platform::http::GRAPH_BODY_CAP)
                .await
            {
                Ok(bytes) => bytes,
                Err(crate::platform::http::BodyError::Transport(e)) => {
                    return Err(GraphError::Transport(transport_detail(&e)));
                }
                Err(e @ crate::platform::http::BodyError::TooLarge { .. }) => {
                    return Err(GraphError::UnexpectedBody {
                        what: what.into(),
                        detail: format!("HTTP {}: {e}", status.as_u16()),
                    });
                }
            };
        if status.is_success() {
            return Ok(bytes);
        }
        let error = ErrorBody::parse(&bytes);
        let request_id = error.request_id.clone().or(header_request_id);
        tracing::warn!(
            %status,
            code = %error.code,
            request_id = request_id.as_deref().unwrap_or("-"),
            %client_request_id,
            "Graph request for {what} failed"
        );
        Err(
            match classify(status, error, request_id, retry_after, what) {
                GraphError::Forbidden {
                    code,
                    message,
                    request_id,
                    ..
                } => GraphError::Forbidden {
                    code,
                    message,
                    request_id,
                    needs: self.needed_for(&method, &called),
                    consent_url: self.consent_url.as_deref().map(str::to_string),
                },
                other => other,
            },
        )
    }

    /// "Permission (for METHOD /path)" from the permissions table.
    fn needed_for(&self, method: &Method, url: &Url) -> Option<String> {
        let base = self.inner.base.path().trim_end_matches('/');
        let rest = url.path().strip_prefix(base)?;
        let rule = permissions::rule_for(method.as_str(), rest)?;
        Some(format!(
            "{} (for {} {})",
            rule.least(),
            rule.method,
            rule.path.replace("{}", "{id}")
        ))
    }
}

/// The next page `pager` allows, or the error that says why not.
pub(super) fn next_page(
    pager: &mut paging::Pager,
    link: &str,
    what: &str,
) -> Result<Url, GraphError> {
    pager.next(link).map_err(|e| GraphError::UnexpectedBody {
        what: what.into(),
        detail: e.to_string(),
    })
}

/// `$count` and `$search` are advanced queries: Graph wants
/// `ConsistencyLevel: eventual` with them (`aad-advanced-queries.md`), on
/// every page (next links keep the query).
fn advanced_query(url: &Url) -> bool {
    url.query_pairs()
        .any(|(k, v)| (k == "$count" && v.eq_ignore_ascii_case("true")) || k == "$search")
}

fn json_body(request: reqwest::RequestBuilder, bytes: Vec<u8>) -> reqwest::RequestBuilder {
    request
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(bytes)
}

pub(super) fn to_bytes<T: Serialize>(body: &T) -> Result<Body<'static>, GraphError> {
    serde_json::to_vec(body)
        .map(Body::Bytes)
        .map_err(|e| encode_error(&e))
}

pub(super) fn job_what(job_id: &str) -> String {
    format!("the provisioning job {job_id}")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// One page of a Graph collection.
#[derive(serde::Deserialize)]
pub(super) struct Page<T> {
    pub(super) value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub(super) next_link: Option<String>,
}

/// `text` as an `OData` string literal: quoted, a quote escaped by doubling it.
pub(super) fn odata_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Percent-encodes a query value; spaces become `%20` (Graph does not read
/// `+` as a space), parentheses and commas stay readable in logs.
pub(super) fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'('
            | b')'
            | b',' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded_for_odata() {
        assert_eq!(
            encode_query_value("startswith(displayName,'O''Brien & Co')"),
            "startswith(displayName,%27O%27%27Brien%20%26%20Co%27)"
        );
        assert_eq!(encode_query_value("a+b#é"), "a%2Bb%23%C3%A9");
    }

    #[test]
    fn urls_keep_the_base_path_and_encode_segments() {
        let graph = GraphClient::new(
            crate::platform::http::loopback_client(),
            "https://graph.microsoft.com/v1.0".parse().unwrap(),
            Arc::new(StaticToken(Secret::new("t"))),
        );
        let url = graph.job_url("sp/1", "scim.a.b", &["schema"]);
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/v1.0/servicePrincipals/sp%2F1/synchronization/jobs/scim.a.b/schema"
        );
        let mut pager = paging::Pager::new(&graph.inner.base, &url);
        assert!(next_page(&mut pager, "https://evil.example/v1.0/x", "x").is_err());
        assert!(
            next_page(
                &mut pager,
                "https://graph.microsoft.com/v1.0/x?$skiptoken=1",
                "x"
            )
            .is_ok()
        );
    }

    #[test]
    fn a_create_is_not_repeatable_and_an_action_that_changes_nothing_is() {
        let url = |p: &str| Url::parse(&format!("https://graph.microsoft.com/v1.0/{p}")).unwrap();
        for create in [
            "applicationTemplates/t/instantiate",
            "servicePrincipals/s/synchronization/jobs",
            "servicePrincipals/s/appRoleAssignedTo",
            "servicePrincipals/s/synchronization/jobs/j/provisionOnDemand",
        ] {
            assert!(!repeatable(&Method::POST, &url(create)), "{create}");
        }
        assert!(repeatable(
            &Method::POST,
            &url("servicePrincipals/s/synchronization/jobs/j/start")
        ));
        assert!(repeatable(
            &Method::PUT,
            &url("servicePrincipals/s/synchronization/secrets")
        ));
    }
}
