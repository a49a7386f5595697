//! The sandbox's sign-in side: the Microsoft identity platform v2.0
//! endpoints the wizard uses, under `/{tenant}/oauth2/v2.0/`
//! (Entra docs `v2-oauth2-auth-code-flow.md`, `v2-oauth2-device-code.md`,
//! `reference-error-codes.md`):
//!
//! - `authorize`: authorization code with PKCE, `S256` only (the page
//!   recommends PKCE and S256; requiring both is the stricter reading,
//!   assumed). The sandbox approves at once and
//!   redirects to the loopback `redirect_uri` with `code` and `state`.
//! - `devicecode`: a device code; the first polls answer
//!   `authorization_pending` (the admin has not entered the code yet).
//! - `token`: the `authorization_code` (checks the verifier),
//!   `urn:ietf:params:oauth:grant-type:device_code` and `refresh_token`
//!   grants. Access tokens are random and expire after
//!   `access_token_lifetime_secs`; the sandbox's Graph accepts them until
//!   then (and the static `graph_token` always). With `openid` in scope an
//!   unsigned ID token names the tenant's `signedInUser`.
//! - [`SignInBehaviour`] simulates missing consent, a declined consent,
//!   Conditional Access on device code, and unknown tenants.
//!
//! Errors have Entra's shape: `error`, `error_description` starting with
//! the AADSTS code, `error_codes`, `timestamp`, `trace_id`, `correlation_id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Shared;
use crate::platform::secret::Secret;

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
    /// The delegated Graph permissions the sandbox's static `graph_token`
    /// carries (default: exactly the ones the wizard requests,
    /// `signin::GRAPH_PERMISSIONS`), so a test or an automation token can
    /// lack one and meet Graph's 403.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_token_scopes: Option<Vec<String>>,
    /// The delegated Graph permissions admin consent covers in the tenant
    /// (default: whatever is asked). A sign-in asking for another one gets
    /// AADSTS65001 `consent_required`, as for a user who may not consent
    /// (`v2-permissions-and-consent.md`); `.default` gets exactly these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_scopes: Option<Vec<String>>,
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
/// Entra's default access token lifetime (60–90 minutes; 3599 s is common).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME_SECS: u64 = 3599;
/// Directory roles of the signed-in user when `roles` is not given.
pub const DEFAULT_ROLES: [&str; 1] = ["Application Administrator"];

/// What the sign-in side has done, for tests: tokens issued per grant and
/// `authorization_pending` answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginStats {
    pub authorization_code: u32,
    pub device_code: u32,
    pub refresh_token: u32,
    pub pending_polls: u32,
}

/// The sign-in side's state, in [`Shared`] so the Graph listener can check
/// the access tokens issued here.
pub(crate) struct LoginState {
    behaviour: SignInBehaviour,
    issued: Mutex<Issued>,
}

#[derive(Default)]
struct Issued {
    /// code → (`code_challenge`, `redirect_uri`, `client_id`, scope).
    codes: HashMap<String, (String, String, String, String)>,
    /// `device_code` → (polls so far, `client_id`, scope).
    devices: HashMap<String, (u32, String, String)>,
    /// refresh token → (`client_id`, scope); each is used once.
    refresh: HashMap<String, (String, String)>,
    /// access token → when it expires, and the Graph permissions it carries.
    access: HashMap<String, (Instant, Vec<String>)>,
    /// Every access and refresh token ever issued (secret-leak tests).
    every: Vec<Secret>,
    stats: LoginStats,
}

/// Whether the Graph listener should accept a bearer token.
pub(crate) enum AccessCheck {
    /// With the delegated permissions the token carries (`scp`).
    Valid(Vec<String>),
    Expired,
    Unknown,
}

impl LoginState {
    pub(crate) fn new(behaviour: SignInBehaviour) -> LoginState {
        LoginState {
            behaviour,
            issued: Mutex::default(),
        }
    }

