//! Signing in to Microsoft Entra ID (#4): authorization code + PKCE through
//! the system browser and a loopback redirect, device code as the fallback,
//! refresh during a run, and the role check before any step.
//!
//! Contract (docs/sign-in.md): the `oauth2` crate does the protocol; this
//! module adds Entra's extra fields, AADSTS errors in plain words and a
//! [`Session`] that the Graph client asks for tokens.
//!
//! Submodules: `errors` (AADSTS → [`SignInError`]), `protocol` (the oauth2
//! client and the token boundary), `browser` (loopback redirect), `device`,
//! `session` ([`Session`], the Graph client's [`TokenSource`]) and `roles`.

mod browser;
mod device;
mod errors;
mod oauth_http;
mod protocol;
mod roles;
mod session;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use url::Url;

use crate::platform::cloud::Cloud;
use crate::platform::secret::Secret;
use crate::services::graph::GraphError;

pub use self::browser::BROWSER_TIMEOUT;
pub use self::errors::{Support, classify};
pub use self::session::Session;

/// The Graph permissions the steps need (docs/sign-in.md, "Scopes", says
/// which endpoint needs which), as names on the Graph resource.
pub const GRAPH_PERMISSIONS: [&str; 8] = [
    "Application.ReadWrite.All",
    // Assigning a group needs both (serviceprincipal-post-approleassignedto.md
    // lists only the pair; Application.ReadWrite.All does not stand in).
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "Synchronization.ReadWrite.All",
    "AuditLog.Read.All",
    "User.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
];

/// `OpenID` Connect scopes: `offline_access` for a refresh token, `openid
/// profile` for the ID token the account name is read from.
pub const OIDC_SCOPES: [&str; 3] = ["offline_access", "openid", "profile"];

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
        let mut scopes = self.graph_scopes();
        scopes.extend(OIDC_SCOPES.map(String::from));
        scopes
    }

    /// The Graph scopes alone (full URIs), as admin consent asks for them.
    pub fn graph_scopes(&self) -> Vec<String> {
        let origin = self.graph_url.origin().ascii_serialization();
        GRAPH_PERMISSIONS
            .iter()
            .map(|p| format!("{origin}/{p}"))
            .collect()
    }

    /// Where an administrator grants the wizard's permissions for the
    /// whole tenant (`v2-admin-consent.md`).
    pub fn admin_consent_url(&self) -> Url {
        let mut url = self.login_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend([self.tenant.as_str(), "v2.0", "adminconsent"]);
        }
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", &self.graph_scopes().join(" "));
        url
    }
}

/// The signed-in account, from the ID token (display only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub name: Option<String>,
    pub username: Option<String>,
    pub tenant_id: Option<String>,
}

impl Account {
    /// "Name (user@domain)", or what there is of it.
    pub fn describe(&self) -> String {
        match (&self.name, &self.username) {
            (Some(n), Some(u)) => format!("{n} ({u})"),
            (None, Some(u)) => u.clone(),
            (Some(n), None) => n.clone(),
            (None, None) => "the account you chose".into(),
        }
    }
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
    fn open(&self, url: &Url) -> BoxFuture<'_, Result<(), String>> {
        let url = url.to_string();
        Box::pin(async move {
            // Launchers can block for hundreds of milliseconds.
            tokio::task::spawn_blocking(move || webbrowser::open(&url))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("the browser could not be opened ({e})"))
        })
    }
}

/// Sign-in failures in the admin's words (`Display`); the AADSTS code and
/// Entra's trace and correlation ids stay available for support.
pub use self::errors::SignInError;

