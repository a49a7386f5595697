//! A provisioning cycle: evaluate the stored user mapping for every user in scope, match, create or update over SCIM, and record the job status.
//!
//! Follows Entra docs `use-scim-to-provision-users-and-groups.md` and
//! `how-provisioning-works.md`: scope is the app's assignments (direct or
//! through a group) unless `SyncAll` is `"true"`; users are matched on each
//! attribute with `matchingPriority > 0` in order; a user whose first
//! matching value is empty is skipped; disabled users get `active` false through
//! `[IsSoftDeleted]`, as do users that left the scope (unless
//! `SkipOutOfScopeDeletions` is `"true"`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::Shared;
use super::entra::{EntraState, LogEntry};
use super::expression::{Expr, bool_text};
use super::job::{CycleReport, SyncError};
use super::outbound::{ScimFailure, ScimTarget};
use super::payload::{self, Change};
use super::tenant::User;
use crate::secret::Secret;

/// Error code Entra reports when the SCIM endpoint refuses the credential.
pub const CREDENTIAL_ERROR: &str =
    "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable";
/// The sandbox's code when the endpoint is unreachable or failing (5xx).
pub const UNAVAILABLE_ERROR: &str = "SystemForCrossDomainIdentityManagementServiceUnavailable";

/// Starts a cycle for the job in the background, or asks the running one to
/// go again. [`super::Sandbox::wait_idle`] waits for it.
pub(crate) fn spawn_cycle(shared: Arc<Shared>, sp_id: String, job_id: String) {
    {
        let mut running = shared.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(again) = running.get_mut(&job_id) {
            *again = true;
            return;
        }
        running.insert(job_id.clone(), false);
    }
    shared.cycles.send_modify(|n| *n += 1);
    let guard = CycleGuard {
        shared: shared.clone(),
        job_id: job_id.clone(),
    };
    tokio::spawn(async move {
        let _guard = guard;
        loop {
            run_cycle(&shared, &sp_id, &job_id).await;
            let mut running = shared.running.lock().unwrap_or_else(|p| p.into_inner());
            match running.get_mut(&job_id) {
                Some(again) if *again => *again = false,
                _ => {
                    running.remove(&job_id);
                    break;
                }
            }
        }
    });
}

/// Counts the cycle as finished even if it panicked.
struct CycleGuard {
    shared: Arc<Shared>,
    job_id: String,
}

impl Drop for CycleGuard {
    fn drop(&mut self) {
        self.shared
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.job_id);
        self.shared.cycles.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// One attribute mapping, ready to evaluate.
struct Mapping {
    target: String,
    source: Result<Expr, String>,
    default: Option<String>,
    priority: i64,
    add_only: bool,
}

struct Candidate {
    user: User,
    in_scope: bool,
    assigned: bool,
}

/// What a cycle needs, copied out of the state so no lock is held over HTTP.
struct Plan {
    mappings: Option<Vec<Mapping>>,
    credentials: Option<(String, Secret)>,
    candidates: Vec<Candidate>,
    entitled: i64,
    provisioned: BTreeMap<String, String>,
}

#[derive(Default)]
struct Outcome {
    log: Vec<LogEntry>,
    provisioned: Vec<(String, String)>,
    exported: i64,
    failures: i64,
    processed: i64,
    fatal: Option<SyncError>,
}

async fn run_cycle(shared: &Shared, sp_id: &str, job_id: &str) {
    let began = crate::timefmt::now_rfc3339();
    let activity = uuid::Uuid::new_v4().to_string();
    let Some(plan) = plan(&*shared.entra.lock().await, sp_id, job_id) else {
        return;
    };
    let mut outcome = Outcome::default();
    let ctx = LogContext {
        job_id,
        sp_id,
        cycle_id: &activity,
    };
    match (&plan.credentials, &plan.mappings) {
        (None, _) => {
            outcome.fatal = Some(credential_error(
                "No Tenant URL (BaseAddress) and Secret Token are saved for this application.",
            ));
        }
        (Some(_), None) => {} // No enabled User→User mapping: nothing to export.
        (Some((base, token)), Some(mappings)) => match ScimTarget::new(base, token.clone()) {
            Ok(target) => {
                for c in &plan.candidates {
                    let known = plan.provisioned.get(&c.user.id).map(String::as_str);
                    match provision_user(&target, mappings, c, known).await {
                        Ok(result) => outcome.add(&ctx, c, result),
                        Err(fatal) => {
                            outcome.fatal = Some(fatal);
                            break;
                        }
                    }
                }
            }
            Err(e) => outcome.fatal = Some(credential_error(&format!("The saved {e}."))),
        },
    }
    {
        let mut entra = shared.entra.lock().await;
        record(&mut entra, sp_id, job_id, &plan, outcome, &began, &activity);
    }
    shared.persist().await;
}

fn credential_error(message: &str) -> SyncError {
    SyncError {
        code: CREDENTIAL_ERROR.into(),
        message: message.into(),
        tenant_actionable: true,
    }
}

/// The enabled mapping from Entra `User` to target `User`, found by object
/// names (its display name differs between tenants).
fn user_mapping(schema: &Value) -> Option<&Value> {
    schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| m["sourceObjectName"] == "User" && m["targetObjectName"] == "User")
}

