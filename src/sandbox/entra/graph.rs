//! The sandbox's Microsoft Graph v1.0 listener: bearer check, error envelope, query handling shared by the list endpoints.
//!
//! Every response carries `request-id` and `client-request-id` (echoed), and
//! every error the documented body
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use url::Url;

use super::odata::{Query, QueryError, project};
use crate::sandbox::Shared;

pub(crate) type AppState = Arc<Shared>;

/// A Graph error before the envelope adds `innerError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A directory object that does not exist.
    pub fn no_object(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// The body could not be read as JSON.
    pub fn unreadable(detail: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "BadRequest",
            format!(
                "Unable to read JSON request payload ({detail}). Please ensure Content-Type header is set and payload is of valid JSON format."
            ),
        )
    }
}

impl From<QueryError> for GraphError {
    fn from(e: QueryError) -> Self {
        Self::bad_request(e.code, e.message)
    }
}

/// Carried in the response so the envelope can add `innerError`.
#[derive(Debug, Clone)]
struct ErrorMarker {
    code: &'static str,
    message: String,
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let marker = ErrorMarker {
            code: self.code,
            message: self.message,
        };
        let mut response = self.status.into_response();
        response.extensions_mut().insert(marker);
        response
    }
}

pub(crate) type GraphResult = Result<Response, GraphError>;

/// A JSON response as Graph sends it.
pub fn ok_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"),
    );
    response
}

/// Parses a request body as a JSON object.
pub fn json_object(body: &Bytes) -> Result<serde_json::Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(GraphError::unreadable("the body is not a JSON object")),
        Err(e) => Err(GraphError::unreadable(e)),
    }
}

/// The Graph listener: `/v1.0/…`, everything behind the envelope.
pub(crate) fn router(shared: AppState) -> Router {
    // Full paths rather than `nest`: handlers need the whole URI for next links.
    Router::new()
        .merge(super::app::routes("/v1.0"))
        .merge(super::credentials::routes("/v1.0"))
        .merge(super::mappings::routes("/v1.0"))
        .merge(super::scope::routes("/v1.0"))
        .merge(super::sso::routes("/v1.0"))
        .merge(super::start::routes("/v1.0"))
        .fallback(unknown_segment)
        .method_not_allowed_fallback(|| async {
            GraphError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request_BadRequest",
                "The HTTP method is not allowed on this resource.",
            )
        })
        // Inside the envelope: an injected failure gets Graph's error body.
        .layer(middleware::from_fn_with_state(
            shared.faults.clone(),
            crate::sandbox::faults::graph_layer,
        ))
        .layer(middleware::from_fn_with_state(shared.clone(), envelope))
        .layer(middleware::from_fn_with_state(
            (
                shared.requests.clone(),
                crate::sandbox::traffic::Server::Graph,
            ),
            crate::sandbox::traffic::record,
        ))
        .with_state(shared)
}

