//! The provisioning log entry of one user: the steps (import, scoping, matching, action) and modified properties Entra shows.

use serde_json::{Map, Value};

use super::plan::source_values;
use super::users::{Stage, UserResult, code};
use super::{Candidate, Deleted, Mapping, STAGED_DELETE};
use crate::sandbox::entra::{LogEntry, ModifiedProperty, Step};
use crate::sandbox::expression::bool_text;
use crate::sandbox::payload::{self};

pub(crate) struct LogContext<'a> {
    pub job_id: &'a str,
    pub sp_id: &'a str,
    pub cycle_id: &'a str,
    /// The app's display name, for step descriptions.
    pub app: &'a str,
    /// On demand: the signed-in admin's id and display name.
    pub initiated_by: Option<(String, String)>,
}

/// When processing of one user began.
pub(crate) struct Started {
    pub at: String,
    pub(crate) instant: std::time::Instant,
}

impl Started {
    pub fn now() -> Started {
        Started {
            at: crate::platform::timefmt::now_rfc3339(),
            instant: std::time::Instant::now(),
        }
    }
}

pub(super) fn details<'a>(
    pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map_or(Value::Null, Value::from)))
        .collect()
}

pub(super) fn step(
    name: &str,
    step_type: &str,
    status: &str,
    description: String,
    d: Map<String, Value>,
) -> Step {
    Step {
        name: name.into(),
        step_type: step_type.into(),
        status: status.into(),
        description,
        timestamp: crate::platform::timefmt::now_rfc3339(),
        details: d,
    }
}

/// The Import step: the source attributes read from Entra.
pub(crate) fn import_step(c: &Candidate, sources: &[(String, Option<String>)]) -> Step {
    step(
        "EntryImport",
        "Import",
        "Success",
        format!(
            "Retrieved User '{}' from Azure Active Directory",
            c.user.user_principal_name
        ),
        details(sources.iter().map(|(k, v)| (k.as_str(), v.as_deref()))),
    )
}

/// The Scoping step. `entitled` is false only for an on-demand request for
/// a user a cycle would not process: then the step is Skipped.
pub(crate) fn scoping_step(c: &Candidate, app: &str, entitled: bool) -> Step {
    let t = |b: bool| bool_text(b);
    let d = details([
        ("IsActive", Some(t(c.user.account_enabled).as_str())),
        ("Assigned", Some(t(c.assigned).as_str())),
        (
            "IsEffectivelyEntitledForProvisioning",
            Some(t(c.in_scope).as_str()),
        ),
        (
            "IsInProvisioningScopeDisplayName",
            Some(t(c.in_scope).as_str()),
        ),
        ("ScopeEvaluationResult", Some("{}")),
    ]);
    let upn = &c.user.user_principal_name;
    let (status, description) = if !entitled {
        (
            "Skipped",
            format!(
                "User '{upn}' is not assigned to the application '{app}' (and the job does not sync all users): a provisioning cycle would not provision it, so it is not provisioned on demand."
            ),
        )
    } else if c.in_scope {
        (
            "Success",
            "Determine if User in scope by evaluating against each scoping filter".to_string(),
        )
    } else {
        (
            "Success",
            format!(
                "User '{upn}' is no longer in scope for '{app}': it is processed to be disabled in the target."
            ),
        )
    };
    step(
        "EntrySynchronizationScoping",
        "Scoping",
        status,
        description,
        d,
    )
}

