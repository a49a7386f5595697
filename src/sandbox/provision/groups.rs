//! Groups in scope, provisioned when the group object mapping is enabled.
//!
//! Entra provisions the groups in scope when the group object mapping is
//! enabled (Entra docs `how-provisioning-works.md`, "Initial cycle": "the
//! provisioning service synchronizes the users and the groups"), with the
//! requests of `use-scim-to-provision-users-and-groups.md`, "Group
//! Operations": find by `displayName` without members, create without
//! members, then PATCH `members`. An endpoint without `/Groups` fails each
//! group on its own; the users are not affected.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::log::{LogContext, Started, details, step};
use super::plan::attribute_mappings;
use super::users::{Stage, UserResult, code};
use super::{Mapping, Outcome, Plan, changed_values, types_of};
use crate::sandbox::entra::{EntraState, LogEntry, ProvisionedGroup};
use crate::sandbox::job::SyncError;
use crate::sandbox::outbound::{ScimFailure, ScimTarget};
use crate::sandbox::payload::{self};

/// The enabled group mapping (source object `Group`) and the groups in scope.
#[derive(Default)]
pub(crate) struct GroupPlan {
    pub(crate) mappings: Vec<Mapping>,
    /// Groups in scope: assigned to the app, or all with `SyncAll`.
    pub(crate) groups: Vec<crate::sandbox::tenant::Group>,
    /// What earlier cycles sent, by Entra group id.
    pub(crate) known: BTreeMap<String, ProvisionedGroup>,
}

/// The target object names a SCIM group mapping may use (the template's
/// `Group`, or the core schema URN in schemas read from live tenants).
pub(super) fn is_group_target(name: &str) -> bool {
    name == "Group" || name == crate::sandbox::scim::GROUP_SCHEMA
}

pub(super) fn group_mapping(schema: &Value) -> Option<&Value> {
    schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| {
            m["sourceObjectName"] == "Group"
                && m["targetObjectName"].as_str().is_some_and(is_group_target)
        })
}

pub(super) fn group_plan(
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
pub(super) fn group_lookup(g: &crate::sandbox::tenant::Group, name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("objectId") || name.eq_ignore_ascii_case("id") {
        Some(g.id.clone())
    } else if name.eq_ignore_ascii_case("displayName") {
        Some(g.display_name.clone())
    } else {
        None
    }
}

/// What happened to one group.
pub(super) struct GroupResult {
    pub(crate) action: &'static str,
    pub(crate) status: &'static str,
    pub(crate) reason: String,
    pub(crate) code: Option<&'static str>,
    pub(crate) target_id: Option<String>,
    pub(crate) exported: bool,
    pub(crate) matching: Option<String>,
    /// Where it stopped: a failed lookup stops at Matching.
    pub(crate) stage: Stage,
    pub(crate) fatal: Option<SyncError>,
    /// What to remember for the next cycle.
    pub(crate) keep: Option<ProvisionedGroup>,
}

impl GroupResult {
    pub(crate) fn new() -> Self {
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
    pub(crate) fn failed(mut self, action: &'static str, e: &ScimFailure, what: &str) -> Self {
        let user = UserResult::blank(Stage::Export).failed(action, e, what);
        self.action = action;
        self.status = "failure";
        self.code = user.code;
        self.reason = user.reason;
        self.fatal = user.fatal;
        self
    }
}

pub(super) async fn export_groups(
    target: &ScimTarget,
    plan: &Plan,
    ctx: &LogContext<'_>,
    out: &mut Outcome,
) {
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

pub(super) async fn provision_group(
    target: &ScimTarget,
    mappings: &[Mapping],
    g: &crate::sandbox::tenant::Group,
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
            Err(e) => return r.failed("Skip", &e, "reading the known group: "),
        },
        None => None,
    };
    let found = match cached {
        Some(resource) => Some(resource),
        None => match target.find_groups(&attr, &value).await {
            Ok(list) => list.into_iter().next(),
            Err(e) => return r.failed("Skip", &e, &format!("looking up {attr}: ")),
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
                BTreeSet::default(),
            ),
            Err(e) => return r.failed("Create", &e, ""),
        },
        Some(resource) => {
            let id = resource["id"].as_str().unwrap_or_default().to_string();
            let changes = changed_values(mappings, &types, &resource, &values);
            if !changes.is_empty() {
                let body = payload::patch_body(&changes, target.compliant, &types);
                if let Err(e) = target.patch_group(&id, &body).await {
                    return r.failed("Update", &e, "");
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
            return r.failed(action, &e, "updating members: ");
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

pub(super) fn group_log_entry(
    ctx: &LogContext<'_>,
    g: &crate::sandbox::tenant::Group,
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
