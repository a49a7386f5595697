//! The users a run should provision, read from the sandbox's dump and from
//! SCIM stores, independently of what the engine reports.

use std::collections::{BTreeSet, HashSet};

use orchidea_wizard::engine::Scope;
use serde_json::Value;

use crate::common::{Expected, jobs, orchidea_sp, user_mapping};

/// Target attribute names of the user mapping stored on the job.
pub fn user_targets(dump: &Value) -> Vec<String> {
    let Some(job) = jobs(dump).into_iter().next() else {
        return Vec::new();
    };
    user_mapping(&job["schema"])
        .map(|m| {
            m["attributeMappings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a["targetAttributeName"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn orchidea_secrets(dump: &Value) -> Vec<Value> {
    dump["orchidea"]["secrets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The users Entra should provision: in scope, with a mail, enabled or not.
pub fn expected_users(dump: &Value, scope: Scope) -> BTreeSet<Expected> {
    let users = dump["entra"]["users"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let in_scope: HashSet<String> = match scope {
        Scope::All => users
            .iter()
            .filter_map(|u| u["id"].as_str().map(str::to_string))
            .collect(),
        Scope::Assigned => assigned_user_ids(dump),
    };
    users
        .iter()
        .filter(|u| in_scope.contains(u["id"].as_str().unwrap_or_default()))
        .filter(|u| u["mail"].as_str().is_some_and(|m| !m.is_empty()))
        .map(|u| Expected {
            user_name: u["mail"].as_str().unwrap_or_default().to_string(),
            external_id: u["id"].as_str().unwrap_or_default().to_string(),
            given: u["givenName"].as_str().unwrap_or_default().to_string(),
            family: u["surname"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Users assigned to the Orchidea app directly or through an assigned group.
pub fn assigned_user_ids(dump: &Value) -> HashSet<String> {
    let sp = orchidea_sp(dump);
    let assignments = &sp["assignments"];
    let mut ids: HashSet<String> = assignments["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let groups: HashSet<&str> = assignments["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for g in dump["entra"]["groups"].as_array().into_iter().flatten() {
        if groups.contains(g["id"].as_str().unwrap_or_default()) {
            ids.extend(
                g["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string)),
            );
        }
    }
    ids
}

/// How many users in scope have no mail (Entra skips them under userName ← mail).
pub fn users_without_mail(dump: &Value, scope: Scope) -> usize {
    let assigned = assigned_user_ids(dump);
    dump["entra"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| scope == Scope::All || assigned.contains(u["id"].as_str().unwrap_or_default()))
        .filter(|u| u["mail"].as_str().is_none_or(str::is_empty))
        .count()
}
