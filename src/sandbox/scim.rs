//! A SCIM 2.0 service provider (RFC 7643/7644) that tolerates Entra's documented quirks, storing into the sandbox workspace.
//!
//! Entra's quirks accepted here (Entra docs `use-scim-to-provision-users-and-groups.md`
//! and `application-provisioning-config-problem-scim-compatibility.md`):
//! capitalised `op` values (`Replace`, `Add`, `Remove`), `"True"`/`"False"`
//! strings for `active`, operations without `path` whose object value holds
//! dotted or URN paths, value-filter paths (`emails[type eq "work"].value`),
//! group member removal by value list, and case-insensitive `userName`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use url::Url;

use super::scim_index::Key as IndexKey;

use super::orchidea::{OnChange, SharedWorkspace, Workspace};
use crate::platform::secret::Secret;

use super::scim_schema;
pub use super::scim_schema::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const SCIM_JSON: &str = "application/scim+json";
/// Page size when the client asks for none, and the most a page holds.
const MAX_RESULTS: usize = 200;

/// What the SCIM handlers share.
#[derive(Clone)]
pub struct ScimState {
    pub ws: SharedWorkspace,
    /// The SCIM base as clients see it (`…/scim/v2`), for `meta.location`.
    pub base_url: Url,
    pub on_change: OnChange,
}

/// The SCIM endpoints, relative to the SCIM base: nest it at `/scim/v2`.
/// Every request needs `Authorization: Bearer <SCIM secret>`.
pub fn router(state: ScimState) -> Router {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route(
            "/Users",
            get(|s, q| list(s, Kind::User, q)).post(|s, b| create(s, Kind::User, b)),
        )
        .route(
            "/Users/{id}",
            get(|s, p, q| get_one(s, Kind::User, p, q))
                .put(|s, p, b| replace(s, Kind::User, p, b))
                .patch(|s, p, b| patch(s, Kind::User, p, b))
                .delete(|s, p| remove(s, Kind::User, p)),
        )
        .route(
            "/Groups",
            get(|s, q| list(s, Kind::Group, q)).post(|s, b| create(s, Kind::Group, b)),
        )
        .route(
            "/Users/.search",
            post(|s, b| search(s, Some(Kind::User), b)),
        )
        .route(
            "/Groups/.search",
            post(|s, b| search(s, Some(Kind::Group), b)),
        )
        .route("/.search", post(|s, b| search(s, None, b)))
        .route(
            "/Groups/{id}",
            get(|s, p, q| get_one(s, Kind::Group, p, q))
                .put(|s, p, b| replace(s, Kind::Group, p, b))
                .patch(|s, p, b| patch(s, Kind::Group, p, b))
                .delete(|s, p| remove(s, Kind::Group, p)),
        )
        .fallback(|| async { scim_error(StatusCode::NOT_FOUND, None, "No such SCIM endpoint.") })
        // RFC 7644 §3.12: errors other than 401/403/404 SHOULD be SCIM errors.
        .method_not_allowed_fallback(|| async {
            scim_error(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                "This SCIM endpoint does not accept that method.",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), groups_switch))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

/// A SCIM server on its own, on `127.0.0.1:0`, accepting exactly one secret.
/// It stops when dropped.
pub struct StandaloneScim {
    /// The SCIM base, `http://127.0.0.1:<port>/scim/v2`.
    pub url: Url,
    pub workspace: SharedWorkspace,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl StandaloneScim {
    /// The users as stored.
    pub async fn users(&self) -> Vec<Value> {
        self.workspace.lock().await.users.clone()
    }

    pub async fn groups(&self) -> Vec<Value> {
        self.workspace.lock().await.groups.clone()
    }

    /// Stops serving and waits until the listener is closed.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for StandaloneScim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

/// Starts a standalone SCIM server that accepts `token` as its bearer.
pub async fn serve_standalone(token: Secret) -> std::io::Result<StandaloneScim> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let url: Url = format!("http://127.0.0.1:{port}/scim/v2")
        .parse()
        .map_err(std::io::Error::other)?;
    let mut ws = Workspace::new_default(&Secret::generate(40));
    let idp = ws.default_idp().map(|i| i.id.clone()).unwrap_or_default();
    ws.add_known_secret(&token, &idp);
    let workspace = ws.into_shared();
    let app = Router::new().nest(
        "/scim/v2",
        router(ScimState {
            ws: workspace.clone(),
            base_url: url.clone(),
            on_change: Arc::new(|| {}),
        }),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(StandaloneScim {
        url,
        workspace,
        shutdown: Some(tx),
        task,
    })
}

/// A workspace that serves no groups (`Workspace::scim_groups` false)
/// answers `/Groups` as any unknown endpoint: 404.
async fn groups_switch(State(state): State<ScimState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_groups = path.ends_with("/Groups") || path.contains("/Groups/");
    if is_groups && !state.ws.lock().await.scim_groups {
        return scim_error(StatusCode::NOT_FOUND, None, "No such SCIM endpoint.");
    }
    next.run(request).await
}

async fn authenticate(State(state): State<ScimState>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    let ok = match &token {
        Some(t) => state.ws.lock().await.accepts_scim_token(t),
        None => false,
    };
    if ok {
        return next.run(request).await;
    }
    let mut response = scim_error(
        StatusCode::UNAUTHORIZED,
        None,
        if token.is_none() {
            "Authorization: Bearer <SCIM secret> is required."
        } else {
            "The SCIM secret is wrong or revoked."
        },
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"orchidea-scim\""),
    );
    response
}

fn scim_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    response
}

/// `{"schemas":[Error],"status":"400","scimType":…,"detail":…}` (RFC 7644 §3.12).
fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.as_u16().to_string(),
    });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    body["detail"] = json!(detail);
    scim_json(status, body)
}

/// A rejected request: status, `scimType`, detail.
#[derive(Debug)]
struct ScimError(StatusCode, Option<&'static str>, String);

impl ScimError {
    fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, Some(scim_type), detail.into())
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        scim_error(self.0, self.1, &self.2)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    fn schema(self) -> &'static str {
        match self {
            Kind::User => USER_SCHEMA,
            Kind::Group => GROUP_SCHEMA,
        }
    }

    /// The core schema, then the extensions `/ResourceTypes` names.
    fn schemas(self) -> &'static [&'static str] {
        match self {
            Kind::User => &[USER_SCHEMA, ENTERPRISE_SCHEMA],
            Kind::Group => &[GROUP_SCHEMA],
        }
    }

    /// The attribute Entra matches on and that must be unique, case-insensitively.
    fn unique(self) -> &'static str {
        match self {
            Kind::User => "userName",
            Kind::Group => "displayName",
        }
    }

    fn store(self, ws: &mut Workspace) -> &mut Vec<Value> {
        match self {
            Kind::User => &mut ws.users,
            Kind::Group => &mut ws.groups,
        }
    }
}

