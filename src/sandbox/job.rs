//! The `synchronizationJob` resource as Graph returns it (`resources/synchronization-synchronizationjob.md`, `-synchronizationstatus.md`).

use serde::{Deserialize, Serialize};

use super::entra::EntraState;

/// Graph's "never" for the steady-state times (`job-get.response.json`).
pub const NEVER: &str = "0001-01-01T00:00:00Z";

/// The job setting that holds the accidental-deletions threshold.
pub const DELETE_THRESHOLD_SETTING: &str = "QuarantineTooManyDeletesThreshold";

/// `quarantineReason` when a cycle held deletions back
/// (`synchronization-synchronizationquarantine.md`).
pub const TOO_MANY_DELETES: &str = "TooManyDeletes";

/// The `quarantineReason` of a credential or availability failure.
pub const QUARANTINE_EXCEPTION: &str = "EncounteredQuarantineException";

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
                name: DELETE_THRESHOLD_SETTING.into(),
                value: "500".into(),
            }],
        }
    }

    pub fn set_state(&mut self, code: &str, schedule: &str) {
        self.status.code = code.into();
        self.schedule.state = schedule.into();
    }

    /// `QuarantineTooManyDeletesThreshold` from `synchronizationJobSettings`:
    /// a positive whole number, else none (the check is off).
    pub fn delete_threshold_setting(&self) -> Option<i64> {
        self.synchronization_job_settings
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(DELETE_THRESHOLD_SETTING))
            .and_then(|s| s.value.trim().parse::<i64>().ok())
            .filter(|n| *n > 0)
    }
}

/// The accidental-deletions threshold a cycle of the job applies: the one
/// place the sandbox reads it. `SyncNotificationSettings`'
/// `DeleteThresholdEnabled` false turns the check off and its
/// `DeleteThresholdValue` sets it (what the portal's "Prevent accidental
/// deletions" saves); otherwise the job setting
/// `QuarantineTooManyDeletesThreshold` decides.
pub fn delete_threshold(entra: &EntraState, sp_id: &str, job_id: &str) -> Option<i64> {
    let saved = entra
        .secret(sp_id, "SyncNotificationSettings")
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s.expose()).ok());
    if let Some(v) = saved {
        match flag(&v["DeleteThresholdEnabled"]) {
            Some(false) => return None,
            Some(true) => {
                if let Some(n) = whole(&v["DeleteThresholdValue"]).filter(|n| *n > 0) {
                    return Some(n);
                }
            }
            None => {}
        }
    }
    entra.job(sp_id, job_id)?.job.delete_threshold_setting()
}

/// A boolean as Entra's settings carry it: `true` or `"True"`.
fn flag(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => s.trim().to_ascii_lowercase().parse().ok(),
        _ => None,
    }
}

