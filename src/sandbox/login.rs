//! The sandbox's sign-in side: the Microsoft identity platform v2.0
//! endpoints the wizard uses, under `/{tenant}/oauth2/v2.0/`
//! (Entra docs `v2-oauth2-auth-code-flow.md`, `v2-oauth2-device-code.md`,
//! `reference-error-codes.md`):
//!
//! - `authorize`: authorization code with PKCE (`S256` only, as Entra
//!   requires for public clients). The sandbox approves at once and
//!   redirects to the loopback `redirect_uri` with `code` and `state`.
//! - `devicecode`: a device code; the first polls answer
//!   `authorization_pending` (the admin has not entered the code yet).
//! - `token`: the `authorization_code` (checks the verifier),
//!   `urn:ietf:params:oauth:grant-type:device_code` and `refresh_token`
//!   grants. The access token is the one the sandbox's Graph accepts.
//!
//! Errors have Entra's shape: `error`, `error_description` starting with
//! the AADSTS code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// How the simulated identity platform behaves (tenant file `signIn`,
/// or [`super::SandboxOptions::sign_in`], which wins). The default signs
/// everyone in at once with consent already granted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SignInBehaviour {
    pub consent: Consent,
    pub device_code: DeviceCodePolicy,
    /// `expires_in` of access tokens, seconds (default 3599); the sandbox's
    /// Graph refuses an access token once it has expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime_secs: Option<u64>,
    /// Directory roles of the signed-in user, by display name (default:
    /// Application Administrator), as `/me`'s role membership shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// Whether the wizard's permissions have been consented in the tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Consent {
    /// Admin consent already given: sign-in just works.
    #[default]
    Granted,
    /// Nobody consented and the user may not: AADSTS65001 / AADSTS90094.
    Required,
    /// The user is asked and declines: AADSTS65004 (browser),
    /// `authorization_declined` (device code).
    Declined,
}

/// Conditional Access on device code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceCodePolicy {
    #[default]
    Allowed,
    /// A policy blocks the device code flow: AADSTS53003.
    BlockedByConditionalAccess,
}

/// Polls answered `authorization_pending` before a device code is approved.
pub const PENDING_POLLS: u32 = 2;
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

#[derive(Clone)]
pub(crate) struct Login {
    access_token: Secret,
    inner: Arc<Mutex<Issued>>,
}

#[derive(Default)]
struct Issued {
    /// code → (code_challenge, redirect_uri, client_id, scope).
    codes: HashMap<String, (String, String, String, String)>,
    /// device_code → (polls so far, client_id, scope).
    devices: HashMap<String, (u32, String, String)>,
    refresh: HashMap<String, (String, String)>,
}

pub(crate) fn router(access_token: Secret) -> Router {
    let state = Login {
        access_token,
        inner: Arc::default(),
    };
    Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "invalid_request",
                90002,
                "The sandbox serves /{tenant}/oauth2/v2.0/authorize, /devicecode and /token.",
            )
        })
        .with_state(state)
}

/// An error in Entra's shape.
fn error(status: StatusCode, code: &str, aadsts: u32, text: &str) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    (
        status,
        axum::Json(json!({
            "error": code,
            "error_description": format!("AADSTS{aadsts}: {text} Trace ID: {id}"),
            "error_codes": [aadsts],
            "timestamp": crate::timefmt::now_rfc3339().replace('T', " ").replace('Z', ""),
            "trace_id": id,
            "correlation_id": uuid::Uuid::new_v4().to_string(),
        })),
    )
        .into_response()
}

fn random() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

