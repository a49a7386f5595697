//! Signing in to Microsoft Entra ID (#4): authorization code + PKCE through
//! the system browser and a loopback redirect, device code as the fallback,
//! refresh during a run, and the role check before any step.
//!
//! Contract (docs/sign-in.md): the `oauth2` crate does the protocol; this
//! module adds Entra's extra fields, AADSTS errors in plain words and a
//! [`Session`] that the Graph client asks for tokens.
//!
//! SKELETON: the signatures here are the contract the CLI and the window
//! are written against; the bodies are being filled in.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use url::Url;

use crate::cloud::Cloud;
use crate::graph::{GraphError, TokenSource};
use crate::secret::Secret;

/// Microsoft Graph Command Line Tools: a Microsoft public client present in
/// every tenant that may ask for any Graph delegated scope (with consent),
/// allows `http://localhost` redirects and device code. The admin's own app
/// registration overrides it.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Tenant segment when none is given: any work or school account.
pub const DEFAULT_TENANT: &str = "organizations";

/// Where to sign in, and as which app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInConfig {
    pub cloud: Cloud,
    /// Identity platform base ending in `/` (the cloud's, or an override).
    pub login_url: Url,
    /// Graph v1.0 base (the cloud's, or an override); scopes are for its origin.
    pub graph_url: Url,
    /// Tenant id, domain, or `organizations`.
    pub tenant: String,
    pub client_id: String,
    /// `localhost` (what the portal registers) or `127.0.0.1`.
    pub redirect_host: RedirectHost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedirectHost {
    #[default]
    Localhost,
    Loopback127,
}

impl SignInConfig {
    /// The cloud's hosts, the default tenant and the default client.
    pub fn for_cloud(cloud: Cloud) -> Self {
        Self {
            cloud,
            login_url: cloud.login_url(),
            graph_url: cloud.graph_url(),
            tenant: DEFAULT_TENANT.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            redirect_host: RedirectHost::Localhost,
        }
    }

    /// The delegated scopes the steps need, as full URIs on the Graph
    /// origin, plus `offline_access` (docs/sign-in.md lists why each).
    pub fn scopes(&self) -> Vec<String> {
        todo!("signin: scopes")
    }
}

/// The signed-in account, from the ID token (display only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub name: Option<String>,
    pub username: Option<String>,
    pub tenant_id: Option<String>,
}

/// What a sign-in gives. `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: Secret,
    pub expires_at: SystemTime,
    /// Entra rotates it on every use; keep the newest.
    pub refresh: Option<Secret>,
    pub account: Account,
}

/// What the admin needs to finish a device-code sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodePrompt {
    pub user_code: String,
    pub verification_uri: Url,
    /// Entra's own sentence ("To sign in, use a web browser to open …").
    pub message: String,
    pub expires_in: Duration,
}

/// Opens the sign-in page. The system browser in the app; an HTTP GET in tests.
pub trait UrlOpener: Send + Sync {
    fn open(&self, url: &Url) -> BoxFuture<'_, Result<(), String>>;
}

/// The system browser (`webbrowser`, hardened: http(s) only), off the async threads.
pub struct SystemBrowser;

impl UrlOpener for SystemBrowser {
    fn open(&self, _url: &Url) -> BoxFuture<'_, Result<(), String>> {
        todo!("signin: SystemBrowser")
    }
}

/// Sign-in failures in the admin's words (`Display`); the AADSTS code and
/// Entra's description stay available for support.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("{0}")]
    Todo(String),
}

impl SignInError {
    /// Whether only a new interactive sign-in helps (a refresh token that
    /// expired or was revoked), as opposed to a network or service failure.
    pub fn is_sign_in_again(&self) -> bool {
        todo!("signin: is_sign_in_again")
    }
}

/// Authorization code + PKCE: serves `http://localhost:{ephemeral}`, opens
/// `opener` on the authorize URL (also handed to `on_url` so a window can
/// show it with a Copy button), waits for the redirect, redeems the code.
pub async fn sign_in_with_browser(
    _cfg: &SignInConfig,
    _http: &reqwest::Client,
    _opener: &dyn UrlOpener,
    _on_url: &(dyn Fn(&Url) + Send + Sync),
) -> Result<Tokens, SignInError> {
    todo!("signin: browser")
}

/// Device code: `on_prompt` gets the code to show, then polls until the
/// admin finishes, declines, or the code expires.
pub async fn sign_in_with_device_code(
    _cfg: &SignInConfig,
    _http: &reqwest::Client,
    _on_prompt: &(dyn Fn(&DeviceCodePrompt) + Send + Sync),
) -> Result<Tokens, SignInError> {
    todo!("signin: device code")
}

/// A remembered refresh token for fresh tokens (and a rotated refresh token).
pub async fn redeem_refresh_token(
    _cfg: &SignInConfig,
    _http: &reqwest::Client,
    _refresh: &Secret,
) -> Result<Tokens, SignInError> {
    todo!("signin: refresh")
}

/// Called with every rotated refresh token (to store it when "Remember me" is on).
pub type OnRotate = Arc<dyn Fn(&Secret) + Send + Sync>;

/// The signed-in session the Graph client draws tokens from: refreshes a
/// little before expiry and once after a 401.
pub struct Session {
    _private: (),
}

impl Session {
    pub fn new(
        _cfg: SignInConfig,
        _http: reqwest::Client,
        _tokens: Tokens,
        _on_rotate: Option<OnRotate>,
    ) -> Self {
        todo!("signin: Session")
    }

    pub fn account(&self) -> Account {
        todo!("signin: Session::account")
    }
}

impl TokenSource for Session {
    fn token(&self) -> BoxFuture<'_, Result<Secret, GraphError>> {
        todo!("signin: Session::token")
    }
}

/// The directory roles that may configure provisioning.
pub const ADMIN_ROLES: [&str; 3] = [
    "Application Administrator",
    "Cloud Application Administrator",
    "Global Administrator",
];

/// What the role check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleCheck {
    /// Holds at least one of [`ADMIN_ROLES`] (the ones held, by name).
    Sufficient(Vec<String>),
    /// Holds none of them; these are the roles held (maybe none).
    Insufficient(Vec<String>),
}

impl RoleCheck {
    /// The sentence for the admin.
    pub fn message(&self) -> String {
        todo!("signin: RoleCheck::message")
    }
}

/// Reads the signed-in admin's active directory roles from Graph.
pub async fn check_roles(_graph: &crate::graph::GraphClient) -> Result<RoleCheck, GraphError> {
    todo!("signin: check_roles")
}
