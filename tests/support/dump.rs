//! Reading the sandbox's own dump, independently of what the engine reports,
//! and the built-in tenant to edit.

use serde_json::Value;

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

/// A saved provisioning secret of the Orchidea app, as the sandbox stores it (`SecretToken` masked).
pub fn secret_value(dump: &Value, key: &str) -> Option<String> {
    let sp = orchidea_sp(dump);
    let id = sp["id"].as_str()?;
    dump["entra"]["secrets"][id]
        .as_array()?
        .iter()
        .find(|e| e["key"] == key)
        .and_then(|e| e["value"].as_str().map(str::to_string))
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

/// The built-in tenant file, to edit.
pub fn default_tenant() -> Value {
    serde_json::from_str(include_str!("../../src/sandbox/default-tenant.json")).unwrap()
}