    fn issued(&self) -> std::sync::MutexGuard<'_, Issued> {
        self.issued
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn check_access(&self, token: &str) -> AccessCheck {
        match self.issued().access.get(token) {
            Some((until, scopes)) if Instant::now() < *until => AccessCheck::Valid(scopes.clone()),
            Some(_) => AccessCheck::Expired,
            None => AccessCheck::Unknown,
        }
    }

    pub(crate) fn stats(&self) -> LoginStats {
        self.issued().stats
    }

    /// Forgets every access token issued so far (as a revoked session
    /// would); refresh tokens stay valid.
    /// Every access and refresh token issued so far.
    pub(crate) fn issued_tokens(&self) -> Vec<Secret> {
        self.issued().every.clone()
    }

    pub(crate) fn revoke_access_tokens(&self) {
        self.issued().access.clear();
    }

    /// The signed-in user's roles, by display name.
    pub(crate) fn roles(&self) -> Vec<String> {
        self.behaviour
            .roles
            .clone()
            .unwrap_or_else(|| DEFAULT_ROLES.map(String::from).to_vec())
    }

    /// Whether admin consent covers every Graph permission in `scope`.
    fn consented(&self, scope: &str) -> bool {
        let Some(granted) = &self.behaviour.granted_scopes else {
            return true;
        };
        scope
            .split_whitespace()
            .filter_map(crate::services::graph::permissions::permission_name)
            .filter(|p| *p != ".default")
            .all(|p| granted.iter().any(|g| g.eq_ignore_ascii_case(p)))
    }

    /// What `.default` stands for: the consented permissions.
    fn consented_set(&self) -> Vec<String> {
        self.behaviour
            .granted_scopes
            .clone()
            .unwrap_or_else(default_scopes)
    }

    /// The permissions of the static `graph_token`.
    pub(crate) fn graph_token_scopes(&self) -> Vec<String> {
        self.behaviour
            .graph_token_scopes
            .clone()
            .unwrap_or_else(default_scopes)
    }

    fn lifetime(&self) -> Duration {
        Duration::from_secs(
            self.behaviour
                .access_token_lifetime_secs
                .unwrap_or(DEFAULT_ACCESS_TOKEN_LIFETIME_SECS),
        )
    }
}

pub(crate) type LoginShared = Arc<Shared>;

pub(crate) fn router(shared: LoginShared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        // Entra's paths ignore case; its pages write both spellings.
        .route(
            "/{tenant}/federationmetadata/2007-06/federationmetadata.xml",
            get(super::entra::sso_metadata::federation_metadata),
        )
        .route(
            "/{tenant}/FederationMetadata/2007-06/FederationMetadata.xml",
            get(super::entra::sso_metadata::federation_metadata),
        )
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "invalid_request",
                90002,
                "The sandbox serves /{tenant}/oauth2/v2.0/authorize, /devicecode and /token, and /{tenant}/federationmetadata/2007-06/federationmetadata.xml.",
            )
        })
        .with_state(shared)
}

/// An error in Entra's shape.
fn error(status: StatusCode, code: &str, aadsts: u32, text: &str) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let timestamp = crate::platform::timefmt::now_rfc3339()
        .replace('T', " ")
        .replace('Z', "");
    (
        status,
        axum::Json(json!({
            "error": code,
            "error_description": format!(
                "AADSTS{aadsts}: {text} Trace ID: {id} Correlation ID: {correlation} Timestamp: {timestamp}Z"
            ),
            "error_codes": [aadsts],
            "timestamp": timestamp,
            "trace_id": id,
            "correlation_id": correlation,
        })),
    )
        .into_response()
}

fn random() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

/// AADSTS90002 unless the tenant segment names the sandbox's tenant (id or
/// domain) or is one of the multi-tenant aliases.
async fn check_tenant(shared: &Shared, tenant: &str) -> Result<(), Response> {
    let entra = shared.entra.lock().await;
    let known = [
        "organizations",
        "common",
        &entra.tenant.id,
        &entra.tenant.domain,
    ];
    if known.iter().any(|k| k.eq_ignore_ascii_case(tenant)) {
        return Ok(());
    }
    Err(error(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    ))
}

