//! Orchidea's side of step 1: the admin API (contract in `docs/orchidea-admin-api.md`), its HTTP client, and the guided manual path.
//!
//! Orchidea publishes no admin API, so the wizard defines one behind
//! [`OrchideaAdmin`]; the manual path ([`ManualScim`]) always works: the admin
//! creates the secret in Orchidea's web UI and pastes the SCIM URL and secret,
//! which [`parse_scim_url`] and [`parse_secret`] check before the probe does.

use std::fmt;

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::platform::secret::Secret;

/// An identity provider configured in the workspace; SCIM-created users get one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idp {
    pub id: String,
    pub name: String,
    /// `entra-id`, `google`, `password`, … (free text; `entra-id` is preferred by default).
    pub kind: String,
    /// The workspace's default IDP.
    #[serde(default)]
    pub default: bool,
}

/// A SCIM secret just created. Its value is returned this once only.
#[derive(Clone)]
pub struct CreatedSecret {
    pub id: String,
    pub idp_id: String,
    pub scim_url: Url,
    pub secret: Secret,
    pub created_at: String,
    pub expires_at: Option<String>,
}

impl fmt::Debug for CreatedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedSecret")
            .field("id", &self.id)
            .field("idp_id", &self.idp_id)
            .field("scim_url", &self.scim_url.as_str())
            .field("secret", &self.secret.masked())
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What the admin API says about an existing secret: metadata, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub id: String,
    pub idp_id: String,
    pub last4: String,
    pub created_at: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    /// The text given at creation, if the deployment keeps one; the wizard
    /// finds its own creates by it after a lost answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The workspace the admin token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceInfo {
    pub name: String,
    /// The SCIM base URL Entra's Tenant URL must hold (`…/scim/v2`).
    pub scim_url: Url,
}

/// The operations step 1 needs from Orchidea (see `docs/orchidea-admin-api.md`).
pub trait OrchideaAdmin: Send + Sync {
    /// The workspace; also the cheapest way to validate the admin token.
    fn workspace(&self) -> BoxFuture<'_, Result<WorkspaceInfo, OrchideaError>>;
    fn list_idps(&self) -> BoxFuture<'_, Result<Vec<Idp>, OrchideaError>>;
    /// Creates a secret for SCIM-created users of `idp_id`; the value is returned once.
    fn create_scim_secret(
        &self,
        idp_id: &str,
    ) -> BoxFuture<'_, Result<CreatedSecret, OrchideaError>>;
    /// [`Self::create_scim_secret`] with a `description` Orchidea keeps and
    /// lists, so a create whose answer was lost can be found again; a
    /// deployment without descriptions ignores it (the default).
    fn create_described_scim_secret(
        &self,
        idp_id: &str,
        description: &str,
    ) -> BoxFuture<'_, Result<CreatedSecret, OrchideaError>> {
        let _ = description;
        self.create_scim_secret(idp_id)
    }
    fn list_scim_secrets(&self) -> BoxFuture<'_, Result<Vec<SecretInfo>, OrchideaError>>;
    /// Revokes a secret; revoking a revoked secret succeeds.
    fn revoke_scim_secret(&self, id: &str) -> BoxFuture<'_, Result<(), OrchideaError>>;
}

/// The guided manual path: what the admin pasted from Orchidea's web UI.
#[derive(Debug, Clone)]
pub struct ManualScim {
    pub scim_url: Url,
    pub secret: Secret,
}

impl ManualScim {
    /// Validates both pasted values with the messages of [`parse_scim_url`] and [`parse_secret`].
    pub fn parse(scim_url: &str, secret: &str) -> Result<Self, OrchideaError> {
        Ok(Self {
            scim_url: parse_scim_url(scim_url)?,
            secret: parse_secret(secret)?,
        })
    }
}

