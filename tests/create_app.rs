//! Creating the app (`--create-app`, the window's "create it") against a
//! sandbox that plays Entra's replication delay: the new app is missing
//! from lists and answers 404 for a while, the run waits for it and ends
//! with every step done, exactly one new app and one job — also when the
//! answer to the create was lost.

mod common;

use std::time::Duration;

use common::*;
use orchidea_wizard::engine::{AlwaysYes, Engine, EngineError};
use orchidea_wizard::graph::{GraphClient, RetryPolicy, StaticToken};
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};
use orchidea_wizard::setup::{self, Choices};
use orchidea_wizard::{Status, StepId};
use serde_json::Value;

/// The built-in tenant without its Orchidea SCIM app: only the OIDC app
/// registration "Orchidea (OIDC app registration)" matches the name.
fn tenant_without_the_app(dir: &std::path::Path) -> std::path::PathBuf {
    let mut tenant: Value =
        serde_json::from_str(include_str!("../src/sandbox/default-tenant.json")).unwrap();
    tenant["servicePrincipals"]
        .as_array_mut()
        .unwrap()
        .retain(|sp| sp["displayName"] != "Orchidea");
    let path = dir.join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    path
}

async fn sandbox(dir: &std::path::Path, delay: Duration, faults: &[&str]) -> Sandbox {
    Sandbox::start(SandboxOptions {
        tenant_file: Some(tenant_without_the_app(dir)),
        replication_delay: Some(delay),
        faults: faults.iter().map(|f| Fault::parse(f).unwrap()).collect(),
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

/// Millisecond backoff, and a replication wait far shorter than a real one.
fn engine(sandbox: &Sandbox, settle_within: Duration) -> Engine {
    let choices = Choices {
        create_app: true,
        ..Choices::default()
    };
    let mut cfg = setup::sandbox_config(sandbox, None, choices);
    cfg.graph = GraphClient::with_retry(
        orchidea_wizard::http::loopback_client(),
        sandbox.graph_url.clone(),
        std::sync::Arc::new(StaticToken(sandbox.graph_token.clone())),
        RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            settle_within,
            ..RetryPolicy::default()
        },
    );
    cfg.watch_timeout = Duration::from_secs(5);
    Engine::new(cfg)
}

fn apps_named(dump: &Value, name: &str) -> Vec<Value> {
    dump["entra"]["servicePrincipals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|sp| sp["displayName"] == name)
        .cloned()
        .collect()
}

#[tokio::test]
async fn creating_the_app_waits_for_entra_to_replicate_it_then_runs_every_step() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(dir.path(), Duration::from_secs(2), &[]).await;
    let engine = engine(&sandbox, Duration::from_secs(30));
    engine.run_all(&AlwaysYes).await.expect("the run completes");
    let checklist = engine.checklist().await;
    assert!(checklist.all_complete(), "{checklist:?}");
    let step2 = checklist.status(StepId::OpenEnterpriseApp);
    assert!(
        step2.detail().contains("Created \"Orchidea\"")
            && step2.detail().contains("not visible yet (404)"),
        "created, and waited while Entra answered 404: {step2:?}"
    );
    assert!(matches!(
        checklist.status(StepId::OpenProvisioning),
        Status::Done(d) if d.contains("\"scim\"")
    ));
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let made = apps_named(&dump, "Orchidea");
    assert_eq!(made.len(), 1, "exactly one new app");
    assert_configured(&dump, "false");
    assert_eq!(jobs(&dump)[0]["servicePrincipalId"], made[0]["id"]);
}

#[tokio::test]
async fn a_lost_answer_to_creating_the_app_is_looked_up_by_name_not_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(
        dir.path(),
        Duration::from_secs(1),
        &["graph:POST:/instantiate:500:after"],
    )
    .await;
    let engine = engine(&sandbox, Duration::from_secs(30));
    engine.run_all(&AlwaysYes).await.expect("the run completes");
    assert!(engine.checklist().await.all_complete());
    let facts = engine.facts().await;
    assert!(
        facts
            .changes
            .iter()
            .any(|c| c.contains("the answer was lost; found by name")),
        "{:?}",
        facts.changes
    );
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    assert_eq!(apps_named(&dump, "Orchidea").len(), 1, "no second app");
    assert_configured(&dump, "false");
}

#[tokio::test]
async fn an_app_entra_never_shows_stops_the_step_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(dir.path(), Duration::from_secs(3600), &[]).await;
    let engine = engine(&sandbox, Duration::from_millis(300));
    let err = engine.run_all(&AlwaysYes).await.unwrap_err();
    assert!(
        matches!(&err, EngineError::NotReplicated { name, .. } if name == "Orchidea"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("Run again in a few minutes"),
        "{err}"
    );
    assert!(
        engine
            .checklist()
            .await
            .status(StepId::OpenEnterpriseApp)
            .is_failed()
    );
    assert_eq!(apps_named(&sandbox.dump().await, "Orchidea").len(), 1);
}

#[tokio::test]
async fn each_cloud_creates_the_app_from_its_own_non_gallery_template() {
    use orchidea_wizard::cloud::Cloud;
    for cloud in [Cloud::UsGovDod, Cloud::China] {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = sandbox(dir.path(), Duration::from_millis(300), &[]).await;
        let mut cfg = engine(&sandbox, Duration::from_secs(30)).config().clone();
        cfg.cloud = cloud;
        let engine = Engine::new(cfg);
        engine
            .run_step(StepId::CreateSecret)
            .await
            .expect("step 1a");
        engine
            .run_step(StepId::OpenEnterpriseApp)
            .await
            .expect("step 2 creates the app");
        let dump = sandbox.dump().await;
        let made = &dump["entra"]["applications"][0];
        assert_eq!(
            made["applicationTemplateId"],
            cloud.non_gallery_template_id(),
            "{cloud}"
        );
        assert_eq!(made["displayName"], "Orchidea");
    }
}
