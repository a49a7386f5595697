//! `POST …/jobs/{jobId}/provisionOnDemand` (`api/synchronization-synchronizationjob-provisionondemand.md`): provision one user now, as a cycle would.
//!
//! The user goes through the cycle's own code (`provision.rs`): scope,
//! mapping evaluation, matching, then create or update over HTTP SCIM with
//! the saved Tenant URL and Secret Token. "No user or group will be
//! provisioned on-demand that would not have been provisioned through the
//! regular provisioning cycles" (Entra docs `provision-on-demand.md`): a user
//! a cycle would not process stops at Scoping, Skipped.
//!
//! Choices where the docs are silent (also in `docs/sandbox-tenant.md`):
//! - one subject per request (the answer is one `stringKeyStringValuePair`);
//!   groups are refused with a 400;
//! - the steps come in the order Import, Scoping, Matching, Export, and stop
//!   at the first that does not succeed;
//! - a credential or availability failure gives `result: Failure` and does
//!   not quarantine the job; the job status is left alone;
//! - the rate limit (5 requests per 10 seconds) is per job and counts every
//!   request that names an existing job, valid or not; a refused request
//!   gets `429 TooManyRequests` with `Retry-After` in seconds and does not count.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::auditlogs::{error_category, recommended_action};
use crate::sandbox::entra::credentials::check_job;
use crate::sandbox::entra::graph::{AppState, GraphError, GraphResult, json_object, ok_json};
use crate::sandbox::entra::{LogEntry, Step};
use crate::sandbox::outbound::ScimTarget;
use crate::sandbox::provision::{
    self, CREDENTIAL_ERROR, Candidate, LogContext, Stage, Started, UserResult, code,
};

/// Requests per job per window (the docs' rate limit).
pub const RATE_LIMIT: usize = 5;
pub const RATE_WINDOW: Duration = Duration::from_secs(10);

pub(crate) fn routes(prefix: &str) -> Router<AppState> {
    Router::new().route(
        &format!(
            "{prefix}/servicePrincipals/{{id}}/synchronization/jobs/{{job}}/provisionOnDemand"
        ),
        post(provision_on_demand),
    )
}

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::bad_request("BadRequest", message)
}

/// Counts the request against the job's window, or answers 429.
fn throttle(shared: &AppState, job_id: &str) -> Result<(), Response> {
    let now = Instant::now();
    let mut calls = shared
        .on_demand_calls
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let times: &mut VecDeque<Instant> = calls.entry(job_id.to_string()).or_default();
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
    {
        times.pop_front();
    }
    if times.len() >= RATE_LIMIT {
        let oldest = times.front().copied().unwrap_or(now);
        let wait = RATE_WINDOW.saturating_sub(now.duration_since(oldest));
        let seconds = u64::try_from(wait.as_nanos().div_ceil(1_000_000_000))
            .unwrap_or(u64::MAX)
            .max(1);
        let mut response = GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!(
                "provisionOnDemand allows {RATE_LIMIT} requests per {} seconds for a job. Retry after {seconds} seconds.",
                RATE_WINDOW.as_secs()
            ),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Err(response);
    }
    times.push_back(now);
    Ok(())
}

/// The one subject of the request, checked: `(ruleId, objectId)`.
fn subject(body: &Map<String, Value>) -> Result<(String, String), GraphError> {
    let params = body
        .get("parameters")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            bad("parameters must be a non-empty array of synchronizationJobApplicationParameters ({\"ruleId\",\"subjects\"}).")
        })?;
    let subjects: usize = params
        .iter()
        .map(|p| p["subjects"].as_array().map_or(0, Vec::len))
        .sum();
    if params.len() != 1 || subjects != 1 {
        return Err(bad(
            "The sandbox provisions one subject per request: give one parameter with one subject.",
        ));
    }
    let p = &params[0];
    let rule = p["ruleId"]
        .as_str()
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            bad("ruleId is required: the id of a synchronizationRule of the job's schema.")
        })?;
    let s = &p["subjects"][0];
    let object_id = s["objectId"]
        .as_str()
        .filter(|o| !o.trim().is_empty())
        .ok_or_else(|| bad("subjects[].objectId is required."))?;
    match s["objectTypeName"].as_str() {
        Some(t) if t.eq_ignore_ascii_case("User") => {}
        Some(t) if t.eq_ignore_ascii_case("Group") => {
            return Err(bad(
                "Provisioning a group on demand is not supported by the sandbox: it provisions users only. Give objectTypeName \"User\".",
            ));
        }
        Some(t) => {
            return Err(bad(format!(
                "objectTypeName '{t}' is not valid: the sandbox provisions objects of type \"User\"."
            )));
        }
        None => return Err(bad("subjects[].objectTypeName is required (\"User\").")),
    }
    Ok((rule.trim().to_string(), object_id.trim().to_string()))
}

