//! Steps 7–13: the attribute mappings, read, edited and written once.

use super::saved::take_backup;
use super::{StepResult, graph, job_ids, require};
use crate::engine::error::EngineError;
use crate::engine::facts::Facts;
use crate::engine::handle::Engine;
use crate::procedure::checklist::Status;
use crate::procedure::mapping;
use crate::procedure::step::StepId;

pub(super) async fn open_mappings(engine: &Engine, facts: &mut Facts) -> StepResult {
    require(facts, StepId::OpenMappings, StepId::AutomaticMode)?;
    let (app, job) = job_ids(facts)?;
    let schema = graph(engine, facts).get_schema(&app, &job).await?;
    let plan = mapping::plan(&schema, &facts.mapping_options)?;
    let noop = plan.is_noop();
    let count = plan.changes.len();
    facts.schema_before = Some(schema);
    facts.mapping = Some(plan);
    Ok(if noop {
        Status::AlreadyDone("The mappings already match Orchidea's specification.".into())
    } else {
        Status::Done(format!("Schema read; {count} changes needed."))
    })
}

pub(super) fn open_user_mapping(facts: &mut Facts) -> StepResult {
    require(facts, StepId::OpenUserMapping, StepId::OpenMappings)?;
    let Some(plan) = &facts.mapping else {
        return Err(EngineError::Prerequisite {
            step: "8",
            needs: "7",
        });
    };
    let text = format!("\"{}\" (rule {}).", plan.mapping_name, plan.rule_id);
    Ok(if plan.is_noop() {
        Status::AlreadyDone(text)
    } else {
        Status::Done(text)
    })
}

/// Steps 9–13 stage edits that the portal saves with one "Ok"; the wizard
/// writes the whole schema once and reports each step after it is read back.
pub(super) async fn apply_mapping(engine: &Engine, facts: &mut Facts, step: StepId) -> StepResult {
    require(facts, step, StepId::OpenUserMapping)?;
    let group = [
        StepId::KeepFiveAttributes,
        StepId::EditUserName,
        StepId::UserNameFromMail,
        StepId::EditExternalId,
        StepId::ExternalIdFromObjectId,
    ];
    let mut plan = facts.mapping.clone().ok_or(EngineError::Prerequisite {
        step: step.number(),
        needs: "7",
    })?;
    let mut wrote = !plan.is_noop();
    let mut replaced = None;
    if wrote {
        let (app, job) = job_ids(facts)?;
        // Graph documents no ETag or If-Match on the schema, and the PUT
        // replaces all of it: re-read right before writing, so another
        // admin's change made while the diff was on screen is never lost.
        let raw = graph(engine, facts).get_schema_raw(&app, &job).await?;
        let current: serde_json::Value = serde_json::from_slice(&raw).map_err(|e| {
            crate::services::graph::GraphError::UnexpectedBody {
                what: "the attribute mappings".into(),
                detail: e.to_string(),
            }
        })?;
        if facts.schema_before.as_ref() == Some(&current) {
            replaced = Some(raw);
        } else {
            let fresh = mapping::plan(&current, &facts.mapping_options)?;
            facts.schema_before = Some(current);
            facts.mapping = Some(fresh.clone());
            if !fresh.is_noop() {
                return Err(EngineError::SchemaChanged(fresh.diff_lines()));
            }
            // The other admin made exactly these edits: nothing to write.
            plan = fresh;
            wrote = false;
        }
    }
    if let Some(raw) = replaced {
        let (app, job) = job_ids(facts)?;
        // The copy is of what the PUT replaces, read just now.
        let b = crate::engine::backup::Backup::schema_raw(
            engine.cfg.graph.base().as_str(),
            &app,
            &job,
            &raw,
            "before step 9 (mappings)",
        )
        .map_err(|e| EngineError::Input(e.to_string()))?;
        take_backup(engine, facts, b)?;
        graph(engine, facts)
            .put_schema(&app, &job, &plan.edited)
            .await?;
        let reread = graph(engine, facts).get_schema(&app, &job).await?;
        let check = mapping::plan(&reread, &facts.mapping_options)?;
        if !check.is_noop() {
            return Err(EngineError::NotPersisted(check.diff_lines().join("; ")));
        }
        let summary: Vec<String> = group.iter().flat_map(|s| step_summary(&plan, *s)).collect();
        facts.changes.push(format!(
            "Entra: updated \"{}\": {}.",
            plan.mapping_name,
            summary.join("; ")
        ));
    }
    let mut mine = Status::Pending;
    for s in group {
        let changes = step_summary(&plan, s);
        let mut status = match s {
            _ if changes.is_empty() && !wrote => {
                Status::AlreadyDone("Already as specified.".into())
            }
            StepId::EditUserName => Status::Done("userName mapping located.".into()),
            StepId::EditExternalId => Status::Done("externalId mapping located.".into()),
            _ if changes.is_empty() => Status::AlreadyDone("Already as specified.".into()),
            _ => Status::Done(changes.join("; ")),
        };
        // Step 9 is where the group mapping would have been disabled.
        if s == StepId::KeepFiveAttributes
            && let Some(note) = groups_unchecked(facts)
        {
            if let Status::Done(text) | Status::AlreadyDone(text) = &mut status {
                text.push(' ');
                text.push_str(&note);
            }
            if !facts.warnings.contains(&note) {
                facts.warnings.push(note);
            }
        }
        if s == step {
            mine = status;
        } else {
            engine.report(facts, s, status);
        }
    }
    Ok(mine)
}

/// When nothing told whether Orchidea serves groups (no probe: Entra
/// already held a working secret, or `/ResourceTypes` could not be read)
/// and the schema has an enabled group mapping, which step 9 left alone.
fn groups_unchecked(facts: &Facts) -> Option<String> {
    if facts.mapping_options.scim_groups.is_some() {
        return None;
    }
    let schema = facts.schema_before.as_ref()?;
    let name = schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| mapping::is_group_mapping(m) && m["enabled"] != serde_json::Value::Bool(false))
        .map(|m| {
            m["name"]
                .as_str()
                .unwrap_or("the group mapping")
                .to_string()
        })?;
    let why = match facts.scim.as_ref().map(|t| t.secret.is_some()) {
        Some(false) => {
            "Entra already held a working SCIM secret, so the pre-flight that reads Orchidea's /ResourceTypes did not run"
        }
        _ => "the pre-flight could not read Orchidea's /ResourceTypes",
    };
    Some(format!(
        "Could not check whether Orchidea serves groups ({why}); the group mapping \"{name}\" was left as it is."
    ))
}

/// What one of steps 9–13 changed, short enough for a checklist line:
/// removals are listed by target only (the full diff is in the report).
fn step_summary(plan: &mapping::MappingPlan, step: StepId) -> Vec<String> {
    let (removed, other): (Vec<_>, Vec<_>) = plan
        .changes_for(step)
        .partition(|c| c.kind == mapping::ChangeKind::Remove);
    let mut out: Vec<String> = other.iter().map(ToString::to_string).collect();
    if !removed.is_empty() {
        let names: Vec<&str> = removed.iter().map(|c| c.target.as_str()).collect();
        out.insert(
            0,
            format!("Removed {} mappings: {}", names.len(), names.join(", ")),
        );
    }
    out
}
