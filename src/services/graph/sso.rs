//! Step group "sso" (step 0): the Entra half of Orchidea's SAML single
//! sign-on, as `concepts/application-saml-sso-configure-api.md` does it
//! over Graph: the application object behind the enterprise app
//! (`identifierUris`, `web.redirectUris`), the service principal's SAML
//! mode, sign-on URL and signing certificates, `addTokenSigningCertificate`,
//! and the app's federation metadata from the sign-in endpoint. Whether
//! the settings are the ones Orchidea asks for is [`super::sso_check`].

use base64::Engine as _;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use super::client::{Body, GraphClient, encode_query_value, odata_string, to_bytes};
use super::errors::GraphError;
use super::types::null_as_default;

/// The application properties step 0 reads.
pub const APP_SSO_SELECT: &str = "id,appId,displayName,identifierUris,web";
/// The service principal properties step 0 reads; `keyCredentials` named
/// so Graph includes the public certificates (`application-get.md`).
pub const SP_SSO_SELECT: &str = "id,appId,displayName,preferredSingleSignOnMode,loginUrl,preferredTokenSigningKeyThumbprint,keyCredentials";

/// `resources/application.md`: the fields SAML SSO uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlApplication {
    pub id: String,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The Identifier (Entity ID) of the Basic SAML Configuration.
    #[serde(default, deserialize_with = "null_as_default")]
    pub identifier_uris: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub web: WebApplication,
}

/// `resources/webapplication.md`. Properties the wizard does not use
/// (`implicitGrantSettings`, …) are kept in `other`, so writing the object
/// back loses nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebApplication {
    /// The Reply URLs (Assertion Consumer Service URLs).
    #[serde(default, deserialize_with = "null_as_default")]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub home_page_url: Option<String>,
    #[serde(default)]
    pub logout_url: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `resources/serviceprincipal.md`: the SAML settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlServicePrincipal {
    pub id: String,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `saml` once SAML SSO is chosen.
    #[serde(default)]
    pub preferred_single_sign_on_mode: Option<String>,
    /// The Sign on URL (service-provider-initiated sign-in).
    #[serde(default)]
    pub login_url: Option<String>,
    #[serde(default)]
    pub preferred_token_signing_key_thumbprint: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub key_credentials: Vec<KeyCredential>,
}

/// `resources/keycredential.md`. `key` is base64 (the DER certificate of
/// a `Verify` key), present only when `keyCredentials` was selected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
}

impl KeyCredential {
    /// A public signing certificate: usage `Verify`, type `AsymmetricX509Cert`.
    pub fn is_signing_certificate(&self) -> bool {
        self.usage.as_deref() == Some("Verify")
            && self.kind.as_deref() == Some("AsymmetricX509Cert")
    }

    /// The SHA-1 thumbprint in upper-case hex: of `key` when Graph sent
    /// it, else from `customKeyIdentifier` (the thumbprint's bytes, as in
    /// `serviceprincipal-addtokensigningcertificate.md`'s example).
    pub fn thumbprint(&self) -> Option<String> {
        if let Some(t) = self.key.as_deref().and_then(certificate_thumbprint) {
            return Some(t);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.custom_key_identifier.as_deref()?.trim())
            .ok()
            .filter(|b| b.len() == 20)?;
        Some(hex_upper(&bytes))
    }
}

impl SamlServicePrincipal {
    pub fn is_saml(&self) -> bool {
        self.preferred_single_sign_on_mode.as_deref() == Some("saml")
    }

    /// The certificate Entra signs SAML responses with: the one
    /// `preferredTokenSigningKeyThumbprint` names, else the newest.
    pub fn active_signing_certificate(&self) -> Option<&KeyCredential> {
        let mut certs = self
            .key_credentials
            .iter()
            .filter(|k| k.is_signing_certificate());
        match &self.preferred_token_signing_key_thumbprint {
            Some(t) => certs.find(|k| k.thumbprint().is_some_and(|x| x.eq_ignore_ascii_case(t))),
            None => certs.max_by(|a, b| a.start_date_time.cmp(&b.start_date_time)),
        }
    }
}

