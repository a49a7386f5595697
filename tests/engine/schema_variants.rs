//! Every shape of job schema Entra is known to return (`tests/fixtures/graph/SOURCES.md`),
//! replayed in the sandbox, ends with Orchidea's five user mappings and nothing else
//! changed: planted in the job before the engine runs, and given to a standalone
//! sandbox as the tenant file's `templateSchema` before the CLI runs.

use crate::common;

use common::graph_api::Api;
use common::standalone::{Standalone, final_states, scim_steps_done, state_of};
use common::*;
use orchidea_wizard::engine::{AlwaysYes, Engine, Scope};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::setup::{self, Choices};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// (what it is, the schema as a GET returns it)
const VARIANTS: [(&str, &str); 5] = [
    (
        "default: enterprise URN user target, core URN group target, group mapping first",
        include_str!("../fixtures/graph/schema-scim-default.json"),
    ),
    (
        "plain object names User and Group",
        include_str!("../fixtures/graph/schema-scim-plain-names.json"),
    ),
    (
        "source directory \"Microsoft Entra ID\"",
        include_str!("../fixtures/graph/schema-scim-entra-id.json"),
    ),
    (
        "core URN user target",
        include_str!("../fixtures/graph/schema-scim-core-urn.json"),
    ),
    (
        "customappsso naming, user mapping first",
        include_str!("../fixtures/graph/schema-customappsso-legacy.json"),
    ),
];

fn load(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// `(rule, object mapping)` of the user mapping, found as [`user_mapping`] finds it.
fn user_mapping_at(schema: &Value) -> (usize, usize) {
    let want = user_mapping(schema).expect("a user mapping");
    for (ri, rule) in schema["synchronizationRules"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (mi, m) in rule["objectMappings"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            if std::ptr::eq(m, want) {
                return (ri, mi);
            }
        }
    }
    unreachable!()
}

/// The whole check of a configured schema against the one replayed: the user
/// mapping's `attributeMappings` are exactly Orchidea's five, and everything
/// else (the group mapping, the rules, the directories, key order included)
/// is byte for byte what the job held before the run.
fn assert_only_the_user_attributes_changed(variant: &str, before: &Value, after: &Value) {
    let (ri, mi) = user_mapping_at(after);
    assert_eq!(
        user_mapping_at(before),
        (ri, mi),
        "{variant}: the user mapping moved"
    );
    let path = |v: &Value| {
        v["synchronizationRules"][ri]["objectMappings"][mi]["attributeMappings"].clone()
    };
    let mut restored = after.clone();
    restored["synchronizationRules"][ri]["objectMappings"][mi]["attributeMappings"] = path(before);
    assert_eq!(
        serde_json::to_string(&restored).unwrap(),
        serde_json::to_string(before).unwrap(),
        "{variant}: only the user mapping's attributeMappings may change"
    );
    let mut five: Vec<(String, String, i64)> = path(after)
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["targetAttributeName"].as_str().unwrap().to_string(),
                a["source"]["expression"].as_str().unwrap().to_string(),
                a["matchingPriority"].as_i64().unwrap(),
            )
        })
        .collect();
    five.sort();
    let switch = "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")";
    assert_eq!(
        five,
        [
            ("active", switch, 0),
            ("externalId", "[objectId]", 2),
            ("name.familyName", "[surname]", 0),
            ("name.givenName", "[givenName]", 0),
            ("userName", "[mail]", 1),
        ]
        .map(|(t, s, p)| (t.to_string(), s.to_string(), p)),
        "{variant}"
    );
}

