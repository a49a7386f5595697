//! Group *scope* (steps 14–15) on the Graph side: users, groups and their members, and the app's role assignments (`appRoleAssignedTo`), which put principals in the provisioning scope.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use serde_json::{Value, json};

use super::graph::{AppState, GraphError, GraphResult, ListSpec, json_object, list, ok_json, one};
use crate::sandbox::tenant::{ServicePrincipal, User};

/// The default access role every assignment in the sandbox uses.
const DEFAULT_ROLE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The routes, each path under `prefix` (`/v1.0`).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let v1 = |path: &str| format!("{prefix}{path}");
    Router::new()
        .route(
            &v1("/servicePrincipals/{id}/appRoleAssignedTo"),
            get(assigned_to).post(assign),
        )
        .route(&v1("/users"), get(list_users))
        .route(&v1("/users/{id}"), get(get_user))
        .route(&v1("/groups"), get(list_groups))
        .route(&v1("/groups/{id}"), get(get_group))
        .route(&v1("/groups/{id}/members"), get(group_members))
}

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
pub(super) const USER_SPEC: ListSpec = ListSpec {
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

pub(super) fn user_json(u: &User) -> Value {
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

fn group_json(g: &crate::sandbox::tenant::Group) -> Value {
    let nickname: String = g
        .display_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
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

/// `appRoleAssignment`s of an app (`serviceprincipal-list-approleassignedto.md`).
async fn assigned_to(
    State(shared): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> GraphResult {
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        let sp = entra
            .sp(&id)
            .filter(|_| entra.replicated(&id))
            .ok_or_else(|| GraphError::no_object(&id))?;
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
            .map(|(pid, name, kind)| assignment_json(sp, pid, name, kind))
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

/// An `appRoleAssignment` (default access role) of `principal` to `sp`.
fn assignment_json(sp: &ServicePrincipal, principal: &str, name: &str, kind: &str) -> Value {
    let created = sp
        .assignments
        .created
        .get(principal)
        .map_or("2025-01-06T09:00:00Z", String::as_str);
    json!({
        "id": assignment_id(&sp.id, principal),
        "deletedDateTime": Value::Null,
        "appRoleId": DEFAULT_ROLE_ID,
        "createdDateTime": created,
        "principalDisplayName": name,
        "principalId": principal,
        "principalType": kind,
        "resourceDisplayName": sp.display_name,
        "resourceId": sp.id,
    })
}

/// Assigns a user or group to the app (`serviceprincipal-post-approleassignedto.md`).
///
/// The sandbox's apps define no app roles, so only the default access role
/// (`00000000-…`) can be assigned (the docs: "If no app roles are defined on
/// the resource, use the default id"). The new assignment puts the principal
/// (a group: its members) in the provisioning scope at once.
async fn assign(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    let field = |name: &str| -> Result<String, GraphError> {
        let value = body.get(name).and_then(Value::as_str).map(str::trim);
        match value {
            Some(v) if uuid::Uuid::parse_str(v).is_ok() => Ok(v.to_ascii_lowercase()),
            Some(v) => Err(GraphError::bad_request(
                "Request_BadRequest",
                format!(
                    "Invalid value specified for property '{name}' of resource 'AppRoleAssignment': '{v}' is not a GUID."
                ),
            )),
            None => Err(GraphError::bad_request(
                "Request_BadRequest",
                format!("The property '{name}' of resource 'AppRoleAssignment' is required."),
            )),
        }
    };
    let (principal, resource, role) = (
        field("principalId")?,
        field("resourceId")?,
        field("appRoleId")?,
    );
    let mut entra = shared.entra.lock().await;
    let sp = entra
        .sp(&id)
        .filter(|_| entra.replicated(&id))
        .ok_or_else(|| GraphError::no_object(&id))?;
    if !resource.eq_ignore_ascii_case(&sp.id) {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!(
                "resourceId '{resource}' must be the service principal in the request URL ('{}').",
                sp.id
            ),
        ));
    }
    if role != DEFAULT_ROLE_ID {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            format!(
                "Permission being assigned was not found on application '{}'. The sandbox's apps offer only the default access role {DEFAULT_ROLE_ID}.",
                sp.app_id
            ),
        ));
    }
    let user = entra
        .users
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(&principal));
    let group = entra
        .groups
        .iter()
        .find(|g| g.id.eq_ignore_ascii_case(&principal));
    let (principal, name, kind) = match (user, group) {
        (Some(u), _) => (u.id.clone(), u.display_name.clone(), "User"),
        (None, Some(g)) => (g.id.clone(), g.display_name.clone(), "Group"),
        (None, None) => return Err(GraphError::no_object(&principal)),
    };
    let already = match kind {
        "User" => sp.assignments.users.contains(&principal),
        _ => sp.assignments.groups.contains(&principal),
    };
    if already {
        return Err(GraphError::bad_request(
            "Request_BadRequest",
            "Permission being assigned already exists on the object",
        ));
    }
    let sp = entra
        .sp_mut(&id)
        .ok_or_else(|| GraphError::no_object(&id))?;
    match kind {
        "User" => sp.assignments.users.push(principal.clone()),
        _ => sp.assignments.groups.push(principal.clone()),
    }
    sp.assignments
        .created
        .insert(principal.clone(), crate::platform::timefmt::now_rfc3339());
    let mut value = assignment_json(sp, &principal, &name, kind);
    value["@odata.context"] = json!(format!(
        "{}/$metadata#servicePrincipals('{id}')/appRoleAssignedTo/$entity",
        shared.graph_url
    ));
    Ok(ok_json(StatusCode::CREATED, &value))
}

/// Graph's assignment ids are opaque base64url strings; derive a stable one.
fn assignment_id(sp_id: &str, principal_id: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{sp_id}/{principal_id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..32])
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
    one(&uri, &item, &USER_SPEC)
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
    one(&uri, &item, &GROUP_SPEC)
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
        // One map per request: a find per member is quadratic in big groups.
        let by_id: std::collections::HashMap<&str, &crate::sandbox::tenant::User> =
            entra.users.iter().map(|u| (u.id.as_str(), u)).collect();
        g.members
            .iter()
            .filter_map(|m| by_id.get(m.as_str()).copied())
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