/// Everything that can go wrong talking to Orchidea or reading pasted values.
/// `Display` is the sentence the admin reads: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrchideaError {
    #[error(
        "Orchidea rejected the admin API token (401). Create an admin API token in Orchidea's workspace admin and paste it again, or take the manual path: create the SCIM secret in Orchidea's web UI and paste the SCIM URL and secret."
    )]
    TokenRejected,
    #[error(
        "The admin API token is valid but may not do this (403: {message}). Use a token of a workspace admin, or take the manual path and create the SCIM secret in Orchidea's web UI."
    )]
    Forbidden { message: String },
    #[error(
        "Orchidea has no admin API at {url} (404). Check the workspace URL (the address you open Orchidea at, e.g. https://yourcompany.orchidea.com), or take the manual path."
    )]
    NotFound { url: String },
    #[error(
        "Orchidea has no SCIM secret with id \"{id}\" (404). Refresh the list of secrets; it may have been deleted."
    )]
    SecretNotFound { id: String },
    #[error(
        "Orchidea redirected the request to {location}. Use that address as the workspace URL (the wizard does not follow redirects, so the token is never sent elsewhere)."
    )]
    Redirected { location: String },
    #[error(
        "Could not reach Orchidea at {url}: {detail}. Check the workspace URL, your network and proxy settings, then retry."
    )]
    Transport { url: String, detail: String },
    #[error(
        "Orchidea answered HTTP {status} with a body the wizard does not understand ({detail}). The workspace may not offer the admin API: take the manual path and create the SCIM secret in Orchidea's web UI."
    )]
    UnexpectedResponse { status: u16, detail: String },
    #[error(
        "Orchidea refused the request (HTTP {status}, {code}): {message} Retry later; if it keeps failing, take the manual path."
    )]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    #[error(
        "The workspace has no identity providers. Add one in Orchidea (workspace admin → Authentication), then retry."
    )]
    NoIdps,
    #[error("The workspace has no IDP \"{wanted}\". Choose one of: {available}.")]
    IdpNotFound { wanted: String, available: String },
    #[error(
        "The workspace has several IDPs and none is marked default or is Microsoft Entra ID. Choose the one new users get: {available}."
    )]
    IdpChoiceNeeded { available: String },

    #[error(
        "The SCIM URL is empty. Paste the SCIM URL Orchidea shows under workspace admin → User management → SCIM."
    )]
    EmptyScimUrl,
    #[error(
        "\"{input}\" is not a URL. Paste the whole SCIM URL from Orchidea, starting with https://."
    )]
    NotAUrl { input: String },
    #[error(
        "The SCIM URL must use https:// (Entra only connects over HTTPS; http:// is accepted for this computer only). Paste the URL exactly as Orchidea shows it."
    )]
    NotHttps,
    #[error(
        "The SCIM URL points at this computer (localhost or 127.0.0.1). Entra runs in Microsoft's cloud and cannot reach it: paste the workspace's public https:// SCIM URL. Loopback addresses work only in the sandbox."
    )]
    LoopbackForRealTenant,
    #[error(
        "The SCIM URL contains a user name or password. Remove them: the SCIM secret goes in the secret field, not in the URL."
    )]
    CredentialsInUrl,
    #[error(
        "The SCIM URL has a query (?…) or fragment (#…). Paste it exactly as Orchidea shows it, ending in the SCIM base path (e.g. …/scim/v2)."
    )]
    QueryOrFragment,
    #[error(
        "Orchidea's admin API gave a SCIM URL the wizard does not use ({url}): {problem}. Nothing was changed in Entra.{revoked} Ask Orchidea's support about it, or take the manual path: paste the SCIM URL Orchidea's web UI shows."
    )]
    ApiScimUrl {
        /// Without user name or password, shortened.
        url: String,
        problem: String,
        /// " The SCIM secret it had just created was revoked." or empty.
        revoked: String,
    },
    #[error(
        "The SCIM secret is empty. Paste the secret Orchidea showed when you clicked \"Create new SCIM secret\"."
    )]
    EmptySecret,
    #[error(
        "The SCIM secret contains only spaces. Paste the secret Orchidea showed when you created it."
    )]
    BlankSecret,
    #[error(
        "The SCIM secret contains a line break, so part of another line was copied with it. Copy the secret again as a single line."
    )]
    SecretLineBreak,
    #[error(
        "The SCIM secret contains spaces inside it; Orchidea's secrets have none. Copy the secret again, without surrounding text."
    )]
    SecretInnerSpace,
    #[error("Paste only the secret itself, without the word \"Bearer\".")]
    SecretHasBearerPrefix,
    #[error(
        "That looks like a URL, not a secret. The SCIM URL and the SCIM secret go in separate fields."
    )]
    SecretLooksLikeUrl,
}

