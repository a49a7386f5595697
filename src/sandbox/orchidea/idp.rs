//! Workspace settings → Authentication on the Orchidea side (#17): SAML
//! IDPs made from an identity provider's federation metadata ("+ Add new IDP"), each with
//! its own reply URL ("Copy reply URL"), in the admin API of
//! `docs/orchidea-admin-api.md`. The web UI's page adds them through
//! [`Workspace::add_saml_idp`] as well.

use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;
use url::Url;

use super::saml_metadata::{MetadataError, parse_metadata};
use super::{AdminState, ApiError, Workspace, authorize, sha256_hex};
use crate::services::orchidea::sso::reply_url_for;
use crate::services::orchidea::{Idp, NewSamlIdp, SamlAttributeNames, SamlIdp};

/// Largest metadata document accepted (assumed: Entra's is a few KiB).
pub const METADATA_MAX_BYTES: usize = 512 * 1024;
const NAME_MAX: usize = 100;
const ATTRIBUTE_MAX: usize = 256;

/// A SAML IDP as the workspace keeps it; name and kind live in `Workspace::idps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredSamlIdp {
    pub id: String,
    /// The document as uploaded (public; never logged, see `metadata_sha256`).
    pub metadata_xml: String,
    pub metadata_sha256: String,
    pub entity_id: String,
    pub sso_url: String,
    /// Base64 DER, as the metadata's signing `KeyDescriptor`s held them.
    pub signing_certificates: Vec<String>,
    pub attributes: SamlAttributeNames,
    #[serde(default)]
    pub email_domains: Vec<String>,
    pub created_at: String,
}

/// Why "+ Add new IDP" was refused; `Display` is the message shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpRefusal {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Metadata(MetadataError),
    #[error("The workspace already has an IDP named \"{0}\".")]
    NameTaken(String),
}

impl IdpRefusal {
    /// The admin API's status and `code` for it.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::Metadata(MetadataError::NoSigningCertificate) => {
                (StatusCode::BAD_REQUEST, "no_signing_certificate")
            }
            Self::Metadata(_) => (StatusCode::BAD_REQUEST, "invalid_metadata"),
            Self::NameTaken(_) => (StatusCode::CONFLICT, "conflict"),
        }
    }
}

impl Workspace {
    /// "+ Add new IDP": checks the fields, reads the metadata and adds a
    /// `saml` IDP (not the default). Nothing changes when it is refused.
    pub fn add_saml_idp(&mut self, new: &NewSamlIdp) -> Result<Idp, IdpRefusal> {
        let new = normalise(new)?;
        if new.metadata_xml.len() > METADATA_MAX_BYTES {
            return Err(IdpRefusal::Invalid(format!(
                "The metadata document is larger than {} KiB.",
                METADATA_MAX_BYTES / 1024
            )));
        }
        let metadata = parse_metadata(&new.metadata_xml).map_err(IdpRefusal::Metadata)?;
        if let Some(taken) = self
            .idps
            .iter()
            .find(|i| i.name.trim().eq_ignore_ascii_case(&new.name))
        {
            return Err(IdpRefusal::NameTaken(taken.name.clone()));
        }
        let idp = Idp {
            id: format!("idp_{}", uuid::Uuid::new_v4().simple()),
            name: new.name.clone(),
            kind: "saml".into(),
            default: false,
            reply_url: None,
        };
        self.saml_idps.push(StoredSamlIdp {
            id: idp.id.clone(),
            metadata_sha256: sha256_hex(&new.metadata_xml),
            metadata_xml: new.metadata_xml,
            entity_id: metadata.entity_id,
            sso_url: metadata.sso_url,
            signing_certificates: metadata.signing_certificates,
            attributes: new.attributes,
            email_domains: new.email_domains,
            created_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        });
        self.idps.push(idp.clone());
        Ok(idp)
    }