#[tokio::test]
async fn each_variant_planted_in_the_job_ends_with_orchidea_s_mapping() {
    for (variant, text) in VARIANTS {
        let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
        let api = Api::new(&sandbox);
        let sp = api.sp_id("Orchidea").await;
        let jobs_path = format!("/servicePrincipals/{sp}/synchronization/jobs");
        let created = api.post(&jobs_path, json!({"templateId": "scim"})).await;
        assert_eq!(created.status, StatusCode::CREATED, "{variant}");
        let job = created.body["id"].as_str().unwrap();
        let planted = api
            .call(
                Method::PUT,
                &format!("{jobs_path}/{job}/schema"),
                Some(load(text)),
            )
            .await;
        assert_eq!(
            planted.status,
            StatusCode::NO_CONTENT,
            "{variant}: {:?}",
            planted.body
        );

        let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
        engine
            .run_all(&AlwaysYes)
            .await
            .unwrap_or_else(|e| panic!("{variant}: {e}"));
        let checklist = engine.checklist().await;
        assert_eq!(checklist.iter().count(), 19, "{variant}");
        for (step, status) in checklist.iter() {
            assert!(status.is_complete(), "{variant}: {step}: {status:?}");
        }
        sandbox.wait_idle().await;
        let dump = sandbox.dump().await;
        let jobs = jobs(&dump);
        assert_eq!(jobs.len(), 1, "{variant}: the planted job is used");
        assert_only_the_user_attributes_changed(variant, &load(text), &jobs[0]["schema"]);
        assert_eq!(
            scim_users(&dump),
            expected_users(&dump, Scope::Assigned),
            "{variant}"
        );
        sandbox.shutdown().await;
    }
}

#[test]
fn each_variant_as_template_schema_ends_with_orchidea_s_mapping_through_the_cli() {
    for (variant, text) in VARIANTS {
        let sandbox = Standalone::with_tenant(|tenant, dir| {
            std::fs::write(dir.join("exported-schema.json"), text).unwrap();
            tenant["templateSchema"] = json!("exported-schema.json");
        });
        let orchidea = sandbox.url("orchidea_url").to_string();
        let (ok, stdout, stderr) = sandbox.cli(&["run", "--orchidea-url", &orchidea, "--yes"]);
        assert!(ok, "{variant}: exit 0\n{stdout}\n{stderr}");
        let states = final_states(&stdout);
        assert!(scim_steps_done(&states), "{variant}: {states:?}\n{stdout}");
        assert_eq!(state_of(&states, "0"), "already done", "{variant}");
        let dump = sandbox.dump_after_first_cycle();
        let jobs = jobs(&dump);
        assert_eq!(jobs.len(), 1, "{variant}");
        assert_only_the_user_attributes_changed(variant, &load(text), &jobs[0]["schema"]);
        assert_eq!(
            scim_users(&dump),
            expected_users(&dump, Scope::Assigned),
            "{variant}"
        );
    }
}

#[tokio::test]
async fn a_template_schema_is_what_templates_and_a_new_job_return() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant: Value = crate::common::default_tenant();
    let replayed = load(VARIANTS[2].1);
    // Inline this time (a path is the other form, used above).
    tenant["templateSchema"] = replayed.clone();
    let file = dir.path().join("tenant.json");
    std::fs::write(&file, tenant.to_string()).unwrap();
    let sandbox = Sandbox::start(SandboxOptions {
        tenant_file: Some(file),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let api = Api::new(&sandbox);
    let sp = api.sp_id("Orchidea").await;
    let base = format!("/servicePrincipals/{sp}/synchronization");
    let templates = api.get(&format!("{base}/templates")).await;
    assert_eq!(templates.body["value"][0]["schema"], replayed);
    let created = api
        .post(&format!("{base}/jobs"), json!({"templateId": "scim"}))
        .await;
    let job = created.body["id"].as_str().unwrap();
    let schema = api.get(&format!("{base}/jobs/{job}/schema")).await;
    assert_eq!(
        serde_json::to_string(&schema.body).unwrap(),
        serde_json::to_string(&replayed).unwrap(),
        "the job starts from the replayed schema, key order kept"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_malformed_template_schema_is_refused_at_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.json");
    let cases: [(Value, &str); 3] = [
        (json!("missing.json"), "cannot be read"),
        (
            json!({"synchronizationRules": []}),
            "'directories' is missing",
        ),
        (json!([1, 2]), "must be a synchronizationSchema object"),
    ];
    for (value, want) in cases {
        let mut tenant: Value = crate::common::default_tenant();
        tenant["templateSchema"] = value;
        std::fs::write(&file, tenant.to_string()).unwrap();
        let started = Sandbox::start(SandboxOptions {
            tenant_file: Some(file.clone()),
            ..SandboxOptions::default()
        })
        .await;
        let Err(err) = started else {
            panic!("a tenant file with templateSchema {want:?} must be refused");
        };
        let err = err.to_string();
        assert!(
            err.contains("templateSchema") && err.contains(want) && err.contains("tenant.json"),
            "{err}"
        );
    }
}
