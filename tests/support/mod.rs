//! Reading the sandbox's own dump, independently of what the engine reports.
#![allow(dead_code)]

pub mod graph_api;
pub mod keyring;
pub mod standalone;

use std::collections::{BTreeSet, HashSet};

use orchidea_wizard::engine::Scope;
use orchidea_wizard::sandbox::Sandbox;
use orchidea_wizard::services::orchidea::HttpOrchideaAdmin;
use serde_json::Value;

/// One provisioned user as Orchidea should store it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expected {
    pub user_name: String,
    pub external_id: String,
    pub given: String,
    pub family: String,
}

pub fn admin_client(sandbox: &Sandbox) -> HttpOrchideaAdmin {
    HttpOrchideaAdmin::new(
        orchidea_wizard::platform::http::loopback_client(),
        sandbox.orchidea_url.clone(),
        sandbox.admin_token.clone(),
    )
}

pub fn jobs(dump: &Value) -> Vec<Value> {
    dump["entra"]["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The Orchidea service principal (the one with a job, else the first SCIM-capable one).
pub fn orchidea_sp(dump: &Value) -> Value {
    let sps = dump["entra"]["servicePrincipals"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(job) = jobs(dump).first() {
        let id = job["servicePrincipalId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(sp) = sps.iter().find(|s| s["id"] == id.as_str()) {
            return sp.clone();
        }
    }
    sps.into_iter()
        .find(|s| s["displayName"] == "Orchidea")
        .expect("the default tenant has an Orchidea app")
}

/// A saved provisioning secret of the Orchidea app, as the sandbox stores it (SecretToken masked).
pub fn secret_value(dump: &Value, key: &str) -> Option<String> {
    let sp = orchidea_sp(dump);
    let id = sp["id"].as_str()?;
    dump["entra"]["secrets"][id]
        .as_array()?
        .iter()
        .find(|e| e["key"] == key)
        .and_then(|e| e["value"].as_str().map(str::to_string))
}

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

/// Target object names of a SCIM user mapping in the schemas Entra returns.
pub const SCIM_USER_OBJECTS: [&str; 3] = [
    "User",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];

pub fn user_mapping(schema: &Value) -> Option<&Value> {
    schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| {
            m["sourceObjectName"] == "User"
                && SCIM_USER_OBJECTS
                    .iter()
                    .any(|t| m["targetObjectName"] == *t)
        })
}

pub fn group_mapping(schema: &Value) -> Option<&Value> {
    schema["synchronizationRules"]
        .as_array()?
        .iter()
        .flat_map(|r| r["objectMappings"].as_array().into_iter().flatten())
        .find(|m| m["sourceObjectName"] == "Group")
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

/// SCIM users as a SCIM store holds them.
pub fn expected_from_scim(users: &[Value]) -> BTreeSet<Expected> {
    users
        .iter()
        .map(|u| Expected {
            user_name: u["userName"].as_str().unwrap_or_default().to_string(),
            external_id: u["externalId"].as_str().unwrap_or_default().to_string(),
            given: u["name"]["givenName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            family: u["name"]["familyName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

/// The users in the sandbox's Orchidea SCIM store.
pub fn scim_users(dump: &Value) -> BTreeSet<Expected> {
    expected_from_scim(
        dump["orchidea"]["users"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]),
    )
}

/// The users a standalone SCIM server holds.
pub async fn standalone_users(
    server: &orchidea_wizard::sandbox::scim::StandaloneScim,
) -> BTreeSet<Expected> {
    expected_from_scim(&server.users().await)
}

/// Asserts what every successful run leaves in Entra.
pub fn assert_configured(dump: &Value, sync_all: &str) {
    let jobs = jobs(dump);
    assert_eq!(jobs.len(), 1, "exactly one job");
    assert_eq!(jobs[0]["job"]["templateId"], "scim");
    let schema = &jobs[0]["schema"];
    let mapping = user_mapping(schema).expect("a user mapping");
    let mut targets: Vec<(String, String, i64)> = mapping["attributeMappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let source = a["source"]["expression"]
                .as_str()
                .or(a["source"]["name"].as_str())
                .unwrap_or_default()
                .to_string();
            (
                a["targetAttributeName"].as_str().unwrap().to_string(),
                source,
                a["matchingPriority"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    targets.sort();
    let names: Vec<&str> = targets.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "active",
            "externalId",
            "name.familyName",
            "name.givenName",
            "userName"
        ]
    );
    let get = |n: &str| targets.iter().find(|t| t.0 == n).unwrap().clone();
    assert_eq!(get("userName").2, 1);
    assert!(get("userName").1.contains("mail"), "{:?}", get("userName"));
    assert!(
        get("externalId").1.contains("objectId"),
        "{:?}",
        get("externalId")
    );
    assert_eq!(get("externalId").2, 2);
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/graph/schema-scim-default.json")).unwrap();
    assert_eq!(
        group_mapping(schema),
        group_mapping(&fixture),
        "group mapping unchanged"
    );
    assert_eq!(schema["directories"], fixture["directories"]);
    assert!(secret_value(dump, "BaseAddress").is_some());
    assert_eq!(secret_value(dump, "SyncAll").as_deref(), Some(sync_all));
    assert_eq!(jobs[0]["job"]["status"]["code"], "Active");
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

/// Serves `app` on 127.0.0.1:0 and returns `http://127.0.0.1:<port>`.
pub async fn serve(app: axum::Router) -> url::Url {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://127.0.0.1:{port}").parse().unwrap()
}

/// The built-in tenant without its Orchidea SCIM app (only the OIDC app
/// registration matches the name); a new app stays unseen for `delay_ms`.
pub fn tenant_without_the_app(delay_ms: Option<u64>) -> Value {
    let mut tenant = standalone::default_tenant();
    tenant["servicePrincipals"]
        .as_array_mut()
        .unwrap()
        .retain(|sp| sp["displayName"] != "Orchidea");
    if let Some(ms) = delay_ms {
        tenant["replicationDelayMs"] = Value::from(ms);
    }
    tenant
}

/// The enterprise apps a dump holds under the name "Orchidea".
pub fn orchidea_apps(dump: &Value) -> Vec<&Value> {
    dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sp| sp["displayName"] == "Orchidea")
        .collect()
}
