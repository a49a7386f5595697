//! Group *sso* (step 0) on the Graph side: the application object behind
//! an enterprise app (`identifierUris`, `web.redirectUris`), the service
//! principal's SAML settings (`preferredSingleSignOnMode`, `loginUrl`,
//! `preferredTokenSigningKeyThumbprint`), `addTokenSigningCertificate`,
//! and the federation metadata the sign-in side serves for an app
//! ([`super::sso_metadata`]). The steps follow
//! `concepts/application-saml-sso-configure-api.md`; every refusal is
//! named in `docs/graph-fidelity.md`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::EntraState;
use super::credentials::check_sp;
use super::graph::{AppState, GraphError, GraphResult, ListSpec, json_object, list, ok_json, one};

/// The routes, each path under `prefix` (`/v1.0`). `PATCH
/// /servicePrincipals/{id}` sits beside its `GET` in `app.rs` ([`patch_sp`]).
pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    let v1 = |path: &str| format!("{prefix}{path}");
    Router::new()
        .route(&v1("/applications"), get(list_apps))
        .route(&v1("/applications/{id}"), get(get_app).patch(patch_app))
        .route(
            &v1("/servicePrincipals/{id}/addTokenSigningCertificate"),
            post(add_token_signing_certificate),
        )
}

/// The SAML settings Graph shows on a service principal; stored with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpSso {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_single_sign_on_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_token_signing_key_thumbprint: Option<String>,
    /// One per `addTokenSigningCertificate`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<SigningKey>,
}

impl SpSso {
    pub fn is_empty(&self) -> bool {
        *self == SpSso::default()
    }

    /// The certificate Entra signs with: the one
    /// `preferredTokenSigningKeyThumbprint` names, else the newest.
    pub fn active_certificate(&self) -> Option<&SigningKey> {
        match &self.preferred_token_signing_key_thumbprint {
            Some(t) => self
                .certificates
                .iter()
                .find(|c| c.thumbprint.eq_ignore_ascii_case(t)),
            None => self.certificates.last(),
        }
    }
}

/// What one `addTokenSigningCertificate` added: a `Verify` key (the public
/// certificate), a `Sign` key and a password credential (the PFX and its
/// password, which the sandbox does not keep: it signs no tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningKey {
    pub display_name: String,
    pub start_date_time: String,
    pub end_date_time: String,
    pub thumbprint: String,
    /// The DER certificate, base64.
    pub key: String,
    pub verify_key_id: String,
    /// The `Sign` key's and the password credential's `keyId` (the page:
    /// "It and the associated private key object have the same value of keyId").
    pub sign_key_id: String,
}

