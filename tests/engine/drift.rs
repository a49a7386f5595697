//! The drift check against the sandbox over HTTP: what another admin
//! changes in Entra after a run is named with the step that fixes it.

use crate::common;

use common::graph_api::Api;
use common::*;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::AlwaysYes;
use orchidea_wizard::engine::drift::{DriftReport, Finding};
use orchidea_wizard::sandbox::{Fault, SandboxOptions};
use reqwest::Method;
use serde_json::{Value, json};

/// A finished run: the sandbox, the engine, and the app and job ids.
async fn finished() -> (Started, String, String) {
    let started = Scenario::new().through(StepId::StartProvisioning).await;
    let facts = started.engine.facts().await;
    let app = facts.app.as_ref().unwrap().id.clone();
    let job = facts.job.as_ref().unwrap().id.clone();
    let report = started.engine.check_drift().await.unwrap();
    assert!(report.ok, "{report:?}");
    (started, app, job)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_job_is_named_and_fixed_by_step_16() {
    let (s, app, job) = Box::pin(finished()).await;
    let api = Api::new(&s.sandbox);
    let paused = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{app}/synchronization/jobs/{job}/pause"),
            None,
        )
        .await;
    assert_eq!(paused.status.as_u16(), 204);
    let report = s.engine.check_drift().await.unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.fixing_steps(),
        vec![StepId::StartProvisioning],
        "{report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_url_saved_by_someone_else_is_named() {
    let (s, app, _) = Box::pin(finished()).await;
    let api = Api::new(&s.sandbox);
    let saved = api
        .call(
            Method::PUT,
            &format!("/servicePrincipals/{app}/synchronization/secrets"),
            Some(json!({ "value": [
                { "key": "BaseAddress", "value": "https://elsewhere.example/scim/v2" },
                { "key": "SecretToken", "value": "not-orchidea's" },
                { "key": "SyncAll", "value": "false" }
            ]})),
        )
        .await;
    assert_eq!(saved.status.as_u16(), 204);
    let report = s.engine.check_drift().await.unwrap();
    assert!(!report.ok);
    let sentences: Vec<String> = report
        .findings()
        .map(orchidea_wizard::engine::drift::Finding::sentence)
        .collect();
    assert!(
        sentences.iter().any(|t| t.contains("elsewhere.example")),
        "{sentences:?}"
    );
}

/// The job's schema as Graph has it now, edited by `edit` and saved back:
/// another admin working in the portal.
async fn edit_schema(s: &Started, app: &str, job: &str, edit: impl FnOnce(&mut Vec<Value>)) {
    let api = Api::new(&s.sandbox);
    let path = format!("/servicePrincipals/{app}/synchronization/jobs/{job}/schema");
    let mut schema = api.get(&path).await.body;
    let rule = schema["synchronizationRules"][0].clone();
    let mapping = rule["objectMappings"]
        .as_array()
        .unwrap()
        .iter()
        .position(|m| {
            m["attributeMappings"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["targetAttributeName"] == "userName"))
        })
        .expect("the user mapping");
    let attrs = schema["synchronizationRules"][0]["objectMappings"][mapping]["attributeMappings"]
        .as_array_mut()
        .unwrap();
    edit(attrs);
    let saved = api.call(Method::PUT, &path, Some(schema)).await;
    assert_eq!(saved.status.as_u16(), 204, "{:?}", saved.body);
}

/// What a second `run` does: a new engine re-checks every step.
async fn run_again(s: &Started) {
    Scenario::new()
        .engine(&s.sandbox)
        .run_all(&AlwaysYes)
        .await
        .unwrap();
    s.sandbox.wait_idle().await;
}