impl SignInError {
    /// Whether Entra condemned the refresh token itself, so a remembered
    /// one should be dropped: `invalid_grant` (RFC 6749 §5.2: the grant
    /// or refresh token is invalid, expired or revoked) and the AADSTS
    /// codes docs/sign-in.md lists as "sign in again" (`ExpiredSignIn`).
    /// Everything else keeps it: a network failure, an answer that is no
    /// OAuth answer (an HTML page from a proxy or captive portal, a 5xx),
    /// Entra's outages, and refusals a fix elsewhere clears (consent,
    /// Conditional Access, a wrong tenant or client).
    pub fn is_sign_in_again(&self) -> bool {
        match self {
            SignInError::ExpiredSignIn { .. } => true,
            SignInError::Other { code, .. } => {
                code == "invalid_grant" || code.starts_with("invalid_grant,")
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod sign_in_again_tests {
    use super::*;

    #[test]
    fn only_a_condemned_token_means_sign_in_again() {
        let expired = SignInError::ExpiredSignIn {
            support: Support::default(),
        };
        assert!(expired.is_sign_in_again());
        assert!(classify("invalid_grant", None).is_sign_in_again());
        assert!(classify("invalid_grant", Some("AADSTS70008: expired")).is_sign_in_again());
        assert!(classify("invalid_grant", Some("AADSTS50173: revoked")).is_sign_in_again());
        // invalid_grant with a code the table does not name still condemns it.
        assert!(classify("invalid_grant", Some("AADSTS9002313: bad")).is_sign_in_again());
        assert!(!SignInError::Network("reset".into()).is_sign_in_again());
        for (error, description) in [
            ("temporarily_unavailable", None),
            ("server_error", None),
            ("invalid_client", Some("AADSTS7000218: secret needed")),
            ("invalid_request", Some("AADSTS900144: missing")),
            ("interaction_required", Some("AADSTS50076: MFA")),
            ("invalid_grant", Some("AADSTS65001: consent")),
            ("invalid_grant", Some("AADSTS53003: blocked")),
            ("invalid_tenant", Some("AADSTS90002: not found")),
        ] {
            let e = classify(error, description);
            assert!(!e.is_sign_in_again(), "{error} {description:?} -> {e:?}");
        }
        for code in ["unreadable_response", "unexpected_response"] {
            let e = SignInError::Other {
                code: code.into(),
                description: String::new(),
            };
            assert!(!e.is_sign_in_again(), "{code}");
        }
    }
}

/// Authorization code + PKCE: serves `http://localhost:{ephemeral}`, opens
/// `opener` on the authorize URL (also handed to `on_url` so a window can
/// show it with a Copy button), waits for the redirect, redeems the code.
pub async fn sign_in_with_browser(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    opener: &dyn UrlOpener,
    on_url: &(dyn Fn(&Url) + Send + Sync),
) -> Result<Tokens, SignInError> {
    browser::sign_in(cfg, http, opener, on_url).await
}

/// Device code: `on_prompt` gets the code to show, then polls until the
/// admin finishes, declines, or the code expires.
pub async fn sign_in_with_device_code(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    on_prompt: &(dyn Fn(&DeviceCodePrompt) + Send + Sync),
) -> Result<Tokens, SignInError> {
    device::sign_in(cfg, http, on_prompt).await
}

/// A remembered refresh token for fresh tokens (and a rotated refresh token).
pub async fn redeem_refresh_token(
    cfg: &SignInConfig,
    http: &reqwest::Client,
    refresh: &Secret,
) -> Result<Tokens, SignInError> {
    let client = protocol::client(cfg)?;
    let token = oauth2::RefreshToken::new(refresh.expose().to_string());
    let response = client
        .exchange_refresh_token(&token)
        .add_scopes(cfg.scopes().into_iter().map(oauth2::Scope::new))
        .request_async(&protocol::http(http))
        .await
        .map_err(|e| protocol::request_error(cfg, e))?;
    Ok(protocol::tokens(response, Some(refresh)))
}

/// Called with every rotated refresh token (to store it when "Remember me" is on).
pub type OnRotate = Arc<dyn Fn(&Secret) + Send + Sync>;

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
        roles::message(self)
    }
}

/// Reads the signed-in admin's active directory roles from Graph
/// (`GET /me/transitiveMemberOf/microsoft.graph.directoryRole`, so roles
/// held through role-assignable groups count too).
pub async fn check_roles(
    graph: &crate::services::graph::GraphClient,
) -> Result<RoleCheck, GraphError> {
    roles::check(graph).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_full_uris_on_the_graph_origin() {
        let cfg = SignInConfig::for_cloud(Cloud::UsGov);
        let scopes = cfg.scopes();
        assert!(scopes.contains(&"https://graph.microsoft.us/Application.ReadWrite.All".into()));
        assert!(
            scopes.contains(&"https://graph.microsoft.us/Synchronization.ReadWrite.All".into())
        );
        assert!(scopes.contains(&"https://graph.microsoft.us/AuditLog.Read.All".into()));
        assert!(scopes.contains(&"offline_access".into()));
        let mut sandbox = SignInConfig::for_cloud(Cloud::Global);
        sandbox.graph_url = Url::parse("http://127.0.0.1:4711/v1.0").unwrap();
        assert!(
            sandbox
                .graph_scopes()
                .iter()
                .all(|s| s.starts_with("http://127.0.0.1:4711/") && !s.contains("v1.0"))
        );
        let consent = sandbox.admin_consent_url();
        assert_eq!(
            consent.path(),
            "/organizations/v2.0/adminconsent",
            "{consent}"
        );
        assert!(!consent.as_str().contains("offline_access"));
    }

    #[test]
    fn the_requested_permissions_cover_every_call_the_wizard_makes() {
        for rule in crate::services::graph::permissions::RULES {
            assert!(
                rule.allows(&GRAPH_PERMISSIONS),
                "{} {} ({}) needs {}",
                rule.method,
                rule.path,
                rule.page,
                rule.least()
            );
        }
    }

    #[test]
    fn debug_of_tokens_and_errors_shows_no_token() {
        let tokens = Tokens {
            access: Secret::new("eyJ0eXAiOiJKV1QiLCJhbGciOi-access-value"),
            expires_at: SystemTime::now(),
            refresh: Some(Secret::new("0.AAAA-refresh-token-value")),
            account: Account::default(),
        };
        let text = format!("{tokens:?}");
        assert!(!text.contains("access-value") && !text.contains("refresh-token-value"));
        for e in [
            classify("invalid_grant", Some("AADSTS70008: expired. Trace ID: abc")),
            SignInError::Network("connection refused".into()),
        ] {
            let text = format!("{e:?} {e}");
            assert!(!text.contains("access-value") && !text.contains("refresh-token-value"));
        }
    }
}