    /// SAML IDP `id` as the admin API shows it, its reply URL on the origin
    /// of `served_at` (where the workspace is served).
    pub fn saml_idp(&self, id: &str, served_at: &Url) -> Option<SamlIdp> {
        let idp = self.idps.iter().find(|i| i.id == id)?;
        let saml = self.saml_idps.iter().find(|s| s.id == id)?;
        Some(SamlIdp {
            id: idp.id.clone(),
            name: idp.name.clone(),
            kind: idp.kind.clone(),
            default: idp.default,
            reply_url: reply_url_for(served_at, id),
            entity_id: saml.entity_id.clone(),
            sso_url: saml.sso_url.clone(),
            signing_certificates: saml.signing_certificates.clone(),
            attributes: saml.attributes.clone(),
            email_domains: saml.email_domains.clone(),
            created_at: saml.created_at.clone(),
        })
    }

    /// Removes SAML IDP `id` (`DELETE /idps/{id}`): `Ok(false)` when there is
    /// none, `Err` with the ids of live SCIM secrets that use it.
    pub fn remove_saml_idp(&mut self, id: &str) -> Result<bool, Vec<String>> {
        if !self.saml_idps.iter().any(|s| s.id == id) {
            return Ok(false);
        }
        let now = SystemTime::now();
        let live: Vec<String> = self
            .secrets
            .iter()
            .filter(|s| s.idp_id == id && !s.revoked && !s.expired_at(now))
            .map(|s| s.id.clone())
            .collect();
        if !live.is_empty() {
            return Err(live);
        }
        self.saml_idps.retain(|s| s.id != id);
        self.idps.retain(|i| i.id != id);
        Ok(true)
    }

    /// Every IDP, SAML ones with their reply URL (`GET /idps`).
    pub fn idps_with_reply_urls(&self, served_at: &Url) -> Vec<Idp> {
        self.idps
            .iter()
            .map(|i| {
                let mut idp = i.clone();
                if self.saml_idps.iter().any(|s| s.id == i.id) {
                    idp.reply_url = Some(reply_url_for(served_at, &i.id).to_string());
                }
                idp
            })
            .collect()
    }
}

/// The fields trimmed and checked; email domains lower-cased, without
/// repeats (assumed rules: the article only names the fields).
pub fn normalise(new: &NewSamlIdp) -> Result<NewSamlIdp, IdpRefusal> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(IdpRefusal::Invalid("name is required.".into()));
    }
    if name.chars().count() > NAME_MAX || name.contains(['\r', '\n']) {
        return Err(IdpRefusal::Invalid(format!(
            "name is one line of at most {NAME_MAX} characters."
        )));
    }
    if new.metadata_xml.trim().is_empty() {
        return Err(IdpRefusal::Invalid(
            "metadataXml is required: the IdP's federation metadata document.".into(),
        ));
    }
    let attribute = |label: &str, value: &str| {
        let value = value.trim();
        if value.is_empty() {
            Err(IdpRefusal::Invalid(format!(
                "The attribute name for {label} is required."
            )))
        } else if value.chars().count() > ATTRIBUTE_MAX || value.contains(['\r', '\n']) {
            Err(IdpRefusal::Invalid(format!(
                "The attribute name for {label} is one line of at most {ATTRIBUTE_MAX} characters."
            )))
        } else {
            Ok(value.to_string())
        }
    };
    let attributes = SamlAttributeNames {
        first_name: attribute("first name", &new.attributes.first_name)?,
        last_name: attribute("last name", &new.attributes.last_name)?,
        email: attribute("email", &new.attributes.email)?,
        user_id: attribute("user id", &new.attributes.user_id)?,
    };
    let mut email_domains: Vec<String> = Vec::new();
    for domain in &new.email_domains {
        let domain = domain.trim().to_ascii_lowercase();
        if domain.is_empty() {
            continue;
        }
        if !is_domain(&domain) {
            return Err(IdpRefusal::Invalid(format!(
                "\"{}\" is not an email domain (e.g. contoso.com, without @).",
                domain.chars().take(80).collect::<String>()
            )));
        }
        if !email_domains.contains(&domain) {
            email_domains.push(domain);
        }
    }
    Ok(NewSamlIdp {
        name: name.to_string(),
        metadata_xml: new.metadata_xml.clone(),
        attributes,
        email_domains,
    })
}

