//! A provisioning cycle: evaluate the stored user mapping for every user in scope, match, create or update over SCIM, and record the job status.
//!
//! Follows Entra docs `use-scim-to-provision-users-and-groups.md` and
//! `how-provisioning-works.md`: scope is the app's assignments (direct or
//! through a group) unless `SyncAll` is `"true"`; users are matched on each
//! attribute with `matchingPriority > 0` in order; a user whose first
//! matching value is empty is skipped; disabled users get `active` false through
//! `[IsSoftDeleted]`, as do users that left the scope (unless
//! `SkipOutOfScopeDeletions` is `"true"`). A cycle that would disable or
//! delete more users than the accidental-deletions threshold performs none
//! of them and quarantines the job (`accidental-deletions.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Shared;
use super::entra::{EntraState, LogEntry, ModifiedProperty, ProvisionedGroup, Step};
use super::expression::{Expr, bool_text};
use super::job::{CycleReport, SyncError};
use super::outbound::{ScimFailure, ScimTarget};
use super::payload::{self, Change};
use super::tenant::User;
use crate::platform::secret::Secret;

/// Error code Entra reports when the SCIM endpoint refuses the credential.
pub const CREDENTIAL_ERROR: &str =
    "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable";
/// The sandbox's code when the endpoint is unreachable or failing (5xx).
pub const UNAVAILABLE_ERROR: &str = "SystemForCrossDomainIdentityManagementServiceUnavailable";

/// Starts a cycle for the job in the background, or asks the running one to
/// go again. [`super::Sandbox::wait_idle`] waits for it.
pub(crate) fn spawn_cycle(shared: Arc<Shared>, sp_id: String, job_id: String) {
    {
        let mut running = shared
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
            let mut running = shared
                .running
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.job_id);
        self.shared.cycles.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// One attribute mapping, ready to evaluate.
pub(super) struct Mapping {
    target: String,
    source: Result<Expr, String>,
    default: Option<String>,
    priority: i64,
    add_only: bool,
    /// The target attribute's type is `Boolean` (see [`payload::Types`]).
    boolean: bool,
}

/// The target attribute types of `mappings`, as the payload builds values.
fn types_of(mappings: &[Mapping]) -> payload::Types {
    payload::Types::from_flags(mappings.iter().map(|m| (m.target.as_str(), m.boolean)))
}

/// The values that differ from what the target holds (an update), leaving
/// out add-only mappings (`flowType: ObjectAddOnly`): users and groups alike.
fn changed_values(
    mappings: &[Mapping],
    types: &payload::Types,
    resource: &Value,
    values: &[(String, String)],
) -> Vec<Change> {
    values
        .iter()
        .filter(|(t, _)| !mappings.iter().any(|m| m.add_only && &m.target == t))
        .filter_map(|(t, v)| {
            let current = payload::read_attribute(resource, t);
            (!payload::same_value(types, t, current.as_deref(), v)).then(|| Change {
                target: t.clone(),
                value: v.clone(),
                add: current.is_none(),
            })
        })
        .collect()
}

pub(super) struct Candidate {
    pub user: User,
    /// Assigned (or `SyncAll`); false for a user leaving the scope.
    pub in_scope: bool,
    pub assigned: bool,
    /// Deleted in Entra: soft (disabled in the target through
    /// `[IsSoftDeleted]`) or permanently (deleted in the target).
    pub deleted: Option<Deleted>,
}

/// How a provisioned user was deleted in Entra (`how-provisioning-works.md`,
/// "Incremental cycles" 8 and 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Deleted {
    Soft,
    Hard,
}

/// What a cycle needs, copied out of the state so no lock is held over HTTP.
pub(super) struct Plan {
    pub mappings: Option<Vec<Mapping>>,
    pub credentials: Option<(String, Secret)>,
    /// Users in scope and users leaving it, in directory order.
    pub candidates: Vec<Candidate>,
    pub entitled: i64,
    pub provisioned: BTreeMap<String, String>,
    /// The app's display name, for step descriptions.
    pub app: String,
    /// The accidental-deletions threshold, when the check is on.
    pub delete_threshold: Option<i64>,
    /// Users whose held deletion a `ForceDeletes` restart let through.
    pub allowed_deletes: BTreeSet<String>,
    /// The enabled group mapping and the groups it covers.
    pub groups: GroupPlan,
}

#[derive(Default)]
struct Outcome {
    log: Vec<LogEntry>,
    provisioned: Vec<(String, String)>,
    groups: Vec<(String, ProvisionedGroup)>,
    groups_entitled: i64,
    groups_considered: i64,
    exported: i64,
    failures: i64,
    processed: i64,
    fatal: Option<SyncError>,
    /// Users whose deletion the cycle held back (over the threshold).
    held: BTreeSet<String>,
    too_many_deletes: Option<SyncError>,
    /// Entra users deleted in the target: the job forgets them.
    deleted: Vec<String>,
}

/// `provisioningAction` `stagedDelete`: a disable or delete held back by
/// the accidental-deletions threshold (`provisioningobjectsummary.md`).
pub(super) const STAGED_DELETE: &str = "StagedDelete";

/// Whether an action takes a user away in the target: what the
/// accidental-deletions threshold counts ("the same functionality also
/// works for disables", `accidental-deletions.md`).
pub(super) fn removes_user(action: &str) -> bool {
    matches!(action, "Disable" | "Delete")
}

