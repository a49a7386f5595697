//! Discovery: `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes` (RFC 7644 §4).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::schema as scim_schema;
use super::{Kind, LIST_RESPONSE, MAX_RESULTS, ScimState, scim_error, scim_json};

pub(super) async fn service_provider_config(State(state): State<ScimState>) -> Response {
    scim_json(
        StatusCode::OK,
        &json!({
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

pub(super) fn schema_docs(state: &ScimState) -> Vec<Value> {
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

pub(super) fn list_response(resources: &[Value]) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

pub(super) async fn schemas(State(state): State<ScimState>) -> Response {
    scim_json(StatusCode::OK, &list_response(&schema_docs(&state)))
}

pub(super) async fn schema(State(state): State<ScimState>, Path(id): Path<String>) -> Response {
    doc_by_id(schema_docs(&state), &id, "Schema")
}

/// One discovery document by `id`, or the SCIM 404.
pub(super) fn doc_by_id(docs: Vec<Value>, id: &str, what: &str) -> Response {
    match docs.into_iter().find(|d| d["id"] == id) {
        Some(d) => scim_json(StatusCode::OK, &d),
        None => scim_error(
            StatusCode::NOT_FOUND,
            None,
            &format!("{what} {id} not found."),
        ),
    }
}

pub(super) fn resource_type_docs(state: &ScimState, groups: bool) -> Vec<Value> {
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

pub(super) async fn resource_types(State(state): State<ScimState>) -> Response {
    let groups = state.ws.lock().await.scim_groups;
    scim_json(
        StatusCode::OK,
        &list_response(&resource_type_docs(&state, groups)),
    )
}

pub(super) async fn resource_type(
    State(state): State<ScimState>,
    Path(id): Path<String>,
) -> Response {
    let groups = state.ws.lock().await.scim_groups;
    doc_by_id(resource_type_docs(&state, groups), &id, "ResourceType")
}
