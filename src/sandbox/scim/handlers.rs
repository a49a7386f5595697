//! The resource endpoints: list, `.search`, get, create, replace, PATCH, delete (RFC 7644 §3.3–§3.6).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::filter::Filter;
use super::patch::{apply_operation, coerce_active, get_ci, key_ci};
use super::projection::Projection;
use super::{
    IndexKey, Kind, LIST_RESPONSE, MAX_RESULTS, PATCH_OP, SEARCH_REQUEST, ScimError, ScimState,
    param, position, scim_json,
};
use crate::sandbox::orchidea::Workspace;

pub(super) async fn list(
    State(state): State<ScimState>,
    kind: Kind,
    RawQuery(query): RawQuery,
) -> Response {
    list_in(&state, &[kind], query.as_deref()).await
}

/// A query over the stores of `kinds` (one endpoint, or the root search).
pub(super) async fn list_in(state: &ScimState, kinds: &[Kind], query: Option<&str>) -> Response {
    let filter = match param(query, "filter").filter(|f| !f.trim().is_empty()) {
        Some(text) => match Filter::parse(&text) {
            Ok(f) => Some(f),
            Err(e) => return ScimError::bad("invalidFilter", e).into_response(),
        },
        None => None,
    };
    let start = param(query, "startIndex")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(1, |s| usize::try_from(s.max(1)).unwrap_or(usize::MAX));
    let count = param(query, "count")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or(MAX_RESULTS, |c| {
            usize::try_from(c).unwrap_or(0).min(MAX_RESULTS)
        });
    let projection = Projection::from_query(query);
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
        &json!({
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
pub(super) async fn search(
    State(state): State<ScimState>,
    kind: Option<Kind>,
    body: Bytes,
) -> Response {
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
        list_in(&state, &[kind], query.as_deref()).await
    } else {
        // A workspace that serves no groups searches users only.
        let kinds: &[Kind] = if state.ws.lock().await.scim_groups {
            &[Kind::User, Kind::Group]
        } else {
            &[Kind::User]
        };
        list_in(&state, kinds, query.as_deref()).await
    }
}

/// A `SearchRequest`'s parameters as the GET query string.
pub(super) fn search_query(request: &Map<String, Value>) -> String {
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

pub(super) async fn get_one(
    State(state): State<ScimState>,
    kind: Kind,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut ws = state.ws.lock().await;
    match kind.store(&mut ws).iter().find(|r| r["id"] == id.as_str()) {
        Some(r) => scim_json(
            StatusCode::OK,
            &Projection::from_query(query.as_deref()).apply(r),
        ),
        None => not_found(kind, &id).into_response(),
    }
}

pub(super) fn not_found(kind: Kind, id: &str) -> ScimError {
    ScimError(
        StatusCode::NOT_FOUND,
        None,
        format!("{} {id} not found.", kind.name()),
    )
}

pub(super) fn parse_body(body: &Bytes) -> Result<Map<String, Value>, ScimError> {
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
pub(super) fn validate(
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
pub(super) fn assemble(
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
pub(super) fn check_declared_schemas(
    kind: Kind,
    input: &Map<String, Value>,
) -> Result<(), ScimError> {
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
pub(super) fn normalise_schemas(
    kind: Kind,
    resource: &mut Map<String, Value>,
) -> Result<(), ScimError> {
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

pub(super) fn location(state: &ScimState, kind: Kind, id: &str) -> String {
    let mut url = state.base_url.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend([kind.endpoint(), id]);
    }
    url.to_string()
}

pub(super) async fn create(
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
    let mut response = scim_json(StatusCode::CREATED, &resource);
    if let Ok(v) = HeaderValue::from_str(&location(&state, kind, &id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

pub(super) async fn replace(
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
    Ok(scim_json(StatusCode::OK, &resource))
}

pub(super) async fn patch(
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
        Kind::User => scim_json(StatusCode::OK, &resource),
        // Entra expects 204 for group PATCH (a member list can be huge).
        Kind::Group => StatusCode::NO_CONTENT.into_response(),
    })
}

pub(super) async fn remove(
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