fn sentences(report: &DriftReport) -> Vec<String> {
    report.findings().map(Finding::sentence).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_job_is_named_with_step_16_and_a_run_lifts_it() {
    // Orchidea answers the first cycle's first create with 503: Entra
    // stops the cycle and quarantines the job.
    let s = Scenario::new()
        .sandbox(SandboxOptions {
            faults: vec![Fault::parse("scim:POST:/Users:503x1").unwrap()],
            ..SandboxOptions::default()
        })
        .through(StepId::StartProvisioning)
        .await;
    s.sandbox.wait_idle().await;
    let report = s.engine.check_drift().await.unwrap();
    assert!(!report.ok);
    let job = report.checks.iter().find(|c| c.id == "job").unwrap();
    assert_eq!(job.findings.len(), 1, "{report:?}");
    assert_eq!(job.findings[0].what, "job quarantine");
    assert!(
        job.findings[0]
            .found
            .contains("EncounteredQuarantineException"),
        "the reason is named: {:?}",
        job.findings[0]
    );
    assert_eq!(report.fixing_steps(), vec![StepId::StartProvisioning]);

    // Step 16 starts a job that is not active; Graph's start clears a
    // quarantine, and the fault is spent, so the next cycle succeeds.
    run_again(&s).await;
    let report = s.engine.check_drift().await.unwrap();
    assert!(report.ok, "{:?}", sentences(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_mapping_added_behind_the_wizards_back_is_named_and_a_run_strips_it() {
    let (s, app, job) = Box::pin(finished()).await;
    let api = Api::new(&s.sandbox);
    let schema = api
        .get(&format!(
            "/servicePrincipals/{app}/synchronization/jobs/{job}/schema"
        ))
        .await
        .body;
    // An attribute Orchidea's SCIM user has that the five do not map.
    let directory = &schema["directories"].as_array().unwrap();
    let user = directory
        .iter()
        .flat_map(|d| d["objects"].as_array().unwrap())
        .find(|o| {
            o["name"] == "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                || o["name"] == "User"
        })
        .expect("a SCIM User object");
    let extra = ["title", "displayName", "nickName"]
        .into_iter()
        .find(|n| {
            user["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == *n)
        })
        .expect("an attribute to map");
    edit_schema(&s, &app, &job, |attrs| {
        let mut added = attrs
            .iter()
            .find(|a| a["targetAttributeName"] == "name.givenName")
            .unwrap()
            .clone();
        added["targetAttributeName"] = extra.into();
        attrs.push(added);
    })
    .await;

    let report = s.engine.check_drift().await.unwrap();
    assert!(!report.ok);
    let found: Vec<&Finding> = report.findings().collect();
    assert_eq!(found.len(), 1, "{:?}", sentences(&report));
    assert_eq!(found[0].what, format!("extra mapping {extra}"));
    assert_eq!(found[0].fix, StepId::KeepFiveAttributes);

    run_again(&s).await;
    let report = s.engine.check_drift().await.unwrap();
    assert!(report.ok, "{:?}", sentences(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_matching_precedence_on_external_id_is_named_and_a_run_restores_it() {
    let (s, app, job) = Box::pin(finished()).await;
    // "Match objects using this attribute: No" on externalId.
    edit_schema(&s, &app, &job, |attrs| {
        let external = attrs
            .iter_mut()
            .find(|a| a["targetAttributeName"] == "externalId")
            .unwrap();
        external["matchingPriority"] = json!(0);
    })
    .await;

    let report = s.engine.check_drift().await.unwrap();
    assert!(!report.ok);
    let found: Vec<&Finding> = report.findings().collect();
    assert_eq!(found.len(), 1, "{:?}", sentences(&report));
    assert_eq!(found[0].what, "externalId matching precedence");
    assert_eq!(
        (found[0].expected.as_str(), found[0].found.as_str()),
        ("2", "0")
    );
    assert_eq!(found[0].fix, StepId::ExternalIdFromObjectId);

    run_again(&s).await;
    let report = s.engine.check_drift().await.unwrap();
    assert!(report.ok, "{:?}", sentences(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_connection_that_could_not_run_is_an_error_not_a_difference() {
    let (s, _, _) = Box::pin(finished()).await;
    // Graph answers 503 to every Test Connection: nothing is learnt about
    // the credentials, so the check is not done (the CLI exits 2).
    s.sandbox
        .inject_fault(Fault::parse("graph:POST:/validateCredentials:503x*").unwrap())
        .await;
    let e = s.engine.check_drift().await.unwrap_err();
    assert!(
        matches!(e, orchidea_wizard::engine::EngineError::Graph(_)),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_apps_run_state_is_not_this_apps_expectation() {
    let (s, _, _) = Box::pin(finished()).await;
    // The run state (one file for every tenant on a Graph) now speaks of
    // another app, with a Tenant URL this app never had.
    let path = s.sandbox.wizard_dir.join("run-state.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["appId"] = json!("another-tenants-app");
    state["scimUrl"] = json!("https://elsewhere.example/scim/v2");
    std::fs::write(&path, state.to_string()).unwrap();
    let report = Scenario::new()
        .engine(&s.sandbox)
        .check_drift()
        .await
        .unwrap();
    assert!(
        !report
            .findings()
            .any(|f| f.found.contains("elsewhere") || f.expected.contains("elsewhere")),
        "{report:?}"
    );
}