async fn authorize(
    State(login): State<Login>,
    Path(_tenant): Path<String>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let (Some(client_id), Some(redirect)) = (q.client_id, q.redirect_uri) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id' and 'redirect_uri'.",
        );
    };
    // Only loopback redirects: the sandbox never sends a code elsewhere.
    let Ok(redirect_url) = url::Url::parse(&redirect) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50011,
            "The redirect URI is not a URL.",
        );
    };
    if !crate::http::is_loopback(&redirect_url) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            50011,
            "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
        );
    }
    let mut back = redirect_url;
    let fail = |mut url: url::Url, code: &str, text: &str, state: &Option<String>| {
        url.query_pairs_mut()
            .append_pair("error", code)
            .append_pair("error_description", text);
        if let Some(s) = state {
            url.query_pairs_mut().append_pair("state", s);
        }
        Redirect::to(url.as_str()).into_response()
    };
    if q.response_type.as_deref() != Some("code") {
        return fail(
            back,
            "unsupported_response_type",
            "AADSTS70005: response_type must be 'code'.",
            &q.state,
        );
    }
    let challenge = match (q.code_challenge, q.code_challenge_method.as_deref()) {
        (Some(c), Some("S256")) if !c.is_empty() => c,
        _ => {
            return fail(
                back,
                "invalid_request",
                "AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption (code_challenge with method S256).",
                &q.state,
            );
        }
    };
    let code = random();
    login
        .inner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .codes
        .insert(
            code.clone(),
            (challenge, redirect, client_id, q.scope.unwrap_or_default()),
        );
    back.query_pairs_mut().append_pair("code", &code);
    if let Some(s) = &q.state {
        back.query_pairs_mut().append_pair("state", s);
    }
    Redirect::to(back.as_str()).into_response()
}

#[derive(Deserialize)]
struct DeviceCodeForm {
    client_id: Option<String>,
    scope: Option<String>,
}

async fn device_code(
    State(login): State<Login>,
    Path(tenant): Path<String>,
    Form(f): Form<DeviceCodeForm>,
) -> Response {
    let Some(client_id) = f.client_id else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let device = random();
    let user_code: String = uuid::Uuid::new_v4().simple().to_string()[..9].to_uppercase();
    login
        .inner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .devices
        .insert(device.clone(), (0, client_id, f.scope.unwrap_or_default()));
    let uri = format!("https://microsoft.com/devicelogin?sandbox={tenant}");
    axum::Json(json!({
        "user_code": user_code,
        "device_code": device,
        "verification_uri": uri,
        "expires_in": 900,
        "interval": 1,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
}

async fn token(
    State(login): State<Login>,
    Path(_tenant): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    let mut issued = login.inner.lock().unwrap_or_else(|p| p.into_inner());
    let scope = match f.grant_type.as_deref() {
        Some("authorization_code") => {
            let Some((challenge, redirect, client, scope)) =
                f.code.as_ref().and_then(|c| issued.codes.remove(c))
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity or was already redeemed.",
                );
            };
            if f.redirect_uri.as_deref() != Some(redirect.as_str())
                || f.client_id.as_deref() != Some(client.as_str())
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50148,
                    "The code was issued to another redirect URI or client.",
                );
            }
            let computed = f.code_verifier.as_deref().map(|v| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(Sha256::digest(v.as_bytes()))
            });
            if computed.as_deref() != Some(challenge.as_str()) {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                );
            }
            scope
        }
        Some(DEVICE_CODE_GRANT) => {
            let Some(entry) = f
                .device_code
                .as_ref()
                .and_then(|d| issued.devices.get_mut(d))
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid or has expired.",
                );
            };
            if entry.0 < PENDING_POLLS {
                entry.0 += 1;
                return error(
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                );
            }
            let scope = entry.2.clone();
            if let Some(d) = &f.device_code {
                issued.devices.remove(d);
            }
            scope
        }
        Some("refresh_token") => {
            let Some((_, scope)) = f
                .refresh_token
                .as_ref()
                .and_then(|r| issued.refresh.remove(r))
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70000,
                    "The refresh token is invalid or was already used.",
                );
            };
            scope
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            );
        }
    };
    let refresh = random();
    issued.refresh.insert(
        refresh.clone(),
        (f.client_id.clone().unwrap_or_default(), scope.clone()),
    );
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": login.access_token.expose(),
            "refresh_token": refresh,
        })),
    )
        .into_response()
}