/// Validates a pasted SCIM URL.
///
/// Surrounding whitespace is trimmed silently (copying from a web page often
/// adds a space or newline) and trailing slashes are removed from the path,
/// since Entra appends `/Users` itself. Rejected: empty input, text that is
/// not an absolute URL, schemes other than https (http only for loopback
/// hosts, i.e. the sandbox), user info, and any query or fragment.
pub fn parse_scim_url(input: &str) -> Result<Url, OrchideaError> {
    parse_scim_url_for(input, true)
}

/// [`parse_scim_url`] for a run against `Graph`: a loopback SCIM URL is
/// only reachable when Entra is the sandbox on this computer
/// (`sandbox`); Microsoft's cloud can never call 127.0.0.1.
pub fn parse_scim_url_for(input: &str, sandbox: bool) -> Result<Url, OrchideaError> {
    let url = parse_scim_url_inner(input)?;
    if !sandbox && crate::platform::http::is_loopback(&url) {
        return Err(OrchideaError::LoopbackForRealTenant);
    }
    Ok(url)
}

fn parse_scim_url_inner(input: &str) -> Result<Url, OrchideaError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(OrchideaError::EmptyScimUrl);
    }
    let mut url = Url::parse(input).map_err(|_| OrchideaError::NotAUrl {
        input: shorten(input, 80),
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(OrchideaError::NotAUrl {
            input: shorten(input, 80),
        });
    }
    match url.scheme() {
        "https" => {}
        "http" if crate::platform::http::is_loopback(&url) => {}
        _ => return Err(OrchideaError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(OrchideaError::CredentialsInUrl);
    }
    // `Url` drops an empty "?" or "#", so look at the text as well.
    if url.query().is_some() || url.fragment().is_some() || input.contains(['?', '#']) {
        return Err(OrchideaError::QueryOrFragment);
    }
    let trimmed = url.path().trim_end_matches('/').to_string();
    if trimmed.len() < url.path().len() {
        url.set_path(if trimmed.is_empty() { "/" } else { &trimmed });
    }
    Ok(url)
}

/// A SCIM URL returned by the admin API, held to the rules of a pasted one
/// ([`parse_scim_url`]): `Err` is [`OrchideaError::ApiScimUrl`].
fn check_api_scim_url(url: &Url) -> Result<Url, OrchideaError> {
    parse_scim_url(url.as_str()).map_err(|e| {
        let problem = match e {
            OrchideaError::NotHttps => "it does not use https://",
            OrchideaError::CredentialsInUrl => "it contains a user name or password",
            OrchideaError::QueryOrFragment => "it has a query (?…) or fragment (#…)",
            _ => "it is not a URL with a host",
        };
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        OrchideaError::ApiScimUrl {
            url: shorten(shown.as_str(), 80),
            problem: problem.into(),
            revoked: String::new(),
        }
    })
}

/// Why Entra's provisioning service, which runs in Microsoft's cloud, may
/// not reach `url`'s host, or `None`. Entra reaches an app inside a private
/// network only through the provisioning agent of on-premises provisioning
/// (Entra docs `on-premises-scim-provisioning.md`,
/// `on-premises-application-provisioning-architecture.md`), which a
/// non-gallery app as the wizard sets up does not use. Loopback is not
/// named here: it is refused for a real tenant and is the sandbox's own.
pub fn scim_host_warning(url: &Url) -> Option<String> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let v4 = |ip: Ipv4Addr| {
        let [a, b, ..] = ip.octets();
        if ip.is_private() {
            Some("a private address (RFC 1918)")
        } else if ip.is_link_local() {
            Some("a link-local address (169.254.0.0/16)")
        } else if a == 100 && (64..128).contains(&b) {
            Some("a carrier-grade NAT address (100.64.0.0/10)")
        } else {
            None
        }
    };
    let v6 = |ip: Ipv6Addr| {
        let first = ip.segments()[0];
        if let Some(mapped) = ip.to_ipv4_mapped() {
            v4(mapped)
        } else if first & 0xfe00 == 0xfc00 {
            Some("a unique local IPv6 address (fc00::/7)")
        } else if first & 0xffc0 == 0xfe80 {
            Some("a link-local IPv6 address (fe80::/10)")
        } else {
            None
        }
    };
    let what = match url.host()? {
        url::Host::Ipv4(ip) => v4(ip),
        url::Host::Ipv6(ip) => v6(ip),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" {
                None
            } else if d.ends_with(".local") || d == "local" {
                Some("a .local name (multicast DNS, this network only)")
            } else if !d.contains('.') {
                Some("a single-label name (resolved on this network only)")
            } else {
                None
            }
        }
    }?;
    Some(format!(
        "The SCIM URL's host {} is {what}. Entra's provisioning service runs in Microsoft's cloud and cannot reach it, even if this computer can: use the workspace's public https:// SCIM URL.",
        url.host_str().unwrap_or_default()
    ))
}

