//! The sandbox's Microsoft Graph v1.0: bearer check, error envelope, directory reads (service principals, users, groups) and app creation.
//!
//! Every response carries `request-id` and `client-request-id` (echoed), and
//! every error the documented body
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use url::Url;

use super::Shared;
use super::odata::{Query, QueryError, project};
use super::tenant::{Assignments, Provisioning, ServicePrincipal, User};

/// The "non-gallery application" template (CONTRACT.md, step 2).
pub const NON_GALLERY_TEMPLATE_ID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
pub const CUSTOM_SSO_TAG: &str = "WindowsAzureActiveDirectoryCustomSingleSignOnApplication";
pub const INTEGRATED_APP_TAG: &str = "WindowsAzureActiveDirectoryIntegratedApp";
/// The default access role every assignment in the sandbox uses.
const DEFAULT_ROLE_ID: &str = "00000000-0000-0000-0000-000000000000";

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
pub fn ok_json(status: StatusCode, body: Value) -> Response {
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
    let v1 = |path: &str| format!("/v1.0{path}");
    Router::new()
        .route(&v1("/servicePrincipals"), get(list_sps))
        .route(&v1("/servicePrincipals/{id}"), get(get_sp))
        .route(
            &v1("/servicePrincipals/{id}/appRoleAssignedTo"),
            get(assigned_to),
        )
        .route(
            &v1("/applicationTemplates/{template}/instantiate"),
            post(instantiate),
        )
        .route(&v1("/users"), get(list_users))
        .route(&v1("/users/{id}"), get(get_user))
        .route(&v1("/groups"), get(list_groups))
        .route(&v1("/groups/{id}"), get(get_group))
        .route(&v1("/groups/{id}/members"), get(group_members))
        .merge(super::sync::routes("/v1.0"))
        .fallback(unknown_segment)
        .method_not_allowed_fallback(|| async {
            GraphError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Request_BadRequest",
                "The HTTP method is not allowed on this resource.",
            )
        })
        .layer(middleware::from_fn_with_state(shared.clone(), envelope))
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
    let authorized = authorize(&shared, request.headers());
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
                    "date": crate::timefmt::now_rfc3339(),
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        });
        let (parts, _) = response.into_parts();
        let mut rebuilt = ok_json(parts.status, body);
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

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), GraphError> {
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
    if token != shared.graph_token.expose() {
        return Err(unauthorized(
            "Access token validation failure. Invalid audience or signature.",
        ));
    }
    Ok(())
}

/// The absolute URL of this request, for `@odata.nextLink`.
fn self_url(shared: &Shared, uri: &Uri) -> Url {
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
fn list(
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
    let page = q.page(kept, spec.default_select, &context, &self_url(shared, uri));
    Ok(ok_json(StatusCode::OK, page))
}

/// One object, projected with `$select`.
fn one(uri: &Uri, item: Value, spec: &ListSpec) -> GraphResult {
    let q = Query::parse(uri.query())?;
    q.check_select(spec.properties, spec.type_name)?;
    let select: Vec<&str> = match &q.select {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => spec.default_select.to_vec(),
    };
    Ok(ok_json(StatusCode::OK, project(&item, &select)))
}

struct ListSpec {
    type_name: &'static str,
    context: &'static str,
    properties: &'static [&'static str],
    filterable: &'static [&'static str],
    default_select: &'static [&'static str],
}

const SP_PROPS: &[&str] = &[
    "id",
    "accountEnabled",
    "appDisplayName",
    "appId",
    "applicationTemplateId",
    "appOwnerOrganizationId",
    "appRoleAssignmentRequired",
    "displayName",
    "preferredSingleSignOnMode",
    "servicePrincipalNames",
    "servicePrincipalType",
    "signInAudience",
    "tags",
];
const SP_SPEC: ListSpec = ListSpec {
    type_name: "servicePrincipal",
    context: "servicePrincipals",
    properties: SP_PROPS,
    filterable: &[
        "displayName",
        "appId",
        "id",
        "servicePrincipalType",
        "accountEnabled",
    ],
    default_select: &[],
};
const USER_PROPS: &[&str] = &[
    "id",
    "accountEnabled",
    "businessPhones",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "postalCode",
    "preferredLanguage",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];
