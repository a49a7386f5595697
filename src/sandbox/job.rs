//! The `synchronizationJob` resource as Graph returns it (`resources/synchronization-synchronizationjob.md`, `-synchronizationstatus.md`).

use serde::{Deserialize, Serialize};

/// Graph's "never" for the steady-state times (`job-get.response.json`).
pub const NEVER: &str = "0001-01-01T00:00:00Z";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub template_id: String,
    pub schedule: Schedule,
    pub status: Status,
    pub synchronization_job_settings: Vec<NameValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub expiration: Option<String>,
    pub interval: String,
    /// `Active`, `Disabled` or `Paused`.
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub code: String,
    pub count_successive_complete_failures: i64,
    pub escrows_pruned: bool,
    pub last_execution: Option<TaskExecution>,
    pub last_successful_execution: Option<TaskExecution>,
    pub last_successful_execution_with_exports: Option<TaskExecution>,
    pub progress: Vec<Progress>,
    pub quarantine: Option<Quarantine>,
    pub steady_state_first_achieved_time: String,
    pub steady_state_last_achieved_time: String,
    pub synchronized_entry_count_by_type: Vec<KeyCount>,
    pub troubleshooting_url: Option<String>,
}

/// `synchronizationTaskExecution`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskExecution {
    pub activity_identifier: String,
    pub count_entitled: i64,
    pub count_entitled_for_provisioning: i64,
    pub count_escrowed: i64,
    pub count_escrowed_raw: i64,
    pub count_exported: i64,
    pub count_exports: i64,
    pub count_imported: i64,
    pub count_imported_deltas: i64,
    pub count_imported_reference_deltas: i64,
    pub error: Option<SyncError>,
    /// `Succeeded`, `Warning` or `Failed`.
    pub state: String,
    pub time_began: String,
    pub time_ended: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncError {
    pub code: String,
    pub message: String,
    pub tenant_actionable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    pub current_began: String,
    pub next_attempt: String,
    pub reason: String,
    pub series_began: String,
    pub series_count: i64,
    pub error: SyncError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub completed_units: i64,
    pub progress_observation_date_time: String,
    pub total_units: i64,
    pub units: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyCount {
    pub key: String,
    pub value: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

impl Job {
    /// A job just made from `template_id`: not configured, schedule disabled.
    /// The id follows Entra's `{template}.{tenant without dashes}.{guid}`.
    pub fn new(template_id: &str, tenant_id: &str) -> Job {
        let tenant = tenant_id.replace('-', "").to_ascii_lowercase();
        Job {
            id: format!("{template_id}.{tenant}.{}", uuid::Uuid::new_v4()),
            template_id: template_id.to_string(),
            schedule: Schedule {
                expiration: None,
                // Entra's provisioning cycle runs every 40 minutes.
                interval: "PT40M".into(),
                state: "Disabled".into(),
            },
            status: Status {
                code: "NotConfigured".into(),
                count_successive_complete_failures: 0,
                escrows_pruned: false,
                last_execution: None,
                last_successful_execution: None,
                last_successful_execution_with_exports: None,
                progress: Vec::new(),
                quarantine: None,
                steady_state_first_achieved_time: NEVER.into(),
                steady_state_last_achieved_time: NEVER.into(),
                synchronized_entry_count_by_type: Vec::new(),
                troubleshooting_url: None,
            },
            synchronization_job_settings: vec![NameValue {
                name: "QuarantineTooManyDeletesThreshold".into(),
                value: "500".into(),
            }],
        }
    }

    pub fn set_state(&mut self, code: &str, schedule: &str) {
        self.status.code = code.into();
        self.schedule.state = schedule.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_job_has_the_documented_shape() {
        let job = Job::new("scim", "520a5d7b-f0fe-5320-84c5-521bdcabbd8c");
        let parts: Vec<&str> = job.id.split('.').collect();
        assert_eq!(parts[0], "scim");
        assert_eq!(parts[1], "520a5d7bf0fe532084c5521bdcabbd8c");
        assert!(uuid::Uuid::parse_str(parts[2]).is_ok());
        let v = serde_json::to_value(&job).unwrap();
        assert_eq!(v["status"]["code"], "NotConfigured");
        assert_eq!(v["schedule"]["state"], "Disabled");
        assert!(v["status"]["lastExecution"].is_null());
        assert_eq!(v["status"]["steadyStateFirstAchievedTime"], NEVER);
        // The wizard's typed client reads this shape.
        let typed: crate::graph::types::SynchronizationJob = serde_json::from_value(v).unwrap();
        assert_eq!(typed.id, job.id);
    }
}