/// Where the resource `id` is in its store (users through the index).
fn position(ws: &mut Workspace, kind: Kind, id: &str) -> Option<usize> {
    match kind {
        Kind::User => ws
            .scim_index
            .lookup(&ws.users, IndexKey::Id, id)
            .into_iter()
            .next(),
        Kind::Group => ws.groups.iter().position(|r| r["id"] == id),
    }
}

/// Query parameters by case-insensitive name.
fn param(query: &Option<String>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_deref()?.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

async fn list(State(state): State<ScimState>, kind: Kind, RawQuery(query): RawQuery) -> Response {
    list_in(&state, &[kind], &query).await
}

/// A query over the stores of `kinds` (one endpoint, or the root search).
async fn list_in(state: &ScimState, kinds: &[Kind], query: &Option<String>) -> Response {
    let query = query.clone();
    let filter = match param(&query, "filter").filter(|f| !f.trim().is_empty()) {
        Some(text) => match Filter::parse(&text) {
            Ok(f) => Some(f),
            Err(e) => return ScimError::bad("invalidFilter", e).into_response(),
        },
        None => None,
    };
    let start = param(&query, "startIndex")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .max(1) as usize;
    let count = param(&query, "count")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(MAX_RESULTS, |c| c.clamp(0, MAX_RESULTS as i64) as usize);
    let projection = Projection::from_query(&query);
    let mut guard = state.ws.lock().await;
    let ws = &mut *guard;
    let indexed = match (kinds, &filter) {
        ([Kind::User], Some(f)) => f.indexed_lookup(),
        _ => None,
    };
    let matched: Vec<&Value> = match indexed {
        // `userName eq "x"` and the like: the index, not a scan.
        Some((key, value)) => ws
            .scim_index
            .lookup(&ws.users, key, &value)
            .into_iter()
            .filter_map(|i| ws.users.get(i))
            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect(),
        None => kinds
            .iter()
            .flat_map(|k| match k {
                Kind::User => ws.users.iter(),
                Kind::Group => ws.groups.iter(),
            })
            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect(),
    };
    let total = matched.len();
    let page: Vec<Value> = matched
        .into_iter()
        .skip(start - 1)
        .take(count)
        .map(|r| projection.apply(r))
        .collect();
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "itemsPerPage": page.len(),
            "startIndex": start,
            "Resources": page,
        }),
    )
}

/// `POST …/.search` (RFC 7644 §3.4.3): a `SearchRequest` body, answered as
/// the same query's GET; at the root (`kind` `None`) over users and groups.
async fn search(State(state): State<ScimState>, kind: Option<Kind>, body: Bytes) -> Response {
    let request = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let declared = get_ci(&request, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .any(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST))
        });
    if !declared {
        return ScimError::bad(
            "invalidValue",
            format!("A search body is a SearchRequest ({SEARCH_REQUEST})."),
        )
        .into_response();
    }
    let query = Some(search_query(&request));
    if let Some(kind) = kind {
        list_in(&state, &[kind], &query).await
    } else {
        // A workspace that serves no groups searches users only.
        let kinds: &[Kind] = if state.ws.lock().await.scim_groups {
            &[Kind::User, Kind::Group]
        } else {
            &[Kind::User]
        };
        list_in(&state, kinds, &query).await
    }
}

/// A `SearchRequest`'s parameters as the GET query string.
fn search_query(request: &Map<String, Value>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for name in [
        "filter",
        "startIndex",
        "count",
        "attributes",
        "excludedAttributes",
    ] {
        match get_ci(request, name) {
            Some(Value::String(v)) => {
                query.append_pair(name, v);
            }
            Some(Value::Number(n)) => {
                query.append_pair(name, &n.to_string());
            }
            Some(Value::Array(items)) => {
                let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                query.append_pair(name, &joined.join(","));
            }
            _ => {}
        }
    }
    query.finish()
}

async fn get_one(
    State(state): State<ScimState>,
    kind: Kind,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut ws = state.ws.lock().await;
    match kind.store(&mut ws).iter().find(|r| r["id"] == id.as_str()) {
        Some(r) => scim_json(StatusCode::OK, Projection::from_query(&query).apply(r)),
        None => not_found(kind, &id).into_response(),
    }
}

fn not_found(kind: Kind, id: &str) -> ScimError {
    ScimError(
        StatusCode::NOT_FOUND,
        None,
        format!("{} {id} not found.", kind.name()),
    )
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ScimError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ScimError::bad(
            "invalidSyntax",
            "The body must be a JSON object.",
        )),
        Err(e) => Err(ScimError::bad(
            "invalidSyntax",
            format!("The body is not valid JSON: {e}."),
        )),
    }
}

/// Checks the unique attribute and coerces Entra's string booleans.
fn validate(
    kind: Kind,
    resource: &mut Map<String, Value>,
    ws: &mut Workspace,
    own_id: Option<&str>,
) -> Result<(), ScimError> {
    if kind == Kind::User {
        coerce_active(resource);
    }
    let key = kind.unique();
    let value = get_ci(resource, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ScimError::bad("invalidValue", format!("{key} is required.")))?
        .to_string();
    let clash = |o: &Value| {
        o["id"].as_str() != own_id
            && o.as_object()
                .and_then(|m| get_ci(m, key))
                .and_then(Value::as_str)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case(&value))
    };
    let taken = match kind {
        Kind::User => ws
            .scim_index
            .lookup(&ws.users, IndexKey::UserName, &value)
            .into_iter()
            .filter_map(|i| ws.users.get(i))
            .any(clash),
        Kind::Group => ws.groups.iter().any(clash),
    };
    if taken {
        return Err(ScimError(
            StatusCode::CONFLICT,
            Some("uniqueness"),
            format!(
                "A {} with {key} \"{value}\" already exists.",
                kind.name().to_lowercase()
            ),
        ));
    }
    Ok(())
}

/// Orders a stored resource as SCIM examples do: schemas, id, …, meta.
fn assemble(
    kind: Kind,
    state: &ScimState,
    id: &str,
    input: Map<String, Value>,
    created: &str,
) -> Result<Value, ScimError> {
    let now = crate::platform::timefmt::now_rfc3339();
    let mut out = Map::new();
    out.insert("schemas".into(), json!([kind.schema()]));
    out.insert("id".into(), json!(id));
    for (k, v) in input {
        if !["schemas", "id", "meta"]
            .iter()
            .any(|r| k.eq_ignore_ascii_case(r))
        {
            out.insert(k, v);
        }
    }
    if kind == Kind::Group && get_ci(&out, "members").is_none() {
        out.insert("members".into(), json!([]));
    }
    normalise_schemas(kind, &mut out)?;
    out.insert(
        "meta".into(),
        json!({
            "resourceType": kind.name(),
            "created": created,
            "lastModified": now,
            "location": location(state, kind, id),
        }),
    );
    Ok(Value::Object(out))
}