impl SigningKey {
    /// `customKeyIdentifier`: the thumbprint's bytes, base64 (as in the
    /// page's example, where `2iD8…` is `DA20FC…`). Shared by all three objects.
    fn custom_key_identifier(&self) -> String {
        let bytes: Vec<u8> = (0..self.thumbprint.len() / 2)
            .filter_map(|i| u8::from_str_radix(self.thumbprint.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Graph's `selfSignedCertificate` answer.
    fn self_signed_json(&self) -> Value {
        json!({
            "customKeyIdentifier": self.custom_key_identifier(),
            "displayName": self.display_name,
            "endDateTime": self.end_date_time,
            "key": self.key,
            "keyId": self.verify_key_id,
            "startDateTime": self.start_date_time,
            "thumbprint": self.thumbprint,
            "type": "AsymmetricX509Cert",
            "usage": "Verify",
        })
    }

    /// The two `keyCredential`s. A `Verify` key's `key` only when
    /// `keyCredentials` is selected (`application-get.md`, said of the
    /// application; assumed the same for service principals); a `Sign`
    /// key's never (assumed: Graph does not hand out private keys).
    fn key_credentials(&self, with_key: bool) -> [Value; 2] {
        let cred = |key_id: &str, kind: &str, usage: &str, key: Option<&str>| {
            json!({
                "customKeyIdentifier": self.custom_key_identifier(),
                "displayName": self.display_name,
                "endDateTime": self.end_date_time,
                "key": key,
                "keyId": key_id,
                "startDateTime": self.start_date_time,
                "type": kind,
                "usage": usage,
            })
        };
        let public = with_key.then_some(self.key.as_str());
        [
            cred(&self.sign_key_id, "X509CertAndPassword", "Sign", None),
            cred(&self.verify_key_id, "AsymmetricX509Cert", "Verify", public),
        ]
    }

    fn password_credential(&self) -> Value {
        json!({
            "customKeyIdentifier": self.custom_key_identifier(),
            "displayName": self.display_name,
            "endDateTime": self.end_date_time,
            "hint": Value::Null,
            "keyId": self.sign_key_id,
            "secretText": Value::Null,
            "startDateTime": self.start_date_time,
        })
    }
}

/// The SAML properties of `sp_json` (see `app::sp_json`).
pub fn sp_sso_json(sso: &SpSso, with_keys: bool) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "preferredSingleSignOnMode".into(),
        json!(sso.preferred_single_sign_on_mode),
    );
    out.insert("loginUrl".into(), json!(sso.login_url));
    out.insert(
        "preferredTokenSigningKeyThumbprint".into(),
        json!(sso.preferred_token_signing_key_thumbprint),
    );
    let keys: Vec<Value> = sso
        .certificates
        .iter()
        .flat_map(|c| c.key_credentials(with_keys))
        .collect();
    out.insert("keyCredentials".into(), Value::Array(keys));
    let passwords: Vec<Value> = sso
        .certificates
        .iter()
        .map(SigningKey::password_credential)
        .collect();
    out.insert("passwordCredentials".into(), Value::Array(passwords));
    out
}

/// Tenant file only: an app whose SAML SSO is already configured
/// (`docs/sandbox-tenant.md`, "SAML single sign-on"). Applied once when
/// the tenant loads; the state file holds the result, not this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SamlPreset {
    #[serde(default)]
    pub identifier_uris: Vec<String>,
    #[serde(default)]
    pub reply_urls: Vec<String>,
    #[serde(default)]
    pub sign_on_url: Option<String>,
    /// Give the app a signing certificate, as `addTokenSigningCertificate` would.
    #[serde(default)]
    pub signing_certificate: bool,
}

/// What Graph would refuse in the tenant file's `saml` presets: a
/// malformed identifier or reply URL, or one identifier on two apps.
pub fn check_presets(sps: &[crate::sandbox::tenant::ServicePrincipal]) -> Result<(), String> {
    let mut identifiers: Vec<String> = Vec::new();
    for sp in sps {
        let Some(preset) = &sp.saml else { continue };
        let name = &sp.display_name;
        for uri in &preset.identifier_uris {
            if url::Url::parse(uri).is_err() {
                return Err(format!(
                    "app \"{name}\": saml identifierUris \"{uri}\" is not a URI"
                ));
            }
            if identifiers.iter().any(|u| u.eq_ignore_ascii_case(uri)) {
                return Err(format!("the saml identifier \"{uri}\" is on two apps"));
            }
            identifiers.push(uri.clone());
        }
        if let Some(bad) = preset.reply_urls.iter().find(|u| !reply_url_ok(u)) {
            return Err(format!(
                "app \"{name}\": saml replyUrls \"{bad}\" is not one Entra takes (https, or http on localhost)"
            ));
        }
        if let Some(bad) = preset
            .sign_on_url
            .as_deref()
            .filter(|u| web_url(u).is_none())
        {
            return Err(format!(
                "app \"{name}\": saml signOnUrl \"{bad}\" is not a URL"
            ));
        }
    }
    Ok(())
}

const APP_PROPS: &[&str] = &[
    "id",
    "appId",
    "applicationTemplateId",
    "createdDateTime",
    "displayName",
    "identifierUris",
    "publisherDomain",
    "signInAudience",
    "tags",
    "web",
];
const APP_SPEC: ListSpec = ListSpec {
    type_name: "application",
    context: "applications",
    properties: APP_PROPS,
    filterable: &["appId", "displayName", "id", "identifierUris"],
    default_select: &[],
};

