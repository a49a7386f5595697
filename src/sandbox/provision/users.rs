//! One user exported over SCIM: match, create, update, disable or delete, and what happened at each stage.

use serde_json::Value;

use super::plan::{is_soft_deleted, lookup};
use super::{
    CREDENTIAL_ERROR, Candidate, Deleted, Mapping, STAGED_DELETE, UNAVAILABLE_ERROR,
    changed_values, removes_user, types_of,
};
use crate::sandbox::job::SyncError;
use crate::sandbox::outbound::{ScimFailure, ScimTarget};
use crate::sandbox::payload::{self};

/// Where processing of one user stopped (Import and Scoping come before
/// [`provision_user`] is called).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Matching,
    Export,
}

/// What happened to one user, with what the steps of the log show.
pub(crate) struct UserResult {
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
pub(crate) mod code {
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
    pub(crate) fn blank(stage: Stage) -> Self {
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

    pub(crate) fn end(
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
    pub(crate) fn failed(self, action: &'static str, e: &ScimFailure, what: &str) -> Self {
        let fatal = match e {
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

/// One user of a cycle: a permanently deleted one is deleted in the
/// target, any other is processed through the mappings.
pub(super) async fn handle_user(
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
pub(super) async fn delete_user(target: &ScimTarget, id: &str, hold_deletes: bool) -> UserResult {
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
        Err(e) => r.failed("Delete", &e, ""),
    }
}

/// Processes one user as on demand: nothing is held back.
pub(crate) async fn provision_user(
    target: &ScimTarget,
    mappings: &[Mapping],
    c: &Candidate,
    known_id: Option<&str>,
) -> UserResult {
    process_user(target, mappings, c, known_id, false).await
}

/// Processes one user; with `hold_deletes`, a disable or delete is not
/// sent but returned as [`STAGED_DELETE`], for the cycle to count.
pub(super) async fn process_user(
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
            Err(e) => return r.failed("Skip", &e, "reading the known user: "),
        }
    }
    for (attr, value) in usable.iter().filter(|_| found.is_none()) {
        match target.find_users(attr, value).await {
            Ok(list) if !list.is_empty() => {
                found = list.into_iter().next();
                break;
            }
            Ok(_) => {}
            Err(e) => return r.failed("Skip", &e, &format!("looking up {attr}: ")),
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
            Err(e) => r.failed("Create", &e, ""),
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
        Err(e) => r.failed(action, &e, ""),
    }
}
