//! The simulated Entra directory: tenant objects, provisioning jobs, saved secrets and the provisioning log.
//!
//! Its Graph routes sit beside it, one file per step group (`app`,
//! `credentials`, `mappings`, `scope`, `start`, `sso`), on the shared plumbing of
//! `graph` (listener, bearer check, error envelope, lists) and `odata`.

pub mod app;
pub mod credentials;
pub mod graph;
pub mod mappings;
pub mod odata;
pub mod scope;
pub mod signing_cert;
pub mod sso;
pub mod sso_metadata;
pub mod start;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::job::Job;
use super::tenant::{Group, ServicePrincipal, TenantFile, TenantInfo, User};
use crate::platform::secret::Secret;

/// The keys of the `synchronizationSecret` enum
/// (`resources/synchronization-synchronizationsecretkeystringvaluepair.md`).
pub const SECRET_KEYS: [&str; 45] = [
    "None",
    "UserName",
    "Password",
    "SecretToken",
    "AppKey",
    "BaseAddress",
    "ClientIdentifier",
    "ClientSecret",
    "SingleSignOnType",
    "Sandbox",
    "Url",
    "Domain",
    "ConsumerKey",
    "ConsumerSecret",
    "TokenKey",
    "TokenExpiration",
    "Oauth2AccessToken",
    "Oauth2AccessTokenCreationTime",
    "Oauth2RefreshToken",
    "SyncAll",
    "InstanceName",
    "Oauth2ClientId",
    "Oauth2ClientSecret",
    "CompanyId",
    "UpdateKeyOnSoftDelete",
    "SynchronizationSchedule",
    "SystemOfRecord",
    "SandboxName",
    "EnforceDomain",
    "SyncNotificationSettings",
    "SkipOutOfScopeDeletions",
    "Oauth2AuthorizationCode",
    "Oauth2RedirectUri",
    "ApplicationTemplateIdentifier",
    "Oauth2TokenExchangeUri",
    "Oauth2AuthorizationUri",
    "AuthenticationType",
    "Server",
    "PerformInboundEntitlementGrants",
    "HardDeletesEnabled",
    "SyncAgentCompatibilityKey",
    "SyncAgentADContainer",
    "ValidateDomain",
    "TestReferences",
    "ConnectionString",
];

/// Keys whose values read back as `"*"`. The docs say only that credentials
/// are masked; the sandbox masks every key that holds a password, token or
/// key, and shows settings (URLs, flags, JSON settings) as saved.
const SENSITIVE_KEYS: [&str; 11] = [
    "Password",
    "SecretToken",
    "AppKey",
    "ClientSecret",
    "ConsumerSecret",
    "TokenKey",
    "Oauth2AccessToken",
    "Oauth2RefreshToken",
    "Oauth2ClientSecret",
    "Oauth2AuthorizationCode",
    "ConnectionString",
];

/// The enum member spelled as Graph spells it; Graph's enum parsing is
/// case-insensitive, so `secrettoken` is `SecretToken`.
pub fn canonical_key(key: &str) -> Option<&'static str> {
    SECRET_KEYS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key))
        .copied()
}

pub fn is_sensitive(key: &str) -> bool {
    SENSITIVE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// One saved provisioning secret. Every value is a [`Secret`], even the
/// harmless ones, so none can reach a log by accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPair {
    pub key: String,
    pub value: Secret,
}

impl SecretPair {
    /// `{key, value}` as Graph's GET shows it: sensitive values as `"*"`.
    pub fn masked(&self) -> Value {
        let value = if is_sensitive(&self.key) {
            "*"
        } else {
            self.value.expose()
        };
        json!({ "key": self.key, "value": value })
    }
}

/// A job with what Entra keeps beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub service_principal_id: String,
    pub job: Job,
    /// Exactly as last PUT (or the template's on creation).
    pub schema: Value,
    /// Entra user id → SCIM resource id of users this job provisioned (the
    /// connector data store; a `Full` restart clears it).
    #[serde(default)]
    pub provisioned: BTreeMap<String, String>,
    /// Deletions (and disables) held back by the accidental-deletions threshold.
    #[serde(default)]
    pub deletes: HeldDeletes,
    /// Entra group id → the SCIM group and the member ids last sent to it
    /// (Entra reads groups back without members, so it diffs against these).
    #[serde(default)]
    pub provisioned_groups: BTreeMap<String, ProvisionedGroup>,
}

