//! What the wizard created and must not lose track of between runs: an
//! enterprise app Entra has not listed yet, and SCIM secrets not revoked
//! yet. Kept in the run state (`resume`); read by the steps.

use serde::{Deserialize, Serialize};

/// Where a SCIM secret the wizard created stands with Entra.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SecretUse {
    /// Created; no PUT to Entra was sent with it. Safe to revoke in a
    /// later run (this run may still be about to send it).
    Created,
    /// A PUT to Entra carried it (its answer may have been lost): Entra may
    /// hold it, so it is kept until another secret is saved and tested.
    Sent,
    /// Entra took another secret after it: to revoke (again, if a revoke failed).
    Replaced,
}

/// A SCIM secret the wizard created, remembered from the moment the create
/// is sent until it is revoked: the id (`None` while the create's answer is
/// unknown), when, and the description it was created with so a lost answer
/// can be matched in Orchidea's list. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedScimSecret {
    pub id: Option<String>,
    /// Orchidea's `createdAt`, or when the create was sent (RFC 3339, UTC).
    pub created_at: String,
    /// The description sent with the create (unique per create).
    pub description: String,
    /// The workspace: its SCIM base URL.
    pub scim_url: String,
    pub graph_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub state: SecretUse,
    /// Its last four characters, as Orchidea's list shows them: how the
    /// admin finds it in the web UI when undo cannot revoke it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    /// Orchidea's `expiresAt`, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl CreatedScimSecret {
    /// Sent now, answer not (yet) known; the description is unique.
    pub fn attempt(scim_url: &str, graph_url: &str, tenant_id: Option<&str>) -> Self {
        let at = crate::platform::timefmt::now_rfc3339();
        Self {
            id: None,
            description: format!(
                "Orchidea SCIM Setup Wizard, {at} ({})",
                uuid::Uuid::new_v4().simple()
            ),
            created_at: at,
            scim_url: scim_url.to_string(),
            graph_url: graph_url.to_string(),
            tenant_id: tenant_id.map(str::to_string),
            state: SecretUse::Created,
            last4: None,
            expires_at: None,
        }
    }

    /// Created for this workspace, Graph and tenant (an unknown tenant on
    /// either side lets the Graph URL decide, as for [`CreatedApp`]).
    pub fn belongs_to(&self, scim_url: &str, graph_url: &str, tenant_id: Option<&str>) -> bool {
        let tenant = match (self.tenant_id.as_deref(), tenant_id) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        tenant
            && super::backup::same_graph(&self.graph_url, graph_url)
            && self.scim_url.trim_end_matches('/') == scim_url.trim_end_matches('/')
    }

    /// "scs_… (created 2026-…)" or "created 2026-…, answer lost".
    pub fn describe(&self) -> String {
        let at = crate::platform::timefmt::readable(&self.created_at);
        match &self.id {
            Some(id) => format!("{id} (created {at})"),
            None => format!("a secret created {at} whose id never arrived"),
        }
    }
}

/// How long a remembered create keeps the wizard from creating again:
/// Microsoft gives no upper bound for replication, only that it "might take
/// several minutes" (support article
/// `404-not-found-error-manage-objects-microsoft-graph.md`), so a day is far
/// past any lag; after it, an app that answers 404 by id was deleted.
/// Inside it, only an explicit request creates another app.
pub const CREATED_APP_REMEMBERED: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// An enterprise app the wizard created, as soon as Entra answered (no
/// secrets: ids, name, time). `service_principal_id` is `None` when the
/// answer was lost or never came: the create was sent, its outcome unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApp {
    pub service_principal_id: Option<String>,
    pub app_id: Option<String>,
    pub display_name: String,
    /// When `instantiate` was sent (RFC 3339, UTC).
    pub at: String,
    /// The tenant it was created in (`tid` of the sign-in), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl CreatedApp {
    /// Sent now in `tenant_id`, answer not (yet) known.
    pub fn attempt(display_name: &str, tenant_id: Option<&str>) -> CreatedApp {
        CreatedApp {
            service_principal_id: None,
            app_id: None,
            display_name: display_name.to_string(),
            at: crate::platform::timefmt::now_rfc3339(),
            tenant_id: tenant_id.map(str::to_string),
        }
    }

    /// Whether it belongs to the tenant signed in to; when either is
    /// unknown (a sandbox, a given token) the Graph URL alone decides.
    pub fn same_tenant(&self, tenant_id: Option<&str>) -> bool {
        match (self.tenant_id.as_deref(), tenant_id) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        }
    }

    /// How long ago it was sent; an unreadable time counts as just now
    /// (the safe side: no second create).
    pub fn age(&self, now: std::time::SystemTime) -> std::time::Duration {
        humantime::parse_rfc3339(&self.at)
            .ok()
            .and_then(|at| now.duration_since(at).ok())
            .unwrap_or_default()
    }

    /// Old enough that an app still not found was deleted.
    pub fn expired(&self, now: std::time::SystemTime) -> bool {
        self.age(now) >= CREATED_APP_REMEMBERED
    }

    /// "\"Orchidea\" (id …)" or "\"Orchidea\"" for a create whose answer was lost.
    pub fn describe(&self) -> String {
        match &self.service_principal_id {
            Some(id) => format!("\"{}\" ({id})", self.display_name),
            None => format!("\"{}\"", self.display_name),
        }
    }
}