/// The application object of a tenant-file app (which names only its
/// service principal): assumed to be registered in this tenant, as a
/// non-gallery app is.
fn tenant_application(entra: &EntraState, sp: &crate::sandbox::tenant::ServicePrincipal) -> Value {
    let custom = sp.tags.iter().any(|t| t == super::app::CUSTOM_SSO_TAG);
    json!({
        "id": super::app::derived_guid(&format!("application/{}", sp.app_id)),
        "appId": sp.app_id,
        "applicationTemplateId": if custom { Some(super::app::NON_GALLERY_TEMPLATE_ID) } else { None },
        "createdDateTime": "2024-01-01T00:00:00Z",
        "displayName": sp.display_name,
        "identifierUris": [],
        "publisherDomain": entra.tenant.domain,
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "web": empty_web(),
    })
}

/// `webApplication` as a new app has it (`application-get.md`'s example).
pub fn empty_web() -> Value {
    json!({
        "homePageUrl": null,
        "implicitGrantSettings": { "enableAccessTokenIssuance": false, "enableIdTokenIssuance": false },
        "logoutUrl": null,
        "redirectUris": [],
    })
}

/// Gives every service principal without one its application object and
/// applies the tenant file's `saml` presets. Run when a tenant or a state
/// file loads.
pub fn settle_applications(entra: &mut EntraState) {
    for i in 0..entra.service_principals.len() {
        let sp = entra.service_principals[i].clone();
        let existing = entra
            .applications
            .iter()
            .position(|a| a["appId"] == *sp.app_id);
        let index = existing.unwrap_or_else(|| {
            let app = tenant_application(entra, &sp);
            entra.applications.push(app);
            entra.applications.len() - 1
        });
        let Some(preset) = entra.service_principals[i].saml.take() else {
            continue;
        };
        let app = &mut entra.applications[index];
        app["identifierUris"] = json!(preset.identifier_uris);
        if !app["web"].is_object() {
            app["web"] = empty_web();
        }
        app["web"]["redirectUris"] = json!(preset.reply_urls);
        let sso = &mut entra.service_principals[i].sso;
        sso.preferred_single_sign_on_mode = Some("saml".into());
        sso.login_url = preset.sign_on_url;
        if preset.signing_certificate {
            match new_signing_key(&format!("CN={}", sp.display_name), None) {
                Ok(key) => sso.certificates.push(key),
                Err(e) => tracing::warn!("sandbox: {e}"),
            }
        }
    }
}

/// Whether Graph's replicas show `app` yet: as its service principal.
fn app_visible(entra: &EntraState, app: &Value) -> bool {
    entra
        .service_principals
        .iter()
        .find(|sp| app["appId"] == *sp.app_id)
        .is_none_or(|sp| entra.replicated(&sp.id))
}

async fn list_apps(State(shared): State<AppState>, uri: Uri, headers: HeaderMap) -> GraphResult {
    let items: Vec<Value> = {
        let entra = shared.entra.lock().await;
        entra
            .applications
            .iter()
            .filter(|a| app_visible(&entra, a))
            .cloned()
            .collect()
    };
    list(&shared, &uri, &headers, items, &APP_SPEC)
}

/// `GET /applications/{id}` (`application-get.md`), by object id.
async fn get_app(State(shared): State<AppState>, uri: Uri, Path(id): Path<String>) -> GraphResult {
    let item = {
        let entra = shared.entra.lock().await;
        entra
            .applications
            .iter()
            .find(|a| {
                a["id"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(&id))
            })
            .filter(|a| app_visible(&entra, a))
            .cloned()
            .ok_or_else(|| GraphError::no_object(&id))?
    };
    one(&uri, &item, &APP_SPEC)
}

fn invalid(property: &str, resource: &str) -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        format!("Invalid value specified for property '{property}' of resource '{resource}'."),
    )
}

/// A property the sandbox does not take in a PATCH (message assumed).
fn not_a_property(property: &str) -> GraphError {
    GraphError::bad_request(
        "Request_BadRequest",
        format!(
            "Property '{property}' does not exist as a declared property or extension property."
        ),
    )
}

/// An absolute `http`/`https` URL.
fn web_url(text: &str) -> Option<url::Url> {
    url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
}

