//! After Start: what the job is doing, in words an admin can act on.
//!
//! [`JobView`] is a pure reading of `GET …/jobs/{id}`; the engine methods in
//! `engine.rs` fetch it, recover a quarantined job, provision one user on
//! demand and read the provisioning log.

use serde::Serialize;

use crate::platform::timefmt::readable;
use crate::services::graph::{JobStatusCode, SynchronizationJob, SynchronizationTaskExecution};

/// The job's status, read for people.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct JobView {
    pub job_id: String,
    /// `Active`, `Paused`, `Quarantine`, `NotRun`, `NotConfigured`…
    pub code: String,
    /// One sentence: what is going on and whether to wait or act.
    pub headline: String,
    /// Completed and total units of the running or last cycle.
    pub progress: Option<(i64, i64)>,
    /// `synchronizedEntryCountByType`: e.g. ("User", 7).
    pub counts: Vec<(String, i64)>,
    pub last_execution: Option<ExecutionView>,
    pub quarantine: Option<QuarantineView>,
    /// The initial cycle finished at least once (steady state reached).
    pub initial_cycle_done: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ExecutionView {
    /// `Succeeded`, `Failed`, `EntryLevelErrors`.
    pub state: String,
    pub began: Option<String>,
    pub ended: Option<String>,
    pub exported: i64,
    pub escrowed: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct QuarantineView {
    pub reason: String,
    /// The reason is `TooManyDeletes`: deletions are held back, and the
    /// admin may review and allow them.
    pub too_many_deletes: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub since: Option<String>,
    pub next_attempt: Option<String>,
    /// What to fix first, then the recovery the wizard offers.
    pub fix: String,
}

/// Graph's "never" for the steady-state times.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// `quarantineReason` when the accidental-deletions threshold held
/// deletions back (`synchronization-synchronizationquarantine.md`).
pub const TOO_MANY_DELETES: &str = "TooManyDeletes";

/// `provisioningAction` of a deletion held back by the threshold
/// (`provisioningobjectsummary.md`; `accidental-deletions.md`: filter the
/// provisioning logs on it to review them).
pub const STAGED_DELETE: &str = "stagedDelete";

impl JobView {
    pub fn from_job(job: &SynchronizationJob) -> JobView {
        let Some(status) = &job.status else {
            return JobView {
                job_id: job.id.clone(),
                code: "Unknown".into(),
                headline: "Entra returned no status for the job yet.".into(),
                ..JobView::default()
            };
        };
        let progress = status
            .progress
            .first()
            .map(|p| (p.completed_units.unwrap_or(0), p.total_units.unwrap_or(0)));
        let counts = status
            .synchronized_entry_count_by_type
            .iter()
            .map(|c| (c.key.clone(), c.value.unwrap_or(0)))
            .collect();
        let last_execution = status.last_execution.as_ref().map(execution);
        let initial_cycle_done = status
            .steady_state_first_achieved_time
            .as_deref()
            .is_some_and(|t| !t.is_empty() && t != NEVER);
        let quarantine = status.quarantine.as_ref().map(|q| {
            let error_code = q.error.as_ref().and_then(|e| e.code.clone());
            let reason = non_empty(q.reason.as_ref());
            QuarantineView {
                too_many_deletes: reason
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(TOO_MANY_DELETES)),
                fix: quarantine_fix(reason.as_deref(), error_code.as_deref()),
                reason: reason.unwrap_or_else(|| "reason not given".into()),
                error_code,
                error_message: q.error.as_ref().and_then(|e| non_empty(e.message.as_ref())),
                since: non_empty(q.series_began.as_ref())
                    .or_else(|| non_empty(q.current_began.as_ref())),
                next_attempt: non_empty(q.next_attempt.as_ref()),
            }
        });
        let code = status.code.as_str().to_string();
        let headline = headline(
            &status.code,
            last_execution.as_ref(),
            quarantine.as_ref(),
            initial_cycle_done,
        );
        JobView {
            job_id: job.id.clone(),
            code,
            headline,
            progress,
            counts,
            last_execution,
            quarantine,
            initial_cycle_done,
        }
    }

    pub fn is_quarantined(&self) -> bool {
        self.quarantine.is_some() || self.code == "Quarantine"
    }

    /// Lines for the CLI and the report.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("Job {}: {}", self.job_id, self.code),
            self.headline.clone(),
        ];
        if let Some((done, total)) = self.progress {
            out.push(format!("Progress of the cycle: {done} of {total} users"));
        }
        if !self.counts.is_empty() {
            let counts: Vec<String> = self
                .counts
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            out.push(format!("In Orchidea: {}", counts.join(", ")));
        }
        if let Some(e) = &self.last_execution {
            out.push(format!(
                "Last cycle: {} ({} exported, {} errors){}",
                e.state,
                e.exported,
                e.escrowed,
                e.ended
                    .as_deref()
                    .map(|t| format!(", ended {}", readable(t)))
                    .unwrap_or_default()
            ));
            if let Some(err) = &e.error {
                out.push(format!("Last error: {err}"));
            }
        }
        if let Some(q) = &self.quarantine {
            out.push(format!(
                "Quarantine ({}){}: {}",
                q.reason,
                q.since
                    .as_deref()
                    .map(|s| format!(" since {}", readable(s)))
                    .unwrap_or_default(),
                q.error_message.as_deref().unwrap_or("no error message")
            ));
            if let Some(next) = &q.next_attempt {
                out.push(format!("Entra tries again at {}.", readable(next)));
            }
            out.push(format!("Fix: {}", q.fix));
        }
        out
    }
}