/// A resource body's `schemas` (RFC 7643 §3, REQUIRED): it must name the
/// endpoint's core schema, and attributes under a schema the endpoint does
/// not serve are refused. A URN that carries no attributes is tolerated:
/// Entra's documented create-group request (use-scim-to-provision-users-
/// and-groups.md, "Create Group") names
/// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`
/// beside the core schema, and Orchidea must take what Entra sends.
fn check_declared_schemas(kind: Kind, input: &Map<String, Value>) -> Result<(), ScimError> {
    let Some(Value::Array(declared)) = get_ci(input, "schemas") else {
        return Err(ScimError::bad(
            "invalidValue",
            format!("schemas is required and must list {}.", kind.schema()),
        ));
    };
    let urns: Vec<&str> = declared.iter().filter_map(Value::as_str).collect();
    if urns.len() != declared.len() || !urns.iter().any(|u| u.eq_ignore_ascii_case(kind.schema())) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("schemas must list {}.", kind.schema()),
        ));
    }
    if let Some(other) = urns.iter().find(|u| {
        !kind.schemas().iter().any(|k| u.eq_ignore_ascii_case(k)) && get_ci(input, u).is_some()
    }) {
        return Err(ScimError::bad(
            "invalidValue",
            format!(
                "/{} does not serve the schema {other} (see /ResourceTypes/{}).",
                kind.endpoint(),
                kind.name()
            ),
        ));
    }
    Ok(())
}

/// `schemas` as stored and returned: the core schema and every extension
/// whose attributes the resource carries (RFC 7643 §3); an extension left
/// empty (all its attributes removed) goes, and its URN with it.
fn normalise_schemas(kind: Kind, resource: &mut Map<String, Value>) -> Result<(), ScimError> {
    if let Some(other) = resource.keys().find(|k| {
        k.len() > 4
            && k[..4].eq_ignore_ascii_case("urn:")
            && !kind.schemas()[1..]
                .iter()
                .any(|u| k.eq_ignore_ascii_case(u))
    }) {
        return Err(ScimError::bad(
            "invalidValue",
            format!("/{} serves no extension {other}.", kind.endpoint()),
        ));
    }
    // RFC 7643 §2.5: null is unassigned; Entra sends `"title": null`.
    resource.retain(|_, v| !v.is_null());
    let mut schemas = vec![json!(kind.schema())];
    for urn in kind.schemas().iter().skip(1) {
        let key = key_ci(resource, urn);
        if let Some(Value::Object(attrs)) = resource.get_mut(&key) {
            // A client may send the extension's own `schemas` inside it.
            let inner = key_ci(attrs, "schemas");
            attrs.remove(&inner);
            attrs.retain(|_, v| !v.is_null());
        }
        match resource.get(&key) {
            Some(Value::Object(attrs)) if !attrs.is_empty() => schemas.push(json!(urn)),
            Some(_) => {
                resource.remove(&key);
            }
            None => {}
        }
    }
    let key = key_ci(resource, "schemas");
    if key != "schemas" {
        resource.remove(&key);
    }
    // In place: a preserved key order keeps `schemas` first.
    resource.insert("schemas".into(), Value::Array(schemas));
    Ok(())
}

fn location(state: &ScimState, kind: Kind, id: &str) -> String {
    let mut url = state.base_url.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend([kind.endpoint(), id]);
    }
    url.to_string()
}