/// Validates a pasted SCIM secret; surrounding whitespace is trimmed.
pub fn parse_secret(input: &str) -> Result<Secret, OrchideaError> {
    if input.is_empty() {
        return Err(OrchideaError::EmptySecret);
    }
    let value = input.trim();
    if value.is_empty() {
        return Err(OrchideaError::BlankSecret);
    }
    if value.contains(['\r', '\n']) {
        return Err(OrchideaError::SecretLineBreak);
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("bearer\t") {
        return Err(OrchideaError::SecretHasBearerPrefix);
    }
    if value.chars().any(char::is_whitespace) {
        return Err(OrchideaError::SecretInnerSpace);
    }
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Err(OrchideaError::SecretLooksLikeUrl);
    }
    Ok(Secret::new(value))
}

/// Chooses the IDP for SCIM-created users.
///
/// `wanted` matches an id exactly or a name case-insensitively. Without it:
/// the Microsoft Entra ID one (users come from Entra, so they sign in with
/// it; the default one among several), else the workspace default, else the
/// only IDP.
pub fn pick_idp<'a>(idps: &'a [Idp], wanted: Option<&str>) -> Result<&'a Idp, OrchideaError> {
    if idps.is_empty() {
        return Err(OrchideaError::NoIdps);
    }
    let available = || {
        idps.iter()
            .map(|i| format!("\"{}\" ({})", i.name, i.id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) {
        return idps
            .iter()
            .find(|i| i.id == wanted)
            .or_else(|| idps.iter().find(|i| i.name.eq_ignore_ascii_case(wanted)))
            .ok_or_else(|| OrchideaError::IdpNotFound {
                wanted: wanted.to_string(),
                available: available(),
            });
    }
    let entra: Vec<&Idp> = idps
        .iter()
        .filter(|i| i.kind.eq_ignore_ascii_case("entra-id"))
        .collect();
    entra
        .iter()
        .find(|i| i.default)
        .or(entra.first())
        .copied()
        .or_else(|| idps.iter().find(|i| i.default))
        .or(if idps.len() == 1 { idps.first() } else { None })
        .ok_or_else(|| OrchideaError::IdpChoiceNeeded {
            available: available(),
        })
}

/// The admin API over HTTPS, as `docs/orchidea-admin-api.md` specifies.
#[derive(Clone)]
pub struct HttpOrchideaAdmin {
    http: reqwest::Client,
    base: Url,
    token: Secret,
}

impl fmt::Debug for HttpOrchideaAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOrchideaAdmin")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpOrchideaAdmin {
    /// `workspace_url` is the address the admin opens Orchidea at; the API
    /// lives under `{workspace_url}/api/admin/v1`.
    pub fn new(http: reqwest::Client, workspace_url: Url, admin_token: Secret) -> Self {
        let mut base = workspace_url;
        base.set_query(None);
        base.set_fragment(None);
        if let Ok(mut segments) = base.path_segments_mut() {
            segments.pop_if_empty().extend(["api", "admin", "v1"]);
        }
        Self {
            http,
            base,
            token: admin_token,
        }
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.extend(segments);
        }
        url
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<Response, OrchideaError> {
        let response = request
            .bearer_auth(self.token.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| OrchideaError::Transport {
                url: url.to_string(),
                detail: transport_detail(&e),
            })?;
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body =
            crate::platform::http::read_body(response, crate::platform::http::ORCHIDEA_BODY_CAP)
                .await
                .map_err(|e| match e {
                    crate::platform::http::BodyError::Transport(e) => OrchideaError::Transport {
                        url: url.to_string(),
                        detail: transport_detail(&e),
                    },
                    too_large => OrchideaError::UnexpectedResponse {
                        status: status.as_u16(),
                        detail: too_large.to_string(),
                    },
                })?;
        // Error messages quote the body: a server echoing the token must not
        // put it in front of the admin.
        let token = self.token.expose();
        let body = match std::str::from_utf8(&body) {
            Ok(text) if !token.is_empty() && text.contains(token) => {
                text.replace(token, "<redacted>").into_bytes()
            }
            _ => body,
        };
        Ok(Response {
            status,
            location,
            body,
        })
    }

    /// `POST /scim/secrets` with `body`; the value goes straight into a [`Secret`].
    fn create(
        &self,
        body: serde_json::Value,
    ) -> BoxFuture<'_, Result<CreatedSecret, OrchideaError>> {
        Box::pin(async move {
            let url = self.url(&["scim", "secrets"]);
            let response = self
                .send(self.http.post(url.clone()).json(&body), &url)
                .await?;
            let wire: CreatedWire = response.json(&url, None)?;
            let scim_url = match check_api_scim_url(&wire.scim_url) {
                Ok(u) => u,
                Err(OrchideaError::ApiScimUrl { url, problem, .. }) => {
                    // Never used: revoke what this call just created.
                    let revoked = match self.revoke_scim_secret(&wire.id).await {
                        Ok(()) => " The SCIM secret it had just created was revoked.".into(),
                        Err(_) => format!(
                            " The SCIM secret it had just created (id {}) could not be revoked: revoke it in Orchidea's web UI.",
                            wire.id
                        ),
                    };
                    return Err(OrchideaError::ApiScimUrl {
                        url,
                        problem,
                        revoked,
                    });
                }
                Err(e) => return Err(e),
            };
            Ok(CreatedSecret {
                id: wire.id,
                idp_id: wire.idp_id,
                scim_url,
                secret: Secret::new(wire.secret),
                created_at: wire.created_at,
                expires_at: wire.expires_at,
            })
        })
    }

    async fn get<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T, OrchideaError> {
        let url = self.url(segments);
        let response = self.send(self.http.get(url.clone()), &url).await?;
        response.json(&url, None)
    }
}