async fn run_cycle(shared: &Shared, sp_id: &str, job_id: &str) {
    let began = crate::platform::timefmt::now_rfc3339();
    let activity = uuid::Uuid::new_v4().to_string();
    let Some(plan) = plan(&*shared.entra.lock().await, sp_id, job_id) else {
        return;
    };
    let mut outcome = Outcome::default();
    let ctx = LogContext {
        job_id,
        sp_id,
        cycle_id: &activity,
        app: &plan.app,
        initiated_by: None,
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
                // Deletions wait until the cycle knows how many there are.
                let mut held = Vec::new();
                for c in &plan.candidates {
                    let started = Started::now();
                    let known = plan.provisioned.get(&c.user.id).map(String::as_str);
                    let hold = plan.delete_threshold.is_some()
                        && !plan.allowed_deletes.contains(&c.user.id);
                    let mut result = handle_user(&target, mappings, c, known, hold).await;
                    if let Some(fatal) = result.fatal.take() {
                        outcome.fatal = Some(fatal);
                        break;
                    }
                    if result.action == STAGED_DELETE {
                        held.push((c, result, started));
                        continue;
                    }
                    let entry = log_entry(&ctx, c, mappings, &result, &started);
                    outcome.add(entry, &result);
                }
                if outcome.fatal.is_none() {
                    let threshold = plan.delete_threshold.unwrap_or(i64::MAX);
                    if held.len() as i64 > threshold {
                        outcome.hold(&ctx, mappings, held, threshold);
                    } else {
                        for (c, _, _) in held {
                            let started = Started::now();
                            let known = plan.provisioned.get(&c.user.id).map(String::as_str);
                            let mut result = handle_user(&target, mappings, c, known, false).await;
                            if let Some(fatal) = result.fatal.take() {
                                outcome.fatal = Some(fatal);
                                break;
                            }
                            let entry = log_entry(&ctx, c, mappings, &result, &started);
                            outcome.add(entry, &result);
                        }
                    }
                }
                // Users first, so the members of a group resolve to SCIM ids.
                if outcome.fatal.is_none() {
                    export_groups(&target, &plan, &ctx, &mut outcome).await;
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

pub(super) fn credential_error(message: &str) -> SyncError {
    SyncError {
        code: CREDENTIAL_ERROR.into(),
        message: message.into(),
        tenant_actionable: true,
    }
}

/// Target object names Entra gives a SCIM user: `User` in older templates,
/// the enterprise extension URN in published GETs of live custom-SCIM jobs,
/// and the core URN (RFC 7643 §8.7.1 names the resource by both schemas).
pub(crate) const SCIM_USER_OBJECTS: [&str; 3] = [
    "User",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];

/// The mapping from Entra `User` to a SCIM user, found by object names (its
/// display name differs between tenants); the first one wins, as the cycle
/// runs one user mapping.
pub(crate) fn user_mapping(schema: &Value) -> Option<&Value> {
    schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| {
            let is = |key: &str, names: &[&str]| {
                m[key]
                    .as_str()
                    .is_some_and(|v| names.iter().any(|n| n.eq_ignore_ascii_case(v)))
            };
            is("sourceObjectName", &["User"]) && is("targetObjectName", &SCIM_USER_OBJECTS)
        })
}

/// Whether the object mapping's target object actions include Delete
/// (`flowTypes`, `synchronization-objectmapping.md`; the portal's "Target
/// object actions"). Without `flowTypes` all actions are on (assumed).
fn allows_delete(mapping: &Value) -> bool {
    mapping["flowTypes"].as_str().is_none_or(|flows| {
        flows
            .split(',')
            .any(|f| f.trim().eq_ignore_ascii_case("Delete"))
    })
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

/// The attribute mappings of object mapping `m` of `schema`, ready to
/// evaluate, each typed by the target directory's definition.
fn attribute_mappings(schema: &Value, m: &Value) -> Vec<Mapping> {
    let types = payload::Types::of_mapping(schema, m);
    m["attributeMappings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let target = a["targetAttributeName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            Mapping {
                boolean: types.is_boolean(&target),
                source: source_expr(&a["source"]),
                default: a["defaultValue"].as_str().map(str::to_string),
                priority: a["matchingPriority"].as_i64().unwrap_or(0),
                add_only: a["flowType"] == "ObjectAddOnly",
                target,
            }
        })
        .collect()
}

pub(super) fn plan(entra: &EntraState, sp_id: &str, job_id: &str) -> Option<Plan> {
    let record = entra.job(sp_id, job_id)?;
    let mappings = user_mapping(&record.schema)
        .filter(|m| m["enabled"] != Value::Bool(false))
        .map(|m| attribute_mappings(&record.schema, m));
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
                deleted: None,
            });
        }
    }
    // Users deleted in Entra that the job provisioned: soft-deleted ones are
    // disabled through `[IsSoftDeleted]`; permanently deleted ones that were
    // in scope are deleted when the mapping allows Delete. One unassigned
    // before is no longer managed: no delete (`how-provisioning-works.md`,
    // "Deprovisioning", "Known limitations").
    for user in &entra.deleted_users {
        let is_assigned = assigned.contains(&user.id);
        let in_scope = sync_all || is_assigned;
        if record.provisioned.contains_key(&user.id) && (in_scope || !keep_leavers) {
            candidates.push(Candidate {
                user: user.clone(),
                in_scope,
                assigned: is_assigned,
                deleted: Some(Deleted::Soft),
            });
        }
    }
    let deletes = user_mapping(&record.schema).is_some_and(allows_delete);
    for gone in entra.purged_users.iter().filter(|_| deletes) {
        let was_in_scope = sync_all || gone.assigned_to.contains(sp_id);
        if was_in_scope && record.provisioned.contains_key(&gone.user.id) {
            candidates.push(Candidate {
                user: gone.user.clone(),
                in_scope: false,
                assigned: false,
                deleted: Some(Deleted::Hard),
            });
        }
    }
    Some(Plan {
        mappings,
        credentials,
        candidates,
        entitled,
        provisioned: record.provisioned.clone(),
        app: entra
            .sp(sp_id)
            .map(|s| s.display_name.clone())
            .unwrap_or_default(),
        delete_threshold: super::job::delete_threshold(entra, sp_id, job_id),
        allowed_deletes: record.deletes.allowed.clone(),
        groups: group_plan(
            entra,
            sp_id,
            &record.schema,
            sync_all,
            &record.provisioned_groups,
        ),
    })
}