async fn create(
    State(state): State<ScimState>,
    kind: Kind,
    body: Bytes,
) -> Result<Response, ScimError> {
    let mut input = parse_body(&body)?;
    check_declared_schemas(kind, &input)?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let resource = {
        let mut ws = state.ws.lock().await;
        validate(kind, &mut input, &mut ws, None)?;
        let resource = assemble(
            kind,
            &state,
            &id,
            input,
            &crate::platform::timefmt::now_rfc3339(),
        )?;
        let store = kind.store(&mut ws);
        store.push(resource.clone());
        let at = store.len() - 1;
        if kind == Kind::User {
            ws.scim_index.added(at, &resource);
        }
        resource
    };
    (state.on_change)();
    let mut response = scim_json(StatusCode::CREATED, resource);
    if let Ok(v) = HeaderValue::from_str(&location(&state, kind, &id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn replace(
    State(state): State<ScimState>,
    kind: Kind,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let mut input = parse_body(&body)?;
    check_declared_schemas(kind, &input)?;
    let resource = {
        let mut ws = state.ws.lock().await;
        let index = position(&mut ws, kind, &id).ok_or_else(|| not_found(kind, &id))?;
        validate(kind, &mut input, &mut ws, Some(&id))?;
        let store = kind.store(&mut ws);
        let created = store[index]["meta"]["created"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let resource = assemble(kind, &state, &id, input, &created)?;
        let old = std::mem::replace(&mut store[index], resource.clone());
        if kind == Kind::User {
            ws.scim_index.changed(index, &old, &resource);
        }
        resource
    };
    (state.on_change)();
    Ok(scim_json(StatusCode::OK, resource))
}

async fn patch(
    State(state): State<ScimState>,
    kind: Kind,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ScimError> {
    let request = parse_body(&body)?;
    let declared = get_ci(&request, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .any(|u| u.eq_ignore_ascii_case(PATCH_OP))
        });
    if !declared {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("A PATCH body is a PatchOp: schemas must list {PATCH_OP}."),
        ));
    }
    let ops = get_ci(&request, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ScimError::bad(
                "invalidSyntax",
                format!("A PatchOp ({PATCH_OP}) needs an Operations array."),
            )
        })?
        .clone();
    let resource = {
        let mut ws = state.ws.lock().await;
        let index = position(&mut ws, kind, &id).ok_or_else(|| not_found(kind, &id))?;
        let Value::Object(mut edited) = kind.store(&mut ws)[index].clone() else {
            return Err(not_found(kind, &id));
        };
        for op in &ops {
            apply_operation(&mut edited, op)?;
        }
        validate(kind, &mut edited, &mut ws, Some(&id))?;
        let store = kind.store(&mut ws);
        // id and meta are the server's, whatever the operations said.
        edited.insert("id".into(), json!(id));
        let mut meta = store[index]["meta"].clone();
        meta["lastModified"] = json!(crate::platform::timefmt::now_rfc3339());
        edited.insert("meta".into(), meta);
        normalise_schemas(kind, &mut edited)?;
        let resource = Value::Object(edited);
        let old = std::mem::replace(&mut store[index], resource.clone());
        if kind == Kind::User {
            ws.scim_index.changed(index, &old, &resource);
        }
        resource
    };
    (state.on_change)();
    Ok(match kind {
        Kind::User => scim_json(StatusCode::OK, resource),
        // Entra expects 204 for group PATCH (a member list can be huge).
        Kind::Group => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn remove(
    State(state): State<ScimState>,
    kind: Kind,
    Path(id): Path<String>,
) -> Result<Response, ScimError> {
    {
        let mut ws = state.ws.lock().await;
        let store = kind.store(&mut ws);
        let before = store.len();
        store.retain(|r| r["id"] != id.as_str());
        if store.len() == before {
            return Err(not_found(kind, &id));
        }
        if kind == Kind::User {
            ws.scim_index.invalidate();
        }
        if kind == Kind::User {
            for group in &mut ws.groups {
                if let Some(Value::Array(members)) = group.get_mut("members") {
                    members.retain(|m| m["value"] != id.as_str());
                }
            }
        }
    }
    (state.on_change)();
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------- PATCH

/// `name`, `name.givenName`, `emails[type eq "work"].value`,
/// `urn:…:enterprise:2.0:User:employeeNumber`.
#[derive(Debug, Clone, PartialEq)]
struct AttrPath {
    /// The extension schema URN the attribute lives under, if any.
    ext: Option<String>,
    attr: String,
    filter: Option<Box<Filter>>,
    sub: Option<String>,
}

impl AttrPath {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (ext, rest) = split_urn(text);
        if let Some(open) = rest.find('[') {
            let close = rest
                .rfind(']')
                .ok_or_else(|| format!("\"{text}\" has no closing ]."))?;
            let attr = rest[..open].trim().to_string();
            let filter = Filter::parse(&rest[open + 1..close])?;
            let after = rest[close + 1..].trim();
            let sub = match after.strip_prefix('.') {
                Some(s) if !s.is_empty() => Some(s.to_string()),
                None if after.is_empty() => None,
                _ => return Err(format!("Unexpected \"{after}\" after ] in \"{text}\".")),
            };
            check_name(&attr, text)?;
            return Ok(Self {
                ext,
                attr,
                filter: Some(Box::new(filter)),
                sub,
            });
        }
        let (attr, sub) = split_sub(rest);
        check_name(&attr, text)?;
        Ok(Self {
            ext,
            attr,
            filter: None,
            sub,
        })
    }
}

/// `name.givenName` → (`name`, `givenName`); a whole schema URN (which has
/// dots in `2.0`) stays one name.
fn split_sub(rest: &str) -> (String, Option<String>) {
    if scim_schema::is_known(rest) {
        return (rest.to_string(), None);
    }
    match rest.split_once('.') {
        Some((a, s)) => (a.to_string(), Some(s.to_string())),
        None => (rest.to_string(), None),
    }
}

fn check_name(attr: &str, text: &str) -> Result<(), String> {
    let ok = scim_schema::is_known(attr)
        || !attr.is_empty()
            && attr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if ok {
        Ok(())
    } else {
        Err(format!("\"{text}\" is not an attribute path."))
    }
}

/// `urn:…:User:employeeNumber` → (`urn:…:User`, `employeeNumber`). The URN
/// contains dots (`2.0`), so split at the last colon before anything else.
/// A whole schema URN (RFC 7644 §3.10: a path may name the extension
/// itself) stays a top-level name: (`None`, `urn:…:enterprise:2.0:User`).
fn split_urn(text: &str) -> (Option<String>, &str) {
    if text.len() > 4 && text[..4].eq_ignore_ascii_case("urn:") {
        let limit = text.find('[').unwrap_or(text.len());
        if scim_schema::is_known(&text[..limit]) {
            return (None, text);
        }
        if let Some(i) = text[..limit].rfind(':') {
            return (Some(text[..i].to_string()), &text[i + 1..]);
        }
    }
    (None, text)
}

fn apply_operation(resource: &mut Map<String, Value>, op: &Value) -> Result<(), ScimError> {
    let name = op
        .as_object()
        .and_then(|o| get_ci(o, "op"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = op
        .as_object()
        .and_then(|o| get_ci(o, "path"))
        .and_then(Value::as_str);
    let value = op.as_object().and_then(|o| get_ci(o, "value")).cloned();
    let parse = |text: &str| -> Result<AttrPath, ScimError> {
        let path = AttrPath::parse(text).map_err(|e| ScimError::bad("invalidPath", e))?;
        check_writable(&path)?;
        Ok(path)
    };
    match (name.as_str(), path) {
        ("add" | "replace", Some(path)) => {
            let path = parse(path)?;
            let value = value
                .ok_or_else(|| ScimError::bad("invalidValue", "add/replace needs a value."))?;
            set_path(resource, &path, value, name == "add")
        }
        ("add" | "replace", None) => {
            let Some(Value::Object(values)) = value else {
                return Err(ScimError::bad(
                    "invalidValue",
                    "Without a path, the value must be an object.",
                ));
            };
            for (key, v) in values {
                match v {
                    // {"urn:…:User": {"employeeNumber": …}}: merge into the extension.
                    Value::Object(inner) if is_schema_urn(&key) => {
                        let target = object_entry(resource, &key);
                        for (k, iv) in inner {
                            let k = key_ci(target, &k);
                            target.insert(k, iv);
                        }
                    }
                    v => {
                        let path = parse(&key)?;
                        set_path(resource, &path, v, name == "add")?;
                    }
                }
            }
            Ok(())
        }
        ("remove", Some(path)) => {
            let path = parse(path)?;
            remove_path(resource, &path, value.as_ref())
        }
        ("remove", None) => Err(ScimError::bad("noTarget", "remove needs a path.")),
        (other, _) => Err(ScimError::bad(
            "invalidSyntax",
            format!("Unknown PATCH op \"{other}\"; use add, replace or remove."),
        )),
    }
}

/// RFC 7644 §3.5.2: an operation must suit the attribute's mutability
/// (`id`, `meta` and readOnly sub-attributes are the server's: 400
/// mutability), and a path into an extension the server does not serve
/// targets nothing (400 invalidPath).
fn check_writable(path: &AttrPath) -> Result<(), ScimError> {
    let common = path.ext.is_none()
        && ["id", "meta", "schemas"]
            .iter()
            .any(|a| path.attr.eq_ignore_ascii_case(a));
    if common
        || scim_schema::mutability(path.ext.as_deref(), &path.attr, path.sub.as_deref())
            == Some("readOnly")
    {
        return Err(ScimError::bad(
            "mutability",
            format!("{} is read-only.", path_text(path)),
        ));
    }
    if let Some(urn) = &path.ext
        && !scim_schema::is_known(urn)
    {
        return Err(ScimError::bad(
            "invalidPath",
            format!("The server serves no schema {urn}."),
        ));
    }
    Ok(())
}

fn path_text(path: &AttrPath) -> String {
    let mut text = match &path.ext {
        Some(urn) => format!("{urn}:{}", path.attr),
        None => path.attr.clone(),
    };
    if let Some(sub) = &path.sub {
        text.push('.');
        text.push_str(sub);
    }
    text
}

/// A whole schema URN (`urn:…:enterprise:2.0:User`), as opposed to a URN
/// path that ends in an attribute (`urn:…:2.0:User:employeeNumber`).
fn is_schema_urn(key: &str) -> bool {
    key.len() > 4
        && key[..4].eq_ignore_ascii_case("urn:")
        && key
            .rsplit(':')
            .next()
            .is_some_and(|last| last == "User" || last == "Group")
}

/// The object that holds `path.attr`: the resource or its extension object.
fn container<'a>(
    resource: &'a mut Map<String, Value>,
    path: &AttrPath,
) -> &'a mut Map<String, Value> {
    match &path.ext {
        Some(urn) => object_entry(resource, urn),
        None => resource,
    }
}

/// `map[key]` as an object, created (or replaced, if it was not one) on demand.
fn object_entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let key = key_ci(map, key);
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}

fn set_path(
    resource: &mut Map<String, Value>,
    path: &AttrPath,
    value: Value,
    add: bool,
) -> Result<(), ScimError> {
    let target = container(resource, path);
    let key = key_ci(target, &path.attr);
    match (&path.filter, &path.sub) {
        (None, None) => {
            match (target.get_mut(&key), value) {
                // add to a multi-valued attribute appends (members, emails).
                (Some(Value::Array(existing)), Value::Array(new)) if add => {
                    for item in new {
                        if !existing.contains(&item) {
                            existing.push(item);
                        }
                    }
                }
                // add/replace on a complex attribute with an object merges.
                (Some(Value::Object(existing)), Value::Object(new)) => {
                    for (k, v) in new {
                        let k = key_ci(existing, &k);
                        existing.insert(k, v);
                    }
                }
                (_, value) => {
                    target.insert(key, value);
                }
            }
            Ok(())
        }
        (None, Some(sub)) => {
            let object = object_entry(target, &key);
            let sub = key_ci(object, sub);
            object.insert(sub, value);
            Ok(())
        }
        (Some(filter), sub) => {
            let entry = target.entry(key).or_insert_with(|| json!([]));
            if !entry.is_array() {
                *entry = json!([]);
            }
            let items = entry.as_array_mut().expect("just made an array");
            let mut hit = false;
            for item in items.iter_mut().filter(|i| filter.matches(i)) {
                hit = true;
                set_in_item(item, sub.as_deref(), value.clone());
            }
            if !hit {
                // RFC 7644 §3.5.2.3: a replace whose filter matches nothing
                // fails with noTarget.
                if !add {
                    return Err(ScimError::bad(
                        "noTarget",
                        "No value matches the path's filter; add it instead.",
                    ));
                }
                // Entra adds emails[type eq "work"].value to users that have
                // no work email yet: create the element the filter names.
                let Some(mut item) = filter.seed() else {
                    return Err(ScimError::bad(
                        "noTarget",
                        "No value matches the path's filter.",
                    ));
                };
                set_in_item(&mut item, sub.as_deref(), value);
                items.push(item);
            }
            Ok(())
        }
    }
}

fn set_in_item(item: &mut Value, sub: Option<&str>, value: Value) {
    match (sub, item.as_object_mut(), value) {
        (Some(sub), Some(obj), value) => {
            let k = key_ci(obj, sub);
            obj.insert(k, value);
        }
        (None, Some(obj), Value::Object(new)) => {
            for (k, v) in new {
                let k = key_ci(obj, &k);
                obj.insert(k, v);
            }
        }
        (_, _, value) => *item = value,
    }
}

fn remove_path(
    resource: &mut Map<String, Value>,
    path: &AttrPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let target = container(resource, path);
    let key = key_ci(target, &path.attr);
    match (&path.filter, &path.sub) {
        (None, None) => match (target.get_mut(&key), value) {
            // Entra: {"op":"Remove","path":"members","value":[{"value":"id"}]}.
            (Some(Value::Array(items)), Some(Value::Array(gone))) => {
                items.retain(|i| {
                    !gone
                        .iter()
                        .any(|g| g == i || (g["value"].is_string() && g["value"] == i["value"]))
                });
            }
            _ => {
                target.remove(&key);
            }
        },
        (None, Some(sub)) => {
            if let Some(Value::Object(obj)) = target.get_mut(&key) {
                let sub = key_ci(obj, sub);
                obj.remove(&sub);
            }
        }
        (Some(filter), sub) => {
            let mut hit = false;
            if let Some(Value::Array(items)) = target.get_mut(&key) {
                hit = items.iter().any(|i| filter.matches(i));
                match sub {
                    None => items.retain(|i| !filter.matches(i)),
                    Some(sub) => {
                        for item in items.iter_mut().filter(|i| filter.matches(i)) {
                            if let Some(obj) = item.as_object_mut() {
                                let sub = key_ci(obj, sub);
                                obj.remove(&sub);
                            }
                        }
                    }
                }
            }
            // RFC 7644 §3.12 noTarget: "a filter that yields no match".
            if !hit {
                return Err(ScimError::bad(
                    "noTarget",
                    "No value matches the path's filter.",
                ));
            }
        }
    }
    Ok(())
}

/// Entra (without `aadOptscim062020`) sends `"active": "False"`.
fn coerce_active(resource: &mut Map<String, Value>) {
    let key = key_ci(resource, "active");
    if let Some(Value::String(s)) = resource.get(&key) {
        let b = match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        if let Some(b) = b {
            resource.insert(key, Value::Bool(b));
        }
    }
}

/// SCIM attribute names are case-insensitive (RFC 7643 §2.1): the existing
/// key spelled like `name`, or `name` itself.
fn key_ci(map: &Map<String, Value>, name: &str) -> String {
    map.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_string())
}

fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

// ---------------------------------------------------------------- filters

/// A SCIM filter (RFC 7644 §3.4.2.2): comparisons, `pr`, `and`, `or`,
/// `not`, grouping, and value paths (`emails[type eq "work"].value eq "x"`).
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare(AttrPath, Op, Value),
    Present(AttrPath),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("A string in the filter is not closed.".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return Err("A string in the filter ends with \\.".into()),
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || "()[]\"".contains(ch) {
                        break;
                    }
                    word.push(ch);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn expect(&mut self, want: &Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            _ => Err(format!("Expected {what} in the filter.")),
        }
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.pos += 1;
            self.expect(&Token::Open, "( after not")?;
            let inner = self.or()?;
            self.expect(&Token::Close, ")")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(&Token::Close, ")")?;
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Filter, String> {
        let Some(Token::Word(word)) = self.next() else {
            return Err("Expected an attribute name in the filter.".into());
        };
        let (ext, attr) = split_urn(&word);
        let (attr, mut sub) = split_sub(attr);
        check_name(&attr, &word)?;
        let mut filter = None;
        if self.peek() == Some(&Token::OpenBracket) {
            if sub.is_some() {
                return Err(format!("\"{word}[\" is not a valid value path."));
            }
            self.pos += 1;
            filter = Some(Box::new(self.or()?));
            self.expect(&Token::CloseBracket, "]")?;
            if let Some(Token::Word(w)) = self.peek()
                && let Some(s) = w.strip_prefix('.')
            {
                sub = Some(s.to_string());
                self.pos += 1;
            }
        }
        let path = AttrPath {
            ext,
            attr,
            filter,
            sub,
        };
        let op_word = match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            // `emails[type eq "work"]` alone: some element matches.
            _ if path.filter.is_some() && path.sub.is_none() => return Ok(Filter::Present(path)),
            _ => return Err(format!("Expected an operator after \"{word}\".")),
        };
        if op_word.eq_ignore_ascii_case("pr") {
            self.pos += 1;
            return Ok(Filter::Present(path));
        }
        let Some(op) = Op::parse(&op_word) else {
            if path.filter.is_some() && path.sub.is_none() {
                return Ok(Filter::Present(path));
            }
            return Err(format!(
                "\"{op_word}\" is not a SCIM filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)."
            ));
        };
        self.pos += 1;
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => serde_json::from_str::<serde_json::Number>(&w)
                    .map(Value::Number)
                    .map_err(|_| {
                        format!("\"{w}\" is not a filter value; quote strings with \"\".")
                    })?,
            },
            _ => return Err(format!("Expected a value after \"{op_word}\".")),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

impl Filter {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser {
            tokens: tokenize(text)?,
            pos: 0,
        };
        if parser.tokens.is_empty() {
            return Err("The filter is empty.".into());
        }
        let filter = parser.or()?;
        if parser.pos < parser.tokens.len() {
            return Err(format!(
                "Unexpected text after position {} of the filter.",
                parser.pos
            ));
        }
        Ok(filter)
    }

    /// `attr eq "value"` on an attribute the index covers (anything else:
    /// `None`, and the store is scanned).
    fn indexed_lookup(&self) -> Option<(IndexKey, String)> {
        match self {
            Filter::Compare(path, Op::Eq, Value::String(value))
                if path.ext.is_none() && path.filter.is_none() && path.sub.is_none() =>
            {
                IndexKey::for_attribute(&path.attr).map(|k| (k, value.clone()))
            }
            _ => None,
        }
    }

    fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(f) => !f.matches(resource),
            Filter::Present(path) => values_at(resource, path).iter().any(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => true,
            }),
            Filter::Compare(path, op, want) => {
                let found = values_at(resource, path);
                if want.is_null() {
                    let missing = found.iter().all(|v| v.is_null());
                    return match op {
                        Op::Eq => missing,
                        Op::Ne => !missing,
                        _ => false,
                    };
                }
                let exact = case_exact(path);
                found.iter().any(|v| compare(v, *op, want, exact))
            }
        }
    }

    /// The element `emails[type eq "work"]` describes, for creating it.
    fn seed(&self) -> Option<Value> {
        match self {
            Filter::Compare(path, Op::Eq, value)
                if path.filter.is_none() && path.sub.is_none() && path.ext.is_none() =>
            {
                Some(json!({ path.attr.clone(): value }))
            }
            _ => None,
        }
    }
}