/// The Matching and Export steps of a processed user, stopping where it stopped.
pub(crate) fn result_steps(c: &Candidate, r: &UserResult, app: &str) -> Vec<Step> {
    let upn = c.user.user_principal_name.as_str();
    let mut steps = Vec::new();
    let matching_value = r.matching.as_ref().and_then(|(_, v)| v.clone());
    if r.stage == Stage::Matching {
        let (name, status, description, d) = match r.code {
            Some(code::MAPPING_FAILED) => (
                "EntrySynchronizationError",
                "Failure",
                format!(
                    "The attribute mappings could not be evaluated for User '{upn}': {}",
                    r.reason
                ),
                details([("ErrorCode", Some(code::MAPPING_FAILED))]),
            ),
            Some(code::EMPTY_MATCHING_VALUE) => {
                let attr = r.matching.as_ref().map_or("", |(a, _)| a.as_str());
                (
                    "EntrySynchronizationSkip",
                    "Skipped",
                    format!(
                        "The matching attribute '{attr}' has no value for User '{upn}', so it cannot be matched in {app}; the User is skipped."
                    ),
                    details([
                        ("MatchingAttribute", Some(attr)),
                        ("SkipReason", Some(code::EMPTY_MATCHING_VALUE)),
                    ]),
                )
            }
            _ => (
                "EntryImport",
                "Failure",
                format!("Failed to look up User '{upn}' in {app}: {}", r.reason),
                details([("ReportableIdentifier", matching_value.as_deref())]),
            ),
        };
        steps.push(step(name, "Matching", status, description, d));
        return steps;
    }
    let value = matching_value.unwrap_or_default();
    if let Some(resource) = &r.found {
        let mut d = details([("id", resource["id"].as_str())]);
        for (t, _) in &r.values {
            let v = payload::read_attribute(resource, t);
            d.insert(t.clone(), v.map_or(Value::Null, Value::from));
        }
        let description = if c.deleted == Some(Deleted::Hard) {
            format!("Found User '{upn}' in {app} by the id the job cached")
        } else {
            format!("Retrieved '{value}' from {app}")
        };
        steps.push(step("EntryImport", "Matching", "Success", description, d));
    } else {
        let description = if c.in_scope {
            format!("No matching User found in {app}; it will be created")
        } else {
            format!("No matching User found in {app}")
        };
        steps.push(step(
            "EntryImport",
            "Matching",
            "Success",
            description,
            details([("ReportableIdentifier", Some(value.as_str()))]),
        ));
    }
    let status = match r.status {
        "success" => "Success",
        "skipped" => "Skipped",
        _ => "Failure",
    };
    let (name, description, d) = match (r.action, r.code) {
        ("Skip", Some(code::REDUNDANT_EXPORT)) => (
            "EntrySynchronizationSkip",
            format!(
                "The state of the user in both the source and target systems already match. No change to the User '{upn}' currently needs to be made."
            ),
            details([("SkipReason", Some(code::REDUNDANT_EXPORT))]),
        ),
        ("Skip", _) => (
            "EntrySynchronizationSkip",
            format!("User '{upn}' is out of scope and not in {app}: nothing to disable."),
            details([("SkipReason", r.code)]),
        ),
        (STAGED_DELETE, _) => {
            let mut d = details([("ReportableIdentifier", Some(upn)), ("SkipReason", r.code)]);
            for (t, _, new) in &r.changes {
                d.insert(t.clone(), Value::from(new.as_str()));
            }
            let verb = if c.deleted == Some(Deleted::Hard) {
                "deleted"
            } else {
                "disabled"
            };
            (
                "EntrySynchronizationSkip",
                format!("User '{upn}' was not {verb} in {app}: {}", r.reason),
                d,
            )
        }
        ("Delete", _) => {
            let description = if status == "Success" {
                format!("User '{upn}' was deleted in {app}")
            } else {
                format!("Failed to delete User '{upn}' in {app}: {}", r.reason)
            };
            (
                "EntryExportDelete",
                description,
                details([("ReportableIdentifier", Some(upn))]),
            )
        }
        ("Create", _) => {
            let mut d = details([("ReportableIdentifier", Some(upn))]);
            for (t, v) in &r.values {
                if let Some(v) = v {
                    d.insert(t.clone(), Value::from(v.as_str()));
                }
            }
            let description = if status == "Success" {
                format!("User '{upn}' was created in {app}")
            } else {
                format!("Failed to create User '{upn}' in {app}: {}", r.reason)
            };
            ("EntryExportAdd", description, d)
        }
        (action, _) => {
            let mut d = details([("ReportableIdentifier", Some(upn))]);
            for (t, _, new) in &r.changes {
                d.insert(t.clone(), Value::from(new.as_str()));
            }
            let verb = if action == "Disable" {
                "disabled"
            } else {
                "updated"
            };
            let description = if status == "Success" {
                let names: Vec<&str> = r.changes.iter().map(|(t, _, _)| t.as_str()).collect();
                format!("User '{upn}' was {verb} in {app} ({})", names.join(", "))
            } else {
                format!("Failed to update User '{upn}' in {app}: {}", r.reason)
            };
            ("EntryExportUpdate", description, d)
        }
    };
    steps.push(step(name, "Export", status, description, d));
    steps
}

/// `modifiedProperties`: what a create sent, what an update changed (old
/// and new), else the source attributes read, as the docs' skip example shows.
pub(crate) fn modified_properties(
    r: &UserResult,
    sources: &[(String, Option<String>)],
) -> Vec<ModifiedProperty> {
    let prop = |name: &str, old: Option<String>, new: Option<String>| ModifiedProperty {
        display_name: name.into(),
        old_value: old,
        new_value: new,
    };
    match (r.action, r.stage) {
        ("Create", Stage::Export) => r
            .values
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(t, v)| prop(t, None, v.clone()))
            .collect(),
        ("Update" | "Disable" | STAGED_DELETE, Stage::Export) => r
            .changes
            .iter()
            .map(|(t, old, new)| prop(t, old.clone(), Some(new.clone())))
            .collect(),
        _ => sources
            .iter()
            .map(|(n, v)| prop(n, None, v.clone()))
            .collect(),
    }
}

/// The log line of a processed user, with its steps.
pub(crate) fn log_entry(
    ctx: &LogContext<'_>,
    c: &Candidate,
    mappings: &[Mapping],
    r: &UserResult,
    started: &Started,
) -> LogEntry {
    let sources = source_values(mappings, c);
    let mut steps = vec![import_step(c, &sources), scoping_step(c, ctx.app, true)];
    steps.extend(result_steps(c, r, ctx.app));
    LogEntry {
        id: uuid::Uuid::new_v4().to_string(),
        job_id: ctx.job_id.into(),
        cycle_id: ctx.cycle_id.into(),
        service_principal_id: ctx.sp_id.into(),
        user_id: c.user.id.clone(),
        user_display_name: c.user.display_name.clone(),
        action: r.action.into(),
        status: r.status.into(),
        reason: r.reason.clone(),
        target_id: r.target_id.clone(),
        activity_date_time: started.at.clone(),
        change_id: uuid::Uuid::new_v4().to_string(),
        duration_ms: i64::try_from(started.instant.elapsed().as_millis()).unwrap_or(i64::MAX),
        error_code: r.code.map(str::to_string),
        on_demand: ctx.initiated_by.is_some(),
        initiated_by: ctx.initiated_by.clone(),
        target_display_name: r.matching.as_ref().and_then(|(_, v)| v.clone()),
        modified_properties: modified_properties(r, &sources),
        steps,
        identity_type: None,
    }
}