/// A redirect (reply) URI Entra takes for a web app (Entra
/// `reply-url.md`): `https`, or `http` only on the loopback ("Localhost
/// exceptions"; 127.0.0.1 is the sandbox's own address); at most 256
/// characters; none of `! $ ' ( ) , ;`; no fragment (RFC 6749 3.1.2).
fn reply_url_ok(text: &str) -> bool {
    web_url(text).is_some_and(|u| {
        u.scheme() == "https" || matches!(u.host_str(), Some("localhost" | "127.0.0.1"))
    }) && text.len() <= 256
        && !text.contains(['#', '!', '$', '\'', '(', ')', ',', ';'])
}

fn string_list(value: &Value, property: &str) -> Result<Vec<String>, GraphError> {
    value
        .as_array()
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect())
        .ok_or_else(|| invalid(property, "Application"))
}

/// `PATCH /applications/{id}` (`application-update.md`: 204, no body):
/// `identifierUris`, `web` (`redirectUris`, `homePageUrl`, `logoutUrl`,
/// `implicitGrantSettings`; replaced as a whole) and `displayName`. An identifier URI another application already has is
/// refused as Entra refuses it. All checks come before any change.
async fn patch_app(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    let mut entra = shared.entra.lock().await;
    let index = entra
        .applications
        .iter()
        .position(|a| {
            a["id"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(&id))
        })
        .filter(|i| app_visible(&entra, &entra.applications[*i]))
        .ok_or_else(|| GraphError::no_object(&id))?;
    let mut app = entra.applications[index].clone();
    for (key, value) in &body {
        match key.as_str() {
            "identifierUris" => {
                let uris = string_list(value, key)?;
                if uris.iter().any(|u| url::Url::parse(u).is_err()) {
                    return Err(invalid(key, "Application"));
                }
                let taken = entra.applications.iter().enumerate().any(|(i, other)| {
                    i != index
                        && string_list(&other["identifierUris"], key)
                            .unwrap_or_default()
                            .iter()
                            .any(|o| uris.iter().any(|u| u.eq_ignore_ascii_case(o)))
                });
                if taken {
                    return Err(GraphError::bad_request(
                        "Request_BadRequest",
                        "Another object with the same value for property identifierUris already exists.",
                    ));
                }
                app[key] = json!(uris);
            }
            "web" => {
                let web = value
                    .as_object()
                    .ok_or_else(|| invalid(key, "Application"))?;
                // The whole `webApplication` is replaced: what the body
                // leaves out goes back to its default (assumed, stricter:
                // a client that means to keep a value sends it).
                app["web"] = empty_web();
                for (field, v) in web {
                    match field.as_str() {
                        "redirectUris" => {
                            let uris = string_list(v, "redirectUris")?;
                            // 256 per app for `AzureADMyOrg` (`reply-url.md`).
                            if uris.len() > 256 || !uris.iter().all(|u| reply_url_ok(u)) {
                                return Err(invalid("redirectUris", "Application"));
                            }
                            app["web"][field] = json!(uris);
                        }
                        "homePageUrl" | "logoutUrl" => {
                            if !(v.is_null() || v.as_str().is_some_and(|u| web_url(u).is_some())) {
                                return Err(invalid(field, "Application"));
                            }
                            app["web"][field] = v.clone();
                        }
                        "implicitGrantSettings" => {
                            let flags = v.as_object().filter(|o| {
                                o.iter().all(|(k, b)| {
                                    b.is_boolean()
                                        && matches!(
                                            k.as_str(),
                                            "enableIdTokenIssuance" | "enableAccessTokenIssuance"
                                        )
                                })
                            });
                            let Some(flags) = flags else {
                                return Err(invalid(field, "Application"));
                            };
                            for (k, b) in flags {
                                app["web"][field][k] = b.clone();
                            }
                        }
                        other => return Err(not_a_property(other)),
                    }
                }
            }
            "displayName" => {
                let name = value
                    .as_str()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| invalid(key, "Application"))?;
                app[key] = json!(name);
            }
            other => return Err(not_a_property(other)),
        }
    }
    entra.applications[index] = app;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The values `preferredSingleSignOnMode` takes (`serviceprincipal-update.md`).
const SSO_MODES: [&str; 4] = ["password", "saml", "external", "oidc"];