struct Response {
    status: StatusCode,
    location: Option<String>,
    body: Vec<u8>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// The create response; `secret` goes straight into a [`Secret`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedWire {
    id: String,
    idp_id: String,
    scim_url: Url,
    secret: String,
    created_at: String,
    #[serde(default)]
    expires_at: Option<String>,
}

impl Response {
    /// The body as `T` on 2xx, otherwise the error the status and body mean.
    /// `secret_id` names the secret a 404 is about, if any.
    fn json<T: DeserializeOwned>(
        self,
        url: &Url,
        secret_id: Option<&str>,
    ) -> Result<T, OrchideaError> {
        self.check(url, secret_id)?;
        serde_json::from_slice(&self.body).map_err(|e| OrchideaError::UnexpectedResponse {
            status: self.status.as_u16(),
            detail: format!("{e}; body starts with {}", body_preview(&self.body)),
        })
    }

    fn check(&self, url: &Url, secret_id: Option<&str>) -> Result<(), OrchideaError> {
        let status = self.status;
        if status.is_success() {
            return Ok(());
        }
        let api_error = serde_json::from_slice::<ErrorBody>(&self.body)
            .ok()
            .map(|b| b.error);
        let message = api_error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        Err(match status.as_u16() {
            300..=399 => OrchideaError::Redirected {
                location: self
                    .location
                    .clone()
                    .unwrap_or_else(|| "another address".into()),
            },
            401 => OrchideaError::TokenRejected,
            403 => OrchideaError::Forbidden {
                message: if message.is_empty() {
                    "no reason given".into()
                } else {
                    message
                },
            },
            // A 404 in the API's own format is about the secret; anything else
            // means there is no admin API at this address.
            404 => match (secret_id, &api_error) {
                (Some(id), Some(_)) => OrchideaError::SecretNotFound { id: id.to_string() },
                _ => OrchideaError::NotFound {
                    url: self.api_root(url),
                },
            },
            code => match api_error {
                Some(e) => OrchideaError::Api {
                    status: code,
                    code: e.code,
                    message: e.message,
                },
                None => OrchideaError::UnexpectedResponse {
                    status: code,
                    detail: format!("body starts with {}", body_preview(&self.body)),
                },
            },
        })
    }

