//! [`HttpOrchideaAdmin`]: the admin API over HTTPS, as
//! `docs/orchidea-admin-api.md` specifies.

use std::fmt;

use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::manual::{check_api_scim_url, shorten};
use super::sso::check_api_reply_url;
use super::{
    CreatedSecret, Idp, NewSamlIdp, OrchideaAdmin, OrchideaError, SamlIdp, SecretInfo,
    WorkspaceInfo,
};
use crate::platform::secret::Secret;

/// Where the admin API hangs off the workspace URL.
const API_ROOT: &str = "/api/admin/v1";

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
            segments
                .pop_if_empty()
                .extend(API_ROOT.split('/').filter(|s| !s.is_empty()));
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
                    too_large @ crate::platform::http::BodyError::TooLarge { .. } => {
                        OrchideaError::UnexpectedResponse {
                            status: status.as_u16(),
                            detail: too_large.to_string(),
                        }
                    }
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
            let wire: CreatedWire = response.json(&url, About::Api)?;
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
        response.json(&url, About::Api)
    }

    /// A SAML IDP the API answered, its reply URL held to the paste rules.
    fn checked_idp(&self, mut idp: SamlIdp) -> Result<SamlIdp, OrchideaError> {
        idp.reply_url = check_api_reply_url(&idp.reply_url, &self.base)?;
        Ok(idp)
    }
}

/// What a 404 in the API's own format is about.
#[derive(Clone, Copy)]
enum About<'a> {
    /// The endpoint itself (no admin API at this address).
    Api,
    Secret(&'a str),
    Idp(&'a str),
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
    /// `about` names what a 404 is about.
    fn json<T: DeserializeOwned>(self, url: &Url, about: About<'_>) -> Result<T, OrchideaError> {
        self.check(url, about)?;
        serde_json::from_slice(&self.body).map_err(|e| OrchideaError::UnexpectedResponse {
            status: self.status.as_u16(),
            detail: format!("{e}; body starts with {}", body_preview(&self.body)),
        })
    }

    fn check(&self, url: &Url, about: About<'_>) -> Result<(), OrchideaError> {
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
            // A 404 in the API's own format is about the secret or IDP;
            // anything else means there is no admin API at this address.
            404 => match (about, &api_error) {
                (About::Secret(id), Some(_)) => {
                    OrchideaError::SecretNotFound { id: id.to_string() }
                }
                (About::Idp(id), Some(_)) => OrchideaError::IdpUnknown { id: id.to_string() },
                _ => OrchideaError::NotFound {
                    url: Self::api_root(url),
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

    fn api_root(url: &Url) -> String {
        let s = url.as_str();
        match s.find(API_ROOT) {
            Some(i) => s[..i + API_ROOT.len()].to_string(),
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
            response.check(&url, About::Secret(&id))
        })
    }

    fn create_saml_idp(&self, idp: &NewSamlIdp) -> BoxFuture<'_, Result<SamlIdp, OrchideaError>> {
        let idp = idp.clone();
        Box::pin(async move {
            // The metadata is public but long: the log names it by its hash.
            tracing::info!(
                name = %idp.name,
                metadata_bytes = idp.metadata_xml.len(),
                metadata_sha256 = %idp.metadata_sha256(),
                "creating a SAML IDP in Orchidea"
            );
            let url = self.url(&["idps"]);
            let response = self
                .send(self.http.post(url.clone()).json(&idp), &url)
                .await?;
            let created: SamlIdp = response
                .json(&url, About::Api)
                .map_err(|e| create_refusal(e, &idp.name))?;
            self.checked_idp(created)
        })
    }

    fn get_saml_idp(&self, id: &str) -> BoxFuture<'_, Result<SamlIdp, OrchideaError>> {
        let id = id.to_string();
        Box::pin(async move {
            let url = self.url(&["idps", &id]);
            let response = self.send(self.http.get(url.clone()), &url).await?;
            let idp: SamlIdp = response.json(&url, About::Idp(&id))?;
            self.checked_idp(idp)
        })
    }

    fn delete_saml_idp(&self, id: &str) -> BoxFuture<'_, Result<(), OrchideaError>> {
        let id = id.to_string();
        Box::pin(async move {
            let url = self.url(&["idps", &id]);
            let response = self.send(self.http.delete(url.clone()), &url).await?;
            response.check(&url, About::Idp(&id)).map_err(|e| match e {
                OrchideaError::Api {
                    status: 409,
                    ref code,
                    ..
                } if code == "conflict" => OrchideaError::IdpInUse { id: id.clone() },
                other => other,
            })
        })
    }
}

/// The create's refusals the contract names, as the admin reads them.
fn create_refusal(e: OrchideaError, name: &str) -> OrchideaError {
    match e {
        OrchideaError::Api {
            status: 409,
            ref code,
            ..
        } if code == "conflict" => OrchideaError::IdpNameTaken {
            name: name.to_string(),
        },
        OrchideaError::Api {
            status: 400,
            ref code,
            ..
        } if code == "no_signing_certificate" => OrchideaError::MetadataWithoutSigningCertificate,
        OrchideaError::Api {
            status: 400,
            code,
            message,
        } if code == "invalid_metadata" => OrchideaError::MetadataRefused { message },
        other => other,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
