//! Group *secret* (steps 1a–1c) on the Orchidea side: the admin API's SCIM secrets (list, create, revoke).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::json;

use super::{AdminState, ApiError, StoredSecret, authorize};
use crate::services::orchidea::SecretInfo;

/// The routes, under `/api/admin/v1/scim/secrets`.
pub(super) fn routes() -> Router<AdminState> {
    Router::new()
        .route(
            "/api/admin/v1/scim/secrets",
            get(list_secrets).post(create_secret),
        )
        .route("/api/admin/v1/scim/secrets/{id}", delete(revoke_secret))
}

async fn list_secrets(
    State(state): State<AdminState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let items: Vec<SecretInfo> = state
        .ws
        .lock()
        .await
        .secrets
        .iter()
        .map(StoredSecret::info)
        .collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateSecretBody {
    idp_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

async fn create_secret(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let parsed: CreateSecretBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The body must be JSON like {{\"idpId\":\"…\"}}: {e}."),
        )
    })?;
    let idp_id = parsed.idp_id.filter(|i| !i.is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "idpId is required.",
        )
    })?;
    let description = parsed.description.filter(|d| !d.trim().is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 200)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "description is at most 200 characters.",
        ));
    }
    let created = {
        let mut ws = state.ws.lock().await;
        let created = ws.create_secret(&idp_id);
        if let Some((stored, _)) = &created
            && let Some(kept) = ws.secrets.iter_mut().find(|s| s.id == stored.id)
        {
            kept.description.clone_from(&description);
        }
        created
    };
    let Some((stored, secret)) = created else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("The workspace has no IDP with id \"{idp_id}\"."),
        ));
    };
    (state.on_change)();
    let body = json!({
        "id": stored.id,
        "idpId": stored.idp_id,
        "scimUrl": state.scim_url,
        "secret": secret.expose(),
        "createdAt": stored.created_at,
        "expiresAt": stored.expires_at,
        "description": description,
    });
    let location = format!("/api/admin/v1/scim/secrets/{}", stored.id);
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    // The only response that carries a secret: keep it out of every cache.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn revoke_secret(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let found = state.ws.lock().await.revoke_secret(&id);
    if !found {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No SCIM secret with id \"{id}\"."),
        ));
    }
    (state.on_change)();
    Ok(StatusCode::NO_CONTENT.into_response())
}
