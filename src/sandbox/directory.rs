//! Directory reads of the sandbox's Graph (service principals, users, groups, app role assignments) and creating an app from the non-gallery template.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::fmt::Write as _;

use super::graph::{AppState, GraphError, GraphResult, ListSpec, json_object, list, ok_json, one};
use super::tenant::{Assignments, Provisioning, ServicePrincipal, User};

/// The "non-gallery application" template of the global service
/// (`applicationtemplate-instantiate.md`; the other clouds' ids:
/// [`crate::platform::cloud::Cloud::non_gallery_template_id`]).
pub const NON_GALLERY_TEMPLATE_ID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
pub const CUSTOM_SSO_TAG: &str = "WindowsAzureActiveDirectoryCustomSingleSignOnApplication";
pub const INTEGRATED_APP_TAG: &str = "WindowsAzureActiveDirectoryIntegratedApp";
/// The default access role every assignment in the sandbox uses.
const DEFAULT_ROLE_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The routes, each path under `prefix` (`/v1.0`).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let v1 = |path: &str| format!("{prefix}{path}");
    Router::new()
        .route(&v1("/servicePrincipals"), get(list_sps))
        .route(&v1("/servicePrincipals/{id}"), get(get_sp))
        .route(
            &v1("/servicePrincipals/{id}/appRoleAssignedTo"),
            get(assigned_to).post(assign),
        )
        .route(&v1("/me"), get(me))
        .route(
            &v1("/me/transitiveMemberOf/microsoft.graph.directoryRole"),
            get(my_roles),
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

async fn list_sps(State(shared): State<AppState>, uri: Uri, headers: HeaderMap) -> GraphResult {
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        // A new app is missing from lists until it has replicated.
        entra
            .service_principals
            .iter()
            .filter(|sp| entra.replicated(&sp.id))
            .map(|sp| sp_json(sp, &entra.tenant.id))
            .collect()
    };
    list(&shared, &uri, &headers, items, &SP_SPEC)
}

async fn get_sp(State(shared): State<AppState>, uri: Uri, Path(id): Path<String>) -> GraphResult {
    let item = {
        let entra = shared.entra.lock().await;
        let sp = entra
            .sp(&id)
            .filter(|_| entra.replicated(&id))
            .ok_or_else(|| GraphError::no_object(&id))?;
        sp_json(sp, &entra.tenant.id)
    };
    one(&uri, &item, &SP_SPEC)
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

/// The signed-in admin (`user-get.md`, `GET /me`): the tenant file's
/// `signedInUser`. Without one, Graph's answer to an app-only token.
async fn me(State(shared): State<AppState>, uri: Uri) -> GraphResult {
    let item = {
        let entra = shared.entra.lock().await;
        let u = entra.me().ok_or_else(|| {
            GraphError::bad_request(
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            )
        })?;
        let mut v = user_json(u);
        v["@odata.context"] = json!(format!("{}/$metadata#users/$entity", shared.graph_url));
        v
    };
    let q = super::odata::Query::parse(uri.query())?;
    q.check_select(USER_SPEC.properties, USER_SPEC.type_name)?;
    let mut select: Vec<&str> = match &q.select {
        Some(s) => s.iter().map(String::as_str).collect(),
        None => USER_SPEC.default_select.to_vec(),
    };
    select.insert(0, "@odata.context");
    Ok(ok_json(
        StatusCode::OK,
        &super::odata::project(&item, &select),
    ))
}

/// `roleTemplateId` of the built-in roles the sandbox knows by name
/// (Entra "Microsoft Entra built-in roles" reference).
const ROLE_TEMPLATES: &[(&str, &str)] = &[
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
    ),
    (
        "Application Administrator",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    ),
    (
        "Cloud Application Administrator",
        "158c047a-c907-4556-b7ef-446551a6b5f7",
    ),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    (
        "Groups Administrator",
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    ),
    ("Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"),
    (
        "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
    ),
    ("Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf"),
    ("Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"),
    (
        "Helpdesk Administrator",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    ),
];