/// A mapping source as an expression: its `expression` text when present,
/// else built from `name`, `type` and `parameters`.
fn source_expr(source: &Value) -> Result<Expr, String> {
    if let Some(text) = source["expression"]
        .as_str()
        .filter(|t| !t.trim().is_empty())
    {
        return Expr::parse(text).map_err(|e| e.to_string());
    }
    let name = source["name"].as_str().unwrap_or_default().to_string();
    match source["type"].as_str() {
        Some("Attribute") => Ok(Expr::Attribute(name)),
        Some("Constant") => Ok(Expr::Literal(name)),
        Some("Function") => {
            let args = source["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| source_expr(&p["value"]))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Expr::Call(name, args))
        }
        other => Err(format!("the mapping source type {other:?} is unknown")),
    }
}

fn plan(entra: &EntraState, sp_id: &str, job_id: &str) -> Option<Plan> {
    let record = entra.job(sp_id, job_id)?;
    let mappings = user_mapping(&record.schema)
        .filter(|m| m["enabled"] != Value::Bool(false))
        .map(|m| {
            m["attributeMappings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| Mapping {
                    target: a["targetAttributeName"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    source: source_expr(&a["source"]),
                    default: a["defaultValue"].as_str().map(str::to_string),
                    priority: a["matchingPriority"].as_i64().unwrap_or(0),
                    add_only: a["flowType"] == "ObjectAddOnly",
                })
                .collect()
        });
    let secret_is = |key: &str, want: &str| {
        entra
            .secret(sp_id, key)
            .is_some_and(|v| v.expose().eq_ignore_ascii_case(want))
    };
    let credentials = match (
        entra.secret(sp_id, "BaseAddress"),
        entra.secret(sp_id, "SecretToken"),
    ) {
        (Some(base), Some(token)) => Some((base.expose().to_string(), token.clone())),
        _ => None,
    };
    let assigned = entra.assigned_users(sp_id);
    let sync_all = secret_is("SyncAll", "true");
    let keep_leavers = secret_is("SkipOutOfScopeDeletions", "true");
    let mut candidates = Vec::new();
    let mut entitled = 0;
    for user in &entra.users {
        let is_assigned = assigned.contains(&user.id);
        let in_scope = sync_all || is_assigned;
        entitled += i64::from(in_scope);
        let left = !in_scope && record.provisioned.contains_key(&user.id) && !keep_leavers;
        if in_scope || left {
            candidates.push(Candidate {
                user: user.clone(),
                in_scope,
                assigned: is_assigned,
            });
        }
    }
    Some(Plan {
        mappings,
        credentials,
        candidates,
        entitled,
        provisioned: record.provisioned.clone(),
    })
}

/// What happened to one user.
struct UserResult {
    action: &'static str,
    status: &'static str,
    reason: String,
    target_id: Option<String>,
    exported: bool,
}

impl UserResult {
    fn new(action: &'static str, status: &'static str, reason: impl Into<String>) -> Self {
        Self {
            action,
            status,
            reason: reason.into(),
            target_id: None,
            exported: false,
        }
    }
}

/// Credential and availability failures stop the cycle; the rest fail one user.
fn classify(
    e: ScimFailure,
    user_failure: impl FnOnce(String) -> UserResult,
) -> Result<UserResult, SyncError> {
    match &e {
        _ if e.is_credential() => Err(SyncError {
            code: CREDENTIAL_ERROR.into(),
            message: format!(
                "Provisioning stopped: {e}. Check the Secret Token, then restart the job."
            ),
            tenant_actionable: true,
        }),
        ScimFailure::Transport(_) | ScimFailure::Status { status: 500.., .. } => Err(SyncError {
            code: UNAVAILABLE_ERROR.into(),
            message: format!(
                "Provisioning stopped: {e}. Check the Tenant URL and the SCIM service."
            ),
            tenant_actionable: true,
        }),
        _ => Ok(user_failure(e.to_string())),
    }
}

async fn provision_user(
    target: &ScimTarget,
    mappings: &[Mapping],
    c: &Candidate,
    known_id: Option<&str>,
) -> Result<UserResult, SyncError> {
    let soft_deleted = !c.in_scope || !c.user.account_enabled;
    let lookup = |name: &str| -> Option<String> {
        if name.eq_ignore_ascii_case("IsSoftDeleted") {
            Some(bool_text(soft_deleted))
        } else if name.eq_ignore_ascii_case("appRoleAssignments") {
            c.assigned.then(|| "User".to_string())
        } else {
            c.user.attribute(name)
        }
    };
    let mut values: Vec<(&Mapping, Option<String>)> = Vec::new();
    for m in mappings {
        let expr = match &m.source {
            Ok(e) => e,
            Err(e) => {
                return Ok(UserResult::new(
                    "Skip",
                    "failure",
                    format!("mapping to {}: {e}", m.target),
                ));
            }
        };
        let value = match expr.eval(&lookup) {
            Ok(v) => v.filter(|v| !v.is_empty()).or_else(|| m.default.clone()),
            Err(e) => {
                return Ok(UserResult::new(
                    "Skip",
                    "failure",
                    format!("mapping to {}: {e}", m.target),
                ));
            }
        };
        values.push((m, value));
    }
    let mut matching: Vec<&(&Mapping, Option<String>)> =
        values.iter().filter(|(m, _)| m.priority > 0).collect();
    matching.sort_by_key(|(m, _)| m.priority);
    let usable: Vec<(&str, &str)> = matching
        .iter()
        .filter_map(|(m, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| (m.target.as_str(), v))
        })
        .collect();
    // Entra skips a user whose first matching attribute is empty: the
    // later ones only help find users that already exist (CONTRACT.md,
    // "Users whose matching attribute is empty are skipped").
    let primary_empty = matching
        .first()
        .is_none_or(|(_, v)| v.as_deref().is_none_or(str::is_empty));
    if primary_empty || usable.is_empty() {
        let names: Vec<&str> = matching
            .iter()
            .take(1)
            .map(|(m, _)| m.target.as_str())
            .collect();
        return Ok(UserResult::new(
            "Skip",
            "skipped",
            format!(
                "matching attribute empty: {} has no value for this user",
                names.join(", ")
            ),
        ));
    }
    let mut found = None;
    for (attr, value) in &usable {
        match target.find_users(attr, value).await {
            Ok(list) if !list.is_empty() => {
                found = list.into_iter().next();
                break;
            }
            Ok(_) => {}
            Err(e) => {
                return classify(e, |r| {
                    UserResult::new("Skip", "failure", format!("looking up {attr}: {r}"))
                });
            }
        }
    }
    let present: Vec<(String, String)> = values
        .iter()
        .filter_map(|(m, v)| v.clone().map(|v| (m.target.clone(), v)))
        .collect();
    let Some(resource) = found else {
        if !c.in_scope {
            return Ok(UserResult::new(
                "Skip",
                "skipped",
                "out of scope and not in the target: nothing to disable",
            ));
        }
        let body = payload::create_body(&present);
        return match target.create_user(&body).await {
            Ok(created) => Ok(UserResult {
                target_id: created["id"].as_str().map(str::to_string),
                exported: true,
                ..UserResult::new("Create", "success", "created")
            }),
            Err(e) => classify(e, |r| UserResult::new("Create", "failure", r)),
        };
    };
    let id = resource["id"]
        .as_str()
        .or(known_id)
        .unwrap_or_default()
        .to_string();
    let changes: Vec<Change> = present
        .iter()
        .filter(|(t, _)| !values.iter().any(|(m, _)| m.add_only && &m.target == t))
        .filter_map(|(t, v)| {
            let current = payload::read_attribute(&resource, t);
            (!payload::same_value(t, current.as_deref(), v)).then(|| Change {
                target: t.clone(),
                value: v.clone(),
                add: current.is_none(),
            })
        })
        .collect();
    if changes.is_empty() {
        return Ok(UserResult {
            target_id: Some(id),
            ..UserResult::new("Skip", "skipped", "already up to date")
        });
    }
    let action = if soft_deleted
        && changes
            .iter()
            .any(|c| c.target.eq_ignore_ascii_case("active"))
    {
        "Disable"
    } else {
        "Update"
    };
    match target
        .patch_user(&id, &payload::patch_body(&changes, target.compliant))
        .await
    {
        Ok(()) => {
            let names: Vec<&str> = changes.iter().map(|c| c.target.as_str()).collect();
            Ok(UserResult {
                target_id: Some(id),
                exported: true,
                ..UserResult::new(action, "success", format!("updated {}", names.join(", ")))
            })
        }
        Err(e) => classify(e, |r| UserResult::new(action, "failure", r)),
    }
}

