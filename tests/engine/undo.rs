//! Undo after a sandbox run: no job the wizard created, the original
//! schema, no secret the wizard created that still works; a job that was
//! there before is paused and put back, not deleted; a hand-made secret is
//! kept; a second undo changes nothing, even after the admin pasted their
//! token back; a fault mid-undo stops it with a specific message, resets
//! the checklist, and a re-run finishes; only this workspace's secrets are
//! counted; several apps and none chosen is refused; a job create whose
//! answer never came is named, not deleted. All checked through Graph and
//! Orchidea's SCIM endpoint over HTTP, not through the wizard's own view.

use crate::common;

use common::graph_api::Api;
use common::*;
use orchidea_wizard::engine::undo::UndoAction;
use orchidea_wizard::engine::{AlwaysYes, Engine, EngineError, Scope};
use orchidea_wizard::platform::secret::Secret;
use orchidea_wizard::sandbox::{Fault, Sandbox};
use orchidea_wizard::services::orchidea::{CreatedSecret, OrchideaAdmin};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A fresh engine, as a later `undo` command makes one: it knows only the
/// run state and the backups.
fn later(sandbox: &Sandbox, dir: &std::path::Path) -> Engine {
    Scenario::new()
        .scope(Scope::Assigned)
        .backups_in(dir)
        .engine(sandbox)
}

async fn job_ids(api: &Api, sp: &str) -> Vec<String> {
    let (jobs, _) = api
        .get_all(&format!("/servicePrincipals/{sp}/synchronization/jobs"))
        .await;
    jobs.iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

async fn schema(api: &Api, sp: &str, job: &str) -> Value {
    let a = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}/schema"
        ))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body
}

/// A whole run that creates the job; the secret Entra holds, and every
/// secret id the wizard recorded.
async fn run_creating_the_job() -> (Started, String, Secret, Vec<String>) {
    let started = Scenario::new()
        .scope(Scope::Assigned)
        .backups()
        .start()
        .await;
    started.engine.run_all(&AlwaysYes).await.unwrap();
    let facts = started.engine.facts().await;
    let sp = facts.app.unwrap().id;
    let held = facts.scim.unwrap().secret.unwrap();
    let ids: Vec<String> = facts
        .created_secrets
        .iter()
        .filter_map(|r| r.id.clone())
        .collect();
    assert!(!ids.is_empty(), "the run created a secret");
    (started, sp, held, ids)
}

#[tokio::test]
async fn undo_leaves_no_wizard_job_and_no_wizard_secret_that_works() {
    let (started, sp, held, ids) = Box::pin(run_creating_the_job()).await;
    let Started { sandbox, dir, .. } = &started;
    let api = Api::new(sandbox);
    let theirs = admin_client(sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    let jobs = job_ids(&api, &sp).await;
    assert_eq!(jobs.len(), 1);
    let state = std::fs::read_to_string(sandbox.wizard_dir.join("run-state.json")).unwrap();
    assert!(
        state.contains("createdJobs") && state.contains(&jobs[0]),
        "the job's create is recorded: {state}"
    );
    assert_eq!(scim_status(sandbox, &held).await, 200);

    let engine = later(sandbox, dir.path());
    let plan = engine.undo_plan().await.unwrap();
    assert!(matches!(plan.actions[0], UndoAction::PauseJob { .. }));
    assert!(
        plan.actions.contains(&UndoAction::DeleteJob {
            app: sp.clone(),
            job: jobs[0].clone()
        }),
        "{plan:?}"
    );
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a, UndoAction::RestoreSchema { .. })),
        "a job that is deleted is not restored first"
    );
    let text = plan.text();
    assert!(
        text.contains(theirs.id.as_str()) && text.contains("did not create"),
        "{text}"
    );
    assert!(!text.contains(held.expose()) && !text.contains(theirs.secret.expose()));

    let outcome = engine.undo(&AlwaysYes).await.unwrap();
    assert!(outcome.confirmed);
    assert_eq!(outcome.done.len(), plan.actions.len(), "{:?}", outcome.done);

    assert!(
        job_ids(&api, &sp).await.is_empty(),
        "no job the wizard created"
    );
    assert_eq!(
        scim_status(sandbox, &held).await,
        401,
        "Entra's secret: revoked"
    );
    let listed = admin_client(sandbox).list_scim_secrets().await.unwrap();
    for id in &ids {
        let s = listed.iter().find(|s| &s.id == id);
        assert!(s.is_none_or(|s| s.revoked), "{id} still works");
    }
    assert_eq!(
        scim_status(sandbox, &theirs.secret).await,
        200,
        "not ours: kept"
    );
    let settings = api
        .get(&format!("/servicePrincipals/{sp}/synchronization/secrets"))
        .await;
    assert!(
        !settings.body.to_string().contains("SecretToken"),
        "no token left in Entra: {}",
        settings.body
    );

    // A second undo changes nothing and says so.
    let again = later(sandbox, dir.path()).undo(&AlwaysYes).await.unwrap();
    assert!(again.plan.is_empty(), "{:?}", again.plan);
    assert!(again.done.is_empty());
    assert!(
        again
            .plan
            .text()
            .starts_with("Nothing for the wizard to change")
    );
    let state = std::fs::read_to_string(sandbox.wizard_dir.join("run-state.json")).unwrap();
    assert!(!state.contains(&jobs[0]), "the deleted job is forgotten");
}