/// `PATCH /servicePrincipals/{id}` (`serviceprincipal-update.md`: 204):
/// `preferredSingleSignOnMode`, `loginUrl` (the sign-on URL, from
/// `resources/serviceprincipal.md`) and `preferredTokenSigningKeyThumbprint`
/// (the concept page's "Activate the custom signing key"), which must name
/// one of the app's certificates (assumed; the stricter reading).
pub(crate) async fn patch_sp(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    let mut entra = shared.entra.lock().await;
    check_sp(&entra, &id)?;
    let Some(sp) = entra.sp_mut(&id) else {
        return Err(GraphError::no_object(&id));
    };
    let mut sso = sp.sso.clone();
    let optional_text = |v: &Value, key: &str| -> Result<Option<String>, GraphError> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            _ => Err(invalid(key, "ServicePrincipal")),
        }
    };
    for (key, value) in &body {
        match key.as_str() {
            "preferredSingleSignOnMode" => {
                let mode = optional_text(value, key)?;
                if mode.as_deref().is_some_and(|m| !SSO_MODES.contains(&m)) {
                    return Err(invalid(key, "ServicePrincipal"));
                }
                sso.preferred_single_sign_on_mode = mode;
            }
            "loginUrl" => {
                let url = optional_text(value, key)?;
                if url.as_deref().is_some_and(|u| web_url(u).is_none()) {
                    return Err(invalid(key, "ServicePrincipal"));
                }
                sso.login_url = url;
            }
            "preferredTokenSigningKeyThumbprint" => {
                let thumbprint = optional_text(value, key)?;
                let known = |t: &str| {
                    sso.certificates
                        .iter()
                        .any(|c| c.thumbprint.eq_ignore_ascii_case(t))
                };
                if thumbprint.as_deref().is_some_and(|t| !known(t)) {
                    return Err(invalid(key, "ServicePrincipal"));
                }
                sso.preferred_token_signing_key_thumbprint =
                    thumbprint.map(|t| t.to_ascii_uppercase());
            }
            other => return Err(not_a_property(other)),
        }
    }
    sp.sso = sso;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The longest a token signing certificate may live: "up to three years"
/// (`serviceprincipal-addtokensigningcertificate.md`), with a day's slack
/// for leap years and clocks.
const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs((3 * 365 + 1) * 86_400);

/// A new certificate named `display_name` (`CN=…`), ending at `end` or in
/// three years.
fn new_signing_key(
    display_name: &str,
    end: Option<std::time::SystemTime>,
) -> Result<SigningKey, super::signing_cert::CertError> {
    let start = std::time::SystemTime::now();
    let start = humantime::parse_rfc3339(&humantime::format_rfc3339_seconds(start).to_string())
        .unwrap_or(start);
    let end = end.unwrap_or(start + MAX_LIFETIME - std::time::Duration::from_secs(86_400));
    let common_name = display_name.get(3..).unwrap_or_default().trim();
    let cert = super::signing_cert::self_signed(common_name, start, end)?;
    Ok(SigningKey {
        display_name: display_name.to_string(),
        start_date_time: humantime::format_rfc3339_seconds(start).to_string(),
        end_date_time: humantime::format_rfc3339_seconds(end).to_string(),
        thumbprint: cert.thumbprint,
        key: base64::engine::general_purpose::STANDARD.encode(&cert.der),
        verify_key_id: uuid::Uuid::new_v4().to_string(),
        sign_key_id: uuid::Uuid::new_v4().to_string(),
    })
}