/// `resources/selfsignedcertificate.md`: what `addTokenSigningCertificate` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelfSignedCertificate {
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    pub thumbprint: String,
    /// The public certificate, base64 DER.
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub start_date_time: Option<String>,
    #[serde(default)]
    pub end_date_time: Option<String>,
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
}

/// A `PATCH /servicePrincipals/{id}`: only the fields given are sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlSpUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_single_sign_on_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_token_signing_key_thumbprint: Option<String>,
}

/// A `PATCH /applications/{id}`: only the fields given are sent. A list
/// replaces the app's whole list, as Graph does with collections; `web` is
/// sent whole (read it, change it, send it back: [`SamlAppUpdate::reply_urls`]),
/// so its other settings survive whether Graph merges or replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlAppUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebApplication>,
}

impl SamlAppUpdate {
    /// `app`'s `web` with `urls` as its reply URLs, the rest unchanged.
    #[must_use]
    pub fn reply_urls(mut self, app: &SamlApplication, urls: Vec<String>) -> SamlAppUpdate {
        let mut web = app.web.clone();
        web.redirect_uris = urls;
        self.web = Some(web);
        self
    }

    /// `uris` as the app's identifier URIs.
    #[must_use]
    pub fn identifier_uris(mut self, uris: Vec<String>) -> SamlAppUpdate {
        self.identifier_uris = Some(uris);
        self
    }
}

impl GraphError {
    /// Graph refused an identifier URI another application already has:
    /// 400 "Another object with the same value for property identifierUris
    /// already exists."
    pub fn is_identifier_uri_conflict(&self) -> bool {
        matches!(self, GraphError::Api { status: 400, message, .. }
            if message.contains("identifierUris") && message.contains("already exists"))
    }
}

impl GraphClient {
    fn app_what(id: &str) -> String {
        format!("the application object {id}")
    }

    /// The application whose `appId` is `app_id` (`application-list.md`,
    /// `$filter=appId eq '…'`), or `None`.
    pub async fn find_application_by_app_id(
        &self,
        app_id: &str,
    ) -> Result<Option<SamlApplication>, GraphError> {
        let mut url = self.url(&["applications"]);
        let filter = format!("appId eq {}", odata_string(app_id));
        url.set_query(Some(&format!(
            "$filter={}&$select={}",
            encode_query_value(&filter),
            encode_query_value(APP_SSO_SELECT)
        )));
        let what = format!("the application of app id {app_id}");
        let apps: Vec<SamlApplication> = self.first_page(url, &what).await?;
        Ok(apps.into_iter().next())
    }

    /// `GET /applications/{id}` by object id (`application-get.md`). Right
    /// after `instantiate`, call it on [`GraphClient::settling`].
    pub async fn get_application(&self, id: &str) -> Result<SamlApplication, GraphError> {
        let mut url = self.url(&["applications", id]);
        url.set_query(Some(&format!(
            "$select={}",
            encode_query_value(APP_SSO_SELECT)
        )));
        self.json(Method::GET, url, Body::None, &Self::app_what(id))
            .await
    }

    /// Applications that have `uri` among their identifier URIs
    /// (`$filter=identifierUris/any(x:x eq '…')`: `application.md` says the
    /// `any` operator is required on this multi-valued property), all pages.
    pub async fn applications_with_identifier_uri(
        &self,
        uri: &str,
    ) -> Result<Vec<SamlApplication>, GraphError> {
        let mut url = self.url(&["applications"]);
        let filter = format!("identifierUris/any(x:x eq {})", odata_string(uri));
        url.set_query(Some(&format!(
            "$filter={}&$select={}",
            encode_query_value(&filter),
            encode_query_value(APP_SSO_SELECT)
        )));
        self.get_all(url, "the applications with this identifier")
            .await
    }

    /// `PATCH /applications/{id}` (`application-update.md`, 204).
    pub async fn update_application_saml(
        &self,
        id: &str,
        update: &SamlAppUpdate,
    ) -> Result<(), GraphError> {
        let url = self.url(&["applications", id]);
        self.send(Method::PATCH, url, to_bytes(update)?, &Self::app_what(id))
            .await
            .map(drop)
    }

