//! The simulated Orchidea workspace: the admin API of `docs/orchidea-admin-api.md` plus the SCIM endpoint, on loopback.
//!
//! Only SHA-256 hashes of the admin token and of SCIM secrets are kept, as a
//! real service would; a secret's value exists once, in the create response.

mod idp;
pub mod saml_metadata;
mod secret;

pub use idp::{IdpRefusal, METADATA_MAX_BYTES, StoredSamlIdp};

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use super::faults::Faults;
use super::scim;
use super::traffic::{RequestLog, Server};
use crate::platform::secret::Secret;
use crate::services::orchidea::{Idp, SecretInfo};

/// A SCIM user exactly as Entra sent it, plus `id` and `meta`.
pub type ScimUser = Value;

/// A SCIM secret as the workspace keeps it: the hash, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSecret {
    pub id: String,
    pub idp_id: String,
    pub sha256: String,
    pub last4: String,
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    /// Free text the creator gave (assumed contract field, see
    /// `docs/orchidea-admin-api.md`); listed with the metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl StoredSecret {
    /// Past its `expiresAt` at `now`. An `expiresAt` that cannot be read
    /// counts as expired (the stricter reading).
    pub fn expired_at(&self, now: SystemTime) -> bool {
        self.expires_at
            .as_deref()
            .is_some_and(|e| parse_rfc3339(e).is_none_or(|at| at <= now))
    }

    pub fn info(&self) -> SecretInfo {
        SecretInfo {
            id: self.id.clone(),
            idp_id: self.idp_id.clone(),
            last4: self.last4.clone(),
            created_at: self.created_at.clone(),
            expires_at: self.expires_at.clone(),
            revoked: self.revoked,
            description: self.description.clone(),
        }
    }
}

/// One Orchidea workspace: settings, secrets and the SCIM store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub name: String,
    pub idps: Vec<Idp>,
    /// The SAML details of `idps` of kind `saml` (#17, "+ Add new IDP").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saml_idps: Vec<StoredSamlIdp>,
    #[serde(default)]
    pub secrets: Vec<StoredSecret>,
    pub admin_token_sha256: String,
    #[serde(default)]
    pub users: Vec<ScimUser>,
    #[serde(default)]
    pub groups: Vec<Value>,
    /// SCIM serves `/Groups` (and lists `Group` in `/ResourceTypes`). Orchidea
    /// publishes nothing about groups: serving them is assumed (tenant file
    /// `orchidea.scimGroups`, docs/sandbox-tenant.md).
    #[serde(default = "serves_groups")]
    pub scim_groups: bool,
    /// Days a new SCIM secret lives (`expiresAt` = `createdAt` + this);
    /// `None`: secrets do not expire (tenant file
    /// `orchidea.secretLifetimeDays`, docs/sandbox-tenant.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_lifetime_days: Option<u32>,
    /// Fast lookups into `users` (derived, never saved).
    #[serde(skip)]
    pub scim_index: super::scim::index::ScimIndex,
}

fn serves_groups() -> bool {
    true
}

pub type SharedWorkspace = Arc<tokio::sync::Mutex<Workspace>>;

/// Called after every change, once the workspace lock is released, so the
/// owner can persist the state. It must not block.
pub type OnChange = Arc<dyn Fn() + Send + Sync>;

impl Workspace {
    /// A workspace with the three IDPs Orchidea offers, Entra the default.
    pub fn new_default(admin_token: &Secret) -> Self {
        let idp = |id: &str, name: &str, kind: &str, default: bool| Idp {
            id: id.into(),
            name: name.into(),
            kind: kind.into(),
            default,
            reply_url: None,
        };
        Self {
            name: "Contoso Innovation (sandbox)".into(),
            idps: vec![
                idp("idp-entra", "Microsoft Entra ID", "entra-id", true),
                idp("idp-google", "Google Workspace", "google", false),
                idp("idp-password", "Orchidea password", "password", false),
            ],
            saml_idps: Vec::new(),
            secrets: Vec::new(),
            admin_token_sha256: sha256_hex(admin_token.expose()),
            users: Vec::new(),
            groups: Vec::new(),
            scim_groups: true,
            secret_lifetime_days: None,
            scim_index: super::scim::index::ScimIndex::default(),
        }
    }

    pub fn into_shared(self) -> SharedWorkspace {
        Arc::new(tokio::sync::Mutex::new(self))
    }

    /// Replaces the admin token (e.g. a persisted workspace with a new run's token).
    pub fn set_admin_token(&mut self, admin_token: &Secret) {
        self.admin_token_sha256 = sha256_hex(admin_token.expose());
    }

    pub fn accepts_admin_token(&self, token: &str) -> bool {
        !token.is_empty() && sha256_hex(token) == self.admin_token_sha256
    }