/// Graph sends `""` for unknown times (`job-get.response.json`).
fn non_empty(v: Option<&String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty()).cloned()
}

fn execution(e: &SynchronizationTaskExecution) -> ExecutionView {
    ExecutionView {
        state: e.state.clone().unwrap_or_else(|| "?".into()),
        began: e.time_began.clone(),
        ended: e.time_ended.clone(),
        exported: e.count_exported.unwrap_or(0),
        escrowed: e.count_escrowed.unwrap_or(0),
        error: e.error.as_ref().map(|err| match (&err.code, &err.message) {
            (Some(c), Some(m)) => format!("{m} ({c})"),
            (None, Some(m)) => m.clone(),
            (Some(c), None) => c.clone(),
            (None, None) => "unknown error".into(),
        }),
    }
}

fn headline(
    code: &JobStatusCode,
    last: Option<&ExecutionView>,
    quarantine: Option<&QuarantineView>,
    steady: bool,
) -> String {
    match (code, last, quarantine) {
        (_, _, Some(q)) if q.too_many_deletes => {
            "In quarantine: Entra held back more deletions than the accidental-deletion threshold allows. Review them, then allow them or fix the cause and restart.".into()
        }
        (_, _, Some(_)) | (JobStatusCode::Quarantine, _, _) => {
            "In quarantine: Entra stopped provisioning after repeated failures. Fix the cause, then restart the job.".into()
        }
        (JobStatusCode::Paused, _, _) => "Paused: no users are provisioned until it is started again.".into(),
        (JobStatusCode::NotConfigured | JobStatusCode::NotRun, _, _) => {
            "Not started yet.".into()
        }
        (JobStatusCode::Active, None, _) => {
            "Started; the initial cycle has not reported yet (it can take a few minutes on a real tenant).".into()
        }
        (_, Some(e), _) if e.state == "Failed" => {
            "The last cycle failed; see its error below.".into()
        }
        (_, Some(e), _) if e.state == "EntryLevelErrors" => {
            "Running, but some users failed; see the provisioning logs.".into()
        }
        (_, Some(_), _) if steady => {
            "Running: the initial cycle is done; Entra now syncs changes about every 40 minutes.".into()
        }
        _ => "Running: the initial cycle is in progress.".into(),
    }
}

/// The documented causes of quarantine and what to do about each
/// (Entra docs `application-provisioning-quarantine-status.md`,
/// `accidental-deletions.md`), decided by the `reason` first and the
/// error code second.
fn quarantine_fix(reason: Option<&str>, code: Option<&str>) -> String {
    const RESTART: &str = "then restart the job (Restart), which lifts the quarantine, clears escrows and the watermark and runs a new initial cycle";
    let reason = reason.unwrap_or_default().to_ascii_lowercase();
    let code = code.unwrap_or_default().to_ascii_lowercase();
    if reason == TOO_MANY_DELETES.to_ascii_lowercase() {
        return "Entra held back the deletions (and disables) of this cycle because there were more than the accidental-deletion threshold. Review the pending deletions: if they are intended, allow them (Allow deletions); if not, fix the scope, assignments or users first, then restart the job (Restart), which keeps them held back.".into();
    }
    let cause = if reason.starts_with("encounteredescrow")
        || reason.starts_with("encounteredbaseescrow")
        || reason.starts_with("encounteredtotalescrow")
    {
        "Too many users failed to provision: read the failures in the provisioning logs and fix them"
    } else if reason == "quarantinedondemand" {
        "Microsoft put the job in quarantine: read the error above, and contact Microsoft support if it does not say what to fix"
    } else if code.contains("credential") || code.contains("unauthorized") {
        "Orchidea refused the Secret Token: create a new SCIM secret in Orchidea, save it in step 6 (the wizard does this when you run steps 1a–6 again)"
    } else if code.contains("unavailable") {
        "Orchidea's SCIM endpoint was unreachable or failing: check the Tenant URL and that the workspace is up"
    } else {
        "Read the error above and the provisioning logs"
    };
    format!("{cause}; {RESTART}.")
}