const USER_SPEC: ListSpec = ListSpec {
    type_name: "user",
    context: "users",
    properties: USER_PROPS,
    filterable: &[
        "displayName",
        "mail",
        "userPrincipalName",
        "givenName",
        "surname",
        "id",
        "accountEnabled",
        "department",
        "jobTitle",
    ],
    default_select: &[
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
    ],
};
const GROUP_SPEC: ListSpec = ListSpec {
    type_name: "group",
    context: "groups",
    properties: &[
        "id",
        "displayName",
        "description",
        "groupTypes",
        "mail",
        "mailEnabled",
        "mailNickname",
        "securityEnabled",
    ],
    filterable: &["displayName", "id", "mailNickname"],
    default_select: &[],
};

pub fn sp_json(sp: &ServicePrincipal, tenant_id: &str) -> Value {
    let custom = sp.tags.iter().any(|t| t == CUSTOM_SSO_TAG);
    json!({
        "id": sp.id,
        "accountEnabled": true,
        "appDisplayName": sp.display_name,
        "appId": sp.app_id,
        "applicationTemplateId": if custom { Some(NON_GALLERY_TEMPLATE_ID) } else { None },
        "appOwnerOrganizationId": tenant_id,
        "appRoleAssignmentRequired": custom,
        "displayName": sp.display_name,
        "preferredSingleSignOnMode": Value::Null,
        "servicePrincipalNames": [sp.app_id],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": sp.tags,
    })
}

fn user_json(u: &User) -> Value {
    let mut v = u.to_graph();
    if let Value::Object(map) = &mut v {
        // Properties Graph always has; the tenant file may leave them out.
        for key in ["mobilePhone", "officeLocation", "preferredLanguage"] {
            map.entry(key).or_insert(Value::Null);
        }
        map.entry("businessPhones").or_insert(json!([]));
        map.entry("userType").or_insert(json!("Member"));
    }
    v
}

fn group_json(g: &super::tenant::Group) -> Value {
    let nickname: String = g
        .display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    json!({
        "id": g.id,
        "description": Value::Null,
        "displayName": g.display_name,
        "groupTypes": [],
        "mail": Value::Null,
        "mailEnabled": false,
        "mailNickname": nickname,
        "securityEnabled": true,
    })
}

async fn list_sps(State(shared): State<AppState>, uri: Uri, headers: HeaderMap) -> GraphResult {
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        entra
            .service_principals
            .iter()
            .map(|sp| sp_json(sp, &entra.tenant.id))
            .collect()
    };
    list(&shared, &uri, &headers, items, &SP_SPEC)
}

async fn get_sp(State(shared): State<AppState>, uri: Uri, Path(id): Path<String>) -> GraphResult {
    let item = {
        let entra = shared.entra.lock().await;
        let sp = entra.sp(&id).ok_or_else(|| GraphError::no_object(&id))?;
        sp_json(sp, &entra.tenant.id)
    };
    one(&uri, item, &SP_SPEC)
}

/// `appRoleAssignment`s of an app (`serviceprincipal-list-approleassignedto.md`).
async fn assigned_to(
    State(shared): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> GraphResult {
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        let sp = entra.sp(&id).ok_or_else(|| GraphError::no_object(&id))?;
        let users = sp.assignments.users.iter().filter_map(|uid| {
            let u = entra.users.iter().find(|u| &u.id == uid)?;
            Some((u.id.as_str(), u.display_name.as_str(), "User"))
        });
        let groups = sp.assignments.groups.iter().filter_map(|gid| {
            let g = entra.groups.iter().find(|g| &g.id == gid)?;
            Some((g.id.as_str(), g.display_name.as_str(), "Group"))
        });
        users
            .chain(groups)
            .map(|(pid, name, kind)| {
                json!({
                    "id": assignment_id(&sp.id, pid),
                    "deletedDateTime": Value::Null,
                    "appRoleId": DEFAULT_ROLE_ID,
                    "createdDateTime": "2025-01-06T09:00:00Z",
                    "principalDisplayName": name,
                    "principalId": pid,
                    "principalType": kind,
                    "resourceDisplayName": sp.display_name,
                    "resourceId": sp.id,
                })
            })
            .collect()
    };
    let spec = ListSpec {
        type_name: "appRoleAssignment",
        context: "appRoleAssignments",
        properties: &[
            "id",
            "deletedDateTime",
            "appRoleId",
            "createdDateTime",
            "principalDisplayName",
            "principalId",
            "principalType",
            "resourceDisplayName",
            "resourceId",
        ],
        filterable: &["principalId", "principalType", "principalDisplayName"],
        default_select: &[],
    };
    list(&shared, &uri, &headers, items, &spec)
}