    fn api_root(&self, url: &Url) -> String {
        let s = url.as_str();
        match s.find("/api/admin/v1") {
            Some(i) => s[..i + "/api/admin/v1".len()].to_string(),
            None => s.to_string(),
        }
    }
}

impl OrchideaAdmin for HttpOrchideaAdmin {
    fn workspace(&self) -> BoxFuture<'_, Result<WorkspaceInfo, OrchideaError>> {
        Box::pin(async move {
            let mut info: WorkspaceInfo = self.get(&["workspace"]).await?;
            info.scim_url = check_api_scim_url(&info.scim_url)?;
            Ok(info)
        })
    }

    fn list_idps(&self) -> BoxFuture<'_, Result<Vec<Idp>, OrchideaError>> {
        Box::pin(async move { Ok(self.get::<Items<Idp>>(&["idps"]).await?.items) })
    }

    fn create_scim_secret(
        &self,
        idp_id: &str,
    ) -> BoxFuture<'_, Result<CreatedSecret, OrchideaError>> {
        self.create(serde_json::json!({ "idpId": idp_id }))
    }

    fn create_described_scim_secret(
        &self,
        idp_id: &str,
        description: &str,
    ) -> BoxFuture<'_, Result<CreatedSecret, OrchideaError>> {
        self.create(serde_json::json!({ "idpId": idp_id, "description": description }))
    }

    fn list_scim_secrets(&self) -> BoxFuture<'_, Result<Vec<SecretInfo>, OrchideaError>> {
        Box::pin(async move {
            Ok(self
                .get::<Items<SecretInfo>>(&["scim", "secrets"])
                .await?
                .items)
        })
    }

    fn revoke_scim_secret(&self, id: &str) -> BoxFuture<'_, Result<(), OrchideaError>> {
        let id = id.to_string();
        Box::pin(async move {
            let url = self.url(&["scim", "secrets", &id]);
            let response = self.send(self.http.delete(url.clone()), &url).await?;
            response.check(&url, Some(&id))
        })
    }
}

/// The innermost useful message of a reqwest error (the outer one only says
/// "error sending request").
fn transport_detail(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "the request timed out".into();
    }
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    detail
}