    /// The service principal's SAML settings and signing certificates.
    pub async fn get_service_principal_sso(
        &self,
        sp_id: &str,
    ) -> Result<SamlServicePrincipal, GraphError> {
        let mut url = self.url(&["servicePrincipals", sp_id]);
        url.set_query(Some(&format!(
            "$select={}",
            encode_query_value(SP_SSO_SELECT)
        )));
        let what = format!("the enterprise application {sp_id}");
        self.json(Method::GET, url, Body::None, &what).await
    }

    /// `PATCH /servicePrincipals/{id}` (`serviceprincipal-update.md`, 204).
    pub async fn update_service_principal_sso(
        &self,
        sp_id: &str,
        update: &SamlSpUpdate,
    ) -> Result<(), GraphError> {
        let url = self.url(&["servicePrincipals", sp_id]);
        let what = format!("the enterprise application {sp_id}");
        self.send(Method::PATCH, url, to_bytes(update)?, &what)
            .await
            .map(drop)
    }

    /// `POST /servicePrincipals/{id}/addTokenSigningCertificate`: a new
    /// self-signed certificate named `display_name` (`CN=…`), ending at
    /// `end_date_time` (RFC 3339) or in three years. Not repeated on a lost
    /// answer: each call adds a certificate, so the caller reads the
    /// service principal's keys before asking again.
    pub async fn add_token_signing_certificate(
        &self,
        sp_id: &str,
        display_name: &str,
        end_date_time: Option<&str>,
    ) -> Result<SelfSignedCertificate, GraphError> {
        let url = self.url(&["servicePrincipals", sp_id, "addTokenSigningCertificate"]);
        let mut body = serde_json::json!({ "displayName": display_name });
        if let Some(end) = end_date_time {
            body["endDateTime"] = serde_json::json!(end);
        }
        let what = format!("a signing certificate for the enterprise application {sp_id}");
        self.json(Method::POST, url, Body::Json(&body), &what).await
    }