/// Another admin set up provisioning before, with a secret made by hand
/// and every user in scope (the wizard narrows it to the assigned ones);
/// then a whole run on that job. The app, the job, that secret and the
/// schema before the run.
async fn run_on_a_job_that_was_there() -> (Started, String, String, CreatedSecret, Value) {
    let started = Scenario::new()
        .scope(Scope::Assigned)
        .backups()
        .start()
        .await;
    let api = Api::new(&started.sandbox);
    let sp = api.sp_id("Orchidea").await;
    let created = api
        .post(
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            json!({ "templateId": "scim" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let job = created.body["id"].as_str().unwrap().to_string();
    let theirs = admin_client(&started.sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    put_settings(&api, &started.sandbox, &sp, &theirs.secret).await;
    let original = schema(&api, &sp, &job).await;
    started.engine.run_all(&AlwaysYes).await.unwrap();
    (started, sp, job, theirs, original)
}

/// The settings the other admin saved: their token, every user in scope.
async fn put_settings(api: &Api, sandbox: &Sandbox, sp: &str, token: &Secret) {
    let put = api
        .call(
            Method::PUT,
            &format!("/servicePrincipals/{sp}/synchronization/secrets"),
            Some(json!({ "value": [
                { "key": "BaseAddress", "value": sandbox.scim_url.as_str() },
                { "key": "SecretToken", "value": token.expose() },
                { "key": "SyncAll", "value": "true" },
            ]})),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
}

/// Entra's saved settings, read through Graph: key → value.
async fn settings(api: &Api, sp: &str) -> std::collections::BTreeMap<String, String> {
    let a = api
        .get(&format!("/servicePrincipals/{sp}/synchronization/secrets"))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_job_that_was_there_is_paused_and_put_back_not_deleted() {
    let (started, sp, job, theirs, original) = Box::pin(run_on_a_job_that_was_there()).await;
    let Started {
        sandbox,
        engine,
        dir,
    } = &started;
    let api = Api::new(sandbox);
    assert_eq!(
        engine.facts().await.job.unwrap().id,
        job,
        "the wizard used it"
    );
    assert_ne!(schema(&api, &sp, &job).await, original, "the run edited it");
    let wizard_ids: Vec<String> = engine
        .facts()
        .await
        .created_secrets
        .iter()
        .filter_map(|r| r.id.clone())
        .collect();

    let undo = later(sandbox, dir.path());
    let plan = undo.undo_plan().await.unwrap();
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a, UndoAction::DeleteJob { .. })),
        "{plan:?}"
    );
    assert!(plan.actions.contains(&UndoAction::PauseJob {
        app: sp.clone(),
        job: job.clone()
    }));
    let text = plan.text();
    assert!(text.contains("never deleted"), "{text}");
    assert!(
        plan.actions.iter().any(|a| matches!(
            a,
            UndoAction::RestoreSettings {
                had_credentials: true,
                ..
            }
        )),
        "{plan:?}"
    );
    assert!(text.contains("cannot be put back"), "{text}");
    undo.undo(&AlwaysYes).await.unwrap();
    let restored = settings(&api, &sp).await;
    assert_eq!(
        restored.get("BaseAddress").map(String::as_str),
        Some(sandbox.scim_url.as_str()),
        "{restored:?}"
    );
    assert_eq!(
        restored.get("SyncAll").map(String::as_str),
        Some("true"),
        "every user in scope again: {restored:?}"
    );
    assert!(!restored.contains_key("SecretToken"), "{restored:?}");

    assert_eq!(job_ids(&api, &sp).await, vec![job.clone()], "kept");
    let now = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}"
        ))
        .await;
    assert_eq!(now.body["status"]["code"], "Paused", "{}", now.body);
    let first = undo
        .backups()
        .await
        .into_iter()
        .filter(|b| b.kind == orchidea_wizard::engine::backup::Kind::Schema)
        .min_by(|a, b| a.id.cmp(&b.id))
        .unwrap();
    let restored = schema(&api, &sp, &job).await;
    assert_eq!(
        restored, original,
        "the original schema, read through Graph"
    );
    assert_eq!(
        Some(&restored),
        first.schema.as_ref(),
        "what the first backup held"
    );
    assert_eq!(
        scim_status(sandbox, &theirs.secret).await,
        200,
        "the hand-made secret is not revoked"
    );
    let listed = admin_client(sandbox).list_scim_secrets().await.unwrap();
    for id in &wizard_ids {
        assert!(
            listed
                .iter()
                .find(|s| &s.id == id)
                .is_none_or(|s| s.revoked),
            "{id} still works"
        );
    }
    let again = later(sandbox, dir.path()).undo_plan().await.unwrap();
    assert!(again.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_fault_mid_undo_names_the_action_and_a_rerun_finishes() {
    let (started, sp, held, _) = Box::pin(run_creating_the_job()).await;
    let Started { sandbox, dir, .. } = &started;
    let api = Api::new(sandbox);
    sandbox
        .inject_fault(Fault::parse("graph:DELETE:/jobs/:403x1").unwrap())
        .await;
    let err = later(sandbox, dir.path())
        .undo(&AlwaysYes)
        .await
        .unwrap_err();
    let EngineError::UndoStopped {
        number,
        action,
        done,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert!(action.starts_with("Delete provisioning job"), "{err}");
    assert_eq!(*done, number - 1);
    let message = err.to_string();
    assert!(message.contains("Undo stopped at action"), "{message}");
    assert!(message.contains("skips what is already done"), "{message}");
    assert_eq!(job_ids(&api, &sp).await.len(), 1, "the delete failed");
    assert_eq!(scim_status(sandbox, &held).await, 200, "not reached yet");
    // The job was paused: no step counts as done any more, so a run
    // checks them all again (the run state says so for the next one).
    let state = run_state(sandbox);
    let steps = state["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .all(|s| s[1] != "done" && s[1] != "already done"),
        "{steps:?}"
    );

    let rerun = later(sandbox, dir.path()).undo(&AlwaysYes).await.unwrap();
    assert!(
        !rerun
            .plan
            .actions
            .iter()
            .any(|a| matches!(a, UndoAction::PauseJob { .. })),
        "already paused: {:?}",
        rerun.plan
    );
    assert!(job_ids(&api, &sp).await.is_empty());
    assert_eq!(scim_status(sandbox, &held).await, 401);
}

#[tokio::test]
async fn not_confirmed_changes_nothing() {
    let (started, sp, held, _) = Box::pin(run_creating_the_job()).await;
    let Started { sandbox, dir, .. } = &started;
    struct No;
    impl orchidea_wizard::engine::Confirm for No {
        fn confirm(
            &self,
            _: orchidea_wizard::StepId,
            _: String,
        ) -> futures::future::BoxFuture<'_, bool> {
            Box::pin(async { false })
        }
    }
    let outcome = later(sandbox, dir.path()).undo(&No).await.unwrap();
    assert!(!outcome.confirmed && outcome.done.is_empty());
    assert_eq!(job_ids(&Api::new(sandbox), &sp).await.len(), 1);
    assert_eq!(scim_status(sandbox, &held).await, 200);
}

#[tokio::test]
async fn without_the_admin_api_undo_names_the_secret_to_revoke_by_id_and_last_four() {
    let (started, sp, held, ids) = Box::pin(run_creating_the_job()).await;
    let Started { sandbox, dir, .. } = &started;
    let mut cfg = orchidea_wizard::setup::sandbox_config(
        sandbox,
        None,
        orchidea_wizard::setup::Choices::default(),
    );
    cfg.backup_dir = Some(dir.path().to_path_buf());
    cfg.secret_source = orchidea_wizard::engine::SecretSource::NotNeeded;
    let engine = Engine::new(cfg);
    let outcome = engine.undo(&AlwaysYes).await.unwrap();
    assert!(
        !outcome
            .plan
            .actions
            .iter()
            .any(|a| matches!(a, UndoAction::RevokeSecret { .. }))
    );
    let named = outcome
        .plan
        .by_hand
        .iter()
        .find(|l| l.contains(&ids[0]))
        .expect("the wizard's secret is named");
    assert!(named.contains(&format!("…{}", held.last4())), "{named}");
    assert!(!named.contains(held.expose()));
    assert!(
        job_ids(&Api::new(sandbox), &sp).await.is_empty(),
        "the job still goes"
    );
    assert_eq!(
        scim_status(sandbox, &held).await,
        200,
        "revoking is left to the admin"
    );
}

/// The wizard's run state, as the next command reads it.
fn run_state(sandbox: &Sandbox) -> Value {
    let path = sandbox.wizard_dir.join("run-state.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn edit_run_state(sandbox: &Sandbox, edit: impl FnOnce(&mut Value)) {
    let mut state = run_state(sandbox);
    edit(&mut state);
    let path = sandbox.wizard_dir.join("run-state.json");
    std::fs::write(path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
}

/// An engine without the admin API, as `undo` on a real tenant makes one.
fn without_admin_api(sandbox: &Sandbox, dir: &std::path::Path) -> Engine {
    let mut cfg = orchidea_wizard::setup::sandbox_config(
        sandbox,
        None,
        orchidea_wizard::setup::Choices::default(),
    );
    cfg.backup_dir = Some(dir.to_path_buf());
    cfg.secret_source = orchidea_wizard::engine::SecretSource::NotNeeded;
    Engine::new(cfg)
}

#[tokio::test]
async fn a_secret_the_wizard_made_for_another_workspace_is_not_this_setups() {
    let (started, _, held, ids) = Box::pin(run_creating_the_job()).await;
    let Started { sandbox, dir, .. } = &started;
    // The same tenant, an earlier setup of another Orchidea workspace.
    edit_run_state(sandbox, |state| {
        let secrets = state["createdSecrets"].as_array_mut().unwrap();
        let mut other = secrets[0].clone();
        other["id"] = json!("scs_elsewhere");
        other["scimUrl"] = json!("https://elsewhere.example/scim/v2");
        other["description"] = json!("Orchidea SCIM Setup Wizard, elsewhere");
        secrets.push(other);
    });
    let plan = without_admin_api(sandbox, dir.path())
        .undo_plan()
        .await
        .unwrap();
    let text = plan.text();
    assert!(
        plan.by_hand.iter().any(|l| l.contains(&ids[0])),
        "this workspace's secret, found from the Tenant URL Entra holds: {text}"
    );
    assert!(!text.contains("scs_elsewhere"), "{text}");
    // With the admin API, too, only this workspace's secrets are revoked.
    let engine = later(sandbox, dir.path());
    engine.undo(&AlwaysYes).await.unwrap();
    assert_eq!(scim_status(sandbox, &held).await, 401);
    let state = run_state(sandbox);
    assert!(
        state["createdSecrets"]
            .to_string()
            .contains("scs_elsewhere"),
        "the other workspace's record is kept: {state}"
    );
}

#[tokio::test]
async fn a_second_undo_keeps_the_token_the_admin_pasted_back() {
    let (started, sp, job, theirs, _) = Box::pin(run_on_a_job_that_was_there()).await;
    let Started { sandbox, dir, .. } = &started;
    let api = Api::new(sandbox);
    let first = later(sandbox, dir.path()).undo(&AlwaysYes).await.unwrap();
    assert!(
        first
            .plan
            .text()
            .contains("paste the token you used before"),
        "{:?}",
        first.plan
    );
    assert!(!settings(&api, &sp).await.contains_key("SecretToken"));
    // As the plan says: the admin pastes their token back and starts the job.
    put_settings(&api, sandbox, &sp, &theirs.secret).await;
    let start = api
        .call(
            Method::POST,
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
            None,
        )
        .await;
    assert_eq!(start.status, StatusCode::NO_CONTENT, "{}", start.body);

    let again = later(sandbox, dir.path()).undo(&AlwaysYes).await.unwrap();
    assert!(again.plan.is_empty(), "{:?}", again.plan);
    assert!(again.done.is_empty(), "{:?}", again.done);
    let now = settings(&api, &sp).await;
    assert!(
        now.contains_key("SecretToken"),
        "the admin's token stays: {now:?}"
    );
    assert_eq!(now.get("SyncAll").map(String::as_str), Some("true"));
    let status = api
        .get(&format!(
            "/servicePrincipals/{sp}/synchronization/jobs/{job}"
        ))
        .await;
    assert_ne!(status.body["status"]["code"], "Paused", "{}", status.body);
    assert_eq!(scim_status(sandbox, &theirs.secret).await, 200);
}

#[tokio::test]
async fn with_several_apps_and_none_chosen_undo_refuses_and_changes_nothing() {
    let started = Scenario::new()
        .sandbox(orchidea_wizard::sandbox::SandboxOptions {
            replication_delay: Some(std::time::Duration::ZERO),
            ..Default::default()
        })
        .scope(Scope::Assigned)
        .backups()
        .start()
        .await;
    started.engine.run_all(&AlwaysYes).await.unwrap();
    let Started { sandbox, dir, .. } = &started;
    let held = started.engine.facts().await.scim.unwrap().secret.unwrap();
    let api = Api::new(sandbox);
    // Someone adds a second Orchidea app with its own job.
    let made = api
        .post(
            "/applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate",
            json!({ "displayName": "Orchidea Staging" }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let second = made.body["servicePrincipal"]["id"].as_str().unwrap();
    let job = api
        .post(
            &format!("/servicePrincipals/{second}/synchronization/jobs"),
            json!({ "templateId": "scim" }),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{}", job.body);

    let err = later(sandbox, dir.path())
        .undo(&AlwaysYes)
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::AmbiguousApp { .. }), "{err}");
    assert!(err.to_string().contains("Orchidea Staging"), "{err}");
    assert_eq!(
        scim_status(sandbox, &held).await,
        200,
        "the secret the live job uses is not revoked"
    );
}

#[tokio::test]
async fn a_job_create_that_got_no_answer_is_named_not_deleted() {
    let (started, sp, _, _) = Box::pin(run_creating_the_job()).await;
    let Started { sandbox, dir, .. } = &started;
    let api = Api::new(sandbox);
    let jobs = job_ids(&api, &sp).await;
    // The wizard's create was recorded but its answer never came; the job
    // on the app now may be someone else's.
    edit_run_state(sandbox, |state| {
        state["createdJobs"][0]["jobId"] = Value::Null;
    });
    let engine = later(sandbox, dir.path());
    let plan = engine.undo_plan().await.unwrap();
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a, UndoAction::DeleteJob { .. })),
        "{plan:?}"
    );
    let text = plan.text();
    assert!(
        text.contains("For you to check in the Entra admin center:")
            && text.contains(&format!(
                "Provisioning job {}: the wizard sent a job create",
                jobs[0]
            )),
        "{text}"
    );
    engine.undo(&AlwaysYes).await.unwrap();
    assert_eq!(job_ids(&api, &sp).await, jobs, "not deleted");
}