/// A provisioning job the wizard created, kept from before the create is
/// sent until undo deletes it (ids only). `job_id` is `None` while the
/// answer is not known; the job then found on the app is this one, since
/// the wizard only creates a job on an app that had none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedJob {
    pub service_principal_id: String,
    pub job_id: Option<String>,
    pub graph_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// When the create was sent (RFC 3339, UTC).
    pub at: String,
    /// The wizard created the app too (it is never deleted by undo).
    #[serde(default)]
    pub app_created: bool,
}

impl CreatedJob {
    /// Whether it is of this Graph and tenant (unknown tenants: Graph decides).
    pub fn belongs_to(&self, graph_url: &str, tenant_id: Option<&str>) -> bool {
        let same_tenant = match (self.tenant_id.as_deref(), tenant_id) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        same_tenant && super::backup::same_graph(&self.graph_url, graph_url)
    }
}

/// The SCIM secret Entra holds for an app, as far as the wizard knows it:
/// recorded whenever a PUT that carries a Secret Token succeeds (never the
/// value). Rotation revokes it once a new one is saved and tested; age and
/// expiry are shown from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldSecret {
    /// The enterprise app (service principal) whose settings hold it.
    pub service_principal_id: String,
    pub graph_url: String,
    /// The Tenant URL saved with it.
    pub scim_url: String,
    pub last4: String,
    /// Orchidea's id, when the wizard created it (admin API); a pasted
    /// secret's id is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Orchidea's `createdAt`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Orchidea's `expiresAt`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When Entra saved it (RFC 3339, UTC).
    pub saved_at: String,
}

impl HeldSecret {
    /// "scs_… (…Qk9a)" or "…Qk9a" when the id is unknown.
    pub fn describe(&self) -> String {
        match &self.id {
            Some(id) => format!("{id} (…{})", self.last4),
            None => format!("…{}", self.last4),
        }
    }

    /// For this app on this Graph.
    pub fn is_for(&self, service_principal_id: &str, graph_url: &str) -> bool {
        self.service_principal_id == service_principal_id
            && super::backup::same_graph(&self.graph_url, graph_url)
    }
}

/// What step 0 (single sign-on) created or set, for one app: ids and URLs
/// only. The report lists it; undo deletes the Orchidea IDP it created and
/// says how to take the SAML settings off the app (never deleted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSso {
    pub service_principal_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    pub graph_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Step 0 created the enterprise app (from the non-gallery template).
    #[serde(default)]
    pub app_created: bool,
    /// The SAML settings (Identifier, Reply URL, Sign on URL, mode) were set.
    #[serde(default)]
    pub saml_set: bool,
    /// The signing certificate step 0 added: thumbprint and keyId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_thumbprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_key_id: Option<String>,
    /// The Orchidea IDP step 0 created through the admin API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_name: Option<String>,
    /// The reply URL set in Entra (on the manual path, the admin's IDP's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_url: Option<String>,
    /// The admin added the IDP in Orchidea's web UI (manual path).
    #[serde(default)]
    pub idp_by_hand: bool,
    /// When step 0 first wrote (RFC 3339, UTC).
    pub at: String,
}

impl CreatedSso {
    /// Of this Graph and tenant (unknown tenants: Graph decides).
    pub fn belongs_to(&self, graph_url: &str, tenant_id: Option<&str>) -> bool {
        let same_tenant = match (self.tenant_id.as_deref(), tenant_id) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        same_tenant && super::backup::same_graph(&self.graph_url, graph_url)
    }

    /// The report's lines: what was created or changed.
    pub fn lines(&self) -> Vec<String> {
        let app = self.app_name.as_deref().unwrap_or("the Orchidea app");
        let mut lines = Vec::new();
        if self.app_created {
            lines.push(format!(
                "Entra: created the enterprise app \"{app}\" ({}) for single sign-on.",
                self.service_principal_id
            ));
        }
        if self.saml_set {
            lines.push(format!(
                "Entra: SAML single sign-on set on \"{app}\" (Identifier, Reply URL{}, Sign on URL).",
                self.reply_url
                    .as_deref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(t) = &self.certificate_thumbprint {
            lines.push(format!(
                "Entra: added SAML signing certificate {t}{} to \"{app}\".",
                self.certificate_key_id
                    .as_deref()
                    .map(|k| format!(" (keyId {k})"))
                    .unwrap_or_default()
            ));
        }
        if let Some(id) = &self.idp_id {
            lines.push(format!(
                "Orchidea: created IDP \"{}\" ({id}) from Entra's federation metadata.",
                self.idp_name.as_deref().unwrap_or("?")
            ));
        } else if self.idp_by_hand {
            lines.push(
                "Orchidea: the IDP was added by hand in Orchidea's web UI; its reply URL is the app's Reply URL."
                    .into(),
            );
        }
        lines
    }
}