/// Where processing of one user stopped (Import and Scoping come before
/// [`provision_user`] is called).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Matching,
    Export,
}

/// What happened to one user, with what the steps of the log show.
pub(super) struct UserResult {
    pub action: &'static str,
    pub status: &'static str,
    pub reason: String,
    pub target_id: Option<String>,
    pub exported: bool,
    /// Why it was skipped or failed, as a code; `None` on success.
    pub code: Option<&'static str>,
    pub stage: Stage,
    /// Each target attribute with its evaluated value.
    pub values: Vec<(String, Option<String>)>,
    /// The first matching attribute and its value, once evaluated.
    pub matching: Option<(String, Option<String>)>,
    /// The target resource found by matching.
    pub found: Option<Value>,
    /// Updated attributes: target, old value, new value.
    pub changes: Vec<(String, Option<String>, String)>,
    /// A credential or availability failure: a cycle stops on it.
    pub fatal: Option<SyncError>,
}

/// Skip codes and failure codes the sandbox reports (docs/sandbox-tenant.md).
pub(super) mod code {
    /// The first matching attribute has no value.
    pub const EMPTY_MATCHING_VALUE: &str = "EmptyMatchingValue";
    /// Source and target already agree (Entra's code).
    pub const REDUNDANT_EXPORT: &str = "RedundantExport";
    /// Not assigned (and not `SyncAll`), or out of scope and not in the target.
    pub const NOT_EFFECTIVELY_ENTITLED: &str = "NotEffectivelyEntitled";
    /// A mapping expression could not be evaluated.
    pub const MAPPING_FAILED: &str = "AttributeMappingEvaluationFailed";
    /// The SCIM endpoint refused a create or update (other than 401/403/5xx).
    pub const SCIM_REJECTED: &str = "SystemForCrossDomainIdentityManagementServiceIncompatible";
    /// The SCIM endpoint answered 409.
    pub const SCIM_CONFLICT: &str = "SystemForCrossDomainIdentityManagementEntryConflict";
    /// A disable or delete held back by the accidental-deletions threshold
    /// (the sandbox's code: Entra's is not published).
    pub const DELETE_THRESHOLD_EXCEEDED: &str = "DeleteThresholdExceeded";
}

impl UserResult {
    pub(super) fn blank(stage: Stage) -> Self {
        Self {
            action: "Skip",
            status: "success",
            reason: String::new(),
            target_id: None,
            exported: false,
            code: None,
            stage,
            values: Vec::new(),
            matching: None,
            found: None,
            changes: Vec::new(),
            fatal: None,
        }
    }

    fn end(
        mut self,
        action: &'static str,
        status: &'static str,
        code: Option<&'static str>,
        reason: impl Into<String>,
    ) -> Self {
        self.action = action;
        self.status = status;
        self.code = code;
        self.reason = reason.into();
        self
    }

    /// Credential and availability failures stop the cycle; the rest fail one user.
    fn failed(self, action: &'static str, e: ScimFailure, what: &str) -> Self {
        let fatal = match &e {
            _ if e.is_credential() => Some(SyncError {
                code: CREDENTIAL_ERROR.into(),
                message: format!(
                    "Provisioning stopped: {e}. Check the Secret Token, then restart the job."
                ),
                tenant_actionable: true,
            }),
            ScimFailure::Transport(_) | ScimFailure::Status { status: 500.., .. } => {
                Some(SyncError {
                    code: UNAVAILABLE_ERROR.into(),
                    message: format!(
                        "Provisioning stopped: {e}. Check the Tenant URL and the SCIM service."
                    ),
                    tenant_actionable: true,
                })
            }
            _ => None,
        };
        let code = match (&fatal, &e) {
            (Some(_), _) => None,
            (None, ScimFailure::Status { status: 409, .. }) => Some(code::SCIM_CONFLICT),
            (None, _) => Some(code::SCIM_REJECTED),
        };
        let mut r = self.end(action, "failure", code, format!("{what}{e}"));
        r.fatal = fatal;
        r
    }
}

