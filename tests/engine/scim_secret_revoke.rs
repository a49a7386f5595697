//! SCIM secrets the wizard created and Entra no longer holds are revoked
//! once Entra holds a new one that passed Test Connection; secrets someone
//! else created stay valid. Checked at the sandbox's SCIM endpoint: a
//! revoked secret gets 401 there.

use crate::common;

use common::*;
use orchidea_wizard::StepId;
use orchidea_wizard::engine::{AlwaysYes, Engine, Scope};
use orchidea_wizard::platform::secret::Secret;
use orchidea_wizard::sandbox::faults::Fault;
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::OrchideaAdmin;
use orchidea_wizard::setup::{self, Choices};

fn engine(sandbox: &Sandbox, scope: Scope) -> Engine {
    Scenario::new().scope(scope).engine(sandbox)
}

/// A full run; returns the secret it created (value and id).
async fn full_run(engine: &Engine) -> Option<(Secret, String)> {
    engine.run_all(&AlwaysYes).await.unwrap();
    let facts = engine.facts().await;
    let secret = facts.scim.as_ref().and_then(|s| s.secret.clone())?;
    Some((secret, facts.new_secret.as_ref()?.0.clone()))
}

/// Another admin saves a token Orchidea does not know in Entra, so Entra
/// holds no secret that works.
async fn break_entra_secret(sandbox: &Sandbox, sp: &str) {
    let url = format!(
        "{}/servicePrincipals/{sp}/synchronization/secrets",
        sandbox.graph_url.as_str().trim_end_matches('/')
    );
    let body = serde_json::json!({ "value": [
        { "key": "BaseAddress", "value": sandbox.scim_url.as_str() },
        { "key": "SecretToken", "value": "not-a-secret-orchidea-knows" },
        { "key": "SyncAll", "value": "false" },
    ]});
    let status = orchidea_wizard::platform::http::loopback_client()
        .put(url)
        .bearer_auth(sandbox.graph_token.expose())
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
}

/// A sandbox after one whole run (assigned scope): the engine, and the
/// secret that run created with its id.
async fn first_run() -> (Sandbox, Engine, Secret, String) {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let first = engine(&sandbox, Scope::Assigned);
    let (old, old_id) = full_run(&first).await.expect("run 1 created a secret");
    (sandbox, first, old, old_id)
}

fn run_state(sandbox: &Sandbox) -> String {
    std::fs::read_to_string(sandbox.wizard_dir.join("run-state.json")).unwrap()
}

#[tokio::test]
async fn a_new_secret_revokes_the_wizards_old_one_and_leaves_others_alone() {
    let (sandbox, first, old, old_id) = first_run().await;
    let sp = first.facts().await.app.unwrap().id;
    assert!(run_state(&sandbox).contains(&old_id), "remembered by id");
    // Someone else's secret, created in Orchidea outside the wizard.
    let theirs = admin_client(&sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    break_entra_secret(&sandbox, &sp).await;

    let second = engine(&sandbox, Scope::Assigned);
    let (new, new_id) = full_run(&second).await.expect("run 2 created a secret");
    assert_ne!(new_id, old_id);

    assert_eq!(
        scim_status(&sandbox, &old).await,
        401,
        "the old one is revoked"
    );
    assert_eq!(
        scim_status(&sandbox, &new).await,
        200,
        "Entra's new one works"
    );
    assert_eq!(
        scim_status(&sandbox, &theirs.secret).await,
        200,
        "not ours: kept"
    );

    let facts = second.facts().await;
    let detail = facts
        .checklist
        .status(StepId::SaveCredentials)
        .detail()
        .to_string();
    assert!(
        detail.contains(&format!("Revoked SCIM secret {old_id}")),
        "{detail}"
    );
    assert!(
        detail.contains(&format!(
            "Not revoked (not created by this wizard): SCIM secret {}",
            theirs.id
        )),
        "{detail}"
    );
    let report = orchidea_wizard::engine::report::build(&facts, Scope::Assigned, "run");
    let md = orchidea_wizard::engine::report::to_markdown(&report);
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.contains("revoked SCIM secret") && c.contains(&old_id)),
        "{:?}",
        report.changes
    );
    for value in [&old, &new, &theirs.secret] {
        assert!(
            !md.contains(value.expose()),
            "no secret value in the report"
        );
    }
    let state = run_state(&sandbox);
    assert!(
        !state.contains(&old_id),
        "a revoked secret is forgotten: {state}"
    );
    assert!(state.contains(&new_id), "{state}");
    assert!(!state.contains(new.expose()) && !state.contains(old.expose()));
}

#[tokio::test]
async fn a_scope_change_revokes_the_secret_it_replaced() {
    let (sandbox, _first, old, old_id) = first_run().await;

    // A resumed run changing the scope needs a new secret (Graph never
    // returns the saved one).
    let second = engine(&sandbox, Scope::All);
    let (new, _) = full_run(&second).await.expect("step 15 made a new secret");
    assert_eq!(scim_status(&sandbox, &old).await, 401);
    assert_eq!(scim_status(&sandbox, &new).await, 200);
    let facts = second.facts().await;
    let detail = facts
        .checklist
        .status(StepId::SaveSettings)
        .detail()
        .to_string();
    assert!(
        detail.contains(&format!("Revoked SCIM secret {old_id}")),
        "{detail}"
    );
}