/// Graph's assignment ids are opaque base64url strings; derive a stable one.
fn assignment_id(sp_id: &str, principal_id: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{sp_id}/{principal_id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..32])
}

/// Creates a non-gallery app: an application and its service principal.
async fn instantiate(
    State(shared): State<AppState>,
    Path(template): Path<String>,
    body: Bytes,
) -> GraphResult {
    if !template.eq_ignore_ascii_case(NON_GALLERY_TEMPLATE_ID) {
        return Err(GraphError::no_object(&template));
    }
    let body = json_object(&body)?;
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "Invalid value specified for property 'displayName' of resource 'Application'.",
            )
        })?
        .to_string();
    let app_id = uuid::Uuid::new_v4().to_string();
    let sp = ServicePrincipal {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: app_id.clone(),
        display_name: name.clone(),
        tags: vec![CUSTOM_SSO_TAG.into(), INTEGRATED_APP_TAG.into()],
        provisioning: Provisioning::Scim,
        assignments: Assignments::default(),
    };
    let mut entra = shared.entra.lock().await;
    let application = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "appId": app_id,
        "applicationTemplateId": NON_GALLERY_TEMPLATE_ID,
        "createdDateTime": crate::timefmt::now_rfc3339(),
        "displayName": name,
        "identifierUris": [],
        "publisherDomain": entra.tenant.domain,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
    });
    let sp_value = sp_json(&sp, &entra.tenant.id);
    entra.applications.push(application.clone());
    entra.service_principals.push(sp);
    let context = format!(
        "{}/$metadata#microsoft.graph.applicationServicePrincipal",
        shared.graph_url
    );
    Ok(ok_json(
        StatusCode::CREATED,
        json!({ "@odata.context": context, "application": application, "servicePrincipal": sp_value }),
    ))
}

async fn list_users(State(shared): State<AppState>, uri: Uri, headers: HeaderMap) -> GraphResult {
    let items: Vec<Value> = shared
        .entra
        .lock()
        .await
        .users
        .iter()
        .map(user_json)
        .collect();
    list(&shared, &uri, &headers, items, &USER_SPEC)
}

async fn get_user(State(shared): State<AppState>, uri: Uri, Path(id): Path<String>) -> GraphResult {
    let item = {
        let entra = shared.entra.lock().await;
        let u = entra
            .users
            .iter()
            .find(|u| {
                u.id.eq_ignore_ascii_case(&id) || u.user_principal_name.eq_ignore_ascii_case(&id)
            })
            .ok_or_else(|| GraphError::no_object(&id))?;
        user_json(u)
    };
    one(&uri, item, &USER_SPEC)
}

async fn list_groups(State(shared): State<AppState>, uri: Uri, headers: HeaderMap) -> GraphResult {
    let items: Vec<Value> = shared
        .entra
        .lock()
        .await
        .groups
        .iter()
        .map(group_json)
        .collect();
    list(&shared, &uri, &headers, items, &GROUP_SPEC)
}

async fn get_group(
    State(shared): State<AppState>,
    uri: Uri,
    Path(id): Path<String>,
) -> GraphResult {
    let item = {
        let entra = shared.entra.lock().await;
        let g = entra
            .groups
            .iter()
            .find(|g| g.id == id)
            .ok_or_else(|| GraphError::no_object(&id))?;
        group_json(g)
    };
    one(&uri, item, &GROUP_SPEC)
}

async fn group_members(
    State(shared): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> GraphResult {
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        let g = entra
            .groups
            .iter()
            .find(|g| g.id == id)
            .ok_or_else(|| GraphError::no_object(&id))?;
        g.members
            .iter()
            .filter_map(|m| entra.users.iter().find(|u| &u.id == m))
            .map(|u| {
                let mut v = user_json(u);
                v["@odata.type"] = json!("#microsoft.graph.user");
                v
            })
            .collect()
    };
    let spec = ListSpec {
        context: "directoryObjects",
        ..USER_SPEC
    };
    list(&shared, &uri, &headers, items, &spec)
}