fn body_preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "nothing (empty body)".into()
    } else {
        format!("\"{}\"", shorten(text, 80))
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idp(id: &str, name: &str, kind: &str, default: bool) -> Idp {
        Idp {
            id: id.into(),
            name: name.into(),
            kind: kind.into(),
            default,
        }
    }

    #[test]
    fn scim_url_accepts_https_and_normalises() {
        let url = parse_scim_url("  https://acme.orchidea.com/scim/v2/ \n").unwrap();
        assert_eq!(url.as_str(), "https://acme.orchidea.com/scim/v2");
        let url = parse_scim_url("https://acme.orchidea.com/scim/v2").unwrap();
        assert_eq!(url.path(), "/scim/v2");
    }

    #[test]
    fn scim_url_allows_http_only_on_loopback() {
        assert!(parse_scim_url("http://127.0.0.1:8080/scim/v2").is_ok());
        assert!(parse_scim_url("http://localhost:1/scim/v2").is_ok());
        assert_eq!(
            parse_scim_url("http://acme.orchidea.com/scim/v2"),
            Err(OrchideaError::NotHttps)
        );
        assert_eq!(
            parse_scim_url("ftp://acme.orchidea.com/scim/v2"),
            Err(OrchideaError::NotHttps)
        );
    }

    #[test]
    fn scim_url_rejections_are_specific() {
        assert_eq!(parse_scim_url(""), Err(OrchideaError::EmptyScimUrl));
        assert_eq!(parse_scim_url("  \t"), Err(OrchideaError::EmptyScimUrl));
        assert!(matches!(
            parse_scim_url("acme.orchidea.com/scim/v2"),
            Err(OrchideaError::NotAUrl { .. })
        ));
        assert!(matches!(
            parse_scim_url("https://"),
            Err(OrchideaError::NotAUrl { .. })
        ));
        assert_eq!(
            parse_scim_url("https://acme.orchidea.com/scim/v2?aadOptscim062020"),
            Err(OrchideaError::QueryOrFragment)
        );
        assert_eq!(
            parse_scim_url("https://acme.orchidea.com/scim/v2#x"),
            Err(OrchideaError::QueryOrFragment)
        );
        assert_eq!(
            parse_scim_url("https://acme.orchidea.com/scim/v2?"),
            Err(OrchideaError::QueryOrFragment)
        );
        assert_eq!(
            parse_scim_url("https://me:pw@acme.orchidea.com/scim/v2"),
            Err(OrchideaError::CredentialsInUrl)
        );
        let msg = parse_scim_url("acme").unwrap_err().to_string();
        assert!(msg.contains("https://"), "{msg}");
    }

    #[test]
    fn hosts_entra_cannot_reach_are_named() {
        let warn = |u: &str| scim_host_warning(&u.parse().unwrap());
        for (url, what) in [
            ("https://10.1.2.3/scim/v2", "private"),
            ("https://172.16.0.1/scim/v2", "private"),
            ("https://172.31.255.255/scim/v2", "private"),
            ("https://192.168.1.10:8443/scim/v2", "private"),
            ("https://169.254.169.254/scim/v2", "link-local"),
            ("https://100.64.0.1/scim/v2", "carrier-grade"),
            ("https://[fd12:3456::1]/scim/v2", "unique local"),
            ("https://[fe80::1]/scim/v2", "link-local IPv6"),
            ("https://[::ffff:10.0.0.1]/scim/v2", "private"),
            ("https://orchidea.local/scim/v2", ".local"),
            ("https://Orchidea.LOCAL./scim/v2", ".local"),
            ("https://intranet/scim/v2", "single-label"),
        ] {
            let w = warn(url).unwrap_or_else(|| panic!("{url}: no warning"));
            assert!(w.contains(what), "{url}: {w}");
            assert!(w.contains("cannot reach"), "{w}");
        }
        for url in [
            "https://acme.orchidea.com/scim/v2",
            "https://172.32.0.1/scim/v2",
            "https://8.8.8.8/scim/v2",
            "https://[2001:db8::1]/scim/v2",
            "https://local.example.com/scim/v2",
            "http://127.0.0.1:8080/scim/v2",
            "http://localhost:1/scim/v2",
        ] {
            assert_eq!(warn(url), None, "{url}");
        }
    }

    #[test]
    fn api_scim_urls_follow_the_paste_rules() {
        let ok = check_api_scim_url(&"https://a.example/scim/v2/".parse().unwrap()).unwrap();
        assert_eq!(ok.as_str(), "https://a.example/scim/v2");
        assert!(check_api_scim_url(&"http://127.0.0.1:9/scim/v2".parse().unwrap()).is_ok());
        for (url, problem) in [
            ("http://a.example/scim/v2", "https://"),
            ("https://me:pw@a.example/scim/v2", "user name"),
            ("https://a.example/scim/v2?x=1", "query"),
            ("ftp://a.example/scim/v2", "https://"),
        ] {
            let e = check_api_scim_url(&url.parse().unwrap()).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(problem), "{url}: {text}");
            assert!(!text.contains("pw@"), "{text}");
        }
    }

    #[test]
    fn secret_is_trimmed_and_validated() {
        assert_eq!(
            parse_secret("  abc123-_x \n").unwrap().expose(),
            "abc123-_x"
        );
        assert_eq!(parse_secret(""), Err(OrchideaError::EmptySecret));
        assert_eq!(parse_secret("   \n"), Err(OrchideaError::BlankSecret));
        assert_eq!(
            parse_secret("abc\ndef"),
            Err(OrchideaError::SecretLineBreak)
        );
        assert_eq!(
            parse_secret("abc\r\ndef"),
            Err(OrchideaError::SecretLineBreak)
        );
        assert_eq!(
            parse_secret("abc def"),
            Err(OrchideaError::SecretInnerSpace)
        );
        assert_eq!(
            parse_secret("abc\tdef"),
            Err(OrchideaError::SecretInnerSpace)
        );
        assert_eq!(
            parse_secret("Bearer abcdef"),
            Err(OrchideaError::SecretHasBearerPrefix)
        );
        assert_eq!(
            parse_secret("https://acme.orchidea.com/scim/v2"),
            Err(OrchideaError::SecretLooksLikeUrl)
        );
    }

    #[test]
    fn secret_errors_never_echo_the_input() {
        for input in ["abc defsecretpart", "abcsecretpart\nx", "Bearer secretpart"] {
            let msg = parse_secret(input).unwrap_err().to_string();
            assert!(!msg.contains("secretpart"), "{msg}");
        }
    }

    #[test]
    fn manual_parse_combines_both() {
        let m = ManualScim::parse(" https://a.example/scim/v2 ", " tok ").unwrap();
        assert_eq!(m.scim_url.as_str(), "https://a.example/scim/v2");
        assert_eq!(m.secret.expose(), "tok");
        assert!(!format!("{m:?}").contains("tok\""));
    }

    #[test]
    fn pick_idp_by_id_or_name() {
        let idps = [
            idp("idp_1", "Google Workspace", "google", false),
            idp("idp_2", "Microsoft Entra ID", "entra-id", false),
        ];
        assert_eq!(pick_idp(&idps, Some("idp_1")).unwrap().id, "idp_1");
        assert_eq!(
            pick_idp(&idps, Some(" google workspace ")).unwrap().id,
            "idp_1"
        );
        let err = pick_idp(&idps, Some("Okta")).unwrap_err();
        assert!(matches!(err, OrchideaError::IdpNotFound { .. }));
        assert!(err.to_string().contains("Google Workspace"), "{err}");
    }

    #[test]
    fn pick_idp_defaults() {
        let entra_not_default = [
            idp("g", "Google", "google", true),
            idp("e", "Entra", "entra-id", false),
        ];
        assert_eq!(pick_idp(&entra_not_default, None).unwrap().id, "e");
        let two_entra = [
            idp("e1", "Entra A", "entra-id", false),
            idp("e2", "Entra B", "Entra-ID", true),
        ];
        assert_eq!(pick_idp(&two_entra, None).unwrap().id, "e2");
        let no_entra = [
            idp("g", "Google", "google", false),
            idp("p", "Password", "password", true),
        ];
        assert_eq!(pick_idp(&no_entra, None).unwrap().id, "p");
        assert_eq!(pick_idp(&no_entra, Some("")).unwrap().id, "p");
        let only = [idp("g", "Google", "google", false)];
        assert_eq!(pick_idp(&only, None).unwrap().id, "g");
        let ambiguous = [
            idp("g", "Google", "google", false),
            idp("p", "Password", "password", false),
        ];
        assert!(matches!(
            pick_idp(&ambiguous, None),
            Err(OrchideaError::IdpChoiceNeeded { .. })
        ));
        assert_eq!(pick_idp(&[], None), Err(OrchideaError::NoIdps));
    }

    #[test]
    fn api_paths_hang_off_the_workspace_url() {
        let http = crate::platform::http::loopback_client();
        for ws in [
            "https://acme.orchidea.com",
            "https://acme.orchidea.com/",
            "https://x.example/acme/?q#f",
        ] {
            let admin = HttpOrchideaAdmin::new(http.clone(), ws.parse().unwrap(), Secret::new("t"));
            let url = admin.url(&["scim", "secrets", "a/b"]);
            assert!(
                url.path().ends_with("/api/admin/v1/scim/secrets/a%2Fb"),
                "{url}"
            );
            assert!(url.query().is_none(), "{url}");
            assert!(!format!("{admin:?}").contains("\"t\""));
        }
    }

    #[test]
    fn created_secret_debug_is_masked() {
        let s = CreatedSecret {
            id: "s1".into(),
            idp_id: "i".into(),
            scim_url: "https://a.example/scim/v2".parse().unwrap(),
            secret: Secret::new("supersecretvalue9876"),
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: None,
        };
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("supersecret"), "{dbg}");
        assert!(dbg.contains("9876"), "{dbg}");
    }
}