fn consent_required_text(client_id: &str) -> String {
    format!(
        "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource."
    )
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
    State(shared): State<LoginShared>,
    Path(tenant): Path<String>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if let Err(refused) = check_tenant(&shared, &tenant).await {
        // Entra shows this on its own page: there is no redirect.
        return refused;
    }
    let login = &shared.login;
    let (Some(client_id), Some(redirect)) = (q.client_id, q.redirect_uri) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900_144,
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
    if !crate::platform::http::is_loopback(&redirect_url) {
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
    let scope = q.scope.clone().unwrap_or_default();
    match login.behaviour.consent {
        Consent::Granted if !login.consented(&scope) => {
            let text = format!("AADSTS65001: {}", consent_required_text(&client_id));
            return fail(back, "consent_required", &text, &q.state);
        }
        Consent::Granted => {}
        Consent::Required => {
            let text = format!("AADSTS65001: {}", consent_required_text(&client_id));
            return fail(back, "consent_required", &text, &q.state);
        }
        Consent::Declined => {
            return fail(
                back,
                "access_denied",
                "AADSTS65004: User declined to consent to access the app.",
                &q.state,
            );
        }
    }
    let code = random();
    login
        .issued()
        .codes
        .insert(code.clone(), (challenge, redirect, client_id, scope));
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
    State(shared): State<LoginShared>,
    Path(tenant): Path<String>,
    Form(f): Form<DeviceCodeForm>,
) -> Response {
    if let Err(refused) = check_tenant(&shared, &tenant).await {
        return refused;
    }
    let Some(client_id) = f.client_id else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900_144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let device = random();
    let user_code: String = uuid::Uuid::new_v4().simple().to_string()[..9].to_uppercase();
    shared
        .login
        .issued()
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

/// Which grant issued the tokens (for [`LoginStats`]).
enum Grant {
    Code,
    Device,
    Refresh,
}

async fn token(
    State(shared): State<LoginShared>,
    Path(tenant): Path<String>,
    Form(f): Form<TokenForm>,
) -> Response {
    if let Err(refused) = check_tenant(&shared, &tenant).await {
        return refused;
    }
    let login = &shared.login;
    let (grant, scope) = match redeem(login, &f) {
        Ok(granted) => granted,
        Err(refused) => return refused,
    };
    let id_token = if scope.split_whitespace().any(|s| s == "openid") {
        let entra = shared.entra.lock().await;
        Some(id_token(
            &entra.tenant.id,
            entra.me(),
            f.client_id.as_deref().unwrap_or_default(),
        ))
    } else {
        None
    };
    let lifetime = login.lifetime();
    let access = Secret::generate(48);
    let refresh = random();
    {
        let mut issued = login.issued();
        issued.access.insert(
            access.expose().to_string(),
            (
                Instant::now() + lifetime,
                granted_permissions(&scope, &login.consented_set()),
            ),
        );
        issued.refresh.insert(
            refresh.clone(),
            (f.client_id.clone().unwrap_or_default(), scope.clone()),
        );
        issued.every.push(access.clone());
        issued.every.push(Secret::new(refresh.clone()));
        let stats = &mut issued.stats;
        match grant {
            Grant::Code => stats.authorization_code += 1,
            Grant::Device => stats.device_code += 1,
            Grant::Refresh => stats.refresh_token += 1,
        }
    }
    let mut body = json!({
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": lifetime.as_secs(),
        "ext_expires_in": lifetime.as_secs(),
        "access_token": access.expose(),
        "refresh_token": refresh,
    });
    if let Some(id) = id_token {
        body["id_token"] = json!(id);
    }
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// What the wizard asks for: the sandbox's "admin consent already given".
fn default_scopes() -> Vec<String> {
    crate::services::signin::GRAPH_PERMISSIONS
        .map(String::from)
        .to_vec()
}

/// The Graph permissions an access token carries: the ones requested
/// (`v2-permissions-and-consent.md`: the token's `scp` holds the consented
/// scopes asked for); `.default` stands for every consented one.
fn granted_permissions(scope: &str, consented: &[String]) -> Vec<String> {
    let mut granted: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        match crate::services::graph::permissions::permission_name(s) {
            Some(".default") => granted.extend(consented.iter().cloned()),
            Some(p) => granted.push(p.to_string()),
            None => {}
        }
    }
    granted.sort();
    granted.dedup();
    granted
}

/// Checks a token request; the grant and its scope, or Entra's refusal.
fn redeem(login: &LoginState, f: &TokenForm) -> Result<(Grant, String), Response> {
    let mut issued = login.issued();
    match f.grant_type.as_deref() {
        Some("authorization_code") => {
            let Some((challenge, redirect, client, scope)) =
                f.code.as_ref().and_then(|c| issued.codes.remove(c))
            else {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity or was already redeemed.",
                ));
            };
            if f.redirect_uri.as_deref() != Some(redirect.as_str())
                || f.client_id.as_deref() != Some(client.as_str())
            {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    50148,
                    "The code was issued to another redirect URI or client.",
                ));
            }
            let computed = f.code_verifier.as_deref().map(|v| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(Sha256::digest(v.as_bytes()))
            });
            if computed.as_deref() != Some(challenge.as_str()) {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    501_481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                ));
            }
            Ok((Grant::Code, scope))
        }
        Some(DEVICE_CODE_GRANT) => {
            let Some(entry) = f
                .device_code
                .as_ref()
                .and_then(|d| issued.devices.get_mut(d))
            else {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid or has expired.",
                ));
            };
            if entry.0 < PENDING_POLLS {
                entry.0 += 1;
                issued.stats.pending_polls += 1;
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
            let (client, scope) = (entry.1.clone(), entry.2.clone());
            if let Some(d) = &f.device_code {
                issued.devices.remove(d);
            }
            // The admin has now entered the code: what happens next.
            if login.behaviour.device_code == DeviceCodePolicy::BlockedByConditionalAccess {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    53003,
                    "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
                ));
            }
            match login.behaviour.consent {
                Consent::Granted if !login.consented(&scope) => Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    65001,
                    &consent_required_text(&client),
                )),
                Consent::Granted => Ok((Grant::Device, scope)),
                Consent::Required => Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    65001,
                    &consent_required_text(&client),
                )),
                Consent::Declined => Err(error(
                    StatusCode::BAD_REQUEST,
                    "authorization_declined",
                    70000,
                    "The user declined to authorize the request.",
                )),
            }
        }
        Some("refresh_token") => {
            let Some((_, scope)) = f
                .refresh_token
                .as_ref()
                .and_then(|r| issued.refresh.remove(r))
            else {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    70008,
                    "The provided authorization code or refresh token has expired due to inactivity or was already redeemed.",
                ));
            };
            Ok((Grant::Refresh, scope))
        }
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        )),
    }
}

/// An unsigned, JWT-shaped ID token (`header.payload.`): enough for a
/// client that reads the claims for display, as the wizard does.
fn id_token(tenant_id: &str, user: Option<&super::tenant::User>, client_id: &str) -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut claims = json!({
        "aud": client_id,
        "iss": format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
        "iat": now,
        "exp": now + 3600,
        "tid": tenant_id,
        "ver": "2.0",
    });
    if let Some(u) = user {
        claims["name"] = json!(u.display_name);
        claims["preferred_username"] = json!(u.user_principal_name);
        claims["oid"] = json!(u.id);
    }
    format!(
        "{}.{}.",
        b64(json!({"typ": "JWT", "alg": "none"})),
        b64(claims)
    )
}
