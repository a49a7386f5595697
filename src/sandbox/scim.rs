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
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use url::Url;

mod discovery;
mod filter;
mod handlers;
pub mod index;
mod patch;
mod path;
mod projection;
pub mod schema;

use self::discovery::{resource_type, resource_types, schema, schemas, service_provider_config};
use self::handlers::{create, get_one, list, patch, remove, replace, search};
use self::index::Key as IndexKey;
use super::orchidea::{OnChange, SharedWorkspace, Workspace};
use crate::platform::secret::Secret;

pub use self::schema::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const SCIM_JSON: &str = "application/scim+json";
/// Page size when the client asks for none, and the most a page holds.
const MAX_RESULTS: usize = 200;

message_error!(
    /// A filter or attribute path the server cannot read (RFC 7644 `invalidFilter` / `invalidPath`).
    FilterError
);

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
            "The SCIM secret is wrong, revoked or expired."
        },
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"orchidea-scim\""),
    );
    response
}

fn scim_json(status: StatusCode, body: &Value) -> Response {
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
    scim_json(status, &body)
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
fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
fn test_user() -> Value {
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