/// String comparison per the attribute's published `caseExact` (RFC 7644
/// §3.4.2.2): `id` and `externalId` exactly, `userName` and the rest not.
fn case_exact(path: &AttrPath) -> bool {
    scim_schema::case_exact(path.ext.as_deref(), &path.attr, path.sub.as_deref())
}

/// Every value `path` reaches in `resource` (multi-valued attributes fan out).
fn values_at<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(root) = resource.as_object() else {
        return Vec::new();
    };
    let container = match &path.ext {
        Some(urn) => match get_ci(root, urn).and_then(Value::as_object) {
            Some(c) => c,
            None => return Vec::new(),
        },
        None => root,
    };
    let Some(value) = get_ci(container, &path.attr) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match value {
        Value::Array(items) => items
            .iter()
            .filter(|i| path.filter.as_ref().is_none_or(|f| f.matches(i)))
            .collect(),
        other if path.filter.is_none() => vec![other],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| match (&path.sub, item) {
            (Some(sub), Value::Object(o)) => get_ci(o, sub),
            (Some(_), _) => None,
            // `emails eq "x"` compares the elements' `value` (RFC 7644 §3.4.2.2).
            (None, Value::Object(o)) if value.is_array() && path.filter.is_none() => {
                get_ci(o, "value")
            }
            (None, v) => Some(v),
        })
        .collect()
}

