//! Graph resources the wizard reads, modelled on Microsoft's v1.0 resource pages.
//!
//! Every type ignores unknown fields and treats documented-but-nullable
//! fields as `Option`; collections default to empty when absent or `null`.
//! Timestamps stay strings: Graph sends `""` and `0001-01-01T00:00:00Z` for
//! "never" (see `job-get.response.json`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::platform::secret::Secret;

/// `resources/serviceprincipal.md` (the `$select` the wizard asks for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    pub id: String,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub preferred_single_sign_on_mode: Option<String>,
    #[serde(default)]
    pub service_principal_type: Option<String>,
}

/// `resources/application.md`, the fields the wizard uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    #[serde(default)]
    pub app_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `applicationServicePrincipal`, what `applicationTemplate: instantiate` returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstantiatedApp {
    pub application: Application,
    pub service_principal: ServicePrincipal,
}

/// `resources/synchronization-synchronizationtemplate.md` (without `schema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationTemplate {
    pub id: String,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default)]
    pub factory_tag: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metadata: Vec<KeyValue>,
}

/// `stringKeyStringValuePair` (template metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// `resources/synchronization-synchronizationjob.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationJob {
    pub id: String,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(default)]
    pub schedule: Option<SynchronizationSchedule>,
    #[serde(default)]
    pub status: Option<SynchronizationStatus>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub synchronization_job_settings: Vec<JobSetting>,
}

/// `resources/synchronization-synchronizationschedule.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationSchedule {
    #[serde(default)]
    pub expiration: Option<String>,
    /// ISO 8601 duration, e.g. `PT40M`.
    #[serde(default)]
    pub interval: Option<String>,
    /// `Active`, `Disabled`, `Paused`.
    #[serde(default)]
    pub state: Option<String>,
}

/// `keyValuePair` in `synchronizationJobSettings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSetting {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// `resources/synchronization-synchronizationstatus.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationStatus {
    #[serde(default)]
    pub code: JobStatusCode,
    #[serde(default)]
    pub count_successive_complete_failures: Option<i64>,
    #[serde(default)]
    pub escrows_pruned: Option<bool>,
    #[serde(default)]
    pub last_execution: Option<SynchronizationTaskExecution>,
    #[serde(default)]
    pub last_successful_execution: Option<SynchronizationTaskExecution>,
    #[serde(default)]
    pub last_successful_execution_with_exports: Option<SynchronizationTaskExecution>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub progress: Vec<SynchronizationProgress>,
    #[serde(default)]
    pub quarantine: Option<SynchronizationQuarantine>,
    #[serde(default)]
    pub steady_state_first_achieved_time: Option<String>,
    #[serde(default)]
    pub steady_state_last_achieved_time: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub synchronized_entry_count_by_type: Vec<EntryCount>,
    #[serde(default)]
    pub troubleshooting_url: Option<String>,
}

/// `synchronizationStatusCode`; values Graph adds later land in `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum JobStatusCode {
    #[default]
    NotConfigured,
    NotRun,
    Active,
    Paused,
    Quarantine,
    Unknown(String),
}

impl JobStatusCode {
    pub fn as_str(&self) -> &str {
        match self {
            JobStatusCode::NotConfigured => "NotConfigured",
            JobStatusCode::NotRun => "NotRun",
            JobStatusCode::Active => "Active",
            JobStatusCode::Paused => "Paused",
            JobStatusCode::Quarantine => "Quarantine",
            JobStatusCode::Unknown(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "NotConfigured" => JobStatusCode::NotConfigured,
            "NotRun" => JobStatusCode::NotRun,
            "Active" => JobStatusCode::Active,
            "Paused" => JobStatusCode::Paused,
            "Quarantine" => JobStatusCode::Quarantine,
            other => JobStatusCode::Unknown(other.to_string()),
        }
    }
}

impl fmt::Display for JobStatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JobStatusCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStatusCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        Ok(JobStatusCode::parse(&s))
    }
}

/// `resources/synchronization-synchronizationtaskexecution.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationTaskExecution {
    #[serde(default)]
    pub activity_identifier: Option<String>,
    #[serde(default)]
    pub count_entitled: Option<i64>,
    #[serde(default)]
    pub count_entitled_for_provisioning: Option<i64>,
    #[serde(default)]
    pub count_escrowed: Option<i64>,
    #[serde(default)]
    pub count_escrowed_raw: Option<i64>,
    #[serde(default)]
    pub count_exported: Option<i64>,
    #[serde(default)]
    pub count_exports: Option<i64>,
    #[serde(default)]
    pub count_imported: Option<i64>,
    #[serde(default)]
    pub count_imported_deltas: Option<i64>,
    #[serde(default)]
    pub count_imported_reference_deltas: Option<i64>,
    #[serde(default)]
    pub error: Option<SynchronizationError>,
    /// `Succeeded`, `Failed`, `EntryLevelErrors`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub time_began: Option<String>,
    #[serde(default)]
    pub time_ended: Option<String>,
}

/// `resources/synchronization-synchronizationerror.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub tenant_actionable: Option<bool>,
}

/// `resources/synchronization-synchronizationquarantine.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationQuarantine {
    #[serde(default)]
    pub current_began: Option<String>,
    #[serde(default)]
    pub next_attempt: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub series_began: Option<String>,
    #[serde(default)]
    pub series_count: Option<i64>,
    #[serde(default)]
    pub error: Option<SynchronizationError>,
}