/// A source attribute as the sync engine reads it for `c`.
fn lookup(c: &Candidate, name: &str) -> Option<String> {
    let soft_deleted = is_soft_deleted(c);
    if name.eq_ignore_ascii_case("IsSoftDeleted") {
        Some(bool_text(soft_deleted))
    } else if name.eq_ignore_ascii_case("appRoleAssignments") {
        c.assigned.then(|| "User".to_string())
    } else {
        c.user.attribute(name)
    }
}

fn attribute_names(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Attribute(n) => {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(n)) {
                out.push(n.clone());
            }
        }
        Expr::Call(_, args) => args.iter().for_each(|a| attribute_names(a, out)),
        Expr::Equals(l, r) => {
            attribute_names(l, out);
            attribute_names(r, out);
        }
        Expr::Literal(_) | Expr::Empty => {}
    }
}

/// The source attributes the mappings read, with their values: the Import
/// step's details. `objectId` comes first, as in Entra's log.
pub(super) fn source_values(mappings: &[Mapping], c: &Candidate) -> Vec<(String, Option<String>)> {
    let mut names = vec!["objectId".to_string()];
    for m in mappings {
        if let Ok(e) = &m.source {
            attribute_names(e, &mut names);
        }
    }
    names
        .into_iter()
        .map(|n| {
            let v = lookup(c, &n);
            (n, v)
        })
        .collect()
}

/// `[IsSoftDeleted]`: out of scope, sign-in blocked or in deleted items.
fn is_soft_deleted(c: &Candidate) -> bool {
    !c.in_scope || !c.user.account_enabled || c.deleted.is_some()
}

/// One user of a cycle: a permanently deleted one is deleted in the
/// target, any other is processed through the mappings.
async fn handle_user(
    target: &ScimTarget,
    mappings: &[Mapping],
    c: &Candidate,
    known_id: Option<&str>,
    hold_deletes: bool,
) -> UserResult {
    match (c.deleted, known_id) {
        (Some(Deleted::Hard), Some(id)) => delete_user(target, id, hold_deletes).await,
        _ => process_user(target, mappings, c, known_id, hold_deletes).await,
    }
}

/// A user deleted permanently in Entra: `DELETE /Users/{id}` by the id the
/// job cached ("Delete User" in `use-scim-to-provision-users-and-groups.md`,
/// 204; a 404 means it is gone already). Held like a disable over the
/// accidental-deletions threshold.
async fn delete_user(target: &ScimTarget, id: &str, hold_deletes: bool) -> UserResult {
    let mut r = UserResult::blank(Stage::Export);
    r.target_id = Some(id.to_string());
    r.found = Some(serde_json::json!({ "id": id }));
    if hold_deletes {
        return r.end(
            STAGED_DELETE,
            "skipped",
            Some(code::DELETE_THRESHOLD_EXCEEDED),
            "held back",
        );
    }
    match target.delete_user(id).await {
        Ok(()) => {
            r.exported = true;
            r.end("Delete", "success", None, "deleted")
        }
        Err(e) => r.failed("Delete", e, ""),
    }
}

/// Processes one user as on demand: nothing is held back.
pub(super) async fn provision_user(
    target: &ScimTarget,
    mappings: &[Mapping],
    c: &Candidate,
    known_id: Option<&str>,
) -> UserResult {
    process_user(target, mappings, c, known_id, false).await
}