/// Held deletions read per page (Graph's largest `$top` for the
/// provisioning logs); further pages are read while the cycle lasts.
pub const PENDING_PAGE: usize = 500;

/// The events of the newest cycle among `events` (newest first), oldest
/// of them first: one cycle's held deletions, not older cycles'.
pub fn newest_cycle(
    events: Vec<crate::services::graph::ProvisioningEvent>,
) -> Vec<crate::services::graph::ProvisioningEvent> {
    let Some(cycle) = events.first().and_then(|e| e.cycle_id.clone()) else {
        return events;
    };
    let mut out: Vec<_> = events
        .into_iter()
        .filter(|e| e.cycle_id.as_deref() == Some(cycle.as_str()))
        .collect();
    out.reverse();
    out
}

/// Log events filtered as the admin asked: by outcome and by text in the
/// subject or the reason (case-insensitive).
pub fn filter_events<'a>(
    events: &'a [crate::services::graph::ProvisioningEvent],
    outcome: Option<crate::services::graph::Outcome>,
    text: &str,
) -> Vec<&'a crate::services::graph::ProvisioningEvent> {
    let needle = text.trim().to_lowercase();
    events
        .iter()
        .filter(|e| outcome.is_none_or(|o| e.outcome() == o))
        .filter(|e| {
            needle.is_empty()
                || e.subject().to_lowercase().contains(&needle)
                || e.reason()
                    .is_some_and(|r| r.to_lowercase().contains(&needle))
        })
        .collect()
}