/// What the run needs from the state, copied so no lock is held over HTTP.
struct Prepared {
    plan: provision::Plan,
    candidate: Candidate,
    /// A cycle would process this user.
    entitled: bool,
    /// The rule's target directory name (`targetSystem.name`).
    target_directory: String,
    me: Option<(String, String)>,
}

async fn provision_on_demand(
    State(shared): State<AppState>,
    Path((sp_id, job_id)): Path<(String, String)>,
    body: Bytes,
) -> GraphResult {
    check_job(&*shared.entra.lock().await, &sp_id, &job_id)?;
    if let Err(throttled) = throttle(&shared, &job_id) {
        return Ok(throttled);
    }
    let body = json_object(&body)?;
    let (rule_id, object_id) = subject(&body)?;
    let prepared = {
        let entra = shared.entra.lock().await;
        let record = entra
            .job(&sp_id, &job_id)
            .ok_or_else(|| GraphError::no_object(&job_id))?;
        let rules = record.schema["synchronizationRules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(rule) = rules.iter().find(|r| r["id"] == rule_id.as_str()) else {
            let known: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
            return Err(bad(format!(
                "The ruleId '{rule_id}' is not a synchronizationRule of this job's schema. Its rules: {}.",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        let target_directory = rule["targetDirectoryName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let user = entra
            .users
            .iter()
            .find(|u| u.id.eq_ignore_ascii_case(&object_id))
            .cloned()
            .ok_or_else(|| GraphError::no_object(&object_id))?;
        let plan = provision::plan(&entra, &sp_id, &job_id)
            .ok_or_else(|| GraphError::no_object(&job_id))?;
        if plan.mappings.is_none() {
            return Err(bad(
                "The job's schema has no enabled mapping from User to a SCIM user, so there is nothing to provision.",
            ));
        }
        let found = plan.candidates.iter().find(|c| c.user.id == user.id);
        let entitled = found.is_some();
        let candidate = Candidate {
            in_scope: found.is_some_and(|c| c.in_scope),
            assigned: entra.assigned_users(&sp_id).contains(&user.id),
            user,
            deleted: None,
        };
        Prepared {
            plan,
            candidate,
            entitled,
            target_directory,
            me: entra.me().map(|u| (u.id.clone(), u.display_name.clone())),
        }
    };
    let outcome = run(&prepared, &job_id, &sp_id).await;
    {
        let mut entra = shared.entra.lock().await;
        if let Some(record) = entra.job_mut(&sp_id, &job_id)
            && let Some(target_id) = &outcome.target_id
            && outcome.entry.status != "failure"
        {
            record
                .provisioned
                .insert(prepared.candidate.user.id.clone(), target_id.clone());
        }
        entra.push_log(vec![outcome.entry.clone()]);
    }
    let context = format!(
        "{}/$metadata#microsoft.graph.stringKeyStringValuePair",
        shared.graph_url
    );
    Ok(ok_json(
        StatusCode::OK,
        &json!({
            "@odata.context": context,
            "key": outcome.key.to_string(),
            "value": outcome.value.to_string(),
        }),
    ))
}

struct Outcome {
    entry: LogEntry,
    target_id: Option<String>,
    key: Value,
    value: Value,
}

async fn run(p: &Prepared, job_id: &str, sp_id: &str) -> Outcome {
    let started = Started::now();
    let change_id = uuid::Uuid::new_v4().to_string();
    let c = &p.candidate;
    let app = p.plan.app.as_str();
    let ctx = LogContext {
        job_id,
        sp_id,
        cycle_id: &change_id,
        app,
        initiated_by: p.me.clone(),
    };
    let mappings = p.plan.mappings.as_deref().unwrap_or_default();
    let sources = provision::source_values(mappings, c);
    let mut steps = vec![
        provision::import_step(c, &sources),
        provision::scoping_step(c, app, p.entitled),
    ];
    let (result, fatal_code): (Option<UserResult>, Option<String>) = if p.entitled {
        let target = match &p.plan.credentials {
            None => Err(
                "No Tenant URL (BaseAddress) and Secret Token are saved for this application."
                    .to_string(),
            ),
            Some((base, token)) => ScimTarget::new(base, token.clone())
                .map(|mut t| {
                    // "this feature flag currently doesn't work with on-demand
                    // provisioning" (the SCIM compatibility doc).
                    t.compliant = false;
                    t
                })
                .map_err(|e| format!("The saved {e}.")),
        };
        match target {
            Err(message) => {
                steps.push(Step {
                    name: "EntryImport".into(),
                    step_type: "Matching".into(),
                    status: "Failure".into(),
                    description: format!("Could not reach {app}: {message}"),
                    timestamp: crate::platform::timefmt::now_rfc3339(),
                    details: Map::new(),
                });
                let mut entry =
                    provision::log_entry(&ctx, c, mappings, &failed_result(&message), &started);
                entry.steps.clone_from(&steps);
                entry.error_code = Some(CREDENTIAL_ERROR.into());
                return finish(p, entry, None, &change_id, &started);
            }
            Ok(target) => {
                let known = p.plan.provisioned.get(&c.user.id).map(String::as_str);
                let mut r = provision::provision_user(&target, mappings, c, known).await;
                let fatal = r.fatal.take();
                if let Some(f) = &fatal {
                    r.reason.clone_from(&f.message);
                }
                (Some(r), fatal.map(|f| f.code))
            }
        }
    } else {
        (None, None)
    };
    let (entry, result) = match result {
        None => {
            let mut r = failed_result("");
            r.action = "Skip";
            r.status = "skipped";
            r.code = Some(code::NOT_EFFECTIVELY_ENTITLED);
            r.reason = format!(
                "not assigned to the application '{app}': a provisioning cycle would not provision this user"
            );
            let mut entry = provision::log_entry(&ctx, c, mappings, &r, &started);
            entry.steps = steps;
            (entry, r)
        }
        Some(r) => {
            let mut entry = provision::log_entry(&ctx, c, mappings, &r, &started);
            if let Some(code) = &fatal_code {
                entry.error_code = Some(code.clone());
            }
            (entry, r)
        }
    };
    finish(p, entry, result.target_id, &change_id, &started)
}

/// A result that stopped before matching (no credentials, or out of scope).
fn failed_result(reason: &str) -> UserResult {
    let mut r = provision::UserResult::blank(Stage::Matching);
    r.action = "Skip";
    r.status = "failure";
    r.reason = reason.to_string();
    r
}

/// The answer: `key` (result and error) and `value` (the change), both JSON
/// documents in strings as Graph sends them; the log line uses the same ids.
fn finish(
    p: &Prepared,
    mut entry: LogEntry,
    target_id: Option<String>,
    change_id: &str,
    started: &Started,
) -> Outcome {
    entry.change_id = change_id.to_string();
    entry.on_demand = true;
    let end = crate::platform::timefmt::now_rfc3339();
    let result = match entry.status.as_str() {
        "success" => "Success",
        "skipped" => "Skipped",
        _ => "Failure",
    };
    let code = entry.error_code.clone().filter(|_| result != "Success");
    let key = match &code {
        None => json!({ "result": result, "details": {} }),
        Some(code) => json!({
            "result": result,
            "details": { "errorCode": code, "errorMessage": entry.reason },
        }),
    };
    let action = match entry.action.as_str() {
        "Create" => "Create",
        "Update" => "Update",
        "Disable" => "Disable",
        _ => "Other",
    };
    let steps: Vec<Value> = entry
        .steps
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "type": s.step_type,
                "status": s.status,
                "description": s.description,
                "timestamp": s.timestamp,
                "details": s.details,
            })
        })
        .collect();
    let status_info = match &code {
        None => json!({
            "status": result,
            "errorCode": Value::Null,
            "reason": Value::Null,
            "additionalDetails": Value::Null,
            "errorCategory": Value::Null,
            "recommendedAction": Value::Null,
        }),
        Some(code) => json!({
            "status": result,
            "errorCode": code,
            "reason": entry.reason,
            "additionalDetails": Value::Null,
            "errorCategory": error_category(code),
            "recommendedAction": recommended_action(code),
        }),
    };
    let value = json!({
        "action": action,
        "changeId": change_id,
        "endTime": end,
        "modifiedProperties": entry.modified_properties,
        "provisioningSteps": steps,
        "reportableIdentifier": p.candidate.user.user_principal_name,
        "startTime": started.at,
        "statusInfo": status_info,
        "sourceIdentity": {
            "id": p.candidate.user.id,
            "type": "User",
            "displayName": p.candidate.user.display_name,
            "details": Value::Null,
        },
        "sourceSystem": { "id": Value::Null, "name": "Azure Active Directory", "details": Value::Null },
        "targetIdentity": {
            "id": target_id,
            "type": crate::sandbox::scim::USER_SCHEMA,
            "displayName": entry.target_display_name,
            "details": Value::Null,
        },
        "targetSystem": {
            "id": Value::Null,
            "name": if p.target_directory.is_empty() { p.plan.app.as_str() } else { p.target_directory.as_str() },
            "details": Value::Null,
        },
    });
    Outcome {
        entry,
        target_id,
        key,
        value,
    }
}
