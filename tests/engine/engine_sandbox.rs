//! The engine end to end against the sandbox, over real HTTP on 127.0.0.1.

use crate::common;

use common::*;
use orchidea_wizard::engine::{AlwaysYes, Engine, EngineError, Scope};
use orchidea_wizard::sandbox::{Sandbox, SandboxOptions};
use orchidea_wizard::services::orchidea::{ManualScim, OrchideaAdmin};
use orchidea_wizard::setup::{self, Choices};
use orchidea_wizard::{Secret, Status, StepId};
use serde_json::Value;

#[tokio::test]
async fn all_steps_configure_the_tenant_for_assigned_users() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    engine.run_all(&AlwaysYes).await.unwrap();

    let checklist = engine.checklist().await;
    for (step, status) in checklist.iter() {
        // The built-in tenant's app already has SAML single sign-on.
        let done = match step {
            StepId::SsoIntegration => matches!(status, Status::AlreadyDone(_)),
            _ => matches!(status, Status::Done(_)),
        };
        assert!(done, "{step}: {status:?}");
    }
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    assert_configured(&dump, "false");
    let expected = expected_users(&dump, Scope::Assigned);
    assert!(
        expected.len() >= 3,
        "the default tenant assigns users with mail"
    );
    assert_eq!(scim_users(&dump), expected);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn scope_all_provisions_everyone_with_mail() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let choices = Choices {
        scope: Scope::All,
        ..Choices::default()
    };
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, choices));
    engine.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    assert_configured(&dump, "true");
    let expected = expected_users(&dump, Scope::All);
    assert!(expected.len() > expected_users(&dump, Scope::Assigned).len());
    assert_eq!(scim_users(&dump), expected);
}

#[tokio::test]
async fn a_second_run_changes_nothing_and_says_so() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let first = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    first.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    let before = sandbox.dump().await;

    let second = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    second.run_all(&AlwaysYes).await.unwrap();
    sandbox.wait_idle().await;
    for (step, status) in second.checklist().await.iter() {
        assert!(
            matches!(status, Status::AlreadyDone(_)),
            "{step}: {status:?}"
        );
    }
    assert!(second.facts().await.changes.is_empty());
    let after = sandbox.dump().await;
    assert_eq!(jobs(&after).len(), 1);
    assert_eq!(jobs(&before)[0]["schema"], jobs(&after)[0]["schema"]);
    assert_eq!(
        orchidea_secrets(&before).len(),
        orchidea_secrets(&after).len(),
        "no second SCIM secret"
    );
    assert_eq!(scim_users(&before), scim_users(&after));
}

#[tokio::test]
async fn steps_refuse_to_run_out_of_order() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    let err = engine.run_step(StepId::TestConnection).await.unwrap_err();
    assert!(matches!(err, EngineError::Prerequisite { .. }), "{err}");
    assert!(
        engine
            .checklist()
            .await
            .status(StepId::TestConnection)
            .is_failed()
    );
    assert!(jobs(&sandbox.dump().await).is_empty());
}

#[tokio::test]
async fn each_step_reports_what_it_did() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    for step in StepId::ALL {
        let status = engine.run_step(step).await.unwrap();
        assert!(status.is_complete(), "{step}: {status:?}");
        let dump = sandbox.dump().await;
        match step {
            StepId::CreateSecret => assert_eq!(orchidea_secrets(&dump).len(), 1),
            StepId::AutomaticMode => assert_eq!(jobs(&dump).len(), 1),
            StepId::SaveCredentials => {
                assert!(secret_value(&dump, "BaseAddress").is_some());
                assert_eq!(secret_value(&dump, "SecretToken").as_deref(), Some("*"));
            }
            StepId::OpenMappings => assert!(!user_targets(&dump).is_empty()),
            StepId::ExternalIdFromObjectId => assert_eq!(user_targets(&dump).len(), 5),
            StepId::SaveSettings => {
                assert_eq!(secret_value(&dump, "SyncAll").as_deref(), Some("false"));
            }
            _ => {}
        }
        let detail = status.detail();
        assert!(!detail.is_empty(), "{step} says what it did");
    }
}

