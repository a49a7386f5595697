//! Creating the app (`--create-app`, the window's "create it") against a
//! sandbox that plays Entra's replication delay: the new app is missing
//! from lists and answers 404 for a while, the run waits for it and ends
//! with every step done, exactly one new app and one job — also when the
//! answer to the create was lost.

use crate::common;

use std::time::Duration;

use common::*;
use orchidea_wizard::engine::resume::{self, CreatedApp, RunState};
use orchidea_wizard::engine::{AlwaysYes, Engine, EngineError, Facts, Scope};
use orchidea_wizard::sandbox::{Fault, Sandbox, SandboxOptions};
use orchidea_wizard::services::graph::RetryPolicy;
use orchidea_wizard::setup::Choices;
use orchidea_wizard::{Status, StepId};

/// The built-in tenant without its Orchidea SCIM app: only the OIDC app
/// registration "Orchidea (OIDC app registration)" matches the name.
fn tenant_without_the_app(dir: &std::path::Path) -> std::path::PathBuf {
    let tenant = common::tenant_without_the_app(None);
    let path = dir.join("tenant.json");
    std::fs::write(&path, tenant.to_string()).unwrap();
    path
}

async fn sandbox(dir: &std::path::Path, delay: Duration, faults: &[&str]) -> Sandbox {
    Sandbox::start(SandboxOptions {
        tenant_file: Some(tenant_without_the_app(dir)),
        replication_delay: Some(delay),
        record_requests: true,
        faults: faults.iter().map(|f| Fault::parse(f).unwrap()).collect(),
        ..SandboxOptions::default()
    })
    .await
    .unwrap()
}

/// Millisecond backoff, and a replication wait far shorter than a real one.
fn engine(sandbox: &Sandbox, settle_within: Duration) -> Engine {
    Scenario::new()
        .choices(Choices {
            create_app: true,
            ..Choices::default()
        })
        .retry(RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            settle_within,
            ..RetryPolicy::default()
        })
        .engine(sandbox)
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
            && step2
                .detail()
                .contains("s for Entra to replicate the new app ("),
        "created, and waited while Entra answered 404: {step2:?}"
    );
    assert!(
        !step2.detail().contains("not visible yet (404)"),
        "the wait is one sentence, not one per retry: {step2:?}"
    );
    assert!(matches!(
        checklist.status(StepId::OpenProvisioning),
        Status::Done(d) if d.contains("\"scim\"")
    ));
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let made = orchidea_apps(&dump);
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
    assert_eq!(orchidea_apps(&dump).len(), 1, "no second app");
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
    assert_eq!(orchidea_apps(&sandbox.dump().await).len(), 1);
}

#[tokio::test]
async fn each_cloud_creates_the_app_from_its_own_non_gallery_template() {
    use orchidea_wizard::platform::cloud::Cloud;
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
        // The tenant file's apps have their application objects too.
        let made = dump["entra"]["applications"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["displayName"] == "Orchidea")
            .unwrap();
        assert_eq!(
            made["applicationTemplateId"],
            cloud.non_gallery_template_id(),
            "{cloud}"
        );
        assert_eq!(made["displayName"], "Orchidea");
    }
}

fn instantiate_calls(sandbox: &Sandbox) -> usize {
    sandbox
        .take_requests()
        .iter()
        .filter(|r| r.method == "POST" && r.target.contains("/instantiate"))
        .count()
}

fn run_state(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox.wizard_dir.join("run-state.json")
}

/// What an earlier run left in the run state: it created `app` and Entra
/// never showed it.
fn plant_created_app(sandbox: &Sandbox, app: CreatedApp) {
    let facts = Facts {
        created_earlier: Some(app),
        ..Facts::default()
    };
    let state = RunState::from_facts(sandbox.graph_url.as_str(), &facts, Scope::Assigned);
    resume::save(&run_state(sandbox), &state).unwrap();
}

fn created_app_at(sp_id: &str, at: std::time::SystemTime) -> CreatedApp {
    CreatedApp {
        service_principal_id: Some(sp_id.into()),
        app_id: None,
        tenant_id: None,
        display_name: "Orchidea".into(),
        at: humantime::format_rfc3339_seconds(at).to_string(),
    }
}

#[tokio::test]
async fn a_run_again_before_entra_shows_the_new_app_waits_for_it_instead_of_creating_another() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(dir.path(), Duration::from_secs(4), &[]).await;
    // First run: gives up long before Entra shows the app.
    let first = engine(&sandbox, Duration::from_millis(300));
    let err = first.run_all(&AlwaysYes).await.unwrap_err();
    let EngineError::NotReplicated { id, .. } = &err else {
        panic!("{err:?}");
    };
    let kept = resume::load(&run_state(&sandbox)).expect("run state");
    let remembered = kept.created_app.expect("the created app is remembered");
    assert_eq!(
        remembered.service_principal_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(remembered.display_name, "Orchidea");
    assert_eq!(instantiate_calls(&sandbox), 1);
    // The admin runs again at once: the app is still unlisted.
    let second = engine(&sandbox, Duration::from_secs(30));
    second.run_all(&AlwaysYes).await.expect("the run completes");
    assert!(second.checklist().await.all_complete());
    assert_eq!(instantiate_calls(&sandbox), 0, "not created again");
    let facts = second.facts().await;
    assert!(
        facts
            .changes
            .iter()
            .any(|c| c.contains(id.as_str()) && c.contains("which an earlier run created")),
        "{:?}",
        facts.changes
    );
    let checklist = second.checklist().await;
    let step2 = checklist.status(StepId::OpenEnterpriseApp);
    assert!(
        step2
            .detail()
            .contains("s for Entra to replicate the new app ("),
        "{step2:?}"
    );
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let made = orchidea_apps(&dump);
    assert_eq!(made.len(), 1, "exactly one app");
    assert_eq!(made[0]["id"], id.as_str());
    assert_configured(&dump, "false");
    // Provisioning runs on it: nothing is remembered any more.
    let kept = resume::load(&run_state(&sandbox)).unwrap();
    assert_eq!(kept.created_app, None);
}

