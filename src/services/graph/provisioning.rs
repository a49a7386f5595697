//! What Graph says after Start: the result of `provisionOnDemand`
//! (`api/synchronization-synchronizationjob-provisionondemand.md`) and the
//! provisioning log (`resources/provisioningobjectsummary.md`).
//!
//! Both are read leniently: every field is optional, because the docs mark
//! their examples "shortened" and the two on-demand examples differ in shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The result of provisioning one user on demand.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OnDemandResult {
    /// `Success`, `Skipped` or `Failure` (the `key` document's `result`).
    pub result: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// `Create`, `Update`, `Disable`, `Other`…
    pub action: Option<String>,
    pub reportable_identifier: Option<String>,
    /// The user's id in the target (SCIM), when one was created or matched.
    pub target_id: Option<String>,
    pub steps: Vec<OnDemandStep>,
}

/// One stage of an on-demand run, in the order Entra ran them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct OnDemandStep {
    pub name: String,
    /// `Import`, `Scoping`, `Matching`, `Processing`, `Export`…
    pub kind: String,
    /// `Success`, `Skipped`, `Failure`, `Warning`.
    pub status: String,
    pub description: String,
    /// Flattened to text: values Entra nests are shown as JSON.
    pub details: BTreeMap<String, String>,
}

/// Why an on-demand answer cannot be read (the detail of a
/// `GraphError::UnexpectedBody`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnDemandError {
    #[error("`{field}` is not a JSON document: {detail}")]
    NotJson { field: &'static str, detail: String },
    #[error("the answer has no `{field}`")]
    Missing { field: &'static str },
    #[error("the answer names no result")]
    NoResult,
}

impl OnDemandResult {
    /// Reads the `stringKeyStringValuePair` Graph returns: both `key` and
    /// `value` are JSON documents inside strings.
    pub fn from_response(body: &Value) -> Result<OnDemandResult, OnDemandError> {
        let key = embedded(body, "key")?;
        let value = embedded(body, "value")?;
        let text = |v: &Value| v.as_str().map(str::to_string);
        let details = &key["details"];
        let steps = value["provisioningSteps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| OnDemandStep {
                name: text(&s["name"]).unwrap_or_default(),
                kind: text(&s["type"])
                    .or_else(|| text(&s["provisioningStepType"]))
                    .unwrap_or_default(),
                status: text(&s["status"]).unwrap_or_default(),
                description: text(&s["description"]).unwrap_or_default(),
                details: flatten(&s["details"]),
            })
            .collect();
        let result = text(&key["result"])
            .or_else(|| text(&value["statusInfo"]["status"]))
            .ok_or(OnDemandError::NoResult)?;
        Ok(OnDemandResult {
            result,
            error_code: text(&details["errorCode"])
                .or_else(|| text(&value["statusInfo"]["errorCode"])),
            error_message: text(&details["errorMessage"])
                .or_else(|| text(&value["statusInfo"]["reason"])),
            action: text(&value["action"]),
            reportable_identifier: text(&value["reportableIdentifier"]),
            target_id: text(&value["targetIdentity"]["id"]).filter(|s| !s.is_empty()),
            steps,
        })
    }

    pub fn succeeded(&self) -> bool {
        self.result.eq_ignore_ascii_case("success")
    }
}

/// `body[field]` is a string holding JSON; an empty string reads as `{}`.
fn embedded(body: &Value, field: &'static str) -> Result<Value, OnDemandError> {
    match &body[field] {
        Value::String(s) if s.trim().is_empty() => Ok(Value::Object(serde_json::Map::default())),
        Value::String(s) => serde_json::from_str(s).map_err(|e| OnDemandError::NotJson {
            field,
            detail: e.to_string(),
        }),
        Value::Object(_) => Ok(body[field].clone()),
        _ => Err(OnDemandError::Missing { field }),
    }
}