    /// True when `token` is a SCIM secret of this workspace that is neither
    /// revoked nor expired (an expired secret is refused like a revoked one:
    /// assumed, `docs/orchidea-admin-api.md`).
    pub fn accepts_scim_token(&self, token: &str) -> bool {
        if token.is_empty() {
            return false;
        }
        let hash = sha256_hex(token);
        let now = SystemTime::now();
        self.secrets
            .iter()
            .any(|s| !s.revoked && s.sha256 == hash && !s.expired_at(now))
    }

    /// Creates a SCIM secret for `idp_id`: 40 random characters, only the
    /// hash kept. `None` when the IDP does not exist.
    pub fn create_secret(&mut self, idp_id: &str) -> Option<(StoredSecret, Secret)> {
        let secret = Secret::generate(40);
        let stored = self.add_known_secret(&secret, idp_id)?;
        Some((stored, secret))
    }

    /// Registers a secret chosen elsewhere (standalone servers, tests).
    pub fn add_known_secret(&mut self, secret: &Secret, idp_id: &str) -> Option<StoredSecret> {
        if !self.idps.iter().any(|i| i.id == idp_id) {
            return None;
        }
        let now = SystemTime::now();
        let expires_at = self.secret_lifetime_days.and_then(|days| {
            now.checked_add(Duration::from_secs(u64::from(days) * 86_400))
                .map(|at| humantime::format_rfc3339_seconds(at).to_string())
        });
        let stored = StoredSecret {
            id: format!("scs_{}", uuid::Uuid::new_v4().simple()),
            idp_id: idp_id.to_string(),
            sha256: sha256_hex(secret.expose()),
            last4: secret.last4(),
            created_at: humantime::format_rfc3339_seconds(now).to_string(),
            expires_at,
            revoked: false,
            description: None,
        };
        self.secrets.push(stored.clone());
        Some(stored)
    }

    /// Revokes a secret; `false` when there is none with that id.
    pub fn revoke_secret(&mut self, id: &str) -> bool {
        match self.secrets.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.revoked = true;
                true
            }
            None => false,
        }
    }

    pub fn default_idp(&self) -> Option<&Idp> {
        crate::services::orchidea::pick_idp(&self.idps, None).ok()
    }

    /// What a test or the CLI may look at: SCIM users and groups as stored,
    /// secrets as metadata (no hashes).
    pub fn dump(&self) -> Value {
        json!({
            "name": self.name,
            "idps": self.idps,
            "samlIdps": self.saml_idps.iter().map(|s| json!({
                "id": s.id,
                "entityId": s.entity_id,
                "ssoUrl": s.sso_url,
                "signingCertificates": s.signing_certificates,
                "metadataSha256": s.metadata_sha256,
                "attributes": s.attributes,
                "emailDomains": s.email_domains,
            })).collect::<Vec<_>>(),
            "secrets": self.secrets.iter().map(StoredSecret::info).collect::<Vec<_>>(),
            "users": self.users,
            "groups": self.groups,
        })
    }
}

/// An RFC 3339 UTC time as the sandbox writes it (`…Z`, optional fraction).
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(text.trim().trim_end_matches('Z')).ok()
}

pub(crate) fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The SCIM base of a workspace served at `public_url`: `{public_url}/scim/v2`.
pub fn scim_base(public_url: &Url) -> Url {
    scim_base_of(public_url.clone())
}

fn scim_base_of(mut url: Url) -> Url {
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(["scim", "v2"]);
    }
    url
}

#[derive(Clone)]
struct AdminState {
    ws: SharedWorkspace,
    scim_url: Url,
    on_change: OnChange,
}

/// The workspace's HTTP surface: `/api/admin/v1/...` and `/scim/v2/...`.
/// `public_url` is where it is served (`http://127.0.0.1:port`).
pub fn router(ws: SharedWorkspace, public_url: Url, on_change: OnChange) -> Router {
    router_with_faults(
        ws,
        public_url,
        on_change,
        Faults::default(),
        RequestLog::default(),
    )
}

/// [`router`] with injected faults on the admin API and the SCIM endpoints
/// (the web UI never fails on purpose), and the request log.
pub(crate) fn router_with_faults(
    ws: SharedWorkspace,
    public_url: Url,
    on_change: OnChange,
    faults: Faults,
    log: RequestLog,
) -> Router {
    let scim_url = scim_base_of(public_url);
    let admin = AdminState {
        ws: ws.clone(),
        scim_url: scim_url.clone(),
        on_change: on_change.clone(),
    };
    Router::new()
        .route("/api/admin/v1/workspace", get(workspace))
        .merge(idp::routes())
        .merge(secret::routes())
        .route("/api/admin/v1/{*rest}", any(unknown_endpoint))
        .with_state(admin)
        .layer(axum::middleware::from_fn_with_state(
            faults.clone(),
            super::faults::admin_layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (log.clone(), Server::OrchideaAdmin),
            super::traffic::record,
        ))
        .merge(super::webui::router(
            ws.clone(),
            scim_url.clone(),
            on_change.clone(),
        ))
        .merge(
            Router::new()
                .nest(
                    "/scim/v2",
                    scim::router(scim::ScimState {
                        ws,
                        base_url: scim_url,
                        on_change,
                    }),
                )
                // Outside the nest, so a fault's path sees `/scim/v2/...`.
                .layer(axum::middleware::from_fn_with_state(
                    faults,
                    super::faults::scim_layer,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    (log, Server::Scim),
                    super::traffic::record,
                )),
        )
}