struct LogContext<'a> {
    job_id: &'a str,
    sp_id: &'a str,
    cycle_id: &'a str,
}

impl Outcome {
    fn add(&mut self, ctx: &LogContext<'_>, c: &Candidate, r: UserResult) {
        self.processed += 1;
        self.exported += i64::from(r.exported);
        self.failures += i64::from(r.status == "failure");
        if let Some(id) = &r.target_id {
            self.provisioned.push((c.user.id.clone(), id.clone()));
        }
        self.log.push(LogEntry {
            id: uuid::Uuid::new_v4().to_string(),
            job_id: ctx.job_id.into(),
            cycle_id: ctx.cycle_id.into(),
            service_principal_id: ctx.sp_id.into(),
            user_id: c.user.id.clone(),
            user_display_name: c.user.display_name.clone(),
            action: r.action.into(),
            status: r.status.into(),
            reason: r.reason,
            target_id: r.target_id,
            activity_date_time: crate::timefmt::now_rfc3339(),
        });
    }
}

/// Writes the cycle's result into the job status and the log.
fn record(
    entra: &mut EntraState,
    sp_id: &str,
    job_id: &str,
    plan: &Plan,
    outcome: Outcome,
    began: &str,
    activity: &str,
) {
    entra.push_log(outcome.log);
    let Some(r) = entra.job_mut(sp_id, job_id) else {
        return;
    };
    r.provisioned.extend(outcome.provisioned);
    r.job.status.record_cycle(CycleReport {
        activity: activity.into(),
        began: began.into(),
        entitled: plan.entitled,
        candidates: plan.candidates.len() as i64,
        processed: outcome.processed,
        exported: outcome.exported,
        failures: outcome.failures,
        provisioned_total: r.provisioned.len() as i64,
        fatal: outcome.fatal,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_become_expressions_with_or_without_text() {
        let s = serde_json::json!({"expression": "[mail]", "name": "mail", "type": "Attribute"});
        assert_eq!(source_expr(&s).unwrap(), Expr::Attribute("mail".into()));
        let s = serde_json::json!({
            "name": "Join", "type": "Function",
            "parameters": [
                {"key": "separator", "value": {"name": " ", "type": "Constant"}},
                {"key": "source", "value": {"name": "givenName", "type": "Attribute"}}
            ]
        });
        assert_eq!(
            source_expr(&s).unwrap(),
            Expr::Call(
                "Join".into(),
                vec![
                    Expr::Literal(" ".into()),
                    Expr::Attribute("givenName".into())
                ]
            )
        );
        assert!(source_expr(&serde_json::json!({"expression": "Switch([a]"})).is_err());
    }

    #[test]
    fn the_fixture_user_mapping_is_found_by_object_names() {
        let schema = super::super::sync::template_schema();
        let m = user_mapping(schema).unwrap();
        assert_eq!(m["name"], "Provision Microsoft Entra ID Users");
    }
}