/// A permanently deleted user, as the provisioning service still knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurgedUser {
    pub user: User,
    /// Service principals the user was assigned to (directly or through a
    /// group) when it was deleted.
    pub assigned_to: BTreeSet<String>,
}

/// What the accidental-deletions check keeps beside a job
/// (`accidental-deletions.md`; `…restartcriteria.md`, `ForceDeletes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldDeletes {
    /// Entra user ids whose disable or delete the last cycle held back.
    pub pending: BTreeSet<String>,
    /// Pending ones a `ForceDeletes` restart let through: the next cycle
    /// performs them without counting them against the threshold.
    pub allowed: BTreeSet<String>,
}

/// A group a job provisioned: its SCIM id and the SCIM user ids sent as members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedGroup {
    pub id: String,
    #[serde(default)]
    pub members: std::collections::BTreeSet<String>,
}

/// One line of the provisioning log, served as a `provisioningObjectSummary`
/// at `/auditLogs/provisioning` (`start::auditlogs`). Fields added after the
/// first state-file version have defaults, so old state files still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub id: String,
    pub job_id: String,
    pub cycle_id: String,
    pub service_principal_id: String,
    pub user_id: String,
    pub user_display_name: String,
    /// `Create`, `Update`, `Disable` or `Skip`.
    pub action: String,
    /// `success`, `skipped` or `failure`.
    pub status: String,
    pub reason: String,
    /// The SCIM resource id, when one was created or matched.
    pub target_id: Option<String>,
    pub activity_date_time: String,
    /// The change's id (`changeId`); the on-demand answer carries the same.
    #[serde(default)]
    pub change_id: String,
    #[serde(default)]
    pub duration_ms: i64,
    /// Why it was skipped or failed, as a code (`EmptyMatchingValue`,
    /// `RedundantExport`, `NotEffectivelyEntitled`, …); `None` on success.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Made by `provisionOnDemand` rather than a cycle.
    #[serde(default)]
    pub on_demand: bool,
    /// Who asked for an on-demand run: the signed-in admin's id and name.
    #[serde(default)]
    pub initiated_by: Option<(String, String)>,
    /// The value of the first matching attribute, shown as the target's display name.
    #[serde(default)]
    pub target_display_name: Option<String>,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub modified_properties: Vec<ModifiedProperty>,
    /// `Group` for a group's line; absent (`None`) for a user's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<String>,
}

/// One step of processing a user (`provisioningStep`; the on-demand answer
/// has the same steps with capitalised types and statuses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// e.g. `EntryImport`, `EntrySynchronizationScoping`, `EntryExportAdd`.
    pub name: String,
    /// `Import`, `Scoping`, `Matching` or `Export`.
    pub step_type: String,
    /// `Success`, `Skipped` or `Failure`.
    pub status: String,
    pub description: String,
    pub timestamp: String,
    /// Attribute name → value, as the docs show them (all strings).
    pub details: serde_json::Map<String, Value>,
}

/// `modifiedProperty`: an attribute with its old and new value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedProperty {
    pub display_name: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// The oldest log lines are dropped past this many.
const LOG_LIMIT: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntraState {
    pub tenant: TenantInfo,
    pub users: Vec<User>,
    /// Deleted users still in the recycle bin (Graph `user-delete.md`: "moved
    /// to a temporary container and can be restored within 30 days").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_users: Vec<User>,
    /// Permanently deleted users (`directory-deleteditems-delete.md`), kept
    /// only so a job that provisioned them can delete them in the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purged_users: Vec<PurgedUser>,
    pub groups: Vec<Group>,
    pub service_principals: Vec<ServicePrincipal>,
    /// Application objects as Graph shows them: those `instantiate` made,
    /// and one per tenant-file app (`sso::settle_applications`).
    #[serde(default)]
    pub applications: Vec<Value>,
    #[serde(default)]
    pub jobs: Vec<JobRecord>,
    /// Service principal id → saved secrets. Not serialised with the rest:
    /// only [`EntraState::to_state_json`] writes the values.
    #[serde(skip)]
    pub secrets: BTreeMap<String, Vec<SecretPair>>,
    /// Service principal id → when Graph's replicas show it: an app made
    /// by `instantiate` is missing from lists and answers 404 until then
    /// (Entra's replication delay). Not state: a reloaded tenant has
    /// replicated long ago.
    #[serde(skip)]
    pub replicating: BTreeMap<String, std::time::Instant>,
    #[serde(default)]
    pub provisioning_log: Vec<LogEntry>,
    /// The admin `GET /me` returns: a user id or UPN (tenant file `signedInUser`).
    #[serde(default)]
    pub signed_in_user: Option<String>,
    /// The schema of template `scim` when the tenant file replays one
    /// (`templateSchema`); the built-in template otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_schema: Option<Value>,
}