async fn unknown_segment(uri: Uri) -> GraphError {
    let segment = uri.path().rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    GraphError::bad_request(
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
}

/// Bearer check, request ids, error bodies, and a state save after every
/// successful change.
async fn envelope(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let mutating = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let authorized = authorize(&shared, request.headers())
        .and_then(|granted| permitted(request.method(), request.uri().path(), &granted));
    let allowed = authorized.is_ok();
    let mut response = match authorized {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    };
    if let Some(marker) = response.extensions_mut().remove::<ErrorMarker>() {
        let body = json!({
            "error": {
                "code": marker.code,
                "message": marker.message,
                "innerError": {
                    "date": crate::platform::timefmt::now_rfc3339(),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let (parts, _) = response.into_parts();
        let mut rebuilt = ok_json(parts.status, &body);
        for (name, value) in &parts.headers {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rebuilt.headers_mut().insert(name.clone(), value.clone());
            }
        }
        response = rebuilt;
    }
    let unauthorized = response.status() == StatusCode::UNAUTHORIZED;
    let success = response.status().is_success();
    let headers = response.headers_mut();
    for (name, value) in [
        ("request-id", &request_id),
        ("client-request-id", &client_request_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    if unauthorized {
        let challenge = format!(
            "Bearer realm=\"\", authorization_uri=\"{}\", client_id=\"00000003-0000-0000-c000-000000000000\"",
            shared.login_url
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            headers.insert(header::WWW_AUTHENTICATE, v);
        }
    }
    if allowed && mutating && success {
        shared.persist().await;
    }
    response
}

/// The bearer's delegated permissions, or Graph's 401.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<Vec<String>, GraphError> {
    let unauthorized =
        |m: &str| GraphError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", m);
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(unauthorized("Access token is empty.")),
    };
    if token.is_empty() {
        return Err(unauthorized("Access token is empty."));
    }
    if token == shared.graph_token.expose() {
        return Ok(shared.login.graph_token_scopes());
    }
    match shared.login.check_access(token) {
        crate::sandbox::login::AccessCheck::Valid(granted) => Ok(granted),
        crate::sandbox::login::AccessCheck::Expired => Err(unauthorized(
            "Lifetime validation failed, the token is expired.",
        )),
        crate::sandbox::login::AccessCheck::Unknown => Err(unauthorized(
            "Access token validation failure. Invalid audience or signature.",
        )),
    }
}

/// Each page's permissions table ([`crate::services::graph::permissions`]): a token
/// with none of the accepted sets gets Graph's 403 (status from
/// `concepts/errors.md`; the code `Authorization_RequestDenied` and its
/// message are assumed: no reference page prints them). Paths outside
/// the table fall through to the router's own answer.
fn permitted(method: &Method, path: &str, granted: &[String]) -> Result<(), GraphError> {
    let Some(rest) = path.strip_prefix("/v1.0") else {
        return Ok(());
    };
    match crate::services::graph::permissions::rule_for(method.as_str(), rest) {
        Some(rule) if !rule.allows(granted) => Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )),
        _ => Ok(()),
    }
}

/// The absolute URL of this request, for `@odata.nextLink`.
pub(crate) fn self_url(shared: &Shared, uri: &Uri) -> Url {
    let mut url = shared.graph_url.clone();
    url.set_path(uri.path());
    url.set_query(uri.query());
    url
}

/// `$search` and `$count` are advanced queries: Graph wants `ConsistencyLevel: eventual`.
pub fn check_advanced(q: &Query, headers: &HeaderMap) -> Result<(), GraphError> {
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    if q.search.is_some() && !eventual {
        return Err(GraphError::bad_request(
            "Request_UnsupportedQuery",
            "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        ));
    }
    if q.count && !eventual {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "$count is not currently supported without the request header 'ConsistencyLevel: eventual'.",
        ));
    }
    Ok(())
}

/// A list answer: filter, search, page, project.
pub(crate) fn list(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    items: Vec<Value>,
    spec: &ListSpec,
) -> GraphResult {
    let q = Query::parse(uri.query())?;
    check_advanced(&q, headers)?;
    q.check_select(spec.properties, spec.type_name)?;
    let mut kept = Vec::new();
    for item in items {
        if q.matches(&item, spec.filterable)? {
            kept.push(item);
        }
    }
    let context = format!("{}/$metadata#{}", shared.graph_url, spec.context);
    let page = q.page(&kept, spec.default_select, &context, &self_url(shared, uri));
    Ok(ok_json(StatusCode::OK, &page))
}

/// One object, projected with `$select`.
pub(crate) fn one(uri: &Uri, item: &Value, spec: &ListSpec) -> GraphResult {
    let q = Query::parse(uri.query())?;
    q.check_select(spec.properties, spec.type_name)?;
    let select: Vec<&str> = match &q.select {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => spec.default_select.to_vec(),
    };
    Ok(ok_json(StatusCode::OK, &project(item, &select)))
}

/// How a resource type answers list and get requests.
pub(crate) struct ListSpec {
    pub type_name: &'static str,
    pub context: &'static str,
    pub properties: &'static [&'static str],
    pub filterable: &'static [&'static str],
    pub default_select: &'static [&'static str],
}