#[tokio::test]
async fn manual_path_with_a_wrong_secret_stops_before_entra_is_touched() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let manual = ManualScim {
        scim_url: sandbox.scim_url.clone(),
        secret: Secret::new("not-the-secret-orchidea-made"),
    };
    let engine = Engine::new(setup::sandbox_config(
        &sandbox,
        Some(manual),
        Choices::default(),
    ));
    let err = engine.run_all(&AlwaysYes).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, EngineError::Probe { .. }), "{message}");
    assert!(
        message.contains("401") || message.to_lowercase().contains("secret"),
        "{message}"
    );
    assert!(
        !message.contains("not-the-secret"),
        "the message never shows the secret"
    );
    assert!(
        engine
            .checklist()
            .await
            .status(StepId::CopyUrlAndSecret)
            .is_failed()
    );
    let dump = sandbox.dump().await;
    assert!(jobs(&dump).is_empty(), "no job was created");
    assert!(secret_value(&dump, "BaseAddress").is_none());
}

#[tokio::test]
async fn test_connection_failure_names_the_cause_and_saves_nothing() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    for step in &StepId::ALL[..StepId::TestConnection.index()] {
        engine.run_step(*step).await.unwrap();
    }
    // The secret is revoked in Orchidea between the desktop probe and Entra's test.
    let admin = admin_client(&sandbox);
    for s in admin.list_scim_secrets().await.unwrap() {
        admin.revoke_scim_secret(&s.id).await.unwrap();
    }
    let err = engine.run_step(StepId::TestConnection).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, EngineError::Graph(_)), "{message}");
    assert!(
        message.contains("401"),
        "names what the SCIM endpoint answered: {message}"
    );
    let failed = engine.checklist().await;
    assert!(failed.status(StepId::TestConnection).is_failed());
    let dump = sandbox.dump().await;
    assert!(
        secret_value(&dump, "BaseAddress").is_none(),
        "nothing saved"
    );
    assert!(
        user_targets(&dump).len() > 5,
        "the mappings were not touched"
    );
}

#[tokio::test]
async fn manual_path_into_another_scim_server_on_loopback() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let token = Secret::generate(32);
    let other = orchidea_wizard::sandbox::scim::serve_standalone(token.clone())
        .await
        .unwrap();
    let manual = ManualScim {
        scim_url: other.url.clone(),
        secret: token,
    };
    let checklist = run_manual(&sandbox, manual).await.checklist().await;
    assert!(matches!(
        checklist.status(StepId::CreateSecret),
        Status::Manual(_)
    ));
    assert!(checklist.all_complete());
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    let expected = expected_users(&dump, Scope::Assigned);
    assert_eq!(standalone_users(&other).await, expected);
    assert!(
        scim_users(&dump).is_empty(),
        "the sandbox's own workspace got nobody"
    );
}

#[tokio::test]
async fn state_file_keeps_the_tenant_between_sandboxes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let opts = || SandboxOptions {
        state_file: Some(state.clone()),
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start(opts()).await.unwrap();
    Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()))
        .run_all(&AlwaysYes)
        .await
        .unwrap();
    sandbox.wait_idle().await;
    sandbox.shutdown().await;

    let sandbox = Sandbox::start(opts()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    engine.run_all(&AlwaysYes).await.unwrap();
    for (step, status) in engine.checklist().await.iter() {
        assert!(
            matches!(status, Status::AlreadyDone(_)),
            "{step}: {status:?}"
        );
    }
    let dump: Value = sandbox.dump().await;
    assert_eq!(jobs(&dump).len(), 1);
}