/// A GUID-shaped id derived from `text` (stable across runs).
fn derived_guid(text: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(text.as_bytes());
    let h: String = d.iter().take(16).fold(String::new(), |mut h, b| {
        let _ = write!(h, "{b:02x}");
        h
    });
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

const ROLE_SPEC: ListSpec = ListSpec {
    type_name: "directoryRole",
    context: "directoryObjects",
    properties: &["id", "displayName", "description", "roleTemplateId"],
    filterable: &["displayName", "roleTemplateId"],
    default_select: &["id", "displayName", "description", "roleTemplateId"],
};

/// The signed-in user's active directory roles
/// (`GET /me/transitiveMemberOf/microsoft.graph.directoryRole`): the
/// sandbox's `signIn.roles`, with the real template ids.
async fn my_roles(State(shared): State<AppState>, uri: Uri, headers: HeaderMap) -> GraphResult {
    require_cast_headers(&uri, &headers)?;
    let tenant = {
        let entra = shared.entra.lock().await;
        if entra.me().is_none() {
            return Err(GraphError::bad_request(
                "BadRequest",
                "/me request is only valid with delegated authentication flow.",
            ));
        }
        entra.tenant.id.clone()
    };
    let items: Vec<Value> = shared
        .login
        .roles()
        .into_iter()
        .map(|name| {
            let template = ROLE_TEMPLATES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map_or_else(|| derived_guid(&name), |(_, id)| (*id).to_string());
            json!({
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": derived_guid(&format!("{tenant}/{template}")),
                "displayName": name,
                "description": format!("The sandbox's {name} role."),
                "roleTemplateId": template,
            })
        })
        .collect();
    list(&shared, &uri, &headers, items, &ROLE_SPEC)
}

/// An `OData` cast on `transitiveMemberOf` is an advanced query:
/// "`ConsistencyLevel: eventual` … and `$count` are required when using
/// the `$search`, `$filter`, `$orderby`, or `OData` cast query parameters"
/// (user-list-transitivememberof.md, Request headers). The error code and
/// message are assumed (the page gives none): `Request_UnsupportedQuery`,
/// as Graph answers other advanced queries sent without them.
fn require_cast_headers(uri: &Uri, headers: &HeaderMap) -> Result<(), GraphError> {
    let q = super::odata::Query::parse(uri.query())?;
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"));
    if eventual && q.count {
        return Ok(());
    }
    Err(GraphError::bad_request(
        "Request_UnsupportedQuery",
        "The OData cast on this relationship is an advanced query: send the header 'ConsistencyLevel: eventual' and $count=true.",
    ))
}

/// Graph's assignment ids are opaque base64url strings; derive a stable one.
fn assignment_id(sp_id: &str, principal_id: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{sp_id}/{principal_id}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..32])
}

/// Creates a non-gallery app: an application and its service principal
/// (`applicationtemplate-instantiate.md`). The sandbox plays any cloud, so
/// it takes the non-gallery template id of each (the page lists one for
/// the global service, US government and 21Vianet).
///
/// The new app then replicates: for `shared.replication_delay` it is
/// missing from `GET /servicePrincipals` and answers 404
/// `Request_ResourceNotFound` by id and on its synchronization routes.
/// Microsoft documents the delay, not its length (support article
/// `404-not-found-error-manage-objects-microsoft-graph.md`: "might take
/// several minutes"; wait, retry, double the wait); which routes lag and
/// for how long is assumed.
async fn instantiate(
    State(shared): State<AppState>,
    Path(template): Path<String>,
    body: Bytes,
) -> GraphResult {
    let known = crate::platform::cloud::Cloud::ALL
        .iter()
        .any(|c| template.eq_ignore_ascii_case(c.non_gallery_template_id()));
    if !known {
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
        "applicationTemplateId": template.to_ascii_lowercase(),
        "createdDateTime": crate::platform::timefmt::now_rfc3339(),
        "displayName": name,
        "identifierUris": [],
        "publisherDomain": entra.tenant.domain,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
    });
    let sp_value = sp_json(&sp, &entra.tenant.id);
    entra.applications.push(application.clone());
    let visible = std::time::Instant::now() + shared.replication_delay;
    entra.replicating.insert(sp.id.clone(), visible);
    entra.service_principals.push(sp);
    let context = format!(
        "{}/$metadata#microsoft.graph.applicationServicePrincipal",
        shared.graph_url
    );
    Ok(ok_json(
        StatusCode::CREATED,
        &json!({ "@odata.context": context, "application": application, "servicePrincipal": sp_value }),
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
        let by_id: std::collections::HashMap<&str, &super::tenant::User> =
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