/// A whole number as a number or as text.
fn whole(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What one provisioning cycle did.
#[derive(Debug, Clone, PartialEq)]
pub struct CycleReport {
    pub activity: String,
    pub began: String,
    /// Users in scope.
    pub entitled: i64,
    /// Users the cycle looked at (in scope, or leaving it).
    pub candidates: i64,
    pub processed: i64,
    /// SCIM writes (creates and updates).
    pub exported: i64,
    /// Users that failed.
    pub failures: i64,
    /// Users the job has provisioned so far.
    pub provisioned_total: i64,
    /// Why the whole cycle stopped (a credential or availability failure).
    pub fatal: Option<SyncError>,
    /// Set when the cycle held its deletions back: more than the
    /// accidental-deletions threshold (quarantine `TooManyDeletes`).
    pub too_many_deletes: Option<SyncError>,
}

impl Status {
    /// Records a cycle: last executions, counts, steady state, and
    /// quarantine when it stopped on a credential or availability failure
    /// or held deletions back. A paused job stays paused.
    pub fn record_cycle(&mut self, r: CycleReport) {
        let now = crate::platform::timefmt::now_rfc3339();
        let state = match (&r.fatal, r.failures) {
            (Some(_), _) => "Failed",
            (None, 0) => "Succeeded",
            (None, _) => "EntryLevelErrors",
        };
        let execution = TaskExecution {
            activity_identifier: r.activity,
            count_entitled: r.entitled,
            count_entitled_for_provisioning: r.entitled,
            count_escrowed: r.failures,
            count_escrowed_raw: r.failures,
            count_exported: r.exported,
            count_exports: r.exported,
            count_imported: r.processed,
            count_imported_deltas: r.processed,
            count_imported_reference_deltas: 0,
            error: r.fatal.clone().or_else(|| r.too_many_deletes.clone()),
            state: state.into(),
            time_began: r.began,
            time_ended: now.clone(),
        };
        self.last_execution = Some(execution.clone());
        self.progress = vec![Progress {
            completed_units: r.processed,
            progress_observation_date_time: now.clone(),
            total_units: r.candidates,
            units: "Users".into(),
        }];
        self.synchronized_entry_count_by_type = vec![KeyCount {
            key: "User".into(),
            value: r.provisioned_total,
        }];
        let paused = self.code == "Paused";
        // The held deletions quarantine the job; what the cycle did export
        // still counts as a successful execution.
        let quarantine = match (r.fatal, r.too_many_deletes) {
            (Some(error), _) => Some((QUARANTINE_EXCEPTION, error, true)),
            (None, Some(error)) => Some((TOO_MANY_DELETES, error, false)),
            (None, None) => None,
        };
        if let Some((_, _, false)) = &quarantine {
            if r.exported > 0 {
                self.last_successful_execution_with_exports = Some(execution.clone());
            }
            self.last_successful_execution = Some(execution.clone());
            self.count_successive_complete_failures = 0;
        }
        match quarantine {
            None => {
                if r.exported > 0 {
                    self.last_successful_execution_with_exports = Some(execution.clone());
                }
                self.last_successful_execution = Some(execution);
                self.count_successive_complete_failures = 0;
                self.quarantine = None;
                if self.steady_state_first_achieved_time == NEVER {
                    self.steady_state_first_achieved_time.clone_from(&now);
                }
                self.steady_state_last_achieved_time = now;
                if !paused {
                    self.code = "Active".into();
                }
            }
            Some((reason, error, complete_failure)) => {
                if complete_failure {
                    self.count_successive_complete_failures += 1;
                }
                let (series_began, series_count) = match &self.quarantine {
                    Some(q) => (q.series_began.clone(), q.series_count + 1),
                    None => (now.clone(), 1),
                };
                // Entra retries a quarantined job less often; one cycle later here.
                let next = std::time::SystemTime::now() + std::time::Duration::from_secs(40 * 60);
                self.quarantine = Some(Quarantine {
                    current_began: now,
                    next_attempt: humantime::format_rfc3339_seconds(next).to_string(),
                    reason: reason.into(),
                    series_began,
                    series_count,
                    error,
                });
                if !paused {
                    self.code = "Quarantine".into();
                }
            }
        }
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
        let typed: crate::services::graph::types::SynchronizationJob =
            serde_json::from_value(v).unwrap();
        assert_eq!(typed.id, job.id);
    }

    fn report(fatal: Option<SyncError>, failures: i64) -> CycleReport {
        CycleReport {
            activity: "a".into(),
            began: "2026-01-01T00:00:00Z".into(),
            entitled: 3,
            candidates: 3,
            processed: 3,
            exported: 2,
            failures,
            provisioned_total: 2,
            fatal,
            too_many_deletes: None,
        }
    }

    #[test]
    fn cycles_move_the_status_into_and_out_of_quarantine() {
        let mut job = Job::new("scim", "520a5d7b-f0fe-5320-84c5-521bdcabbd8c");
        job.set_state("Active", "Active");
        let error = SyncError {
            code: "X".into(),
            message: "401".into(),
            tenant_actionable: true,
        };
        job.status.record_cycle(report(Some(error.clone()), 0));
        job.status.record_cycle(report(Some(error), 0));
        let q = job.status.quarantine.clone().unwrap();
        assert_eq!(
            (job.status.code.as_str(), q.series_count),
            ("Quarantine", 2)
        );
        assert_eq!(job.status.count_successive_complete_failures, 2);
        assert!(job.status.last_successful_execution.is_none());

        job.status.record_cycle(report(None, 1));
        assert_eq!(job.status.code, "Active");
        assert!(job.status.quarantine.is_none());
        let last = job.status.last_execution.clone().unwrap();
        assert_eq!(
            (last.state.as_str(), last.count_escrowed),
            ("EntryLevelErrors", 1)
        );
        assert_ne!(job.status.steady_state_first_achieved_time, NEVER);
        assert_eq!(job.status.synchronized_entry_count_by_type[0].value, 2);

        job.set_state("Paused", "Paused");
        job.status.record_cycle(report(None, 0));
        assert_eq!(job.status.code, "Paused", "a paused job stays paused");
    }

    #[test]
    fn held_deletions_quarantine_with_too_many_deletes() {
        let mut job = Job::new("scim", "520a5d7b-f0fe-5320-84c5-521bdcabbd8c");
        job.set_state("Active", "Active");
        let mut r = report(None, 0);
        r.too_many_deletes = Some(SyncError {
            code: "DeleteThresholdExceeded".into(),
            message: "held".into(),
            tenant_actionable: true,
        });
        job.status.record_cycle(r);
        let q = job.status.quarantine.clone().unwrap();
        assert_eq!((q.reason.as_str(), q.series_count), (TOO_MANY_DELETES, 1));
        assert_eq!(job.status.code, "Quarantine");
        // Not a complete failure: what the cycle exported counts.
        assert_eq!(job.status.count_successive_complete_failures, 0);
        assert!(job.status.last_successful_execution.is_some());
        job.status.record_cycle(report(None, 0));
        assert!(job.status.quarantine.is_none());
        assert_eq!(job.status.code, "Active");
    }

    #[test]
    fn the_threshold_setting_is_a_positive_whole_number() {
        let mut job = Job::new("scim", "520a5d7b-f0fe-5320-84c5-521bdcabbd8c");
        assert_eq!(job.delete_threshold_setting(), Some(500));
        job.synchronization_job_settings[0].value = "0".into();
        assert_eq!(job.delete_threshold_setting(), None);
        job.synchronization_job_settings[0].value = "many".into();
        assert_eq!(job.delete_threshold_setting(), None);
        assert_eq!(flag(&serde_json::json!("True")), Some(true));
        assert_eq!(whole(&serde_json::json!("12")), Some(12));
    }
}