/// `resources/synchronization-synchronizationprogress.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SynchronizationProgress {
    #[serde(default)]
    pub completed_units: Option<i64>,
    #[serde(default)]
    pub progress_observation_date_time: Option<String>,
    #[serde(default)]
    pub total_units: Option<i64>,
    #[serde(default)]
    pub units: Option<String>,
}

/// `stringKeyLongValuePair` in `synchronizedEntryCountByType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryCount {
    pub key: String,
    #[serde(default)]
    pub value: Option<i64>,
}

/// Keys of `synchronizationSecret` the wizard reads or writes.
pub mod secret_keys {
    pub const BASE_ADDRESS: &str = "BaseAddress";
    pub const SECRET_TOKEN: &str = "SecretToken";
    pub const SYNC_ALL: &str = "SyncAll";
    pub const SYNC_NOTIFICATION_SETTINGS: &str = "SyncNotificationSettings";
}

/// Keys whose values are credentials (the enum has more than SCIM uses).
const SENSITIVE_KEYS: [&str; 4] = [
    secret_keys::SECRET_TOKEN,
    "Password",
    "ClientSecret",
    "AppKey",
];

/// One `synchronizationSecretKeyStringValuePair`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    pub key: String,
    pub value: SecretValue,
}

#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    Plain(String),
    /// A credential the wizard holds: only exposed in the request body.
    Sensitive(Secret),
    /// Graph returns saved credentials as `"*"`: the value is unknown and
    /// cannot be written back.
    Masked,
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::Plain(v) => f.debug_tuple("Plain").field(v).finish(),
            SecretValue::Sensitive(_) => f.write_str("Sensitive(<redacted>)"),
            SecretValue::Masked => f.write_str("Masked"),
        }
    }
}

impl SecretEntry {
    pub fn plain(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: SecretValue::Plain(value.into()),
        }
    }

    pub fn sensitive(key: impl Into<String>, value: Secret) -> Self {
        Self {
            key: key.into(),
            value: SecretValue::Sensitive(value),
        }
    }

    /// Classifies a pair as read from Graph.
    pub fn from_wire(key: String, value: Option<String>) -> Self {
        let value = match value {
            Some(v) if v == "*" => SecretValue::Masked,
            Some(v) if SENSITIVE_KEYS.contains(&key.as_str()) => {
                SecretValue::Sensitive(Secret::new(v))
            }
            v => SecretValue::Plain(v.unwrap_or_default()),
        };
        Self { key, value }
    }

    /// The plain value, if this entry has one the wizard may read.
    pub fn plain_value(&self) -> Option<&str> {
        match &self.value {
            SecretValue::Plain(v) => Some(v),
            _ => None,
        }
    }
}

pub(super) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_round_trip_and_keep_unknown_values() {
        for code in [
            "NotConfigured",
            "NotRun",
            "Active",
            "Paused",
            "Quarantine",
            "Draining",
        ] {
            let parsed: JobStatusCode = serde_json::from_value(serde_json::json!(code)).unwrap();
            assert_eq!(serde_json::to_value(&parsed).unwrap(), code);
        }
        assert_eq!(
            JobStatusCode::parse("Draining"),
            JobStatusCode::Unknown("Draining".into())
        );
    }

    #[test]
    fn secret_values_are_classified_and_never_debug_printed() {
        let token = SecretEntry::from_wire("SecretToken".into(), Some("tok-1234".into()));
        assert!(matches!(&token.value, SecretValue::Sensitive(s) if s.expose() == "tok-1234"));
        assert!(!format!("{token:?}").contains("tok-1234"));
        let masked = SecretEntry::from_wire("SecretToken".into(), Some("*".into()));
        assert_eq!(masked.value, SecretValue::Masked);
        let url = SecretEntry::from_wire("BaseAddress".into(), Some("https://x/scim".into()));
        assert_eq!(url.plain_value(), Some("https://x/scim"));
        assert!(format!("{url:?}").contains("https://x/scim"));
    }

    #[test]
    fn nullable_collections_default_to_empty() {
        let sp: ServicePrincipal =
            serde_json::from_str(r#"{"id":"1","tags":null,"extra":{"x":1}}"#).unwrap();
        assert!(sp.tags.is_empty() && sp.display_name.is_none());
    }
}

/// One `appRoleAssignment` of a service principal (`appRoleAssignedTo`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAssignment {
    pub principal_id: String,
    /// "User", "Group" or "`ServicePrincipal`".
    #[serde(default)]
    pub principal_type: Option<String>,
    #[serde(default)]
    pub principal_display_name: Option<String>,
}

/// A directory object as `/users` and `/groups/{id}/members` return it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryUser {
    pub id: String,
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
}

impl DirectoryUser {
    /// Group members can be devices, groups or contacts too.
    pub fn is_user(&self) -> bool {
        self.odata_type
            .as_deref()
            .is_none_or(|t| t == "#microsoft.graph.user")
    }

    pub fn has_mail(&self) -> bool {
        self.mail.as_deref().is_some_and(|m| !m.trim().is_empty())
    }
}

/// A group as `/groups` lists it (only what the wizard shows).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}
