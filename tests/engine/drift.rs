//! The drift check against the sandbox over HTTP: what another admin
//! changes in Entra after a run is named with the step that fixes it.

use crate::common;

use common::graph_api::Api;
use common::*;
use orchidea_wizard::StepId;
use reqwest::Method;
use serde_json::json;

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
