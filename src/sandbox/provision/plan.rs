//! What a cycle works from: the user mapping found in the job's schema, its source expressions, and the users in scope with their values.

use serde_json::Value;

use super::groups::group_plan;
use super::{Candidate, Deleted, Mapping, Plan};
use crate::sandbox::entra::EntraState;
use crate::sandbox::expression::{Expr, bool_text};
use crate::sandbox::payload::{self};

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
pub(super) fn allows_delete(mapping: &Value) -> bool {
    mapping["flowTypes"].as_str().is_none_or(|flows| {
        flows
            .split(',')
            .any(|f| f.trim().eq_ignore_ascii_case("Delete"))
    })
}

/// A mapping source as an expression: its `expression` text when present,
/// else built from `name`, `type` and `parameters`.
pub(super) fn source_expr(source: &Value) -> Result<Expr, String> {
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
pub(super) fn attribute_mappings(schema: &Value, m: &Value) -> Vec<Mapping> {
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

pub(crate) fn plan(entra: &EntraState, sp_id: &str, job_id: &str) -> Option<Plan> {
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
        delete_threshold: crate::sandbox::job::delete_threshold(entra, sp_id, job_id),
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

/// A source attribute as the sync engine reads it for `c`.
pub(super) fn lookup(c: &Candidate, name: &str) -> Option<String> {
    let soft_deleted = is_soft_deleted(c);
    if name.eq_ignore_ascii_case("IsSoftDeleted") {
        Some(bool_text(soft_deleted))
    } else if name.eq_ignore_ascii_case("appRoleAssignments") {
        c.assigned.then(|| "User".to_string())
    } else {
        c.user.attribute(name)
    }
}

pub(super) fn attribute_names(e: &Expr, out: &mut Vec<String>) {
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
pub(crate) fn source_values(mappings: &[Mapping], c: &Candidate) -> Vec<(String, Option<String>)> {
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
pub(super) fn is_soft_deleted(c: &Candidate) -> bool {
    !c.in_scope || !c.user.account_enabled || c.deleted.is_some()
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
        let schema = crate::sandbox::entra::mappings::template_schema();
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