/// `POST /servicePrincipals/{id}/addTokenSigningCertificate`: `displayName`
/// must start with `CN=`; `endDateTime` is optional (three years), in the
/// future and at most three years away. Answers 200 with the
/// `selfSignedCertificate`. Entra does not make the new certificate the
/// preferred one (the concept page sets the thumbprint in its own step).
async fn add_token_signing_certificate(
    State(shared): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> GraphResult {
    let body = json_object(&body)?;
    if let Some(other) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "displayName" | "endDateTime"))
    {
        return Err(not_a_property(other));
    }
    let name = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| n.starts_with("CN=") && n.len() > 3)
        .ok_or_else(|| {
            GraphError::bad_request(
                "Request_BadRequest",
                "The displayName of a token signing certificate must start with 'CN='.",
            )
        })?;
    let end = match body.get("endDateTime") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let now = std::time::SystemTime::now();
            let end = v
                .as_str()
                .and_then(|t| humantime::parse_rfc3339_weak(t.trim().trim_end_matches('Z')).ok())
                .filter(|end| *end > now && *end <= now + MAX_LIFETIME)
                .ok_or_else(|| {
                    GraphError::bad_request(
                        "Request_BadRequest",
                        "The endDateTime of a token signing certificate must be in the future and at most three years from now.",
                    )
                })?;
            Some(end)
        }
    };
    let mut entra = shared.entra.lock().await;
    check_sp(&entra, &id)?;
    let key = new_signing_key(name, end).map_err(|e| {
        GraphError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Service_InternalServerError",
            e.to_string(),
        )
    })?;
    let mut answer = key.self_signed_json();
    answer["@odata.context"] = json!(format!(
        "{}/$metadata#microsoft.graph.selfSignedCertificate",
        shared.graph_url
    ));
    if let Some(sp) = entra.sp_mut(&id) {
        sp.sso.certificates.push(key);
    }
    Ok(ok_json(StatusCode::OK, &answer))
}

impl crate::sandbox::Sandbox {
    /// How the SAML settings the sandbox holds for `sp_id` differ from
    /// what Orchidea's article asks ([`crate::services::graph::check_saml`]);
    /// `None` when there is no such app.
    pub async fn saml_issues(
        &self,
        sp_id: &str,
        want: &crate::services::graph::OrchideaSaml,
    ) -> Option<Vec<crate::services::graph::SamlIssue>> {
        let entra = self.shared.entra.lock().await;
        let sp = entra.sp(sp_id)?;
        let app = entra
            .applications
            .iter()
            .find(|a| a["appId"] == *sp.app_id)?;
        let app = serde_json::from_value(app.clone()).ok()?;
        let sp_value = super::app::sp_json_with_keys(sp, &entra.tenant.id, true);
        let sp = serde_json::from_value(sp_value).ok()?;
        Some(crate::services::graph::check_saml(
            &app,
            &sp,
            want,
            std::time::SystemTime::now(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_file_presets_are_checked_as_graph_would() {
        let mut tenant = crate::sandbox::tenant::TenantFile::builtin();
        let preset = SamlPreset {
            identifier_uris: vec!["https://orchidea.dev".into()],
            reply_urls: vec!["https://app.orchidea.dev/api/saml/login/".into()],
            sign_on_url: Some("https://app.orchidea.dev/acme".into()),
            signing_certificate: true,
        };
        tenant.service_principals[0].saml = Some(preset.clone());
        tenant.check().unwrap();
        tenant.service_principals[1].saml = Some(preset.clone());
        let e = tenant.check().unwrap_err();
        assert!(e.0.contains("on two apps"), "{}", e.0);
        tenant.service_principals[1].saml = Some(SamlPreset {
            identifier_uris: vec![],
            reply_urls: vec!["http://app.orchidea.dev/acs".into()],
            ..preset
        });
        let e = tenant.check().unwrap_err();
        assert!(e.0.contains("replyUrls"), "{}", e.0);
    }

    #[test]
    fn the_active_certificate_is_the_preferred_one_else_the_newest() {
        let key = |t: &str| SigningKey {
            display_name: "CN=x".into(),
            start_date_time: String::new(),
            end_date_time: String::new(),
            thumbprint: t.into(),
            key: t.into(),
            verify_key_id: String::new(),
            sign_key_id: String::new(),
        };
        let mut sso = SpSso {
            certificates: vec![key("AA"), key("BB")],
            ..SpSso::default()
        };
        assert_eq!(sso.active_certificate().unwrap().thumbprint, "BB");
        sso.preferred_token_signing_key_thumbprint = Some("aa".into());
        assert_eq!(sso.active_certificate().unwrap().thumbprint, "AA");
        sso.preferred_token_signing_key_thumbprint = Some("CC".into());
        assert!(sso.active_certificate().is_none());
        assert_eq!(
            key("DA20FCA696C4F83E8A9AED59BE33368ED421F3C1").custom_key_identifier(),
            "2iD8ppbE+D6Kmu1ZvjM2jtQh88E="
        );
    }
}
