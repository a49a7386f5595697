//! Group *app* (step 2) on the Graph side: service principals, the signed-in admin and their roles, and creating an app from the non-gallery template (`applicationTemplates/{id}/instantiate`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::fmt::Write as _;

use super::graph::{AppState, GraphError, GraphResult, ListSpec, json_object, list, ok_json, one};
use super::scope::{USER_SPEC, user_json};
use crate::sandbox::tenant::{Assignments, Provisioning, ServicePrincipal};

/// The "non-gallery application" template of the global service
/// (`applicationtemplate-instantiate.md`; the other clouds' ids:
/// [`crate::platform::cloud::Cloud::non_gallery_template_id`]).
pub const NON_GALLERY_TEMPLATE_ID: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";
pub const CUSTOM_SSO_TAG: &str = "WindowsAzureActiveDirectoryCustomSingleSignOnApplication";
pub const INTEGRATED_APP_TAG: &str = "WindowsAzureActiveDirectoryIntegratedApp";

/// The routes, each path under `prefix` (`/v1.0`).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let v1 = |path: &str| format!("{prefix}{path}");
    Router::new()
        .route(&v1("/servicePrincipals"), get(list_sps))
        .route(
            &v1("/servicePrincipals/{id}"),
            get(get_sp).patch(super::sso::patch_sp),
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
    "keyCredentials",
    "loginUrl",
    "passwordCredentials",
    "preferredSingleSignOnMode",
    "preferredTokenSigningKeyThumbprint",
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

pub fn sp_json(sp: &ServicePrincipal, tenant_id: &str) -> Value {
    sp_json_with_keys(sp, tenant_id, false)
}

/// `sp_json`, with the public certificates in `keyCredentials` when
/// `with_keys` (they are selected).
pub fn sp_json_with_keys(sp: &ServicePrincipal, tenant_id: &str, with_keys: bool) -> Value {
    let custom = sp.tags.iter().any(|t| t == CUSTOM_SSO_TAG);
    let mut v = json!({
        "id": sp.id,
        "accountEnabled": true,
        "appDisplayName": sp.display_name,
        "appId": sp.app_id,
        "applicationTemplateId": if custom { Some(NON_GALLERY_TEMPLATE_ID) } else { None },
        "appOwnerOrganizationId": tenant_id,
        "appRoleAssignmentRequired": custom,
        "displayName": sp.display_name,
        "servicePrincipalNames": [sp.app_id],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": sp.tags,
    });
    if let Value::Object(map) = &mut v {
        map.extend(super::sso::sp_sso_json(&sp.sso, with_keys));
    }
    v
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
        let q = super::odata::Query::parse(uri.query())?;
        let keys = q
            .select
            .iter()
            .flatten()
            .any(|s| s.eq_ignore_ascii_case("keyCredentials"));
        sp_json_with_keys(sp, &entra.tenant.id, keys)
    };
    one(&uri, &item, &SP_SPEC)
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
pub(crate) fn derived_guid(text: &str) -> String {
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
        sso: super::sso::SpSso::default(),
        saml: None,
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
        "web": super::sso::empty_web(),
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