/// Processes one user; with `hold_deletes`, a disable or delete is not
/// sent but returned as [`STAGED_DELETE`], for the cycle to count.
async fn process_user(
    target: &ScimTarget,
    mappings: &[Mapping],
    c: &Candidate,
    known_id: Option<&str>,
    hold_deletes: bool,
) -> UserResult {
    let soft_deleted = is_soft_deleted(c);
    let lookup = |name: &str| lookup(c, name);
    let mut r = UserResult::blank(Stage::Matching);
    for m in mappings {
        let value = match &m.source {
            Ok(e) => e.eval(&lookup).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        match value {
            Ok(v) => {
                let v = v.filter(|v| !v.is_empty()).or_else(|| m.default.clone());
                r.values.push((m.target.clone(), v));
            }
            Err(e) => {
                let reason = format!("mapping to {}: {e}", m.target);
                return r.end("Skip", "failure", Some(code::MAPPING_FAILED), reason);
            }
        }
    }
    let mut matching: Vec<(&Mapping, Option<String>)> = mappings
        .iter()
        .zip(r.values.iter().map(|(_, v)| v.clone()))
        .filter(|(m, _)| m.priority > 0)
        .collect();
    matching.sort_by_key(|(m, _)| m.priority);
    r.matching = matching.first().map(|(m, v)| (m.target.clone(), v.clone()));
    let usable: Vec<(String, String)> = matching
        .iter()
        .filter_map(|(m, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| (m.target.clone(), v.to_string()))
        })
        .collect();
    // Entra skips a user whose first matching attribute is empty: the
    // later ones only help find users that already exist (assumed: the
    // skip is what Entra's logs show; no page states the rule).
    let primary_empty = matching
        .first()
        .is_none_or(|(_, v)| v.as_deref().is_none_or(str::is_empty));
    if primary_empty || usable.is_empty() {
        let names: Vec<&str> = matching
            .iter()
            .take(1)
            .map(|(m, _)| m.target.as_str())
            .collect();
        let reason = format!(
            "matching attribute empty: {} has no value for this user",
            names.join(", ")
        );
        return r.end("Skip", "skipped", Some(code::EMPTY_MATCHING_VALUE), reason);
    }
    // A user the job knows is read by the id it cached ("users are retrieved
    // with their id and queried with their username and externalId", the
    // Entra doc's requirements table); a 404 falls back to the queries.
    let mut found = None;
    if let Some(id) = known_id {
        match target.get_user(id).await {
            Ok(resource) => found = resource,
            Err(e) => return r.failed("Skip", e, "reading the known user: "),
        }
    }
    for (attr, value) in usable.iter().filter(|_| found.is_none()) {
        match target.find_users(attr, value).await {
            Ok(list) if !list.is_empty() => {
                found = list.into_iter().next();
                break;
            }
            Ok(_) => {}
            Err(e) => return r.failed("Skip", e, &format!("looking up {attr}: ")),
        }
    }
    r.stage = Stage::Export;
    let present: Vec<(String, String)> = r
        .values
        .iter()
        .filter_map(|(t, v)| v.clone().map(|v| (t.clone(), v)))
        .collect();
    let Some(resource) = found else {
        if !c.in_scope {
            return r.end(
                "Skip",
                "skipped",
                Some(code::NOT_EFFECTIVELY_ENTITLED),
                "out of scope and not in the target: nothing to disable",
            );
        }
        let body = payload::create_body(&present, &types_of(mappings));
        return match target.create_user(&body).await {
            Ok(created) => {
                r.target_id = created["id"].as_str().map(str::to_string);
                r.exported = true;
                r.end("Create", "success", None, "created")
            }
            Err(e) => r.failed("Create", e, ""),
        };
    };
    let id = resource["id"]
        .as_str()
        .or(known_id)
        .unwrap_or_default()
        .to_string();
    r.target_id = Some(id.clone());
    let types = types_of(mappings);
    let changes = changed_values(mappings, &types, &resource, &present);
    r.changes = changes
        .iter()
        .map(|ch| {
            (
                ch.target.clone(),
                payload::read_attribute(&resource, &ch.target),
                ch.value.clone(),
            )
        })
        .collect();
    r.found = Some(resource);
    if changes.is_empty() {
        return r.end(
            "Skip",
            "skipped",
            Some(code::REDUNDANT_EXPORT),
            "already up to date",
        );
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
    if hold_deletes && removes_user(action) {
        return r.end(
            STAGED_DELETE,
            "skipped",
            Some(code::DELETE_THRESHOLD_EXCEEDED),
            "held back",
        );
    }
    match target
        .patch_user(
            &id,
            &payload::patch_body(&changes, target.compliant, &types),
        )
        .await
    {
        Ok(()) => {
            let names: Vec<&str> = changes.iter().map(|c| c.target.as_str()).collect();
            r.exported = true;
            let reason = format!("updated {}", names.join(", "));
            r.end(action, "success", None, reason)
        }
        Err(e) => r.failed(action, e, ""),
    }
}

pub(super) struct LogContext<'a> {
    pub job_id: &'a str,
    pub sp_id: &'a str,
    pub cycle_id: &'a str,
    /// The app's display name, for step descriptions.
    pub app: &'a str,
    /// On demand: the signed-in admin's id and display name.
    pub initiated_by: Option<(String, String)>,
}

/// When processing of one user began.
pub(super) struct Started {
    pub at: String,
    instant: std::time::Instant,
}

impl Started {
    pub fn now() -> Started {
        Started {
            at: crate::platform::timefmt::now_rfc3339(),
            instant: std::time::Instant::now(),
        }
    }
}

fn details<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.map_or(Value::Null, Value::from)))
        .collect()
}