fn flatten(details: &Value) -> BTreeMap<String, String> {
    details
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// One `provisioningObjectSummary`: what happened to one object in one cycle.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProvisioningEvent {
    pub id: String,
    pub activity_date_time: Option<String>,
    pub job_id: Option<String>,
    pub cycle_id: Option<String>,
    /// `create`, `update`, `delete`, `disable`, `stagedDelete`, `other`.
    pub provisioning_action: Option<String>,
    pub provisioning_status_info: Option<StatusInfo>,
    pub source_identity: Option<Identity>,
    pub target_identity: Option<Identity>,
    pub provisioning_steps: Vec<EventStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusInfo {
    /// `success`, `warning`, `failure`, `skipped`.
    pub status: String,
    pub error_information: Option<ErrorInformation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorInformation {
    pub error_code: Option<String>,
    pub reason: Option<String>,
    pub additional_details: Option<String>,
    pub error_category: Option<String>,
    pub recommended_action: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Identity {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub identity_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventStep {
    pub name: Option<String>,
    pub provisioning_step_type: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
}

/// The outcome classes an admin filters the log by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Skipped,
    Failure,
    Warning,
    Other,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Skipped => "skipped",
            Outcome::Failure => "failure",
            Outcome::Warning => "warning",
            Outcome::Other => "other",
        }
    }
}

impl ProvisioningEvent {
    pub fn outcome(&self) -> Outcome {
        let status = self
            .provisioning_status_info
            .as_ref()
            .map(|s| s.status.to_ascii_lowercase())
            .unwrap_or_default();
        match status.as_str() {
            "success" => Outcome::Success,
            "skipped" => Outcome::Skipped,
            "failure" => Outcome::Failure,
            "warning" => Outcome::Warning,
            _ => Outcome::Other,
        }
    }

    /// Who the event is about: the source's display name, else its id.
    pub fn subject(&self) -> String {
        let source = self.source_identity.as_ref();
        source
            .and_then(|s| s.display_name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| source.and_then(|s| s.id.clone()))
            .unwrap_or_else(|| "(unknown)".into())
    }

    /// The source object's id (the event's own id when Entra gave none):
    /// what the admin reviewed, compared before held deletions are allowed.
    pub fn subject_id(&self) -> &str {
        self.source_identity
            .as_ref()
            .and_then(|s| s.id.as_deref())
            .filter(|id| !id.is_empty())
            .unwrap_or(&self.id)
    }

    /// Why it was skipped or failed, in Entra's words.
    pub fn reason(&self) -> Option<String> {
        let info = self
            .provisioning_status_info
            .as_ref()?
            .error_information
            .as_ref()?;
        match (&info.error_code, &info.reason) {
            (Some(code), Some(reason)) if !reason.is_empty() => Some(format!("{reason} ({code})")),
            (_, Some(reason)) if !reason.is_empty() => Some(reason.clone()),
            (Some(code), _) => Some(code.clone()),
            _ => None,
        }
    }

    /// One line for the CLI and the report.
    pub fn line(&self) -> String {
        let when = self
            .activity_date_time
            .as_deref()
            .map_or_else(|| "?".into(), crate::platform::timefmt::readable);
        let action = self.provisioning_action.as_deref().unwrap_or("other");
        let mut out = format!(
            "{when}  {:<8} {:<7} {}",
            self.outcome().label(),
            action,
            self.subject()
        );
        if let Some(reason) = self.reason() {
            out.push_str(" — ");
            out.push_str(&reason);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_documented_on_demand_answer_reads_as_four_stages() {
        let r = OnDemandResult::from_response(&fixture("provisionondemand.response.json")).unwrap();
        assert_eq!(r.result, "Skipped");
        assert_eq!(r.error_code.as_deref(), Some("RedundantExport"));
        assert_eq!(r.action.as_deref(), Some("Other"));
        assert_eq!(
            r.target_id.as_deref(),
            Some("52507a19-96ec-4e73-9250-3e65ffd2d926")
        );
        let kinds: Vec<&str> = r.steps.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["Import", "Matching", "Scoping", "Export"]);
        assert_eq!(r.steps[3].status, "Skipped");
        assert_eq!(r.steps[3].details["SkipReason"], "RedundantExport");
        assert!(!r.succeeded());
    }

    #[test]
    fn on_demand_answers_without_embedded_json_are_refused() {
        let err = OnDemandResult::from_response(&serde_json::json!({"key": "{", "value": "{}"}))
            .unwrap_err();
        assert!(
            err.to_string().contains("`key` is not a JSON document"),
            "{err}"
        );
        let err = OnDemandResult::from_response(&serde_json::json!({"value": "{}"})).unwrap_err();
        assert!(err.to_string().contains("no `key`"), "{err}");
    }

    #[test]
    fn the_documented_log_entry_reads_with_its_reason() {
        let body = fixture("auditlogs-provisioning.response.json");
        let events: Vec<ProvisioningEvent> = serde_json::from_value(body["value"].clone()).unwrap();
        let e = &events[0];
        assert_eq!(e.outcome(), Outcome::Failure);
        assert_eq!(e.subject(), "Self-service Pilot");
        assert_eq!(e.provisioning_steps.len(), 3);
        let reason = e.reason().unwrap();
        assert!(
            reason.contains("HTTP status code 409") && reason.ends_with("(ContosoEntryConflict)")
        );
        assert!(
            e.line()
                .contains("failure  create  Self-service Pilot — Message")
        );
    }
}