impl EntraState {
    pub fn from_tenant(t: &TenantFile) -> EntraState {
        let mut state = EntraState {
            tenant: t.tenant.clone(),
            users: t.users.clone(),
            deleted_users: Vec::new(),
            purged_users: Vec::new(),
            groups: t.groups.clone(),
            service_principals: t.service_principals.clone(),
            applications: Vec::new(),
            jobs: Vec::new(),
            secrets: BTreeMap::new(),
            replicating: BTreeMap::new(),
            provisioning_log: Vec::new(),
            signed_in_user: t.signed_in_user.clone(),
            template_schema: t.template_schema.clone(),
        };
        sso::settle_applications(&mut state);
        state
    }

    /// The schema a new job of template `scim` starts from.
    pub fn template_schema(&self) -> &Value {
        match &self.template_schema {
            Some(schema) => schema,
            None => mappings::template_schema(),
        }
    }

    /// The whole state for the state file, saved secrets in plain text: the
    /// file is the simulated Entra's own database, as Entra's store is.
    pub fn to_state_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        let secrets: serde_json::Map<String, Value> = self
            .secrets
            .iter()
            .map(|(sp, pairs)| {
                let pairs: Vec<Value> = pairs
                    .iter()
                    .map(|p| json!({ "key": p.key, "value": p.value.expose() }))
                    .collect();
                (sp.clone(), Value::Array(pairs))
            })
            .collect();
        v["secrets"] = Value::Object(secrets);
        v
    }

    pub fn from_state_json(v: &Value) -> Result<EntraState, String> {
        let mut state: EntraState = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
        for (sp, pairs) in v["secrets"].as_object().into_iter().flatten() {
            let pairs = pairs
                .as_array()
                .ok_or("secrets must hold arrays")?
                .iter()
                .map(|p| match (p["key"].as_str(), p["value"].as_str()) {
                    (Some(k), Some(v)) => Ok(SecretPair {
                        key: k.to_string(),
                        value: Secret::new(v),
                    }),
                    _ => Err("a saved secret needs a string key and value".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            state.secrets.insert(sp.clone(), pairs);
        }
        sso::settle_applications(&mut state);
        Ok(state)
    }

    /// What `Sandbox::dump` shows under `entra`: secrets masked.
    pub fn dump(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        let jobs: Vec<Value> = self
            .jobs
            .iter()
            .map(|r| {
                json!({
                    "servicePrincipalId": r.service_principal_id,
                    "job": r.job,
                    "schema": r.schema,
                })
            })
            .collect();
        v["jobs"] = Value::Array(jobs);
        let secrets: serde_json::Map<String, Value> = self
            .secrets
            .iter()
            .map(|(sp, pairs)| {
                (
                    sp.clone(),
                    Value::Array(pairs.iter().map(SecretPair::masked).collect()),
                )
            })
            .collect();
        v["secrets"] = Value::Object(secrets);
        v
    }

    /// Deletes a user as Graph's `DELETE /users/{id}` does (`user-delete.md`):
    /// gone from the directory, kept in deleted items with its assignments
    /// and memberships. False when no such user exists.
    pub fn soft_delete_user(&mut self, id: &str) -> bool {
        let Some(i) = self
            .users
            .iter()
            .position(|u| u.id.eq_ignore_ascii_case(id))
        else {
            return false;
        };
        let user = self.users.remove(i);
        self.deleted_users.push(user);
        true
    }

    /// Deletes a user for good, from the directory or from deleted items
    /// (`directory-deleteditems-delete.md`; Entra also does it 30 days after
    /// a soft delete, `how-provisioning-works.md`, "Deprovisioning"). Its
    /// assignments and memberships go with it; the apps it was in scope of
    /// are remembered for their jobs' next cycle.
    pub fn purge_user(&mut self, id: &str) -> bool {
        let live = self
            .users
            .iter()
            .position(|u| u.id.eq_ignore_ascii_case(id));
        let user = match live {
            Some(i) => self.users.remove(i),
            None => match self
                .deleted_users
                .iter()
                .position(|u| u.id.eq_ignore_ascii_case(id))
            {
                Some(i) => self.deleted_users.remove(i),
                None => return false,
            },
        };
        let assigned_to: BTreeSet<String> = self
            .service_principals
            .iter()
            .map(|sp| sp.id.clone())
            .filter(|sp| self.assigned_users(sp).contains(&user.id))
            .collect();
        for sp in &mut self.service_principals {
            sp.assignments.users.retain(|u| u != &user.id);
            sp.assignments.created.remove(&user.id);
        }
        for g in &mut self.groups {
            g.members.retain(|u| u != &user.id);
        }
        self.purged_users.push(PurgedUser { user, assigned_to });
        true
    }

    /// A user by id or userPrincipalName (case-insensitive).
    pub fn user(&self, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| u.is(id_or_upn))
    }

    /// The signed-in admin, if the tenant names one.
    pub fn me(&self) -> Option<&User> {
        self.user(self.signed_in_user.as_deref()?)
    }

    /// Whether Graph's answers show `sp_id` yet (see `replicating`).
    pub fn replicated(&self, sp_id: &str) -> bool {
        self.replicating
            .get(sp_id)
            .is_none_or(|at| std::time::Instant::now() >= *at)
    }

    pub fn sp(&self, id: &str) -> Option<&ServicePrincipal> {
        self.service_principals.iter().find(|s| s.id == id)
    }

    pub fn job(&self, sp_id: &str, job_id: &str) -> Option<&JobRecord> {
        self.jobs
            .iter()
            .find(|j| j.service_principal_id == sp_id && j.job.id == job_id)
    }

    pub fn job_mut(&mut self, sp_id: &str, job_id: &str) -> Option<&mut JobRecord> {
        self.jobs
            .iter_mut()
            .find(|j| j.service_principal_id == sp_id && j.job.id == job_id)
    }

    /// A saved secret's value.
    pub fn secret(&self, sp_id: &str, key: &str) -> Option<&Secret> {
        self.secrets
            .get(sp_id)?
            .iter()
            .find(|p| p.key.eq_ignore_ascii_case(key))
            .map(|p| &p.value)
    }

    /// Users assigned to the app directly or through an assigned group.
    pub fn assigned_users(&self, sp_id: &str) -> BTreeSet<String> {
        let Some(sp) = self.sp(sp_id) else {
            return BTreeSet::new();
        };
        let mut ids: BTreeSet<String> = sp.assignments.users.iter().cloned().collect();
        for g in &self.groups {
            if sp.assignments.groups.contains(&g.id) {
                ids.extend(g.members.iter().cloned());
            }
        }
        ids
    }

    /// Points saved Tenant URLs at the sandbox workspace's new address when
    /// it could not get its old port back.
    pub fn move_base_address(&mut self, from: &str, to: &str) {
        for pairs in self.secrets.values_mut() {
            for p in pairs.iter_mut().filter(|p| p.key == "BaseAddress") {
                if let Some(rest) = p.value.expose().strip_prefix(from) {
                    p.value = Secret::new(format!("{to}{rest}"));
                }
            }
        }
        // Orchidea's reply URLs (an app's redirect URIs) and sign-on URLs
        // live on the same origin and move with it.
        let moved = |url: &str| url.strip_prefix(from).map(|rest| format!("{to}{rest}"));
        for app in &mut self.applications {
            if let Some(uris) = app["web"]["redirectUris"].as_array_mut() {
                for uri in uris {
                    if let Some(new) = uri.as_str().and_then(moved) {
                        *uri = Value::String(new);
                    }
                }
            }
        }
        for sp in &mut self.service_principals {
            if let Some(new) = sp.sso.login_url.as_deref().and_then(moved) {
                sp.sso.login_url = Some(new);
            }
        }
    }

    pub fn sp_mut(&mut self, id: &str) -> Option<&mut ServicePrincipal> {
        self.service_principals.iter_mut().find(|s| s.id == id)
    }

    pub fn push_log(&mut self, entries: Vec<LogEntry>) {
        self.provisioning_log.extend(entries);
        let excess = self.provisioning_log.len().saturating_sub(LOG_LIMIT);
        self.provisioning_log.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_json_keeps_secrets_and_dump_masks_them() {
        let mut state = EntraState::from_tenant(&TenantFile::builtin());
        let sp = state.service_principals[0].id.clone();
        state.secrets.insert(
            sp.clone(),
            vec![
                SecretPair {
                    key: "BaseAddress".into(),
                    value: Secret::new("http://127.0.0.1:1/scim/v2"),
                },
                SecretPair {
                    key: "SecretToken".into(),
                    value: Secret::new("tok-123456"),
                },
            ],
        );
        let saved = state.to_state_json();
        assert_eq!(saved["secrets"][&sp][1]["value"], "tok-123456");
        let back = EntraState::from_state_json(&saved).unwrap();
        assert_eq!(back, state);
        let dump = state.dump();
        assert_eq!(dump["secrets"][&sp][1]["value"], "*");
        assert_eq!(
            dump["secrets"][&sp][0]["value"],
            "http://127.0.0.1:1/scim/v2"
        );
        assert!(!dump.to_string().contains("tok-123456"));
        assert!(!format!("{state:?}").contains("tok-123456"));
    }

    #[test]
    fn assigned_users_include_group_members_once() {
        let state = EntraState::from_tenant(&TenantFile::builtin());
        let orchidea = state
            .service_principals
            .iter()
            .find(|s| s.display_name == "Orchidea")
            .unwrap();
        let ids = state.assigned_users(&orchidea.id);
        assert_eq!(ids.len(), 9);
        assert!(state.assigned_users("missing").is_empty());
    }

    #[test]
    fn a_moved_workspace_takes_its_saved_tenant_urls_along() {
        let mut state = EntraState::from_tenant(&TenantFile::builtin());
        let pair = |k: &str, v: &str| SecretPair {
            key: k.into(),
            value: Secret::new(v),
        };
        state.secrets.insert(
            "a".into(),
            vec![
                pair("BaseAddress", "http://127.0.0.1:4000/scim/v2"),
                pair("SecretToken", "http://127.0.0.1:4000/x"),
            ],
        );
        state.secrets.insert(
            "b".into(),
            vec![pair("BaseAddress", "https://elsewhere/scim")],
        );
        let app = state.applications.len();
        assert!(
            app > 0,
            "the built-in tenant's apps have application objects"
        );
        state.applications[0]["web"]["redirectUris"] = serde_json::json!([
            "http://127.0.0.1:4000/api/saml/login/idp-1",
            "https://elsewhere/acs"
        ]);
        state.service_principals[0].sso.login_url = Some("http://127.0.0.1:4000/contoso".into());
        state.move_base_address("http://127.0.0.1:4000/", "http://127.0.0.1:5000/");
        assert_eq!(
            state.secret("a", "BaseAddress").unwrap().expose(),
            "http://127.0.0.1:5000/scim/v2"
        );
        assert_eq!(
            state.applications[0]["web"]["redirectUris"],
            serde_json::json!([
                "http://127.0.0.1:5000/api/saml/login/idp-1",
                "https://elsewhere/acs"
            ]),
            "Orchidea's reply URL moves with its port; another one does not"
        );
        assert_eq!(
            state.service_principals[0].sso.login_url.as_deref(),
            Some("http://127.0.0.1:5000/contoso")
        );
        assert_eq!(
            state.secret("a", "SecretToken").unwrap().expose(),
            "http://127.0.0.1:4000/x"
        );
        assert_eq!(
            state.secret("b", "BaseAddress").unwrap().expose(),
            "https://elsewhere/scim"
        );
    }

    #[test]
    fn keys_are_matched_like_graph_enums() {
        assert_eq!(canonical_key("secrettoken"), Some("SecretToken"));
        assert_eq!(canonical_key("SyncAll"), Some("SyncAll"));
        assert_eq!(canonical_key("TenantUrl"), None);
        assert!(is_sensitive("SecretToken") && !is_sensitive("BaseAddress"));
    }
}