fn step(
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
pub(super) fn import_step(c: &Candidate, sources: &[(String, Option<String>)]) -> Step {
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
pub(super) fn scoping_step(c: &Candidate, app: &str, entitled: bool) -> Step {
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
pub(super) fn result_steps(c: &Candidate, r: &UserResult, app: &str) -> Vec<Step> {
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
pub(super) fn modified_properties(
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
pub(super) fn log_entry(
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

impl Outcome {
    fn add(&mut self, entry: LogEntry, r: &UserResult) {
        self.processed += 1;
        self.exported += i64::from(r.exported);
        self.failures += i64::from(r.status == "failure");
        if r.action == "Delete" && r.status == "success" {
            self.deleted.push(entry.user_id.clone());
        } else if let Some(id) = &r.target_id {
            self.provisioned.push((entry.user_id.clone(), id.clone()));
        }
        self.log.push(entry);
    }

    /// Logs the held deletions as `stagedDelete` and quarantines the job:
    /// more of them than `threshold` in one cycle.
    fn hold(
        &mut self,
        ctx: &LogContext<'_>,
        mappings: &[Mapping],
        held: Vec<(&Candidate, UserResult, Started)>,
        threshold: i64,
    ) {
        let count = held.len();
        let reason = format!(
            "this cycle would disable or delete {count} users, more than the accidental deletions threshold of {threshold}; nothing is deleted until an admin allows the deletions"
        );
        for (c, mut r, started) in held {
            r.reason = reason.clone();
            let entry = log_entry(ctx, c, mappings, &r, &started);
            self.held.insert(c.user.id.clone());
            self.add(entry, &r);
        }
        self.too_many_deletes = Some(SyncError {
            code: code::DELETE_THRESHOLD_EXCEEDED.into(),
            message: format!(
                "Provisioning is quarantined: {reason}. Review them in the provisioning logs (action stagedDelete), then allow them (restart with ForceDeletes) or fix the scope and restart."
            ),
            tenant_actionable: true,
        });
    }
}

/// Writes the cycle's result into the job status and the log.
fn record(
    entra: &mut EntraState,
    sp_id: &str,
    job_id: &str,
    plan: &Plan,
    mut outcome: Outcome,
    began: &str,
    activity: &str,
) {
    entra.push_log(outcome.log);
    let Some(r) = entra.job_mut(sp_id, job_id) else {
        return;
    };
    r.provisioned.extend(outcome.provisioned);
    for id in &outcome.deleted {
        r.provisioned.remove(id);
    }
    // What a ForceDeletes restart allowed is spent; what this cycle held is pending.
    r.deletes
        .allowed
        .retain(|id| !plan.allowed_deletes.contains(id));
    if outcome.fatal.is_none() {
        r.deletes.pending = std::mem::take(&mut outcome.held);
    }
    r.provisioned_groups.extend(outcome.groups);
    r.job.status.record_cycle(CycleReport {
        activity: activity.into(),
        began: began.into(),
        entitled: plan.entitled + outcome.groups_entitled,
        candidates: plan.candidates.len() as i64 + outcome.groups_considered,
        processed: outcome.processed,
        exported: outcome.exported,
        failures: outcome.failures,
        provisioned_total: r.provisioned.len() as i64,
        fatal: outcome.fatal,
        too_many_deletes: outcome.too_many_deletes,
    });
    if !r.provisioned_groups.is_empty() {
        r.job
            .status
            .synchronized_entry_count_by_type
            .push(super::job::KeyCount {
                key: "Group".into(),
                value: r.provisioned_groups.len() as i64,
            });
    }
}

// --- Groups -------------------------------------------------------------
//
// Entra provisions the groups in scope when the group object mapping is
// enabled (Entra docs `how-provisioning-works.md`, "Initial cycle": "the
// provisioning service synchronizes the users and the groups"), with the
// requests of `use-scim-to-provision-users-and-groups.md`, "Group
// Operations": find by `displayName` without members, create without
// members, then PATCH `members`. An endpoint without `/Groups` fails each
// group on its own; the users are not affected.

/// The enabled group mapping (source object `Group`) and the groups in scope.
#[derive(Default)]
pub(super) struct GroupPlan {
    mappings: Vec<Mapping>,
    /// Groups in scope: assigned to the app, or all with `SyncAll`.
    groups: Vec<super::tenant::Group>,
    /// What earlier cycles sent, by Entra group id.
    known: BTreeMap<String, ProvisionedGroup>,
}

/// The target object names a SCIM group mapping may use (the template's
/// `Group`, or the core schema URN in schemas read from live tenants).
fn is_group_target(name: &str) -> bool {
    name == "Group" || name == super::scim::GROUP_SCHEMA
}

fn group_mapping(schema: &Value) -> Option<&Value> {
    schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| {
            m["sourceObjectName"] == "Group"
                && m["targetObjectName"].as_str().is_some_and(is_group_target)
        })
}

fn group_plan(
    entra: &EntraState,
    sp_id: &str,
    schema: &Value,
    sync_all: bool,
    known: &BTreeMap<String, ProvisionedGroup>,
) -> GroupPlan {
    let Some(mapping) = group_mapping(schema).filter(|m| m["enabled"] != Value::Bool(false)) else {
        return GroupPlan::default();
    };
    let mappings = attribute_mappings(schema, mapping);
    let assigned: Vec<String> = entra
        .sp(sp_id)
        .map(|s| s.assignments.groups.clone())
        .unwrap_or_default();
    let groups = entra
        .groups
        .iter()
        .filter(|g| sync_all || assigned.contains(&g.id))
        .cloned()
        .collect();
    GroupPlan {
        mappings,
        groups,
        known: known.clone(),
    }
}

/// A group source attribute: `objectId` (= `id`) and `displayName`.
fn group_lookup(g: &super::tenant::Group, name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("objectId") || name.eq_ignore_ascii_case("id") {
        Some(g.id.clone())
    } else if name.eq_ignore_ascii_case("displayName") {
        Some(g.display_name.clone())
    } else {
        None
    }
}

/// What happened to one group.
struct GroupResult {
    action: &'static str,
    status: &'static str,
    reason: String,
    code: Option<&'static str>,
    target_id: Option<String>,
    exported: bool,
    matching: Option<String>,
    /// Where it stopped: a failed lookup stops at Matching.
    stage: Stage,
    fatal: Option<SyncError>,
    /// What to remember for the next cycle.
    keep: Option<ProvisionedGroup>,
}

impl GroupResult {
    fn new() -> Self {
        Self {
            action: "Skip",
            status: "skipped",
            reason: String::new(),
            code: None,
            target_id: None,
            exported: false,
            matching: None,
            stage: Stage::Matching,
            fatal: None,
            keep: None,
        }
    }

    /// As [`UserResult::failed`]: credential and availability failures stop
    /// the cycle, anything else (a 404 on `/Groups`) fails this group.
    fn failed(mut self, action: &'static str, e: ScimFailure, what: &str) -> Self {
        let user = UserResult::blank(Stage::Export).failed(action, e, what);
        self.action = action;
        self.status = "failure";
        self.code = user.code;
        self.reason = user.reason;
        self.fatal = user.fatal;
        self
    }
}

async fn export_groups(target: &ScimTarget, plan: &Plan, ctx: &LogContext<'_>, out: &mut Outcome) {
    let gp = &plan.groups;
    if gp.groups.is_empty() {
        return;
    }
    // Entra user id → SCIM id, including the users this cycle created.
    let mut scim_ids: BTreeMap<&str, &str> = plan
        .provisioned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (k, v) in &out.provisioned {
        scim_ids.insert(k.as_str(), v.as_str());
    }
    let mut entries = Vec::new();
    let mut kept = Vec::new();
    for g in &gp.groups {
        let started = Started::now();
        let members: std::collections::BTreeSet<String> = g
            .members
            .iter()
            .filter_map(|m| {
                scim_ids
                    .get(m.as_str())
                    .map(std::string::ToString::to_string)
            })
            .collect();
        let r = provision_group(target, &gp.mappings, g, gp.known.get(&g.id), members).await;
        if let Some(fatal) = r.fatal {
            out.fatal = Some(fatal);
            break;
        }
        out.groups_entitled += 1;
        out.groups_considered += 1;
        out.processed += 1;
        out.exported += i64::from(r.exported);
        out.failures += i64::from(r.status == "failure");
        if let Some(k) = &r.keep {
            kept.push((g.id.clone(), k.clone()));
        }
        entries.push(group_log_entry(ctx, g, &r, &started));
    }
    out.log.extend(entries);
    out.groups.extend(kept);
}

async fn provision_group(
    target: &ScimTarget,
    mappings: &[Mapping],
    g: &super::tenant::Group,
    known: Option<&ProvisionedGroup>,
    members: std::collections::BTreeSet<String>,
) -> GroupResult {
    let mut r = GroupResult::new();
    let types = types_of(mappings);
    let lookup = |name: &str| group_lookup(g, name);
    let mut values: Vec<(String, String)> = Vec::new();
    let mut with_members = false;
    let mut matching: Vec<(i64, String, Option<String>)> = Vec::new();
    for m in mappings {
        if m.target.eq_ignore_ascii_case("members") {
            with_members = true;
            continue;
        }
        let value = match &m.source {
            Ok(e) => e.eval(&lookup).map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        let value = match value {
            Ok(v) => v.filter(|v| !v.is_empty()).or_else(|| m.default.clone()),
            Err(e) => {
                r.status = "failure";
                r.code = Some(code::MAPPING_FAILED);
                r.reason = format!("mapping to {}: {e}", m.target);
                return r;
            }
        };
        if m.priority > 0 {
            matching.push((m.priority, m.target.clone(), value.clone()));
        }
        if let Some(v) = value {
            values.push((m.target.clone(), v));
        }
    }
    matching.sort_by_key(|(p, _, _)| *p);
    let Some((_, attr, Some(value))) = matching.first().cloned() else {
        r.code = Some(code::EMPTY_MATCHING_VALUE);
        r.reason = "matching attribute empty".into();
        return r;
    };
    r.matching = Some(value.clone());
    // A group the job created before is read by its id ("Get Group").
    let cached = match known {
        Some(k) => match target.get_group(&k.id).await {
            Ok(resource) => resource,
            Err(e) => return r.failed("Skip", e, "reading the known group: "),
        },
        None => None,
    };
    let found = match cached {
        Some(resource) => Some(resource),
        None => match target.find_groups(&attr, &value).await {
            Ok(list) => list.into_iter().next(),
            Err(e) => return r.failed("Skip", e, &format!("looking up {attr}: ")),
        },
    };
    r.stage = Stage::Export;
    let (id, action, mut exported, sent_before) = match found {
        None => match target
            .create_group(&payload::create_group_body(&values))
            .await
        {
            Ok(created) => (
                created["id"].as_str().unwrap_or_default().to_string(),
                "Create",
                true,
                Default::default(),
            ),
            Err(e) => return r.failed("Create", e, ""),
        },
        Some(resource) => {
            let id = resource["id"].as_str().unwrap_or_default().to_string();
            let changes = changed_values(mappings, &types, &resource, &values);
            if !changes.is_empty() {
                let body = payload::patch_body(&changes, target.compliant, &types);
                if let Err(e) = target.patch_group(&id, &body).await {
                    return r.failed("Update", e, "");
                }
            }
            // A group matched for the first time gets every member added.
            let before = known
                .filter(|k| k.id == id)
                .map(|k| k.members.clone())
                .unwrap_or_default();
            (id, "Update", !changes.is_empty(), before)
        }
    };
    r.target_id = Some(id.clone());
    let members = if with_members {
        members
    } else {
        sent_before.clone()
    };
    let add: Vec<String> = members.difference(&sent_before).cloned().collect();
    let remove: Vec<String> = sent_before.difference(&members).cloned().collect();
    if !add.is_empty() || !remove.is_empty() {
        let body = payload::members_patch_body(&add, &remove, target.compliant);
        if let Err(e) = target.patch_group(&id, &body).await {
            // Created but without its members: the next cycle adds them.
            r.keep = Some(ProvisionedGroup {
                id,
                members: sent_before,
            });
            r.exported = exported;
            return r.failed(action, e, "updating members: ");
        }
        exported = true;
    }
    r.keep = Some(ProvisionedGroup { id, members });
    r.exported = exported;
    r.action = if action == "Update" && !exported {
        "Skip"
    } else {
        action
    };
    r.status = if r.action == "Skip" {
        "skipped"
    } else {
        "success"
    };
    if r.action == "Skip" {
        r.code = Some(code::REDUNDANT_EXPORT);
        r.reason = "already up to date".into();
    } else {
        r.reason = format!(
            "{} (members: {} added, {} removed)",
            if action == "Create" {
                "created"
            } else {
                "updated"
            },
            add.len(),
            remove.len()
        );
    }
    r
}

fn group_log_entry(
    ctx: &LogContext<'_>,
    g: &super::tenant::Group,
    r: &GroupResult,
    started: &Started,
) -> LogEntry {
    let app = ctx.app;
    let name = &g.display_name;
    let status = match r.status {
        "success" => "Success",
        "skipped" => "Skipped",
        _ => "Failure",
    };
    let mut steps = vec![
        step(
            "EntryImport",
            "Import",
            "Success",
            format!("Retrieved Group '{name}' from Azure Active Directory"),
            details([
                ("objectId", Some(g.id.as_str())),
                ("displayName", Some(name.as_str())),
            ]),
        ),
        step(
            "EntrySynchronizationScoping",
            "Scoping",
            "Success",
            format!("Group '{name}' is in scope for '{app}'"),
            details([("Assigned", Some("True"))]),
        ),
    ];
    let value = r.matching.as_deref().unwrap_or_default();
    if r.stage == Stage::Matching {
        steps.push(step(
            "EntryImport",
            "Matching",
            status,
            format!("Failed to look up Group '{name}' in {app}: {}", r.reason),
            details([("ReportableIdentifier", Some(value)), ("ErrorCode", r.code)]),
        ));
    } else {
        steps.push(step(
            "EntryImport",
            "Matching",
            "Success",
            if r.action == "Create" {
                format!("No matching Group found in {app}; it will be created")
            } else {
                format!("Retrieved '{value}' from {app}")
            },
            details([("ReportableIdentifier", Some(value))]),
        ));
        let (step_name, description) = match (r.action, r.status) {
            ("Create", "failure") => (
                "EntryExportAdd",
                format!("Failed to create Group '{name}' in {app}: {}", r.reason),
            ),
            (_, "failure") => (
                "EntryExportUpdate",
                format!("Failed to update Group '{name}' in {app}: {}", r.reason),
            ),
            ("Create", _) => (
                "EntryExportAdd",
                format!("Group '{name}' was created in {app}"),
            ),
            ("Update", _) => (
                "EntryExportUpdate",
                format!("Group '{name}' was updated in {app}"),
            ),
            _ => (
                "EntrySynchronizationSkip",
                format!(
                    "The state of the group in both the source and target systems already match. No change to the Group '{name}' currently needs to be made."
                ),
            ),
        };
        steps.push(step(
            step_name,
            "Export",
            status,
            description,
            details([
                ("ReportableIdentifier", Some(name.as_str())),
                ("ErrorCode", r.code),
            ]),
        ));
    }
    LogEntry {
        id: uuid::Uuid::new_v4().to_string(),
        job_id: ctx.job_id.into(),
        cycle_id: ctx.cycle_id.into(),
        service_principal_id: ctx.sp_id.into(),
        user_id: g.id.clone(),
        user_display_name: g.display_name.clone(),
        action: r.action.into(),
        status: r.status.into(),
        reason: r.reason.clone(),
        target_id: r.target_id.clone(),
        activity_date_time: started.at.clone(),
        change_id: uuid::Uuid::new_v4().to_string(),
        duration_ms: i64::try_from(started.instant.elapsed().as_millis()).unwrap_or(i64::MAX),
        error_code: r.code.map(str::to_string),
        on_demand: false,
        initiated_by: None,
        target_display_name: r.matching.clone(),
        modified_properties: Vec::new(),
        steps,
        identity_type: Some("Group".into()),
    }
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
    fn deletes_follow_the_target_object_actions() {
        assert!(allows_delete(
            &serde_json::json!({"flowTypes": "Add, Update, Delete"})
        ));
        assert!(allows_delete(
            &serde_json::json!({"flowTypes": "Add,Update,delete"})
        ));
        assert!(allows_delete(&serde_json::json!({})));
        assert!(!allows_delete(
            &serde_json::json!({"flowTypes": "Add, Update"})
        ));
    }

    #[test]
    fn the_fixture_user_mapping_is_found_by_object_names() {
        let schema = super::super::sync::template_schema();
        let m = user_mapping(schema).unwrap();
        assert_eq!(m["name"], "Provision Microsoft Entra ID Users");
        assert_eq!(
            m["targetObjectName"],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        );
        for target in SCIM_USER_OBJECTS {
            let mut s = schema.clone();
            s["synchronizationRules"][0]["objectMappings"][1]["targetObjectName"] =
                serde_json::json!(target);
            assert!(user_mapping(&s).is_some(), "{target}");
        }
        let mut s = schema.clone();
        s["synchronizationRules"][0]["objectMappings"][1]["targetObjectName"] =
            serde_json::json!("Contact");
        assert!(user_mapping(&s).is_none());
    }
}
