//! The admin API's contract: what the wizard asks of Orchidea
//! ([`OrchideaAdmin`]) and the values that come back.

use std::fmt;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use url::Url;

use super::OrchideaError;
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
    /// A SAML IDP's own reply URL (`kind` `saml`); text, so one odd entry
    /// cannot break the list step 1b reads.
    #[serde(rename = "replyUrl", default, skip_serializing_if = "Option::is_none")]
    pub reply_url: Option<String>,
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

/// The attribute names Orchidea reads from the SAML assertion ("+ Add new
/// IDP": first name, last name, email, user id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlAttributeNames {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub user_id: String,
}

impl SamlAttributeNames {
    /// The claims Entra sends by default in an app's SAML token (Entra docs
    /// `identity-platform/saml-claims-customization.md`; the claim URIs are
    /// those of `identity-platform/reference-saml-tokens.md`): first name,
    /// last name, email, and for the user id the object ID — the value
    /// provisioning sends as `externalId` (step 13), which stays the same
    /// when a user is renamed, where the user name (UPN) would not (a
    /// choice: the page lists both as sent by default).
    pub fn entra_default_claims() -> Self {
        let claim = |c: &str| format!("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/{c}");
        Self {
            first_name: claim("givenname"),
            last_name: claim("surname"),
            email: claim("emailaddress"),
            user_id: "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
        }
    }

    /// The four names with the field each goes in, in the form's order.
    pub fn labelled(&self) -> [(&'static str, &str); 4] {
        [
            ("First name", &self.first_name),
            ("Last name", &self.last_name),
            ("Email", &self.email),
            ("User id", &self.user_id),
        ]
    }
}

/// What "+ Add new IDP" takes: `POST /idps`.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSamlIdp {
    pub name: String,
    /// The federation metadata document (XML text) as Entra serves it.
    pub metadata_xml: String,
    pub attributes: SamlAttributeNames,
    /// Domains whose users Orchidea creates on first sign-in; may be empty.
    #[serde(default)]
    pub email_domains: Vec<String>,
}

impl NewSamlIdp {
    /// The metadata's SHA-256 (hex): what logs and `Debug` show instead of
    /// the document (public, but kilobytes long).
    pub fn metadata_sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.metadata_xml.as_bytes())
            .iter()
            .fold(String::new(), |mut hex, b| {
                let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
                hex
            })
    }
}

impl fmt::Debug for NewSamlIdp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSamlIdp")
            .field("name", &self.name)
            .field("metadata_bytes", &self.metadata_xml.len())
            .field("metadata_sha256", &self.metadata_sha256())
            .field("attributes", &self.attributes)
            .field("email_domains", &self.email_domains)
            .finish()
    }
}

/// A SAML IDP as Orchidea holds it: `POST /idps` answers it, `GET /idps/{id}` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SamlIdp {
    pub id: String,
    pub name: String,
    /// `saml`.
    pub kind: String,
    #[serde(default)]
    pub default: bool,
    /// What "Copy reply URL" gives: Entra's Reply URL (ACS) for this IDP,
    /// `{origin}/api/saml/login/{id}`.
    pub reply_url: Url,
    /// The metadata's `entityID` (Entra: `https://sts.windows.net/{tenant}/`).
    pub entity_id: String,
    /// The IDP's `SingleSignOnService` location.
    pub sso_url: String,
    /// The signing certificates the metadata held (base64 DER, no line breaks).
    pub signing_certificates: Vec<String>,
    pub attributes: SamlAttributeNames,
    #[serde(default)]
    pub email_domains: Vec<String>,
    pub created_at: String,
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
    /// "+ Add new IDP" (#17): a SAML IDP from Entra's federation metadata.
    fn create_saml_idp(&self, idp: &NewSamlIdp) -> BoxFuture<'_, Result<SamlIdp, OrchideaError>>;
    /// One SAML IDP with its reply URL ("Copy reply URL").
    fn get_saml_idp(&self, id: &str) -> BoxFuture<'_, Result<SamlIdp, OrchideaError>>;
    /// Removes a SAML IDP (undo); refused while live SCIM secrets use it.
    fn delete_saml_idp(&self, id: &str) -> BoxFuture<'_, Result<(), OrchideaError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn new_saml_idp_debug_shows_the_metadata_hash_not_the_document() {
        let idp = NewSamlIdp {
            name: "Entra".into(),
            metadata_xml: "<EntityDescriptor entityID=\"x\">MIIClongcert</EntityDescriptor>".into(),
            attributes: SamlAttributeNames {
                first_name: "g".into(),
                last_name: "s".into(),
                email: "e".into(),
                user_id: "u".into(),
            },
            email_domains: vec![],
        };
        let dbg = format!("{idp:?}");
        assert!(!dbg.contains("MIIClongcert"), "{dbg}");
        assert!(dbg.contains(&idp.metadata_sha256()), "{dbg}");
        assert_eq!(idp.metadata_sha256().len(), 64);
        let wire = serde_json::to_value(&idp).unwrap();
        assert_eq!(wire["attributes"]["firstName"], "g");
        assert!(wire["metadataXml"].as_str().unwrap().contains("MIIC"));
    }
}