/// Two or more DNS labels of letters, digits and inner hyphens.
fn is_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// The routes, under `/api/admin/v1/idps`.
pub(super) fn routes() -> Router<AdminState> {
    Router::new()
        .route("/api/admin/v1/idps", get(list_idps).post(create_idp))
        .route("/api/admin/v1/idps/{id}", get(read_idp).delete(delete_idp))
}

async fn list_idps(
    State(state): State<AdminState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let items = state.ws.lock().await.idps_with_reply_urls(&state.scim_url);
    Ok(axum::Json(json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateIdpBody {
    name: Option<String>,
    metadata_xml: Option<String>,
    attributes: Option<AttributesBody>,
    #[serde(default)]
    email_domains: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttributesBody {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    user_id: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

async fn create_idp(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let parsed: CreateIdpBody = serde_json::from_slice(&body).map_err(|e| {
        invalid(format!(
            "The body must be JSON like {{\"name\":\"…\",\"metadataXml\":\"…\",\"attributes\":{{…}}}}: {e}."
        ))
    })?;
    let attributes = parsed
        .attributes
        .ok_or_else(|| invalid("attributes is required (firstName, lastName, email, userId)."))?;
    let new = NewSamlIdp {
        name: parsed.name.unwrap_or_default(),
        metadata_xml: parsed.metadata_xml.unwrap_or_default(),
        attributes: SamlAttributeNames {
            first_name: attributes.first_name.unwrap_or_default(),
            last_name: attributes.last_name.unwrap_or_default(),
            email: attributes.email.unwrap_or_default(),
            user_id: attributes.user_id.unwrap_or_default(),
        },
        email_domains: parsed.email_domains,
    };
    let created = {
        let mut ws = state.ws.lock().await;
        ws.add_saml_idp(&new)
            .map(|idp| ws.saml_idp(&idp.id, &state.scim_url))
    };
    let created = match created {
        Ok(Some(idp)) => idp,
        Ok(None) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "The IDP was added but cannot be read back.",
            ));
        }
        Err(refusal) => {
            let (status, code) = refusal.status_and_code();
            return Err(ApiError::new(status, code, refusal.to_string()));
        }
    };
    (state.on_change)();
    let location = format!("/api/admin/v1/idps/{}", created.id);
    let mut response = (StatusCode::CREATED, axum::Json(created)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn read_idp(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let idp = state.ws.lock().await.saml_idp(&id, &state.scim_url);
    match idp {
        Some(idp) => Ok(axum::Json(idp).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No SAML IDP with id \"{id}\"."),
        )),
    }
}

async fn delete_idp(
    State(state): State<AdminState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers).await?;
    let removed = state.ws.lock().await.remove_saml_idp(&id);
    match removed {
        Ok(true) => {
            (state.on_change)();
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Ok(false) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No SAML IDP with id \"{id}\"."),
        )),
        Err(live) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "SCIM secrets that are not revoked use this IDP: {}. Revoke them first.",
                live.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::secret::Secret;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/saml/idp-metadata.xml");

    fn new(name: &str) -> NewSamlIdp {
        NewSamlIdp {
            name: name.into(),
            metadata_xml: FIXTURE.into(),
            attributes: SamlAttributeNames {
                first_name: " givenname ".into(),
                last_name: "surname".into(),
                email: "emailaddress".into(),
                user_id: "name".into(),
            },
            email_domains: vec![" Contoso.com ".into(), "contoso.com".into(), String::new()],
        }
    }

    #[test]
    fn adds_a_saml_idp_with_its_parsed_metadata_and_reply_url() {
        let mut ws = Workspace::new_default(&Secret::new("a"));
        let before = ws.idps.len();
        let idp = ws.add_saml_idp(&new(" Entra SSO ")).unwrap();
        assert_eq!(
            (idp.name.as_str(), idp.kind.as_str()),
            ("Entra SSO", "saml")
        );
        assert!(!idp.default);
        assert_eq!(ws.idps.len(), before + 1);
        let served: Url = "http://127.0.0.1:4100/scim/v2".parse().unwrap();
        let saml = ws.saml_idp(&idp.id, &served).unwrap();
        assert_eq!(
            saml.reply_url.as_str(),
            format!("http://127.0.0.1:4100/api/saml/login/{}", idp.id)
        );
        assert_eq!(saml.attributes.first_name, "givenname");
        assert_eq!(saml.email_domains, ["contoso.com"]);
        assert!(FIXTURE.contains(&saml.signing_certificates[0]));
        let listed = ws.idps_with_reply_urls(&served);
        assert_eq!(
            listed.last().unwrap().reply_url.as_deref(),
            Some(saml.reply_url.as_str())
        );
        assert!(listed[0].reply_url.is_none(), "not a SAML IDP");
        assert!(ws.saml_idp("idp-entra", &served).is_none());
        let back: Workspace = serde_json::from_str(&serde_json::to_string(&ws).unwrap()).unwrap();
        assert_eq!(back.saml_idps, ws.saml_idps);
        // A SCIM secret can be made for it (step 1b chooses it), and it
        // keeps the IDP until revoked.
        let (secret, _) = ws.create_secret(&idp.id).unwrap();
        assert_eq!(ws.remove_saml_idp(&idp.id), Err(vec![secret.id.clone()]));
        assert!(ws.revoke_secret(&secret.id));
        assert_eq!(ws.remove_saml_idp(&idp.id), Ok(true));
        assert_eq!(ws.idps.len(), before);
        assert!(ws.saml_idps.is_empty());
        assert_eq!(ws.remove_saml_idp(&idp.id), Ok(false));
        assert_eq!(ws.remove_saml_idp("idp-entra"), Ok(false), "not SAML");
    }

    #[test]
    fn refusals_change_nothing() {
        let mut ws = Workspace::new_default(&Secret::new("a"));
        let before = ws.clone();
        let status = |r: Result<Idp, IdpRefusal>| r.unwrap_err().status_and_code();
        let mut bad = new("x");
        bad.metadata_xml = "<html/>".into();
        assert_eq!(
            status(ws.add_saml_idp(&bad)),
            (StatusCode::BAD_REQUEST, "invalid_metadata")
        );
        bad.metadata_xml = FIXTURE.replace("use=\"signing\"", "use=\"encryption\"");
        assert_eq!(
            status(ws.add_saml_idp(&bad)),
            (StatusCode::BAD_REQUEST, "no_signing_certificate")
        );
        assert_eq!(
            status(ws.add_saml_idp(&new("microsoft ENTRA id"))),
            (StatusCode::CONFLICT, "conflict")
        );
        bad = new("x");
        bad.metadata_xml = format!("{FIXTURE}{}", " ".repeat(METADATA_MAX_BYTES));
        assert!(matches!(
            ws.add_saml_idp(&bad),
            Err(IdpRefusal::Invalid(m)) if m.contains("512 KiB")
        ));
        for (field, edit) in [
            (
                "name",
                Box::new(|n: &mut NewSamlIdp| n.name = "  ".into()) as Box<dyn Fn(&mut NewSamlIdp)>,
            ),
            (
                "metadataXml",
                Box::new(|n: &mut NewSamlIdp| n.metadata_xml = "\n".into()),
            ),
            (
                "first name",
                Box::new(|n: &mut NewSamlIdp| n.attributes.first_name = String::new()),
            ),
            (
                "user id",
                Box::new(|n: &mut NewSamlIdp| n.attributes.user_id = "a\nb".into()),
            ),
            (
                "@contoso.com",
                Box::new(|n: &mut NewSamlIdp| n.email_domains = vec!["@contoso.com".into()]),
            ),
            (
                "contoso",
                Box::new(|n: &mut NewSamlIdp| n.email_domains = vec!["contoso".into()]),
            ),
        ] {
            let mut n = new("y");
            edit(&mut n);
            match ws.add_saml_idp(&n) {
                Err(IdpRefusal::Invalid(m)) => assert!(m.contains(field), "{field}: {m}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert_eq!(ws, before);
    }
}