fn compare(found: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (found, want) {
        // The common case (every lookup Entra makes): no allocation, since
        // a cycle compares every stored user for every user it provisions.
        (Value::String(f), Value::String(w)) if matches!(op, Op::Eq | Op::Ne) => {
            let same = if exact {
                f == w
            } else if f.is_ascii() && w.is_ascii() {
                f.eq_ignore_ascii_case(w)
            } else {
                f.to_lowercase() == w.to_lowercase()
            };
            same == (op == Op::Eq)
        }
        (Value::String(f), Value::String(w)) => {
            let (f, w) = if exact {
                (f.clone(), w.clone())
            } else {
                (f.to_lowercase(), w.to_lowercase())
            };
            match op {
                Op::Eq => f == w,
                Op::Ne => f != w,
                Op::Co => f.contains(&w),
                Op::Sw => f.starts_with(&w),
                Op::Ew => f.ends_with(&w),
                Op::Gt => f > w,
                Op::Ge => f >= w,
                Op::Lt => f < w,
                Op::Le => f <= w,
            }
        }
        (Value::Bool(f), Value::Bool(w)) => match op {
            Op::Eq => f == w,
            Op::Ne => f != w,
            _ => false,
        },
        // A "False" stored before coercion still compares as a boolean.
        (Value::String(f), Value::Bool(_)) => match f.trim().to_ascii_lowercase().as_str() {
            "true" => compare(&Value::Bool(true), op, want, exact),
            "false" => compare(&Value::Bool(false), op, want, exact),
            _ => op == Op::Ne,
        },
        (Value::Number(f), Value::Number(w)) => {
            let (Some(f), Some(w)) = (f.as_f64(), w.as_f64()) else {
                return false;
            };
            match op {
                Op::Eq => f == w,
                Op::Ne => f != w,
                Op::Gt => f > w,
                Op::Ge => f >= w,
                Op::Lt => f < w,
                Op::Le => f <= w,
                _ => false,
            }
        }
        _ => op == Op::Ne,
    }
}