/// An error in the admin API's format: `{"error":{"code","message"}}`.
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"orchidea-admin\""),
            );
        }
        response
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn authorize(state: &AdminState, headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = match bearer(headers) {
        Some(token) => state.ws.lock().await.accepts_admin_token(token),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The admin API token is missing, wrong or revoked.",
        ))
    }
}

async fn workspace(
    State(state): State<AdminState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let name = state.ws.lock().await.name.clone();
    Ok(axum::Json(json!({ "name": name, "scimUrl": state.scim_url })).into_response())
}

async fn unknown_endpoint(
    State(state): State<AdminState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such admin API endpoint.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_by_hash() {
        let admin = Secret::new("admin-token-1");
        let mut ws = Workspace::new_default(&admin);
        assert!(ws.accepts_admin_token("admin-token-1"));
        assert!(!ws.accepts_admin_token("admin-token-2"));
        assert!(!ws.accepts_admin_token(""));
        let (stored, secret) = ws.create_secret("idp-entra").unwrap();
        assert_eq!(secret.expose().len(), 40);
        assert!(ws.accepts_scim_token(secret.expose()));
        assert!(!ws.accepts_scim_token("nope"));
        let state = serde_json::to_string(&ws).unwrap();
        assert!(!state.contains(secret.expose()), "only the hash is stored");
        assert!(!state.contains("admin-token-1"));
        assert!(ws.revoke_secret(&stored.id));
        assert!(!ws.accepts_scim_token(secret.expose()));
        assert!(!ws.revoke_secret("missing"));
        assert!(ws.create_secret("idp-unknown").is_none());
    }

    #[test]
    fn secrets_get_an_expiry_from_the_lifetime_and_are_refused_past_it() {
        let mut ws = Workspace::new_default(&Secret::new("a"));
        let (forever, forever_value) = ws.create_secret("idp-entra").unwrap();
        assert_eq!(forever.expires_at, None);
        ws.secret_lifetime_days = Some(20);
        let (stored, secret) = ws.create_secret("idp-entra").unwrap();
        let created = parse_rfc3339(&stored.created_at).unwrap();
        let expires = parse_rfc3339(stored.expires_at.as_deref().unwrap()).unwrap();
        assert_eq!(
            expires.duration_since(created).unwrap(),
            Duration::from_secs(20 * 86_400)
        );
        assert!(ws.accepts_scim_token(secret.expose()));
        assert!(!stored.expired_at(expires - Duration::from_secs(1)));
        assert!(stored.expired_at(expires));
        ws.secrets[1].expires_at = Some("2020-01-01T00:00:00Z".into());
        assert!(!ws.accepts_scim_token(secret.expose()), "expired");
        ws.secrets[1].expires_at = Some("soon".into());
        assert!(
            !ws.accepts_scim_token(secret.expose()),
            "unreadable: refused"
        );
        assert!(ws.accepts_scim_token(forever_value.expose()));
    }

    #[test]
    fn dump_shows_metadata_not_hashes_and_round_trips() {
        let mut ws = Workspace::new_default(&Secret::new("a"));
        let (stored, _) = ws.create_secret("idp-google").unwrap();
        let dump = ws.dump();
        assert_eq!(dump["secrets"][0]["last4"], stored.last4.as_str());
        assert_eq!(dump["secrets"][0]["idpId"], "idp-google");
        assert!(!dump.to_string().contains(&stored.sha256));
        let back: Workspace = serde_json::from_str(&serde_json::to_string(&ws).unwrap()).unwrap();
        assert_eq!(back, ws);
        assert_eq!(ws.default_idp().unwrap().id, "idp-entra");
    }

    #[test]
    fn scim_base_appends_the_path() {
        let u: Url = "http://127.0.0.1:4000".parse().unwrap();
        assert_eq!(scim_base(&u).as_str(), "http://127.0.0.1:4000/scim/v2");
        let u: Url = "http://127.0.0.1:4000/ws/".parse().unwrap();
        assert_eq!(scim_base(&u).as_str(), "http://127.0.0.1:4000/ws/scim/v2");
    }
}