#[tokio::test]
async fn nothing_is_revoked_when_test_connection_fails() {
    let (sandbox, _first, old, old_id) = first_run().await;

    let second = engine(&sandbox, Scope::All);
    for step in StepId::ALL {
        if step == StepId::SaveSettings {
            break;
        }
        second.run_step(step).await.unwrap();
    }
    // Test Connection with the new secret fails at Orchidea's /Users.
    sandbox
        .inject_fault(Fault::parse("scim:/Users:401x1").unwrap())
        .await;
    second
        .run_step(StepId::SaveSettings)
        .await
        .expect_err("Test Connection failed");
    assert_eq!(
        scim_status(&sandbox, &old).await,
        200,
        "the secret Entra holds still works"
    );
    let state = run_state(&sandbox);
    assert!(state.contains(&old_id), "still remembered: {state}");
    let created_then = second.facts().await.new_secret.unwrap().0;

    // The next run revokes both: the old one and the one that never reached Entra.
    let third = engine(&sandbox, Scope::All);
    let (new, _) = full_run(&third).await.expect("a new secret");
    assert_eq!(scim_status(&sandbox, &old).await, 401);
    assert_eq!(scim_status(&sandbox, &new).await, 200);
    let secrets = admin_client(&sandbox).list_scim_secrets().await.unwrap();
    let failed = secrets.iter().find(|s| s.id == created_then).unwrap();
    assert!(failed.revoked, "{secrets:?}");
    assert_eq!(
        secrets.iter().filter(|s| !s.revoked).count(),
        1,
        "{secrets:?}"
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_and_revoked() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    sandbox
        .inject_fault(Fault::parse("admin:POST:/scim/secrets:504x1:after").unwrap())
        .await;
    let engine = engine(&sandbox, Scope::Assigned);
    engine.run_step(StepId::CreateSecret).await.unwrap();
    let secrets = admin_client(&sandbox).list_scim_secrets().await.unwrap();
    assert_eq!(secrets.len(), 2, "the lost one and one more: {secrets:?}");
    assert!(
        secrets[0].revoked,
        "the one whose value never arrived: {secrets:?}"
    );
    assert!(!secrets[1].revoked);
    let facts = engine.facts().await;
    assert_eq!(facts.new_secret.as_ref().unwrap().0, secrets[1].id);
    assert!(
        facts.changes.iter().any(|c| c.contains(&secrets[0].id)),
        "{:?}",
        facts.changes
    );
    let state = run_state(&sandbox);
    assert!(
        !state.contains(&secrets[0].id) && state.contains(&secrets[1].id),
        "{state}"
    );
}

#[tokio::test]
async fn the_manual_path_names_what_to_revoke_and_revokes_nothing() {
    let (sandbox, first, old, old_id) = first_run().await;
    let sp = first.facts().await.app.unwrap().id;
    break_entra_secret(&sandbox, &sp).await;

    // The admin makes a secret in Orchidea's web UI and pastes it.
    let pasted = admin_client(&sandbox)
        .create_scim_secret("idp-entra")
        .await
        .unwrap();
    let manual = orchidea_wizard::services::orchidea::ManualScim {
        scim_url: sandbox.scim_url.clone(),
        secret: pasted.secret.clone(),
    };
    let second = Engine::new(setup::sandbox_config(
        &sandbox,
        Some(manual),
        Choices::default(),
    ));
    second.run_all(&AlwaysYes).await.unwrap();
    let facts = second.facts().await;
    let detail = facts
        .checklist
        .status(StepId::SaveCredentials)
        .detail()
        .to_string();
    assert!(
        detail.contains("revoke it in Orchidea's web UI"),
        "{detail}"
    );
    assert!(
        detail.contains(&old_id),
        "names the wizard's old one: {detail}"
    );
    assert!(!detail.contains("Revoked"), "claims nothing: {detail}");
    assert!(!facts.changes.iter().any(|c| c.contains("revoked")));
    assert_eq!(
        scim_status(&sandbox, &old).await,
        200,
        "only named, not revoked"
    );
}

#[tokio::test]
async fn a_failed_revoke_is_a_warning_and_is_tried_again_next_run() {
    let (sandbox, first, old, old_id) = first_run().await;
    let sp = first.facts().await.app.unwrap().id;
    break_entra_secret(&sandbox, &sp).await;

    sandbox
        .inject_fault(Fault::parse("admin:DELETE:/scim/secrets:503x1").unwrap())
        .await;
    let second = engine(&sandbox, Scope::Assigned);
    full_run(&second).await.expect("the run completes");
    assert_eq!(scim_status(&sandbox, &old).await, 200, "not revoked yet");
    let facts = second.facts().await;
    let warning = facts
        .all_warnings()
        .into_iter()
        .find(|w| w.contains(&old_id))
        .expect("a warning names it");
    assert!(warning.contains("tries again on the next run"), "{warning}");
    assert!(run_state(&sandbox).contains(&old_id), "still remembered");

    // Entra's secret (run 2's) works now, so nothing new is created; the
    // old one is revoked.
    let third = engine(&sandbox, Scope::Assigned);
    assert!(full_run(&third).await.is_none(), "no new secret");
    assert_eq!(scim_status(&sandbox, &old).await, 401);
    let facts = third.facts().await;
    assert!(
        facts.changes.iter().any(|c| c.contains(&old_id)),
        "{:?}",
        facts.changes
    );
    assert!(!run_state(&sandbox).contains(&old_id));
}