/// The guided manual path as an admin walks it: create the secret in the
/// (sandbox's stand-in for) Orchidea's web UI, copy URL and secret from the
/// page, paste them into the wizard.
#[tokio::test]
async fn manual_path_with_a_secret_made_in_the_web_ui() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let page = sandbox
        .orchidea_url
        .join(orchidea_wizard::sandbox::webui::PATH)
        .unwrap();
    let http = orchidea_wizard::platform::http::loopback_client();
    let html = http
        .get(page.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Create new SCIM secret"), "{html}");
    let html = http
        .post(page)
        .form(&[("idp", "idp-entra")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = |id: &str| {
        let start = html.find(&format!("<code id=\"{id}\">")).expect(id) + id.len() + 12;
        html[start..][..html[start..].find("</code>").unwrap()].to_string()
    };
    let manual = ManualScim::parse(&code("scim-url"), &code("scim-secret")).unwrap();
    assert_eq!(manual.scim_url, sandbox.scim_url);

    let checklist = run_manual(&sandbox, manual).await.checklist().await;
    assert!(matches!(
        checklist.status(StepId::CreateSecret),
        Status::Manual(_)
    ));
    assert!(matches!(
        checklist.status(StepId::ChooseIdp),
        Status::Manual(_)
    ));
    assert!(checklist.all_complete());
    sandbox.wait_idle().await;
    let dump = sandbox.dump().await;
    assert_eq!(
        orchidea_secrets(&dump).len(),
        1,
        "only the one made in the page"
    );
    assert_eq!(scim_users(&dump), expected_users(&dump, Scope::Assigned));
}

#[tokio::test]
async fn discovery_lists_apps_without_writing_anything() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let engine = Engine::new(setup::sandbox_config(&sandbox, None, Choices::default()));
    let before = sandbox.dump().await;
    engine.discover().await.unwrap();
    let facts = engine.facts().await;
    let names: Vec<&str> = facts
        .candidates
        .iter()
        .map(orchidea_wizard::engine::AppCandidate::name)
        .collect();
    assert!(names.contains(&"Orchidea"), "{names:?}");
    let oidc = facts
        .candidates
        .iter()
        .find(|c| !c.capability.can_provision())
        .expect("the OIDC registration is listed");
    assert!(!oidc.capability.reason().is_empty());
    assert_eq!(
        facts.app.as_ref().and_then(|a| a.display_name.as_deref()),
        Some("Orchidea")
    );
    assert_eq!(sandbox.dump().await, before, "nothing written");
}

#[tokio::test]
async fn step_14_counts_who_the_scope_reaches_and_who_lacks_mail() {
    let sandbox = Sandbox::start(SandboxOptions::default()).await.unwrap();
    let dump = sandbox.dump().await;
    let assigned = assigned_user_ids(&dump);
    let users = dump["entra"]["users"].as_array().unwrap().clone();
    let no_mail = |u: &&Value| u["mail"].as_str().is_none_or(str::is_empty);
    let assigned_without_mail = users
        .iter()
        .filter(|u| assigned.contains(u["id"].as_str().unwrap()))
        .filter(no_mail)
        .count();
    assert!(assigned_without_mail > 0, "the default tenant has some");

    for (scope, in_scope, without) in [
        (Scope::Assigned, assigned.len(), assigned_without_mail),
        (
            Scope::All,
            users.len(),
            users.iter().filter(no_mail).count(),
        ),
    ] {
        let choices = Choices {
            scope,
            ..Choices::default()
        };
        let engine = Engine::new(setup::sandbox_config(&sandbox, None, choices));
        for step in &StepId::ALL[..=StepId::ChooseScope.index()] {
            engine.run_step(*step).await.unwrap();
        }
        let facts = engine.facts().await;
        let audience = facts.audience.clone().expect("counted at step 14");
        assert_eq!(audience.in_scope, in_scope, "{scope:?}");
        assert_eq!(audience.without_mail.len(), without, "{scope:?}");
        assert!(
            facts
                .all_warnings()
                .iter()
                .any(|w| w.contains("no mail") && w.contains("Coalesce")),
            "{:?}",
            facts.all_warnings()
        );
        let detail = facts
            .checklist
            .status(StepId::ChooseScope)
            .detail()
            .to_string();
        assert!(
            detail.contains(&format!("{in_scope} users in scope")),
            "{detail}"
        );
    }
}

/// All steps on the guided manual path with `manual`; they must succeed.
async fn run_manual(sandbox: &Sandbox, manual: ManualScim) -> Engine {
    let engine = Engine::new(setup::sandbox_config(
        sandbox,
        Some(manual),
        Choices::default(),
    ));
    engine.run_all(&AlwaysYes).await.unwrap();
    engine
}