#[tokio::test]
async fn a_lost_answer_then_a_run_again_looks_the_app_up_by_name_not_creating_it_twice() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(
        dir.path(),
        Duration::from_secs(4),
        &["graph:POST:/instantiate:500:after"],
    )
    .await;
    let first = engine(&sandbox, Duration::from_millis(300));
    let err = first.run_all(&AlwaysYes).await.unwrap_err();
    assert!(
        matches!(err, EngineError::CreateUnconfirmed { .. }),
        "{err:?}"
    );
    let remembered = resume::load(&run_state(&sandbox))
        .and_then(|s| s.created_app)
        .expect("the attempt is remembered");
    assert_eq!(remembered.service_principal_id, None);
    assert_eq!(instantiate_calls(&sandbox), 1);
    let second = engine(&sandbox, Duration::from_secs(30));
    second.run_all(&AlwaysYes).await.expect("the run completes");
    assert_eq!(instantiate_calls(&sandbox), 0, "not created again");
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    assert_eq!(orchidea_apps(&dump).len(), 1, "exactly one app");
    assert_configured(&dump, "false");
}

#[tokio::test]
async fn a_remembered_app_not_found_within_a_day_stops_the_create_unless_asked_again() {
    // Asked on the command line (--create-app-again) or in the window.
    for window in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let sandbox = sandbox(dir.path(), Duration::ZERO, &[]).await;
        // Deleted in the admin center an hour after an earlier run created it.
        let gone = "0f5bd7e2-1c54-4c3b-a1f0-3c29b5a0d6e4";
        let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        plant_created_app(&sandbox, created_app_at(gone, an_hour_ago));
        let err = engine(&sandbox, Duration::from_millis(300))
            .run_all(&AlwaysYes)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, EngineError::CreatedAppUnseen { app, .. } if app.contains(gone)),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("create another app anyway"),
            "{err}"
        );
        assert_eq!(instantiate_calls(&sandbox), 0);
        assert!(orchidea_apps(&sandbox.dump().await).is_empty());
        // Asked explicitly: one new app, and the run says why.
        let mut cfg = engine(&sandbox, Duration::from_millis(300))
            .config()
            .clone();
        cfg.create_app_again = !window;
        let again = Engine::new(cfg);
        if window {
            again.request_create_app_again().await;
        }
        again.run_all(&AlwaysYes).await.expect("the run completes");
        assert_eq!(instantiate_calls(&sandbox), 1);
        let warnings = again.facts().await.warnings;
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(gone) && w.contains("a new app was created as asked")),
            "{warnings:?}"
        );
        sandbox.wait_idle().await;
        assert_eq!(orchidea_apps(&sandbox.dump().await).len(), 1);
    }
}

#[tokio::test]
async fn a_remembered_app_still_missing_after_a_day_is_said_deleted_and_created_anew() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(dir.path(), Duration::ZERO, &[]).await;
    let gone = "0f5bd7e2-1c54-4c3b-a1f0-3c29b5a0d6e4";
    let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    plant_created_app(&sandbox, created_app_at(gone, two_days_ago));
    let engine = engine(&sandbox, Duration::from_millis(300));
    engine.run_all(&AlwaysYes).await.expect("the run completes");
    assert_eq!(instantiate_calls(&sandbox), 1);
    let warnings = engine.facts().await.warnings;
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(gone) && w.contains("it was deleted")),
        "{warnings:?}"
    );
    sandbox.wait_idle().await;
    assert_eq!(orchidea_apps(&sandbox.dump().await).len(), 1);
}

#[tokio::test]
async fn an_app_remembered_for_another_tenant_is_neither_waited_for_nor_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(dir.path(), Duration::ZERO, &[]).await;
    let elsewhere = CreatedApp {
        tenant_id: Some("tenant-b".into()),
        ..created_app_at(
            "0f5bd7e2-1c54-4c3b-a1f0-3c29b5a0d6e4",
            std::time::SystemTime::now(),
        )
    };
    plant_created_app(&sandbox, elsewhere.clone());
    // Signed in to tenant A, without --create-app: the run finds only the
    // OIDC registration at once (no wait) and leaves tenant B's memory.
    let mut cfg = engine(&sandbox, Duration::from_millis(300))
        .config()
        .clone();
    cfg.tenant_id = Some("tenant-a".into());
    cfg.create_app = false;
    let err = Engine::new(cfg.clone())
        .run_step(StepId::OpenEnterpriseApp)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::AppCannotProvision { .. }),
        "{err:?}"
    );
    assert_eq!(
        resume::load(&run_state(&sandbox)).and_then(|s| s.created_app),
        Some(elsewhere)
    );
    // Creating in tenant A is not held up by tenant B's app.
    cfg.create_app = true;
    let engine = Engine::new(cfg);
    engine.run_all(&AlwaysYes).await.expect("the run completes");
    assert_eq!(instantiate_calls(&sandbox), 1);
}