// ---------------------------------------------------------------- projection

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): names
/// down to sub-attributes (`name.givenName`) and extension attributes
/// (`urn:…:enterprise:2.0:User:department`). Entra uses
/// `excludedAttributes=members` on groups.
struct Projection {
    include: Vec<AttrPath>,
    exclude: Vec<AttrPath>,
}

impl Projection {
    fn from_query(query: &Option<String>) -> Self {
        let names = |p: &str| -> Vec<AttrPath> {
            param(query, p)
                .map(|v| {
                    v.split(',')
                        .filter_map(|a| AttrPath::parse(a.trim()).ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            include: names("attributes"),
            exclude: names("excludedAttributes"),
        }
    }

    fn apply(&self, resource: &Value) -> Value {
        let Some(obj) = resource.as_object() else {
            return resource.clone();
        };
        let mut out = Map::new();
        for (key, value) in obj {
            // `returned: always` (RFC 7643 §3.1, §7).
            if ["id", "schemas", "meta"]
                .iter()
                .any(|a| key.eq_ignore_ascii_case(a))
            {
                out.insert(key.clone(), value.clone());
                continue;
            }
            let value = if self.include.is_empty() {
                Some(value.clone())
            } else {
                pick(key, value, &self.include, true)
            };
            if let Some(v) = value.and_then(|v| pick(key, &v, &self.exclude, false)) {
                out.insert(key.clone(), v);
            }
        }
        Value::Object(out)
    }
}

/// `value` (top-level attribute `key`) reduced to the `paths` that name it
/// (`keep`), or stripped of them (`!keep`); `None` when nothing is left.
fn pick(key: &str, value: &Value, paths: &[AttrPath], keep: bool) -> Option<Value> {
    let ci = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    // Paths into this attribute, as (attribute, sub-attribute) pairs.
    let mut hits: Vec<(Option<&str>, Option<&str>)> = Vec::new();
    for p in paths {
        match &p.ext {
            None if ci(&p.attr, key) => hits.push((None, p.sub.as_deref())),
            Some(urn) if ci(urn, key) => hits.push((Some(&p.attr), p.sub.as_deref())),
            _ => {}
        }
    }
    if hits.is_empty() {
        return if keep { None } else { Some(value.clone()) };
    }
    if hits.contains(&(None, None)) {
        return keep.then(|| value.clone());
    }
    let is_ext = hits.iter().any(|h| h.0.is_some());
    // Within an extension: its attributes are one level down.
    let select =
        |object: &Map<String, Value>, level: &dyn Fn(&str) -> bool| -> Map<String, Value> {
            object
                .iter()
                .filter(|(k, _)| level(k) == keep)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
    let reduce = |object: &Map<String, Value>| -> Map<String, Value> {
        if is_ext {
            let mut out = Map::new();
            for (k, v) in object {
                let subs: Vec<&str> = hits
                    .iter()
                    .filter(|h| h.0.is_some_and(|a| ci(a, k)))
                    .filter_map(|h| h.1)
                    .collect();
                let whole = hits
                    .iter()
                    .any(|h| h.0.is_some_and(|a| ci(a, k)) && h.1.is_none());
                let reduced = if whole || subs.is_empty() {
                    (whole == keep).then(|| v.clone())
                } else {
                    match v {
                        Value::Object(inner) => Some(Value::Object(select(inner, &|s| {
                            subs.iter().any(|x| ci(x, s))
                        }))),
                        other => Some(other.clone()),
                    }
                };
                if let Some(r) = reduced {
                    out.insert(k.clone(), r);
                }
            }
            out
        } else {
            let subs: Vec<&str> = hits.iter().filter_map(|h| h.1).collect();
            select(object, &|s| subs.iter().any(|x| ci(x, s)))
        }
    };
    let reduced = match value {
        Value::Object(o) => Value::Object(reduce(o)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::Object(o) => Value::Object(reduce(o)),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    let empty = match &reduced {
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.iter().all(|i| i.as_object().is_some_and(Map::is_empty)),
        _ => false,
    };
    (!empty).then_some(reduced)
}

// ---------------------------------------------------------------- discovery

async fn service_provider_config(State(state): State<ScimState>) -> Response {
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_RESULTS },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": false },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The SCIM secret created under workspace admin → User management → SCIM, sent as a bearer token.",
                "primary": true
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{}/ServiceProviderConfig", state.base_url),
            }
        }),
    )
}

fn schema_docs(state: &ScimState) -> Vec<Value> {
    scim_schema::schemas()
        .iter()
        .map(|schema| {
            let mut doc = schema.clone();
            let id = schema["id"].as_str().unwrap_or_default();
            doc["meta"] = json!({
                "resourceType": "Schema",
                "location": format!("{}/Schemas/{id}", state.base_url),
            });
            doc
        })
        .collect()
}

fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

async fn schemas(State(state): State<ScimState>) -> Response {
    scim_json(StatusCode::OK, list_response(schema_docs(&state)))
}

async fn schema(State(state): State<ScimState>, Path(id): Path<String>) -> Response {
    doc_by_id(schema_docs(&state), &id, "Schema")
}

/// One discovery document by `id`, or the SCIM 404.
fn doc_by_id(docs: Vec<Value>, id: &str, what: &str) -> Response {
    match docs.into_iter().find(|d| d["id"] == id) {
        Some(d) => scim_json(StatusCode::OK, d),
        None => scim_error(
            StatusCode::NOT_FOUND,
            None,
            &format!("{what} {id} not found."),
        ),
    }
}

fn resource_type_docs(state: &ScimState, groups: bool) -> Vec<Value> {
    [Kind::User, Kind::Group]
        .into_iter()
        .filter(|kind| groups || *kind != Kind::Group)
        .map(|kind| {
            let mut doc = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": kind.name(),
                "name": kind.name(),
                "endpoint": format!("/{}", kind.endpoint()),
                "schema": kind.schema(),
                "meta": {
                    "resourceType": "ResourceType",
                    "location": format!("{}/ResourceTypes/{}", state.base_url, kind.name()),
                }
            });
            let extensions: Vec<Value> = kind.schemas()[1..]
                .iter()
                .map(|urn| json!({ "schema": urn, "required": false }))
                .collect();
            if !extensions.is_empty() {
                doc["schemaExtensions"] = Value::Array(extensions);
            }
            doc
        })
        .collect()
}

async fn resource_types(State(state): State<ScimState>) -> Response {
    let groups = state.ws.lock().await.scim_groups;
    scim_json(
        StatusCode::OK,
        list_response(resource_type_docs(&state, groups)),
    )
}

