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

mod groups;
mod log;
pub(crate) mod plan;
mod users;

pub(crate) use self::groups::GroupPlan;
use self::groups::export_groups;
pub(crate) use self::log::{LogContext, Started, import_step, log_entry, scoping_step};
pub(crate) use self::plan::{plan, source_values};
use self::users::handle_user;
pub(crate) use self::users::{Stage, UserResult, code, provision_user};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;

use super::Shared;
use super::entra::{EntraState, LogEntry, ProvisionedGroup};
use super::expression::Expr;
use super::job::{CycleReport, SyncError};
use super::outbound::ScimTarget;
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
pub(crate) struct Mapping {
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

pub(crate) struct Candidate {
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
pub(crate) enum Deleted {
    Soft,
    Hard,
}

/// What a cycle needs, copied out of the state so no lock is held over HTTP.
pub(crate) struct Plan {
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
pub(crate) const STAGED_DELETE: &str = "StagedDelete";

/// Whether an action takes a user away in the target: what the
/// accidental-deletions threshold counts ("the same functionality also
/// works for disables", `accidental-deletions.md`).
pub(crate) fn removes_user(action: &str) -> bool {
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
                    let hold_delete = plan.delete_threshold.is_some()
                        && !plan.allowed_deletes.contains(&c.user.id);
                    let mut result = handle_user(&target, mappings, c, known, hold_delete).await;
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
                    if count(held.len()) > threshold {
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

pub(crate) fn credential_error(message: &str) -> SyncError {
    SyncError {
        code: CREDENTIAL_ERROR.into(),
        message: message.into(),
        tenant_actionable: true,
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
            r.reason.clone_from(&reason);
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
        candidates: count(plan.candidates.len()) + outcome.groups_considered,
        processed: outcome.processed,
        exported: outcome.exported,
        failures: outcome.failures,
        provisioned_total: count(r.provisioned.len()),
        fatal: outcome.fatal,
        too_many_deletes: outcome.too_many_deletes,
    });
    if !r.provisioned_groups.is_empty() {
        r.job
            .status
            .synchronized_entry_count_by_type
            .push(super::job::KeyCount {
                key: "Group".into(),
                value: count(r.provisioned_groups.len()),
            });
    }
}

/// A count as Graph's `Int64` fields carry it.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