/// A stage of an on-demand run in plain language.
pub fn stage_sentence(step: &crate::services::graph::OnDemandStep) -> String {
    let stage = match step.kind.to_ascii_lowercase().as_str() {
        "import" => "Read from Entra",
        "scoping" => "In scope?",
        "matching" => "Match in Orchidea",
        "processing" => "Prepare",
        "referenceresolution" => "Resolve references",
        "export" => "Write to Orchidea",
        _ => "Stage",
    };
    let outcome = match step.status.to_ascii_lowercase().as_str() {
        "success" => "ok",
        "skipped" => "skipped",
        "failure" => "failed",
        "warning" => "warning",
        _ => "?",
    };
    format!("{stage}: {outcome} — {}", step.description.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::graph::{OnDemandResult, ProvisioningEvent};

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_documented_job_reads_as_a_quarantine_with_a_fix() {
        let job: SynchronizationJob =
            serde_json::from_value(fixture("job-get.response.json")).unwrap();
        let view = JobView::from_job(&job);
        // The docs' example is Paused with a quarantine block whose times are "".
        assert!(view.is_quarantined());
        assert!(view.headline.starts_with("In quarantine"));
        let q = view.quarantine.as_ref().unwrap();
        assert_eq!(
            q.error_code.as_deref(),
            Some("SalesforceInvalidCredentials")
        );
        assert_eq!(
            (q.since.as_deref(), q.next_attempt.as_deref()),
            (None, None)
        );
        assert_eq!(q.reason, "reason not given");
        assert!(q.fix.starts_with("Orchidea refused the Secret Token"));
        assert!(view.lines().iter().any(|l| l.starts_with("Fix: ")));
        assert_eq!(view.job_id, job.id);
    }

    #[test]
    fn states_read_as_sentences() {
        let mut job = SynchronizationJob {
            id: "scim.1".into(),
            ..Default::default()
        };
        assert!(JobView::from_job(&job).headline.contains("no status"));
        let mut status = crate::services::graph::SynchronizationStatus {
            code: JobStatusCode::Active,
            ..Default::default()
        };
        job.status = Some(status.clone());
        assert!(
            JobView::from_job(&job)
                .headline
                .contains("not reported yet")
        );
        status.last_execution = Some(SynchronizationTaskExecution {
            state: Some("Succeeded".into()),
            count_exported: Some(7),
            ..Default::default()
        });
        status.steady_state_first_achieved_time = Some("2026-11-29T03:00:00Z".into());
        job.status = Some(status.clone());
        let view = JobView::from_job(&job);
        assert!(view.initial_cycle_done);
        assert!(view.headline.contains("initial cycle is done"));
        assert!(view.lines().iter().any(|l| l.contains("7 exported")));
        status.quarantine = Some(crate::services::graph::SynchronizationQuarantine {
            reason: Some("EncounteredQuarantineException".into()),
            error: Some(crate::services::graph::SynchronizationError {
                code: Some(
                    "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable".into(),
                ),
                message: Some("401".into()),
                tenant_actionable: Some(true),
            }),
            ..Default::default()
        });
        job.status = Some(status);
        let view = JobView::from_job(&job);
        let q = view.quarantine.unwrap();
        assert!(
            q.fix.starts_with("Orchidea refused the Secret Token"),
            "{}",
            q.fix
        );
        assert!(q.fix.contains("restart the job (Restart)"));
        assert!(!q.too_many_deletes);
    }

    #[test]
    fn too_many_deletes_is_read_from_the_reason_not_the_code() {
        let quarantined = |reason: &str, code: &str| {
            let job = SynchronizationJob {
                id: "scim.1".into(),
                status: Some(crate::services::graph::SynchronizationStatus {
                    code: JobStatusCode::Quarantine,
                    quarantine: Some(crate::services::graph::SynchronizationQuarantine {
                        reason: Some(reason.into()),
                        error: Some(crate::services::graph::SynchronizationError {
                            code: Some(code.into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            JobView::from_job(&job)
        };
        // An error code that says nothing about deletions.
        let view = quarantined("TooManyDeletes", "SomeUnpublishedCode");
        let q = view.quarantine.clone().unwrap();
        assert!(q.too_many_deletes);
        assert!(q.fix.contains("Review the pending deletions"), "{}", q.fix);
        assert!(view.headline.contains("accidental-deletion threshold"));
        // A credential failure is not a deletion hold, whatever the wording.
        let view = quarantined(
            "EncounteredQuarantineException",
            "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable",
        );
        let q = view.quarantine.unwrap();
        assert!(!q.too_many_deletes);
        assert!(q.fix.starts_with("Orchidea refused the Secret Token"));
        let q = quarantined("EncounteredEscrowProportionThreshold", "X")
            .quarantine
            .unwrap();
        assert!(q.fix.starts_with("Too many users failed"), "{}", q.fix);
    }

    #[test]
    fn pending_deletions_are_the_newest_cycles_only() {
        let event = |id: &str, cycle: &str| ProvisioningEvent {
            id: id.into(),
            cycle_id: Some(cycle.into()),
            ..Default::default()
        };
        let events = vec![event("3", "b"), event("2", "b"), event("1", "a")];
        let ids: Vec<String> = newest_cycle(events).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["2", "3"]);
        assert!(newest_cycle(Vec::new()).is_empty());
    }

    #[test]
    fn events_filter_by_outcome_and_text() {
        let body = fixture("auditlogs-provisioning.response.json");
        let mut events: Vec<ProvisioningEvent> =
            serde_json::from_value(body["value"].clone()).unwrap();
        let mut ok = events[0].clone();
        ok.provisioning_status_info.as_mut().unwrap().status = "success".into();
        ok.provisioning_status_info
            .as_mut()
            .unwrap()
            .error_information = None;
        ok.source_identity.as_mut().unwrap().display_name = Some("Adele Vance".into());
        events.push(ok);
        assert_eq!(filter_events(&events, None, "").len(), 2);
        assert_eq!(
            filter_events(&events, Some(crate::services::graph::Outcome::Failure), "").len(),
            1
        );
        assert_eq!(filter_events(&events, None, "adele").len(), 1);
        assert_eq!(filter_events(&events, None, "409").len(), 1);
        assert!(
            filter_events(&events, Some(crate::services::graph::Outcome::Skipped), "").is_empty()
        );
    }

    #[test]
    fn on_demand_stages_read_in_plain_language() {
        let r = OnDemandResult::from_response(&fixture("provisionondemand.response.json")).unwrap();
        let lines: Vec<String> = r.steps.iter().map(stage_sentence).collect();
        assert!(lines[0].starts_with("Read from Entra: ok — Retrieved User"));
        assert!(lines[3].starts_with("Write to Orchidea: skipped — The state of the user"));
    }
}