    /// The app's SAML federation metadata (XML) from the sign-in endpoint
    /// `login_base` (`Cloud::login_url`, or the sandbox's):
    /// `{login}/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}`
    /// (the concept page, step 6). Public: no token is sent, the Graph
    /// token belongs to Graph. Retried as a Graph GET is; on a
    /// [`GraphClient::settling`] client a 404 is waited through too.
    pub async fn federation_metadata(
        &self,
        login_base: &Url,
        tenant: &str,
        app_id: &str,
    ) -> Result<String, GraphError> {
        let url = metadata_url(login_base, tenant, app_id);
        let what = format!("the federation metadata of app {app_id}");
        let policy = self.retry_policy().clone();
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let error = match self.metadata_once(&url, &what).await {
                Ok(xml) => return Ok(xml),
                Err(e) => e,
            };
            let wait = policy.backoff(attempt - 1);
            let again = match &error {
                GraphError::NotFound { .. } if self.is_settling() => {
                    started.elapsed() + wait <= policy.settle_within
                }
                GraphError::Transport(_)
                | GraphError::Throttled { .. }
                | GraphError::Api {
                    status: 500 | 502, ..
                } => attempt < policy.attempts,
                _ => false,
            };
            if !again {
                return Err(error);
            }
            self.note_retry(format!(
                "Sign-in endpoint: {what}: attempt {attempt} failed ({}); retried after {:.1} s.",
                super::errors::short_reason(&error),
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn metadata_once(&self, url: &Url, what: &str) -> Result<String, GraphError> {
        let response = self
            .http()
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/xml")
            .send()
            .await
            .map_err(|e| GraphError::Transport(super::errors::transport_detail(&e)))?;
        let status = response.status();
        let bytes =
            crate::platform::http::read_body(response, crate::platform::http::GRAPH_BODY_CAP)
                .await
                .map_err(|e| GraphError::UnexpectedBody {
                    what: what.into(),
                    detail: e.to_string(),
                })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match status.as_u16() {
            200 => {
                if text.contains("EntityDescriptor") {
                    Ok(text)
                } else {
                    Err(GraphError::UnexpectedBody {
                        what: what.into(),
                        detail: "not SAML metadata (no EntityDescriptor)".into(),
                    })
                }
            }
            404 => Err(GraphError::NotFound {
                what: what.into(),
                request_id: None,
            }),
            s @ (429 | 503 | 504) => Err(GraphError::Throttled {
                status: s,
                retry_after: None,
                request_id: None,
            }),
            s => Err(GraphError::Api {
                status: s,
                code: status
                    .canonical_reason()
                    .unwrap_or("error")
                    .replace(' ', ""),
                message: super::errors::excerpt(&text),
                request_id: None,
            }),
        }
    }
}

/// `{login}/{tenant}/federationmetadata/2007-06/federationmetadata.xml?appid={appId}`.
pub fn metadata_url(login_base: &Url, tenant: &str, app_id: &str) -> Url {
    let mut url = login_base.clone();
    url.set_query(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend([
            tenant,
            "federationmetadata",
            "2007-06",
            "federationmetadata.xml",
        ]);
    }
    url.query_pairs_mut().append_pair("appid", app_id);
    url
}

/// The signing certificates (base64 DER, whitespace removed) of the
/// `IDPSSODescriptor` in SAML metadata: its `KeyDescriptor`s with
/// `use="signing"` or no `use`. The document's own `Signature` is skipped.
pub fn metadata_signing_certificates(xml: &str) -> Vec<String> {
    let Some(idp) = element_bodies(xml, "IDPSSODescriptor").into_iter().next() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (attrs, body) in elements(idp, "KeyDescriptor") {
        if attrs.contains("use=\"encryption\"") || attrs.contains("use='encryption'") {
            continue;
        }
        for cert in element_bodies(body, "X509Certificate") {
            let cert: String = cert.chars().filter(|c| !c.is_whitespace()).collect();
            if !cert.is_empty() {
                out.push(cert);
            }
        }
    }
    out
}

/// The SHA-1 thumbprint (upper-case hex) of a base64 DER certificate.
pub fn certificate_thumbprint(base64_der: &str) -> Option<String> {
    let clean: String = base64_der.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(clean)
        .ok()?;
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    Some(hex_upper(digest.as_ref()))
}

fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

/// Each `<name …>body</name>` (any namespace prefix): attributes and body.
fn elements<'a>(xml: &'a str, name: &str) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = find_open(rest, name) {
        let after = &rest[start..];
        let Some(head_end) = after.find('>') else {
            break;
        };
        let head = &after[..head_end];
        let attrs = head.split_once(char::is_whitespace).map_or("", |(_, a)| a);
        if head.ends_with('/') {
            out.push((attrs, ""));
            rest = &after[head_end + 1..];
            continue;
        }
        let body_start = head_end + 1;
        let Some(close) = find_close(&after[body_start..], name) else {
            break;
        };
        out.push((attrs, &after[body_start..body_start + close]));
        rest = &after[body_start + close..];
    }
    out
}

fn element_bodies<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    elements(xml, name).into_iter().map(|(_, b)| b).collect()
}