async fn resource_type(State(state): State<ScimState>, Path(id): Path<String>) -> Response {
    let groups = state.ws.lock().await.scim_groups;
    doc_by_id(resource_type_docs(&state, groups), &id, "ResourceType")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Value {
        json!({
            "id": "u1",
            "userName": "Ada@Contoso.com",
            "externalId": "Ext-1",
            "active": true,
            "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "emails": [{ "type": "work", "value": "ada@contoso.com" }, { "type": "home", "value": "ada@home.example" }],
            ENTERPRISE_SCHEMA: { "employeeNumber": "42" }
        })
    }

    fn m(filter: &str) -> bool {
        Filter::parse(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(&user())
    }

    #[test]
    fn filters_entra_sends() {
        assert!(
            m("userName eq \"ada@contoso.com\""),
            "userName is case-insensitive"
        );
        assert!(m("externalId eq \"Ext-1\""));
        assert!(!m("externalId eq \"ext-1\""), "externalId is case-exact");
        assert!(m("id eq \"u1\""));
        assert!(m("emails[type eq \"work\"].value eq \"ada@contoso.com\""));
        assert!(!m("emails[type eq \"home\"].value eq \"ada@contoso.com\""));
        assert!(m("emails[type eq \"work\" and value co \"contoso\"]"));
        assert!(m("emails eq \"ada@home.example\""));
        assert!(m("name.givenName sw \"ad\" and active eq true"));
        assert!(m(
            "userName eq \"x\" or (externalId pr and not (active eq false))"
        ));
        assert!(m(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"42\""
        ));
        assert!(m("USERNAME EQ \"ADA@contoso.com\""));
        assert!(!m("title pr"));
        let stored_as_string = json!({"active": "False"});
        let f = Filter::parse("active eq false").unwrap();
        assert!(f.matches(&stored_as_string));
        assert!(
            !Filter::parse("active eq true")
                .unwrap()
                .matches(&stored_as_string)
        );
    }

    #[test]
    fn bad_filters_are_rejected() {
        for f in [
            "",
            "userName",
            "userName eq",
            "userName eq \"x",
            "userName foo \"x\"",
            "userName eq \"x\" extra",
            "(userName eq \"x\"",
            "userName eq unquoted",
            "a.b.c[x eq \"1\"]",
        ] {
            assert!(Filter::parse(f).is_err(), "{f:?} should not parse");
        }
    }

    fn apply(resource: &mut Value, op: Value) -> Result<(), ScimError> {
        apply_operation(resource.as_object_mut().unwrap(), &op)
    }

    #[test]
    fn patch_like_entra() {
        let mut u = user();
        apply(
            &mut u,
            json!({"op":"Replace","path":"active","value":"False"}),
        )
        .unwrap();
        coerce_active(u.as_object_mut().unwrap());
        assert_eq!(u["active"], false);
        apply(&mut u, json!({"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@contoso.com"})).unwrap();
        assert_eq!(u["emails"][0]["value"], "new@contoso.com");
        assert_eq!(u["emails"][1]["value"], "ada@home.example");
        apply(
            &mut u,
            json!({"op":"replace","path":"name.familyName","value":"Byron"}),
        )
        .unwrap();
        assert_eq!(u["name"]["familyName"], "Byron");
        assert_eq!(u["name"]["givenName"], "Ada");
        apply(&mut u, json!({"op":"Add","path":"nickName","value":"Babs"})).unwrap();
        assert_eq!(u["nickName"], "Babs");
        apply(
            &mut u,
            json!({"op":"replace","value":{
                "displayName":"Ada L",
                "name.givenName":"Augusta",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"7"
            }}),
        )
        .unwrap();
        assert_eq!(u["displayName"], "Ada L");
        assert_eq!(u["name"]["givenName"], "Augusta");
        assert_eq!(u[ENTERPRISE_SCHEMA]["employeeNumber"], "7");
        apply(
            &mut u,
            json!({"op":"Add","value":{ENTERPRISE_SCHEMA: {"department":"R&D"}}}),
        )
        .unwrap();
        assert_eq!(u[ENTERPRISE_SCHEMA]["department"], "R&D");
        assert_eq!(
            u[ENTERPRISE_SCHEMA]["employeeNumber"], "7",
            "merged, not replaced"
        );
        apply(
            &mut u,
            json!({"op":"Replace","value":{"USERNAME":"ada2@contoso.com"}}),
        )
        .unwrap();
        assert_eq!(
            u["userName"], "ada2@contoso.com",
            "existing key spelling kept"
        );
        apply(&mut u, json!({"op":"Remove","path":"nickName"})).unwrap();
        assert!(u.get("nickName").is_none());
        assert!(apply(&mut u, json!({"op":"Frobnicate","path":"x","value":1})).is_err());
        assert!(apply(&mut u, json!({"op":"remove"})).is_err());
    }

    #[test]
    fn work_email_is_created_when_missing() {
        let mut u = json!({"id":"u","userName":"a"});
        let path = "emails[type eq \"work\"].value";
        let replaced = apply(&mut u, json!({"op":"Replace","path":path,"value":"a@b.c"}));
        assert_eq!(
            replaced.unwrap_err().1,
            Some("noTarget"),
            "RFC 7644 §3.5.2.3"
        );
        apply(&mut u, json!({"op":"Add","path":path,"value":"a@b.c"})).unwrap();
        assert_eq!(u["emails"], json!([{"type":"work","value":"a@b.c"}]));
    }

    #[test]
    fn group_members_add_and_remove() {
        let mut g = json!({"id":"g","displayName":"G","members":[]});
        apply(&mut g, json!({"op":"Add","path":"members","value":[{"value":"u1"},{"value":"u2"},{"value":"u3"}]})).unwrap();
        apply(
            &mut g,
            json!({"op":"Add","path":"members","value":[{"value":"u1"}]}),
        )
        .unwrap();
        assert_eq!(g["members"].as_array().unwrap().len(), 3);
        apply(
            &mut g,
            json!({"op":"Remove","path":"members","value":[{"value":"u1"}]}),
        )
        .unwrap();
        apply(
            &mut g,
            json!({"op":"remove","path":"members[value eq \"u2\"]"}),
        )
        .unwrap();
        assert_eq!(g["members"], json!([{"value":"u3"}]));
    }

    #[test]
    fn projection_keeps_id_and_drops_excluded() {
        let g = json!({"schemas":[GROUP_SCHEMA],"id":"g","displayName":"G","members":[{"value":"u"}],"meta":{}});
        let p = Projection::from_query(&Some("excludedAttributes=members".into()));
        let out = p.apply(&g);
        assert!(out.get("members").is_none());
        assert_eq!(out["displayName"], "G");
        let p = Projection::from_query(&Some("attributes=userName,name.givenName".into()));
        let out = p.apply(&user());
        assert_eq!(out["id"], "u1");
        assert!(out.get("userName").is_some() && out.get("name").is_some());
        assert!(out.get("emails").is_none());
    }
}