/// Where `<name` or `<prefix:name` opens (followed by space, `>` or `/`).
fn find_open(xml: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = xml[from..].find('<') {
        let at = from + i;
        let tag = &xml[at + 1..];
        let local = tag
            .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .next()
            .unwrap_or_default();
        let local = local.rsplit(':').next().unwrap_or_default();
        if local == name && !tag.starts_with('/') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Where `</name>` or `</prefix:name>` starts.
fn find_close(xml: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = xml[from..].find("</") {
        let at = from + i;
        let tag = &xml[at + 2..];
        let local = tag.split('>').next().unwrap_or_default().trim();
        if local.rsplit(':').next() == Some(name) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_url_is_the_tenants_with_the_app_id() {
        let login: Url = "https://login.microsoftonline.com/".parse().unwrap();
        assert_eq!(
            metadata_url(&login, "contoso.com", "a-1").as_str(),
            "https://login.microsoftonline.com/contoso.com/federationmetadata/2007-06/federationmetadata.xml?appid=a-1"
        );
        let sandbox: Url = "http://127.0.0.1:9".parse().unwrap();
        assert_eq!(
            metadata_url(&sandbox, "t", "a").as_str(),
            "http://127.0.0.1:9/t/federationmetadata/2007-06/federationmetadata.xml?appid=a"
        );
    }

    #[test]
    fn signing_certificates_come_from_the_idp_descriptor_only() {
        let xml = r#"<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">
<Signature><KeyInfo><X509Data><X509Certificate>SIGNATURECERT</X509Certificate></X509Data></KeyInfo></Signature>
<md:IDPSSODescriptor protocolSupportEnumeration="x">
<md:KeyDescriptor use="encryption"><X509Certificate>ENC</X509Certificate></md:KeyDescriptor>
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
  MIIB AAAA
</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor><X509Certificate>SECOND</X509Certificate></md:KeyDescriptor>
<md:SingleSignOnService Binding="b" Location="l"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"#;
        assert_eq!(
            metadata_signing_certificates(xml),
            vec!["MIIBAAAA".to_string(), "SECOND".to_string()]
        );
        assert!(metadata_signing_certificates("<EntityDescriptor/>").is_empty());
        assert!(metadata_signing_certificates("not xml <IDPSSODescriptor>").is_empty());
    }

    #[test]
    fn a_key_credential_knows_its_thumbprint_from_the_key_or_its_identifier() {
        // The page's example: customKeyIdentifier is the thumbprint's bytes.
        let from_id = KeyCredential {
            custom_key_identifier: Some("2iD8ppbE+D6Kmu1ZvjM2jtQh88E=".into()),
            ..KeyCredential::default()
        };
        assert_eq!(
            from_id.thumbprint().as_deref(),
            Some("DA20FCA696C4F83E8A9AED59BE33368ED421F3C1")
        );
        // "abc" as a stand-in DER: FIPS 180-2's SHA-1 test vector.
        let from_key = KeyCredential {
            key: Some("YWJj".into()),
            ..from_id
        };
        assert_eq!(
            from_key.thumbprint().as_deref(),
            Some("A9993E364706816ABA3E25717850C26C9CD0D89D")
        );
        assert_eq!(KeyCredential::default().thumbprint(), None);
    }

    #[test]
    fn updates_send_only_what_is_given_and_conflicts_are_recognised() {
        let sp = SamlSpUpdate {
            preferred_single_sign_on_mode: Some("saml".into()),
            ..SamlSpUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(&sp).unwrap(),
            serde_json::json!({"preferredSingleSignOnMode": "saml"})
        );
        let read: SamlApplication = serde_json::from_value(serde_json::json!({
            "id": "a",
            "web": {"redirectUris": ["https://old/acs"], "homePageUrl": "https://home",
                    "logoutUrl": null, "implicitGrantSettings": {"enableIdTokenIssuance": true}},
        }))
        .unwrap();
        let app = SamlAppUpdate::default().reply_urls(&read, vec!["https://x/y".into()]);
        assert_eq!(
            serde_json::to_value(&app).unwrap(),
            serde_json::json!({"web": {
                "redirectUris": ["https://x/y"], "homePageUrl": "https://home", "logoutUrl": null,
                "implicitGrantSettings": {"enableIdTokenIssuance": true},
            }}),
            "the rest of web goes back as it was read"
        );
        let ids = SamlAppUpdate::default().identifier_uris(vec!["https://orchidea.dev".into()]);
        assert_eq!(
            serde_json::to_value(&ids).unwrap(),
            serde_json::json!({"identifierUris": ["https://orchidea.dev"]})
        );
        let conflict = GraphError::Api {
            status: 400,
            code: "Request_BadRequest".into(),
            message:
                "Another object with the same value for property identifierUris already exists."
                    .into(),
            request_id: None,
        };
        assert!(conflict.is_identifier_uri_conflict());
        assert!(!GraphError::Transport("x".into()).is_identifier_uri_conflict());
    }
}
